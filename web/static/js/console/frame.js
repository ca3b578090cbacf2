// The frame of the console pages (/console/...): the manager pages' top bar, then the console's
// own section tabs. Admins see every section; managers the markets of their scope and the data
// requests about people in them; other roles are told they cannot use the console.

import { h, mount } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { widePage } from "../lib/page.js";
import { roleName } from "../lib/shell.js";
import "./strings.js";

export const SECTIONS = [
  { page: "console", href: "/console", key: "c_nav_home", roles: ["admin", "manager"] },
  { page: "console-markets", href: "/console/markets", key: "c_nav_markets", roles: ["admin", "manager"] },
  { page: "console-people", href: "/console/people", key: "c_nav_people", roles: ["admin"] },
  { page: "console-rule", href: "/console/rule", key: "c_nav_rule", roles: ["admin"] },
  { page: "console-partners", href: "/console/partners", key: "c_nav_partners", roles: ["admin"] },
  { page: "console-requests", href: "/console/requests", key: "c_nav_requests", roles: ["admin", "manager"] },
  { page: "console-audit", href: "/console/audit", key: "c_nav_audit", roles: ["admin"] },
];

// Pages inside a section (a market's stall-list import is part of the markets).
const PARENT = { "console-import": "console-markets" };

export const canUse = (me, page) => {
  const section = SECTIONS.find((s) => s.page === (PARENT[page] || page));
  return !!me && !!section && section.roles.includes(me.role);
};

function tabs(me, current) {
  const here = PARENT[current] || current;
  return h("nav", { class: "console-tabs", "aria-label": t("c_sections") },
    h("ul", {}, SECTIONS.filter((s) => s.roles.includes(me.role)).map((s) => h("li", {},
      h("a", { href: s.href, class: s.page === here ? "current" : "", "aria-current": s.page === here ? (s.page === current ? "page" : "true") : null }, t(s.key))))));
}

/** consolePage("console-markets", async (body, me) => {...}): the section drawn under the tabs. */
export function consolePage(current, render) {
  widePage(current, async (main, me) => {
    if (!canUse(me, current)) {
      mount(main, h("div", { class: "card", id: "not-allowed" },
        h("h1", {}, t("not_allowed_title")),
        h("p", {}, t("c_not_allowed", { role: roleName(me && me.role) })),
        h("a", { href: "/dashboard", class: "btn" }, "← ", t("nav_dashboard"))));
      return;
    }
    const body = h("div", { class: "console-body" });
    const nav = tabs(me, current);
    mount(main, nav, body);
    // On a phone the tabs are one row that scrolls sideways: the current one is brought into it.
    const list = nav.querySelector("ul");
    const here = nav.querySelector("a.current");
    if (list && here && list.scrollWidth > list.clientWidth) {
      list.scrollLeft = here.parentElement.offsetLeft - (list.clientWidth - here.offsetWidth) / 2;
    }
    await render(body, me);
  });
}

/** A section's heading with an optional line under it. */
export function heading(title, intro) {
  return h("div", { class: "heading" }, h("h1", {}, title), intro ? h("p", { class: "muted" }, intro) : null);
}
