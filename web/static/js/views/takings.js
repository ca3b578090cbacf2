// "Tiền sạp nhận, theo đối tác báo" on a stall's page (users_want #25, end-of-day totals): how many payments
// and how much money partners reported for the stall each day of the last week, today first
// (GET /api/stalls/{id}/takings, partners/takings.py). Only what a partner told us: cash, and
// payments no partner reported, are not in it, and a stall nobody reported for says so instead of
// showing zeros. The amounts are the stallholder's: read from the server when the volunteer asks
// (it logs the read), never kept on the device; without signal the card says it needs the network.

import { h } from "../lib/dom.js";
import { t, addStrings, num, time, date, describeError } from "../lib/i18n.js";
import * as api from "../lib/api.js";

addStrings({
  vi: {
    tk_title: "Tiền sạp nhận, theo đối tác báo",
    tk_intro: "Những khoản khách trả vào tài khoản của sạp (quét mã QR hay chuyển khoản) mà đối tác (ngân hàng, ví) đã báo cho Chợ Số; một khoản hai đối tác cùng báo chỉ tính một lần. Không gồm tiền mặt và những khoản chưa được báo.",
    tk_today: "Hôm nay, đến {time}",
    tk_payments: "{n} lần nhận",
    tk_money: "{amount} đ",
    tk_day: "Ngày",
    tk_count: "Số lần nhận",
    tk_total: "Tổng tiền",
    tk_today_short: "hôm nay",
    tk_from: "Báo về từ: {names}.",
    tk_since: "Khoản đầu tiên đối tác báo là ngày {day}; trước đó chưa có số liệu.",
    tk_none: "Chưa đối tác nào báo cho Chợ Số một khoản tiền vào sạp này. Tiền khách chuyển vẫn vào tài khoản của sạp: chủ sạp xem trong ứng dụng ngân hàng hoặc ví.",
    tk_offline: "Cần có mạng để xem tiền đối tác báo về (số tiền không lưu trên máy).",
    tk_retry: "Thử lại",
    tk_show: "Xem tiền nhận",
  },
  en: {
    tk_title: "Money received, as partners reported",
    tk_intro: "Payments into the stall's accounts (by QR or transfer) that a partner (bank, wallet) told Chợ Số about; one payment reported by two partners counts once. Cash, and payments nobody reported, are not included.",
    tk_today: "Today, up to {time}",
    tk_payments: "payments: {n}",
    tk_money: "{amount} VND",
    tk_day: "Day",
    tk_count: "Payments",
    tk_total: "Total",
    tk_today_short: "today",
    tk_from: "Reported by: {names}.",
    tk_since: "The first payment a partner reported was on {day}; there are no figures before that.",
    tk_none: "No partner has reported a payment into this stall to Chợ Số yet. Customers' transfers still reach the stall's account: the stallholder sees them in the bank or wallet app.",
    tk_offline: "The network is needed to see what partners reported (the amounts are not kept on this device).",
    tk_retry: "Try again",
    tk_show: "Show the money received",
  },
});

const DAYS = 7;

/** The card; `partnerName(code)` names a partner as the page knows it. */
/** `open`: read at once (the page drawn again while the volunteer had the takings open). */
export function takingsCard(stall, partnerName, { open = false } = {}) {
  // Read when asked, not with every opening of the page: the amounts are the holder's, and each
  // read is in their access log (minimisation; also one request less per stall on 3G).
  const show = h("button", { type: "button", class: "btn", id: "takings-show", onclick: () => {
    body.replaceChildren(h("p", { class: "muted" }, t("loading")));
    load();
  } }, t("tk_show"));
  const body = h("div", { id: "takings-body" }, show);
  const card = h("section", { class: "card", id: "takings-card", "aria-labelledby": "takings-h" },
    h("h2", { id: "takings-h" }, t("tk_title")),
    h("p", { class: "muted small" }, t("tk_intro")),
    body);

  let waiting = false;  // a read is set to go when the network is back
  function load() {
    api.getJSON(`/api/stalls/${stall.id}/takings?days=${DAYS}`).then((value) => {
      if (!value || value.holder_erased) { card.remove(); return; }
      draw(value);
    }, (err) => {
      const offline = !navigator.onLine || !err || err.name !== "ApiError";
      // Read again as soon as the network is back, while the page is open (once, however many
      // tries failed meanwhile: each read is a line in the holder's access log).
      if (offline && !waiting) {
        waiting = true;
        window.addEventListener("online", () => { waiting = false; if (card.isConnected) load(); }, { once: true });
      }
      body.replaceChildren(h("p", { class: "note note-warn", id: "takings-unknown" },
        offline ? t("tk_offline") : describeError(err), " ",
        h("button", { type: "button", class: "btn btn-small", onclick: () => { body.replaceChildren(h("p", { class: "muted" }, t("loading"))); load(); } }, t("tk_retry"))));
    });
  }
  if (open) {
    body.replaceChildren(h("p", { class: "muted" }, t("loading")));
    load();
  }
  return card;

  function draw(value) {
    if (!value.days.length) {
      body.replaceChildren(h("p", { id: "takings-none" }, t("tk_none")));
      return;
    }
    const days = [...value.days].reverse();  // today first
    const today = days[0];
    const money = (amount) => t("tk_money", { amount: num(amount) });
    body.replaceChildren(...[
      h("p", { class: "takings-today", id: "takings-today" },
        h("span", { class: "muted" }, t("tk_today", { time: time(value.as_of) })), h("br"),
        h("strong", { class: "takings-amount" }, money(today.amount)), " · ", t("tk_payments", { n: num(today.payments) })),
      h("table", { class: "takings-days", id: "takings-days" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("tk_day")), h("th", { scope: "col", class: "num" }, t("tk_count")), h("th", { scope: "col", class: "num" }, t("tk_total")))),
        h("tbody", {}, days.map((d) => h("tr", { dataset: { day: d.day } },
          h("td", {}, d.day === value.today ? `${date(d.day)} (${t("tk_today_short")})` : date(d.day)),
          h("td", { class: "num" }, num(d.payments)),
          h("td", { class: "num" }, money(d.amount)))))),
      value.partners.length
        ? h("p", { class: "muted small" }, t("tk_from", { names: value.partners.map(partnerName).join(", ") }))
        : null,
      days.length < DAYS && value.reported_since
        ? h("p", { class: "muted small", id: "takings-since" }, t("tk_since", { day: date(value.reported_since) }))
        : null,
    ].filter(Boolean));
  }
}
