// /partner: a partner's own page (a bank's or wallet's staff, signed in with a partner account):
// its numbers by market (onboarded, by status, receiving payments) with the Excel workbook, the
// accounts it set up or that chose to share with it, and its onboarding report to import (checked
// first, then written). Everything is what the API gives the partner (partners/stats.py): accounts
// within its reach only.

import { h, mount, toast } from "./lib/dom.js";
import { t, num, dateTime, describeError, currentLang } from "./lib/i18n.js";
import "./console/strings.js";  // the page's words (p_*), with the console's
import * as api from "./lib/api.js";
import { widePage } from "./lib/page.js";
import { download, fileName } from "./lib/widgets.js";
import { cardsOnPhone } from "./lib/cards.js";
import { bankShort } from "./lib/bankpicker.js";
import { pointsBox } from "./lib/points.js";

const STATUSES = ["pending", "active", "suspended", "removed"];
const OUTCOMES = ["created", "matched", "unchanged", "error"];
const MAX_BYTES = 20 * 1024 * 1024;  // the server's upload limit (413 above it)
const PAGE = 50;

function statsTable(stats) {
  const cols = ["onboarded", ...STATUSES, "not_in_use", "receiving", "stalls_no_way", "stalls_sound_box"];
  const row = (label, c, attrs = {}) => h("tr", attrs,
    h("th", { scope: "row" }, label),
    cols.map((k) => h("td", { class: "num" }, num(c[k] || 0))));
  return h("div", { class: "table-wrap" }, cardsOnPhone(h("table", { id: "partner-stats" },
    h("caption", { class: "sr-only" }, t("p_stats_title")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("p_col_market")),
      cols.map((k) => h("th", { scope: "col", class: "num" }, k === "receiving" ? t("p_col_receiving", { days: num(stats.window_days) }) : t(`p_col_${k}`))))),
    // In the server's order: the Vietnamese alphabet (market.name_sort, migration 0024).
    h("tbody", {}, stats.markets.map((m) => row(m.market_name, m, { dataset: { market: m.market_id } }))),
    h("tfoot", {}, row(t("p_total"), stats.totals, { class: "total-row" })))));
}

/** The partner's service points (users_want #22), added in the markets its numbers list. */
function pointsSection(code, stats, me) {
  return pointsBox(`/api/service-points?partner=${encodeURIComponent(code)}`, {
    canEdit: ["admin", "partner"].includes(me.role), showMarket: true, showPartner: false,
    intro: t(me.role === "partner" ? "sp_partner_intro" : "sp_partner_intro_admin"), fixed: { partner_code: code },
    markets: stats.markets.map((m) => ({ id: m.market_id, name: m.market_name, lat: m.market_lat, lon: m.market_lon })),
  });
}

function accountRow(a, banks) {
  return h("tr", { dataset: { account: a.payment_account_id } },
    h("td", { class: "nowrap" }, a.stall_code), h("td", {}, a.market_name,
      // Listed, but out of the numbers above (an archived market is out of every count).
      a.market_archived ? h("span", { class: "sub" }, t("p_market_archived")) : null),
    // An erased person's account keeps a marker ("~2ec"), not a number: said as erased.
    h("td", {}, bankShort(banks, a.bin)), h("td", { class: "mono" }, a.account_number.startsWith("~") ? t("history_erased") : a.account_number), h("td", {}, a.account_name || "—"),
    h("td", {}, t(`p_relation_${a.relation}`)),
    h("td", {}, a.onboarding_status ? t(`p_col_${a.onboarding_status}`) : "—",
      a.active ? null : h("span", { class: "sub" }, t("account_inactive"))),
    h("td", {}, a.onboarded_at ? dateTime(a.onboarded_at) : "—"));
}

function accountsCard(code, banks) {
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "btn", id: "accounts-more", hidden: true }, t("p_more"));
  const note = h("p", { class: "muted", id: "accounts-none", hidden: true }, t("p_accounts_none"));
  // A partner with thousands of accounts finds one from its report line: by stall code, market or
  // the whole account number (numbers are stored sealed: matched exactly).
  const search = h("input", { type: "search", id: "accounts-search", autocomplete: "off", maxlength: 100 });
  let cursor = null;
  let asked = 0;  // the latest search: an older answer arriving late is dropped
  async function next(fresh = false) {
    const mine = fresh ? ++asked : asked;
    const q = search.value.trim();
    more.disabled = true;
    try {
      const params = new URLSearchParams({ limit: String(PAGE), ...(cursor && !fresh ? { cursor } : {}), ...(q ? { q } : {}) });
      const page = await api.getJSON(`/api/partners/${encodeURIComponent(code)}/accounts?${params}`);
      if (mine !== asked) return;
      if (fresh) body.replaceChildren();
      body.append(...page.items.map((a) => accountRow(a, banks)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      note.hidden = body.children.length > 0;
      note.textContent = q ? t("p_accounts_no_match", { q }) : t("p_accounts_none");
    } catch (err) {
      toast(describeError(err), "error");
    } finally {
      more.disabled = false;
    }
  }
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => next(true), 300); });
  more.addEventListener("click", () => next());
  next(true);
  const heads = ["p_col_stall", "p_col_market", "p_col_bank", "p_col_number", "p_col_name", "p_col_relation", "p_col_status", "p_col_since"];
  return h("section", { class: "card", "aria-labelledby": "p-accounts-h" },
    h("h2", { id: "p-accounts-h" }, t("p_accounts_title")),
    h("p", { class: "muted small" }, t("p_accounts_intro")),
    h("div", { class: "field" }, h("label", { for: "accounts-search" }, t("p_accounts_search")), search),
    h("div", { class: "table-wrap" }, cardsOnPhone(h("table", { id: "partner-accounts" },
      h("caption", { class: "sr-only" }, t("p_accounts_title")),
      h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
      body))),
    note, h("div", { class: "row-actions" }, more));
}

// In Vietnamese, as a person writes them: the import reads names and statuses with or without
// diacritics ("Mã sạp" is ma_sap, "Đang hoạt động" dang_hoat_dong; partners/report_file.py).
const TEMPLATE_HEADER = "Chợ,Mã sạp,Số điện thoại,Số tài khoản,Mã BIN,Trạng thái,Ngày";
// Why a report file cannot be read, as the server says it in Vietnamese (a missing column, a
// row of the wrong width ...); in English, the line.
function malformedText(err) {
  const p = err.problem || {};
  if (currentLang() === "vi" && typeof p.detail_vi === "string" && p.detail_vi) return p.detail_vi;
  return p.line ? t("p_malformed", { line: num(p.line) }) : describeError(err);
}

// The import's status words, for the statuses the register holds.
const STATUS_WORD = { pending: "Chờ kích hoạt", active: "Đang hoạt động", suspended: "Tạm ngưng", removed: "Đã gỡ" };
const csvCell = (v) => (/[",\r\n]/.test(String(v ?? "")) ? `"${String(v).replace(/"/g, '""')}"` : String(v ?? ""));

/** The file to start from: the partner's accounts in use as the register holds them, one row each,
 * with their status now (an example row of a stall that is not there only came back as an error).
 * An account that opted in without an onboarding is left out (its blank status would read
 * "active"), and so is one no longer in use (the import reads accounts in use only). */
async function templateText(code) {
  const lines = [TEMPLATE_HEADER];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: "500", ...(cursor ? { cursor } : {}) });
    const page = await api.getJSON(`/api/partners/${encodeURIComponent(code)}/accounts?${q}`);
    for (const a of page.items) {
      if (!a.active || !STATUS_WORD[a.onboarding_status]) continue;
      lines.push([a.market_name, a.stall_code, "", a.account_number, a.bin, STATUS_WORD[a.onboarding_status], ""].map(csvCell).join(","));
    }
    cursor = page.next_cursor;
  } while (cursor);
  return `\ufeff${lines.join("\r\n")}\r\n`;
}

/** The result of a report, checked or imported: counts, then the rows in error first. */
function resultView(result) {
  const rows = [...result.rows].sort((a, b) => (a.result === "error" ? 0 : 1) - (b.result === "error" ? 0 : 1) || a.line - b.line);
  return h("div", { id: "import-result" },
    h("p", { class: ["note", result.counts.error ? "note-warn" : "note-ok"], role: "status" },
      t(result.already_imported ? "p_already" : result.dry_run ? "p_checked" : "p_imported"), " ",
      OUTCOMES.map((o) => `${t(`p_outcome_${o}`)}: ${num(result.counts[o] || 0)}`).join(" · ")),
    // A column whose name matches no field is not read: said, or a misspelt "trang thai" reads
    // as a report without statuses.
    result.ignored_columns && result.ignored_columns.length
      ? h("p", { class: "note note-warn", id: "import-ignored" }, t("p_ignored_columns", { names: result.ignored_columns.map((n) => `“${n}”`).join(", ") }))
      : null,
    rows.length ? h("div", { class: "table-wrap" }, h("table", { id: "import-rows" },
      h("caption", { class: "sr-only" }, t("p_import_rows")),
      h("thead", {}, h("tr", {}, ["p_col_line", "p_col_row_stall", "p_col_outcome", "p_col_details"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows.map((r) => h("tr", { class: `outcome-row outcome-${r.result}`, dataset: { line: r.line, outcome: r.result } },
        h("td", { class: "num" }, num(r.line)),
        // The row as the file named it (stall code · market), so it is found without counting.
        h("td", {}, [r.stall_code, r.market].filter(Boolean).join(" · ") || "—"),
        h("td", {}, h("span", { class: `badge outcome-badge outcome-${r.result}` }, r.result === "error" ? "⚠ " : "", t(`p_outcome_${r.result}`))),
        h("td", {}, (currentLang() === "en" ? r.reason : r.reason_vi || r.reason) || (r.status ? t(`p_col_${r.status}`) : "—"))))))) : null);
}

function importCard(code, onImported = () => {}) {
  // The browser's own file button speaks the browser's language ("Choose File"): ours is a label
  // styled as a button, with the chosen file's name beside it (as the stall-list import's).
  const file = h("input", { type: "file", id: "report-file", class: "visually-hidden-file", accept: ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "aria-describedby": "report-file-name" });
  const fileName = h("span", { id: "report-file-name", class: "file-name" }, t("c_import_no_file"));
  const check = h("button", { type: "button", class: "btn", id: "report-check" }, t("p_check"));
  const run = h("button", { type: "button", class: "btn btn-primary", id: "report-import", disabled: true }, t("p_import"));
  const out = h("div", {});
  // What was checked, read once: "Nhập báo cáo" sends exactly these bytes, whatever happens to
  // the file on the device or in the picker afterwards.
  let checked = null;
  file.addEventListener("change", () => {
    checked = null; run.disabled = true; out.replaceChildren();
    fileName.textContent = file.files && file.files[0] ? file.files[0].name : t("c_import_no_file");
  });
  async function send(dryRun) {
    let body = checked;
    if (dryRun) {
      const f = file.files && file.files[0];
      if (!f) { toast(t("p_pick_file"), "warn"); return; }
      if (f.size > MAX_BYTES) { toast(t("p_too_large"), "error"); return; }
      try {
        body = { name: f.name, bytes: new Blob([await f.arrayBuffer()], { type: f.type || "text/csv" }) };
      } catch {
        toast(t("p_pick_file"), "warn");  // the file went away or changed on the device
        return;
      }
    }
    if (!body) return;
    const form = new FormData();
    form.append("file", body.bytes, body.name);
    check.disabled = run.disabled = file.disabled = true;
    checked = null;
    try {
      const res = await api.request(`/api/partners/${encodeURIComponent(code)}/imports?dry_run=${dryRun}`, { method: "POST", body: form });
      if (!res.ok) throw await api.toError(res);
      const result = await res.json();
      out.replaceChildren(resultView(result));
      // A file imported before changes nothing: nothing to import again.
      checked = dryRun && !result.already_imported ? body : null;
      if (!dryRun && !result.already_imported) {
        toast(t("p_imported_toast"), "ok");
        onImported();  // the numbers and accounts above change with it
      }
    } catch (err) {
      out.replaceChildren(h("p", { class: "form-error", role: "alert" },
        err.code === "malformed_csv" ? malformedText(err) : describeError(err)));
    } finally {
      check.disabled = file.disabled = false;
      run.disabled = !checked;
    }
  }
  check.addEventListener("click", () => send(true));
  run.addEventListener("click", () => send(false));
  // A file to start from: the column names the import reads and the partner's accounts now, UTF-8
  // with a BOM so that a spreadsheet opens the Vietnamese letters right.
  const template = h("button", { type: "button", class: "btn", id: "report-template", onclick: async () => {
    let text;
    try {
      text = await templateText(code);
    } catch (err) {
      toast(describeError(err), "error");
      return;
    }
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    const a = h("a", { href: url, download: "mau-bao-cao-doi-tac.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60 * 1000);
  } }, t("p_template"));
  return h("section", { class: "card", "aria-labelledby": "p-import-h" },
    h("h2", { id: "p-import-h" }, t("p_import_title")),
    h("p", { class: "muted small" }, t("p_import_intro")),
    h("p", { class: "muted small" }, t("p_import_columns")),
    h("div", { class: "row-actions" }, template),
    h("p", { class: "label" }, t("p_file")),
    h("div", { class: "file-pick" }, file, h("label", { for: "report-file", class: "btn" }, t("c_import_choose_file")), fileName),
    h("div", { class: "row-actions" }, check, run), out,
    // Sending reports from the partner's own system: the key is made by an administrator.
    h("p", { class: "muted small", id: "p-api-keys" }, t("p_api_keys")));
}

async function render(main, me) {
  // A partner's own page; an administrator opens any partner's (?code=, from the console).
  const code = me.role === "partner" ? me.partner_code : new URLSearchParams(window.location.search).get("code");
  if (!code || !/^[A-Za-z0-9_-]{1,32}$/.test(code)) {
    mount(main, h("p", { class: "card", id: "no-partner" }, t("p_pick_partner")));
    return;
  }
  const [partner, stats, banks] = await Promise.all([
    api.getJSON(`/api/partners/${encodeURIComponent(code)}`),
    api.getJSON(`/api/partners/${encodeURIComponent(code)}/stats`),
    api.getJSON("/api/banks").catch(() => []),
  ]);
  document.title = `${partner.name} — ${t("app_name")}`;
  const statsSection = (data) => h("section", { class: "card", id: "p-stats", "aria-labelledby": "p-stats-h" },
    h("h2", { id: "p-stats-h" }, t("p_stats_title")),
    data.markets.length ? [statsTable(data), h("p", { class: "muted small", id: "p-not-in-use-note" }, t("p_not_in_use_note")), h("p", { class: "muted small" }, t("p_confirm_note"))]
      : h("p", { class: "muted", id: "stats-none" }, t("p_stats_none")),
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "btn", id: "stats-xlsx", onclick: () => download(`/api/partners/${encodeURIComponent(code)}/stats.xlsx`, fileName(["doi tac", code, "thong ke"], "xlsx")) }, t("export_xlsx_stats"))));
  let shownStats = statsSection(stats);
  // A viewer reads numbers, not accounts (the API refuses them the list).
  let shownAccounts = me.role !== "viewer" ? accountsCard(code, banks) : null;
  // After an import the numbers and the accounts' statuses are read again (they showed the old
  // ones until a reload).
  const refresh = async () => {
    try {
      const fresh = await api.getJSON(`/api/partners/${encodeURIComponent(code)}/stats`);
      const next = statsSection(fresh);
      shownStats.replaceWith(next);
      shownStats = next;
      if (shownAccounts) {
        const again = accountsCard(code, banks);
        shownAccounts.replaceWith(again);
        shownAccounts = again;
      }
    } catch (err) {
      toast(describeError(err), "error");
    }
  };
  mount(main,
    h("h1", {}, partner.name),
    h("p", { class: "muted" }, t("p_intro"),
      partner.support_phone ? [" ", t("p_support", { phone: partner.support_phone })] : null),
    shownStats,
    pointsSection(code, stats, me),
    shownAccounts,
    ["admin", "partner"].includes(me.role) ? importCard(code, refresh) : null);
}

widePage("partner", render);
