// "Quét mã QR có sẵn": read the payment QR the stallholder already uses (a photo sent to
// /api/qr/scan) and fill bank, account number and reference from it, so nothing is mistyped.

import { h } from "./dom.js";
import { t, errorText } from "./i18n.js";
import * as api from "./api.js";

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
      const found = ((await res.json()).results || []).map((r) => r.decoded || {}).find((d) => d.valid && d.bin && d.account);
      if (!found) { status.textContent = t("scan_not_vietqr"); return; }
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
