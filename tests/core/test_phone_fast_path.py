"""The phone rule's shortcut for typed Vietnamese mobile numbers answers what phonenumbers answers."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from core import types


def _slow(value: str) -> str | None:
    try:
        parsed = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _fast(value: str) -> str | None:
    typed = types._TYPED_MOBILE.fullmatch(value)
    if typed and types._VN_MOBILE.fullmatch(typed[1]):
        return "+84" + typed[1]
    return None


def test_every_prefix_gets_the_same_answer_as_phonenumbers() -> None:
    rng = random.Random(84)
    taken = 0
    for prefix in range(1000):  # every three leading digits of the nine
        for _ in range(6):
            nine = f"{prefix:03d}{rng.randrange(10**6):06d}"
            for value in (f"0{nine}", f"+84{nine}"):
                fast, slow = _fast(value), _slow(value)
                if fast is not None:
                    taken += 1
                    assert fast == slow, value
                if slow is not None:
                    assert types._phone(value) == slow, value
    assert taken > 1000  # the shortcut is taken for the usual mobile numbers


@pytest.mark.parametrize("value", ["0912345678", "+84912345678", "0387654321", "0707123456"])
def test_common_mobiles_take_the_shortcut(value: str) -> None:
    assert _fast(value) == _slow(value) == types._phone(value)


def test_bad_characters_are_still_found_after_the_printable_check() -> None:
    assert types.has_bad_chars("Nguyễn\x00")
    assert types.has_bad_chars("a\u200bb")  # zero-width space (Cf)
    assert types.has_bad_chars("\ue000")  # private use
    assert not types.has_bad_chars("Chợ Hàn\u00a0A-15")  # a no-break space is no control character
    assert not types.has_bad_chars("Lưu Thị Ngọc Thùy")
