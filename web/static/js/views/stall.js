// One stall: its sign (the QR as printed), print it, mark it delivered, verify it, edit, add, correct
// or deactivate an account.

import { h, mount, toast, dropToast, announce, saveJson } from "../lib/dom.js";
import { t, addStrings, errorText, describeError, time, dateTime, noticeText, noticeVersion, zoneLabel } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import * as outbox from "../lib/outbox.js";
import { accountName, accountNumber, looksLikePhone, codeOk, nationalPhone, STALL_CODE_MAX, ZONE_MAX } from "../lib/text.js";
import { bankPicker, bankShort } from "../lib/bankpicker.js";
import { field, setError, clearErrors, refreshErrors, showProblem, focusFirstError, limitLength, opener } from "../lib/forms.js";
import { confirmDialog } from "../lib/dialog.js";
import { LEVELS, levelLabel, revisitReason, tiles as readTiles } from "../lib/coverage.js";
import { FIELD_MAP, CODE_MAP, LICENCE, licenceOf, sharedAccountChoice, nameFromHolder, goodsProblem, nameProblem } from "./register.js";
import { scanFill, needsMomoReference, MOMO_BIN } from "../lib/scanfill.js";
import { partnerOptions, recentPartners, rememberPartner } from "./partnerpick.js";
import * as consents from "../lib/consents.js";
import { OUTCOMES } from "../lib/visits.js";
import { visitsCard } from "./visit.js";
import { supportCard } from "./support.js";
import { takingsCard } from "./takings.js";

/** A title naming a stall: its code kept on one line when it fits (a phone split "C-" from "41"
at the hyphen, which reads as another stall). */
function titleWithCode(key, code) {
  const [before, after = ""] = t(key, { code: "\u0000" }).split("\u0000");
  return [before, h("span", { class: "code-keep" }, code), after];
}

addStrings({
  vi: {
    delivered_unprinted_title: "Biển của sạp này chưa được ghi là đã in",
    delivered_unprinted_text: "Chỉ ghi \"Đã giao biển\" khi chủ sạp đã nhận một biển in sẵn (in ở đây hoặc ở nơi khác). Nếu chưa in, bấm \"In biển\" trước.",
    delivered_unprinted_ok: "Chủ sạp đã nhận biển",
    delivered_already: "Đã giao biển ✓ {at}",
    account_stopped_suspended: "Đối tác tạm ngưng",
    account_stopped_removed: "Đối tác đã gỡ",
    sign_stopped_suspended: "Ngân hàng hoặc ví đã tạm ngưng tài khoản này: khách quét biển có thể không chuyển được tiền. Hỏi chủ sạp, hoặc dùng tài khoản khác.",
    sign_stopped_removed: "Ngân hàng hoặc ví đã gỡ tài khoản này: biển sẽ không nhận được tiền. Sửa hoặc thêm tài khoản trước khi in.",
    sign_stopped_confirm: "Tài khoản trên biển này đang bị ngân hàng hoặc ví ngưng. Vẫn in biển?",

    no_withdraw_purpose: "Hãy đánh dấu ít nhất một mục chủ sạp muốn rút đồng ý.",
    level_todo_qr_issued: "Chưa in biển",
    level_todo_qr_verified: "Chưa kiểm tra mã",
    level_todo_transacting: "Chưa giao dịch",
    print_blocked_changes: "Sạp này có thay đổi đã ghi trên máy nhưng chưa gửi (như sửa tài khoản): trang đang hiện bản trước khi sửa. In biển sau khi đã gửi, để biển đúng tài khoản.",
    sign_shortened: "Biển in rút gọn {what} (quá dài, có dấu \"…\"). Muốn in đủ, hãy sửa sạp cho ngắn hơn rồi in lại.",
  },
  en: {
    account_stopped_suspended: "Suspended by the partner",
    account_stopped_removed: "Removed by the partner",
    sign_stopped_suspended: "The bank or wallet has suspended this account: customers scanning the sign may not be able to pay. Ask the stallholder, or use another account.",
    sign_stopped_removed: "The bank or wallet has removed this account: the sign will bring no money in. Correct it or add an account before printing.",
    sign_stopped_confirm: "The bank or wallet has stopped the account on this sign. Print it anyway?",
    delivered_unprinted_title: "No print of this stall's sign is recorded",
    delivered_unprinted_text: "Tap \"Sign delivered\" only when the stallholder has received a printed sign (printed here or elsewhere). If it is not printed yet, tap \"Print sign\" first.",
    delivered_unprinted_ok: "The stallholder has the sign",
    delivered_already: "Sign delivered ✓ {at}",
    no_withdraw_purpose: "Tick at least one thing the stallholder withdraws consent to.",
    level_todo_qr_issued: "Sign not printed",
    level_todo_qr_verified: "Code not checked",
    level_todo_transacting: "No payments yet",
    print_blocked_changes: "This stall has changes recorded on this device but not sent yet (such as an account correction): the page shows it as before them. Print the sign once they are sent, so that it shows the right account.",
    sign_shortened: "The sign shortens {what} (too long, marked \"…\"). To print it whole, shorten it on the stall and print again.",
  },
});

export async function loadStall(id) {
  try {
    const stall = await api.getJSON(`/api/stalls/${id}`);
    api.cache.set(`stall.${id}`, stall);
    return { stall, stale: false };
  } catch (err) {
    const hit = api.cache.get(`stall.${id}`);
    if (hit && (err instanceof api.NetworkError || api.retryable(err))) return { stall: hit.value, stale: true, at: hit.at };
    throw err;
  }
}

function tileOf(stall) {
  const raw = api.cache.value(`tiles.${stall.market_id}`);
  if (!raw) return null;
  return readTiles(raw).byId.get(stall.id) || null;
}

function stepper(level, revisit, reason) {
  const at = LEVELS.indexOf(level);
  // Why to go back, as the leader's printed list says it.
  const why = reason ? revisitReason(reason) : "";
  return h("ol", { class: "stepper", "aria-label": t("level_now") },
    // A step reached says so with a tick; one still ahead says what is not done yet ("Chưa in
    // biển"): in words, not only in the fill's colour (every pill read as done to a reviewer).
    LEVELS.map((l, i) => h("li", { class: [i <= at ? "done" : "", i === at ? "now" : ""], "aria-current": i === at ? "step" : null },
      i <= at ? `✓ ${levelLabel(l)}` : t(`level_todo_${l}`))),
    revisit ? h("li", { class: "revisit", id: "revisit-step" }, t("needs_revisit"), why ? `: ${why}` : "") : null);
}

const qrPath = (stall, account) => `/api/stalls/${stall.id}/qr.png?account_id=${account.id}&scale=8`;

/** The QR image of an account; `fetched`: its download, when it was started earlier. */
async function qrImage(stall, account, fetched = null) {
  const box = h("div", { class: "qr-box" });
  if (!account) {
    box.append(h("p", { class: "qr-missing" }, t("qr_missing")));
    return box;
  }
  const img = h("img", { class: "qr", alt: `VietQR ${account.bank_short_name || ""} ${account.account_number}`, width: 240, height: 240 });
  box.append(img);
  try {
    const { url } = await (fetched || api.blobUrl(qrPath(stall, account)));
    img.src = url;
  } catch (err) {
    const consent = err && (err.code === "consent_missing" || err.code === "consent_withdrawn");
    // No signal is not a fault: the code is made by the server, and comes back with the network.
    const offline = err && err.name === "NetworkError";
    box.replaceChildren(h("p", { class: "qr-missing", id: "qr-problem" },
      consent ? errorText(err.code) : offline ? t("qr_offline") : t("qr_unavailable")));
  }
  return box;
}

/** The stallholder's consent per purpose, or null when it cannot be read (offline, never cached). */
async function loadConsents(stall) {
  const holderId = stall.holder && stall.holder.id;
  if (!holderId || stall.holder.erased) return null;
  try {
    const got = await api.cachedGet(`consents.${holderId}`, `/api/stallholders/${holderId}/consents`);
    return got.value || null;
  } catch {
    return null;
  }
}

// The stall page's watcher of a consent waiting in the queue (at most one at a time).
let consentWatch = null;
// Queued changes that alter what the stall's sign shows (views/stall.js prints nothing while one waits).
const CHANGE_KINDS = ["patch", "account", "account_fix", "account_off", "account_on"];

export async function stallView(ctx, id, params) {
  // What can be asked at the same time is (a round trip on a slow network each): the stall and its
  // level; then its consents, lists and the first QR image.
  const coverage = api.getJSON(`/api/stalls/${id}/coverage`).catch(() => null);
  const { stall, stale, at } = await loadStall(id);
  const isNew = params && params.get("new");  // the page that opens after "Lưu sạp"
  // The sign is being handed over: just saved, or printed from that page (the tips for the
  // stallholder stay until the volunteer leaves the page).
  const handingOver = Boolean(isNew || (params && params.get("handover")));
  ctx.setMarket(stall.market_id);
  const market = ctx.market(stall.market_id);
  const accounts = (stall.payment_accounts || []).filter((a) => a.active !== false);
  // A sign this device knows the stallholder has not agreed to (a new registration, the stall list)
  // is not asked for: the answer would be a refusal (409).
  const listed = (api.cache.value(`stalls.${stall.market_id}`) || []).find((s) => s.id === stall.id);
  const knownSign = consents.signConsent(listed || { id: stall.id }, consents.knownFor(stall.market_id));
  const askQr = knownSign !== "missing" && knownSign !== "withdrawn";
  // The sign shows an account its bank or wallet has not stopped, when the stall has one.
  const preferred = Math.max(0, accounts.findIndex((a) => !a.stopped_by_partner));
  let firstQr = accounts.length && !stale && askQr ? api.blobUrl(qrPath(stall, accounts[preferred])) : null;
  if (firstQr) firstQr.catch(() => { /* shown where the image is drawn */ });
  const tile = (await coverage) || tileOf(stall);
  const [banks, partners, consentData] = await Promise.all([
    ctx.loadBanks().catch(() => []), ctx.loadPartners().catch(() => []), loadConsents(stall), ctx.loadNotice(),
  ]);
  let accountIndex = preferred;
  const bankOf = (a) => a.bank_short_name || bankShort(banks, a.bin);
  const partnerCodes = [...new Set(accounts.map((a) => a.partner_code).filter(Boolean))];
  const purposes = [...consents.BASE_PURPOSES, ...partnerCodes.map((c) => `share_partner:${c}`)];
  const states = consentData ? consents.purposeStates(consentData, purposes) : null;
  // What the server holds decides what may be printed (and what the worklist remembers).
  const signState = states ? states[consents.SIGN] : null;
  consents.remember(stall.market_id, stall.id, signState);
  // Consent recorded on this device and not sent yet (offline): shown as waiting, not as missing.
  // Changes to this stall recorded here and not sent yet (an account corrected offline, or whose
  // send failed for the network): the page shows the stall as the server last sent it, says so, and
  // prints no sign from it (it would pay the account before the correction). The page is drawn
  // again once the queue has sent them (one watcher per stall page), or when the network comes back
  // to a page drawn from the device's copy.
  const queue = await outbox.list();
  const live = (r) => r.state === "queued" || r.state === "sending";
  const waiting = queue.filter((r) => live(r) && r.kind === "consent" && r.holder_id === stall.holder.id);
  const changing = queue.filter((r) => live(r) && CHANGE_KINDS.includes(r.kind) && r.stall_id === stall.id);
  if (states) {
    for (const rec of waiting) for (const p of (rec.body && rec.body.purposes) || []) if (p in states && states[p] !== "granted") states[p] = "pending";
  }
  if (consentWatch) {
    window.removeEventListener("choso:outbox", consentWatch);
    window.removeEventListener("online", consentWatch);
  }
  consentWatch = null;
  if (waiting.length || changing.length || stale) {
    const here = new RegExp(`^#/s/${stall.id}(\\?|$)`);
    const watched = [...waiting, ...changing];
    const onSent = async (ev) => {
      const left = (await outbox.list()).some((r) => watched.some((w) => w.id === r.id) && live(r));
      if (left || (!watched.length && ev.type !== "online")) return;
      window.removeEventListener("choso:outbox", onSent);
      window.removeEventListener("online", onSent);
      if (consentWatch === onSent) consentWatch = null;
      if (!here.test(window.location.hash)) return;
      if (waiting.length) api.cache.set(`consents.${stall.holder.id}`, null);
      if (changing.length) api.cache.set(`stall.${stall.id}`, null);
      // The takings the volunteer had asked for stay open (read again, now with the network).
      const open = ["takings-today", "takings-unknown", "takings-none"].some((x) => document.getElementById(x));
      stallView(ctx, stall.id, open ? new URLSearchParams({ takings: "1" }) : null);
    };
    consentWatch = onSent;
    window.addEventListener("choso:outbox", onSent);
    if (stale) window.addEventListener("online", onSent);
  }
  const signBlocked = signState === "missing" || signState === "withdrawn";
  const canPrint = accounts.length > 0 && !signBlocked && !changing.length;
  const signBox = h("div", {});

  const accountLines = (acc) => h("div", { class: "sign-account" },
    h("p", { class: "sign-bankline" }, h("span", { class: "sign-bank" }, bankOf(acc)), " ",
      h("span", { class: ["sign-number", acc.account_number.length > 14 ? "is-long" : ""] }, acc.account_number)),
    h("p", { class: "sign-holder" }, acc.account_name || ""));

  async function drawSign() {
    const acc = accounts[accountIndex] || null;
    const qr = signBlocked && acc
      ? h("div", { class: "qr-box" }, h("p", { class: "qr-missing", id: "qr-problem" }, errorText(signState === "withdrawn" ? "consent_withdrawn" : "consent_missing")))
      : await qrImage(stall, acc, accountIndex === preferred ? firstQr : null);
    firstQr = null;
    // replaceChildren writes a null as the text "null": only the parts there are.
    signBox.replaceChildren(...[h("figure", { class: "sign", id: "sign" },
      // As the printed sign's band says it: the market, then the zone.
      h("p", { class: "sign-market" }, [market ? market.name : "", stall.zone ? zoneLabel(stall.zone) : ""].filter(Boolean).join(" · ")),
      // Long codes and numbers get a smaller size, so that all of them shows (and wraps if need be).
      h("p", { class: ["sign-code", [...stall.stall_code].length > 9 ? "is-long" : ""] }, stall.stall_code),
      h("p", { class: "sign-name" }, stall.holder.full_name || ""),
      stall.goods ? h("p", { class: "sign-goods" }, stall.goods) : null,
      qr,
      // In the printed sign's order (qr/sign.py): "Scan to pay" (only under a code that can be
      // scanned), the bank and the number on one line, the account's name, then VietQR.
      ...(acc && !signBlocked
        ? [h("figcaption", {}, h("span", { class: "sign-scan" }, t("scan_to_pay")), accountLines(acc),
          h("span", { class: "sign-napas" }, "VietQR · NAPAS 247"))]
        : [acc ? accountLines(acc) : null])),
    // The account's bank or wallet stopped it: said with the sign, before it is printed.
    acc && acc.stopped_by_partner
      ? h("p", { class: "note note-warn", id: "sign-account-stopped", role: "status" }, t(`sign_stopped_${acc.stopped_by_partner}`))
      : null].filter(Boolean));
  }

  const accountTabs = accounts.length > 1
    ? h("div", { class: "chips", role: "radiogroup", "aria-label": t("accounts") }, accounts.map((a, i) => {
      const rid = `acc-${a.id}`;
      const input = h("input", { type: "radio", name: "acc", id: rid, class: "chip-input", checked: i === accountIndex });
      input.addEventListener("change", () => { accountIndex = i; drawSign(); });
      return [input, h("label", { for: rid, class: "chip" }, `${bankOf(a)} ${a.account_number.slice(-4)}`)];
    }))
    : null;

  // Why the sign cannot be printed, said next to the disabled buttons.
  const blockedReason = changing.length ? t("print_blocked_changes")
    : !accounts.length ? t("print_blocked_no_account")
    : signState === "withdrawn" ? t("print_blocked_withdrawn")
      : signState === "missing" && states && states[consents.SIGN] === "pending" ? t("print_blocked_waiting")
        : signState === "missing" ? t("print_blocked_consent") : "";
  // The page that opens after "Lưu sạp" says why already, in its banner: said once (a reviewer
  // read "no account" three times on one screen).
  const bannerSaysWhy = Boolean(isNew && !accounts.length);
  const blockedId = bannerSaysWhy ? "saved-banner" : "print-blocked";
  const deliveredNow = Boolean(tile && tile.sign_delivered_at && "sign_printed_at" in tile
    && (!tile.sign_printed_at || Date.parse(tile.sign_printed_at) <= Date.parse(tile.sign_delivered_at)));
  const actions = h("div", { class: "action-grid" },
    h("button", { type: "button", class: "btn btn-primary btn-big", id: "print-sign", disabled: !canPrint, "aria-describedby": blockedReason ? blockedId : null, onclick: printSign }, t("print_sign")),
    // The sign the stall has now is delivered once: a second tap counted a second delivery.
    h("button", { type: "button", class: "btn btn-big", id: "mark-delivered", disabled: !canPrint || deliveredNow, onclick: delivered },
      deliveredNow ? t("delivered_already", { at: dateTime(tile.sign_delivered_at) }) : t("mark_delivered")),
    h("a", { href: `#/s/${id}/verify`, class: ["btn", "btn-big", accounts.length ? "" : "is-disabled"], id: "verify", "aria-disabled": accounts.length ? null : "true" }, t("verify_code")),
    // Fixing a wrongly typed number is the commoner errand than a second account: with one account
    // it sits with the big buttons too (it was a small link down in the details).
    accounts.length === 1 && !accounts[0].account_number.startsWith("~")
      ? h("a", { href: `#/s/${id}/account/${accounts[0].id}`, class: "btn btn-big", id: "fix-account" }, t("account_fix"))
      : null,
    h("a", { href: `#/s/${id}/account`, class: "btn btn-big", id: "add-account" }, t("add_account")),
    h("a", { href: `#/s/${id}/edit`, class: "btn btn-big", id: "edit-stall" }, t("edit_stall")));

  // Opening the PDF records nothing: the sign counts as issued once the volunteer confirms the
  // sheet came out of the printer.
  const printedBox = h("div", { id: "printed-box" });
  async function printSign() {
    const acc = accounts[accountIndex];
    if (acc && acc.stopped_by_partner && !window.confirm(t("sign_stopped_confirm"))) return;
    toast(t("pdf_opening"), "info", 6000, "pdf");
    let file;
    try {
      file = await api.openFile(`/api/stalls/${id}/sign.pdf${acc ? `?account_id=${acc.id}` : ""}`, `bien-${stall.stall_code}.pdf`);
      dropToast("pdf"); // opened: the question below is what matters now
    } catch (err) {
      toast(describeError(err), "error");
      return;
    }
    // A text too long for the sign even at its smallest size is cut there (qr/sign.py), while the
    // preview above shows it whole: said before the volunteer confirms the print.
    const cut = ((file && file.headers && file.headers.get("Sign-Shortened")) || "")
      .split(",").map((x) => x.trim()).filter((x) => ["market_name", "stall_code", "holder_name", "goods"].includes(x));
    // What the PDF carries (its payment code's digest): the confirmation sends it back, and the
    // server refuses it if the account was corrected meanwhile (a queued correction sent while the
    // sheet printed): that sheet pays the old account.
    const digest = (file && file.headers && file.headers.get("Sign-Digest")) || null;
    printedBox.replaceChildren(h("div", { class: "card print-confirm" },
      cut.length ? h("p", { class: "note note-warn", id: "sign-shortened", role: "status" }, t("sign_shortened", { what: cut.map((x) => t(`cut_${x}`)).join(", ") })) : null,
      h("p", {}, t("print_sign_question")),
      h("div", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-primary", id: "confirm-printed", onclick: () => printed(acc, digest) }, t("print_sign_done")),
        h("button", { type: "button", class: "btn", onclick: () => printedBox.replaceChildren() }, t("print_job_later")))));
  }

  async function printed(acc, digest) {
    const rec = await outbox.add("printed", { stall_id: id, market_id: stall.market_id, label: stall.stall_code, account_id: acc ? acc.id : null, ...(digest ? { body: { sign_digest: digest } } : {}) });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    printedBox.replaceChildren();
    if (done.state === "sent") {
      toast(t("printed_ok"), "ok");
      stallView(ctx, id, handingOver ? new URLSearchParams({ handover: "1" }) : null);
    } else if (done.state === "failed" && done.error && done.error.code === "sign_changed") {
      // Nothing to fix in the queue: the sheet is thrown away and the sign, drawn again with the
      // account as it is now, printed again.
      await outbox.remove(rec.id);
      toast(errorText("sign_changed"), "error", 12000);
      api.cache.set(`stall.${id}`, null);
      stallView(ctx, id, handingOver ? new URLSearchParams({ handover: "1" }) : null);
    }
    else if (done.state === "failed") toast(`${t("state_failed")}: ${errorText(done.error.code)}`, "error");
    else toast(t("printed_queued"), "warn");
  }

  async function delivered() {
    // A sign no print of which is recorded (the button sits under "In biển": a slip in a crowded
    // market) is asked about first; one printed outside the app is still recorded when confirmed.
    const known = tile && "sign_issued_at" in tile;
    if (known && !tile.sign_issued_at && !tile.sign_delivered_at && !tile.verified_at) {
      const sure = await confirmDialog({
        id: "delivered-dialog", title: t("delivered_unprinted_title"), lines: [t("delivered_unprinted_text")],
        ok: t("delivered_unprinted_ok"), cancel: t("cancel"),
      });
      if (!sure) return;
    }
    const rec = await outbox.add("delivered", { stall_id: id, market_id: stall.market_id, label: stall.stall_code, body: {} });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    if (done.state === "sent") { toast(t("delivered_ok"), "ok"); stallView(ctx, id, null); }
    else if (done.state === "failed") toast(`${t("state_failed")}: ${errorText(done.error.code)}`, "error");
    else toast(t("delivered_queued"), "warn");
  }

  // Whom the stallholder calls when a transfer goes wrong: the partners that set up its accounts
  // in use, with the number an administrator recorded for them (none recorded: nothing shown).
  const supports = new Map();
  for (const a of stall.payment_accounts || []) {
    const p = a.active !== false && a.partner_code ? (partners || []).find((x) => x.code === a.partner_code) : null;
    if (p && p.support_phone) supports.set(p.code, p);
  }
  // The support line of the tips only when every sign the stall can get prints a number (each
  // sign shows its own account's partner's, qr/sign.py footer_text).
  const signsShowSupport = accounts.length > 0 && accounts.every((a) => a.partner_code && supports.has(a.partner_code));
  // Where the stallholder can take the money out as cash or get help near the market (partners'
  // service points, users_want #22): filled in after the page is drawn, from the last answer
  // kept on the device when offline; nothing shown when the market has none.
  const near = nearPoints(stall.market_id, handingOver && canPrint);
  // How the stallholder sees a payment arrive (users_want #23): asked with the new sign.
  const confirmShown = h("dd", { id: "confirm-by-shown" }, confirmText(stall.confirm_by));
  const canAsk = !stale && ctx.canWork() && accounts.length > 0;
  const details = h("dl", { class: "details" },
    h("dt", {}, t("holder")), h("dd", {}, stall.holder.full_name || "—"),
    h("dt", {}, t("phone")), h("dd", {}, nationalPhone(stall.holder.phone) || "—"),
    h("dt", {}, t("goods")), h("dd", {}, stall.goods || "—"),
    h("dt", {}, t("zone")), h("dd", {}, stall.zone || "—"),
    h("dt", {}, t("status")), h("dd", {}, t(`st_${stall.status}`)),
    h("dt", {}, t("confirm_by")), confirmShown,
    h("dt", {}, t("accepts_title")), h("dd", { id: "also-accepts-shown" }, alsoText(stall.also_accepts)),
    stall.licence_no || (ctx.market(stall.market_id) || {}).asks_licence
      ? [h("dt", {}, t("licence")), h("dd", { id: "licence-shown" }, stall.licence_no || "—")] : null,
    tile && tile.sign_delivered_at ? [h("dt", {}, t("mark_delivered")), h("dd", {}, dateTime(tile.sign_delivered_at))] : null,
    tile && tile.verified_at ? [h("dt", {}, t("level_qr_verified")), h("dd", {}, dateTime(tile.verified_at))] : null,
    h("dt", {}, t("accounts")), h("dd", {}, (stall.payment_accounts || []).length
      ? h("ul", { class: "plain", id: "account-list" }, (stall.payment_accounts || []).map((a) => h("li", { dataset: { account: a.id, active: String(a.active !== false) } },
        // An erased person's number is gone ("~" and an id): said as such, never shown.
        // Parts that are empty (an erased person's account keeps no name) leave no " · · ".
        [bankOf(a), a.account_number.startsWith("~") ? t("history_erased") : a.account_number, a.account_name,
          a.partner_code ? t("account_opened_by", { partner: partnerName(partners, a.partner_code) }) : ""].filter(Boolean).join(" · "),
        a.active === false
          ? [" ", h("span", { class: "badge badge-muted" }, t("account_inactive")),
            // An erased person's accounts stay stopped (their numbers are gone: "~" and an id).
            a.account_number.startsWith("~") ? null : [" ", h("a", { href: `#/s/${id}/account/${a.id}`, class: "btn btn-small", id: `reuse-account-${a.id}` }, t("account_on"))]]
          : [
            // Its own bank or wallet stopped it: the sign may bring no money in (why the stall is
            // on the return-visit list).
            a.stopped_by_partner ? [" ", h("span", { class: "badge badge-warn account-stopped" }, t(`account_stopped_${a.stopped_by_partner}`))] : null,
            " ", h("a", { href: `#/s/${id}/account/${a.id}`, class: "btn btn-small", id: `fix-account-${a.id}` }, t("account_fix"))])))
      : "—"),
    supports.size ? [h("dt", {}, t("support_line")), h("dd", { id: "support-lines" },
      h("ul", { class: "plain" }, [...supports.values()].map((p) => h("li", { dataset: { partner: p.code } },
        `${p.name || p.code}: `, h("a", { href: `tel:${p.support_phone.replace(/[ .-]/g, "")}` }, p.support_phone)))))] : null,
    near.dt, near.dd);
  // The sign at the stall shows an account corrected or deactivated since it was printed.
  const reprint = tile && tile.sign_reprint_needed
    ? h("p", { class: "note note-warn", id: "reprint-needed", role: "status" },
      h("strong", {}, t("reprint_needed")),
      tile.sign_reprint_reason ? [" — ", t(`reprint_${tile.sign_reprint_reason}`)] : null)
    : null;

  const savedText = !accounts.length ? t("stall_saved_no_account", { code: stall.stall_code })
    : signBlocked ? t("stall_saved_no_consent", { code: stall.stall_code })
      : t("stall_saved_banner", { code: stall.stall_code });
  mount(ctx.main,
    isNew ? h("p", { class: ["note", canPrint ? "note-ok" : "note-warn"], role: "status", id: "saved-banner" }, savedText) : null,
    stale ? h("p", { class: "note note-warn" }, t("stale_data", { time: time(at) })) : null,
    h("div", { class: "page-head" },
      h("h1", {}, titleWithCode("stall_title", stall.stall_code)),
      h("p", { class: "muted" }, [market ? market.name : "", stall.zone ? zoneLabel(stall.zone) : ""].filter(Boolean).join(" · "))),
    tile && tile.level !== "inactive" ? stepper(tile.level, tile.needs_revisit, tile.revisit_reason) : null,
    reprint,
    // One column on a phone, in the order of the work: the sign, printing it, the holder's
    // answers, then the records. Two from 720 px (a tablet): the sign with what the stall is and
    // receives on the left, what to do and what was done on the right (stallLayout).
    stallLayout([
      ["left", h("section", { class: "card", "aria-labelledby": "sign-h" }, h("h2", { id: "sign-h" }, t("sign_preview")), accountTabs, signBox)],
      ["right", actions], ["right", printedBox],
      ["right", handingOver && canPrint ? tellHolder(signsShowSupport, canAsk ? confirmAsk(stall, confirmShown, "h3") : null, near.tip)
        // Not answered yet (registered offline, or the page drawn again after the print): asked
        // on its own until someone answers.
        : canAsk && stall.confirm_by == null
          ? h("section", { class: "card", id: "confirm-card", "aria-labelledby": "c-confirm-label" }, confirmAsk(stall, confirmShown, "h2"))
          : null],
      ["right", blockedReason && !bannerSaysWhy ? h("p", { class: "note note-warn", id: "print-blocked" }, blockedReason) : null],
      ["right", consentCard(ctx, stall, purposes, states, partners)],
      ["left", h("section", { class: "card" }, details)],
      // What partners reported it received (users_want #25); not on the page that opens right
      // after "Lưu sạp": a stall registered a moment ago has none.
      ["left", ctx.canWork() && !isNew && !stall.holder.erased
        ? takingsCard(stall, (code) => ((partners || []).find((p) => p.code === code) || {}).name || code, { open: Boolean(params && params.get("takings")) })
        : null],
      ["left", ctx.canWork() ? visitsCard(ctx, stall, listed, tile) : null],
      ["right", ctx.canWork() ? supportCard(stall, true) : null],
      ["right", historyCard(stall.id, banks)],
      ["right", RIGHTS_ROLES.includes(ctx.me && ctx.me.role) && stall.holder.id && !stall.holder.erased ? readersCard(stall.holder.id) : null],
    ]),
    h("p", {}, h("a", { href: `#/m/${stall.market_id}`, class: "btn btn-ghost" }, "← ", t("back"))));
  await drawSign();
  if (isNew) announce(savedText);
}

const TABLET = window.matchMedia("(min-width: 720px)");

/**
 * The stall page's parts ([column, element], in the phone's order): one column on a phone, the
 * parts in that order; from 720 px the "left" parts in one column and the "right" ones in the
 * other. The nodes themselves are placed (and moved when the screen turns), so that what a
 * screen reader or the keyboard goes through is what is shown, in the same order.
 */
function stallLayout(parts) {
  const shown = parts.filter(([, el]) => el);
  const el = h("div", { class: "stall-layout" });
  function arrange() {
    if (!el.isConnected && el.childElementCount) { TABLET.removeEventListener("change", arrange); return; }
    if (TABLET.matches) {
      const column = (side) => h("div", { class: "stall-col" }, shown.filter(([s]) => s === side).map(([, part]) => part));
      el.replaceChildren(column("left"), column("right"));
    } else {
      el.replaceChildren(...shown.map(([, part]) => part));
    }
  }
  arrange();
  TABLET.addEventListener("change", arrange);
  return el;
}

/**
 * What the volunteer tells the stallholder with a new sign (users_want #23): shoppers may show a
 * forged "transfer done" screenshot, or send 200 đồng so that a sound box reads "hai trăm". Shown
 * once, on the page that opens after "Lưu sạp"; the support line only when the sign prints one.
 */
function tellHolder(withSupport, ask, pointsTip) {
  return h("section", { class: "card", id: "tell-holder", "aria-labelledby": "tell-holder-h" },
    h("h2", { id: "tell-holder-h" }, t("tell_holder_title")),
    h("ul", { class: "tell-holder" },
      h("li", {}, t("tell_holder_money")),
      h("li", {}, t("tell_holder_amount")),
      h("li", {}, t("tell_holder_screenshot")),
      withSupport ? h("li", {}, t("tell_holder_support")) : null,
      pointsTip),
    ask);
}

/** The market's service points: a details row and a tip, both hidden until there are some. */
function nearPoints(marketId, inTips) {
  const dt = h("dt", { hidden: true }, t("near_points"));
  const list = h("ul", { class: "plain" });
  const dd = h("dd", { id: "near-points", hidden: true }, list);
  const tip = h("li", { id: "tell-holder-points", hidden: true });
  api.cachedGet(`points.${marketId}`, `/api/service-points?market_id=${marketId}`).then(({ value }) => {
    const points = (value && value.points) || [];
    if (!points.length) return;
    const said = (p) => `${p.name}${p.opening_hours ? ` (${p.opening_hours})` : ""}`;
    list.replaceChildren(...points.map((p) => h("li", { dataset: { point: p.id } }, said(p),
      p.support_phone ? [" · ", h("a", { href: `tel:${p.support_phone.replace(/[ .-]/g, "")}` }, p.support_phone)] : null)));
    tip.textContent = t("tell_holder_points", { points: points.map(said).join("; ") });
    // Said once: in the new sign's tips when they are shown, else in the stall's details.
    tip.hidden = false;
    dt.hidden = dd.hidden = inTips;
  }, () => { /* no answer and nothing kept: nothing to show */ });
  return { dt, dd, tip };
}

// How a stallholder learns that a payment arrived (merchants.schemas.CONFIRM_TOOLS, in its order).
const CONFIRM_TOOLS = ["bank_app", "sound_box", "sms"];

/** The stall's answer in words: null = not asked yet, [] = asked, nothing. */
function confirmText(tools) {
  if (tools === null || tools === undefined) return t("confirm_unknown");
  if (!tools.length) return t("confirm_none");
  return tools.map((x) => t(`confirm_${x}`)).join(", ");
}

/**
 * Tick boxes for the tools and "none" (which clears the others, and the others it). onChange gets
 * the list in CONFIRM_TOOLS order, [] for "none", null when nothing is ticked (no answer).
 */
function confirmChips(prefix, value, onChange) {
  return multiChips(prefix, CONFIRM_TOOLS.map((x) => [x, t(`confirm_${x}`)]), t("confirm_none"), value, onChange);
}

/** Tick-boxes for a list answer: some of `options` ([code, words]), or the last box (`noneText`)
 * for none of them ([]); nothing ticked is no answer (null). */
function multiChips(prefix, options, noneText, value, onChange) {
  const codes = options.map(([code]) => code);
  const boxes = {};
  const group = h("div", { class: "chips", role: "group", id: prefix, "aria-labelledby": `${prefix}-label` });
  for (const [code, words] of [...options, ["none", noneText]]) {
    const id = `${prefix}-${code}`;
    const box = h("input", {
      type: "checkbox", id, value: code, class: "chip-input",
      checked: Array.isArray(value) && (code === "none" ? value.length === 0 : value.includes(code)),
    });
    boxes[code] = box;
    box.addEventListener("change", () => {
      if (box.checked && code === "none") for (const x of codes) boxes[x].checked = false;
      if (box.checked && code !== "none") boxes.none.checked = false;
      const ticked = codes.filter((x) => boxes[x].checked);
      onChange(ticked.length ? ticked : boxes.none.checked ? [] : null);
    });
    group.append(box, h("label", { for: id, class: "chip" }, words));
  }
  return group;
}

// Other ways a stall takes payment besides its VietQR sign (merchants.schemas.ALSO_ACCEPTS).
const ALSO_ACCEPTS = ["card", "intl_qr", "phone_transfer"];

function alsoChips(prefix, value, onChange) {
  return multiChips(prefix, ALSO_ACCEPTS.map((x) => [x, t(`accepts_${x}`)]), t("accepts_none"), value, onChange);
}

/** The stall's answer in words: null = not asked yet, [] = the VietQR sign only. */
function alsoText(methods) {
  if (methods === null || methods === undefined) return t("accepts_unknown");
  if (!methods.length) return t("accepts_none");
  return methods.map((x) => t(`accepts_${x}`)).join(", ");
}

/** A PATCH of the stall through the queue (sent now when online); a 412 because the stall moved on
 * since the page was drawn (an account added, an edit on another device) is sent again once on
 * the stall's new version: the change is one field the other change did not touch. */
async function patchStall(stall, body) {
  for (let round = 0; ; round += 1) {
    const rec = await outbox.add("patch", { stall_id: stall.id, market_id: stall.market_id, if_match: stall.version, body, label: stall.stall_code });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    if (done.state !== "failed") {
      if (done.result && done.result.version != null) stall.version = done.result.version;
      return done;
    }
    await outbox.remove(rec.id);
    if (round > 0 || done.error.code !== "version_conflict") return done;
    try {
      stall.version = (await api.getJSON(`/api/stalls/${stall.id}`)).version;
    } catch { return done; }
  }
}

/** "Chủ sạp biết tiền về bằng cách nào?", asked with the new sign (users_want #23); a stall whose
 * holder checks nothing gets the tip to turn notifications on. `shown` is the details' line. */
function confirmAsk(stall, shown, heading) {
  let answer = stall.confirm_by ?? null;
  const error = h("p", { class: "form-error", role: "alert", id: "confirm-error" });
  const tip = h("p", { class: "note note-warn", id: "confirm-none-tip", hidden: !(Array.isArray(answer) && !answer.length) }, t("confirm_none_tip"));
  const chips = confirmChips("c-confirm", answer, (value) => { answer = value; error.textContent = ""; });
  const save = h("button", { type: "button", class: "btn", id: "confirm-save" }, t("confirm_save"));
  save.addEventListener("click", async () => {
    if (answer === null) { error.textContent = t("confirm_pick"); return; }
    const sent = [...answer];
    save.disabled = true;
    const done = await patchStall(stall, { confirm_by: sent });
    save.disabled = false;
    if (done.state === "failed") { error.textContent = errorText(done.error.code); return; }
    stall.confirm_by = sent;
    shown.textContent = confirmText(sent);
    tip.hidden = sent.length > 0;
    toast(done.state === "sent" ? t("confirm_saved") : t("edit_queued"), done.state === "sent" ? "ok" : "warn", 8000, "saved");
  });
  return h("div", { class: "confirm-ask", id: "confirm-ask" },
    h(heading, { id: "c-confirm-label" }, t("confirm_ask")),
    h("p", { class: "muted small" }, t("confirm_hint")),
    chips, error, h("div", { class: "row-actions" }, save), tip);
}

const HISTORY_ACTIONS = [
  "register", "update", "import", "add_payment_account", "correct_payment_account", "deactivate_payment_account",
  "reactivate_payment_account", "print_confirmed", "sign_printed", "sign_delivered", "verify", "verify_failed", "fees_cashless", "visit",
  "assign", "unassign", "support", "revisit_flagged", "revisit_cleared",
];
const HISTORY_LIMIT = 100;

/** One value of a change as people read it (a bank by its name, a status in words). */
function historyValue(field, value, banks) {
  if (field === "confirm_by" && (value === null || value === undefined)) return t("confirm_unknown");
  if (field === "also_accepts" && (value === null || value === undefined)) return t("accepts_unknown");
  if (field.startsWith("support_")) return t(`support_${["offered", "delivered", "declined"].includes(value) ? value : "none"}`);
  if (value === null || value === undefined || value === "") return "—";
  if (value === "[erased]") return t("history_erased");
  if (field === "account_bin") return bankShort(banks, value);
  if (field === "status") return t(`st_${value}`);
  if (field === "zone") return zoneLabel(value);
  if (field === "fees_cashless") return t(value === "true" ? "hv_yes" : "hv_no");
  if (field === "confirm_by") return confirmText(value === "none" ? [] : value.split(",").filter((x) => CONFIRM_TOOLS.includes(x)));
  if (field === "also_accepts") return alsoText(value === "none" ? [] : value.split(",").filter((x) => ALSO_ACCEPTS.includes(x)));
  return value;
}

function historyDetail(e) {
  if (e.action === "verify" && ["scan", "name_match"].includes(e.detail)) return t(`hist_detail_${e.detail}`);
  if (e.action === "verify_failed" && ["qr_mismatch", "qr_invalid"].includes(e.detail)) return t(`visit_reason_${e.detail}`);
  if (e.action === "visit" && OUTCOMES.includes(e.detail)) return t(`vo_${e.detail}`);
  if (e.action.startsWith("revisit_") && ["account_suspended", "account_removed"].includes(e.detail)) return t(`visit_reason_${e.detail}`);
  return null;
}

/** "Lịch sử thay đổi": what was done to the stall, by whom, when and why, on request (the read is
 * logged, and a slow network need not fetch it with every stall). */
function historyCard(stallId, banks) {
  const box = h("div", { id: "history" });
  const btn = h("button", { type: "button", class: "btn btn-small", id: "show-history" }, t("history_show"));
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      const rows = await api.getJSON(`/api/stalls/${stallId}/history?limit=${HISTORY_LIMIT}`);
      box.replaceChildren(...[rows.length
        ? h("ol", { class: "plain history-list" }, rows.map((e) => {
          const acc = e.account ? `${bankShort(banks, e.account.bin)} ${e.account.account_number || ""}`.trim() : null;
          const detail = historyDetail(e);
          return h("li", { dataset: { action: e.action } },
            h("p", {}, h("strong", {}, t(HISTORY_ACTIONS.includes(e.action) ? `hist_${e.action}` : "hist_other")),
              acc ? ` · ${acc}` : "", detail ? ` · ${detail}` : ""),
            h("p", { class: "muted small" }, `${dateTime(e.at)} · ${e.actor || t("history_system")}`),
            e.reason ? h("p", { class: "small" }, t("history_reason", { reason: e.reason === "[erased]" ? t("history_erased") : e.reason })) : null,
            e.changes.length ? h("ul", { class: "small history-changes" }, e.changes.map((c) => h("li", {},
              `${t(`hf_${c.field}`)}: ${historyValue(c.field, c.before, banks)} → ${historyValue(c.field, c.after, banks)}`))) : null);
        }))
        : h("p", { class: "muted" }, t("history_none")),
      rows.length >= HISTORY_LIMIT ? h("p", { class: "muted small" }, t("history_more", { n: rows.length })) : null].filter(Boolean));
      btn.hidden = true;
    } catch (err) {
      box.replaceChildren(h("p", { class: "form-error" }, errorText(err.code)));
      btn.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "history-h" },
    h("h2", { id: "history-h" }, t("history_title")), h("p", { class: "muted small" }, t("history_intro")),
    h("div", { class: "row-actions" }, btn), box);
}

// Who acts on data-subject rights (privacy.access.RIGHTS_ROLES): they may see who read a record.
const RIGHTS_ROLES = ["admin", "manager"];

/** "Ai đã xem hồ sơ này": the reads of the stallholder's full record, newest first, on request. */
function readersCard(holderId) {
  const box = h("div", { id: "readers" });
  const btn = h("button", { type: "button", class: "btn btn-small", id: "show-readers" }, t("readers_show"));
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      const rows = await api.getJSON(`/api/stallholders/${holderId}/access-log`);
      box.replaceChildren(...[rows.length
        ? h("ul", { class: "plain readers-list" }, rows.slice(0, 50).map((r) => h("li", {},
          h("strong", {}, dateTime(r.at)), " · ", r.actor || t("readers_unknown"), " · ", t(readReason(r)))))
        : h("p", { class: "muted" }, t("readers_none")),
      rows.length > 50 ? h("p", { class: "muted small" }, t("readers_more", { n: rows.length - 50 })) : null].filter(Boolean));
      btn.hidden = true;
    } catch (err) {
      box.replaceChildren(h("p", { class: "form-error" }, errorText(err.code)));
      btn.disabled = false;
    }
  });
  // The person asked for their data: the export is recorded as their request, and saved here.
  const exportBtn = h("button", { type: "button", class: "btn btn-small", id: "export-person" }, t("export_person"));
  exportBtn.addEventListener("click", async () => {
    exportBtn.disabled = true;
    try {
      const { data } = await api.sendJSON("POST", `/api/stallholders/${holderId}/export`, {});
      saveJson(data, `du-lieu-nguoi-${holderId}.json`);
      toast(t("export_person_done"), "ok");
    } catch (err) {
      toast(errorText(err.code), "error");
    } finally {
      exportBtn.disabled = false;
    }
  });
  // The same export as a page in Vietnamese to hand the person (also recorded as their request).
  const printBtn = h("button", { type: "button", class: "btn btn-small", id: "export-person-pdf" }, t("export_person_pdf"));
  printBtn.addEventListener("click", async () => {
    printBtn.disabled = true;
    try {
      await api.downloadFile(`/api/stallholders/${holderId}/export?format=pdf`, `du-lieu-ca-nhan-${holderId}.pdf`, { method: "POST" });
      toast(t("export_person_done"), "ok");
    } catch (err) {
      toast(errorText(err.code), "error");
    } finally {
      printBtn.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "readers-h" },
    h("h2", { id: "readers-h" }, t("readers_title")), h("p", { class: "muted small" }, t("readers_intro")),
    h("div", { class: "row-actions" }, btn, printBtn, exportBtn), box);
}

function partnerName(partners, code) {
  const p = (partners || []).find((x) => x.code === code);
  return p && p.name ? p.name : code;
}

function purposeLabel(purpose, partners) {
  return purpose.startsWith("share_partner:")
    ? t("purpose_share_partner", { name: partnerName(partners, purpose.slice("share_partner:".length)) })
    : t(`purpose_${purpose}`);
}

/** A checkbox per purpose (`prefix`-purpose-<purpose>), none ticked: [[input, row], ...]. */
function purposeChecks(prefix, list, partners) {
  return list.map((p) => {
    const cid = `${prefix}-purpose-${p.replace(/[^a-z0-9_-]/gi, "_")}`;
    const box = h("input", { type: "checkbox", id: cid, name: `${prefix}-purpose`, value: p });
    return [box, h("div", { class: "check check-big" }, box, h("label", { for: cid }, purposeLabel(p, partners)))];
  });
}

/** The button that shows and hides a form below it (`onOpen` when it opens). */

/**
 * The stallholder withdraws consent (told to the volunteer or the market board): the purposes they
 * name, none ticked in advance, said back before it is recorded. Withdrawing "registration" opens a
 * request to erase their data; withdrawing the sign stops printing it. Online only: it takes effect
 * at once on the server.
 */
function withdrawPart(ctx, stall, granted, partners) {
  const error = h("p", { class: "field-error", id: "w-consent-error", role: "alert", hidden: true });
  const boxes = purposeChecks("w", granted, partners);
  const saveBtn = h("button", { type: "submit", class: "btn btn-danger", id: "withdraw-save" }, t("withdraw_save"));
  const form = h("form", { id: "withdraw-form", novalidate: true, hidden: true },
    h("p", { class: "hint" }, t("withdraw_intro")),
    h("div", { class: "consents", id: "w-consent", "aria-describedby": "w-consent-error" }, boxes.map(([, row]) => row)),
    error,
    h("div", { class: "row-actions" }, saveBtn));
  const openBtn = opener({ id: "consent-withdraw", className: "btn btn-ghost", label: t("withdraw_open") }, form);
  const say = (code) => { error.textContent = errorText(code); error.hidden = false; };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const picked = boxes.filter(([b]) => b.checked).map(([b]) => b.value);
    if (!picked.length) { error.textContent = t("no_withdraw_purpose"); error.hidden = false; return; }
    if (!navigator.onLine) { say("withdraw_offline"); return; }
    error.hidden = true;
    const ok = await confirmDialog({
      id: "withdraw-dialog",
      title: t("withdraw_confirm_title"),
      // Withdrawing the registration withdraws every purpose (privacy/consent.py): all are named.
      lines: [(picked.includes("registration") ? granted : picked).map((p) => purposeLabel(p, partners)).join("; "),
        picked.includes("registration") ? t("withdraw_registration_note") : null,
        picked.includes("qr_sign") ? t("withdraw_sign_note") : null],
      ok: t("withdraw_save"), cancel: t("cancel"),
    });
    if (!ok) return;
    saveBtn.disabled = true;
    try {
      await api.sendJSON("POST", `/api/stallholders/${stall.holder.id}/consents/withdraw`, { purposes: picked });
      api.cache.set(`consents.${stall.holder.id}`, null);
      // The page is drawn again without asking for a sign the stallholder no longer agrees to
      // (the request would be refused: 409 consent_withdrawn).
      if (picked.includes("registration") || picked.includes(consents.SIGN)) consents.remember(stall.market_id, stall.id, "withdrawn");
      toast(t("withdraw_done"), "ok");
      stallView(ctx, stall.id, null);
    } catch (err) {
      say(err.code || "generic");
      saveBtn.disabled = false;
    }
  });
  return h("div", { class: "withdraw" }, openBtn, form);
}

/**
 * Consent per purpose, and a way to record what is missing: the notice is shown to read aloud, no
 * box is ticked for the volunteer, and the grant goes through the outbox (so it works offline too).
 */
function consentCard(ctx, stall, purposes, states, partners) {
  const card = h("section", { class: "card", id: "consent-card", "aria-labelledby": "consent-h" }, h("h2", { id: "consent-h" }, t("consent_title")));
  if (stall.holder && stall.holder.erased) {  // erased on request: nothing to read, not a network problem
    card.append(h("p", { class: "muted", id: "consent-erased" }, t("consent_erased")));
    return card;
  }
  if (!states) {
    card.append(h("p", { class: "muted" }, t("consent_unknown")));
    return card;
  }
  const stateText = { granted: t("consent_granted"), missing: t("consent_not_given"), withdrawn: t("consent_was_withdrawn"), pending: t("consent_waiting") };
  card.append(h("ul", { class: "consent-list" }, purposes.map((p) => h("li", { dataset: { purpose: p, state: states[p] } },
    h("span", {}, purposeLabel(p, partners)),
    h("span", { class: ["badge", states[p] === "granted" ? "consent-yes" : states[p] === "pending" ? "consent-wait" : "consent-no"] }, stateText[states[p]])))));
  const granted = purposes.filter((p) => states[p] === "granted");
  if (granted.length && ctx.canWork()) card.append(withdrawPart(ctx, stall, granted, partners));
  const open = purposes.filter((p) => states[p] !== "granted" && states[p] !== "pending");
  if (!open.length) return card;

  const formError = h("p", { class: "field-error", id: "c-consent-error", hidden: true });
  const boxes = purposeChecks("c", open, partners);
  const saveBtn = h("button", { type: "submit", class: "btn btn-primary", id: "consent-save" }, t("consent_save"));
  const form = h("form", { class: "consent-form", id: "consent-form", novalidate: true, hidden: true },
    h("section", { class: "notice", "aria-labelledby": "c-notice-h", tabindex: "0" },
      h("h3", { id: "c-notice-h" }, t("notice_heading")),
      noticeVersion() ? h("p", { class: "muted small" }, t("notice_version_line", { v: noticeVersion() })) : null,
      noticeVersion() ? noticeText().map((line) => h("p", {}, line)) : h("p", { class: "field-error", role: "alert" }, t("notice_missing"))),
    h("p", { class: "hint" }, t("consent_add_intro")),
    h("div", { class: "consents", id: "c-consent", "aria-describedby": "c-consent-error" }, boxes.map(([, row]) => row)),
    formError,
    h("div", { class: "row-actions" }, saveBtn));
  const openBtn = opener({ id: "consent-add", className: "btn", label: t("consent_add") }, form,
    () => form.querySelector("section.notice").focus());
  for (const [box] of boxes) box.addEventListener("change", () => { if (boxes.some(([b]) => b.checked)) { formError.hidden = true; formError.textContent = ""; } });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const picked = boxes.filter(([b]) => b.checked).map(([b]) => b.value);
    const problem = !noticeVersion() ? "notice_missing" : !picked.length ? "no_purpose" : null;
    if (problem) {
      formError.textContent = errorText(problem);
      formError.hidden = false;
      return;
    }
    saveBtn.disabled = true;
    const rec = await outbox.add("consent", {
      stall_id: stall.id, market_id: stall.market_id, holder_id: stall.holder.id, label: stall.stall_code,
      body: { notice_version: noticeVersion(), purposes: picked, channel: "tablet" },
    });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    saveBtn.disabled = false;
    if (done.state === "failed") {
      await outbox.remove(rec.id);
      formError.textContent = errorText(done.error.code);
      formError.hidden = false;
      return;
    }
    if (done.state === "sent") {
      api.cache.set(`consents.${stall.holder.id}`, null);
      toast(t("consent_saved"), "ok");
    } else {
      toast(t("consent_queued"), "warn");
    }
    stallView(ctx, stall.id, null);
  });
  card.append(openBtn, form);
  return card;
}

/** What a read of the person's record was, in words (the server names older stall-list
 * downloads `list_export` too: privacy.queries.access_log_of). */
function readReason(r) {
  return ["stall_record", "stall_sign", "stall_history", "stall_visits", "stall_takings", "export", "list_export", "partner_accounts"].includes(r.reason) ? `read_reason_${r.reason}` : "read_reason_other";
}

/** Edit a stall's details (PATCH with If-Match; queued like a registration when offline). */
export async function editView(ctx, id) {
  const { stall } = await loadStall(id);
  const draftKey = `choso.draft.${ctx.me.username}.edit.${id}`;
  const initial = {
    stall_code: stall.stall_code, zone: stall.zone || "", goods: stall.goods || "",
    full_name: stall.holder.full_name || "", phone: nationalPhone(stall.holder.phone), status: stall.status,
    confirm_by: stall.confirm_by ?? null,
    also_accepts: stall.also_accepts ?? null,
    licence_no: stall.licence_no || "",
  };
  let st = { ...initial };
  // An edit the server refused earlier (sent from the queue) comes back here to be fixed.
  const refused = (await outbox.list()).find((r) => r.kind === "patch" && r.stall_id === id && r.state === "failed");
  if (refused && refused.body) {
    const b = refused.body;
    for (const key of ["stall_code", "zone", "goods", "status", "licence_no"]) if (key in b) st[key] = b[key] || "";
    if (b.holder && "full_name" in b.holder) st.full_name = b.holder.full_name;
    if (b.holder && "phone" in b.holder) st.phone = b.holder.phone || "";
    if ("confirm_by" in b) st.confirm_by = b.confirm_by;
    if ("also_accepts" in b) st.also_accepts = b.also_accepts;
  }
  try { st = { ...st, ...JSON.parse(localStorage.getItem(draftKey) || "{}") }; } catch { /* no draft */ }
  const fieldKey = { "f-stall_code": "stall_code", "f-zone": "zone", "f-goods": "goods", "f-name": "full_name", "f-phone": "phone", "f-licence": "licence_no" };
  const valueOf = (fid) => (fieldKey[fid] ? String(st[fieldKey[fid]] || "").trim() : undefined);
  const check = (fid) => {
    if (fid === "f-stall_code" && !st.stall_code.trim()) return "missing";
    if (fid === "f-stall_code" && !codeOk(st.stall_code, STALL_CODE_MAX)) return "invalid_stall_code";
    if (fid === "f-zone" && st.zone && !codeOk(st.zone, ZONE_MAX)) return "invalid_zone";
    if (fid === "f-goods") return goodsProblem(st.goods);
    if (fid === "f-name" && !st.full_name.trim()) return "missing";
    if (fid === "f-name") return nameProblem(st.full_name);
    if (fid === "f-phone" && st.phone.trim() && !looksLikePhone(st.phone)) return "invalid_phone";
    if (fid === "f-licence" && licenceOf(st.licence_no) && !LICENCE.test(licenceOf(st.licence_no))) return "invalid_licence";
    return null;
  };
  let formRef = null;
  // The draft keeps only what was changed here: an untouched field must not bring back, later,
  // a value someone has changed since (the answer given with the sign, above all).
  const save = () => {
    const changed = {};
    for (const key of Object.keys(st)) {
      if (JSON.stringify(st[key] ?? null) !== JSON.stringify(initial[key] ?? null)) changed[key] = st[key];
    }
    localStorage.setItem(draftKey, JSON.stringify(changed));
    if (formRef) refreshErrors(formRef, { check, valueOf });
  };
  const input = (key, attrs = {}, limit = null) => {
    const el = h("input", { name: key, value: st[key], autocomplete: "off", spellcheck: "false", ...attrs });
    el.addEventListener("input", () => { st[key] = el.value; save(); });
    if (limit) limitLength(el, limit);
    return el;
  };
  // The market's current zones as chips (the stall's own zone too, even when it was retired); a
  // market that declares none takes any zone name.
  const market = ctx.market(stall.market_id) || await api.getJSON(`/api/markets/${stall.market_id}`).catch(() => null);
  const zones = market && market.zones && market.zones.length ? [...market.zones] : null;
  if (zones && initial.zone && !zones.includes(initial.zone)) zones.push(initial.zone);
  const zoneControl = zones
    ? h("div", { class: "chips", role: "radiogroup", id: "f-zone", "aria-labelledby": "f-zone-label", "aria-describedby": "f-zone-error" },
      [...zones, ""].map((z) => {
        const rid = `f-zone-${z ? z.replace(/[^\p{L}\p{N}_-]/gu, "_") : "none"}`;
        const r = h("input", { type: "radio", name: "zone", id: rid, value: z, class: "chip-input", checked: (st.zone || "") === z });
        r.addEventListener("change", () => { st.zone = z; save(); });
        return [r, h("label", { for: rid, class: "chip" }, z ? zoneLabel(z) : t("zone_other"))];
      }))
    : null;
  const statusBox = h("div", { class: "chips", role: "radiogroup", id: "e-status", "aria-labelledby": "e-status-label" },
    ["active", "vacant", "closed"].map((s) => {
      const rid = `e-status-${s}`;
      const r = h("input", { type: "radio", name: "status", id: rid, value: s, class: "chip-input", checked: st.status === s });
      r.addEventListener("change", () => { st.status = s; save(); });
      return [r, h("label", { for: rid, class: "chip" }, t(`st_${s}`))];
    }));
  const formError = h("p", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { type: "submit", class: "btn btn-primary btn-big" }, t("save"));
  // A number another stall of the market has is refused (possible_duplicate) until the volunteer
  // says the same person rents both stalls, as when registering.
  let confirmedPhone = null;
  const duplicateExtras = (problem) => ({
    possible_duplicate: h("div", { class: "dup-actions" },
      h("button", {
        type: "button", class: "btn btn-small", id: "confirm-duplicate",
        onclick: () => { confirmedPhone = st.phone.trim(); form.requestSubmit(); },
      }, t("dup_confirm")),
      problem && problem.existing_stall_id ? h("a", { href: `#/s/${problem.existing_stall_id}`, id: "see-duplicate" }, t("dup_see")) : null),
  });
  const form = h("form", { class: "register", novalidate: true },
    h("h1", {}, titleWithCode("edit_title", stall.stall_code)),
    h("fieldset", { class: "card" }, h("legend", {}, t("sec_stall")),
      h("div", { class: "grid2" },
        field({ id: "f-stall_code", label: t("stall_code"), control: input("stall_code", { autocapitalize: "characters" }, { id: "f-stall_code", max: STALL_CODE_MAX, code: "invalid_stall_code" }) }),
        zoneControl
          ? h("div", { class: "field", id: "f-zone-field" }, h("span", { class: "label", id: "f-zone-label" }, t("zone")), zoneControl,
            h("p", { class: "field-error", id: "f-zone-error", hidden: true }))
          : field({ id: "f-zone", label: t("zone"), control: input("zone", {}, { id: "f-zone", max: ZONE_MAX, code: "invalid_zone" }), optional: true })),
      field({ id: "f-goods", label: t("goods"), control: input("goods", {}, { id: "f-goods", max: 100, code: "invalid_goods" }), optional: true }),
      h("div", { class: "field" }, h("span", { class: "label", id: "e-status-label" }, t("status")), statusBox),
      h("div", { class: "field" }, h("span", { class: "label", id: "e-confirm-label" }, t("confirm_ask")),
        h("p", { class: "muted small" }, t("confirm_hint")),
        confirmChips("e-confirm", st.confirm_by, (value) => { st.confirm_by = value; save(); })),
      h("div", { class: "field" }, h("span", { class: "label", id: "e-also-label" }, t("accepts_ask")),
        h("p", { class: "muted small" }, t("accepts_hint")),
        alsoChips("e-also", st.also_accepts, (value) => { st.also_accepts = value; save(); })),
      // Only where the market's programme asks (or a number recorded then can be corrected).
      market && market.asks_licence || initial.licence_no
        ? field({ id: "f-licence", label: t("licence"), hint: t("licence_hint"), optional: true,
          control: input("licence_no", { autocapitalize: "characters" },
            { id: "f-licence", max: 30, code: "invalid_licence", count: (v) => licenceOf(v).length }) })
        : null),
    h("fieldset", { class: "card" }, h("legend", {}, t("sec_holder")),
      h("div", { class: "grid2" },
        field({ id: "f-name", label: t("full_name"), control: input("full_name", { autocapitalize: "words" }, { id: "f-name", max: 100, code: "invalid_name" }) }),
        field({ id: "f-phone", label: t("phone"), control: input("phone", { type: "tel", inputmode: "tel" }), optional: true }))),
    formError,
    h("div", { class: "sticky-actions" }, saveBtn,
      // Cancel drops what was typed: the next edit starts from the stall as it is.
      h("a", { href: `#/s/${id}`, class: "btn btn-ghost", id: "edit-cancel", onclick: () => localStorage.removeItem(draftKey) }, t("cancel"))));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {};
    for (const key of ["stall_code", "zone", "goods", "status"]) {
      if ((st[key] || "") !== (initial[key] || "") && (st[key] || "").trim()) body[key] = st[key].trim();
    }
    // A field emptied is removed (null): the stall leaves its zone ("other"), the goods go.
    if (initial.zone && !(st.zone || "").trim()) body.zone = null;
    if (initial.goods && !(st.goods || "").trim()) body.goods = null;
    if (licenceOf(st.licence_no) !== initial.licence_no) body.licence_no = licenceOf(st.licence_no) || null;
    // A new answer only (nothing ticked is no answer: it never takes one back).
    if (st.confirm_by != null && JSON.stringify(st.confirm_by) !== JSON.stringify(initial.confirm_by)) body.confirm_by = st.confirm_by;
    if (st.also_accepts != null && JSON.stringify(st.also_accepts) !== JSON.stringify(initial.also_accepts)) body.also_accepts = st.also_accepts;
    const holder = {};
    if (st.full_name.trim() !== initial.full_name) holder.full_name = st.full_name.trim();
    if (st.phone.trim() && st.phone.trim() !== initial.phone) holder.phone = st.phone.trim();
    else if (!st.phone.trim() && initial.phone) holder.phone = null;  // a wrong number taken off
    if (Object.keys(holder).length) body.holder = holder;
    // "The same person rents this stall too", said for this number (registration's duplicate check).
    if (holder.phone && holder.phone === confirmedPhone) body.confirm_duplicate = true;
    for (const fid of ["f-stall_code", "f-zone", "f-goods", "f-name", "f-phone", "f-licence"]) {
      const code = check(fid);
      if (code) setError(fid, errorText(code), null, { local: true, code });
    }
    if (form.querySelector(".has-error")) { focusFirstError(form); return; }
    if (!Object.keys(body).length) { ctx.go(`#/s/${id}`); return; }
    saveBtn.disabled = true;
    const rec = await outbox.add("patch", { stall_id: id, market_id: stall.market_id, if_match: stall.version, body, label: stall.stall_code });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    saveBtn.disabled = false;
    if (done.state === "failed") {
      await outbox.remove(rec.id);
      showProblem(formError, done.error, FIELD_MAP, duplicateExtras(done.error), {}, valueOf);
      if (!formError.textContent && !form.querySelector(".has-error")) formError.textContent = errorText(done.error.code);
      focusFirstError(form);
      return;
    }
    localStorage.removeItem(draftKey);
    if (refused) await outbox.remove(refused.id);
    toast(done.state === "sent" ? t("edit_saved") : t("edit_queued"), done.state === "sent" ? "ok" : "warn", 8000, "saved");
    ctx.leaveForm(`#/s/${id}`);
  });
  mount(ctx.main, form);
  formRef = form;
  if (refused && refused.error) {
    showProblem(formError, refused.error, FIELD_MAP, duplicateExtras(refused.error), {}, valueOf);
    if (!formError.textContent && !form.querySelector(".has-error")) formError.textContent = errorText(refused.error.code);
  }
}

/** Add a payment account to a stall registered without one (or a second one). */
export async function accountView(ctx, id) {
  const { stall } = await loadStall(id);
  const [banks, partners] = await Promise.all([ctx.loadBanks(), ctx.loadPartners()]);
  const draftKey = `choso.draft.${ctx.me.username}.account.${id}`;
  let st = { bin: "", account_number: "", account_name: nameFromHolder(stall.holder.full_name || ""), partner_code: "", reference: "", service: "account" };
  try { st = { ...st, ...JSON.parse(localStorage.getItem(draftKey) || "{}") }; } catch { /* no draft */ }
  const valueOf = (fid) => ({
    "f-bank": st.bin, "f-acct": accountNumber(st.account_number), "f-acctname": st.account_name.trim(),
    "f-ref": st.reference, "f-partner": st.partner_code,
  })[fid];
  const check = (fid) => {
    const number = accountNumber(st.account_number);
    if (fid === "f-bank" && !st.bin) return "invalid_bin";
    if (fid === "f-acct" && !/^[A-Za-z0-9]{1,19}$/.test(number)) return number ? "invalid_account_number" : "missing";
    if (fid === "f-acctname" && st.account_name.trim() && !/^[A-Z0-9 .,'-]{1,50}$/.test(st.account_name.trim())) return "invalid_account_name";
    if (fid === "f-ref" && needsMomoReference(st.bin, st.reference)) return "momo_reference_required";
    if (fid === "f-ref" && st.reference && !/^[A-Za-z0-9]{1,25}$/.test(st.reference)) return "invalid_reference";
    return null;
  };
  let formRef = null;
  const save = () => {
    localStorage.setItem(draftKey, JSON.stringify(st));
    if (formRef) refreshErrors(formRef, { check, valueOf });
  };
  const recent = recentPartners(ctx.me);
  const partnerSelect = h("select", { name: "partner_code" }, partnerOptions(partners, st.partner_code, st.bin, recent, banks));
  partnerSelect.addEventListener("change", () => { st.partner_code = partnerSelect.value; save(); });
  const picker = bankPicker({
    id: "f-bank", banks,
    onChange(b) {
      // Choosing the bank never chooses the partner (who helped open the account); it lists the
      // bank's own partner first.
      st.bin = b ? b.bin : "";
      st.shared_account_ok = false;
      partnerSelect.replaceChildren(...partnerOptions(partners, st.partner_code, st.bin, recent, banks));
      showRef();
      save();
    },
  });
  if (st.bin) picker.set(st.bin);
  const acct = h("input", { name: "account_number", inputmode: "numeric", value: st.account_number, autocomplete: "off" });
  acct.addEventListener("input", () => { st.account_number = acct.value; st.service = "account"; st.shared_account_ok = false; save(); });
  limitLength(acct, { id: "f-acct", max: 19, code: "invalid_account_number", count: (v) => accountNumber(v).length });
  const ref = h("input", { name: "reference", value: st.reference, autocomplete: "off", autocapitalize: "characters" });
  limitLength(ref, { id: "f-ref", max: 25, code: "invalid_reference" });
  ref.addEventListener("input", () => { st.reference = ref.value.trim(); save(); });
  const refField = field({ id: "f-ref", label: t("momo_ref"), hint: t("momo_ref_hint"), control: ref });
  function showRef() { refField.hidden = st.bin !== MOMO_BIN && !st.reference; }
  showRef();
  const scanner = scanFill({
    id: "f-scan",
    onRead(got) {
      picker.set(got.bin);
      Object.assign(st, { bin: got.bin, account_number: got.account_number, reference: got.reference, service: got.service, shared_account_ok: false });
      acct.value = got.account_number;
      ref.value = got.reference;
      showRef();
      save();
    },
  });
  const acctName = h("input", { name: "account_name", value: st.account_name, autocomplete: "off", autocapitalize: "characters" });
  acctName.addEventListener("input", () => { acctName.value = accountName(acctName.value); st.account_name = acctName.value; save(); });
  limitLength(acctName, { id: "f-acctname", max: 50, code: "invalid_account_name" });
  const formError = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "register", novalidate: true },
    h("h1", {}, t("add_account"), " — ", h("span", { class: "code-keep" }, stall.stall_code)),
    h("fieldset", { class: "card" }, h("legend", {}, t("sec_account")),
      scanner,
      h("div", { class: "field", id: "f-bank-field" }, h("label", { for: "f-bank" }, t("bank")), picker.el, h("p", { class: "field-error", id: "f-bank-error", hidden: true })),
      h("div", { class: "grid2" },
        field({ id: "f-acct", label: t("account_number"), control: acct }),
        field({ id: "f-acctname", label: t("account_name"), hint: t("account_name_hint"), control: acctName })),
      refField,
      partners.length ? field({ id: "f-partner", label: t("partner"), hint: t("partner_hint"), control: partnerSelect, optional: true }) : null),
    formError,
    h("div", { class: "sticky-actions" }, h("button", { type: "submit", class: "btn btn-primary btn-big" }, t("save")), h("a", { href: `#/s/${id}`, class: "btn btn-ghost", onclick: () => localStorage.removeItem(draftKey) }, t("cancel"))));
  picker.input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") ev.preventDefault(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const number = accountNumber(st.account_number);
    for (const fid of ["f-bank", "f-acct", "f-acctname", "f-ref"]) {
      const code = check(fid);
      if (code) setError(fid, errorText(code), null, { local: true, code });
    }
    if (form.querySelector(".has-error")) { focusFirstError(form); return; }
    const body = { bin: st.bin, account_number: number };
    if (st.account_name.trim()) body.account_name = st.account_name.trim();
    if (st.partner_code) body.partner_code = st.partner_code;
    if (st.reference) body.reference = st.reference;
    if (st.service === "card") body.service = "card";
    // As at registration: refused (account_in_use) while another stall of the market is paid into
    // it, until the volunteer confirms both are.
    if (!st.shared_account_ok) body.check_shared_account = true;
    const rec = await outbox.add("account", { stall_id: id, market_id: stall.market_id, base_version: stall.version, body, label: stall.stall_code });
    rememberPartner(ctx.me, st.partner_code);
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    if (done.state === "failed") {
      await outbox.remove(rec.id);
      const fieldMap = { bin: "f-bank", account_number: "f-acct", account_name: "f-acctname", partner_code: "f-partner", reference: "f-ref" };
      const extras = { account_in_use: sharedAccountChoice(done.error, () => { st.shared_account_ok = true; save(); form.requestSubmit(); }) };
      showProblem(formError, done.error, fieldMap, extras, CODE_MAP, valueOf);
      if (!formError.textContent && !form.querySelector(".has-error")) formError.textContent = errorText(done.error.code);
      focusFirstError(form);
      return;
    }
    localStorage.removeItem(draftKey);
    toast(done.state === "sent" ? t("account_saved") : t("account_queued"), done.state === "sent" ? "ok" : "warn", 8000, "saved");
    ctx.leaveForm(`#/s/${id}`);
  });
  mount(ctx.main, form);
  formRef = form;
}

/**
 * Correct a wrongly typed account (bank, number, name, MoMo reference) with a reason, or stop using
 * it. Both go through the outbox; the server keeps the old values in its log and flags the sign for
 * reprint when the account was on it.
 */
export async function accountFixView(ctx, id, accountId) {
  const { stall } = await loadStall(id);
  const found = (stall.payment_accounts || []).find((a) => a.id === accountId);
  if (found && found.active === false && !found.account_number.startsWith("~")) { await accountOnView(ctx, stall, found); return; }
  const account = found && found.active !== false ? found : null;
  if (!account) { ctx.go(`#/s/${id}`); return; }
  const banks = await ctx.loadBanks();
  const draftKey = `choso.draft.${ctx.me.username}.accountfix.${accountId}`;
  const initial = { bin: account.bin, account_number: account.account_number, account_name: account.account_name || "", reference: account.reference || "" };
  let st = { ...initial, reason: "", off_reason: "" };
  try { st = { ...st, ...JSON.parse(localStorage.getItem(draftKey) || "{}") }; } catch { /* no draft */ }
  const valueOf = (fid) => ({
    "f-bank": st.bin, "f-acct": accountNumber(st.account_number), "f-acctname": st.account_name.trim(),
    "f-ref": st.reference, "f-reason": st.reason.trim(), "f-off-reason": st.off_reason.trim(),
  })[fid];
  const check = (fid) => {
    const number = accountNumber(st.account_number);
    if (fid === "f-bank" && !st.bin) return "invalid_bin";
    if (fid === "f-acct" && !/^[A-Za-z0-9]{1,19}$/.test(number)) return number ? "invalid_account_number" : "missing";
    if (fid === "f-acctname" && st.account_name.trim() && !/^[A-Z0-9 .,'-]{1,50}$/.test(st.account_name.trim())) return "invalid_account_name";
    if (fid === "f-ref" && needsMomoReference(st.bin, st.reference)) return "momo_reference_required";
    if (fid === "f-ref" && st.reference && !/^[A-Za-z0-9]{1,25}$/.test(st.reference)) return "invalid_reference";
    if (fid === "f-reason" && (!st.reason.trim() || [...st.reason.trim()].length > 200)) return "invalid_reason";
    if (fid === "f-off-reason" && (!st.off_reason.trim() || [...st.off_reason.trim()].length > 200)) return "invalid_reason";
    return null;
  };
  let formRef = null;
  const save = () => {
    localStorage.setItem(draftKey, JSON.stringify(st));
    if (formRef) refreshErrors(formRef, { check, valueOf });
  };
  const picker = bankPicker({ id: "f-bank", banks, onChange(b) { st.bin = b ? b.bin : ""; st.shared_account_ok = false; showRef(); save(); } });
  picker.set(st.bin);
  const acct = h("input", { name: "account_number", inputmode: "numeric", value: st.account_number, autocomplete: "off", spellcheck: "false" });
  acct.addEventListener("input", () => { st.account_number = acct.value; st.shared_account_ok = false; save(); });
  limitLength(acct, { id: "f-acct", max: 19, code: "invalid_account_number", count: (v) => accountNumber(v).length });
  const acctName = h("input", { name: "account_name", value: st.account_name, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  acctName.addEventListener("input", () => { acctName.value = accountName(acctName.value); st.account_name = acctName.value; save(); });
  limitLength(acctName, { id: "f-acctname", max: 50, code: "invalid_account_name" });
  const ref = h("input", { name: "reference", value: st.reference, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  ref.addEventListener("input", () => { st.reference = ref.value.trim(); save(); });
  limitLength(ref, { id: "f-ref", max: 25, code: "invalid_reference" });
  const refField = field({ id: "f-ref", label: t("momo_ref"), hint: t("momo_ref_hint"), control: ref });
  function showRef() { refField.hidden = st.bin !== MOMO_BIN && !st.reference; }
  showRef();
  const reason = h("input", { name: "reason", value: st.reason, autocomplete: "off" });
  reason.addEventListener("input", () => { st.reason = reason.value; save(); });
  limitLength(reason, { id: "f-reason", max: 200, code: "invalid_reason" });
  const offReason = h("input", { name: "off_reason", value: st.off_reason, autocomplete: "off" });
  offReason.addEventListener("input", () => { st.off_reason = offReason.value; save(); });
  limitLength(offReason, { id: "f-off-reason", max: 200, code: "invalid_reason" });

  const formError = h("p", { class: "form-error", role: "alert" });
  const offError = h("p", { class: "form-error", role: "alert" });
  const label = `${stall.stall_code} · ${bankShort(banks, account.bin)} ${account.account_number.slice(-4)}`;
  const form = h("form", { class: "register", novalidate: true, id: "account-fix-form" },
    h("h1", {}, titleWithCode("account_fix_title", stall.stall_code)),
    h("p", { class: "hint" }, t("account_fix_intro")),
    h("fieldset", { class: "card" }, h("legend", {}, t("sec_account")),
      h("div", { class: "field", id: "f-bank-field" }, h("label", { for: "f-bank" }, t("bank")), picker.el, h("p", { class: "field-error", id: "f-bank-error", hidden: true })),
      h("div", { class: "grid2" },
        field({ id: "f-acct", label: t("account_number"), control: acct }),
        field({ id: "f-acctname", label: t("account_name"), hint: t("account_name_hint"), control: acctName })),
      refField,
      field({ id: "f-reason", label: t("reason"), hint: t("reason_hint"), control: reason, required: true })),
    formError,
    h("div", { class: "sticky-actions" },
      h("button", { type: "submit", class: "btn btn-primary btn-big", id: "account-fix-save" }, t("save")),
      h("a", { href: `#/s/${id}`, class: "btn btn-ghost", onclick: () => localStorage.removeItem(draftKey) }, t("cancel"))));
  picker.input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") ev.preventDefault(); });
  const fieldMap = { bin: "f-bank", account_number: "f-acct", account_name: "f-acctname", reference: "f-ref", reason: "f-reason" };

  async function send(kind, body, errorLine, doneText, queuedText) {
    // A stop carries the version it was decided on: a resend after the account was used again (or
    // the stall edited) is refused, not applied.
    const extra = kind === "account_off" ? { if_match: stall.version } : { base_version: stall.version };
    const rec = await outbox.add(kind, { stall_id: id, account_id: accountId, market_id: stall.market_id, body, label, ...extra });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    if (done.state === "failed") {
      await outbox.remove(rec.id);
      const extras = kind === "account_fix"
        ? { account_in_use: sharedAccountChoice(done.error, () => { st.shared_account_ok = true; save(); form.requestSubmit(); }) } : {};
      showProblem(errorLine, done.error, kind === "account_fix" ? fieldMap : { reason: "f-off-reason" }, extras, CODE_MAP, valueOf);
      if (!errorLine.textContent && !form.querySelector(".has-error") && !offForm.querySelector(".has-error")) errorLine.textContent = errorText(done.error.code);
      focusFirstError(kind === "account_fix" ? form : offForm);
      return;
    }
    localStorage.removeItem(draftKey);
    // Sent: the stall page reads it again. Queued offline: the copy on the device still opens.
    if (done.state === "sent") api.cache.set(`stall.${id}`, null);
    toast(done.state === "sent" ? doneText : queuedText, done.state === "sent" ? "ok" : "warn", 8000, "saved");
    ctx.leaveForm(`#/s/${id}`);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    for (const fid of ["f-bank", "f-acct", "f-acctname", "f-ref", "f-reason"]) {
      const code = check(fid);
      if (code) setError(fid, errorText(code), null, { local: true, code });
    }
    if (form.querySelector(".has-error")) { focusFirstError(form); return; }
    const now = { bin: st.bin, account_number: accountNumber(st.account_number), account_name: st.account_name.trim(), reference: st.reference };
    const body = { reason: st.reason.trim() };
    for (const [k, v] of Object.entries(now)) if (v !== initial[k]) body[k] = v || null;
    if (Object.keys(body).length === 1) { ctx.go(`#/s/${id}`); return; }
    if ((body.bin || body.account_number) && !st.shared_account_ok) body.check_shared_account = true;
    await send("account_fix", body, formError, t("account_fix_saved"), t("account_fix_queued"));
  });

  const offForm = h("form", { class: "card", novalidate: true, id: "account-off-form", "aria-labelledby": "account-off-h" },
    h("h2", { id: "account-off-h" }, t("account_off_title")),
    h("p", { class: "hint" }, t("account_off_intro")),
    field({ id: "f-off-reason", label: t("reason"), hint: t("reason_hint"), control: offReason, required: true }),
    offError,
    h("div", { class: "row-actions" }, h("button", { type: "submit", class: "btn btn-danger", id: "account-off" }, t("account_off_button"))));
  offForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(offForm);
    const code = check("f-off-reason");
    if (code) { setError("f-off-reason", errorText(code), null, { local: true, code }); focusFirstError(offForm); return; }
    const sure = await confirmDialog({
      id: "account-off-dialog",
      title: t("account_off_confirm", { acc: `${bankShort(banks, account.bin)} ${account.account_number}` }),
      lines: [t("account_off_intro")], ok: t("account_off_button"), cancel: t("cancel"),
    });
    if (!sure) return;
    await send("account_off", { reason: st.off_reason.trim() }, offError, t("account_off_saved"), t("account_off_queued"));
  });
  const page = h("div", {}, form, offForm);
  mount(ctx.main, page);
  formRef = page;  // errors go away in both forms once the field is right
}

/** Use a stopped account again (stopped by mistake, or the stallholder uses it again), with a
 * reason; through the outbox like the stop. Its code must be checked at the stall again. */
async function accountOnView(ctx, stall, account) {
  const id = stall.id;
  const banks = await ctx.loadBanks();
  const draftKey = `choso.draft.${ctx.me.username}.accounton.${account.id}`;
  let reasonText = localStorage.getItem(draftKey) || "";
  const reason = h("input", { name: "reason", value: reasonText, autocomplete: "off" });
  const bad = () => (!reasonText.trim() || [...reasonText.trim()].length > 200 ? "invalid_reason" : null);
  reason.addEventListener("input", () => {
    reasonText = reason.value;
    localStorage.setItem(draftKey, reasonText);
    if (form.querySelector(".has-error")) refreshErrors(form, { check: bad, valueOf: () => reasonText.trim() });
  });
  limitLength(reason, { id: "f-on-reason", max: 200, code: "invalid_reason" });
  const formError = h("p", { class: "form-error", role: "alert" });
  const acc = `${bankShort(banks, account.bin)} ${account.account_number}`;
  const form = h("form", { class: "register", novalidate: true, id: "account-on-form" },
    h("h1", {}, t("account_on_title")),
    h("p", {}, h("strong", {}, `${stall.stall_code} · ${acc}${account.account_name ? ` · ${account.account_name}` : ""}`)),
    h("p", { class: "hint" }, t("account_on_intro")),
    h("fieldset", { class: "card" },
      field({ id: "f-on-reason", label: t("reason"), hint: t("reason_hint"), control: reason, required: true })),
    formError,
    h("div", { class: "sticky-actions" },
      h("button", { type: "submit", class: "btn btn-primary btn-big", id: "account-on" }, t("account_on_button")),
      h("a", { href: `#/s/${id}`, class: "btn btn-ghost", onclick: () => localStorage.removeItem(draftKey) }, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const code = bad();
    if (code) { setError("f-on-reason", errorText(code), null, { local: true, code }); focusFirstError(form); return; }
    const sure = await confirmDialog({
      id: "account-on-dialog", title: t("account_on_confirm", { acc }),
      lines: [t("account_on_intro")], ok: t("account_on_button"), cancel: t("cancel"),
    });
    if (!sure) return;
    const label = `${stall.stall_code} · ${bankShort(banks, account.bin)} ${account.account_number.slice(-4)}`;
    // If-Match: a resend after someone stopped it again (or edited the stall) is refused, not applied.
    const rec = await outbox.add("account_on", { stall_id: id, account_id: account.id, market_id: stall.market_id, if_match: stall.version, body: { reason: reasonText.trim() }, label });
    const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
    if (done.state === "failed") {
      await outbox.remove(rec.id);
      showProblem(formError, done.error, { reason: "f-on-reason" }, {}, CODE_MAP, () => reasonText.trim());
      if (!formError.textContent && !form.querySelector(".has-error")) formError.textContent = errorText(done.error.code);
      focusFirstError(form);
      return;
    }
    localStorage.removeItem(draftKey);
    // Sent: the stall page reads it again. Queued offline: the copy on the device still opens.
    if (done.state === "sent") api.cache.set(`stall.${id}`, null);
    toast(done.state === "sent" ? t("account_on_saved") : t("account_on_queued"), done.state === "sent" ? "ok" : "warn", 8000, "saved");
    ctx.leaveForm(`#/s/${id}`);
  });
  mount(ctx.main, form);
}
