// On the tablet: my team (members and this week's counts, for a team leader: the whole team's),
// and the volunteer's own line on the worklist: "Hôm nay: N sạp đăng ký, M biển đã giao".

import { h, mount, toast } from "../lib/dom.js";
import { t, num, pct, describeError } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { KINDS, kindLabel, load, periodOf, today } from "../lib/activity.js";
import { statusLabel, levelLabel } from "../lib/coverage.js";
import { personName } from "../lib/text.js";

/** A line filled in when the server answers (nothing is shown offline or for other roles). */
export function todayLine(ctx) {
  const line = h("p", { class: "today-line", id: "today-line", hidden: true, "aria-live": "polite" });
  if (!ctx.me || ctx.me.role !== "volunteer") return line;
  // Read now, and again when the worklist reloads (back online, records sent): offline at first,
  // the line came once the network did, not only after the page was opened again.
  line.refresh = () => {
    const day = today();
    load({ from: day, to: day, groupBy: "user" }).then((data) => {
      const mine = data.rows.find((r) => String(r.key) === String(ctx.me.id));
      // The volunteer's own day in every market: on one market's list, a volunteer who works in
      // several is told the line is not that market's alone.
      const several = (ctx.markets || []).length > 1;
      line.textContent = t(several ? "today_line_all" : "today_line", { n: num(mine ? mine.registrations : 0), m: num(mine ? mine.deliveries : 0) });
      line.hidden = false;
    }).catch(() => { /* offline or not yet deployed: the worklist works without it */ });
  };
  line.refresh();
  return line;
}

export async function teamView(ctx) {
  const [teams, week] = await Promise.all([
    api.getJSON("/api/teams"),
    load({ ...periodOf("week"), groupBy: "user" }).catch(() => null),
  ]);
  const team = teams[0];
  if (!team) {
    mount(ctx.main, h("h1", {}, t("my_team")), h("p", { class: "card", id: "no-team" }, t("my_team_none")));
    return;
  }
  const byUser = new Map(((week && week.rows) || []).map((r) => [String(r.key), r]));
  const leads = team.leader_id === ctx.me.id;
  const shown = ["registrations", "deliveries", "verifications"];
  const memberRows = team.members.map((m) => {
    const row = byUser.get(String(m.id));
    return h("tr", { dataset: { member: m.id } },
      h("th", { scope: "row" }, personName(m), m.is_leader ? h("span", { class: "sub" }, t("team_leader")) : null,
        m.id === ctx.me.id ? h("span", { class: "sub" }, t("team_member_you")) : null),
      // Members see their own numbers; a leader sees everyone's.
      // Another member's numbers are the leader's to see: said as such, not a dash that reads as "none".
      // Said once across the row (it was in each of the three cells, on every row).
      leads || m.id === ctx.me.id
        ? shown.map((k) => h("td", { class: "num" }, num(row ? row[k] : 0)))
        : h("td", { class: "muted small", colspan: shown.length }, t("team_numbers_leader_only")));
  });
  // A leader's numbers count what was done for the team at the time: someone who has left since
  // keeps a row (marked), so that the rows add up to the team's totals.
  if (leads) {
    const members = new Set(team.members.map((m) => String(m.id)));
    for (const row of (week && week.rows) || []) {
      if (row.key === null || row.key === undefined || members.has(String(row.key))) continue;
      memberRows.push(h("tr", { dataset: { former: row.key } },
        h("th", { scope: "row" }, row.label || t("act_hidden_name", { id: row.key }), h("span", { class: "sub" }, t("team_member_left"))),
        shown.map((k) => h("td", { class: "num" }, num(row[k] || 0)))));
    }
  }
  const own = byUser.get(String(ctx.me.id));
  mount(ctx.main,
    h("h1", {}, team.name),
    h("p", { class: "muted" }, team.ward_name || team.ward_code, " · ", team.markets.map((m) => m.name).join(", ")),
    h("h2", {}, t("my_team_week")),
    h("div", { class: "kpis" }, KINDS.filter((k) => ["registrations", "deliveries", "verifications", "return_visits", "codes_fixed"].includes(k)).map((k) =>
      h("div", { class: "kpi" }, h("span", { class: "kpi-value" }, num(leads && week ? week.total[k] : own ? own[k] : 0)),
        h("span", { class: "kpi-label" }, kindLabel(k))))),
    h("p", { class: "muted small" }, t(leads ? "my_team_week_team" : "my_team_week_own")),
    h("h2", {}, t("team_members")),
    h("div", { class: "table-wrap" }, h("table", { id: "team-members-table" },
      h("caption", { class: "sr-only" }, t("team_members")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("col_volunteer")), shown.map((k) => h("th", { scope: "col", class: "num" }, kindLabel(k))))),
      h("tbody", {}, memberRows))),
    leads ? h("p", {}, h("a", { class: "btn", href: `/return-visits?team=${team.id}` }, t("team_visits"))) : null,
    leads ? shareCard(team, week) : null);
}

const dayMonth = (day) => `${day.slice(8, 10)}/${day.slice(5, 7)}`;
const lowerFirst = (text) => text.charAt(0).toLocaleLowerCase() + text.slice(1);  // mid-sentence

/**
 * The team's week as a few lines of text: its counts, each market's signs and status, how many
 * stalls to go back to and the link to their list. Numbers only: no stallholder is named, since
 * the text goes to a chat group.
 */
async function summary(team, week) {
  const [covs, visits, agreed] = await Promise.all([
    Promise.all(team.markets.map((m) => api.getJSON(`/api/markets/${m.id}/coverage`).catch(() => null))),
    api.getJSON(`/api/teams/${team.id}/return-visits`).catch(() => null),
    Promise.all(team.markets.map((m) => api.getJSON(`/api/markets/${m.id}/appointments`).catch(() => null))),
  ]);
  const { from, to } = periodOf("week");
  const lines = [t("share_head", { team: team.name, from: dayMonth(from), to: dayMonth(to) })];
  if (week) {
    lines.push(`• ${["registrations", "deliveries", "verifications", "return_visits", "codes_fixed"]
      .map((k) => `${kindLabel(k)}: ${num(week.total[k] || 0)}`).join(" · ")}`);
  }
  const missing = team.markets.filter((_, i) => !covs[i] || !agreed[i]).map((m) => m.name);
  for (const c of covs) {
    if (!c) continue;
    const issued = c.levels.qr_issued;
    // The shares the rule reads beside the signs: "96 % signs, lost the title" alone read as wrong
    // when the title hangs on codes checked (a reviewer).
    const rule = c.progress.filter((p) => p.level !== "qr_issued").map((p) => `, ${t("share_level", {
      n: num(p.count), total: num(c.active_stalls), level: lowerFirst(levelLabel(p.level)), pct: pct(p.share),
    })}`).join("");
    const line = t("share_market", { name: c.name, n: num(issued.count), total: num(c.active_stalls), pct: pct(issued.share), rule, status: lowerFirst(statusLabel(c.status)) });
    // What the rule still asks for, which may not be signs ("100% signs, lost the title" alone
    // does not tell the team what to do).
    const needs = c.active_stalls ? c.progress.filter((p) => p.stalls_needed > 0).map((p) => t(`need_${p.level}`, { n: num(p.stalls_needed) })) : [];
    lines.push(`• ${line}${needs.length ? `; ${lowerFirst(t("rank_need_prefix"))} ${needs.join(", ")}` : ""}`);
  }
  if (visits) {
    // The stalls the linked list shows (visits.js): flagged ones and days agreed, each stall once.
    const stalls = new Set(visits.markets.flatMap((m) => m.visits.map((v) => v.stall_id)));
    for (const a of agreed) for (const x of (a && a.appointments) || []) stalls.add(x.stall_id);
    const n = stalls.size;
    lines.push(`• ${t("share_visits", { n: num(n) })} ${window.location.origin}/return-visits?team=${team.id}`);
  }
  return { text: lines.join("\n"), missing };
}

/** For the leader: the week's summary to paste into the team's Zalo group (users_want #14),
 * written on request (it asks for each market's numbers: a few requests on a slow network). */
function shareCard(team, week) {
  const text = h("textarea", { id: "share-text", rows: 9, class: "share-text", hidden: true });
  const copy = h("button", { type: "button", class: "btn btn-primary", id: "share-copy", hidden: true }, t("share_copy"));
  const send = h("button", { type: "button", class: "btn", id: "share-send", hidden: true }, t("share_send"));
  const make = h("button", { type: "button", class: "btn", id: "share-make" }, t("share_make"));
  const gaps = h("p", { class: "note note-warn", id: "share-missing", hidden: true });
  make.addEventListener("click", async () => {
    make.disabled = true;
    try {
      const { text: written, missing } = await summary(team, week);
      text.value = written;
      // A market whose numbers could not be read (offline) is said, not silently left out.
      gaps.textContent = missing.length ? t("share_missing", { names: missing.join(", ") }) : "";
      gaps.hidden = !missing.length;
      text.hidden = false;
      copy.hidden = false;
      send.hidden = typeof navigator.share !== "function";  // phones: straight to Zalo
      text.focus();
    } catch (err) {
      toast(describeError(err), "error");
    } finally {
      make.disabled = false;
    }
  });
  copy.addEventListener("click", async () => {
    let done = true;
    try {
      await navigator.clipboard.writeText(text.value);
    } catch {
      text.select();  // no clipboard here (plain http): selected, for the device's own Copy
      done = document.execCommand("copy");
    }
    toast(t(done ? "share_copied" : "share_select"), done ? "ok" : "warn");
  });
  send.addEventListener("click", () => navigator.share({ text: text.value }).catch(() => { /* closed */ }));
  return h("section", { class: "card", id: "share-card", "aria-labelledby": "share-h" },
    h("h2", { id: "share-h" }, t("share_title")),
    h("p", { class: "muted small" }, t("share_hint")),
    h("label", { for: "share-text", class: "sr-only" }, t("share_title")),
    gaps, text, h("div", { class: "row-actions" }, make, copy, send));
}
