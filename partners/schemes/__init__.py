"""Partner payment-notification schemes: one module per partner, all pure and I/O-free.

Each scheme verifies the signature over the raw body or raw query string first and only then
reads the fields it needs, taking them from the signed part of the message. Every problem with
client input, from a wrong signature to a non-JSON body, surfaces as `SignatureError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_BODY_BYTES = 64 * 1024
# Amounts are stored in a bigint column; anything larger is malformed, not a payment.
MAX_AMOUNT = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Times a notification may carry; services also refuse times ahead of their clock (FUTURE_SLACK).
EARLIEST = EPOCH
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
_DECIMAL = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class Notice:
    """A verified payment notification, reduced to what matching a stall needs."""

    partner: str
    external_id: str
    amount: int
    succeeded: bool
    account_number: str | None
    reference: str | None
    occurred_at: datetime | None


class SignatureError(Exception):
    """The notification is unsigned, wrongly signed or malformed."""


def hmac_hex(secret: str, message: str | bytes, digestmod: Any = hashlib.sha256) -> str:
    """Lower-case hex HMAC of `message` (UTF-8 when text) under `secret`."""
    if not secret:
        raise ValueError("signing secret is empty; disable the partner instead")
    return hmac.new(secret.encode(), utf8(message), digestmod).hexdigest()


def utf8(text: str | bytes) -> bytes:
    if isinstance(text, bytes):
        return text
    try:
        return text.encode()
    except UnicodeEncodeError as exc:  # lone surrogates decoded from JSON "\ud800" escapes
        raise SignatureError("text is not valid Unicode") from exc


def hex_equal(expected: str, received: object) -> bool:
    """Constant-time, case-insensitive comparison of a computed hex digest with a received one."""
    if not isinstance(received, str):
        return False
    try:
        received_bytes = received.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.lower().encode("ascii"), received_bytes)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return value


def load_object(raw_body: bytes, what: str = "body") -> dict[str, Any]:
    """Parse a JSON object, keeping integers exact; anything else is a `SignatureError`.

    A key given twice is refused: the signature covers the raw text, and "last one wins" would let
    a message say one thing to the signer and another to us.
    """
    if len(raw_body) > MAX_BODY_BYTES:
        raise SignatureError(f"{what} is larger than {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(raw_body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise SignatureError(f"{what} has a key twice") from exc
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, >4300-digit ints, deep nesting
        raise SignatureError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise SignatureError(f"{what} is not a JSON object")
    return value


def field_text(value: object, name: str) -> str:
    """A field as it appears in a signed string: raw text, plain decimal integers, null as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise SignatureError(f"{name} has an unsupported type")


def optional_text(value: object, name: str) -> str | None:
    text = field_text(value, name).strip()
    return text or None


def amount_field(value: object, name: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise SignatureError(f"{name} must be a positive integer")
    return value


def id_field(value: object, name: str) -> str:
    """A partner identifier given as a JSON integer or a non-empty string."""
    text = field_text(value, name).strip()
    if not text or len(text) > 100:
        raise SignatureError(f"{name} is missing or too long")
    return text


def decimal_text(text: str, name: str) -> int:
    """A plain ASCII decimal (int() would also accept '1_000', ' 12' or Arabic-Indic digits)."""
    if not _DECIMAL.fullmatch(text):
        raise SignatureError(f"{name} is not a decimal number")
    return int(text)


def from_epoch_ms(value: object, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SignatureError(f"{name} is not an epoch timestamp in milliseconds")
    try:
        moment = EPOCH + timedelta(milliseconds=value)  # exact, unlike value / 1000 as a float
    except OverflowError as exc:
        raise SignatureError(f"{name} is out of range") from exc
    return utc_moment(moment, name)


def utc_moment(moment: datetime, name: str) -> datetime:
    """An aware moment in UTC, if it lies in [EARLIEST, LATEST); else a `SignatureError`.

    Year 1 or 9999 is no payment time (and converting one to UTC can overflow); the Unix epoch is
    the earliest a partner's clock can say.
    """
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise SignatureError(f"{name} is out of range") from exc
    if not EARLIEST <= utc < LATEST:
        raise SignatureError(f"{name} is not between {EARLIEST:%Y} and {LATEST:%Y}")
    return utc
