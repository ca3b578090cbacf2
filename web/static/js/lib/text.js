// Vietnamese text helpers, the browser twins of core/text.py.

const MARKS = /\p{M}/gu;

/** Search key: no diacritics, lower case, single spaces ("Lưu Thị Thùy" -> "luu thi thuy"). */
export function fold(text) {
  return String(text ?? "")
    .normalize("NFD").replace(MARKS, "")
    .replace(/đ/g, "d").replace(/Đ/g, "D")
    .toLowerCase().replace(/\s+/g, " ").trim();
}

/** Account name as banks print it: upper case, no diacritics, only A-Z 0-9 space . , ' - (max 50). */
export function accountName(text) {
  return String(text ?? "")
    .normalize("NFD").replace(MARKS, "")
    .replace(/đ/g, "d").replace(/Đ/g, "D")
    .toUpperCase()
    .replace(/[^A-Z0-9 .,'-]/g, "")
    .replace(/\s+/g, " ").replace(/^ /, "")
    .slice(0, 50);
}

/**
 * The key the server keeps a stall code unique under (merchants.service.code_keys after
 * core.text.normalize): NFC, trimmed, inner whitespace collapsed, upper case; "a-12 " is "A-12".
 */
export function codeKey(code) {
  return String(code ?? "").normalize("NFC").replace(/\s+/g, " ").trim().toUpperCase();
}

/** Sort key that puts A-2 before A-12. */
export function naturalKey(code) {
  return String(code ?? "").toUpperCase().replace(/\d+/g, (d) => d.padStart(8, "0"));
}

export function byCode(a, b) {
  const ka = naturalKey(a.stall_code), kb = naturalKey(b.stall_code);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A random UUID (v4); crypto.randomUUID needs a secure context, getRandomValues does not. */
export function uuid() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    try { return window.crypto.randomUUID(); } catch { /* insecure context: fall through */ }
  }
  const b = window.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function digits(text) {
  return String(text ?? "").replace(/\D/g, "");
}

/** Loose check of a Vietnamese phone number before the server's strict one. */
export function looksLikePhone(text) {
  const d = digits(text);
  if (String(text).trim().startsWith("+")) return d.startsWith("84") && d.length >= 10 && d.length <= 12;
  return d.length >= 9 && d.length <= 11;
}
