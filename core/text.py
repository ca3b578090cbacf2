"""Vietnamese text helpers shared by every domain: normalising, folding diacritics, masking."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


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


def natural_key(code: str) -> str:
    """Sort key that puts A-2 before A-12: digit runs zero-padded."""
    return _DIGITS.sub(lambda m: m.group(0).zfill(8), code.upper())


def mask_phone(e164: str | None) -> str | None:
    """'+84905123456' -> '090****456' (national form, middle hidden)."""
    if not e164:
        return None
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    if len(national) <= 6:
        return "*" * len(national)
    return national[:3] + "*" * (len(national) - 6) + national[-3:]


def stall_search_text(
    stall_code: str, holder_name: str | None, phone: str | None, goods: str | None
) -> str:
    """What the diacritic-insensitive stall search matches: code, name, phone (both forms), goods."""
    parts = [stall_code, holder_name or "", goods or ""]
    if phone:
        parts += [phone, "0" + phone[3:] if phone.startswith("+84") else phone]
    return fold(" ".join(parts))


def unstorable(text: str) -> bool:
    """Whether PostgreSQL refuses this text: a NUL, or a lone surrogate (not valid UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
