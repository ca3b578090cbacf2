"""Vietnamese text helpers shared by every domain: normalising, folding diacritics, masking."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed to single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def strip_marks(text: str) -> str:
    """Drop Vietnamese diacritics: NFD, remove combining marks, map đ/Đ (which do not decompose)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


def fold(text: str) -> str:
    """Search key: no diacritics, lower case, single spaces ('Lưu Thị Thùy' -> 'luu thi thuy')."""
    return normalize(strip_marks(text)).lower()


# Vietnamese letters that are letters of their own, in alphabet order after their base letter
# (a ă â, d đ, e ê, o ô ơ, u ư), by their mark: each becomes its base letter and as many '~' as
# its rank. Tone marks (sắc, huyền, ...) sort with the bare letter.
_BREVE, _CIRCUMFLEX, _HORN = "\u0306", "\u0302", "\u031b"


def _sort_letter(c: str) -> str:
    if c.isascii():
        return c
    if c == "Đ":
        return "D~"
    decomposed = unicodedata.normalize("NFD", c)
    base, marks = decomposed[0], decomposed[1:]
    if not base.isascii():
        return c
    rank = 0
    if _BREVE in marks:
        rank = 1
    elif _CIRCUMFLEX in marks:
        rank = 2 if base == "A" else 1
    elif _HORN in marks:
        rank = 2 if base == "O" else 1
    return base + "~" * rank


def natural_key(code: str) -> str:
    """Sort key that puts A-2 before A-12 (digit runs zero-padded) and the Vietnamese letters in
    alphabet order in any byte-wise comparison: D-9 < DA < Đ-1 < E-1 ('Đ' is 'D~', '~' sorting
    after every character a code may hold). Codes of ASCII characters keep their earlier key."""
    upper = unicodedata.normalize("NFC", code).upper()
    letters = "".join(_sort_letter(c) for c in upper)
    return _DIGITS.sub(lambda m: m.group(0).zfill(8), letters)


def compact(text: str) -> str:
    """Letters and digits only, folded: 'A-15', 'a 15' and 'A15' are 'a15'; '0905 123 456' is
    '0905123456'."""
    return _NOT_ALNUM.sub("", fold(text))


# A run of 6 or more digits (spaces, dots or dashes between them) in text a person typed: a phone,
# account or CCCD number.
_NUMBER = re.compile(r"\d(?:[\s.\-]?\d){5,}")


def mask_numbers(text: str) -> str:
    """Every phone, account or CCCD number in typed text cut to its last 4 digits ('…6789'), as
    the audit log keeps numbers."""
    return _NUMBER.sub(lambda m: "…" + re.sub(r"\D", "", m.group())[-4:], text)


def mask_phone(e164: str | None) -> str | None:
    """'+84905123456' -> '090****456' (national form, middle hidden)."""
    if not e164:
        return None
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    if len(national) <= 6:
        return "*" * len(national)
    return national[:3] + "*" * (len(national) - 6) + national[-3:]


def national_phone(e164: str) -> str:
    """'+84905123456' -> '0905123456'; other countries' numbers stay in E.164."""
    return "0" + e164[3:] if e164.startswith("+84") else e164


def stall_search_text(
    stall_code: str, holder_name: str | None, phone: str | None, goods: str | None
) -> str:
    """What the stall search matches (search_keys makes the query's keys): the code, name, goods
    and phone in national form, folded; then the code compacted, so that 'a15' finds 'A-15'.

    Only the code and the phone are compacted, and each stays one word: a compacted query cannot
    run from one field into the next (the name's last letters into the code's first).
    Migration 0010 rewrote the stored texts to this form; a change here needs one too.
    """
    parts = [stall_code, holder_name or "", goods or ""]
    if phone:
        parts.append(national_phone(phone))
    return f"{fold(' '.join(parts))} {compact(stall_code)}"


def search_keys(query: str) -> tuple[str, str] | None:
    """The two keys a stall search query is matched with (None: nothing to search for).

    (folded as typed, compacted): '0905 123 456', '+84905123456' and '905123456' all find the
    phone 0905 123 456 through the compacted key (an international number becomes its national
    form), 'a 15' and 'A15' find stall A-15. The compacted key is '' unless the query holds a
    digit (codes and phones do): names and goods match as typed, without diacritics.
    """
    folded = fold(query)
    if not folded:
        return None
    key = compact(folded)
    if not any(c.isdigit() for c in key):
        return folded, ""
    if key.isdigit() and key.startswith("84") and len(key) >= 11:
        key = "0" + key[2:]
    return folded, key


def unstorable(text: str) -> bool:
    """Whether PostgreSQL refuses this text: a NUL, or a lone surrogate (not valid UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# Words a zone's own name may start with that already say it is a place ("Dãy 3", "Nhà lồng B");
# the web app's zoneLabel (web/static/js/lib/i18n.js) reads the same list.
_PLACE_WORDS = frozenset(
    {"khu", "day", "nha", "lo", "tang", "cho", "kiot", "ki-ot", "zone", "block", "hall", "row"}
)


def zone_label(zone: str) -> str:
    """How a market's zone is named in Vietnamese: 'A' is 'Khu A'; 'Dãy 3' stays 'Dãy 3'."""
    name = zone.strip()
    first = fold(name.split()[0]) if name.split() else ""
    return name if first in _PLACE_WORDS and " " in name else f"Khu {name}"
