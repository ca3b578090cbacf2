"""Our own signed partner API: POST /api/partners/{code}/events, on the real database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from pathlib import Path

import pytest

from partners.schemes import own
from tests.conftest import stall_body

SECRET = "whsec_test_" + "7" * 24
DOCS = Path(__file__).resolve().parents[2] / "docs" / "partners.md"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def event(
    type_: str, data: dict, event_id: str | None = None, occurred_at: str | None = None
) -> dict:
    return {
        "id": event_id or f"evt-{uuid.uuid4().hex[:12]}",
        "type": type_,
        "occurred_at": occurred_at or "2026-11-27T09:30:00+07:00",
        "data": data,
    }


async def send(
    client,
    body: dict | bytes,
    *,
    code: str = "MB",
    secret: str = SECRET,
    t: int | None = None,
    header: str | None = None,
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if header is None:
        header = own.sign(
            raw, signing_secret=secret, timestamp=int(time.time()) if t is None else t
        )
    return await client.post(
        f"/api/partners/{code}/events",
        content=raw,
        headers={"Content-Type": "application/json", "X-Signature": header},
    )


@pytest.fixture
async def enabled(client, auth) -> dict[str, str]:
    """MB has a signing secret; returns admin headers."""
    admin = await auth("admin")
    r = await client.put(
        "/api/partners/MB/credentials", json={"signing_secret": SECRET}, headers=admin
    )
    assert r.status_code == 200, r.text
    return admin


async def register(client, headers, market_id: int, code: str, accounts: list[dict]) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, payment_accounts=accounts, holder={"full_name": "Võ Thị Hoa"}),
        headers=headers | key(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def counts(conn) -> tuple[int, int, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM partner_event) AS e, "
        "(SELECT count(*) FROM payment_event) AS p, "
        "(SELECT count(*) FROM onboarding_status) AS h"
    )
    return row["e"], row["p"], row["h"]


def test_the_readme_worked_example_is_what_the_service_computes():
    text = DOCS.read_text(encoding="utf-8")
    secret = re.search(r"signing secret: `([^`]+)`", text).group(1)
    timestamp = int(re.search(r"timestamp: `([0-9]+)`", text).group(1))
    body = re.search(r"no trailing newline\):\n\n```\n(.+)\n```", text).group(1).encode()
    header = re.search(r"X-Signature: (t=[0-9]+,v1=[0-9a-f]{64})`", text).group(1)
    assert own.sign(body, signing_secret=secret, timestamp=timestamp) == header
    assert header.endswith("9dbc50486abd35912d697bf9a01c8a78726e9b770a066f43b9696f0fbee3a185")
    verified = own.verify(body, header, signing_secret=secret, now=timestamp + 10)
    assert (verified.id, verified.type, verified.data["amount"]) == (
        "evt-123",
        "payment.received",
        45000,
    )
    assert f"SECRET={secret}\n" in text  # the curl recipe uses the same secret
    assert f"BODY='{body.decode()}'" in text  # and the same body


async def test_account_lifecycle_moves_the_partners_onboarding(
    client, conn, auth, markets, enabled
):
    stall = await register(
        client, enabled, markets["one"], "E-1", [{"bin": "970422", "account_number": "800100"}]
    )
    target = {"bin": "970422", "account_number": "800100", "staff_name": "Trần Minh"}
    steps = [
        ("account.onboarded", "created", "pending"),
        ("account.onboarded", "unchanged", "pending"),
        ("account.activated", "updated", "active"),
        ("account.deactivated", "updated", "suspended"),
        ("account.deactivated", "unchanged", "suspended"),
        ("account.activated", "updated", "active"),
    ]
    ids = []
    for type_, result, status in steps:
        body = event(type_, target)
        ids.append(body["id"])
        r = await send(client, body)
        assert r.status_code == 202, r.text
        assert r.json() == {"id": body["id"], "status": "applied", "result": result}
        [onboarding] = (
            await client.get(f"/api/stalls/{stall['id']}/onboardings", headers=enabled)
        ).json()
        assert onboarding["status"] == status
    assert (onboarding["channel"], onboarding["staff_name"], onboarding["onboarded_by"]) == (
        "partner_api",
        "Trần Minh",
        None,
    )
    assert [(h["to_status"], h["source"], h["ref"]) for h in onboarding["history"]] == [
        ("pending", "partner_api", ids[0]),
        ("active", "partner_api", ids[2]),
        ("suspended", "partner_api", ids[3]),
        ("active", "partner_api", ids[5]),
    ]
    assert onboarding["history"][0]["effective_on"] == "2026-11-27"
    audits = await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'partner_event'")
    assert audits == len(steps)


async def test_the_same_id_twice_is_acknowledged_and_applied_once(client, conn, markets, enabled):
    await register(
        client, enabled, markets["one"], "E-2", [{"bin": "970422", "account_number": "800200"}]
    )
    body = event("account.activated", {"bin": "970422", "account_number": "800200"})
    first = await send(client, body)
    before = await counts(conn)
    again = await send(client, body)  # a retry, signed again a moment later
    assert first.status_code == again.status_code == 202
    assert again.json() == {"id": body["id"], "status": "duplicate", "result": "created"}
    assert await counts(conn) == before
    changed = await send(client, body | {"type": "account.deactivated"})
    assert changed.status_code == 409 and changed.json()["code"] == "event_conflict"
    assert await counts(conn) == before


@pytest.mark.parametrize(
    ("how", "status", "problem"),
    [
        ("stale", 401, "stale_signature"),
        ("future", 401, "stale_signature"),
        ("wrong_secret", 401, "invalid_signature"),
        ("tampered_body", 401, "invalid_signature"),
        ("no_header", 401, "invalid_signature"),
        ("garbage_header", 401, "invalid_signature"),
    ],
)
async def test_bad_signatures_are_401_and_store_nothing(
    client, conn, markets, enabled, how, status, problem
):
    await register(
        client, enabled, markets["one"], "E-3", [{"bin": "970422", "account_number": "800300"}]
    )
    body = json.dumps(
        event("account.onboarded", {"bin": "970422", "account_number": "800300"})
    ).encode()
    now = int(time.time())
    header = {
        "stale": own.sign(body, signing_secret=SECRET, timestamp=now - 301),
        "future": own.sign(body, signing_secret=SECRET, timestamp=now + 400),
        "wrong_secret": own.sign(body, signing_secret=SECRET + "x", timestamp=now),
        "tampered_body": own.sign(
            body.replace(b"800300", b"800301"), signing_secret=SECRET, timestamp=now
        ),
        "no_header": "",
        "garbage_header": "sha256=deadbeef",
    }[how]
    before = await counts(conn)
    r = await send(client, body, header=header)
    assert r.status_code == status, r.text
    assert r.json()["code"] == problem
    assert r.headers["content-type"] == "application/problem+json"
    assert await counts(conn) == before


async def test_within_five_minutes_of_skew_is_accepted(client, markets, enabled):
    await register(
        client, enabled, markets["one"], "E-4", [{"bin": "970422", "account_number": "800400"}]
    )
    body = event("account.onboarded", {"bin": "970422", "account_number": "800400"})
    r = await send(client, body, t=int(time.time()) - 240)
    assert r.status_code == 202, r.text


async def test_a_partner_without_a_secret_has_no_endpoint(client, conn, enabled):
    """A partner without a signing secret and a code we do not know get the same answer: an
    unsigned caller learns neither which codes exist nor which partners are set up."""
    body = event("account.onboarded", {"bin": "970436", "account_number": "1"})
    r = await send(client, body, code="VCB")
    assert r.status_code == 404 and r.json()["code"] == "endpoint_disabled"
    unknown = await send(client, body, code="NOPE")
    assert unknown.status_code == 404
    assert {k: v for k, v in unknown.json().items() if k != "detail"} == {
        k: v for k, v in r.json().items() if k != "detail"
    }
    assert "VCB" not in unknown.text and "NOPE" not in r.text
    cleared = await client.put("/api/partners/MB/credentials", json={}, headers=enabled)
    assert cleared.status_code == 200
    r = await send(client, body)
    assert r.status_code == 404 and r.json()["code"] == "endpoint_disabled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event("account.exploded", {"bin": "970422", "account_number": "800500"}), None),
        (event("account.onboarded", {"bin": "970422"}), "data"),
        (event("account.onboarded", {"bin": "97042", "account_number": "800500"}), "data.bin"),
        (event("account.onboarded", {"stall_id": "12"}), "data.stall_id"),
        (
            event("payment.received", {"bin": "970422", "account_number": "800500", "amount": -5}),
            None,
        ),
        (
            event("payment.received", {"bin": "970422", "account_number": "800500", "amount": 1.5}),
            None,
        ),
        (
            event(
                "account.onboarded",
                {"bin": "970422", "account_number": "800500"},
                occurred_at="2026-11-27T09:30:00",
            ),
            None,
        ),
        (
            {
                "id": "",
                "type": "account.onboarded",
                "occurred_at": "2026-11-27T09:30:00Z",
                "data": {},
            },
            None,
        ),
    ],
)
async def test_malformed_events_after_a_good_signature_are_422(
    client, conn, markets, enabled, body, field
):
    await register(
        client, enabled, markets["one"], "E-5", [{"bin": "970422", "account_number": "800500"}]
    )
    before = await counts(conn)
    r = await send(client, body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_event"
    if field:
        assert r.json()["field"] == field
    assert await counts(conn) == before


async def test_a_signed_body_that_is_not_json_is_422(client, conn, enabled):
    r = await send(client, b"not json at all")
    assert r.status_code == 422 and r.json()["code"] == "invalid_event"


@pytest.mark.parametrize(
    "data",
    [
        {"bin": "970422", "account_number": "999999999"},
        {"bin": "970436", "account_number": "800600"},
        {"stall_id": 987654321},
    ],
)
async def test_an_unknown_account_is_422_and_nothing_is_stored(
    client, conn, markets, enabled, data
):
    await register(
        client, enabled, markets["one"], "E-6", [{"bin": "970422", "account_number": "800600"}]
    )
    before = await counts(conn)
    for type_ in ("account.onboarded", "payment.received"):
        r = await send(client, event(type_, data | {"amount": 1000}))
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "unknown_account"
    assert await counts(conn) == before


async def test_a_stall_without_a_clear_account_of_the_partner_is_422(client, markets, enabled):
    stall = await register(
        client,
        enabled,
        markets["one"],
        "E-7",
        [
            {"bin": "970436", "account_number": "800700"},
            {"bin": "970418", "account_number": "800701"},
        ],
    )
    r = await send(client, event("account.onboarded", {"stall_id": stall["id"]}))
    assert r.status_code == 422 and r.json()["code"] == "unknown_account"


async def test_the_same_account_number_at_two_stalls_is_ambiguous_without_a_stall(
    client, markets, enabled
):
    for code in ("E-8", "E-9"):
        await register(
            client, enabled, markets["one"], code, [{"bin": "970422", "account_number": "800800"}]
        )
    r = await send(client, event("account.onboarded", {"account_number": "800800"}))
    assert r.status_code == 422 and r.json()["code"] == "ambiguous_account"


async def test_reactivating_a_removed_onboarding_is_409_and_not_stored(
    client, conn, markets, enabled
):
    await register(
        client, enabled, markets["one"], "E-10", [{"bin": "970422", "account_number": "801000"}]
    )
    target = {"bin": "970422", "account_number": "801000"}
    assert (await send(client, event("account.onboarded", target))).status_code == 202
    assert (await send(client, event("account.deactivated", target))).json()["result"] == "updated"
    body = event("account.activated", target)
    before = await counts(conn)
    r = await send(client, body)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert await counts(conn) == before
    nothing = await send(
        client, event("account.deactivated", {"bin": "970422", "account_number": "801000"})
    )
    assert nothing.json()["result"] == "unchanged"


async def test_deactivating_an_account_the_partner_never_onboarded_changes_nothing(
    client, conn, markets, enabled
):
    await register(
        client, enabled, markets["one"], "E-11", [{"bin": "970422", "account_number": "801100"}]
    )
    r = await send(
        client, event("account.deactivated", {"bin": "970422", "account_number": "801100"})
    )
    assert r.status_code == 202 and r.json()["result"] == "no_onboarding"
    assert await conn.fetchval("SELECT count(*) FROM onboarding") == 0


async def test_payment_received_is_recorded_against_the_stall_once(client, conn, markets, enabled):
    stall = await register(
        client,
        enabled,
        markets["one"],
        "E-12",
        [
            {"bin": "970436", "account_number": "801200"},
            {"bin": "970422", "account_number": "801201", "partner_code": "MB"},
        ],
    )
    mb_account = stall["payment_accounts"][1]["id"]
    by_account = event(
        "payment.received",
        {"bin": "970422", "account_number": "801201", "amount": 45000, "reference": "HD-0001"},
    )
    by_stall = event("payment.received", {"stall_id": stall["id"], "amount": 12000})
    for body in (by_account, by_stall, by_account):
        r = await send(client, body)
        assert r.status_code == 202 and r.json()["result"] == "matched", r.text
    rows = await conn.fetch(
        "SELECT external_id, payment_account_id, stall_id, amount, matched, reference, occurred_at "
        "FROM payment_event ORDER BY id"
    )
    assert [
        (r["external_id"], r["payment_account_id"], r["stall_id"], r["amount"], r["matched"])
        for r in rows
    ] == [
        (by_account["id"], mb_account, stall["id"], 45000, True),
        (by_stall["id"], mb_account, stall["id"], 12000, True),
    ]
    assert rows[0]["reference"] == "HD-0001"
    assert rows[0]["occurred_at"].isoformat() == "2026-11-27T02:30:00+00:00"


async def test_payer_data_sent_by_mistake_is_not_kept(client, conn, markets, enabled):
    await register(
        client, enabled, markets["one"], "E-13", [{"bin": "970422", "account_number": "801300"}]
    )
    body = event(
        "payment.received",
        {
            "bin": "970422",
            "account_number": "801300",
            "amount": 5000,
            "payer_name": "NGUYEN VAN KHACH",
            "payer_phone": "0905999888",
        },
    )
    assert (await send(client, body)).status_code == 202
    stored = await conn.fetchval(
        "SELECT payload::text FROM partner_event WHERE external_id = $1", body["id"]
    )
    assert "KHACH" not in stored and "0905999888" not in stored


async def test_concurrent_deliveries_of_one_event_apply_it_once(live):
    admin = await live.token("admin")
    async with live.client() as c:
        r = await c.put(
            "/api/partners/MB/credentials", json={"signing_secret": SECRET}, headers=admin
        )
        assert r.status_code == 200
        markets = (await c.get("/api/markets", headers=admin)).json()
        await register(
            c, admin, markets[0]["id"], "L-1", [{"bin": "970422", "account_number": "900100"}]
        )
        body = event(
            "payment.received", {"bin": "970422", "account_number": "900100", "amount": 30000}
        )
        replies = await asyncio.gather(*(send(c, body) for _ in range(8)))
    assert [r.status_code for r in replies] == [202] * 8
    assert sorted(r.json()["status"] for r in replies) == ["applied"] + ["duplicate"] * 7
    async with live.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM payment_event") == 1
        assert await conn.fetchval("SELECT count(*) FROM partner_event") == 1


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id":"evt-\\u0000","type":"account.onboarded","occurred_at":"2026-11-27T09:30:00Z",'
        b'"data":{"bin":"970422","account_number":"801400"}}',
        b'{"id":"evt-\\ud800","type":"account.onboarded","occurred_at":"2026-11-27T09:30:00Z",'
        b'"data":{"bin":"970422","account_number":"801400"}}',
        b'{"id":"evt-ok-1","type":"payment.received","occurred_at":"2026-11-27T09:30:00Z",'
        b'"data":{"bin":"970422","account_number":"801400","amount":5,"reference":"a\\u0000b"}}',
        b'{"id":"evt-ok-2","type":"account.onboarded","occurred_at":"2026-11-27T09:30:00Z",'
        b'"data":{"bin":"970422","account_number":"801400","staff_name":"\\u0007"}}',
    ],
)
async def test_text_the_database_cannot_store_is_422_not_500(client, conn, markets, enabled, raw):
    await register(
        client, enabled, markets["one"], "E-14", [{"bin": "970422", "account_number": "801400"}]
    )
    before = await counts(conn)
    r = await send(client, raw)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_event"
    assert await counts(conn) == before


async def test_fingerprints_are_keyed_and_old_unkeyed_ones_still_match(
    client, conn, markets, enabled
):
    """A stored fingerprint must not let anyone guess the account number back (it is keyed);
    one stored before fingerprints were keyed (a bare SHA-256) still tells a retry from a change."""
    await register(
        client, enabled, markets["one"], "E-9", [{"bin": "970422", "account_number": "800900"}]
    )
    body = event("account.activated", {"bin": "970422", "account_number": "800900"})
    assert (await send(client, body)).status_code == 202
    stored = await conn.fetchrow(
        "SELECT fingerprint, body_sha256 FROM partner_event WHERE external_id = $1", body["id"]
    )
    # What the fingerprint covers: the type, the time in UTC and the data fields we keep.
    content = {
        "type": body["type"],
        "occurred_at": "2026-11-27T02:30:00+00:00",
        "data": body["data"],
    }
    plain = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).digest()
    assert len(stored["fingerprint"]) == 33 and plain not in stored["fingerprint"]
    assert len(stored["body_sha256"]) == 33

    await conn.execute(  # as stored by an earlier version
        "UPDATE partner_event SET fingerprint = $2 WHERE external_id = $1", body["id"], plain
    )
    again = await send(client, body)
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    changed = await send(client, body | {"type": "account.deactivated"})
    assert changed.status_code == 409 and changed.json()["code"] == "event_conflict"


@pytest.mark.parametrize("kind", [{"a": 1}, ["payment.received"], 7, None])
async def test_a_signed_event_whose_type_is_not_text_is_refused_not_a_500(
    client,
    enabled,  # noqa: F811
    conn,
    kind,
) -> None:
    """A reviewer's sweep: a correctly signed event with an object or a list as its type crashed
    the handler (unhashable type), and uvicorn dropped the connection."""
    before = await counts(conn)
    r = await send(client, event(kind, {}))  # type: ignore[arg-type]
    assert r.status_code == 422 and r.json()["code"] == "invalid_event", r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await counts(conn) == before
