// A printable list of the stalls to visit again (/return-visits?market=ID or ?team=ID): stall,
// zone, reason and since when, one table per market, with a box to tick on paper. Print CSS
// leaves out the page's frame.

import { h, mount, toast } from "./lib/dom.js";
import { t, num, date, dateTime, today, describeError, zoneLabel } from "./lib/i18n.js";
import * as api from "./lib/api.js";
import { widePage } from "./lib/page.js";
import * as shell from "./lib/shell.js";
import { revisitReason } from "./lib/coverage.js";
import { foundText } from "./lib/visits.js";

const qs = new URLSearchParams(window.location.search);
const positive = (v) => (/^[1-9][0-9]{0,17}$/.test(v || "") ? v : null);


/** A stall's zone: as written under the table's "Khu" column, named in full ("Khu A", "Nhà lồng
 * B") in the card a phone shows instead (CSS picks one). */
function zoneCell(zone) {
  return h("td", { class: ["visit-zone", zone ? "" : "visit-none"] },
    h("span", { class: "zone-raw" }, zone || "—"), zone ? h("span", { class: "zone-full" }, zoneLabel(zone)) : null);
}

/** A stall's code, for the field roles a link to its page in the volunteer app (the leader could
 * not open a stall from the list); a viewer, who has no stall pages, gets the code. */
function stallLink(row, work) {
  return work ? h("a", { href: `/#/s/${row.stall_id}`, class: "visit-link" }, row.stall_code) : row.stall_code;
}

function marketTable(market, me) {
  const work = shell.canWork(me); // a viewer is shown no one's name (the lists are the field roles')
  const n = market.visits.length + (market.appointments || []).length;
  return h("section", { class: "visit-market", dataset: { market: market.market_id } },
    h("h2", {}, market.name, market.ward_name ? h("span", { class: "muted small" }, ` · ${market.ward_name}`) : null,
      " ", h("span", { class: "muted small" }, `(${t(n === 1 ? "visits_one" : "visits_n", { n: num(n) })})`)),
    market.visits.length
      ? h("table", { class: "visits-table" },
        h("caption", { class: "sr-only" }, `${t("visits_title")} — ${market.name}`),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t("visits_col_stall")), h("th", { scope: "col" }, t("visits_col_zone")),
          h("th", { scope: "col" }, t("visits_col_reason")), h("th", { scope: "col" }, t("visits_col_since")),
          work ? h("th", { scope: "col", class: "visit-assignee" }, t("visits_col_assignee")) : null,
          h("th", { scope: "col", class: "visit-done" }, t("visits_col_done")))),
        h("tbody", {}, market.visits.map((v) => h("tr", { dataset: { stall: v.stall_id } },
          h("th", { scope: "row", class: "visit-code" }, stallLink(v, work)),
          zoneCell(v.zone),
          h("td", { class: "visit-wide" }, revisitReason(v.reason)),
          h("td", { dataset: { label: t("visits_col_since") } }, v.since ? dateTime(v.since) : "—"),
          work ? assigneeCell(market, v.stall_id, v.stall_code, me) : null,
          h("td", { class: "visit-done" }, h("span", { class: "tick-box", "aria-hidden": "true" }))))))
      : (market.appointments || []).length ? null : h("p", { class: "muted" }, t("visits_none")),
    appointmentsTable(market, me));
}

/** The days agreed with stallholders to come back (their latest visit), earliest first. */
function appointmentsTable(market, me) {
  const list = market.appointments;
  if (!list || !list.length) return null;
  return h("div", { class: "visit-appointments", dataset: { market: market.market_id } },
    h("h3", {}, t("visits_appointments"), " ", h("span", { class: "muted small" }, `(${t(list.length === 1 ? "visits_one" : "visits_n", { n: num(list.length) })})`)),
    h("table", { class: "visits-table" },
      h("caption", { class: "sr-only" }, `${t("visits_appointments")} — ${market.name}`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("visits_col_stall")), h("th", { scope: "col" }, t("visits_col_zone")),
        h("th", { scope: "col" }, t("visits_col_day")), h("th", { scope: "col" }, t("visits_col_found")),
        h("th", { scope: "col", class: "visit-assignee" }, t("visits_col_assignee")),
        h("th", { scope: "col", class: "visit-done" }, t("visits_col_done")))),
      h("tbody", {}, list.map((a) => h("tr", { dataset: { stall: a.stall_id }, class: a.come_back_on < today() ? "visit-overdue" : "" },
        h("th", { scope: "row", class: "visit-code" }, stallLink(a, shell.canWork(me))),
        zoneCell(a.zone),
        h("td", { dataset: { label: t("visits_col_day") } }, date(a.come_back_on), a.come_back_on < today() ? h("span", { class: "overdue" }, ` (${t("visits_overdue")})`) : null),
        h("td", { class: "visit-wide", dataset: { label: t("visits_col_found") } }, foundText(a)),
        assigneeCell(market, a.stall_id, a.stall_code, me),
        h("td", { class: "visit-done" }, h("span", { class: "tick-box", "aria-hidden": "true" })))))));
}


/**
 * Who is asked to go back to the stall (printed), and for whoever may assign in this market (a
 * team leader, a manager, an administrator) a list to change it and, once the stall was visited
 * since, a button to ask again (neither printed). A choice is saved a moment after the last change
 * (arrow keys on a closed list change it at every press).
 */
function assigneeCell(market, stallId, stallCode, me) {
  const state = { current: (market.assigned || {})[stallId] || null };
  const label = (a) => (a && a.user_id
    ? [a.name,
      a.works_here === false ? h("span", { class: "assign-gone small" }, ` (${t("assign_gone")})`) : null,
      a.visited_since ? h("span", { class: "muted small" }, ` (${t("assign_visited")})`) : null]
    : ["—"]);
  const name = h("span", { class: "assignee-name" }, label(state.current));
  const cell = h("td", { class: "visit-assignee", dataset: { label: t("visits_col_assignee") } }, name);
  if (!market.people) return cell;
  const id = `assign-${stallId}`;
  const held = state.current && state.current.user_id;
  const listed = market.people.some((p) => p.id === held);
  // A team leader changes only what nobody, a member of their team or someone no longer working
  // in the market holds (teams/assignments.py).
  const locked = Boolean(held) && !listed && me.role === "volunteer" && state.current.works_here !== false;
  const select = h("select", { id, class: "assign-select", disabled: locked },
    h("option", { value: "" }, t("assign_nobody")),
    held && !listed ? h("option", { value: String(held), selected: true }, state.current.name) : null,
    market.people.map((p) => h("option", { value: String(p.id), selected: held === p.id }, p.name)));
  const again = h("button", { type: "button", class: "btn btn-small assign-again", id: `ask-again-${stallId}`, hidden: true }, t("assign_again"));
  const show = () => {
    name.replaceChildren(...label(state.current).filter(Boolean));
    // Asking someone again who no longer works in the market would be refused: pick someone else.
    again.hidden = !(state.current && state.current.user_id && state.current.visited_since) || locked
      || state.current.works_here === false;
  };
  async function save(userId) {
    cell.setAttribute("aria-busy", "true");
    try {
      const { data } = await api.sendJSON("PUT", `/api/stalls/${stallId}/assignment`, { user_id: userId });
      state.current = data;
      (market.assigned = market.assigned || {})[stallId] = data;
      show();
      toast(data.user_id ? t("assign_saved", { code: stallCode, name: data.name }) : t("assign_cleared", { code: stallCode }), "ok");
    } catch (err) {
      select.value = state.current && state.current.user_id ? String(state.current.user_id) : "";
      toast(describeError(err), "error");
    } finally {
      cell.removeAttribute("aria-busy");
    }
  }
  let timer = null;
  select.addEventListener("change", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => save(select.value ? Number(select.value) : null), 700);
  });
  again.addEventListener("click", () => save(state.current.user_id));
  show();
  cell.append(h("label", { class: "sr-only", for: id }, t("assign_label", { code: stallCode })), select, again);
  return cell;
}

/** Who is asked to go back to which stall, and whom the caller may ask (null: not theirs to ask). */
async function withAssignments(markets, me) {
  // A volunteer asks only in the markets of a team they lead (teams/assignments.py): elsewhere
  // the list of people to ask would be refused, so it is not asked for.
  let led = null;
  if (shell.canWork(me) && me.role === "volunteer") {
    led = new Set();
    try {
      for (const team of await api.getJSON("/api/teams")) {
        if (team.leader_id === me.id) for (const m of team.markets) led.add(m.id);
      }
    } catch { led = null; /* unknown: ask per market, as for anyone else */ }
  }
  await Promise.all(markets.map(async (m) => {
    m.assigned = {};
    m.people = null;
    if (!shell.canWork(me)) return;
    try {
      for (const a of await api.getJSON(`/api/markets/${m.market_id}/assignments`)) m.assigned[a.stall_id] = a;
    } catch { /* the list stands without names */ }
    if (led && !led.has(m.market_id)) return;
    try {
      m.people = await api.getJSON(`/api/markets/${m.market_id}/assignees`);
    } catch { /* not a leader or manager here: names only */ }
  }));
}

/**
 * Each market's appointments, for the roles that do field work (a viewer sees the flagged stalls
 * only). A stall flagged already is listed once, in the first table.
 */
async function withAppointments(markets, me) {
  await Promise.all(markets.map(async (m) => {
    m.appointments = [];
    if (!shell.canWork(me)) return;
    try {
      const flagged = new Set(m.visits.map((v) => v.stall_id));
      const got = await api.getJSON(`/api/markets/${m.market_id}/appointments`);
      m.appointments = got.appointments.filter((a) => !flagged.has(a.stall_id));
    } catch { /* the flagged stalls stand on their own */ }
  }));
}

async function render(main, me) {
  const market = positive(qs.get("market"));
  const team = positive(qs.get("team"));
  let title, markets;
  if (team) {
    const data = await api.getJSON(`/api/teams/${team}/return-visits`);
    title = t("visits_team", { name: data.team_name });
    markets = data.markets;
  } else if (market) {
    const data = await api.getJSON(`/api/markets/${market}/return-visits`);
    title = t("visits_market", { name: data.name });
    markets = [data];
  } else {
    mount(main, h("h1", {}, t("visits_title")), h("p", { class: "note note-warn" }, t("visits_pick")),
      h("p", {}, h("a", { href: "/dashboard" }, t("nav_dashboard"))));
    return;
  }
  document.title = `${title} — ${t("app_name")}`;
  await Promise.all([withAppointments(markets, me), withAssignments(markets, me)]);
  const count = markets.reduce((n, m) => n + m.visits.length + (m.appointments || []).length, 0);
  mount(main,
    h("div", { class: "visits-page" },
      h("h1", {}, t("visits_title")),
      h("p", { class: "lead" }, title, " · ", t(count === 1 ? "visits_one" : "visits_n", { n: num(count) })),
      h("p", { class: "muted small print-only" }, t("visits_printed_at", { when: dateTime(new Date()) })),
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-primary", id: "print-visits", onclick: () => window.print() }, t("visits_print"))),
      markets.length ? markets.map((m) => marketTable(m, me)) : h("p", { class: "muted" }, t("visits_none"))));
}

widePage("visits", render);
