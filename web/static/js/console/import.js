// /console/markets/{id}/import: a market board's stall list (.xlsx or .csv) into the register.
// Upload, see the dry run (POST /api/markets/{id}/stalls/import?dry_run=true: every row created,
// updated, unchanged or in error with its line, column and reason), then confirm the same file.

import { h, mount, toast } from "../lib/dom.js";
import { t, num } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { consolePage, heading } from "./frame.js";
import { problemText, table } from "./ui.js";

const marketId = Number((window.location.pathname.match(/\/console\/markets\/(\d+)\/import/) || [])[1]);
const OUTCOMES = ["created", "updated", "unchanged", "error"];
const MAX_BYTES = 20 * 1024 * 1024;
const TEMPLATE = "/api/stalls/import-template.xlsx";
// The file's columns, by the field the server names them with (its answers say `full_name`).
const FIELD_KEYS = ["stall_code", "zone", "full_name", "phone", "goods", "bank", "account_number", "account_name"];
const fieldName = (f) => (FIELD_KEYS.includes(f) ? t(`c_field_${f}`) : f);

function outcomeOf(row) {
  return row.status || row.result || "error";
}

function errorsOf(row) {
  if (Array.isArray(row.errors) && row.errors.length) return row.errors;
  if (row.reason) return [{ column: row.column || null, reason: row.reason }];
  return [];
}

async function send(file, dryRun, listDate) {
  const form = new FormData();
  form.append("file", file, file.name);
  if (listDate) form.append("list_date", listDate);
  const res = await api.request(`/api/markets/${marketId}/stalls/import?dry_run=${dryRun ? "true" : "false"}`, { method: "POST", body: form });
  if (!res.ok) throw await api.toError(res);
  return res.json();
}

function counts(result) {
  const c = result.counts || Object.fromEntries(OUTCOMES.map((o) => [o, (result.rows || []).filter((r) => outcomeOf(r) === o).length]));
  return h("ul", { class: "import-counts plain" }, OUTCOMES.map((o) => h("li", { class: `import-count outcome-${o}`, dataset: { outcome: o } },
    h("span", { class: "kpi-value" }, num(c[o] || 0)), h("span", { class: "kpi-label" }, t(`c_outcome_${o}`)))));
}

function rowsTable(result) {
  return h("section", { class: "card", "aria-label": t("c_import_rows") }, rowsTableOnly(result));
}

function rowsTableOnly(result) {
  const rows = result.rows || [];
  const ordered = [...rows].sort((a, b) => (outcomeOf(a) === "error" ? 0 : 1) - (outcomeOf(b) === "error" ? 0 : 1) || a.line - b.line);
  return table({
    caption: t("c_import_rows"),
    className: "import-table",
    columns: [{ label: t("c_col_line"), num: true }, { label: t("c_col_stall") }, { label: t("c_col_outcome") }, { label: t("c_col_details") }],
    rows: ordered.map((r) => {
      const outcome = outcomeOf(r);
      const errs = errorsOf(r);
      return h("tr", { class: `outcome-row outcome-${outcome}`, dataset: { line: r.line, outcome } },
        h("td", { class: "num" }, num(r.line)),
        h("td", {}, r.stall_code || "—"),
        h("td", {}, h("span", { class: `badge outcome-badge outcome-${outcome}` }, outcome === "error" ? "⚠ " : "", t(`c_outcome_${outcome}`))),
        h("td", {},
          errs.length ? h("ul", { class: "plain import-errors" }, errs.map((e) => h("li", {},
            e.column ? h("strong", {}, `${t("c_column")} “${e.column}”: `) : null, e.reason || problemText({ code: e.code })))) : null,
          r.changed && r.changed.length ? h("span", { class: "sub" }, t("c_import_changes", { fields: r.changed.map(fieldName).join(", ") })) : null,
          r.kept && r.kept.length ? h("span", { class: "sub" }, t("c_import_kept", { fields: r.kept.map(fieldName).join(", ") })) : null,
          r.note ? h("span", { class: "sub" }, r.note) : null));
    }),
  });
}

async function render(body) {
  let market;
  try {
    market = await api.getJSON(`/api/markets/${marketId}`);
  } catch (err) {
    mount(body, h("p", { class: "form-error", role: "alert" }, problemText(err)));
    return;
  }
  document.title = `${t("c_import_title", { name: market.name })} — ${t("app_name")}`;
  // The browser's own file button speaks the browser's language: ours is a label styled as a
  // button, with the chosen file's name beside it.
  const fileInput = h("input", { id: "import-file", type: "file", class: "visually-hidden-file", accept: ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "aria-describedby": "import-file-hint import-file-name import-error" });
  const fileName = h("span", { id: "import-file-name", class: "file-name" }, t("c_import_no_file"));
  fileInput.addEventListener("change", () => {
    const file = fileInput.files && fileInput.files[0];
    fileName.textContent = file ? file.name : t("c_import_no_file");
  });
  const check = h("button", { type: "submit", class: "btn btn-primary", id: "import-check" }, t("c_import_check"));
  const listDate = h("input", { id: "import-date", inputmode: "numeric", autocomplete: "off", maxlength: 10, "aria-describedby": "import-date-hint" });
  const error = h("p", { class: "form-error", id: "import-error", role: "alert" });
  const result = h("div", { id: "import-result", "aria-live": "polite" });
  let checkedFile = null;

  const confirmBox = (dry) => {
    const errs = (dry.counts && dry.counts.error) || (dry.rows || []).filter((r) => outcomeOf(r) === "error").length;
    const writes = ((dry.counts && (dry.counts.created + dry.counts.updated)) ?? (dry.rows || []).filter((r) => ["created", "updated"].includes(outcomeOf(r))).length) || 0;
    const confirm = h("button", { type: "button", class: "btn btn-primary", id: "import-confirm", disabled: writes === 0 }, t("c_import_confirm", { n: num(writes) }));
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      error.textContent = "";
      try {
        const done = await send(checkedFile, false, listDate.value.trim());
        checkedFile = null;
        mount(result,
          h("h2", { id: "h-import-done", tabindex: "-1" }, t("c_import_done")),
          counts(done),
          h("p", {}, h("a", { href: `/markets/${marketId}` }, t("c_open_market", { name: market.name })), " · ",
            h("a", { href: "/#/" }, t("c_open_worklist"))),
          rowsTable(done));
        document.getElementById("h-import-done").focus();
        toast(t("c_import_done"), "ok");
      } catch (err) {
        error.textContent = problemText(err);
        confirm.disabled = false;
      }
    });
    return h("div", { class: "card import-confirm" },
      errs ? h("p", { class: "note note-warn" }, t("c_import_has_errors", { n: num(errs) })) : h("p", { class: "note note-ok" }, t("c_import_no_errors")),
      h("p", {}, t("c_import_consent")),
      h("div", { class: "row-actions" }, confirm,
        h("button", { type: "button", class: "btn", onclick: () => { fileInput.value = ""; fileName.textContent = t("c_import_no_file"); checkedFile = null; mount(result); fileInput.focus(); } }, t("c_import_other"))));
  };

  const form = h("form", { class: "card", id: "import-form", novalidate: true },
    h("div", { class: "field" },
      h("p", { class: "label" }, t("c_import_file")),
      h("p", { class: "hint", id: "import-file-hint" }, t("c_import_hint")),
      h("div", { class: "file-pick" }, fileInput,
        h("label", { for: "import-file", class: "btn" }, t("c_import_choose_file")), fileName)),
    h("div", { class: "field" },
      h("label", { for: "import-date" }, t("c_import_date"), " ", h("span", { class: "tag" }, t("optional"))),
      h("p", { class: "hint", id: "import-date-hint" }, t("c_import_date_hint")),
      listDate),
    error,
    h("div", { class: "row-actions" }, check,
      h("a", { class: "btn", href: TEMPLATE, id: "import-template", onclick: async (ev) => {
        ev.preventDefault();
        try { await api.downloadFile(TEMPLATE, "mau-danh-sach-sap.xlsx"); } catch (err) { error.textContent = api.routeMissing(err) ? t("c_import_unavailable") : problemText(err); }
      } }, t("c_import_template"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const file = fileInput.files && fileInput.files[0];
    if (!file) { error.textContent = t("c_import_choose"); fileInput.focus(); return; }
    if (file.size > MAX_BYTES) { error.textContent = t("c_import_too_big"); return; }
    check.disabled = true;
    check.textContent = t("c_import_checking");
    try {
      const dry = await send(file, true, listDate.value.trim());
      checkedFile = file;
      mount(result,
        h("h2", { id: "h-import-dry", tabindex: "-1" }, t("c_import_dry_title", { file: file.name })),
        counts(dry),
        confirmBox(dry),
        rowsTable(dry));
      document.getElementById("h-import-dry").focus();
    } catch (err) {
      error.textContent = api.routeMissing(err) ? t("c_import_unavailable") : problemText(err);
    } finally {
      check.disabled = false;
      check.textContent = t("c_import_check");
    }
  });

  mount(body,
    h("p", {}, h("a", { href: `/console/markets#edit-${marketId}` }, "← ", market.name)),
    heading(t("c_import_title", { name: market.name }), t("c_import_intro")),
    form, result);
}

consolePage("console-import", render);
