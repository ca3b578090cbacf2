// Vietnamese text helpers, the browser twins of core/text.py.

const MARKS = /\p{M}/gu;

/** Search key: no diacritics, lower case, single spaces ("Lưu Thị Thùy" -> "luu thi thuy"). */
export function fold(text) {
  return String(text ?? "")
    .normalize("NFD").replace(MARKS, "")
    .replace(/đ/g, "d").replace(/Đ/g, "D")
    .toLowerCase().replace(/\s+/g, " ").trim();
}

/**
 * Account name as banks print it: upper case, no diacritics, only A-Z 0-9 space . , ' -. Never cut:
 * a name over 50 characters is refused at its field (invalid_account_name) for the volunteer to shorten.
 */
export function accountName(text) {
  return String(text ?? "")
    .normalize("NFD").replace(MARKS, "")
    .replace(/đ/g, "d").replace(/Đ/g, "D")
    .toUpperCase()
    .replace(/[^A-Z0-9 .,'-]/g, "")
    .replace(/\s+/g, " ").replace(/^ /, "");
}

/** An account number as typed, without the spaces, dots and dashes people group its digits with
 * ("0123-456.789" is 0123456789: qr.types._account_number drops them the same way). */
export function accountNumber(text) {
  return String(text ?? "").replace(/[\s.-]/g, "");
}

/** A text as the server keeps it (core.text.normalize): NFC, trimmed, inner whitespace collapsed. */
export function normalize(text) {
  return String(text ?? "").normalize("NFC").replace(/\s+/g, " ").trim();
}

/** Characters of a field's value as the server counts them (after normalize). */
export function charCount(text) {
  return [...normalize(text)].length;
}

/** A Latin letter, with or without Vietnamese (or other) marks: a, Đ, ư, ẫ; not ß, я, 中. */
function isCodeLetter(c) {
  if (/^[A-Za-z]$/.test(c)) return true;
  return /^\p{L}$/u.test(c) && /^[a-z]$/.test(fold(c));
}

export const STALL_CODE_MAX = 20;
export const ZONE_MAX = 40;

/**
 * The rule of stall codes (max 20) and zone names (max 40), as merchants/schemas.py checks it:
 * letters (Vietnamese too), digits, spaces and . _ / -, starting with a letter or a digit.
 */
export function codeOk(text, max) {
  const chars = [...normalize(text)];
  if (!chars.length || chars.length > max) return false;
  if (!(/^[0-9]$/.test(chars[0]) || isCodeLetter(chars[0]))) return false;
  return chars.every((c) => /^[0-9 ._/-]$/.test(c) || isCodeLetter(c));
}

/**
 * The key the server keeps a stall code unique under (merchants.service.code_keys after
 * core.text.normalize): NFC, trimmed, inner whitespace collapsed, upper case; "a-12 " is "A-12".
 */
export function codeKey(code) {
  return String(code ?? "").normalize("NFC").replace(/\s+/g, " ").trim().toUpperCase();
}

/** A letter's place in the Vietnamese alphabet: ă, â after a; đ after d; ê after e; ô, ơ after o; ư after u. */
function sortLetter(c) {
  if (c.charCodeAt(0) < 128) return c;
  if (c === "Đ") return "D~";
  const [base, ...marks] = c.normalize("NFD");
  if (base.charCodeAt(0) >= 128) return c;
  let rank = 0;
  if (marks.includes("\u0306")) rank = 1;
  else if (marks.includes("\u0302")) rank = base === "A" ? 2 : 1;
  else if (marks.includes("\u031b")) rank = base === "O" ? 2 : 1;
  return base + "~".repeat(rank);
}

/** Sort key that puts A-2 before A-12 and Đ after D (core.text.natural_key). */
export function naturalKey(code) {
  const upper = String(code ?? "").normalize("NFC").toUpperCase();
  return [...upper].map(sortLetter).join("").replace(/\d+/g, (d) => d.padStart(8, "0"));
}

/** Letters and digits only, folded: "A-15", "a 15" and "A15" are "a15" (core.text.compact). */
export function compact(text) {
  return fold(text).replace(/[^a-z0-9]+/g, "");
}

/**
 * The stall code after tapping zone `zone` (the previous one `prev`); tapping is idempotent:
 * an empty code or a bare prefix becomes "<zone>-", a bare number gets the prefix ("15" -> "A-15"),
 * a code that already starts with the zone (or anything else the volunteer typed) stays as it is.
 */
export function codeForZone(code, prev, zone) {
  const typed = String(code ?? "").trim();
  if (!zone) return code;
  const bare = !typed || typed === "-" || (prev && codeKey(typed) === codeKey(`${prev}-`)) || codeKey(typed) === codeKey(`${zone}-`);
  if (bare) return `${zone}-`;
  if (/^\d+$/.test(typed)) return `${zone}-${typed}`;
  return code;
}

/**
 * The code as typed after the zone's prefix was filled in: a volunteer who types the whole code
 * ("A-15") after the "A-" the app put there gets "A-15", never "A-A-15".
 */
export function dropDoubledPrefix(code, zone) {
  if (!zone) return code;
  const prefix = `${zone}-`;
  const text = String(code ?? "");
  const head = text.slice(0, prefix.length * 2);
  if (head.length === prefix.length * 2 && codeKey(head) === codeKey(prefix + prefix)) {
    return prefix + text.slice(prefix.length * 2);
  }
  return code;
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

/** "+84905123456" -> "0905123456", the form people know (core.text.national_phone); others stay. */
export function nationalPhone(e164) {
  const p = String(e164 ?? "");
  return p.startsWith("+84") ? `0${p.slice(3)}` : p;
}

/** A typed phone number as it compares with another: its digits, +84 written as 0
 * ("+84 905 777 001" and "0905 777 001" are the same number). */
export function phoneKey(text) {
  const typed = digits(text);
  const d = typed.startsWith("00") ? typed.slice(2) : typed;
  return d.startsWith("84") && d.length > 10 ? `0${d.slice(2)}` : d;
}

/** A phone as people write it, in groups: mobiles "0905 123 456", landlines "0236 3821 111". */
export function groupedPhone(e164) {
  const p = nationalPhone(e164);
  if (/^0\d{9}$/.test(p)) return `${p.slice(0, 4)} ${p.slice(4, 7)} ${p.slice(7)}`;
  if (/^0\d{10}$/.test(p)) return `${p.slice(0, 4)} ${p.slice(4, 8)} ${p.slice(8)}`;
  return p;
}

// The server's rule for a Vietnamese number (phonenumbers' metadata for VN, mobile and fixed line;
// tests/core/test_phone_patterns.py keeps these equal to the library's): "090 512 345" is refused
// at the field, not by the server once the tablet is back online and the volunteer has left.
const VN_MOBILE = /^(?:121[0-3]\d{5}|(?:1[46]0|(?:3\d|7[06-9])\d|5(?:[1689]\d|2[238]|59)|8(?:[1-8]\d|9[6-9])|9(?:[0-8]\d|9[013-9]))\d{6})$/;
const VN_FIXED = /^(?:2(?:0[3-9]|1[0-689]|2[0-25-9]|[38][2-9]|4[2-8]|5[124-9]|6[0-39]|7[0-7]|9[0-4679])\d{7})$/;

/** A phone number the server takes: a Vietnamese mobile or landline (0…, +84… or without the 0),
 * or a number of another country (+…, which the server judges). */
export function looksLikePhone(text) {
  const typed = digits(text);
  // "00" before a country code is the international prefix dialled from Vietnam, as "+" is.
  const plus = String(text).trim().startsWith("+") || typed.startsWith("00");
  const d = typed.startsWith("00") ? typed.slice(2) : typed;
  if (plus && !d.startsWith("84")) return d.length >= 8 && d.length <= 15;
  const national = plus ? d.slice(2) : d.startsWith("0") ? d.slice(1) : d;
  if (VN_MOBILE.test(national) || VN_FIXED.test(national)) return true;
  // "84905123456": the country code without its "+", which the server reads as +84 too.
  return !plus && d.startsWith("84") && (VN_MOBILE.test(d.slice(2)) || VN_FIXED.test(d.slice(2)));
}

/** A person as the pages name them: "Phạm Văn Thử (tinhnguyen)", or the username alone. */
export function personName(p) {
  return p && p.display_name ? `${p.display_name} (${p.username})` : (p && p.username) || "";
}
