// What every page shares: the top bar, sign-in, language switch, network state, the service worker.

import { h, mount, toast, announce } from "./dom.js";
import { t, setLang, currentLang, applyStatic, describeError, errorText } from "./i18n.js";
import * as api from "./api.js";

const ROLE = {
  vi: { admin: "quản trị", manager: "quản lý", volunteer: "tình nguyện viên", viewer: "người xem", partner: "đối tác", leader: "tổ trưởng" },
  en: { admin: "admin", manager: "manager", volunteer: "volunteer", viewer: "viewer", partner: "partner", leader: "team leader" },
};

export function roleName(role) { return (ROLE[currentLang()] || ROLE.vi)[role] || role; }

// Who the signed-in person is, in the menu: a volunteer who leads a team is its leader.
function personRole(me) { return roleName(me.role === "volunteer" && me.leads_team ? "leader" : me.role); }

export const body = document.body;
export const settings = {
  page: body.dataset.page,
  tileUrl: body.dataset.tileUrl || "",
  noticeVersion: body.dataset.noticeVersion || "",
  lookup: body.dataset.lookup === "on",
};

// The skip link moves the focus to the content without changing the address: the volunteer app
// routes by the hash, and "#main" there read as an unknown screen (back to the start, the screen
// drawn again, what was typed lost). Without JavaScript the link's plain #main still works.
const skipLink = document.querySelector(".skip-link");
if (skipLink) {
  skipLink.addEventListener("click", (ev) => {
    const content = document.getElementById("main");
    if (!content) return;
    ev.preventDefault();
    content.focus();
    content.scrollIntoView({ block: "start" });
  });
}

// One network pill for every redraw of the top bar, listening once (a new pill per redraw left its
// three listeners behind, updating pills no longer on screen).
let pill = null;
function onlinePill() {
  if (pill) return pill;
  pill = h("span", { class: "pill net", role: "status" });
  const update = () => {
    const on = navigator.onLine;
    pill.textContent = on ? t("online") : t("offline");
    pill.className = `pill net ${on ? "net-on" : "net-off"}`;
    pill.title = on ? "" : t("offline_hint");
  };
  update();
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  window.addEventListener("choso:lang", update);
  return pill;
}

// One icon element for every redraw of the top bar: a new one would fetch and decode the picture
// again each time (tens of milliseconds on a slow tablet). A small PNG, not the SVG: a picture in SVG
// is a document of its own to build (about 0.1 s of a slow tablet's main thread at every start).
let icon = null;
function brandIcon() {
  if (!icon) icon = h("img", { src: "/static/icons/icon-64.png", alt: "", width: 32, height: 32 });
  return icon;
}

/** The other language; English is loaded first (offline before it was kept: say so, stay). */
function switchLang() {
  // What was announced is in the old language: it goes, not read again in the new one.
  const live = document.getElementById("live");
  if (live) live.textContent = "";
  setLang(currentLang() === "vi" ? "en" : "vi").catch(() => toast(t("need_network"), "warn"));
}

/**
 * Draw the top bar. opts: {me, home, links: [{href, key}], extra: [nodes], onSignOut, menuItems: [nodes]}
 */
export function topbar(opts = {}) {
  const bar = document.getElementById("topbar");
  const me = opts.me;
  const brand = h("a", { class: "brand", href: opts.home || "/", "aria-label": t("app_name") },
    brandIcon(),
    h("span", {}, t("app_name")));
  const nav = opts.links && opts.links.length
    ? h("nav", { class: "topnav", "aria-label": t("menu") },
      opts.links.map((l) => h("a", { href: l.href, class: l.current ? "current" : "", "aria-current": l.current ? "page" : null }, t(l.key))))
    : null;
  const lang = h("button", {
    type: "button", class: ["btn btn-small btn-ghost lang", me ? "lang-bar" : ""], lang: currentLang() === "vi" ? "en" : "vi",
    "aria-label": t("lang_toggle_label"),
    onclick: switchLang,
  }, h("span", { class: "long" }, t("lang_toggle")), h("span", { class: "short", "aria-hidden": "true" }, currentLang() === "vi" ? "EN" : "VI"));
  let menu = null;
  const menuLang = h("button", {
    type: "button", class: "btn btn-block btn-ghost", lang: currentLang() === "vi" ? "en" : "vi",
    onclick: switchLang,
  }, t("lang_toggle"));
  // A redraw (a server answer arriving) keeps the account menu as the person left it: open stays open.
  const wasOpen = Boolean(bar.querySelector("details.menu[open]"));
  if (me) {
    const signOut = h("button", { type: "button", class: "btn btn-block", onclick: () => opts.onSignOut && opts.onSignOut() }, t("sign_out"));
    const password = h("button", { type: "button", class: "btn btn-block btn-ghost", id: "change-password", onclick: () => import("./password.js").then((m) => m.changePasswordDialog()) }, t("change_password"));
    menu = h("details", { class: "menu", open: wasOpen || null },
      h("summary", { class: "btn btn-small btn-ghost", "aria-label": t("menu") }, h("span", { class: "long" }, t("menu")), h("span", { class: "short", "aria-hidden": "true" }, "☰")),
      h("div", { class: "menu-body" },
        h("p", { class: "muted" }, t("signed_in_as", { user: me.username, role: personRole(me) })),
        ...(opts.menuItems || []),
        menuLang,
        password,
        signOut));
    // A choice made in the menu closes it: the next screen is not drawn under an open menu.
    menu.querySelector(".menu-body").addEventListener("click", (ev) => {
      if (ev.target.closest("a, button")) menu.open = false;
    });
  }
  mount(bar, h("div", { class: "topbar-inner" }, brand, nav, h("span", { class: "spacer" }), onlinePill(), ...(opts.extra || []), lang, menu));
  if (!bar.dataset.menuCloses) {
    // It closes as a menu does: a tap outside it, Esc (back to ☰), another screen.
    bar.dataset.menuCloses = "1";
    const close = (ev, focus) => {
      const open = bar.querySelector("details.menu[open]");
      if (!open || (ev && open.contains(ev.target))) return;
      open.open = false;
      if (focus) open.querySelector("summary").focus();
    };
    document.addEventListener("click", close);
    document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(null, true); });
    window.addEventListener("hashchange", () => close());
  }
  // On a narrow screen the links scroll sideways in one row: the current page's link is in view.
  const current = nav && nav.querySelector("a.current");
  if (current && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = current.offsetLeft - nav.offsetLeft - 8;
}

/** The sign-in form; resolves when signed in. */
export function signIn(main, { message } = {}) {
  return new Promise((resolve) => {
    const err = h("p", { class: "form-error", id: "signin-error", role: "alert" });
    if (message) err.textContent = message;
    const user = h("input", { id: "username", name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true, "aria-describedby": "signin-error" });
    const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const show = h("input", { id: "show-password", type: "checkbox", onchange: () => { pass.type = show.checked ? "text" : "password"; } });
    const button = h("button", { type: "submit", class: "btn btn-primary btn-block btn-big", id: "signin-button" }, t("signin_button"));
    const form = h("form", { class: "card signin", novalidate: true },
      h("h1", {}, t("signin_title")),
      h("p", { class: "muted" }, t("signin_intro")),
      h("div", { class: "field" }, h("label", { for: "username" }, t("username")), user),
      h("div", { class: "field" }, h("label", { for: "password" }, t("password")), pass),
      h("div", { class: "check" }, show, h("label", { for: "show-password" }, t("show_password"))),
      err, button);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      if (!user.value.trim() || !pass.value) { err.textContent = t("signin_required_fields"); (user.value.trim() ? pass : user).focus(); return; }
      button.disabled = true;
      button.textContent = t("signing_in");
      try {
        const me = await api.signIn(user.value.trim(), pass.value);
        announce(t("signed_in_as", { user: me.username, role: personRole(me) }));
        resolve(me);
      } catch (e) {
        if (e instanceof api.NetworkError) err.textContent = t("signin_offline");
        else if (e.code === "too_many_attempts") err.textContent = t("signin_locked", { min: Math.max(1, Math.ceil((e.problem.retry_after || 300) / 60)) });
        else if (e.code === "account_disabled") err.textContent = errorText("account_disabled");
        else err.textContent = t("signin_wrong");
        pass.value = "";
        pass.focus();
      } finally {
        button.disabled = false;
        button.textContent = t("signin_button");
      }
    });
    mount(main, form);
    user.focus();
  });
}

/** The signed-in user, or the sign-in form until there is one. Works offline with a cached user. */
export async function ensureUser(main, { message } = {}) {
  if (api.token()) {
    try {
      return await api.loadMe();
    } catch (e) {
      if (e instanceof api.NetworkError || api.retryable(e)) {
        const cached = api.cachedMe();
        if (cached) return cached;
      }
      if (e.status === 401) api.forget();
      else if (api.cachedMe()) return api.cachedMe();
    }
  }
  return signIn(main, { message });
}

// Whether this page was opened by an installed app: only then can a new worker be an update (on a
// first visit the first worker takes the page over, clients.claim, and read as a "new version").
const controlledAtLoad = "serviceWorker" in navigator && Boolean(navigator.serviceWorker.controller);

export function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((reg) => {
    reg.addEventListener("updatefound", () => {
      const next = reg.installing;
      if (!next) return;
      next.addEventListener("statechange", () => {
        if (next.state === "installed" && controlledAtLoad && navigator.serviceWorker.controller) {
          const btn = h("button", { type: "button", class: "btn btn-small", onclick: () => window.location.reload() }, t("reload"));
          toast(t("update_ready"), "info", 0, "update", btn);
        }
      });
    });
  }).catch(() => { /* not a secure context (plain http on a LAN): the app still works online */ });
}

export function init() {
  applyStatic();
  registerServiceWorker();
}

/** Roles that work with stallholders' data: register, edit, print, verify (the API's WRITE_ROLES). */
export const FIELD_ROLES = ["admin", "manager", "volunteer"];
export const canWork = (me) => !!me && FIELD_ROLES.includes(me.role);

/** What a role that only reads figures sees instead of a form it cannot use. */
export function notAllowed(main, me, back) {
  mount(main, h("div", { class: "card", id: "not-allowed" },
    h("h1", {}, t("not_allowed_title")),
    h("p", {}, t("not_allowed_text", { role: roleName(me && me.role) })),
    back ? h("a", { href: back, class: "btn" }, "← ", t("back")) : null));
}

/** A page that could not load: "Thử lại" when trying again can help (no network, a server
 * error), and always a way out (offline, a page never opened before stays out of reach: the
 * volunteer goes back to what the device has; a market not found will not appear on a retry). */
export function showError(main, err, retry, { home = "/dashboard", label = t("nav_dashboard") } = {}) {
  const reason = describeError(err);
  const again = retry && (!(err instanceof api.ApiError) || api.retryable(err));
  mount(main, h("div", { class: "card", id: "load-error" },
    // "Could not load" only where loading failed; a refusal (not found) says just what it is.
    h("p", { class: "form-error", role: "alert" }, again || !retry ? t("load_failed", { reason }) : reason),
    h("div", { class: "row-actions" },
      again ? h("button", { type: "button", class: "btn", onclick: retry }, t("retry")) : null,
      h("a", { href: home, class: "btn", id: "load-error-home" }, "← ", label))));
}

export { toast };
