"""Our own partner-event scheme.

Header `X-Signature: t=<unix seconds>,v1=<hex>` where the hex is HMAC-SHA256(signing_secret,
"<t>.<raw body>"). Several `v1=` entries may be sent while a partner rotates its secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from partners.schemes import (
    FUTURE_SLACK,
    MAX_AMOUNT,
    MAX_BODY_BYTES,
    Notice,
    SignatureError,
    hex_equal,
    hmac_hex,
    load_object,
    utc_moment,
)

EventType = Literal[
    "account.onboarded", "account.activated", "account.deactivated", "payment.received"
]
EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_HEADER_CHARS = 1024


@dataclass(frozen=True)
class OwnEvent:
    """A signed partner event; `occurred_at` is aware UTC."""

    id: str
    type: EventType
    occurred_at: datetime
    data: dict[str, Any]


class EventFormatError(Exception):
    """The event is correctly signed but its content is malformed."""


def sign(raw_body: bytes, *, signing_secret: str, timestamp: int) -> str:
    """The `X-Signature` header value for this body at this unix time."""
    return f"t={timestamp},v1={_digest(signing_secret, str(timestamp), raw_body)}"


def verify(
    raw_body: bytes,
    signature_header: str | None,
    *,
    signing_secret: str,
    now: float,
    tolerance_s: int = 300,
) -> OwnEvent:
    """Check signature and freshness (`SignatureError`), then the content (`EventFormatError`)."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise SignatureError(f"body is larger than {MAX_BODY_BYTES} bytes")
    timestamp, candidates = _parse_header(signature_header)
    expected = _digest(signing_secret, timestamp, raw_body)
    matched = False
    for candidate in candidates:  # compare every entry so timing does not reveal which matched
        matched |= hex_equal(expected, candidate)
    if not matched:
        raise SignatureError("signature mismatch")
    if abs(now - int(timestamp)) > tolerance_s:
        raise SignatureError("stale")
    event = parse_event(raw_body)
    if event.occurred_at > datetime.fromtimestamp(now, UTC) + FUTURE_SLACK:
        raise EventFormatError("occurred_at is in the future")
    return event


def parse_event(raw_body: bytes) -> OwnEvent:
    """Validate an event body whose signature has already been checked."""
    try:
        body = load_object(raw_body)
    except SignatureError as exc:
        raise EventFormatError(str(exc)) from exc
    event_id, event_type, data = body.get("id"), body.get("type"), body.get("data")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 100:
        raise EventFormatError("id must be a string of 1 to 100 characters")
    # A type that is not text (an object, a list) is not one either: `in` on a set would hash it.
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise EventFormatError(f"type must be one of {', '.join(sorted(EVENT_TYPES))}")
    if not isinstance(data, dict):
        raise EventFormatError("data must be an object")
    if event_type == "payment.received":
        _check_payment(data)
    return OwnEvent(
        id=event_id,
        type=cast(EventType, event_type),
        occurred_at=_occurred_at(body.get("occurred_at")),
        data=data,
    )


def payment_notice(event: OwnEvent, *, partner: str) -> Notice:
    """The `Notice` for a `payment.received` event; the event id is the idempotency key."""
    if event.type != "payment.received":
        raise ValueError(f"{event.type} is not a payment")
    return Notice(
        partner=partner,
        external_id=event.id,
        amount=event.data["amount"],
        succeeded=True,
        account_number=event.data.get("account_number") or None,
        reference=event.data.get("reference") or None,
        occurred_at=event.occurred_at,
    )


def _digest(secret: str, timestamp: str, raw_body: bytes) -> str:
    return hmac_hex(secret, timestamp.encode() + b"." + raw_body)


def _parse_header(header: str | None) -> tuple[str, list[str]]:
    if not header or len(header) > _MAX_HEADER_CHARS:
        raise SignatureError("missing or oversized signature header")
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value.strip())
        elif key == "v1":
            candidates.append(value.strip())
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not candidates:
        raise SignatureError("signature header needs one t=<unix seconds> and a v1=<hex>")
    return timestamps[0], candidates


def _check_payment(data: dict[str, Any]) -> None:
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise EventFormatError("payment.received needs a positive integer amount")
    for name in ("account_number", "reference"):
        if not isinstance(data.get(name, ""), str | None):
            raise EventFormatError(f"{name} must be a string")


def _occurred_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise EventFormatError("occurred_at must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise EventFormatError("occurred_at is not ISO 8601") from exc
    if moment.utcoffset() is None:
        raise EventFormatError("occurred_at needs a UTC offset")
    try:
        return utc_moment(moment, "occurred_at")
    except SignatureError as exc:
        raise EventFormatError(str(exc)) from None
