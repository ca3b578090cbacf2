// Partners' service points (users_want #22): where a stallholder can put in or take out cash, find
// a transaction counter, or get help with an account. The card lists a market's (or a partner's)
// points and, for those who may, adds and removes them (POST/DELETE /api/service-points); the map
// draws the ones with a place (lib/map.js, `points`). Its words live here, added to lib/i18n.js's
// tables on first import, so the volunteer app does not carry them.

import { h, toast, announce } from "./dom.js";
import { t, addStrings, describeError, errorText } from "./i18n.js";
import * as api from "./api.js";
import { field, clearError, clearErrors, setError, showProblem, focusFirstError } from "./forms.js";
import { confirmDialog } from "./dialog.js";
import { settings } from "./shell.js";
import { pointPicker } from "./map.js";

export const KINDS = ["cash", "counter", "help"];
// "i" (information) for help: a "?" read as "unknown" on the map.
const GLYPH = { cash: "₫", counter: "▣", help: "i" };

addStrings({
  vi: {
    sp_title: "Điểm hỗ trợ của đối tác",
    sp_intro: "Nơi chủ sạp nạp, rút tiền mặt, gặp quầy giao dịch hoặc được hướng dẫn khi tài khoản gặp trục trặc.",
    sp_partner_intro: "Các điểm hỗ trợ của đối tác, ở mọi chợ. Đối tác thêm được điểm ở những chợ đã mở tài khoản cho sạp; điểm có vị trí hiện trên bản đồ chợ.",
    sp_partner_intro_admin: "Các điểm hỗ trợ của đối tác, ở mọi chợ. Ở đây thêm được điểm tại những chợ đối tác đã mở tài khoản cho sạp; ở chợ khác, thêm từ trang của chợ.",
    sp_none: "Chưa có điểm hỗ trợ nào.",
    sp_kind_cash: "Nạp, rút tiền mặt",
    sp_kind_counter: "Quầy giao dịch",
    sp_kind_help: "Hướng dẫn, hỗ trợ tài khoản",
    sp_kind: "Loại điểm",
    sp_name: "Tên điểm",
    sp_name_hint: "Ví dụ: Quầy Viettel Money cổng số 2",
    sp_address: "Địa chỉ",
    sp_hours: "Giờ mở cửa",
    sp_hours_hint: "Ví dụ: 7:00 – 17:00, cả tuần",
    sp_partner: "Đối tác",
    sp_market: "Chợ",
    sp_place: "Vị trí trên bản đồ",
    sp_place_hint: "Chạm vào bản đồ nơi đặt điểm. Bỏ trống nếu chưa biết: điểm vẫn có trong danh sách, chỉ không hiện trên bản đồ.",
    sp_place_set: "Đã đặt vị trí điểm.",
    sp_place_clear: "Bỏ vị trí",
    sp_no_place: "chưa có vị trí trên bản đồ",
    sp_add: "Thêm điểm hỗ trợ",
    sp_save: "Lưu điểm",
    sp_cancel: "Hủy",
    sp_saved: "Đã thêm điểm hỗ trợ.",
    sp_remove: "Gỡ điểm",
    sp_remove_title: "Gỡ điểm hỗ trợ này?",
    sp_remove_line: "Điểm \"{name}\" sẽ không còn trên bản đồ và trong danh sách. Nhật ký vẫn giữ lại.",
    sp_removed: "Đã gỡ điểm hỗ trợ.",
    sp_call: "Gọi hỗ trợ {phone}",
    sp_hours_line: "Mở cửa: {hours}",
    sp_more: "Còn điểm khác chưa hiện; hãy xem từng phường hoặc từng chợ.",
    sp_legend: "Điểm hỗ trợ của đối tác ({n}), hiện khi phóng to",
    sp_no_markets: "Đối tác chưa mở tài khoản ở chợ nào nên chưa thêm được điểm.",
    sp_pick: "Chọn…",
  },
  en: {
    sp_title: "Partners' service points",
    sp_intro: "Where stallholders put in or take out cash, find a transaction counter, or get help when an account misbehaves.",
    sp_partner_intro: "The partner's service points, at every market. The partner adds points at markets where it opened accounts for stalls; points with a place show on the market map.",
    sp_partner_intro_admin: "The partner's service points, at every market. Here points are added at markets where the partner opened accounts; at other markets, add them from the market's page.",
    sp_none: "No service point yet.",
    sp_kind_cash: "Cash in and out",
    sp_kind_counter: "Transaction counter",
    sp_kind_help: "Help with accounts",
    sp_kind: "Kind of point",
    sp_name: "Name",
    sp_name_hint: "For example: Viettel Money counter at gate 2",
    sp_address: "Address",
    sp_hours: "Opening hours",
    sp_hours_hint: "For example: 7:00 – 17:00, every day",
    sp_partner: "Partner",
    sp_market: "Market",
    sp_place: "Place on the map",
    sp_place_hint: "Tap the map where the point is. Leave it empty if unknown: the point is still listed, only not drawn on the map.",
    sp_place_set: "Place of the point set.",
    sp_place_clear: "Clear the place",
    sp_no_place: "no place on the map yet",
    sp_add: "Add a service point",
    sp_save: "Save the point",
    sp_cancel: "Cancel",
    sp_saved: "Service point added.",
    sp_remove: "Remove",
    sp_remove_title: "Remove this service point?",
    sp_remove_line: "\"{name}\" will no longer be on the map or in the lists. The audit log keeps it.",
    sp_removed: "Service point removed.",
    sp_call: "Call support {phone}",
    sp_hours_line: "Open: {hours}",
    sp_more: "More points are not shown; look at one ward or one market.",
    sp_legend: "Partners' service points ({n}), shown when zoomed in",
    sp_no_markets: "The partner has opened no account at any market yet, so no point can be added.",
    sp_pick: "Choose…",
  },
  errorsVi: {
    // On the pages that load this module the only name typed is a point's (not a person's).
    invalid_name: "Tên điểm không hợp lệ: tối đa 120 ký tự, không dùng ký hiệu như < > = | ~ hay biểu tượng cảm xúc.",
    invalid_hours: "Giờ mở cửa tối đa 80 ký tự, không dùng ký hiệu như < > = | ~ hay biểu tượng cảm xúc.",
    service_point_not_found: "Điểm hỗ trợ này không còn.",
  },
  errorsEn: {
    invalid_name: "Not a valid point name: up to 120 characters, no symbols such as < > = | ~ and no emoji.",
    invalid_hours: "Opening hours: up to 80 characters, no symbols such as < > = | ~ and no emoji.",
    service_point_not_found: "This service point is no longer there.",
  },
});

export const kindLabel = (kind) => t(`sp_kind_${kind}`);

/** The glyph of a kind, for the map's pins and the list's badges. */
export const glyph = (kind) => GLYPH[kind] || "•";

/** What a point says, in a list item or a map popup. */
export function pointDetails(p, { showMarket = false, showPartner = true } = {}) {
  return [
    h("p", { class: "sp-name" }, h("span", { class: `sp-badge sp-${p.kind}`, "aria-hidden": "true" }, glyph(p.kind)), " ", h("strong", {}, p.name)),
    h("p", { class: "sub" }, [kindLabel(p.kind), showPartner ? p.partner_name : null, showMarket ? p.market_name : null].filter(Boolean).join(" · ")),
    p.address ? h("p", { class: "sub" }, p.address) : null,
    p.opening_hours ? h("p", { class: "sub" }, t("sp_hours_line", { hours: p.opening_hours })) : null,
    p.support_phone ? h("p", { class: "sub" }, h("a", { href: `tel:${p.support_phone.replace(/[^0-9+]/g, "")}` }, t("sp_call", { phone: p.support_phone }))) : null,
    p.lat == null ? h("p", { class: "sub muted" }, t("sp_no_place")) : null,
  ];
}

function select(id, options, value = "") {
  const el = h("select", { id }, h("option", { value: "" }, t("sp_pick")),
    options.map(([v, label]) => h("option", { value: String(v) }, label)));
  el.value = value == null ? "" : String(value);
  return el;
}

/**
 * pointsCard({points, more, canEdit, showMarket, showPartner, intro, markets, partners, fixed,
 * centre, onChange}) -> element. `markets` ([{id, name}]) and `partners` ([{code, name}]) fill the
 * form's choices unless `fixed` names them ({market_id} or {partner_code}); `centre` ([lat, lon])
 * is where the place picker opens (the market's point): the point itself is never put there.
 */
export function pointsCard({ points, more = false, canEdit = false, showMarket = false, showPartner = true, intro = t("sp_intro"),
  markets = [], partners = [], fixed = {}, centre = null, marketInfo = null, onChange = () => {} }) {
  const list = points.length
    ? h("ul", { class: "plain sp-list", id: "sp-list" }, points.map((p) => h("li", { class: "sp-item", dataset: { point: p.id, kind: p.kind } },
      h("div", {}, pointDetails(p, { showMarket, showPartner })),
      canEdit ? h("button", { type: "button", class: "btn btn-small", dataset: { remove: p.id }, onclick: () => remove(p) }, t("sp_remove")) : null)))
    : h("p", { class: "muted", id: "sp-none" }, t("sp_none"));
  const formBox = h("div", { id: "sp-form-box" });
  const needMarket = fixed.market_id == null;
  const openBtn = canEdit && !(needMarket && !markets.length)
    ? h("button", { type: "button", class: "btn", id: "sp-open", onclick: () => openForm() }, t("sp_add")) : null;

  async function remove(p) {
    const ok = await confirmDialog({ id: "sp-remove", title: t("sp_remove_title"), lines: [t("sp_remove_line", { name: p.name })], ok: t("sp_remove"), cancel: t("sp_cancel") });
    if (!ok) return;
    try {
      const res = await api.request(`/api/service-points/${p.id}`, { method: "DELETE" });
      if (!res.ok && res.status !== 404) throw await api.toError(res);
      toast(t("sp_removed"), "ok");
      onChange();
    } catch (err) {
      toast(describeError(err), "error");
    }
  }

  function openForm() {
    if (openBtn) openBtn.hidden = true;
    let place = null;
    const kind = select("sp-kind", KINDS.map((k) => [k, kindLabel(k)]));
    const name = h("input", { id: "sp-name", type: "text", autocomplete: "off" });
    const address = h("input", { id: "sp-address", type: "text", autocomplete: "off" });
    const hours = h("input", { id: "sp-hours", type: "text", autocomplete: "off" });
    const partner = fixed.partner_code == null ? select("sp-partner", partners.map((p) => [p.code, p.name])) : null;
    const market = needMarket ? select("sp-market", markets.map((m) => [m.id, m.name]), markets.length === 1 ? markets[0].id : "") : null;
    if (market) {
      market.addEventListener("change", () => {
        const m = markets.find((x) => String(x.id) === market.value);
        if (m) picker.aim(m.lat, m.lon, landmarks(m.id));
      });
    }
    const placeLine = h("p", { class: "sub", id: "sp-place-line" }, t("sp_no_place"));
    const clearPlace = h("button", { type: "button", class: "btn btn-small", id: "sp-place-clear", hidden: true }, t("sp_place_clear"));
    // What to aim by: the market (its name at its point) and the points already there.
    const landmarks = (marketId) => {
      const m = fixed.market_id != null ? marketInfo : markets.find((x) => String(x.id) === String(marketId));
      return [
        ...(m && Number.isFinite(m.lat) ? [{ lat: m.lat, lon: m.lon, text: m.name, label: m.name, className: "pick-market" }] : []),
        ...points.filter((p) => p.lat != null && String(p.market_id) === String(marketId ?? fixed.market_id))
          .map((p) => ({ lat: p.lat, lon: p.lon, text: glyph(p.kind), label: p.name, className: `pick-point sp-${p.kind}` })),
      ];
    };
    const picker = pointPicker({
      centre, marks: landmarks(fixed.market_id), tileUrl: settings.tileUrl, label: t("sp_place"), pinLabel: t("sp_place"),
      onPick: (lat, lon) => {
        place = { lat, lon };
        const lang = document.documentElement.lang || "vi";
        placeLine.textContent = [lat, lon].map((x) => x.toLocaleString(lang, { maximumFractionDigits: 6 })).join("; ");
        clearPlace.hidden = false;
        announce(t("sp_place_set"));
      },
    });
    if (market && market.value) {
      const m = markets.find((x) => String(x.id) === market.value);
      if (m) picker.aim(m.lat, m.lon, landmarks(m.id));
    }
    clearPlace.addEventListener("click", () => { place = null; picker.clear(); placeLine.textContent = t("sp_no_place"); clearPlace.hidden = true; });
    const formError = h("p", { class: "form-error", id: "sp-form-error", role: "alert" });
    const save = h("button", { type: "submit", class: "btn btn-primary", id: "sp-save" }, t("sp_save"));
    const cancel = h("button", { type: "button", class: "btn", id: "sp-cancel" }, t("sp_cancel"));
    const form = h("form", { class: "sp-form", id: "sp-form", novalidate: true },
      partner ? field({ id: "sp-partner", label: t("sp_partner"), control: partner, required: true }) : null,
      market ? field({ id: "sp-market", label: t("sp_market"), control: market, required: true }) : null,
      field({ id: "sp-kind", label: t("sp_kind"), control: kind, required: true }),
      field({ id: "sp-name", label: t("sp_name"), hint: t("sp_name_hint"), control: name, required: true }),
      field({ id: "sp-address", label: t("sp_address"), control: address, optional: true }),
      field({ id: "sp-hours", label: t("sp_hours"), hint: t("sp_hours_hint"), control: hours, optional: true }),
      h("div", { class: "field", id: "sp-place-field" },
        h("p", { class: "label" }, t("sp_place"), " ", h("span", { class: "tag" }, t("optional"))),
        h("p", { class: "hint" }, t("sp_place_hint")), picker.el, h("div", { class: "row-actions" }, placeLine, clearPlace)),
      formError,
      h("div", { class: "row-actions" }, cancel, save));
    // A field's error goes once the field is changed.
    for (const [id, el] of [["sp-partner", partner], ["sp-market", market], ["sp-kind", kind], ["sp-name", name], ["sp-address", address], ["sp-hours", hours]]) {
      if (el) for (const type of ["input", "change"]) el.addEventListener(type, () => clearError(id));
    }
    cancel.addEventListener("click", () => { formBox.replaceChildren(); if (openBtn) { openBtn.hidden = false; openBtn.focus(); } });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      formError.textContent = "";
      let missing = false;
      for (const [id, el] of [["sp-partner", partner], ["sp-market", market], ["sp-kind", kind], ["sp-name", name]]) {
        if (el && !el.value.trim()) { setError(id, errorText("required"), null, { local: true, code: "required" }); missing = true; }
      }
      if (missing) { focusFirstError(form); return; }
      const body = {
        partner_code: fixed.partner_code ?? partner.value,
        market_id: Number(fixed.market_id ?? market.value),
        kind: kind.value,
        name: name.value,
        address: address.value.trim() ? address.value : null,
        opening_hours: hours.value.trim() ? hours.value : null,
        location: place,
      };
      save.disabled = true;
      try {
        await api.sendJSON("POST", "/api/service-points", body);
        toast(t("sp_saved"), "ok");
        onChange();
      } catch (err) {
        // Only the fields this form shows (the partner or the market may be fixed); anything the
        // form cannot place is said above the buttons, in words chosen by its code.
        const fields = { kind: "sp-kind", name: "sp-name", address: "sp-address", opening_hours: "sp-hours" };
        if (partner) fields.partner_code = "sp-partner";
        if (market) fields.market_id = "sp-market";
        if (err.problem && (err.problem.errors || err.problem.field)) showProblem(formError, err.problem, fields);
        if (!formError.textContent && !form.querySelector("[aria-invalid='true']")) formError.textContent = describeError(err);
        focusFirstError(form);
      } finally {
        save.disabled = false;
      }
    });
    formBox.replaceChildren(form);
    (partner || market || kind).focus();
  }

  return h("section", { class: "card", id: "service-points", "aria-labelledby": "sp-h" },
    h("h2", { id: "sp-h" }, t("sp_title")),
    h("p", { class: "muted small" }, intro),
    list,
    more ? h("p", { class: "note note-warn" }, t("sp_more")) : null,
    canEdit && needMarket && !markets.length ? h("p", { class: "muted small", id: "sp-no-markets" }, t("sp_no_markets")) : null,
    openBtn ? h("div", { class: "row-actions" }, openBtn) : null,
    formBox);
}

/**
 * pointsBox(path, options) -> element: pointsCard of the page GET `path` answers, drawn again after
 * every change; `options.prepare()` may resolve to more options (fetched once per drawing).
 */
export function pointsBox(path, { prepare = null, ...options } = {}) {
  const box = h("div", { class: "points-box" });
  async function load() {
    try {
      const [page, prepared] = await Promise.all([api.getJSON(path), prepare ? prepare() : {}]);
      box.replaceChildren(pointsCard({ ...options, ...prepared, points: page.points, more: page.more, onChange: load }));
    } catch (err) {
      box.replaceChildren(api.routeMissing(err) ? "" : h("p", { class: "note note-warn", id: "sp-error" }, describeError(err)));
    }
  }
  load();
  return box;
}
