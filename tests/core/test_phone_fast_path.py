"""The phone rule's shortcut for typed Vietnamese mobile numbers answers what phonenumbers answers."""

from __future__ import annotations

import random

import pytest

from core import types


def test_every_prefix_gets_the_same_answer_as_phonenumbers() -> None:
    rng = random.Random(84)
    taken = 0
    for prefix in range(1000):  # every three leading digits of the nine
        for _ in range(6):
            nine = f"{prefix:03d}{rng.randrange(10**6):06d}"
            for value in (f"0{nine}", f"+84{nine}"):
                fast, slow = types.typed_mobile(value), types.parsed_phone(value)
                if fast is not None:
                    taken += 1
                    assert fast == slow, value
                assert types.phone_e164(value) == slow, value
                if slow is not None:
                    assert types._phone(value) == slow, value
    assert taken > 1000  # the shortcut is taken for the usual mobile numbers


@pytest.mark.parametrize("value", ["0912345678", "+84912345678", "0387654321", "0707123456"])
def test_common_mobiles_take_the_shortcut(value: str) -> None:
    assert types.typed_mobile(value) == types.parsed_phone(value) == types._phone(value)


def test_other_forms_still_go_through_phonenumbers() -> None:
    assert types.typed_mobile("090 123 4567") is None
    assert types.phone_e164("090 123 4567") == "+84901234567"
    assert types.phone_e164("02363123456") == "+842363123456"  # a Đà Nẵng landline
    assert types.phone_e164("12345") is None


def test_bad_characters_are_still_found_after_the_printable_check() -> None:
    assert types.has_bad_chars("Nguyễn\x00")
    assert types.has_bad_chars("a\u200bb")  # zero-width space (Cf)
    assert types.has_bad_chars("\ue000")  # private use
    assert not types.has_bad_chars("Chợ Hàn\u00a0A-15")  # a no-break space is no control character
    assert not types.has_bad_chars("Lưu Thị Ngọc Thùy")
