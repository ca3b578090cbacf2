"""payOS webhook: HMAC-SHA256 over sorted `key=value` pairs of `data`; raw values, null empty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from partners.schemes import (
    Notice,
    SignatureError,
    amount_field,
    field_text,
    hex_equal,
    hmac_hex,
    id_field,
    load_object,
    optional_text,
    utc_moment,
)

VIETNAM = timezone(timedelta(hours=7))


def canonical(data: Mapping[str, object]) -> str:
    """The exact text payOS signs for a webhook `data` object."""
    return "&".join(f"{key}={_value_text(data[key], key)}" for key in sorted(data))


def sign(data: Mapping[str, object], *, checksum_key: str) -> str:
    """The `signature` payOS would send with this `data` object."""
    return hmac_hex(checksum_key, canonical(data))


def verify(raw_body: bytes, *, checksum_key: str) -> Notice:
    """Verify a payOS webhook body and read the transfer from its signed `data`."""
    body = load_object(raw_body)
    data, signature = body.get("data"), body.get("signature")
    if not isinstance(data, dict) or not isinstance(signature, str):
        raise SignatureError("missing data or signature")
    if not hex_equal(sign(data, checksum_key=checksum_key), signature):
        raise SignatureError("signature mismatch")
    # The top-level code/success are outside the signature, so only data.code decides.
    account = optional_text(data.get("virtualAccountNumber"), "virtualAccountNumber")
    return Notice(
        partner="payos",
        external_id=optional_text(data.get("reference"), "reference")
        or id_field(data.get("orderCode"), "orderCode"),
        amount=amount_field(data.get("amount")),
        succeeded=data.get("code") == "00",
        account_number=account or optional_text(data.get("accountNumber"), "accountNumber"),
        # A static stall QR carries its purpose text in the transfer description.
        reference=optional_text(data.get("description"), "description")
        or optional_text(data.get("orderCode"), "orderCode"),
        occurred_at=_transaction_time(data.get("transactionDateTime")),
    )


def _value_text(value: object, name: str) -> str:
    if isinstance(value, bool):  # payOS signs with JavaScript's String(true)
        return "true" if value else "false"
    return field_text(value, name)


def _transaction_time(value: object) -> datetime | None:
    """`transactionDateTime` is "YYYY-MM-DD HH:MM:SS" in Vietnam time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SignatureError("transactionDateTime is not text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SignatureError("transactionDateTime is not a date and time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return utc_moment(moment, "transactionDateTime")
