"""Partner signature schemes: published vectors, pinned self-made vectors and generated cases.

The pinned payOS, ZaloPay and own-scheme digests were cross-checked with `openssl dgst -hmac`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partners.schemes import Notice, SignatureError, hmac_hex, momo, own, payos, vnpay, zalopay
from partners.schemes.own import EventFormatError
from tests.partners.vectors import (
    MOMO_ACCESS_KEY,
    MOMO_IPN,
    MOMO_SECRET_KEY,
    MOMO_SIGNATURE,
    PAYOS_DATA,
    PAYOS_KEY,
    PAYOS_SIGNATURE,
    VNPAY_HASH,
    VNPAY_HASH_CODE_99,
    VNPAY_PARAMS,
    VNPAY_SECRET,
    ZALOPAY_DATA,
    ZALOPAY_KEY2,
    ZALOPAY_MAC,
)

SETTINGS = settings(
    database=None, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
secrets = st.text(min_size=1, max_size=40)
ids = st.integers(min_value=1, max_value=2**63 - 1)
amounts = st.integers(min_value=1, max_value=10**12)


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def accepts_or_signature_error(call: Callable[[], Notice]) -> None:
    try:
        notice = call()
    except SignatureError:
        return
    assert isinstance(notice, Notice)


# --- MoMo ------------------------------------------------------------------------------------


def momo_verify(body: dict[str, Any]) -> Notice:
    return momo.verify(dumps(body), access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY)


def test_momo_published_example_reproduces() -> None:
    assert momo.signed_string(MOMO_IPN, access_key=MOMO_ACCESS_KEY) == (
        "accessKey=F8BBA842ECF85&amount=10000&extraData=&message=Thành công."
        "&orderId=MOMO1712108682648&orderInfo=pay with MoMo&orderType=momo_wallet"
        "&partnerCode=MOMO&payType=qr"
        "&requestId=MOMO1712108682648&responseTime=1712108811069&resultCode=0&transId=4014083433"
    )
    assert momo.sign(MOMO_IPN, access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY) == (
        MOMO_SIGNATURE
    )
    assert momo_verify({**MOMO_IPN, "signature": MOMO_SIGNATURE}) == Notice(
        partner="momo",
        external_id="4014083433",
        amount=10000,
        succeeded=True,
        account_number=None,
        reference="MOMO1712108682648",
        occurred_at=datetime(2024, 4, 3, 1, 46, 51, 69000, tzinfo=UTC),
    )


def test_momo_accepts_escaped_unicode_and_missing_fields_as_empty() -> None:
    escaped = json.dumps({**MOMO_IPN, "signature": MOMO_SIGNATURE}, ensure_ascii=True).encode()
    assert b"\\u00e0" in escaped
    momo.verify(escaped, access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY)

    without_extra = {k: v for k, v in MOMO_IPN.items() if k != "extraData"}
    assert momo_verify({**without_extra, "signature": MOMO_SIGNATURE}).external_id == "4014083433"


def test_momo_float_amount_is_not_the_signed_integer() -> None:
    with pytest.raises(SignatureError):
        momo_verify({**MOMO_IPN, "amount": 10000.0, "signature": MOMO_SIGNATURE})


def test_momo_failed_and_authorised_payments_are_not_successes() -> None:
    for code in (1006, 9000):
        fields = {**MOMO_IPN, "resultCode": code}
        signature = momo.sign(fields, access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY)
        assert momo_verify({**fields, "signature": signature}).succeeded is False


momo_fields = st.fixed_dictionaries(
    {
        "partnerCode": st.text(max_size=20),
        "orderId": st.text(min_size=1, max_size=50).filter(str.strip),
        "requestId": st.text(max_size=50),
        "amount": amounts,
        "orderInfo": st.text(max_size=80),
        "orderType": st.text(max_size=20),
        "transId": ids,
        "resultCode": st.integers(min_value=0, max_value=10_000),
        "message": st.text(max_size=40),
        "payType": st.text(max_size=10),
        "responseTime": st.integers(min_value=0, max_value=4_000_000_000_000),
        "extraData": st.text(max_size=40),
    }
)


@SETTINGS
@given(fields=momo_fields, access_key=secrets, secret_key=secrets)
def test_momo_sign_verify_round_trip(
    fields: dict[str, Any], access_key: str, secret_key: str
) -> None:
    signature = momo.sign(fields, access_key=access_key, secret_key=secret_key)
    body = dumps({**fields, "signature": signature})
    notice = momo.verify(body, access_key=access_key, secret_key=secret_key)
    assert (notice.external_id, notice.amount, notice.reference) == (
        str(fields["transId"]),
        fields["amount"],
        fields["orderId"].strip(),
    )
    assert notice.succeeded is (fields["resultCode"] == 0)


@SETTINGS
@given(fields=momo_fields, field=st.sampled_from(momo.SIGNED_FIELDS), data=st.data())
def test_momo_any_tampered_field_is_rejected(
    fields: dict[str, Any], field: str, data: st.DataObject
) -> None:
    signature = momo.sign(fields, access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY)
    original = fields[field]
    if isinstance(original, int):
        replacement: Any = data.draw(st.integers(min_value=0).filter(lambda v: v != original))
    else:
        replacement = data.draw(st.text(max_size=20).filter(lambda v: v != original))
    with pytest.raises(SignatureError):
        momo_verify({**fields, field: replacement, "signature": signature})


@SETTINGS
@given(fields=momo_fields, wrong_key=secrets.filter(lambda k: k != MOMO_SECRET_KEY))
def test_momo_wrong_key_is_rejected(fields: dict[str, Any], wrong_key: str) -> None:
    signature = momo.sign(fields, access_key=MOMO_ACCESS_KEY, secret_key=wrong_key)
    with pytest.raises(SignatureError):
        momo_verify({**fields, "signature": signature})


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(momo.SIGNED_FIELDS), json_values))
def test_momo_signed_garbage_never_raises_anything_else(fields: dict[str, Any]) -> None:
    try:
        signature = momo.sign(fields, access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY)
    except SignatureError:
        signature = "0" * 64
    accepts_or_signature_error(lambda: momo_verify({**fields, "signature": signature}))


# --- VNPay -----------------------------------------------------------------------------------


def vnpay_query(params: dict[str, str], secure_hash: str) -> str:
    return urlencode({**params, "vnp_SecureHashType": "HmacSHA512", "vnp_SecureHash": secure_hash})


def test_vnpay_published_example_reproduces() -> None:
    assert vnpay.canonical(VNPAY_PARAMS) == (
        "vnp_Amount=1000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14422574&vnp_CardType=ATM"
        "&vnp_OrderInfo=Thanh+toan+don+hang+2024-05-21T02%3A17%3A31.249Z&vnp_PayDate=20240521091806"
        "&vnp_ResponseCode=00&vnp_TmnCode=TEST_TMN_CODE&vnp_TransactionNo=14422574"
        "&vnp_TransactionStatus=00&vnp_TxnRef=1716257871703"
    )
    assert vnpay.sign(VNPAY_PARAMS, hash_secret=VNPAY_SECRET) == VNPAY_HASH
    notice = vnpay.verify(vnpay_query(VNPAY_PARAMS, VNPAY_HASH.upper()), hash_secret=VNPAY_SECRET)
    assert notice == Notice(
        partner="vnpay",
        external_id="14422574",
        amount=10000,
        succeeded=True,
        account_number=None,
        reference="1716257871703",
        occurred_at=datetime(2024, 5, 21, 2, 18, 6, tzinfo=UTC),
    )


def test_vnpay_published_failure_example_reproduces() -> None:
    failed = {**VNPAY_PARAMS, "vnp_ResponseCode": "99"}
    assert vnpay.sign(failed, hash_secret=VNPAY_SECRET) == VNPAY_HASH_CODE_99
    notice = vnpay.verify(vnpay_query(failed, VNPAY_HASH_CODE_99), hash_secret=VNPAY_SECRET)
    assert notice.succeeded is False
    with pytest.raises(SignatureError):  # the success hash does not cover the failure
        vnpay.verify(vnpay_query(failed, VNPAY_HASH), hash_secret=VNPAY_SECRET)


def test_vnpay_hash_over_unencoded_values_is_rejected() -> None:
    unencoded = "&".join(f"{k}={v}" for k, v in sorted(VNPAY_PARAMS.items()))
    naive_hash = hmac_hex(VNPAY_SECRET, unencoded, "sha512")
    assert naive_hash != VNPAY_HASH
    with pytest.raises(SignatureError):
        vnpay.verify(vnpay_query(VNPAY_PARAMS, naive_hash), hash_secret=VNPAY_SECRET)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "vnp_Amount=1000000",
        "vnp_Amount=1&vnp_Amount=2&vnp_SecureHash=00",
        "vnp_OrderInfo=%ff%fe&vnp_SecureHash=00",
        "vnp_OrderInfo=Chợ&vnp_SecureHash=00",
        "vnp_Amount&vnp_SecureHash=00",
        "&".join(f"vnp_X{i}=1" for i in range(200)),
    ],
    ids=["empty", "no-hash", "duplicate", "bad-utf8", "not-ascii", "no-equals", "too-many"],
)
def test_vnpay_malformed_query_is_rejected(query: str) -> None:
    with pytest.raises(SignatureError):
        vnpay.verify(query, hash_secret=VNPAY_SECRET)


@pytest.mark.parametrize("amount", ["1000050", "0", "-100", "1e6", "١٠٠"])
def test_vnpay_signed_but_invalid_amount_is_rejected(amount: str) -> None:
    params = {**VNPAY_PARAMS, "vnp_Amount": amount}
    query = vnpay_query(params, vnpay.sign(params, hash_secret=VNPAY_SECRET))
    with pytest.raises(SignatureError):
        vnpay.verify(query, hash_secret=VNPAY_SECRET)


VNPAY_REQUIRED = [
    "vnp_Amount",
    "vnp_OrderInfo",
    "vnp_ResponseCode",
    "vnp_TransactionNo",
    "vnp_TxnRef",
]
vnpay_params = st.fixed_dictionaries(
    {
        "vnp_Amount": amounts.map(lambda a: str(a * 100)),
        "vnp_OrderInfo": st.text(min_size=1, max_size=60),
        "vnp_ResponseCode": st.sampled_from(["00", "24", "99"]),
        "vnp_TransactionNo": ids.map(str),
        "vnp_TxnRef": st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=20),
    },
    optional={"vnp_BankCode": st.text(max_size=10), "vnp_TransactionStatus": st.just("00")},
)


@SETTINGS
@given(params=vnpay_params, secret=secrets)
def test_vnpay_sign_verify_round_trip(params: dict[str, str], secret: str) -> None:
    notice = vnpay.verify(
        vnpay_query(params, vnpay.sign(params, hash_secret=secret)), hash_secret=secret
    )
    assert notice.amount * 100 == int(params["vnp_Amount"])
    assert notice.external_id == params["vnp_TransactionNo"]
    assert notice.succeeded is (
        params["vnp_ResponseCode"] == "00" and params.get("vnp_TransactionStatus") == "00"
    )


@SETTINGS
@given(params=vnpay_params, field=st.sampled_from(VNPAY_REQUIRED))
def test_vnpay_any_tampered_field_is_rejected(params: dict[str, str], field: str) -> None:
    query = vnpay_query({**params, field: params[field] + "1"}, vnpay.sign(params, hash_secret="k"))
    with pytest.raises(SignatureError):
        vnpay.verify(query, hash_secret="k")


@SETTINGS
@given(params=vnpay_params, wrong=secrets.filter(lambda k: k != VNPAY_SECRET))
def test_vnpay_wrong_key_is_rejected(params: dict[str, str], wrong: str) -> None:
    with pytest.raises(SignatureError):
        vnpay.verify(
            vnpay_query(params, vnpay.sign(params, hash_secret=wrong)), hash_secret=VNPAY_SECRET
        )


@SETTINGS
@given(params=st.dictionaries(st.text(max_size=12).map("vnp_".__add__), st.text(max_size=20)))
def test_vnpay_signed_garbage_never_raises_anything_else(params: dict[str, str]) -> None:
    query = vnpay_query(params, vnpay.sign(params, hash_secret=VNPAY_SECRET))
    accepts_or_signature_error(lambda: vnpay.verify(query, hash_secret=VNPAY_SECRET))


# --- ZaloPay ---------------------------------------------------------------------------------


def zalopay_body(data: str, mac: str) -> bytes:
    return json.dumps({"data": data, "mac": mac, "type": 1}).encode()


def test_zalopay_pinned_example() -> None:
    assert zalopay.sign(ZALOPAY_DATA, key2=ZALOPAY_KEY2) == ZALOPAY_MAC
    notice = zalopay.verify(zalopay_body(ZALOPAY_DATA, ZALOPAY_MAC), key2=ZALOPAY_KEY2)
    assert notice == Notice(
        partner="zalopay",
        external_id="251127000000123",
        amount=45000,
        succeeded=True,
        account_number=None,
        reference="251127_000123",
        occurred_at=datetime(2025, 11, 27, 2, 15, 31, 234000, tzinfo=UTC),
    )


def test_zalopay_reserialised_data_fails_the_mac() -> None:
    respaced = json.dumps(json.loads(ZALOPAY_DATA))  # same content, ", " and ": " separators
    assert respaced != ZALOPAY_DATA
    with pytest.raises(SignatureError):
        zalopay.verify(zalopay_body(respaced, ZALOPAY_MAC), key2=ZALOPAY_KEY2)


def test_zalopay_signed_data_that_is_not_a_payment_is_rejected() -> None:
    for data in ("[]", "not json", '{"amount": 1000}', '{"zp_trans_id": 1, "amount": -5}'):
        with pytest.raises(SignatureError):
            zalopay.verify(zalopay_body(data, zalopay.sign(data, key2="k")), key2="k")


zalopay_data = st.fixed_dictionaries(
    {
        "app_trans_id": st.text(min_size=1, max_size=30).filter(str.strip),
        "amount": amounts,
        "zp_trans_id": ids,
        "server_time": st.integers(min_value=0, max_value=4_000_000_000_000),
        "embed_data": st.text(max_size=30),
    }
)


@SETTINGS
@given(fields=zalopay_data, key2=secrets, indent=st.none() | st.integers(0, 3))
def test_zalopay_sign_verify_round_trip(
    fields: dict[str, Any], key2: str, indent: int | None
) -> None:
    data = json.dumps(fields, indent=indent, ensure_ascii=False)
    notice = zalopay.verify(zalopay_body(data, zalopay.sign(data, key2=key2)), key2=key2)
    assert (notice.external_id, notice.amount) == (str(fields["zp_trans_id"]), fields["amount"])


@SETTINGS
@given(fields=zalopay_data, field=st.sampled_from(["app_trans_id", "amount", "zp_trans_id"]))
def test_zalopay_tampered_or_wrong_key_is_rejected(fields: dict[str, Any], field: str) -> None:
    data = json.dumps(fields)
    mac = zalopay.sign(data, key2=ZALOPAY_KEY2)
    tampered = json.dumps({**fields, field: fields[field] * 2})
    with pytest.raises(SignatureError):
        zalopay.verify(zalopay_body(tampered, mac), key2=ZALOPAY_KEY2)
    with pytest.raises(SignatureError):
        zalopay.verify(zalopay_body(data, mac), key2=ZALOPAY_KEY2 + "x")


@SETTINGS
@given(value=json_values)
def test_zalopay_signed_garbage_never_raises_anything_else(value: Any) -> None:
    data = json.dumps(value)
    body = zalopay_body(data, zalopay.sign(data, key2="k"))
    accepts_or_signature_error(lambda: zalopay.verify(body, key2="k"))


# --- payOS -----------------------------------------------------------------------------------


def payos_body(data: dict[str, Any], signature: str, code: str = "00") -> bytes:
    return dumps(
        {"code": code, "desc": "success", "success": True, "data": data, "signature": signature}
    )


def test_payos_pinned_example() -> None:
    assert payos.canonical(PAYOS_DATA) == (
        "accountNumber=0123456789&amount=45000&code=00&counterAccountBankId=970422"
        "&counterAccountBankName=&counterAccountName=&counterAccountNumber=9876543210&currency=VND"
        "&desc=success&description=CHO TAN CHINH K12&orderCode=251127&paymentLinkId="
        "&reference=FT25331000123456&transactionDateTime=2025-11-27 09:15:30&virtualAccountName="
        "&virtualAccountNumber="
    )
    assert payos.sign(PAYOS_DATA, checksum_key=PAYOS_KEY) == PAYOS_SIGNATURE
    notice = payos.verify(payos_body(PAYOS_DATA, PAYOS_SIGNATURE), checksum_key=PAYOS_KEY)
    assert notice == Notice(
        partner="payos",
        external_id="FT25331000123456",
        amount=45000,
        succeeded=True,
        account_number="0123456789",
        reference="CHO TAN CHINH K12",
        occurred_at=datetime(2025, 11, 27, 2, 15, 30, tzinfo=UTC),
    )


def test_payos_virtual_account_and_order_code_fallbacks() -> None:
    data = {**PAYOS_DATA, "virtualAccountNumber": "V0001234", "reference": "", "description": ""}
    notice = payos.verify(payos_body(data, payos.sign(data, checksum_key="k")), checksum_key="k")
    assert (notice.account_number, notice.external_id, notice.reference) == (
        "V0001234",
        "251127",
        "251127",
    )


def test_payos_only_the_signed_code_decides_success() -> None:
    failed = {**PAYOS_DATA, "code": "01"}
    body = payos_body(failed, payos.sign(failed, checksum_key=PAYOS_KEY), code="00")
    assert payos.verify(body, checksum_key=PAYOS_KEY).succeeded is False


payos_data = st.fixed_dictionaries(
    {
        "orderCode": ids,
        "amount": amounts,
        "description": st.text(max_size=40),
        "accountNumber": st.text(alphabet="0123456789", min_size=6, max_size=19),
        "reference": st.text(min_size=1, max_size=30).filter(str.strip),
        "code": st.sampled_from(["00", "01"]),
        "counterAccountName": st.none() | st.text(max_size=30),
    }
)


@SETTINGS
@given(data=payos_data, key=secrets)
def test_payos_sign_verify_round_trip(data: dict[str, Any], key: str) -> None:
    notice = payos.verify(payos_body(data, payos.sign(data, checksum_key=key)), checksum_key=key)
    assert (notice.external_id, notice.amount, notice.account_number) == (
        data["reference"].strip(),
        data["amount"],
        data["accountNumber"],
    )
    assert notice.succeeded is (data["code"] == "00")


@SETTINGS
@given(data=payos_data, field=st.sampled_from(["orderCode", "amount", "description", "reference"]))
def test_payos_tampered_or_wrong_key_is_rejected(data: dict[str, Any], field: str) -> None:
    signature = payos.sign(data, checksum_key=PAYOS_KEY)
    tampered = {**data, field: data[field] * 2 if data[field] else "x"}
    with pytest.raises(SignatureError):
        payos.verify(payos_body(tampered, signature), checksum_key=PAYOS_KEY)
    with pytest.raises(SignatureError):
        payos.verify(payos_body(data, signature), checksum_key=PAYOS_KEY + "x")


@SETTINGS
@given(data=st.dictionaries(st.text(max_size=12), json_values))
def test_payos_signed_garbage_never_raises_anything_else(data: dict[str, Any]) -> None:
    try:
        signature = payos.sign(data, checksum_key="k")
    except SignatureError:
        signature = "0" * 64
    accepts_or_signature_error(lambda: payos.verify(payos_body(data, signature), checksum_key="k"))


# --- garbage bodies, all JSON schemes ----------------------------------------------------------

JSON_VERIFIERS: dict[str, Callable[[bytes], Notice]] = {
    "momo": lambda raw: momo.verify(raw, access_key="a", secret_key="s"),
    "zalopay": lambda raw: zalopay.verify(raw, key2="s"),
    "payos": lambda raw: payos.verify(raw, checksum_key="s"),
}
GARBAGE = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[1, 2]",
    b"null",
    b"{}",
    b'{"signature": 12, "data": [], "mac": null}',
    b'{"amount": 1' + b"9" * 5000 + b"}",
    b"[" * 30_000 + b"]" * 30_000,
    b'{"data": "\\ud800", "mac": "00", "signature": "\\ud800"}',
    b'{"a": "' + b"x" * 70_000 + b'"}',
]


@pytest.mark.parametrize("partner", sorted(JSON_VERIFIERS))
@pytest.mark.parametrize("raw", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_bodies_raise_signature_error(partner: str, raw: bytes) -> None:
    with pytest.raises(SignatureError):
        JSON_VERIFIERS[partner](raw)


@SETTINGS
@given(
    partner=st.sampled_from(sorted(JSON_VERIFIERS)),
    raw=st.binary(max_size=200) | json_values.map(dumps),
)
def test_arbitrary_bodies_raise_signature_error(partner: str, raw: bytes) -> None:
    with pytest.raises(SignatureError):
        JSON_VERIFIERS[partner](raw)


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        payos.verify(payos_body(PAYOS_DATA, PAYOS_SIGNATURE), checksum_key="")


# --- own scheme --------------------------------------------------------------------------------

OWN_SECRET = "whsec_test"
OWN_BODY = (
    b'{"id":"evt_1","type":"payment.received","occurred_at":"2025-11-27T09:15:30+07:00",'
    b'"data":{"amount":45000,"account_number":"0123456789","reference":"K12"}}'
)
NOW = 1764209730


def own_event(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def own_verify(raw: bytes, header: str | None, now: float = NOW) -> own.OwnEvent:
    return own.verify(raw, header, signing_secret=OWN_SECRET, now=now)


def test_own_pinned_example() -> None:
    body = (
        b'{"id":"evt_1","type":"payment.received","occurred_at":"2025-11-27T09:15:30+07:00",'
        b'"data":{"amount":45000}}'
    )
    header = "t=1764209730,v1=2a196792f0a4b12f09e10f074e5f7cfd0dc4a54313d848d6091ea2dd30c332ea"
    assert own.sign(body, signing_secret=OWN_SECRET, timestamp=NOW) == header
    assert own_verify(body, header) == own.OwnEvent(
        id="evt_1",
        type="payment.received",
        occurred_at=datetime(2025, 11, 27, 2, 15, 30, tzinfo=UTC),
        data={"amount": 45000},
    )


def test_own_payment_event_becomes_a_notice() -> None:
    event = own_verify(OWN_BODY, own.sign(OWN_BODY, signing_secret=OWN_SECRET, timestamp=NOW))
    assert own.payment_notice(event, partner="coop_bank") == Notice(
        partner="coop_bank",
        external_id="evt_1",
        amount=45000,
        succeeded=True,
        account_number="0123456789",
        reference="K12",
        occurred_at=datetime(2025, 11, 27, 2, 15, 30, tzinfo=UTC),
    )


def test_own_accepts_any_of_several_v1_entries_during_rotation() -> None:
    old = own.sign(OWN_BODY, signing_secret="old_secret", timestamp=NOW).split(",v1=")[1]
    new = own.sign(OWN_BODY, signing_secret=OWN_SECRET, timestamp=NOW).split(",v1=")[1]
    assert own_verify(OWN_BODY, f"t={NOW},v1={old},v1={new}").id == "evt_1"
    assert own_verify(OWN_BODY, f"t={NOW}, v1={new.upper()} ,v1={old}").id == "evt_1"
    with pytest.raises(SignatureError):
        own_verify(OWN_BODY, f"t={NOW},v1={old}")


@pytest.mark.parametrize("skew", [0, 300, -300, 299.5])
def test_own_skew_up_to_300_seconds_is_accepted(skew: float) -> None:
    header = own.sign(OWN_BODY, signing_secret=OWN_SECRET, timestamp=NOW)
    assert own_verify(OWN_BODY, header, now=NOW + skew).id == "evt_1"


@pytest.mark.parametrize("skew", [301, -301, 300.001, 86_400])
def test_own_stale_signatures_are_rejected_both_ways(skew: float) -> None:
    header = own.sign(OWN_BODY, signing_secret=OWN_SECRET, timestamp=NOW)
    with pytest.raises(SignatureError, match="^stale$"):
        own_verify(OWN_BODY, header, now=NOW + skew)


@SETTINGS
@given(skew=st.integers(min_value=-10_000, max_value=10_000))
def test_own_freshness_window_is_symmetric(skew: int) -> None:
    header = own.sign(OWN_BODY, signing_secret=OWN_SECRET, timestamp=NOW + skew)
    if abs(skew) <= 300:
        assert own_verify(OWN_BODY, header).id == "evt_1"
    else:
        with pytest.raises(SignatureError, match="stale"):
            own_verify(OWN_BODY, header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=abc",
        f"t={NOW}",
        f"t={NOW},t={NOW},v1=00",
        "t=soon,v1=00",
        f"t=-{NOW},v1=00",
        f"t={NOW},v1=zz",
        f"t={NOW},v1=ü",
        f"t={NOW},v1=" + "0" * 2000,
    ],
)
def test_own_malformed_or_wrong_headers_are_rejected(header: str | None) -> None:
    with pytest.raises(SignatureError):
        own_verify(OWN_BODY, header)


@SETTINGS
@given(body=st.binary(max_size=200), secret=secrets, timestamp=st.integers(NOW - 100, NOW + 100))
def test_own_tampered_body_or_wrong_secret_is_rejected(
    body: bytes, secret: str, timestamp: int
) -> None:
    header = own.sign(OWN_BODY, signing_secret=OWN_SECRET, timestamp=timestamp)
    if body != OWN_BODY:
        with pytest.raises(SignatureError):
            own_verify(body, header)
    if secret != OWN_SECRET:
        with pytest.raises(SignatureError):
            own.verify(OWN_BODY, header, signing_secret=secret, now=NOW)


VALID_EVENT = {
    "id": "evt_2",
    "type": "account.activated",
    "occurred_at": "2025-11-27T02:15:30Z",
    "data": {"stall": "K12"},
}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (own_event({**VALID_EVENT, "id": ""}), "id must be"),
        (own_event({**VALID_EVENT, "id": "x" * 101}), "id must be"),
        (own_event({**VALID_EVENT, "id": 7}), "id must be"),
        (own_event({**VALID_EVENT, "type": "account.deleted"}), "type must be one of"),
        (own_event({**VALID_EVENT, "occurred_at": "2025-11-27T02:15:30"}), "UTC offset"),
        (own_event({**VALID_EVENT, "occurred_at": "yesterday"}), "not ISO 8601"),
        (own_event({**VALID_EVENT, "occurred_at": 1764209730}), "ISO 8601 string"),
        (own_event({**VALID_EVENT, "data": [1]}), "data must be an object"),
        (own_event({**VALID_EVENT, "type": "payment.received"}), "positive integer amount"),
        *[
            (
                own_event({**VALID_EVENT, "type": "payment.received", "data": {"amount": amount}}),
                "positive integer amount",
            )
            for amount in (0, -5, "45000", True, 450.5, 2**70)
        ],
        (
            own_event(
                {**VALID_EVENT, "type": "payment.received", "data": {"amount": 1, "reference": 5}}
            ),
            "reference must be a string",
        ),
    ],
)
def test_own_signed_but_malformed_events_raise_event_format_error(raw: bytes, message: str) -> None:
    header = own.sign(raw, signing_secret=OWN_SECRET, timestamp=NOW)
    with pytest.raises(EventFormatError, match=message):
        own_verify(raw, header)


def test_own_event_time_is_normalised_to_utc() -> None:
    raw = own_event({**VALID_EVENT, "occurred_at": "2025-11-27T09:15:30.5+07:00"})
    event = own_verify(raw, own.sign(raw, signing_secret=OWN_SECRET, timestamp=NOW))
    assert event.occurred_at == datetime(2025, 11, 27, 2, 15, 30, 500000, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC


@SETTINGS
@given(raw=st.binary(max_size=200) | json_values.map(dumps))
def test_own_signed_garbage_raises_only_event_format_error(raw: bytes) -> None:
    header = own.sign(raw, signing_secret=OWN_SECRET, timestamp=NOW)
    try:
        event = own_verify(raw, header)
    except EventFormatError:
        return
    assert event.type in own.EVENT_TYPES
