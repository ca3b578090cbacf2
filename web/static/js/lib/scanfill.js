// "Quét mã QR có sẵn": read the payment QR the stallholder already uses (a photo sent to
// /api/qr/scan) and fill bank, account number and reference from it, so nothing is mistyped.

import { h } from "./dom.js";
import { t, errorText, addStrings } from "./i18n.js";
import * as api from "./api.js";

addStrings({
  vi: { scan_several: "Ảnh có {n} mã thanh toán của các tài khoản khác nhau: chưa điền gì. Hỏi chủ sạp mã nào của họ, rồi chụp riêng mã đó (che các mã khác)." },
  en: { scan_several: "The photo holds {n} payment codes of different accounts: nothing was filled in. Ask the stallholder which is theirs and photograph that one alone." },
});

export const MOMO_BIN = "971025";

/**
 * scanFill({id, onRead}) -> element with a photo button and a status line.
 * onRead({bin, account_number, reference, service, bank}) is called with a valid VietQR.
 */
export function scanFill({ id, onRead }) {
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", id, class: "visually-hidden-file" });
  const label = h("label", { for: id, class: "btn" }, t("scan_existing"));
  const status = h("p", { class: "hint", role: "status", id: `${id}-status` });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    status.textContent = t("verify_checking");
    const form = new FormData();
    form.append("file", file, file.name || "qr.jpg");
    try {
      const res = await api.request("/api/qr/scan", { method: "POST", body: form });
      if (!res.ok) {
        const err = await api.toError(res);
        status.textContent = err.code === "no_qr_found" ? t("verify_none") : errorText(err.code);
        return;
      }
      const codes = ((await res.json()).results || []).map((r) => r.decoded || {}).filter((d) => d.valid && d.bin && d.account);
      const found = codes[0];
      if (!found) { status.textContent = t("scan_not_vietqr"); return; }
      // Two payment codes of different accounts in one photo (a sticker beside the holder's own:
      // how QR fraud works): which is theirs is not ours to guess. The first one was filled in.
      const accounts = new Set(codes.map((d) => `${d.bin}:${d.account}:${d.reference || ""}`));
      if (accounts.size > 1) { status.textContent = t("scan_several", { n: accounts.size }); return; }
      const bank = found.bank ? found.bank.short_name : t("bank_by_code", { code: found.bin });
      status.textContent = t("scan_read", { bank, account: found.account });
      onRead({
        bin: found.bin, account_number: found.account, reference: found.reference || "",
        service: found.service_code === "QRIBFTTC" ? "card" : "account", bank,
      });
    } catch (err) {
      status.textContent = err instanceof api.NetworkError ? t("need_network") : errorText("unknown");
    }
  });
  return h("div", { class: "scan-fill" }, h("p", { class: "hint" }, t("scan_existing_hint")), h("div", { class: "row-actions" }, input, label), status);
}

export function needsMomoReference(bin, reference) {
  return bin === MOMO_BIN && !String(reference || "").trim().toUpperCase().startsWith("MOMOW2W");
}
