"""MoMo AIO v2 IPN: HMAC-SHA256 over `accessKey=…&amount=…&…` in alphabetical order, raw values."""

from __future__ import annotations

from collections.abc import Mapping

from partners.schemes import (
    Notice,
    SignatureError,
    amount_field,
    field_text,
    from_epoch_ms,
    hex_equal,
    hmac_hex,
    id_field,
    load_object,
    optional_text,
)

# accessKey is not in the body: the merchant inserts its own, first in alphabetical order.
SIGNED_FIELDS = (
    "amount",
    "extraData",
    "message",
    "orderId",
    "orderInfo",
    "orderType",
    "partnerCode",
    "payType",
    "requestId",
    "responseTime",
    "resultCode",
    "transId",
)


def signed_string(fields: Mapping[str, object], *, access_key: str) -> str:
    """The exact text MoMo signs; a missing field contributes an empty value."""
    pairs = [f"accessKey={access_key}"]
    pairs += [f"{name}={field_text(fields.get(name), name)}" for name in SIGNED_FIELDS]
    return "&".join(pairs)


def sign(fields: Mapping[str, object], *, access_key: str, secret_key: str) -> str:
    """The `signature` MoMo would send with these IPN fields."""
    return hmac_hex(secret_key, signed_string(fields, access_key=access_key))


def verify(raw_body: bytes, *, access_key: str, secret_key: str) -> Notice:
    """Verify a MoMo IPN body and read the payment from its signed fields."""
    body = load_object(raw_body)
    if not isinstance(body.get("signature"), str):
        raise SignatureError("missing signature")
    if not hex_equal(sign(body, access_key=access_key, secret_key=secret_key), body["signature"]):
        raise SignatureError("signature mismatch")
    result_code = body.get("resultCode")
    if isinstance(result_code, bool) or not isinstance(result_code, int):
        raise SignatureError("resultCode must be an integer")
    return Notice(
        partner="momo",
        external_id=id_field(body.get("transId"), "transId"),
        amount=amount_field(body.get("amount")),
        # 9000 means authorised but not yet captured: no money has moved.
        succeeded=result_code == 0,
        account_number=None,
        reference=optional_text(body.get("orderId"), "orderId"),
        occurred_at=from_epoch_ms(body.get("responseTime"), "responseTime"),
    )
