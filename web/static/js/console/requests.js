// /console/requests (admins; managers for people in their markets): data-subject requests
// (export, erase, withdrawal) by deadline, overdue ones marked, with the actions: export the
// person's data (a printed page in Vietnamese, or a JSON file) or erase it (the stall and its
// numbers stay).

import { h, mount, toast, saveJson } from "../lib/dom.js";
import { t, num } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { confirmDialog } from "../lib/dialog.js";
import { consolePage, heading } from "./frame.js";
import { problemText, table, when } from "./ui.js";

const DAY = 24 * 3600 * 1000;

function dueBadge(r, now) {
  if (r.completed_at) return h("span", { class: "badge state-sent" }, t("c_done_at", { when: when(r.completed_at) }));
  const left = Math.ceil((new Date(r.due_at).getTime() - now) / DAY);
  if (left < 0) return h("span", { class: "badge badge-revisit", dataset: { due: "overdue" } }, t("c_overdue", { n: num(-left) }));
  return h("span", { class: ["badge", left <= 3 ? "state-queued" : "badge-muted"], dataset: { due: left <= 3 ? "soon" : "later" } }, t("c_days_left", { n: num(left) }));
}

function who(r) {
  if (!r.stalls || !r.stalls.length) return h("span", { class: "muted" }, t("c_person_n", { id: r.stallholder_id }));
  return h("ul", { class: "plain" }, r.stalls.map((s) => h("li", {},
    h("a", { href: `/#/s/${s.id}` }, t("c_stall_in", { code: s.stall_code, market: s.market_name })))));
}

async function render(body, me) {
  let showDone = false;
  const box = h("div", { id: "requests" });
  const draw = async () => {
    const list = await api.getJSON(`/api/data-requests?open=${showDone ? "false" : "true"}`);
    const now = Date.now();
    const open = list.filter((r) => !r.completed_at);
    const overdue = open.filter((r) => new Date(r.due_at).getTime() < now).length;
    const toggle = h("input", { type: "checkbox", id: "show-done", checked: showDone, onchange: () => { showDone = toggle.checked; draw(); } });
    const rows = list.map((r) => h("tr", { dataset: { request: r.id, kind: r.kind }, class: r.completed_at ? "row-archived" : new Date(r.due_at).getTime() < now ? "row-overdue" : "" },
      h("td", {}, t(`c_kind_request_${r.kind}`)),
      h("td", {}, who(r)),
      h("td", {}, when(r.requested_at), h("span", { class: "sub" }, r.requested_by || "—")),
      h("td", {}, when(r.due_at), " ", dueBadge(r, now)),
      h("td", {}, r.completed_at ? "—" : actions(r))));
    mount(box,
      h("div", { class: "kpis" },
        h("div", { class: "kpi" }, h("span", { class: "kpi-value" }, num(open.length)), h("span", { class: "kpi-label" }, t("c_open_requests"))),
        h("div", { class: ["kpi", overdue ? "kpi-alert" : ""] }, h("span", { class: "kpi-value" }, num(overdue)), h("span", { class: "kpi-label" }, t("c_overdue_requests")))),
      h("section", { class: "card", "aria-labelledby": "h-requests" },
        h("h2", { id: "h-requests" }, showDone ? t("c_all_requests") : t("c_open_by_deadline")),
        h("div", { class: "check" }, toggle, h("label", { for: "show-done" }, t("c_show_done"))),
        list.length ? table({
          caption: showDone ? t("c_all_requests") : t("c_open_by_deadline"), className: "requests-table",
          columns: [{ label: t("c_request") }, { label: t("c_about") }, { label: t("c_requested") }, { label: t("c_deadline") }, { label: t("c_col_actions") }],
          rows,
        }) : h("p", { class: "empty", id: "no-requests" }, t("c_no_requests"))));
  };

  function actions(r) {
    const exportBtn = h("button", { type: "button", class: "btn btn-small", dataset: { action: "export" } }, t("c_export"));
    exportBtn.addEventListener("click", async () => {
      exportBtn.disabled = true;
      try {
        const { data } = await api.sendJSON("POST", `/api/stallholders/${r.stallholder_id}/export`, {});
        saveJson(data, `du-lieu-nguoi-${r.stallholder_id}.json`);
        toast(t("c_exported"), "ok");
        await draw();
      } catch (err) { toast(problemText(err), "error"); exportBtn.disabled = false; }
    });
    // The same export as a page in Vietnamese to hand the person (recorded the same way).
    const pdfBtn = h("button", { type: "button", class: "btn btn-small", dataset: { action: "export-pdf" } }, t("c_export_pdf"));
    pdfBtn.addEventListener("click", async () => {
      pdfBtn.disabled = true;
      try {
        await api.downloadFile(`/api/stallholders/${r.stallholder_id}/export?format=pdf`, `du-lieu-ca-nhan-${r.stallholder_id}.pdf`, { method: "POST" });
        toast(t("c_exported_pdf"), "ok");
        await draw();
      } catch (err) { toast(problemText(err), "error"); pdfBtn.disabled = false; }
    });
    const eraseBtn = h("button", { type: "button", class: "btn btn-small btn-danger", dataset: { action: "erase" } }, t("c_erase"));
    eraseBtn.addEventListener("click", async () => {
      const ok = await confirmDialog({
        id: "erase-dialog", title: t("c_erase_title"),
        lines: [t("c_erase_text"), r.kind === "export" ? t("c_erase_not_asked") : null], ok: t("c_erase"), cancel: t("cancel"),
      });
      if (!ok) return;
      try {
        await api.sendJSON("POST", `/api/stallholders/${r.stallholder_id}/erase`, {});
        toast(t("c_erased"), "ok");
        await draw();
      } catch (err) { toast(problemText(err), "error"); }
    });
    return h("div", { class: "row-actions tight" }, r.kind === "export" ? [pdfBtn, exportBtn] : [pdfBtn, exportBtn, eraseBtn]);
  }

  mount(body, heading(t("c_requests_title"), t(me.role === "admin" ? "c_requests_intro" : "c_requests_intro_manager")), box);
  await draw();
}

consolePage("console-requests", render);
