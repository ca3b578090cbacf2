"""Bank account numbers are stored sealed (core/crypto.py) and read back in clear by the app."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid

import asyncpg
import pytest

from core import crypto, db
from merchants import accounts, schemas
from partners.queries import events as events_q
from tests.conftest import TEST_KEYS, stall_body, with_database
from tests.merchants.test_privacy import rows_containing


def test_sealing_is_deterministic_opens_and_needs_the_same_secret():
    seal = crypto.AccountSeal(b"one secret")
    sealed = seal.seal("0123456789")
    assert sealed == seal.seal("0123456789") != seal.seal("0123456780")
    assert re.fullmatch(r"v1:[A-Za-z0-9_-]+", sealed) and "0123456789" not in sealed
    assert seal.open(sealed) == "0123456789"
    assert seal.open("~1f") == "~1f"  # an erased account's marker is not sealed
    with pytest.raises(crypto.SealError, match="SECRET_KEY"):
        crypto.AccountSeal(b"another secret").open(sealed)
    with pytest.raises(crypto.SealError):
        seal.open(sealed[:-2] + "AA")  # tampered


async def test_account_numbers_are_nowhere_in_clear(client, conn, auth, markets):
    headers = await auth("volunteer")
    number, other, unknown = "0987654321012", "7766554433", "1122334455"
    body = stall_body("S-1")
    body["payment_accounts"][0]["account_number"] = number
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=body,
        headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    stall = r.json()
    assert stall["payment_accounts"][0]["account_number"] == number  # answers show it in clear
    r = await client.post(
        f"/api/stalls/{stall['id']}/payment-accounts",
        json={"bin": "970436", "account_number": other, "account_name": "LUU THI NGOC THUY"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=headers)
    assert r.status_code == 200  # records the printed payload, which holds the number
    # A partner's payment for an account we do not know, and the message that reported it.
    await events_q.claim_event(
        conn, partner_code="MB", external_id="ev-x", type="payment.received",
        payload={"data": {"account_number": unknown, "amount": 5000}},
        fingerprint=b"\x00", body_sha256=b"\x00",
    )  # fmt: skip
    await events_q.insert_payment(
        conn, partner_code="MB", external_id="tx-x", payment_account_id=None, stall_id=None,
        amount=5000, occurred_at=await conn.fetchval("SELECT now()"), account_number=unknown,
        reference=None,
    )  # fmt: skip

    for clear in (number, other, unknown):
        assert await rows_containing(conn, clear) == [], clear
    assert await rows_containing(conn, TEST_KEYS.seal(number))  # stored, sealed
    got = (await client.get(f"/api/stalls/{stall['id']}", headers=headers)).json()
    assert [a["account_number"] for a in got["payment_accounts"]] == [number, other]
    [payment] = await events_q.unmatched_payments(conn, partner_code="MB", after_id=None, limit=10)
    assert payment.account_number == unknown
    # The same number again on the same stall is still refused (equality works on sealed text).
    r = await client.post(
        f"/api/stalls/{stall['id']}/payment-accounts",
        json={"bin": "970436", "account_number": other},
        headers=headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "account_exists"


async def test_numbers_stored_before_sealing_are_sealed_at_start_up(server_url):
    """Rows written before revision 0006 are sealed by the app's start-up, once, then checked."""
    name = f"choso_seal_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_database(server_url, name)
    try:
        await asyncio.to_thread(db.migrate, url, "0005")
        conn = await db.connect(url, keys=TEST_KEYS)
        try:
            await conn.execute(
                """INSERT INTO market (name) VALUES ('Chợ Cũ');
                   INSERT INTO stall (market_id, stall_code, code_key, code_sort)
                       SELECT id, 'A-1', 'A-1', 'A-1' FROM market;
                   INSERT INTO payment_account (stall_id, bin, account_number)
                       SELECT id, '970422', '5550001111' FROM stall;
                   INSERT INTO payment_account (stall_id, bin, account_number, position)
                       SELECT id, '970436', '~77', 1 FROM stall;
                   INSERT INTO sign_print (stall_id, payment_account_id, payload, format)
                       SELECT stall_id, id, '0002...5550001111...6304ABCD', 'cli'
                       FROM payment_account;
                   INSERT INTO payment_event (partner_code, external_id, amount, occurred_at,
                                              matched, account_number)
                       VALUES ('MB', 'tx-1', 1000, now(), false, '5550002222');
                   INSERT INTO partner_event (partner_code, external_id, type, payload,
                                              fingerprint, body_sha256)
                       VALUES ('MB', 'ev-1', 'payment.received',
                               '{"data": {"account_number": "5550002222"}}', '\\x00', '\\x00');"""
            )
            # This version of the app refuses to run on that schema (it would write sealed numbers
            # the old check refuses).
            with pytest.raises(RuntimeError, match="alembic upgrade head"):
                await accounts.seal_stored_accounts(conn)
            await conn.close()
            await asyncio.to_thread(db.migrate, url)
            conn = await db.connect(url, keys=TEST_KEYS)
            assert await rows_containing(conn, "5550001111")

            assert (
                await accounts.seal_stored_accounts(conn) == 6
            )  # 2 accounts, 2 prints, 2 messages
            assert await accounts.seal_stored_accounts(conn) == 0  # done once; later starts skip
            for clear in ("5550001111", "5550002222"):
                assert await rows_containing(conn, clear) == [], clear
            stored = await conn.fetch("SELECT account_number FROM payment_account ORDER BY id")
            assert [TEST_KEYS.open(r[0]) for r in stored] == ["5550001111", "~77"]
            assert all(r[0].startswith("v1:") for r in stored)  # '~77' was a number, not erased
            printed = await conn.fetchval("SELECT payload FROM sign_print ORDER BY id LIMIT 1")
            assert TEST_KEYS.open(printed) == "0002...5550001111...6304ABCD"
            payload = await conn.fetchval("SELECT payload FROM partner_event")
            assert TEST_KEYS.open(payload["data"]["account_number"]) == "5550002222"
            assert await conn.fetchval(
                "SELECT bool_and(convalidated) FROM pg_constraint WHERE conname = any($1)",
                ["payment_account_number_sealed_check", "payment_event_number_sealed_check"],
            )
            with pytest.raises(asyncpg.CheckViolationError):  # a number in clear is refused
                await conn.execute(
                    "UPDATE payment_account SET account_number = '5550001111' WHERE position = 0"
                )
        finally:
            await conn.close()
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_registration_fingerprint_is_keyed_and_old_ones_still_replay(
    client, conn, auth, markets
):
    """The stored request fingerprint covers the account number and any CCCD: keyed, so it
    cannot be guessed back; one stored before (a bare SHA-256) still replays a retry."""
    headers = await auth("volunteer")
    body = stall_body("F-1", holder={"full_name": "Lưu Thị Ngọc Thùy", "cccd": "048190001234"})
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=headers | key
    )
    assert first.status_code == 201, first.text
    stored = await conn.fetchval(
        "SELECT request_hash FROM idempotency_key WHERE key = $1", key["Idempotency-Key"]
    )
    parsed = schemas.StallCreate.model_validate(body)
    dump = parsed.model_dump(mode="json")
    del dump["licence_no"]  # that version's model had no licence number (migration 0027)
    del dump["check_shared_account"]  # nor this flag (a retry without it is the same request)
    plain = hashlib.sha256(
        json.dumps([markets["one"], dump], sort_keys=True, ensure_ascii=False).encode()
    ).digest()
    assert len(stored) == 33 and plain not in stored

    await conn.execute(  # as stored by an earlier version
        "UPDATE idempotency_key SET request_hash = $2 WHERE key = $1", key["Idempotency-Key"], plain
    )
    again = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body, headers=headers | key
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = await client.post(
        f"/api/markets/{markets['one']}/stalls", json=body | {"goods": "Cá"}, headers=headers | key
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
