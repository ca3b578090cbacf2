"""Value types shared by every domain: people's names, phone numbers, partner codes, free text.

Each is an `Annotated` str with its rule; a value that breaks it is a 422 with the rule's own code.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from core.errors import own_code
from core.text import normalize


def fail(code: str, message: str) -> PydanticCustomError:
    """A validation error with our own stable `code`."""
    return PydanticCustomError(own_code(code), message)


def has_bad_chars(text: str) -> bool:
    """Control, format, surrogate, private-use or unassigned characters (NUL among them)."""
    if text.isprintable():  # no "Other" (C*) character at all: the usual case, checked in C
        return False
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


def _person_name(value: str) -> str:
    if has_bad_chars(value):
        raise fail("invalid_name", "The name contains control characters.")
    name = normalize(value)
    if not name:
        raise fail("invalid_name", "The name is empty.")
    if len(name) > 100:
        raise fail("invalid_name", f"The name is {len(name)} characters; the limit is 100.")
    for c in name:
        cat = unicodedata.category(c)
        if not (cat.startswith("L") or cat.startswith("M") or c in " .'-"):
            raise fail(
                "invalid_name", f"The name may hold letters, spaces and . ' - only, not {c!r}."
            )
    return name


def free_text(limit: int, code: str) -> AfterValidator:
    def check(value: str) -> str:
        if has_bad_chars(value):
            raise fail(code, "The text contains control characters.")
        text = normalize(value)
        if len(text) > limit:
            raise fail(code, f"The text is {len(text)} characters; the limit is {limit}.")
        for c in text:
            cat = unicodedata.category(c)
            # Currency signs are words here ("20.000₫"); other symbols (= < > | ~) and emoji are not.
            if cat.startswith("S") and cat != "Sc" and c not in "+&%/":
                raise fail(code, f"The text may not contain symbols or emoji such as {c!r}.")
        return text

    return AfterValidator(check)


# A mobile number as volunteers type it (0912345678 or +84912345678) whose nine digits match the
# mobile pattern of phonenumbers' own Vietnamese metadata is valid, and its E.164 form is +84 and
# those digits: what phonenumbers answers, without parsing (tests/core/test_phone_fast_path.py
# compares both over every prefix). Anything else goes through phonenumbers.
_TYPED_MOBILE = re.compile(r"(?:0|\+84)([0-9]{9})")
_VN_MOBILE = re.compile(
    str(phonenumbers.PhoneMetadata.metadata_for_region("VN").mobile.national_number_pattern)  # type: ignore[union-attr]
)


def typed_mobile(value: str) -> str | None:
    """E.164 of a mobile number typed as 0… or +84… (nine digits of the mobile pattern), else None."""
    typed = _TYPED_MOBILE.fullmatch(value)
    return "+84" + typed[1] if typed and _VN_MOBILE.fullmatch(typed[1]) else None


def parsed_phone(value: str) -> str | None:
    """E.164 of a valid phone number, Vietnamese unless it says +country, as phonenumbers reads it;
    None when it is not one."""
    try:
        parsed = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_e164(value: str) -> str | None:
    """The E.164 form of a phone number (the shortcut for typed mobiles first), or None."""
    return typed_mobile(value) or parsed_phone(value)


def _phone(value: str) -> str:
    if len(value) > 30 or has_bad_chars(value) or (e164 := phone_e164(value)) is None:
        raise fail("invalid_phone", "This is not a valid Vietnamese phone number.")
    return e164


def _cccd(value: str) -> str:
    digits = value.replace(" ", "")
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise fail("invalid_cccd", "A citizen ID (CCCD) is 12 digits.")
    return digits


PersonName = Annotated[str, Field(max_length=400), AfterValidator(_person_name)]
Phone = Annotated[str, Field(max_length=64), AfterValidator(_phone)]
Cccd = Annotated[str, Field(max_length=32), AfterValidator(_cccd)]
PartnerCode = Annotated[
    str, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]{1,32}$"), AfterValidator(str.upper)
]


class Strict(BaseModel):
    """A request body: unknown fields are refused, strings are bounded."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


@dataclass(frozen=True)
class ScopeFacts:
    """What decides a user's market scope (core.access.market_scope applies the rule)."""

    has_scope_rows: bool  # any user_market, user_ward or user_province row
    market_ids: tuple[int, ...]  # markets assigned directly or through a ward


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    active: bool
    password_hash: str = ""
    # Read together with the token, for this request only; None when not read (ask the database).
    scope_facts: ScopeFacts | None = field(default=None, compare=False, repr=False)


def jsonable(value: Any) -> Any:
    """Round-trip through JSON so dates and decimals become plain values for jsonb."""
    return json.loads(json.dumps(value, default=str))
