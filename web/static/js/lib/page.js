// The frame of the manager pages (dashboard, map, market): top bar with navigation, sign-in, language.

import { h, mount } from "./dom.js";
import { t } from "./i18n.js";
import * as api from "./api.js";
import * as shell from "./shell.js";

const LINKS = [
  { href: "/dashboard", key: "nav_dashboard", page: "dashboard" },
  { href: "/map", key: "nav_map", page: "map" },
  { href: "/console", key: "nav_console", page: "console", roles: ["admin", "manager"] },
  // Volunteers see their own field work there, and a team leader the team's.
  // `only`: the page is for these roles alone (others are told so); the partner page is open to
  // admins and viewers too (?code=), the console says itself which sections a role has.
  { href: "/activity", key: "nav_activity", page: "activity", roles: ["admin", "manager", "viewer", "volunteer"], only: true },
  { href: "/teams", key: "nav_teams", page: "teams", roles: ["admin", "manager", "volunteer"], only: true },
  { href: "/partner", key: "nav_partner", page: "partner", roles: ["partner"] },
  { href: "/", key: "nav_app", page: "app" },
];

// Pages reached from another section's page light that section's link: a market is a step of the
// dashboard's drill-down; a return-visit list is a team's (?team=) or a market's.
function section(current) {
  if (current === "market") return "dashboard";
  if (current === "visits") return new URLSearchParams(window.location.search).has("team") ? "teams" : "dashboard";
  return current;
}

export async function widePage(current, render) {
  shell.init();
  const main = document.getElementById("main");
  let me = null;
  const draw = () => shell.topbar({
    me, home: "/dashboard",
    // A partner account has its own page only; the others are for city staff and volunteers.
    links: LINKS.filter((l) => (me && me.role === "partner" ? Boolean(l.roles && l.roles.includes("partner")) : !l.roles || (me && l.roles.includes(me.role))))
      // The app's link says what it is for this person: a viewer registers nothing there.
      .map((l) => ({ ...l, key: l.page === "app" && me && !shell.canWork(me) ? "nav_app_view" : l.key }))
      .map((l) => ({ ...l, current: l.page === section(current) || current.startsWith(`${l.page}-`) })),
    // The same sign-out as the volunteer app's: a warning about unsent records and drafts, and
    // nothing personal left on the device (the manager pages are opened on shared tablets too).
    onSignOut: async () => {
      const { signOutAndWipe } = await import("./wipe.js");
      if (await signOutAndWipe()) window.location.reload();
    },
  });
  draw();
  me = await shell.ensureUser(main);
  draw();
  const run = async () => {
    try {
      // A partner account has its own page (/partner): the others would only fail.
      if (me.role === "partner" && current !== "partner") {
        mount(main, h("div", { class: "card", id: "not-allowed" },
          h("h1", {}, t("not_allowed_title")),
          h("p", {}, t("partner_pages_text", { code: me.partner_code || "" })),
          h("p", {}, h("a", { class: "btn btn-primary", href: "/partner", id: "partner-open" }, t("partner_open")))));
        return;
      }
      // A page of the bar that is not for this role says so, instead of failing on a refusal.
      const link = LINKS.find((l) => l.page === current);
      if (link && link.only && !link.roles.includes(me.role)) {
        mount(main, h("div", { class: "card", id: "not-allowed" },
          h("h1", {}, t("not_allowed_title")),
          h("p", {}, t("page_not_for_role", { role: shell.roleName(me.role) })),
          h("a", { href: "/dashboard", class: "btn" }, "← ", t("nav_dashboard"))));
        return;
      }
      await render(main, me);
    } catch (err) {
      shell.showError(main, err, run);
    }
  };
  await run();
  window.addEventListener("choso:lang", () => { draw(); run(); });
  let again = false;
  window.addEventListener("choso:unauthorized", async () => {
    if (again) return;
    again = true;
    api.forget();
    me = null;
    draw();
    me = await shell.signIn(main, { message: t("signin_again") });
    again = false;
    draw();
    run();
  });
}

/** GET that answers null when the route is not there yet (a feature still being built). */
export async function optional(path) {
  try {
    return await api.getJSON(path);
  } catch (err) {
    if (api.routeMissing(err)) return null;
    throw err;
  }
}
