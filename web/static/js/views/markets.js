// Pick one of my markets.

import { h, mount } from "../lib/dom.js";
import { t, num, time } from "../lib/i18n.js";

export function wardLine(m) {
  const parts = [];
  if (m.ward_name) parts.push(m.ward_name);
  if (m.legacy_ward_name || m.legacy_district_name) {
    const old = [m.legacy_ward_name, m.legacy_district_name].filter(Boolean).join(", ");
    parts.push(`(${t("ward_before", { old })})`);
  }
  return parts.join(" ");
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
