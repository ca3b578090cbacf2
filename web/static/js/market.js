// /markets/{id}: one market's stalls laid out by zone as tiles coloured by level, counts and
// progress toward the rule, coverage over time, and the history of its status.

import { h, mount, progressBar } from "./lib/dom.js";
import { t, num, pct, targetPct, dateTime, zoneLabel, wardLine, addStrings } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import { widePage, optional } from "./lib/page.js";
import { coverageChart } from "./lib/chart.js";
import {
  LEVELS, levelShare, activeStalls, thresholdsOf, levelLabel, levelClass, statusLabel, tiles as readTiles,
  history as readHistory,
} from "./lib/coverage.js";
import { statusBadge, ruleLine, ruleInForce, ruleSteps, scheduledRule, download, openReport, supportFigures, fileName } from "./lib/widgets.js";
import { printJob } from "./lib/printjob.js";
import { confirmDialog } from "./lib/dialog.js";
import { canWork } from "./lib/shell.js";
import { pointsBox } from "./lib/points.js";

addStrings({
  vi: {
    print_all_again_title: "Cả {n} sạp đang hoạt động đã in biển",
    print_all_again_line: "In lại cả chợ chỉ khi biển hỏng hoặc mất. Biển của một sạp có thể in lại ở trang của sạp.",
    print_all_again_ok: "Vẫn in lại cả chợ",
    tiles_highest: "Mỗi ô có màu của mức cao nhất sạp đã đạt. Một sạp có thể đang giao dịch mà mã chưa được kiểm tra (ví dụ sau khi tài khoản được sửa hoặc bị ngưng), nên số ô mỗi màu có thể khác số trên các thanh bên trái.",
  },
  en: {
    tiles_highest: "Each tile has the colour of the highest level the stall reached. A stall may be receiving payments with its code not checked (after its account was corrected or stopped, say), so the tiles of a colour may not add up to the bars on the left.",
    print_all_again_title: "All {n} active stalls have a printed sign",
    print_all_again_line: "Reprint the whole market only when signs are damaged or lost. One stall's sign can be reprinted from its page.",
    print_all_again_ok: "Reprint the whole market",
  },
});

const marketId = Number((window.location.pathname.match(/\/markets\/(\d+)/) || [])[1]);

/** How the holders of the market's active stalls see a payment arrive (users_want #23): how many
 * were asked, each way, and those with none (the ones to train again). */
function confirmCard(counts) {
  if (!counts) return null;
  const line = (key, n, extra = {}) => h("li", { dataset: { tool: key }, ...extra },
    h("span", {}, t(`confirm_${key}`)), ": ", h("strong", {}, num(n)));
  return h("section", { class: "card", id: "confirm-counts", "aria-labelledby": "h-confirm" },
    h("h2", { id: "h-confirm" }, t("confirm_by")),
    h("p", {}, t("confirm_asked", { asked: num(counts.asked), total: num(counts.active_stalls) })),
    counts.asked ? h("ul", { class: "plain confirm-counts" },
      line("bank_app", counts.bank_app), line("sound_box", counts.sound_box), line("sms", counts.sms),
      line("none", counts.none, counts.none ? { class: "confirm-none" } : {})) : null,
    counts.asked ? h("p", { class: "muted small" }, t("confirm_many_ways")) : null,
    counts.none ? h("p", { class: "note note-warn" }, t("confirm_none_many", { n: num(counts.none) })) : null);
}

/** The partners' service points serving the market (users_want #22); administrators and the
 * market's managers add and remove them. */
function pointsSection(market, me) {
  const canEdit = ["admin", "manager"].includes(me.role) && !market.archived;
  let partners = null;
  return pointsBox(`/api/service-points?market_id=${marketId}`, {
    canEdit, fixed: { market_id: marketId }, centre: [market.lat, market.lon],
    marketInfo: { name: market.name, lat: market.lat, lon: market.lon },
    prepare: async () => {
      if (canEdit && !partners) {
        partners = (await api.getJSON("/api/partners")).map((p) => ({ code: p.code, name: p.name }))
          .sort((x, y) => x.name.localeCompare(y.name, "vi"));
      }
      return { partners: partners || [] };
    },
  });
}

/** The support package at the market's active stalls (users_want #21): households consulted, and
 * per item how many were consulted, received it or did not need it. */
function supportCountsCard(counts) {
  if (!counts) return null;
  return h("section", { class: "card", id: "support-counts", "aria-labelledby": "h-support" },
    h("h2", { id: "h-support" }, t("support_title")), supportFigures(counts, "support-table"));
}

/** Other ways the market's active stalls take payment (users_want #26): where a tourist with a
 * card or a foreign QR can pay. Shown once someone has been asked. */
function alsoCard(counts) {
  if (!counts || !counts.asked) return null;
  const line = (key, n) => h("li", { dataset: { method: key } }, h("span", {}, t(`accepts_${key}`)), ": ", h("strong", {}, num(n)));
  return h("section", { class: "card", id: "also-counts", "aria-labelledby": "h-also" },
    h("h2", { id: "h-also" }, t("accepts_title")),
    h("p", {}, t("confirm_asked", { asked: num(counts.asked), total: num(counts.active_stalls) })),
    h("ul", { class: "plain confirm-counts" },
      line("card", counts.card), line("intl_qr", counts.intl_qr), line("phone_transfer", counts.phone_transfer),
      line("none", counts.none)));
}

function tile(stall, linked) {
  const label = `${stall.stall_code} — ${levelLabel(stall.level)}${stall.needs_revisit ? ` — ${t("needs_revisit")}` : ""}${stall.sign_reprint_needed ? ` — ${t("reprint_needed")}` : ""}`;
  // A stall opens in the volunteer app, for those who may see its stallholder.
  return h("li", {}, h(linked ? "a" : "span", {
    ...(linked ? { href: `/#/s/${stall.id}` } : { role: "img" }),
    class: ["tile", levelClass(stall.level), stall.needs_revisit ? "tile-revisit" : "", stall.sign_reprint_needed ? "tile-reprint" : ""],
    title: label, "aria-label": label, dataset: { level: stall.level },
  }, stall.stall_code));
}

async function render(main, me) {
  // An id no market can have (a page the service worker opened from its copy, so the server never
  // refused the address): said as a market that does not exist, not "Thông tin chưa đúng".
  if (!Number.isSafeInteger(marketId) || marketId < 1) throw new api.ApiError(404, { code: "market_not_found" });
  const fieldWork = canWork(me);
  const [market, cov, tilesRaw, hist, changes, versions, confirmed, supportCounts, also] = await Promise.all([
    api.getJSON(`/api/markets/${marketId}`),
    optional(`/api/markets/${marketId}/coverage`),
    optional(`/api/markets/${marketId}/stall-tiles`),
    optional(`/api/coverage/history?market_id=${marketId}`),
    optional(`/api/markets/${marketId}/status-history`),
    optional("/api/programme/rule/versions"),
    optional(`/api/markets/${marketId}/confirm-by`),
    optional(`/api/markets/${marketId}/support`).catch(() => null),
    optional(`/api/markets/${marketId}/also-accepts`).catch(() => null),
  ]);
  document.title = `${market.name} — ${t("app_name")}`;
  const rule = ruleInForce(versions);
  const thresholds = thresholdsOf(cov || rule);
  const total = cov ? activeStalls(cov) : market.stall_count;
  const progress = new Map(((cov && cov.progress) || []).map((p) => [p.level, p]));

  const levelRows = h("div", { class: "level-rows" }, ["qr_issued", "qr_verified", "transacting", "fees_cashless"].map((level) => {
    const { count, share } = levelShare(cov, level);
    const target = thresholds[level] ?? null;
    const p = progress.get(level);
    return h("div", {},
      h("div", { class: "level-row" },
        h("span", { class: "market-name" }, levelLabel(level)),
        progressBar(share, { target, kind: `bar-big bar-level-${level}`, label: `${levelLabel(level)} ${pct(share)}` }),
        h("span", { class: "pct" }, t("share_of", { count: num(count), total: num(total), pct: pct(share) }))),
      target != null ? h("p", { class: "sub" }, t("target", { pct: targetPct(target) }),
        p && !p.met && p.stalls_needed ? ` · ${t("stalls_needed", { n: num(p.stalls_needed) })}` : "",
        p && p.met ? ` · ${t("target_met")}` : "") : null);
  }));

  const zones = tilesRaw ? readTiles(tilesRaw).zones.filter((z) => z.stalls.length) : [];
  const tilesBox = !tilesRaw ? h("p", { class: "muted" }, t("tiles_missing"))
    : !zones.length ? h("p", { class: "muted" }, t("no_stalls_yet"))
    : zones.length
    ? h("div", {}, zones.map((z) => h("section", { class: "zone", "aria-label": z.zone ? zoneLabel(z.zone) : t("zone_none") },
      h("h3", {}, z.zone ? zoneLabel(z.zone) : t("zone_none"), " ", h("span", { class: "muted small" }, `(${num(z.stalls.length)})`)),
      h("ul", { class: "tiles" }, z.stalls.map((x) => tile(x, fieldWork))))))
    : h("p", { class: "muted" }, t("tiles_missing"));

  const historyList = changes && changes.length
    ? h("ul", { class: "history" }, changes.map((c) => h("li", {},
      h("strong", {}, dateTime(c.changed_at)), " · ",
      c.previous_status ? `${statusLabel(c.previous_status)} → ` : "", statusBadge(c.status),
      h("span", { class: "sub" }, `${t(`reason_${c.reason}`)} · ${t("at_change")} ${t("active_stalls", { n: num(c.active_stalls) })} · ${["qr_verified", "transacting"].map((l) => `${levelLabel(l)} ${pct(levelShare(c, l).share)}`).join(" · ")}`))))
    : h("p", { class: "muted" }, t("history_empty"));

  const printBox = h("div", { id: "print-job-box" });
  // Every active stall has its sign already: reprinting the whole market is asked first (it went
  // straight to "66 signs printed?").
  async function printAll() {
    const active = activeStalls(cov);
    const { count } = levelShare(cov, "qr_issued");
    if (active > 0 && count >= active) {
      const again = await confirmDialog({
        id: "print-all-dialog", title: t("print_all_again_title", { n: num(active) }),
        lines: [t("print_all_again_line")], ok: t("print_all_again_ok"), cancel: t("cancel"),
      });
      if (!again) return;
    }
    // Confirmed, the signs count as printed: the page draws its numbers and tiles again (they
    // stayed at the old figures until a reload).
    await printJob(marketId, {}, printBox, () => render(main, me).catch(() => null));
  }
  mount(main,
    h("p", { class: "nav-links" }, h("a", { href: "/map" }, "← ", t("map_page_title")), " · ", h("a", { href: "/dashboard" }, t("nav_dashboard"))),
    h("h1", {}, market.name),
    h("p", { class: "muted" }, wardLine(market)),
    // An archived market is read by id: say so before its numbers (no signs are printed for it).
    market.archived ? h("p", { class: "note note-warn", id: "archived-note" },
      t("market_archived_note", { when: market.archived_at ? dateTime(market.archived_at) : "" }),
      market.archive_reason ? ` ${t("archive_reason", { reason: market.archive_reason })}` : "") : null,
    h("p", {}, statusBadge(cov && cov.status), " ",
      cov && cov.status_since ? h("span", { class: "muted" }, t("since", { when: dateTime(cov.status_since) })) : null, " · ",
      h("span", { class: "rule-line" }, ruleLine(rule, thresholds)), scheduledRule(versions) ? [" · ", scheduledRule(versions)] : null),
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "btn btn-primary", id: "report-pdf", onclick: () => openReport(marketId, market.name) }, t("report_pdf")),
      h("button", { type: "button", class: "btn", id: "export-xlsx", onclick: () => download(`/api/exports/stalls.xlsx?market_id=${marketId}`, fileName(["choso-sap", market.name], "xlsx")) }, t("export_xlsx")),
      h("button", { type: "button", class: "btn", onclick: () => download(`/api/exports/stalls.csv?market_id=${marketId}`, fileName(["choso-sap", market.name], "csv")) }, t("export_csv")),
      fieldWork && !market.archived ? h("button", { type: "button", class: "btn", id: "print-all", onclick: printAll }, t("print_all_signs")) : null,
      // The market's stalls to visit again, printable (the empty list page sent people here).
      h("a", { class: "btn", id: "return-visits-link", href: `/return-visits?market=${marketId}` }, t("team_visits"))),
    printBox,
    h("div", { class: "market-grid" },
      h("div", {},
        h("section", { class: "card", "aria-labelledby": "h-levels" },
          h("h2", { id: "h-levels" }, t("market_levels"), " · ", t("active_stalls", { n: num(total) })),
          levelRows),
        confirmCard(confirmed),
        alsoCard(also),
        supportCountsCard(supportCounts),
        pointsSection(market, me),
        h("section", { class: "card", "aria-labelledby": "h-trend" },
          h("h2", { id: "h-trend" }, t("trend_title")),
          // The chart's days and the history's lines are read at different moments: say which.
          h("p", { class: "muted small", id: "trend-moment" }, t("trend_moment")),
          coverageChart(readHistory(hist), { thresholds, ruleSteps: ruleSteps(versions), title: `${t("trend_title")} — ${market.name}` })),
        h("section", { class: "card", "aria-labelledby": "h-history" },
          h("h2", { id: "h-history" }, t("status_history")), historyList)),
      h("section", { class: "card", "aria-labelledby": "h-tiles" },
        h("h2", { id: "h-tiles" }, t("stalls_by_zone")),
        h("div", { class: "level-legend" }, LEVELS.map((l) => h("span", { class: `badge ${levelClass(l)}` }, levelLabel(l))),
          h("span", { class: "badge badge-revisit" }, "! ", t("needs_revisit")),
          h("span", { class: "badge badge-reprint" }, "↻ ", t("reprint_needed"))),
        h("p", { class: "muted small", id: "tiles-highest" }, t("tiles_highest")),
        tilesBox)));
}

widePage("market", render);
