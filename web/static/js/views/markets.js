// Pick one of my markets.

import { h, mount } from "../lib/dom.js";
import { t, num, time, addStrings, wardLine } from "../lib/i18n.js";

addStrings({
  vi: {
    overview_title: "Số liệu và điều hành",
    overview_text: "Theo dõi độ phủ thanh toán không dùng tiền mặt của các chợ, hoặc chọn một chợ bên dưới để xem từng sạp.",
    overview_console: "Quản trị chợ và người dùng",
    overview_console_markets: "Quản trị chợ",
  },
  en: {
    overview_title: "Figures and running the programme",
    overview_text: "Follow the cashless coverage of your markets, or pick a market below to see its stalls.",
    overview_console: "Markets and people",
    overview_console_markets: "Markets",
  },
});

/** Where a manager, an administrator or a viewer does most of their day: the figures, the map and
 * (who runs markets) the console. A volunteer's day is the markets below. */
function overviewCard(me) {
  if (!me || !["manager", "admin", "viewer"].includes(me.role)) return null;
  return h("div", { class: "card", id: "overview-card" },
    h("h2", {}, t("overview_title")),
    h("p", { class: "muted" }, t("overview_text")),
    h("div", { class: "row-actions" },
      h("a", { class: "btn btn-primary", href: "/dashboard", id: "overview-dashboard" }, t("nav_dashboard")),
      h("a", { class: "btn", href: "/map", id: "overview-map" }, t("nav_map")),
      // A manager's console has the markets only (people and the rule are the administrator's).
      me.role !== "viewer" ? h("a", { class: "btn", href: "/console", id: "overview-console" }, t(me.role === "admin" ? "overview_console" : "overview_console_markets")) : null));
}

export async function marketsView(ctx) {
  // A partner's staff have nothing to do in the field app: their page is /partner.
  if (ctx.me && ctx.me.role === "partner") {
    window.location.replace("/partner");
    return;
  }
  const got = await ctx.loadMarkets();
  const list = [...ctx.markets].sort((a, b) => a.name.localeCompare(b.name, "vi"));
  const current = ctx.currentMarketId();
  mount(ctx.main,
    h("h1", {}, t("markets_title")),
    overviewCard(ctx.me),
    got.stale ? h("p", { class: "note note-warn" }, t("stale_data", { time: time(got.at) })) : null,
    // Who is not doing field work sees markets, not assignments; a partner account has none here.
    list.length ? h("p", { class: "muted" }, t(ctx.canWork() ? "markets_intro" : "markets_intro_view"))
      : ctx.me && ctx.me.role === "partner"
        ? h("div", { class: "card", id: "partner-note" }, h("p", {}, t("partner_pages_text", { code: ctx.me.partner_code || "" })),
          h("p", {}, h("a", { class: "btn btn-primary", href: "/partner", id: "partner-open" }, t("partner_open"))))
        : h("p", { class: "card" }, t("markets_none")),
    h("ul", { class: "cards market-cards" }, list.map((m) => h("li", {},
      h("a", {
        href: `#/m/${m.id}`, class: ["card", "card-link", m.id === current ? "card-current" : ""],
        onclick: () => ctx.setMarket(m.id),
      },
      h("span", { class: "card-title" }, m.name),
      h("span", { class: "muted" }, wardLine(m)),
      h("span", { class: "card-meta" }, t("stall_count", { n: num(m.stall_count) })))))));
}
