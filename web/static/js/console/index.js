// /console: what needs doing, one card per section with its numbers (markets without a ward,
// people, the rule and a scheduled version, partners with credentials, overdue data requests).

import { h, mount } from "../lib/dom.js";
import { t, num, pct, targetPct } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { levelLabel } from "../lib/coverage.js";
import { consolePage, heading } from "./frame.js";

function card(href, title, lines, alert = false, id = "") {
  return h("li", {}, h("a", { class: ["card card-link", alert ? "card-alert" : ""], href, id: id || null },
    h("span", { class: "card-title" }, title),
    lines.filter(Boolean).map((l) => h("span", { class: l.strong ? "card-meta" : "muted" }, l.text))));
}

async function render(body, me) {
  const admin = me.role === "admin";
  const [markets, requests, users, rule, versions, partners] = await Promise.all([
    api.getJSON("/api/markets"),
    api.getJSON("/api/data-requests"),
    admin ? api.getJSON("/api/users") : null,
    admin ? api.getJSON("/api/programme/rule") : null,
    admin ? api.getJSON("/api/programme/rule/versions") : null,
    admin ? api.getJSON("/api/partners") : null,
  ]);
  const noWard = markets.filter((m) => !m.ward_code).length;
  const now = Date.now();
  const overdue = requests.filter((r) => new Date(r.due_at).getTime() < now).length;
  const cards = [
    card("/console/markets", t("c_nav_markets"), [
      { text: t("c_home_markets", { n: num(markets.length) }), strong: true },
      noWard ? { text: t("c_home_no_ward", { n: num(noWard) }) } : { text: t("c_home_all_wards") },
    ], noWard > 0, "home-markets"),
  ];
  if (admin) {
    const active = users.filter((u) => u.active);
    // Every role, so that the parts add up to the total (the administrators were left out).
    const byRole = ["admin", "volunteer", "manager", "viewer", "partner"]
      .map((r) => [r, active.filter((u) => u.role === r).length]).filter(([, n]) => n > 0)
      .map(([r, n]) => t(`c_role_plural_${r}`, { n: num(n) })).join(" · ");
    cards.push(card("/console/people", t("c_nav_people"), [{ text: t("c_home_people", { n: num(active.length) }), strong: true }, { text: byRole }], false, "home-people"));
    const waiting = versions.filter((v) => v.state === "scheduled").length;
    cards.push(card("/console/rule", t("c_nav_rule"), [
      { text: t("c_home_rule", { v: rule.version }), strong: true },
      { text: Object.entries(rule.thresholds).map(([l, v]) => `${levelLabel(l)} ≥ ${targetPct(v)}`).join(" · ") },
      waiting ? { text: t("c_home_rule_waiting", { n: num(waiting) }) } : null,
    ], false, "home-rule"));
    const configured = partners.filter((p) => p.credentials_set.length).length;
    cards.push(card("/console/partners", t("c_nav_partners"), [
      { text: t("c_home_partners", { n: num(partners.length) }), strong: true },
      { text: t("c_home_partners_set", { n: num(configured) }) },
    ], false, "home-partners"));
  }
  cards.push(card("/console/requests", t("c_nav_requests"), [
    { text: t("c_home_requests", { n: num(requests.length) }), strong: true },
    overdue ? { text: t("c_home_overdue", { n: num(overdue) }) } : { text: t("c_home_none_overdue") },
  ], overdue > 0, "home-requests"));
  mount(body,
    heading(t("c_home_title"), t(admin ? "c_home_intro" : "c_home_intro_manager")),
    h("ul", { class: "cards console-cards" }, cards));
}

consolePage("console", render);
