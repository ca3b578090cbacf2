"""The fields of a payment account as VietQR carries them: BIN, account number, name, reference."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from core.text import normalize, strip_marks
from core.types import fail, has_bad_chars
from qr import banks


def _bin(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[0-9]{6}", value):
        raise fail("invalid_bin", "A bank BIN is exactly 6 digits.")
    if banks.get(value) is None:
        raise fail("unknown_bin", f"BIN {value} is not in the bank directory.")
    return value


# What people group an account number's digits with when they write it down ("0123 456 789",
# "0123-456-789", "0123.456.789"): no bank's account number holds one, so they are dropped.
_GROUPING = re.compile(r"[\s.-]")


def compact_account_number(value: str) -> str:
    """An account number as written down ("0123 456.789"), without its grouping marks: as the
    register stores it (a partner's report or event names it as people write it)."""
    return _GROUPING.sub("", value)


def _account_number(value: str) -> str:
    """An account number as typed for a sign: 1-19 letters and digits once the grouping marks are
    dropped. The payload's slot takes any printable character (vietqr.md 1.2; a scanned sign is
    decoded that way, qr.payload), but every real one is letters and digits (accounts, aliases,
    PSP…/99MM… virtual accounts): a '!' or '#' typed is a slip, and printed it sends no money."""
    compact = compact_account_number(value)
    if not re.fullmatch(r"[A-Za-z0-9]{1,19}", compact):
        raise fail(
            "invalid_account_number",
            "An account number is 1-19 letters and digits (the spaces, dots and dashes it is "
            "written with are dropped).",
        )
    return compact


def _account_name(value: str) -> str:
    if has_bad_chars(value):
        raise fail("invalid_account_name", "The account name contains control characters.")
    name = normalize(strip_marks(value)).upper()
    if not name:
        raise fail("invalid_account_name", "The account name is empty.")
    if len(name) > 50:
        raise fail(
            "invalid_account_name", f"The account name is {len(name)} characters; the limit is 50."
        )
    if not re.fullmatch(r"[A-Z0-9 .,'-]+", name):
        raise fail(
            "invalid_account_name",
            "The account name may hold letters, digits, spaces and . , ' - only.",
        )
    return name


def _reference(value: str) -> str:
    compact = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9]{1,25}", compact):
        raise fail("invalid_reference", "A payment reference is 1-25 letters and digits.")
    return compact


Bin = Annotated[str, Field(max_length=32), AfterValidator(_bin)]
AccountNumber = Annotated[str, Field(max_length=64), AfterValidator(_account_number)]
AccountName = Annotated[str, Field(max_length=200), AfterValidator(_account_name)]
PaymentReference = Annotated[str, Field(max_length=64), AfterValidator(_reference)]
