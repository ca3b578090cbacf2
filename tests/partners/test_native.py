"""Native partner notifications (MoMo, VNPay, ZaloPay, payOS) through the app, on the real database.

The MoMo and VNPay cases start from the published worked examples in the reference (domain.md §c);
ZaloPay and payOS from the pinned self-made vectors of tests/partners/test_schemes.py (cross-checked
with openssl there); every other case is generated here with the scheme's own signing function.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from partners.schemes import momo, payos, vnpay, zalopay
from tests.conftest import TEST_KEYS, stall_body
from tests.partners import vectors
from tests.partners.vectors import (
    MOMO_ACCESS_KEY,
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

# The published IPN as MoMo posts it, signature included.
MOMO_IPN: dict[str, Any] = {**vectors.MOMO_IPN, "signature": MOMO_SIGNATURE}

CREDENTIALS = {
    "MOMO": {"access_key": MOMO_ACCESS_KEY, "secret_key": MOMO_SECRET_KEY},
    "VNPAY": {"hash_secret": VNPAY_SECRET},
    "ZALOPAY": {"key2": ZALOPAY_KEY2},
    "PAYOS": {"checksum_key": PAYOS_KEY},
}


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture
async def admin(client, auth) -> dict[str, str]:
    """Every native partner has credentials; returns admin headers."""
    headers = await auth("admin")
    for code, values in CREDENTIALS.items():
        r = await client.put(f"/api/partners/{code}/credentials", json=values, headers=headers)
        assert r.status_code == 200, r.text
    return headers


async def register(
    client, headers, market_id: int, code: str, accounts: list[dict] | None = None
) -> dict:
    body = stall_body(code)
    if accounts is not None:
        body["payment_accounts"] = accounts
    r = await client.post(f"/api/markets/{market_id}/stalls", json=body, headers=headers | key())
    assert r.status_code == 201, r.text
    return r.json()


async def payments(conn) -> list[dict]:
    rows = await conn.fetch(
        "SELECT partner_code, external_id, payment_account_id, stall_id, amount, matched, "
        "reference, "
        "account_number, occurred_at FROM payment_event ORDER BY id"
    )
    return [dict(r) | {"account_number": TEST_KEYS.open_or_none(r["account_number"])} for r in rows]


async def snapshot(conn) -> tuple:
    return (
        await conn.fetchval("SELECT count(*) FROM partner_event"),
        tuple(tuple(p.values()) for p in await payments(conn)),
    )


# ---------------------------------------------------------------- MoMo


def momo_ipn(**over: Any) -> dict[str, Any]:
    fields = {k: v for k, v in MOMO_IPN.items() if k != "signature"} | over
    return fields | {
        "signature": momo.sign(fields, access_key=MOMO_ACCESS_KEY, secret_key=MOMO_SECRET_KEY)
    }


async def test_momo_published_ipn_is_verified_and_kept_for_review(client, conn, admin):
    r = await client.post("/api/partners/momo/ipn", content=dumps(MOMO_IPN))
    assert r.status_code == 204, r.text
    [payment] = await payments(conn)
    assert (
        payment["partner_code"],
        payment["external_id"],
        payment["amount"],
        payment["matched"],
    ) == (
        "MOMO",
        "4014083433",
        10000,
        False,
    )
    assert payment["reference"] == "MOMO1712108682648"
    assert payment["occurred_at"] == datetime(2024, 4, 3, 1, 46, 51, 69000, tzinfo=UTC)
    review = await client.get("/api/partners/MOMO/unmatched", headers=admin)
    assert review.status_code == 200
    assert [(p["external_id"], p["amount"]) for p in review.json()["items"]] == [
        ("4014083433", 10000)
    ]
    again = await client.post("/api/partners/momo/ipn", content=dumps(MOMO_IPN))
    assert again.status_code == 204
    assert len(await payments(conn)) == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda: MOMO_IPN | {"amount": 100000},  # tampered field, signature kept
        lambda: MOMO_IPN | {"orderInfo": "pay with MoMo!"},
        lambda: (
            momo_ipn()
            | {"signature": momo.sign(MOMO_IPN, access_key=MOMO_ACCESS_KEY, secret_key="wrong")}
        ),
        lambda: (
            momo_ipn()
            | {"signature": momo.sign(MOMO_IPN, access_key="OTHER", secret_key=MOMO_SECRET_KEY)}
        ),
        lambda: {k: v for k, v in MOMO_IPN.items() if k != "signature"},
    ],
)
async def test_momo_forgeries_are_401_and_change_nothing(client, conn, admin, forge):
    before = await snapshot(conn)
    r = await client.post("/api/partners/momo/ipn", content=dumps(forge()))
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
    assert await snapshot(conn) == before


async def test_momo_replay_with_a_changed_amount_is_refused(client, conn, admin):
    assert (await client.post("/api/partners/momo/ipn", content=dumps(MOMO_IPN))).status_code == 204
    before = await snapshot(conn)
    r = await client.post("/api/partners/momo/ipn", content=dumps(momo_ipn(amount=99000)))
    assert r.status_code == 409 and r.json()["code"] == "event_conflict"
    assert await snapshot(conn) == before
    assert (await payments(conn))[0]["amount"] == 10000


async def test_momo_order_naming_a_stall_is_credited_to_its_momo_account(
    client, conn, admin, markets
):
    stall = await register(
        client,
        admin,
        markets["one"],
        "N-1",
        [
            {"bin": "970422", "account_number": "5550001", "partner_code": "MB"},
            {
                "bin": "971025",
                "account_number": "0905123456",
                "partner_code": "MOMO",
                "reference": "MOMOW2W4100000001",
            },
        ],
    )
    momo_account = stall["payment_accounts"][1]["id"]
    body = momo_ipn(orderId=f"CS{stall['id']}-20261127-01", transId=4100000001, amount=35000)
    assert (await client.post("/api/partners/momo/ipn", content=dumps(body))).status_code == 204
    [payment] = await payments(conn)
    assert (payment["stall_id"], payment["payment_account_id"], payment["matched"]) == (
        stall["id"],
        momo_account,
        True,
    )
    assert payment["reference"] == f"CS{stall['id']}"


async def test_momo_failed_payment_is_acknowledged_without_a_payment(client, conn, admin):
    body = momo_ipn(resultCode=1006, message="Giao dịch bị từ chối bởi người dùng.")
    r = await client.post("/api/partners/momo/ipn", content=dumps(body))
    assert r.status_code == 204
    assert await payments(conn) == []
    assert (
        await conn.fetchval("SELECT result FROM partner_event WHERE partner_code = 'MOMO'")
        == "not_succeeded"
    )


# ---------------------------------------------------------------- VNPay


def vnpay_query(
    params: dict[str, str], secure_hash: str | None = None, secret: str = VNPAY_SECRET
) -> str:
    secure_hash = secure_hash or vnpay.sign(params, hash_secret=secret)
    return urlencode({**params, "vnp_SecureHashType": "HmacSHA512", "vnp_SecureHash": secure_hash})


async def vnpay_ipn(client, query: str):
    r = await client.get(f"/api/partners/vnpay/ipn?{query}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_vnpay_published_ipn_confirms_then_reports_already_confirmed(client, conn, admin):
    assert await vnpay_ipn(client, vnpay_query(VNPAY_PARAMS, VNPAY_HASH)) == {
        "RspCode": "00",
        "Message": "Confirm Success",
    }
    [payment] = await payments(conn)
    assert (
        payment["external_id"],
        payment["amount"],
        payment["matched"],
        payment["reference"],
    ) == (
        "14422574",
        10000,
        False,
        "1716257871703",
    )
    assert payment["occurred_at"] == datetime(2024, 5, 21, 2, 18, 6, tzinfo=UTC)
    # Upper-case hex as some clients send it, same transaction: acknowledged, not applied again.
    again = await vnpay_ipn(client, vnpay_query(VNPAY_PARAMS, VNPAY_HASH.upper()))
    assert again["RspCode"] == "02"
    assert len(await payments(conn)) == 1


@pytest.mark.parametrize(
    "query",
    [
        lambda: vnpay_query(VNPAY_PARAMS | {"vnp_Amount": "9000000"}, VNPAY_HASH),
        lambda: vnpay_query(VNPAY_PARAMS | {"vnp_TxnRef": "CS1"}, VNPAY_HASH),
        lambda: vnpay_query(VNPAY_PARAMS, secret="other_secret"),
        lambda: urlencode(VNPAY_PARAMS),
        # Values joined without URL-encoding: the published vector must not verify that way.
        lambda: (
            "&".join(f"{k}={v}" for k, v in VNPAY_PARAMS.items())
            + "&vnp_SecureHash="
            + hmac.new(
                VNPAY_SECRET.encode(),
                "&".join(f"{k}={v}" for k, v in sorted(VNPAY_PARAMS.items())).encode(),
                hashlib.sha512,
            ).hexdigest()
        ),
    ],
)
async def test_vnpay_bad_checksum_is_97_and_changes_nothing(client, conn, admin, query):
    before = await snapshot(conn)
    assert (await vnpay_ipn(client, query()))["RspCode"] == "97"
    assert await snapshot(conn) == before


async def test_vnpay_replay_with_a_changed_amount_is_04(client, conn, admin):
    assert (await vnpay_ipn(client, vnpay_query(VNPAY_PARAMS, VNPAY_HASH)))["RspCode"] == "00"
    before = await snapshot(conn)
    changed = vnpay_query(VNPAY_PARAMS | {"vnp_Amount": "2000000"})
    assert (await vnpay_ipn(client, changed))["RspCode"] == "04"
    assert await snapshot(conn) == before


async def test_vnpay_failed_payment_is_confirmed_without_a_payment(client, conn, admin):
    failed = VNPAY_PARAMS | {"vnp_ResponseCode": "99"}
    assert (await vnpay_ipn(client, vnpay_query(failed, VNPAY_HASH_CODE_99)))["RspCode"] == "00"
    assert await payments(conn) == []


async def test_vnpay_txn_ref_naming_a_stall_is_matched(client, conn, admin, markets):
    stall = await register(client, admin, markets["one"], "N-2")
    params = VNPAY_PARAMS | {"vnp_TxnRef": f"CS{stall['id']}-7", "vnp_TransactionNo": "14422999"}
    assert (await vnpay_ipn(client, vnpay_query(params)))["RspCode"] == "00"
    [payment] = await payments(conn)
    assert (payment["stall_id"], payment["matched"]) == (stall["id"], True)
    # The stall's only account (MB) is the one credited: nothing closer to VNPay exists.
    assert payment["payment_account_id"] == stall["payment_accounts"][0]["id"]


# ---------------------------------------------------------------- ZaloPay


def zalopay_body(data: str, mac: str | None = None) -> bytes:
    mac = mac or hmac.new(ZALOPAY_KEY2.encode(), data.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"data": data, "mac": mac, "type": 1}).encode()


async def zalopay_callback(client, body: bytes) -> dict:
    r = await client.post("/api/partners/zalopay/callback", content=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_zalopay_pinned_callback_is_recorded_once(client, conn, admin):
    assert zalopay.sign(ZALOPAY_DATA, key2=ZALOPAY_KEY2) == ZALOPAY_MAC
    ok = {"return_code": 1, "return_message": "success"}
    assert await zalopay_callback(client, zalopay_body(ZALOPAY_DATA, ZALOPAY_MAC)) == ok
    assert await zalopay_callback(client, zalopay_body(ZALOPAY_DATA, ZALOPAY_MAC)) == ok
    [payment] = await payments(conn)
    assert (
        payment["external_id"],
        payment["amount"],
        payment["matched"],
        payment["reference"],
    ) == (
        "251127000000123",
        45000,
        False,
        "251127_000123",
    )


@pytest.mark.parametrize(
    "body",
    [
        lambda: zalopay_body(
            ZALOPAY_DATA.replace('"amount":45000', '"amount":450000'), ZALOPAY_MAC
        ),
        lambda: zalopay_body(ZALOPAY_DATA, "0" * 64),
        lambda: zalopay_body(ZALOPAY_DATA, zalopay.sign(ZALOPAY_DATA, key2="key1-by-mistake")),
        # Re-serialised data (spaces after separators) no longer matches the MAC of what was sent.
        lambda: zalopay_body(json.dumps(json.loads(ZALOPAY_DATA)), ZALOPAY_MAC),
    ],
)
async def test_zalopay_bad_mac_is_minus_one_and_changes_nothing(client, conn, admin, body):
    before = await snapshot(conn)
    reply = await zalopay_callback(client, body())
    assert reply["return_code"] == -1
    assert await snapshot(conn) == before


async def test_zalopay_replay_with_a_changed_amount_is_refused(client, conn, admin):
    await zalopay_callback(client, zalopay_body(ZALOPAY_DATA, ZALOPAY_MAC))
    before = await snapshot(conn)
    changed = ZALOPAY_DATA.replace('"amount":45000', '"amount":46000')
    assert (await zalopay_callback(client, zalopay_body(changed)))["return_code"] == -1
    assert await snapshot(conn) == before


async def test_zalopay_app_trans_id_naming_a_stall_is_credited_to_its_zalopay_account(
    client, conn, admin, markets
):
    stall = await register(
        client,
        admin,
        markets["one"],
        "N-3",
        [
            {"bin": "970422", "account_number": "5550003"},
            {"bin": "970454", "account_number": "0905000111"},
        ],
    )
    data = ZALOPAY_DATA.replace("251127_000123", f"251127_CS{stall['id']}_01").replace(
        "251127000000123", "251127000000999"
    )
    assert (await zalopay_callback(client, zalopay_body(data)))["return_code"] == 1
    [payment] = await payments(conn)
    # 970454 is one of ZaloPay's BINs, so that account is credited rather than the MB one.
    assert (payment["stall_id"], payment["payment_account_id"]) == (
        stall["id"],
        stall["payment_accounts"][1]["id"],
    )


# ---------------------------------------------------------------- payOS


def payos_body(data: dict[str, Any], signature: str | None = None, key: str = PAYOS_KEY) -> bytes:
    signature = signature or payos.sign(data, checksum_key=key)
    return dumps(
        {"code": "00", "desc": "success", "success": True, "data": data, "signature": signature}
    )


async def test_payos_pinned_webhook_matches_the_stall_by_account_number(
    client, conn, admin, markets
):
    stall = await register(client, admin, markets["one"], "N-4")  # MB 970422 / 0123456789
    r = await client.post(
        "/api/partners/payos/webhook", content=payos_body(PAYOS_DATA, PAYOS_SIGNATURE)
    )
    assert r.status_code == 200 and r.json() == {"success": True}
    [payment] = await payments(conn)
    assert (
        payment["external_id"],
        payment["stall_id"],
        payment["payment_account_id"],
        payment["amount"],
    ) == (
        "FT25331000123456",
        stall["id"],
        stall["payment_accounts"][0]["id"],
        45000,
    )
    assert payment["account_number"] == "0123456789"
    # No payer data: neither the payer's account nor the free-text description is kept.
    stored = await conn.fetchval(
        "SELECT payload::text FROM partner_event WHERE partner_code = 'PAYOS'"
    )
    everything = stored + str(payment)
    assert "9876543210" not in everything and "TAN CHINH" not in everything
    again = await client.post(
        "/api/partners/payos/webhook", content=payos_body(PAYOS_DATA, PAYOS_SIGNATURE)
    )
    assert again.status_code == 200 and again.json() == {"success": True}
    assert len(await payments(conn)) == 1


@pytest.mark.parametrize(
    "body",
    [
        lambda: payos_body(PAYOS_DATA | {"amount": 4500000}, PAYOS_SIGNATURE),
        lambda: payos_body(PAYOS_DATA | {"accountNumber": "1111111111"}, PAYOS_SIGNATURE),
        lambda: payos_body(PAYOS_DATA, key="wrong-key"),
        lambda: dumps({"data": PAYOS_DATA}),
    ],
)
async def test_payos_bad_signature_is_refused_with_success_false(client, conn, admin, body):
    before = await snapshot(conn)
    r = await client.post("/api/partners/payos/webhook", content=body())
    assert r.status_code == 401
    assert r.json()["success"] is False and r.json()["code"] == "invalid_signature"
    assert await snapshot(conn) == before


async def test_payos_replay_with_a_changed_amount_is_409(client, conn, admin):
    assert (
        await client.post("/api/partners/payos/webhook", content=payos_body(PAYOS_DATA))
    ).status_code == 200
    before = await snapshot(conn)
    r = await client.post(
        "/api/partners/payos/webhook", content=payos_body(PAYOS_DATA | {"amount": 1})
    )
    assert r.status_code == 409 and r.json()["success"] is False
    assert await snapshot(conn) == before


async def test_payos_description_naming_a_stall_is_matched_and_unknown_ones_kept(
    client, conn, admin, markets
):
    stall = await register(
        client, admin, markets["one"], "N-5", [{"bin": "970436", "account_number": "777001"}]
    )
    named = PAYOS_DATA | {
        "accountNumber": "404404404",
        "reference": "FT1",
        "description": f"CS{stall['id']} THANH TOAN",
    }
    lost = PAYOS_DATA | {
        "accountNumber": "404404404",
        "reference": "FT2",
        "description": "CHUYEN TIEN",
    }
    for data in (named, lost):
        r = await client.post("/api/partners/payos/webhook", content=payos_body(data))
        assert r.status_code == 200
    found, unmatched = await payments(conn)
    assert (found["stall_id"], found["matched"], found["reference"]) == (
        stall["id"],
        True,
        f"CS{stall['id']}",
    )
    assert (unmatched["stall_id"], unmatched["matched"], unmatched["reference"]) == (
        None,
        False,
        None,
    )
    review = (await client.get("/api/partners/PAYOS/unmatched", headers=admin)).json()["items"]
    assert [(p["external_id"], p["account_number"]) for p in review] == [("FT2", "404404404")]


# ---------------------------------------------------------------- common rules


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/partners/momo/ipn"),
        ("GET", "/api/partners/vnpay/ipn?vnp_Amount=100"),
        ("POST", "/api/partners/zalopay/callback"),
        ("POST", "/api/partners/payos/webhook"),
    ],
)
async def test_unset_credentials_disable_the_endpoint(client, method, path):
    r = await client.request(method, path, content=b"{}" if method == "POST" else None)
    assert r.status_code == 404
    assert r.json()["code"] == "endpoint_disabled"
    assert r.headers["content-type"] == "application/problem+json"


async def test_unmatched_review_is_for_admins_only(client, auth, admin):
    for role in ("manager", "volunteer", "viewer", "partner"):
        r = await client.get("/api/partners/MOMO/unmatched", headers=await auth(role))
        assert r.status_code == 403, role
    assert (await client.get("/api/partners/NOPE/unmatched", headers=admin)).status_code == 404


async def test_unmatched_review_pages(client, admin):
    for n in range(3):
        body = momo_ipn(transId=4200000000 + n, orderId=f"ORDER{n}")
        assert (await client.post("/api/partners/momo/ipn", content=dumps(body))).status_code == 204
    first = (await client.get("/api/partners/MOMO/unmatched?limit=2", headers=admin)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await client.get(
        f"/api/partners/MOMO/unmatched?limit=2&cursor={first['next_cursor']}", headers=admin
    )
    assert [p["external_id"] for p in rest.json()["items"]] == ["4200000002"]
    assert rest.json()["next_cursor"] is None
    bad = await client.get("/api/partners/MOMO/unmatched?cursor=abc", headers=admin)
    assert bad.status_code == 422


async def test_a_burst_with_duplicates_and_forgeries_applies_each_genuine_one_once(live):
    admin = await live.token("admin")
    async with live.client() as c:
        for code, values in CREDENTIALS.items():
            assert (
                await c.put(f"/api/partners/{code}/credentials", json=values, headers=admin)
            ).status_code == 200
        genuine = [momo_ipn(transId=4300000000 + n, amount=1000 + n) for n in range(20)]
        forged = [g | {"amount": g["amount"] + 1} for g in genuine[:5]]
        burst = genuine + genuine[:6] + forged
        replies = await asyncio.gather(
            *(c.post("/api/partners/momo/ipn", content=dumps(b)) for b in burst)
        )
    assert [r.status_code for r in replies] == [204] * 26 + [401] * 5
    async with live.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT external_id, amount FROM payment_event ORDER BY external_id"
        )
    assert [(r["external_id"], r["amount"]) for r in rows] == [
        (str(4300000000 + n), 1000 + n) for n in range(20)
    ]
