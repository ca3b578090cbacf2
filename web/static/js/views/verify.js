// "Kiểm tra mã": read the printed sign's QR (camera with BarcodeDetector, or a photo sent to the
// server) and let the server compare it with the stored account. Green only on an exact match.

import { h, mount, announce } from "../lib/dom.js";
import { t, errorText, addStrings } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { loadStall } from "./stall.js";
import { bankShort } from "../lib/bankpicker.js";
import { confirmDialog } from "../lib/dialog.js";

addStrings({
  vi: {
    verify_unprinted_title: "Sạp này chưa ghi nhận in biển",
    verify_unprinted_text: "Chỉ kiểm tra mã trên biển đang treo ở sạp (biển đã in, hoặc biển do ngân hàng, ví cấp). Kiểm tra ảnh trên màn hình sẽ tính sạp là đã có biển và đã kiểm tra mã.",
    verify_unprinted_ok: "Kiểm tra biển ở sạp",
  },
  en: {
    verify_unprinted_title: "No print of this stall's sign is recorded",
    verify_unprinted_text: "Check only the sign hanging at the stall (printed, or given by the bank or wallet). Checking the picture on a screen would count the stall as signed and checked.",
    verify_unprinted_ok: "Check the sign at the stall",
  },
});
addStrings({
  vi: { verify_beside: "KHÔNG ĐẠT — trong ảnh, cạnh mã của sạp còn một mã thanh toán khác: khách quét nhầm sẽ chuyển tiền đi nơi khác. Gỡ mã lạ khỏi sạp rồi kiểm tra lại; sạp được đánh dấu cần quay lại." },
  en: { verify_beside: "NOT PASSED — beside the stall's own code the photo holds another payment code: a customer scanning it pays someone else. Remove the other code and check again; the stall is flagged for a return visit." },
});

async function detectorSupported() {
  if (!("BarcodeDetector" in window)) return false;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code");
  } catch { return false; }
}

export async function verifyView(ctx, id) {
  const { stall } = await loadStall(id);
  // The bank list names what the camera read: volunteers know banks by name, not by number.
  const banks = await ctx.loadBanks().catch(() => []);
  const accounts = (stall.payment_accounts || []).filter((a) => a.active !== false);
  const result = h("div", { class: "verify-result", id: "verify-result", role: "status", "aria-live": "assertive" });
  const video = h("video", { class: "camera", muted: true, playsinline: true, autoplay: true, hidden: true, "aria-label": t("verify_scanning") });
  const cameraBtn = h("button", { type: "button", class: "btn btn-primary btn-big", id: "open-camera", hidden: true }, t("verify_start_camera"));
  const fileInput = h("input", { type: "file", accept: "image/*", capture: "environment", id: "verify-photo", class: "visually-hidden-file" });
  const fileLabel = h("label", { for: "verify-photo", class: "btn btn-big" }, t("verify_take_photo"));
  let stream = null;
  let timer = null;
  let busy = false;

  function stopCamera() {
    if (timer) window.clearTimeout(timer);
    timer = null;
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.hidden = true;
  }
  ctx.cleanup = stopCamera;

  function show(kind, message, read) {
    result.className = `verify-result verify-${kind}`;
    // replaceChildren writes a null as the text "null": only the parts there are.
    result.replaceChildren(...[
      h("p", { class: "verify-big" }, kind === "ok" ? "✓ " : kind === "bad" ? "✗ " : "", message),
      read ? h("p", {}, t("verify_read", read)) : null,
      kind === "ok" || kind === "bad" ? h("button", { type: "button", class: "btn", onclick: () => { result.replaceChildren(); result.className = "verify-result"; } }, t("verify_again")) : null,
    ].filter(Boolean));
    announce(message);
  }

  const bankName = (bin) => bankShort(banks, bin);

  /** What the code on the sign names: the matched account, or what was scanned. */
  function matched(data) {
    const a = accounts.find((x) => x.id === data.matched_account_id);
    return a ? { bank: a.bank_short_name || bankName(a.bin), account: a.account_number } : null;
  }

  function scanned(problem) {
    // The code that is not the stall's (beside its own, or alone).
    const codes = (problem.scanned || []).filter((x) => x.bin && x.account);
    const first = codes.find((x) => x.matches === false) || codes[0] || null;
    return first ? { bank: bankName(first.bin), account: first.account } : null;
  }

  function refused(err) {
    if (err.code === "qr_mismatch") {
      const reason = err.problem.reason;
      const message = reason === "qr_invalid" ? t("verify_invalid") : reason === "no_account" ? t("qr_missing")
        : err.problem.beside_own ? t("verify_beside") : t("verify_mismatch");
      show("bad", message, scanned(err.problem));
    } else if (err.code === "no_qr_found") show("none", t("verify_none"));
    else if (api.routeMissing(err)) show("none", t("not_available_yet"));
    else show("none", errorText(err.code));
  }

  // One code, or every code of one camera frame: another payment code beside the sign fails.
  async function checkPayload(payload, payloads = null) {
    show("wait", t("verify_checking"));
    try {
      const body = payloads && payloads.length > 1 ? { payloads } : { payload };
      const { data } = await api.sendJSON("POST", `/api/stalls/${id}/verify`, body);
      show("ok", t("verify_ok"), matched(data));
    } catch (err) {
      if (err instanceof api.NetworkError) show("none", t("need_network"));
      else refused(err);
    }
  }

  async function checkPhoto(file) {
    show("wait", t("verify_checking"));
    const form = (name) => { const f = new FormData(); f.append(name, file, file.name || "photo.jpg"); return f; };
    try {
      const res = await api.request(`/api/stalls/${id}/verify-image`, { method: "POST", body: form("image") });
      if (res.ok) { show("ok", t("verify_ok"), matched(await res.json())); return; }
      const err = await api.toError(res);
      if (!api.routeMissing(err)) { refused(err); return; }
      // A server without verify-image: read the code with /api/qr/scan, then verify the payload.
      const scan = await api.request("/api/qr/scan", { method: "POST", body: form("file") });
      if (!scan.ok) { refused(await api.toError(scan)); return; }
      const first = ((await scan.json()).results || [])[0];
      if (!first || !first.payload) { show("none", t("verify_none")); return; }
      await checkPayload(first.payload);
    } catch (err) {
      show("none", err instanceof api.NetworkError ? t("need_network") : errorText("unknown"));
    }
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch {
      show("none", t("verify_camera_denied"));
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    video.play().catch(() => { /* autoplay already started it */ });
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    show("wait", t("verify_scanning"));
    const tick = async () => {
      if (!stream || busy) return;
      try {
        const codes = [...new Set((await detector.detect(video)).map((c) => c.rawValue).filter(Boolean))];
        if (codes.length) {
          busy = true;
          stopCamera();
          await checkPayload(codes[0], codes.slice(0, 8));
          busy = false;
          return;
        }
      } catch { /* frame not ready */ }
      timer = window.setTimeout(tick, 250);
    };
    tick();
  }

  // A stall with no print recorded is asked about first (as "Đã giao biển" asks): a check of the
  // sign preview on a screen counted the stall as signed and checked.
  let sure = false;
  async function atTheStall() {
    if (sure) return true;
    const cov = await api.getJSON(`/api/stalls/${id}/coverage`).catch(() => null);
    if (!cov || cov.sign_issued_at || cov.sign_delivered_at || cov.verified_at) { sure = true; return true; }
    sure = await confirmDialog({
      id: "verify-unprinted-dialog", title: t("verify_unprinted_title"), lines: [t("verify_unprinted_text")],
      ok: t("verify_unprinted_ok"), cancel: t("cancel"),
    });
    return sure;
  }

  cameraBtn.addEventListener("click", async () => { if (await atTheStall()) startCamera(); });
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (file && await atTheStall()) checkPhoto(file);
  });

  mount(ctx.main,
    h("h1", {}, t("verify_title")),
    h("p", { class: "lead" }, t("stall_title", { code: stall.stall_code }), " · ", stall.holder.full_name || ""),
    accounts.length ? h("p", { class: "muted" }, accounts.map((a) => `${a.bank_short_name || bankName(a.bin)} ${a.account_number}`).join(" · ")) : h("p", { class: "note note-warn" }, t("qr_missing")),
    h("p", {}, t("verify_intro")),
    h("div", { class: "row-actions" }, cameraBtn, fileInput, fileLabel),
    video, result,
    h("p", {}, h("a", { href: `#/s/${id}`, class: "btn btn-ghost" }, "← ", t("back"))));

  if (await detectorSupported() && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) cameraBtn.hidden = false;
}
