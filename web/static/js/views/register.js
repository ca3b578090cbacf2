// Register a stall on one screen. Everything typed is kept as a draft on the device; Save puts the
// registration in the outbox with its Idempotency-Key and sends it when the network allows.

import { h, mount, toast, debounce, announce } from "../lib/dom.js";
import { t, addStrings, noticeText, noticeVersion, errorText, zoneLabel } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import * as outbox from "../lib/outbox.js";
import {
  accountName, accountNumber, looksLikePhone, codeKey, compact, phoneKey, codeOk, charCount, codeForZone, dropDoubledPrefix, STALL_CODE_MAX, ZONE_MAX,
} from "../lib/text.js";
import { bankPicker } from "../lib/bankpicker.js";
import { tiles as readTiles } from "../lib/coverage.js";
import { field, setError, clearErrors, refreshErrors, showProblem, focusFirstError, limitLength } from "../lib/forms.js";
import { settings } from "../lib/shell.js";
import { scanFill, needsMomoReference, MOMO_BIN } from "../lib/scanfill.js";
import { partnerOptions, recentPartners, rememberPartner } from "./partnerpick.js";

export const FIELD_MAP = {
  stall_code: "f-stall_code",
  zone: "f-zone",
  goods: "f-goods",
  licence_no: "f-licence",
  "holder.full_name": "f-name",
  "holder.phone": "f-phone",
  "holder.cccd": "f-name",
  "payment_accounts.*.bin": "f-bank",
  "payment_accounts.*.account_number": "f-acct",
  "payment_accounts.*.account_name": "f-acctname",
  "payment_accounts.*.partner_code": "f-partner",
  "payment_accounts.*.reference": "f-ref",
  payment_accounts: "f-bank",
  "consent.purposes": "f-consent",
  "consent.notice_version": "f-consent",
  consent: "f-consent",
  location: "f-gps",
};
export const CODE_MAP = { momo_reference_required: "f-ref", account_exists: "f-acct", account_in_use: "f-acct" };

const GOODS = ["Rau củ", "Trái cây", "Thịt heo", "Thịt bò", "Gà vịt", "Cá tươi", "Hải sản", "Hải sản khô", "Đồ khô",
  "Gia vị", "Bánh kẹo", "Tạp hóa", "Quần áo", "Vải vóc", "Giày dép", "Hoa tươi", "Bún, bánh canh", "Cơm, quán ăn",
  "Cà phê, nước", "Đồ gia dụng"];
const ACCOUNT_RE = /^[A-Za-z0-9]{1,19}$/;  // as qr/types.py takes it (no symbol is a real one)
const ACCOUNT_NAME_MAX = 50;
const ACCOUNT_NAME_RE = /^[A-Z0-9 .,'-]{1,50}$/;

/** The account name filled in from the holder's name: as banks write it, and at most 50
 * characters, cut at a word (a 94-character name filled in a value the form then refused). */
export function nameFromHolder(full) {
  const n = accountName(full).trim();
  if (n.length <= ACCOUNT_NAME_MAX) return n;
  const cut = n.slice(0, ACCOUNT_NAME_MAX + 1);
  const space = cut.lastIndexOf(" ");
  return (space > 0 ? cut.slice(0, space) : n.slice(0, ACCOUNT_NAME_MAX)).trim();
}
const REFERENCE_RE = /^[A-Za-z0-9]{1,25}$/;
// Field limits are the API's (merchants/schemas.py, core/types.py, qr/types.py): a longer value is
// refused at its field with the rule (forms.limitLength), never cut by a maxlength.

// A stall's business licence number, for a market whose programme asks for it (users_want #6).
addStrings({
  vi: {
    licence: "Số giấy phép kinh doanh",
    licence_hint: "Chợ này ghi số giấy phép theo yêu cầu của chương trình. Ghi đúng như trên giấy chứng nhận đăng ký hộ kinh doanh, ví dụ 32A8012345; không chụp giấy.",
    hf_licence_no: "Số giấy phép kinh doanh",
    shared_account_confirm: "Vẫn lưu: hai sạp cùng nhận tiền vào tài khoản này",
    phone_in_queue: "Hồ sơ sạp {code} đang chờ gửi trên máy này có cùng số điện thoại.",
    phone_in_queue_save: "Chưa lưu: hồ sơ sạp {code} đang chờ gửi có cùng số điện thoại. Nếu đúng là cùng một người, bấm “Vẫn lưu” ở trên; nếu không, sửa lại số.",
    shared_account_see: "Xem sạp đang dùng tài khoản này",
    code_like_list: "Chợ này đã có sạp {other}, giống mã {code}. Nếu là cùng một sạp, đừng đăng ký lần nữa.",
    code_like_queue: "Trên máy đang có hồ sơ sạp {other} chờ gửi, giống mã {code}. Nếu là cùng một sạp, đừng đăng ký lần nữa.",
    code_like_save: "Chưa lưu: mã {code} giống sạp {other}. Nếu là cùng một sạp, đừng đăng ký lần nữa; nếu là sạp khác, bấm “Vẫn lưu”.",
    code_like_confirm: "Vẫn lưu: đây là sạp khác",
    gps_far: "Vị trí vừa lấy cách chợ khoảng {km} km: có thể máy chưa bắt được GPS. Đứng ở sạp rồi lấy lại, hoặc bấm “Bỏ vị trí”.",
  },
  en: {
    licence: "Business licence number",
    licence_hint: "This market records licence numbers because its programme asks for them. Write it as on the household business certificate, e.g. 32A8012345; no photo.",
    hf_licence_no: "Business licence number",
    shared_account_confirm: "Save anyway: both stalls are paid into this account",
    phone_in_queue: "The record for stall {code} waiting on this device has the same phone number.",
    phone_in_queue_save: "Not saved: the record for stall {code} waiting on this device has the same phone number. If it is the same person, tap “Save anyway” above; if not, fix the number.",
    shared_account_see: "See the stall paid into this account",
    code_like_list: "This market already has stall {other}, like code {code}. If it is the same stall, do not register it again.",
    code_like_queue: "A record for stall {other} is waiting on this device, like code {code}. If it is the same stall, do not register it again.",
    code_like_save: "Not saved: code {code} is like stall {other}. If it is the same stall, do not register it again; if it is another stall, tap “Save anyway”.",
    code_like_confirm: "Save anyway: this is another stall",
    gps_far: "This point is about {km} km from the market: the phone may not have had a fix yet. Stand at the stall and take it again, or tap “Remove location”.",
  },
  errorsVi: {
    hidden_chars: "Ô này có ký tự ẩn không dùng được (thường do dán từ nơi khác). Hãy xóa cả ô rồi gõ lại.",
    invalid_licence: "Số giấy phép chỉ gồm chữ cái, chữ số và . / - (tối đa 30 ký tự), ví dụ 32A8012345.",
    licence_not_asked: "Chợ này không ghi số giấy phép kinh doanh. Quản lý chợ có thể bật việc ghi trong phần sửa chợ.",
  },
  errorsEn: {
    hidden_chars: "This box holds a hidden character that cannot be used (often pasted from elsewhere). Clear it and type it again.",
    invalid_licence: "A licence number has only letters, digits and . / - (at most 30), e.g. 32A8012345.",
    licence_not_asked: "This market does not record business licence numbers. Its manager can turn that on when editing the market.",
  },
});

const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u;
// A stall's point further than this from its market's is said to the volunteer (km).
const FAR_KM = 2;
/** Great-circle distance in km between two {lat, lon}. */
function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(x)));
}
const GOODS_SYMBOL = /(?![+&%/])(?!\p{Sc})\p{S}/u;  // a currency sign is fine (core.types.free_text)
/** What the server would refuse in a stall's goods (the register and the edit form). */
export function goodsProblem(text) {
  const goods = String(text || "");
  if (HIDDEN.test(goods)) return "hidden_chars";
  return charCount(goods.trim()) > 100 || GOODS_SYMBOL.test(goods) ? "invalid_goods" : null;
}
/** ... and in a holder's name (letters, spaces and . ' - only). */
export function nameProblem(text) {
  const name = String(text || "").trim();
  if (HIDDEN.test(name)) return "hidden_chars";
  return /[^\p{L}\p{M} .'-]/u.test(name) || charCount(name) > 100 ? "invalid_name" : null;
}
export const LICENCE = /^[0-9A-Z][0-9A-Z./-]{0,29}$/;
/** A licence number as the server keeps it: spaces dropped, letters upper-cased. */
export const licenceOf = (text) => String(text || "").replace(/\s+/g, "").toUpperCase();

function blankState() {
  return {
    zone: "", zone_prefilled: "", stall_code: "", goods: "", full_name: "", phone: "", bin: "", account_number: "", reference: "", service: "account",
    account_name: "", account_name_dirty: false, partner_code: "", partner_touched: false,
    location: null, purposes: [], confirm_duplicate: false, record_id: null, notice_version: null,
    licence_no: "",
  };
}

function stateFromBody(body) {
  const st = blankState();
  const acc = (body.payment_accounts || [])[0] || {};
  Object.assign(st, {
    zone: body.zone || "", stall_code: body.stall_code || "", goods: body.goods || "",
    full_name: (body.holder && body.holder.full_name) || "", phone: (body.holder && body.holder.phone) || "",
    bin: acc.bin || "", account_number: acc.account_number || "", account_name: acc.account_name || "",
    reference: acc.reference || "", service: acc.service || "account",
    account_name_dirty: !!acc.account_name && acc.account_name !== nameFromHolder(body.holder && body.holder.full_name),
    partner_code: acc.partner_code || "", partner_touched: true, location: body.location || null,
    purposes: (body.consent && body.consent.purposes) || [], confirm_duplicate: !!body.confirm_duplicate,
    // Sent without the shared-account check: the volunteer confirmed it (a queued record kept that).
    shared_account_ok: body.payment_accounts && body.payment_accounts.length > 0 && !body.check_shared_account,
    // A queued registration being fixed keeps the notice its consent was given under.
    notice_version: (body.consent && body.consent.notice_version) || null,
    licence_no: body.licence_no || "",
  });
  return st;
}

export function buildBody(st) {
  const body = {
    stall_code: st.stall_code.trim(),
    holder: { full_name: st.full_name.trim() },
    payment_accounts: [],
    consent: { notice_version: st.notice_version || noticeVersion(), purposes: [...st.purposes] },
  };
  if (st.zone) body.zone = st.zone;
  if (st.goods.trim()) body.goods = st.goods.trim();
  if (licenceOf(st.licence_no)) body.licence_no = licenceOf(st.licence_no);
  if (st.phone.trim()) body.holder.phone = st.phone.trim();
  if (st.bin && st.account_number.trim()) {
    const acc = { bin: st.bin, account_number: accountNumber(st.account_number) };
    if (st.account_name.trim()) acc.account_name = st.account_name.trim();
    if (st.partner_code) acc.partner_code = st.partner_code;
    if (st.reference.trim()) acc.reference = st.reference.trim();
    if (st.service === "card") acc.service = "card";
    body.payment_accounts.push(acc);
  }
  if (st.location) body.location = st.location;
  if (st.confirm_duplicate) body.confirm_duplicate = true;
  // The server refuses an account another active stall of the market is paid on (account_in_use)
  // until the volunteer confirms both stalls are paid on it.
  if (body.payment_accounts.length && !st.shared_account_ok) body.check_shared_account = true;
  return body;
}

/** Checks that can be made on the device, with the same codes the API uses. */
export function validate(st) {
  const out = [];
  if (!st.stall_code.trim()) out.push(["f-stall_code", "missing"]);
  else if (!codeOk(st.stall_code, STALL_CODE_MAX)) out.push(["f-stall_code", "invalid_stall_code"]);
  if (st.zone && !codeOk(st.zone, ZONE_MAX)) out.push(["f-zone", "invalid_zone"]);
  // As the server reads free text (core.types.free_text): no control or other hidden character,
  // no symbol but + & % /. A NUL pasted in was refused only by the server, unseen on the screen.
  const goods = goodsProblem(st.goods);
  if (goods) out.push(["f-goods", goods]);
  if (licenceOf(st.licence_no) && !LICENCE.test(licenceOf(st.licence_no))) out.push(["f-licence", "invalid_licence"]);
  if (!st.full_name.trim()) out.push(["f-name", "missing"]);
  else if (nameProblem(st.full_name)) out.push(["f-name", nameProblem(st.full_name)]);
  if (st.phone.trim() && !looksLikePhone(st.phone)) out.push(["f-phone", "invalid_phone"]);
  const acct = accountNumber(st.account_number);
  if (st.bin && !acct) out.push(["f-acct", "bank_incomplete"]);
  if (!st.bin && acct) out.push(["f-bank", "bank_incomplete"]);
  if (acct && !ACCOUNT_RE.test(acct)) out.push(["f-acct", "invalid_account_number"]);
  if (acct && st.account_name.trim() && !ACCOUNT_NAME_RE.test(st.account_name.trim())) out.push(["f-acctname", "invalid_account_name"]);
  if (acct && needsMomoReference(st.bin, st.reference)) out.push(["f-ref", "momo_reference_required"]);
  else if (st.reference && !REFERENCE_RE.test(st.reference)) out.push(["f-ref", "invalid_reference"]);
  if (!st.purposes.includes("registration")) out.push(["f-consent", "consent_required"]);
  return out;
}

/** Each field's value in the form state, to tell when a refused value has been changed. */
export function valueOf(st, id) {
  switch (id) {
    case "f-stall_code": return st.stall_code.trim();
    case "f-zone": return st.zone;
    case "f-goods": return st.goods.trim();
    case "f-licence": return licenceOf(st.licence_no);
    case "f-name": return st.full_name.trim();
    case "f-phone": return st.phone.trim();
    case "f-bank": return st.bin;
    case "f-acct": return accountNumber(st.account_number);
    case "f-acctname": return st.account_name.trim();
    case "f-ref": return st.reference;
    case "f-partner": return st.partner_code;
    case "f-consent": return [...st.purposes].sort().join(",");
    case "f-gps": return st.location;
    default: return undefined;
  }
}

export async function registerView(ctx, marketId, recordId) {
  if (!ctx.market(marketId)) await ctx.loadMarkets().catch(() => null);
  const market = ctx.market(marketId) || await api.getJSON(`/api/markets/${marketId}`);
  ctx.setMarket(marketId);
  const [banks, partners] = await Promise.all([ctx.loadBanks(), ctx.loadPartners(), ctx.loadNotice()]);

  const record = recordId ? await outbox.get(recordId) : null;
  const draftKey = `choso.draft.${ctx.me.username}.${record ? `fix.${record.id}` : `new.${marketId}`}`;
  let st = blankState();
  let draft = (() => { try { return JSON.parse(localStorage.getItem(draftKey) || "null"); } catch { return null; } })();
  // A new-stall draft that made a record belongs to that record: once the record is sent, queued
  // again or deleted, the draft is someone else's registration (their details, their consent).
  if (draft && !record && draft.record_id != null) {
    const made = await outbox.get(draft.record_id);
    if (!made || made.state !== "failed") { localStorage.removeItem(draftKey); draft = null; }
  }
  if (draft) {
    st = { ...st, ...draft };
    // Earlier versions set the partner from the bank; a partner is recorded only when the volunteer picks one.
    if (draft.partner_code && !draft.partner_touched) {
      st.partner_code = "";
      st.purposes = st.purposes.filter((p) => !p.startsWith("share_partner:"));
    }
  } else if (record && record.body) st = { ...stateFromBody(record.body), record_id: record.id };
  if (record) st.record_id = record.id;
  // A draft may belong to a refused record being fixed; keep the link only while it is still refused.
  const linked = record || (st.record_id ? await outbox.get(st.record_id) : null);
  if (!linked || linked.state !== "failed") st.record_id = null;

  let ready = false;
  const saveDraft = () => {
    localStorage.setItem(draftKey, JSON.stringify(st));
    if (ready) afterChange();
  };
  const clearDraft = () => { localStorage.removeItem(draftKey); };

  // Stall
  const zones = market.zones || [];
  const zoneBox = h("div", { class: "chips", role: "radiogroup", id: "f-zone", "aria-labelledby": "f-zone-label", "aria-describedby": "f-zone-error" });
  function drawZones() {
    zoneBox.replaceChildren();
    for (const z of [...zones, ""]) {
      const id = `f-zone-${z || "none"}`;
      const input = h("input", { type: "radio", name: "zone", id, value: z, checked: z !== "" && st.zone === z, class: "chip-input" });
      input.addEventListener("change", () => {
        const prev = st.zone;
        st.zone = z;
        // Tapping a zone (again, or after typing) never doubles its prefix: see codeForZone.
        const code = codeForZone(stallCode.value, prev, z);
        if (code !== stallCode.value) {
          stallCode.value = code;
          st.stall_code = code;
          st.zone_prefilled = z;
          stallCode.focus();
          stallCode.setSelectionRange(code.length, code.length);
        }
        saveDraft();
      });
      zoneBox.append(input, h("label", { for: id, class: "chip" }, z ? zoneLabel(z) : t("zone_other")));
    }
  }
  drawZones();
  const zoneField = zones.length
    ? h("div", { class: "field", id: "f-zone-field" },
      h("span", { class: "label", id: "f-zone-label" }, t("zone")),
      zoneBox, h("p", { class: "field-error", id: "f-zone-error", hidden: true }))
    : field({ id: "f-zone", label: t("zone"), hint: t("zone_hint"), optional: true, control: zoneInput() });
  function zoneInput() {
    const input = h("input", { name: "zone", value: st.zone, autocomplete: "off", oninput: (e) => { st.zone = e.target.value.trim(); saveDraft(); } });
    limitLength(input, { id: "f-zone", max: ZONE_MAX, code: "invalid_zone" });
    return input;
  }

  const stallCode = h("input", { name: "stall_code", value: st.stall_code, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  // A code already in this market's stall list (kept for offline use) or in a waiting record would be
  // refused by the server: say so at the field while typing, and offline refuse it like the server.
  const codeWarn = h("p", { class: "field-warn", id: "f-stall_code-warn", role: "status", hidden: true });
  let knownStalls = api.cache.value(`stalls.${marketId}`) || [];
  // A device that never opened the market's list (signed in straight into this form) had nothing to
  // compare a code with: a reviewer saved "A3" beside A-3 unasked. The market's codes come from its
  // tiles then (kept on the device, else asked for once), and the checks run again.
  if (!knownStalls.length) {
    const codesOf = (value) => [...readTiles(value).byId.values()].map((x) => ({ id: x.id, stall_code: x.stall_code }));
    const kept = api.cache.value(`tiles.${marketId}`);
    if (kept) knownStalls = codesOf(kept);
    else if (navigator.onLine) {
      api.cachedGet(`tiles.${marketId}`, `/api/markets/${marketId}/stall-tiles`).then((got) => {
        if (got && got.value && !knownStalls.length) { knownStalls = codesOf(got.value); drawCodeWarning(); }
      }).catch(() => null);
    }
  }
  const waiting = (await outbox.list()).filter((r) => r.kind === "register" && r.market_id === marketId && r.state !== "sent");
  function duplicateOf(code) {
    const key = codeKey(code);
    if (!key || key.endsWith("-")) return null;
    const stall = knownStalls.find((s) => codeKey(s.stall_code) === key);
    if (stall) return { stall };
    const rec = waiting.find((r) => r.id !== st.record_id && r.body && codeKey(r.body.stall_code) === key);
    return rec ? { rec } : null;
  }
  /** A stall or queued record whose code differs only in its separators ("A 15", "A15" for
   * "A-15"): perhaps the same stall written another way. The volunteer is told while typing, and
   * "Lưu sạp" asks once more: "Vẫn lưu" saves it (A-1-5 and A-15 may be two stalls). */
  function lookalikeOf(code) {
    const key = compact(code);
    if (!key || codeKey(code).endsWith("-")) return null;
    const stall = knownStalls.find((s) => compact(s.stall_code) === key);
    if (stall) return { stall, other: stall.stall_code };
    const rec = waiting.find((r) => r.id !== st.record_id && r.body && compact(r.body.stall_code) === key);
    return rec ? { rec, other: rec.body.stall_code } : null;
  }
  function drawCodeWarning() {
    const dup = duplicateOf(st.stall_code);
    const like = dup ? null : lookalikeOf(st.stall_code);
    codeWarn.replaceChildren();
    // An error on the code says it already: one message, not a warning and an error.
    const error = document.getElementById("f-stall_code-error");
    codeWarn.hidden = !(dup || like) || Boolean(error && !error.hidden);
    if (codeWarn.hidden) return;
    const code = codeKey(st.stall_code);
    const found = dup || like;
    const text = dup
      ? t(dup.stall ? "code_in_list" : "code_in_queue", { code })
      : t(like.stall ? "code_like_list" : "code_like_queue", { code, other: like.other });
    codeWarn.append(text, " ",
      h("a", { href: found.stall ? `#/s/${found.stall.id}` : "#/outbox" }, found.stall ? t("see_existing") : t("open_queue")));
  }
  stallCode.addEventListener("input", () => {
    // "A-" was filled in by the zone and the volunteer typed the whole code: keep one prefix.
    const fixed = st.zone_prefilled && st.zone_prefilled === st.zone ? dropDoubledPrefix(stallCode.value, st.zone) : stallCode.value;
    if (fixed !== stallCode.value) stallCode.value = fixed;
    st.stall_code = stallCode.value;
    st.code_like_ok = "";  // "Vẫn lưu" was said of another code
    saveDraft();
  });
  limitLength(stallCode, { id: "f-stall_code", max: STALL_CODE_MAX, code: "invalid_stall_code" });
  const goods = h("input", { name: "goods", value: st.goods, list: "goods-list", autocomplete: "off" });
  limitLength(goods, { id: "f-goods", max: 100, code: "invalid_goods" });
  goods.addEventListener("input", () => { st.goods = goods.value; saveDraft(); });
  const goodsList = h("datalist", { id: "goods-list" }, GOODS.map((g) => h("option", { value: g })));
  // The business licence number, only where the market's programme asks for it (users_want #6).
  const licence = h("input", { name: "licence_no", value: st.licence_no || "", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  limitLength(licence, { id: "f-licence", max: 30, code: "invalid_licence", count: (v) => licenceOf(v).length });
  licence.addEventListener("input", () => { st.licence_no = licence.value; saveDraft(); });

  // Holder
  const name = h("input", { name: "full_name", value: st.full_name, autocomplete: "off", autocapitalize: "words", spellcheck: "false" });
  limitLength(name, { id: "f-name", max: 100, code: "invalid_name" });
  const phone = h("input", { name: "phone", type: "tel", inputmode: "tel", value: st.phone, autocomplete: "off" });
  // A record waiting on this device with the same number (in this market): the server would
  // refuse this one later (possible_duplicate), when the volunteer has left the stall; asked now.
  const phoneWarn = h("div", { class: "field-warn", id: "f-phone-warn", role: "status", hidden: true });
  function queuedSamePhone() {
    const key = looksLikePhone(st.phone) ? phoneKey(st.phone) : "";
    return key && !st.confirm_duplicate
      ? waiting.find((r) => r.id !== st.record_id && r.body && r.body.holder && phoneKey(r.body.holder.phone) === key)
      : null;
  }
  function drawPhoneWarning() {
    const rec = queuedSamePhone();
    phoneWarn.hidden = !rec;
    if (!rec) { phoneWarn.replaceChildren(); return; }
    phoneWarn.replaceChildren(h("p", {}, t("phone_in_queue", { code: rec.body.stall_code })),
      h("button", {
        type: "button", class: "btn btn-small", id: "confirm-duplicate-early",
        onclick: () => { st.confirm_duplicate = true; saveDraft(); drawPhoneWarning(); phone.focus(); },
      }, t("dup_confirm")));
  }
  phone.addEventListener("input", () => { st.phone = phone.value; st.confirm_duplicate = false; saveDraft(); drawPhoneWarning(); });

  // Account
  const acct = h("input", { name: "account_number", inputmode: "numeric", value: st.account_number, autocomplete: "off", spellcheck: "false" });
  limitLength(acct, { id: "f-acct", max: 19, code: "invalid_account_number", count: (v) => accountNumber(v).length });
  const acctName = h("input", { name: "account_name", value: st.account_name, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  limitLength(acctName, { id: "f-acctname", max: 50, code: "invalid_account_name" });
  const lookupLine = h("div", { class: "lookup", id: "f-acctname-lookup", role: "status" });
  const ref = h("input", { name: "reference", value: st.reference, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  limitLength(ref, { id: "f-ref", max: 25, code: "invalid_reference" });
  ref.addEventListener("input", () => { st.reference = ref.value.trim(); saveDraft(); });
  const refField = field({ id: "f-ref", label: t("momo_ref"), hint: t("momo_ref_hint"), control: ref });
  const showRef = () => { refField.hidden = st.bin !== MOMO_BIN && !st.reference; };
  const recent = recentPartners(ctx.me);
  const partnerSelect = h("select", { name: "partner_code" }, partnerOptions(partners, st.partner_code, st.bin, recent, banks));
  // The bank is where the money goes; the partner is who helped open the account. Choosing a bank
  // never chooses a partner (that was recorded onboardings no partner did): it only lists the
  // bank's own partner first.
  const picker = bankPicker({
    id: "f-bank", banks,
    onChange(bank) {
      st.bin = bank ? bank.bin : "";
      st.shared_account_ok = false;
      partnerSelect.replaceChildren(...partnerOptions(partners, st.partner_code, st.bin, recent, banks));
      showRef();
      saveDraft();
      lookup();
    },
  });
  if (st.bin) picker.set(st.bin);
  showRef();
  const scanner = scanFill({
    id: "f-scan",
    onRead(got) {
      picker.set(got.bin);
      Object.assign(st, { bin: got.bin, account_number: got.account_number, reference: got.reference, service: got.service, account_scanned: true });
      acct.value = got.account_number;
      acctWarn.hidden = true;  // read off a code: an alias with letters is what it says
      ref.value = got.reference;
      showRef();
      saveDraft();
      lookup();
    },
  });

  // The holder's name too long for an account name was filled in cut at a word: said, as the sign
  // prints this name and a bank's may be written otherwise.
  const nameCutWarn = h("p", { class: "field-warn", id: "f-acctname-warn", role: "status", hidden: true }, t("acct_name_cut"));
  const drawNameCut = () => {
    nameCutWarn.hidden = Boolean(st.account_name_dirty) || accountName(st.full_name || "").trim().length <= ACCOUNT_NAME_MAX;
  };
  name.addEventListener("input", () => {
    st.full_name = name.value;
    if (!st.account_name_dirty) { st.account_name = nameFromHolder(name.value); acctName.value = st.account_name; }
    drawNameCut();
    saveDraft();
  });
  // A name typed all in lower case ("nguyễn văn an", in a hurry) is written as names are, on
  // leaving the field, where the volunteer sees it; one with any capital is left as typed.
  name.addEventListener("change", () => {
    const v = name.value;
    if (v !== v.toLocaleLowerCase("vi") || !/\p{L}/u.test(v)) return;
    name.value = v.replace(/(^|[\s'-])(\p{L})/gu, (_, sep, ch) => sep + ch.toLocaleUpperCase("vi"));
    name.dispatchEvent(new Event("input"));
  });
  acctName.addEventListener("input", () => {
    const upper = accountName(acctName.value);
    if (upper !== acctName.value) {
      const pos = acctName.selectionStart;
      acctName.value = upper;
      try { acctName.setSelectionRange(pos, pos); } catch { /* not focusable */ }
    }
    st.account_name = upper;
    st.account_name_dirty = upper !== nameFromHolder(st.full_name);
    drawNameCut();
    saveDraft();
  });
  // Bank account numbers are digits; a letter (an O for a 0) or a sign is most often a slip, though
  // aliases and e-wallet accounts have letters: a warning, not an error.
  const acctWarn = h("p", { class: "field-warn", id: "f-acct-warn", role: "status", hidden: true }, t("acct_not_digits"));
  const drawAcctWarning = () => {
    const number = accountNumber(st.account_number);
    acctWarn.hidden = !number || st.account_scanned || /^\d+$/.test(number) || !ACCOUNT_RE.test(number);
  };
  drawAcctWarning();
  acct.addEventListener("input", () => { st.account_number = acct.value; st.shared_account_ok = false; st.service = "account"; st.account_scanned = false; drawAcctWarning(); saveDraft(); lookupSoon(); });
  partnerSelect.addEventListener("change", () => { st.partner_code = partnerSelect.value; st.partner_touched = true; st.purposes = st.purposes.filter((p) => !p.startsWith("share_partner:")); drawConsents(); saveDraft(); });

  let lookupSeq = 0;
  async function lookup() {
    const number = accountNumber(st.account_number);
    lookupLine.replaceChildren();
    if (!settings.lookup || !st.bin || !ACCOUNT_RE.test(number) || number.length < 6 || !navigator.onLine) return;
    const seq = ++lookupSeq;
    lookupLine.textContent = t("lookup_checking");
    try {
      const res = await api.getJSON(`/api/lookup?${new URLSearchParams({ bin: st.bin, account_number: number })}`);
      if (seq !== lookupSeq) return;
      lookupLine.replaceChildren();
      if (res.status === "found" && res.account_name) {
        const bankName = accountName(res.account_name);
        lookupLine.append(h("p", { class: "note note-ok" }, t("lookup_found", { name: bankName })));
        if (!st.account_name_dirty || !st.account_name) {
          st.account_name = bankName; acctName.value = bankName; st.account_name_dirty = bankName !== nameFromHolder(st.full_name); drawNameCut(); saveDraft();
        } else if (bankName !== st.account_name) {
          lookupLine.append(h("button", { type: "button", class: "btn btn-small", onclick: () => { st.account_name = bankName; acctName.value = bankName; st.account_name_dirty = true; saveDraft(); } }, t("lookup_use")));
        }
        if (st.full_name && bankName !== nameFromHolder(st.full_name)) lookupLine.append(h("p", { class: "note note-warn" }, t("lookup_differs")));
      } else if (res.status === "not_found") {
        lookupLine.append(h("p", { class: "note note-warn" }, t("lookup_not_found")));
      }
    } catch {
      if (seq === lookupSeq) lookupLine.replaceChildren();
    }
  }
  const lookupSoon = debounce(lookup, 700);

  // Location
  const gpsStatus = h("p", { class: "hint", id: "f-gps-status", role: "status" });
  const gpsClear = h("button", { type: "button", class: "btn btn-small", hidden: !st.location }, t("gps_clear"));
  const gpsBtn = h("button", { type: "button", class: "btn", id: "f-gps" }, t("gps_button"));
  const kmFromMarket = (loc) => (loc && market && market.lat != null && market.lon != null ? distanceKm(loc, market) : 0);
  function drawGps() {
    gpsStatus.textContent = st.location ? t("gps_ok", { m: Math.round(st.location.accuracy_m || 0) }) : "";
    // A point far from the market (a reviewer's was 760 km away, in Hà Nội) is said, not kept
    // silently: the phone may not have had a fix yet. The volunteer takes it again or clears it.
    const km = kmFromMarket(st.location);
    gpsStatus.classList.toggle("field-warn", km > FAR_KM);
    if (km > FAR_KM) gpsStatus.textContent = t("gps_far", { km: km < 10 ? km.toFixed(1).replace(".", ",") : Math.round(km) });
    gpsClear.hidden = !st.location;
  }
  gpsBtn.addEventListener("click", () => {
    if (!navigator.geolocation) { gpsStatus.textContent = t("gps_unavailable"); return; }
    gpsStatus.textContent = t("gps_getting");
    navigator.geolocation.getCurrentPosition((pos) => {
      st.location = {
        lat: Number(pos.coords.latitude.toFixed(6)), lon: Number(pos.coords.longitude.toFixed(6)),
        accuracy_m: Math.min(100000, Math.round(pos.coords.accuracy || 0)),
      };
      saveDraft();
      drawGps();
    }, () => { gpsStatus.textContent = t("gps_denied"); },
    // Taken again after a point far from the market: a fresh fix, not the same point from the cache.
    { enableHighAccuracy: true, timeout: 20000, maximumAge: kmFromMarket(st.location) > FAR_KM ? 0 : 60000 });
  });
  gpsClear.addEventListener("click", () => { st.location = null; saveDraft(); drawGps(); });
  drawGps();

  // Consent: never pre-ticked; a partner-sharing box appears only for the chosen partner.
  const consentBox = h("div", { class: "consents" });
  function drawConsents() {
    consentBox.replaceChildren();
    const purposes = ["registration", "qr_sign", "coverage_reporting"];
    const partner = partners.find((p) => p.code === st.partner_code);
    if (st.partner_code) purposes.push(`share_partner:${st.partner_code}`);
    for (const p of purposes) {
      const id = `f-purpose-${p.replace(/[^a-z0-9_-]/gi, "_")}`;
      const box = h("input", { type: "checkbox", id, name: "purpose", value: p, checked: st.purposes.includes(p) });
      box.addEventListener("change", () => {
        st.purposes = box.checked ? [...new Set([...st.purposes, p])] : st.purposes.filter((x) => x !== p);
        saveDraft();
      });
      const text = p.startsWith("share_partner:")
        ? t("purpose_share_partner", { name: partner ? partner.name : st.partner_code })
        : t(`purpose_${p}`);
      consentBox.append(h("div", { class: ["check", "check-big", p === "registration" ? "check-required" : ""] }, box, h("label", { for: id }, text)));
    }
  }
  drawConsents();

  const formError = h("p", { class: "form-error", role: "alert", id: "form-error" });
  const saveBtn = h("button", { type: "submit", class: "btn btn-primary btn-big", id: "save-stall" }, t("save_stall"));
  const clearBtn = h("button", { type: "button", class: "btn btn-ghost" }, t("clear_draft"));

  const form = h("form", { class: "register", novalidate: true, id: "register-form" },
    h("div", { class: "page-head" },
      h("h1", {}, record ? t("fix_title") : t("register_title")),
      h("p", { class: "muted" }, market.name, " · ", t("draft_note"))),
    h("fieldset", { class: "card" }, h("legend", {}, "1. ", t("sec_stall")),
      zoneField,
      h("div", { class: "grid2" },
        withWarning(field({ id: "f-stall_code", label: t("stall_code"), hint: t("stall_code_hint"), control: stallCode, required: true }), stallCode, codeWarn),
        field({ id: "f-goods", label: t("goods"), hint: t("goods_hint"), control: goods, optional: true })),
      market.asks_licence || st.licence_no
        ? field({ id: "f-licence", label: t("licence"), hint: t("licence_hint"), control: licence, optional: true })
        : null,
      goodsList),
    h("fieldset", { class: "card" }, h("legend", {}, "2. ", t("sec_holder")),
      h("div", { class: "grid2" },
        field({ id: "f-name", label: t("full_name"), control: name, required: true }),
        withWarning(field({ id: "f-phone", label: t("phone"), hint: t("phone_hint"), control: phone, optional: true }), phone, phoneWarn))),
    h("fieldset", { class: "card" }, h("legend", {}, "3. ", t("sec_account")),
      h("p", { class: "hint" }, t("account_optional")),
      scanner,
      h("div", { class: "field", id: "f-bank-field" },
        h("label", { for: "f-bank" }, t("bank"), " ", h("span", { class: "hint-inline" }, `(${t("bank_search")})`)),
        picker.el,
        h("p", { class: "field-error", id: "f-bank-error", hidden: true })),
      h("div", { class: "grid2" },
        withWarning(field({ id: "f-acct", label: t("account_number"), control: acct }), acct, acctWarn),
        h("div", {}, withWarning(field({ id: "f-acctname", label: t("account_name"), hint: t("account_name_hint"), control: acctName }), acctName, nameCutWarn), lookupLine)),
      refField,
      partners.length ? field({ id: "f-partner", label: t("partner"), hint: t("partner_hint"), control: partnerSelect, optional: true }) : null),
    h("fieldset", { class: "card" }, h("legend", {}, "4. ", t("sec_location"), " ", h("span", { class: "tag" }, t("optional"))),
      h("div", { class: "field", id: "f-gps-field" },
        h("div", { class: "row-actions" }, gpsBtn, gpsClear), gpsStatus,
        h("p", { class: "field-error", id: "f-gps-error", hidden: true }))),
    h("fieldset", { class: "card", id: "f-consent-field" }, h("legend", {}, "5. ", t("sec_consent")),
      h("section", { class: "notice", "aria-labelledby": "notice-h", tabindex: "0" },
        h("h3", { id: "notice-h" }, t("notice_heading")),
        // Which notice was read is recorded with the consent; said under the title, not in it.
        noticeVersion() ? h("p", { class: "muted small", id: "notice-version" }, t("notice_version_line", { v: noticeVersion() })) : null,
        noticeVersion()
          ? noticeText().map((p) => h("p", {}, p))
          : h("p", { class: "field-error", role: "alert" }, t("notice_missing")),
        st.notice_version && st.notice_version !== noticeVersion()
          ? h("p", { class: "hint" }, t("notice_recorded", { v: st.notice_version }))
          : null),
      h("p", { class: "hint" }, t("consent_intro")),
      consentBox,
      h("p", { class: "hint" }, t("consent_sign_note")),
      h("p", { class: "field-error", id: "f-consent-error", hidden: true })),
    formError,
    h("div", { class: "sticky-actions" }, saveBtn, clearBtn));
  // The bank picker's input is also in the form: keep Enter in it from submitting.
  picker.input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") ev.preventDefault(); });

  clearBtn.addEventListener("click", async () => {
    if (!window.confirm(t("clear_draft_confirm"))) return;
    clearDraft();
    // On the new-stall form, a refused record made from it goes too: it is the same registration.
    if (!record && st.record_id != null) {
      const made = await outbox.get(st.record_id);
      if (made && made.state === "failed") await outbox.remove(made.id);
    }
    registerView(ctx, marketId, recordId);
  });

  const problemsNow = () => {
    const found = validate(st);
    if (!st.notice_version && !noticeVersion()) found.push(["f-consent", "notice_missing"]);
    return found;
  };
  const check = (id) => (problemsNow().find(([f]) => f === id) || [null, null])[1];
  // Errors go as soon as the field is right; the count above the button follows.
  function afterChange() {
    const left = refreshErrors(form, { check, valueOf: (id) => valueOf(st, id) });
    if (formError.dataset.count) formError.textContent = left ? t("form_has_errors", { n: left }) : "";
    drawCodeWarning();
  }

  let busy = false;
  let saved = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy || saved) return;
    clearErrors(form);
    delete formError.dataset.count;
    const problems = problemsNow();
    const dup = navigator.onLine ? null : duplicateOf(st.stall_code);
    // The same phone as a record waiting on this device: saved as is, the server would refuse one
    // of them later (possible_duplicate), after the volunteer has left. "Vẫn lưu" above says it
    // is the same person; otherwise the number is fixed here.
    const samePhone = queuedSamePhone();
    // A code like another stall's ("A9" where "A-9" is): saved only once the volunteer says it is
    // another stall (the server, which compares codes exactly, would take it twice).
    // (The same code exactly is not a look-alike: the server refuses it, with the stall to see.)
    const like = duplicateOf(st.stall_code) || problems.some(([id]) => id === "f-stall_code") ? null : lookalikeOf(st.stall_code);
    const unconfirmedLike = like && st.code_like_ok !== codeKey(st.stall_code) ? like : null;
    if (problems.length || dup || samePhone || unconfirmedLike) {
      for (const [id, code] of problems) setError(id, errorText(code), null, { local: true, code });
      if (unconfirmedLike) {
        const confirm = h("button", {
          type: "button", class: "btn btn-small", id: "confirm-code-like",
          onclick: () => {
            st.code_like_ok = codeKey(st.stall_code);
            saveDraft();
            form.requestSubmit();
          },
        }, t("code_like_confirm"));
        // The codes as written, each kept on one line ("A-" / "3" was split at its hyphen).
        const whole = (code) => String(code).trim().replace(/\s+/g, " ").replace(/-/g, "\u2011");
        setError("f-stall_code", t("code_like_save", { code: whole(st.stall_code), other: whole(unconfirmedLike.other) }), confirm, { value: valueOf(st, "f-stall_code") });
      }
      if (samePhone && !problems.some(([id]) => id === "f-phone")) {
        setError("f-phone", t("phone_in_queue_save", { code: samePhone.body.stall_code }), null, { value: valueOf(st, "f-phone") });
        drawPhoneWarning();
      }
      if (dup && !problems.some(([id]) => id === "f-stall_code")) {
        const link = dup.stall ? h("a", { href: `#/s/${dup.stall.id}` }, t("see_existing")) : h("a", { href: "#/outbox" }, t("open_queue"));
        setError("f-stall_code", errorText(dup.stall ? "stall_code_taken" : "stall_code_queued"), link, { value: valueOf(st, "f-stall_code") });
      }
      formError.textContent = t("form_has_errors", { n: form.querySelectorAll(".field-error:not([hidden])").length });
      formError.dataset.count = "1";
      drawCodeWarning();
      focusFirstError(form);
      return;
    }
    busy = true;
    saveBtn.disabled = true;
    saveBtn.textContent = t("saving");
    const body = buildBody(st);
    const label = `${body.stall_code} · ${body.holder.full_name}`;
    let rec = null;
    try {
      if (st.record_id) rec = await outbox.revise(st.record_id, { body, label });
      if (!rec) rec = await outbox.add("register", { market_id: marketId, body, label });
      st.record_id = rec.id;
      // A refusal shows on this form: the top bar does not count it as one to fix elsewhere.
      if (form.isConnected) ctx.openRecord = rec.id;
      rememberPartner(ctx.me, st.partner_code);
      saveDraft();
      const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
      // The volunteer left the form while it was being sent: the answer takes them nowhere (the
      // queue shows how it went).
      if (!form.isConnected) return;
      if (done.state === "sent") {
        clearDraft();
        saved = true;
        announce(t("saved_sent", { code: body.stall_code }));
        ctx.redirect(`#/s/${done.result.stall_id}?new=1`);
      } else if (done.state === "failed") {
        showRefusal(done.error);
      } else {
        clearDraft();
        saved = true;
        toast(t("saved_queued", { code: body.stall_code }), "ok", 8000, "saved");
        ctx.leaveForm(`#/m/${marketId}`);
      }
    } finally {
      // Saved: the form stays on screen until the next page is drawn (most of a second on a slow
      // tablet), and a second tap there registered the stall again (refused as a duplicate) and
      // wrote the form back as a draft, which the next new stall's form opened with.
      if (!saved) {
        busy = false;
        saveBtn.disabled = false;
        saveBtn.textContent = t("save_stall");
      }
    }
  });

  function showRefusal(problem) {
    const extras = {};
    const resend = (then) => () => { then(); saveDraft(); form.requestSubmit(); };
    if (problem.code === "possible_duplicate") {
      extras.possible_duplicate = confirmOr(problem, { id: "confirm-duplicate", label: "dup_confirm",
        confirm: resend(() => { st.confirm_duplicate = true; }), seeId: "see-duplicate", see: "dup_see" });
    }
    if (problem.code === "account_in_use") extras.account_in_use = sharedAccountChoice(problem, resend(() => { st.shared_account_ok = true; }));
    if (problem.code === "stall_code_taken" && problem.existing_stall_id) {
      extras.stall_code_taken = h("a", { href: `#/s/${problem.existing_stall_id}` }, t("see_existing"));
    }
    if (problem.code === "momo_reference_required") refField.hidden = false;
    delete formError.dataset.count;
    const placed = showProblem(formError, problem, FIELD_MAP, extras, CODE_MAP, (id) => valueOf(st, id));
    if (!placed.length && !formError.textContent) formError.textContent = errorText(problem.code || "validation_error");
    drawCodeWarning();
    focusFirstError(form);
  }

  mount(ctx.main, form);
  ready = true;
  drawNameCut();
  drawCodeWarning();
  drawPhoneWarning();
  if (linked && linked.state === "failed") {
    ctx.openRecord = linked.id;  // shown here, not counted in the top bar meanwhile
    window.dispatchEvent(new CustomEvent("choso:outbox"));
    if (linked.error) showRefusal(linked.error);
  }
}

/**
 * A refusal the volunteer may overrule (the same person, or family, on a second stall; two stalls
 * paid into one account): a button that saves anyway (`confirm`), and the stall that has it to
 * look at first.
 */
function confirmOr(problem, { id, label, confirm, seeId, see }) {
  return h("div", { class: "dup-actions" },
    h("button", { type: "button", class: "btn btn-small", id, onclick: confirm }, t(label)),
    problem.existing_stall_id ? h("a", { href: `#/s/${problem.existing_stall_id}`, id: seeId }, t(see)) : null);
}

/** The answer to account_in_use (registration, an added or corrected account): both stalls are paid into it. */
export function sharedAccountChoice(problem, confirm) {
  return confirmOr(problem, { id: "confirm-shared-account", label: "shared_account_confirm", confirm,
    seeId: "see-shared-account", see: "shared_account_see" });
}

/** A field with a warning line under its control (a warning does not stop saving). */
function withWarning(fieldEl, control, warning) {
  control.setAttribute("aria-describedby", `${control.getAttribute("aria-describedby") || ""} ${warning.id}`.trim());
  control.after(warning);
  return fieldEl;
}
