"""ZaloPay callback: `mac = HMAC-SHA256(key2, data)` over the `data` string exactly as received."""

from __future__ import annotations

from partners.schemes import (
    Notice,
    SignatureError,
    amount_field,
    from_epoch_ms,
    hex_equal,
    hmac_hex,
    id_field,
    load_object,
    optional_text,
    utf8,
)


def sign(data: str, *, key2: str) -> str:
    """The `mac` ZaloPay would send with this `data` string."""
    return hmac_hex(key2, data)


def verify(raw_body: bytes, *, key2: str) -> Notice:
    """Verify a ZaloPay callback body; `data` is parsed only after its MAC matches."""
    body = load_object(raw_body)
    data, mac = body.get("data"), body.get("mac")
    if not isinstance(data, str) or not isinstance(mac, str):
        raise SignatureError("missing data or mac")
    if not hex_equal(sign(data, key2=key2), mac):
        raise SignatureError("mac mismatch")
    fields = load_object(utf8(data), "data")
    return Notice(
        partner="zalopay",
        external_id=id_field(fields.get("zp_trans_id"), "zp_trans_id"),
        amount=amount_field(fields.get("amount")),
        # ZaloPay calls back only for successful payments.
        succeeded=True,
        account_number=None,
        reference=optional_text(fields.get("app_trans_id"), "app_trans_id"),
        occurred_at=from_epoch_ms(fields.get("server_time"), "server_time"),
    )
