"""VNPay 2.1.0 IPN / return URL: HMAC-SHA512 over sorted, form-URL-encoded `vnp_*` parameters."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote_plus

from partners.schemes import (
    MAX_BODY_BYTES,
    Notice,
    SignatureError,
    decimal_text,
    hex_equal,
    hmac_hex,
    id_field,
    optional_text,
    utc_moment,
)

UNSIGNED = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})
VIETNAM = timezone(timedelta(hours=7))
_PAY_DATE = re.compile(r"[0-9]{14}")


def canonical(params: Mapping[str, str]) -> str:
    """Sorted `key=quote_plus(value)` pairs of the signed, non-empty `vnp_*` parameters."""
    return "&".join(
        f"{key}={quote_plus(value)}"
        for key, value in sorted(params.items())
        if key.startswith("vnp_") and key not in UNSIGNED and value
    )


def sign(params: Mapping[str, str], *, hash_secret: str) -> str:
    """The `vnp_SecureHash` VNPay would send with these parameters (lower-case hex)."""
    return hmac_hex(hash_secret, canonical(params), hashlib.sha512)


def verify(raw_query: str, *, hash_secret: str) -> Notice:
    """Verify a VNPay query string (without the leading `?`) and read the payment."""
    params = _parse_query(raw_query)
    if "vnp_SecureHash" not in params:
        raise SignatureError("missing vnp_SecureHash")
    if not hex_equal(sign(params, hash_secret=hash_secret), params["vnp_SecureHash"]):
        raise SignatureError("signature mismatch")
    minor_units = decimal_text(params.get("vnp_Amount", ""), "vnp_Amount")
    if minor_units == 0 or minor_units % 100:
        raise SignatureError("vnp_Amount must be a positive whole number of dong times 100")
    return Notice(
        partner="vnpay",
        external_id=id_field(params.get("vnp_TransactionNo"), "vnp_TransactionNo"),
        amount=minor_units // 100,
        succeeded=params.get("vnp_ResponseCode") == "00"
        and params.get("vnp_TransactionStatus") == "00",
        account_number=None,
        reference=optional_text(params.get("vnp_TxnRef"), "vnp_TxnRef"),
        occurred_at=_pay_date(params.get("vnp_PayDate")),
    )


def _parse_query(raw_query: str) -> dict[str, str]:
    if len(raw_query) > MAX_BODY_BYTES or not raw_query.isascii():
        raise SignatureError("query string is too long or not URL-encoded")
    try:
        pairs = parse_qsl(
            raw_query,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=100,
        )
    except ValueError as exc:  # malformed pairs, invalid UTF-8 escapes, too many fields
        raise SignatureError("malformed query string") from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise SignatureError("duplicate query parameter")
    return params


def _pay_date(text: str | None) -> datetime | None:
    """vnp_PayDate is yyyyMMddHHmmss in Vietnam time (GMT+7)."""
    if not text:
        return None
    try:
        if not _PAY_DATE.fullmatch(text):
            raise ValueError(text)
        local = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VIETNAM)
    except ValueError as exc:
        raise SignatureError("vnp_PayDate is not yyyyMMddHHmmss") from exc
    return utc_moment(local, "vnp_PayDate")
