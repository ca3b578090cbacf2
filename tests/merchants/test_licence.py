"""A stall's business licence number (stall.licence_no, users_want #6): recorded only at a market
whose programme asks for it (market.asks_licence, off by default), kept as written on the
certificate, in the stall's history, the personal exports and the person's export, and gone when
the person is erased."""

from __future__ import annotations

import csv
import io
import uuid

import asyncpg
import pytest

from merchants.queries import stalls as stalls_q
from tests.conftest import stall_body
from tests.merchants.test_confirm_by import _patch, _register
from tests.merchants.test_privacy import pdf_text


async def _ask(client, auth, market_id: int, on: bool) -> dict:
    """An administrator turns the market's licence numbers on or off."""
    h = await auth("admin")
    market = (await client.get(f"/api/markets/{market_id}", headers=h)).json()
    r = await client.patch(
        f"/api/markets/{market_id}",
        json={"asks_licence": on},
        headers=h | {"If-Match": f'"{market["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["asks_licence"] is on
    return r.json()


async def test_a_market_created_asking_for_them_says_so(client, auth):
    h = await auth("admin")
    r = await client.post(
        "/api/markets", json={"name": "Chợ Giấy Phép Mới", "asks_licence": True}, headers=h
    )
    assert r.status_code == 201, r.text
    assert r.json()["asks_licence"] is True
    got = await client.get(f"/api/markets/{r.json()['id']}", headers=h)
    assert got.json()["asks_licence"] is True


async def test_off_by_default_and_refused_where_not_asked(client, auth, markets, conn):
    h = await auth("volunteer")
    market = (await client.get(f"/api/markets/{markets['one']}", headers=h)).json()
    assert market["asks_licence"] is False
    stall = await _register(client, h, markets["one"], "GP-1")
    assert stall["licence_no"] is None
    counts = await stalls_q.table_counts(conn)
    r = await _patch(client, h, stall, {"licence_no": "32A8012345"})
    assert r.status_code == 422 and r.json()["code"] == "licence_not_asked", r.text
    assert r.json()["field"] == "licence_no"
    assert await stalls_q.table_counts(conn) == counts
    row = await conn.fetchrow("SELECT licence_no, version FROM stall WHERE id = $1", stall["id"])
    assert (row["licence_no"], row["version"]) == (None, stall["version"])


async def test_recorded_as_written_kept_by_other_edits_and_in_the_history(client, auth, markets):
    await _ask(client, auth, markets["one"], True)
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GP-2")
    r = await _patch(client, h, stall, {"licence_no": " 32a8 012345 "})
    assert r.status_code == 200, r.text
    assert r.json()["licence_no"] == "32A8012345"
    r = await _patch(client, h, r.json(), {"goods": "Vải"})
    assert r.json()["licence_no"] == "32A8012345"
    got = (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json()
    assert got["licence_no"] == "32A8012345"
    history = (await client.get(f"/api/stalls/{stall['id']}/history", headers=h)).json()
    changes = [c for e in history for c in e["changes"] if c["field"] == "licence_no"]
    assert [(c["before"], c["after"]) for c in changes] == [(None, "32A8012345")]
    # The market stops asking: the number stays, may be cleared, and no new one is taken.
    await _ask(client, auth, markets["one"], False)
    r = await _patch(client, h, got, {"licence_no": "32A8099999"})
    assert r.status_code == 422 and r.json()["code"] == "licence_not_asked"
    r = await _patch(client, h, got, {"licence_no": ""})
    assert r.status_code == 200 and r.json()["licence_no"] is None


@pytest.mark.parametrize(
    "value", ["32A#8012345", "x" * 31, "-32A", "32A\x00801", "số 32A", 32, ["32A"], "٣٢A"]
)
async def test_a_wrong_number_is_refused_and_changes_nothing(client, auth, markets, conn, value):
    await _ask(client, auth, markets["one"], True)
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GP-3")
    r = await _patch(client, h, stall, {"licence_no": value})
    assert r.status_code == 422, r.text
    assert r.json()["field"].split(".")[0] == "licence_no"
    row = await conn.fetchrow("SELECT licence_no, version FROM stall WHERE id = $1", stall["id"])
    assert (row["licence_no"], row["version"]) == (None, stall["version"])


async def test_the_database_keeps_only_numbers_written_the_one_way(client, auth, markets, conn):
    stall = await _register(client, await auth("volunteer"), markets["one"], "GP-4")
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE stall SET licence_no = '32a8' WHERE id = $1", stall["id"])


async def test_personal_exports_and_the_persons_export_carry_it_erasure_takes_it(
    client, auth, markets, conn
):
    await _ask(client, auth, markets["one"], True)
    h = await auth("manager")
    stall = await _register(client, h, markets["one"], "GP-5")
    r = await _patch(client, h, stall, {"licence_no": "32A8012345"})
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/exports/stalls.csv?market_id={markets['one']}", headers=h)
    rows = {x["stall_code"]: x for x in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert rows["GP-5"]["licence_no"] == "32A8012345"
    viewer = await client.get(
        f"/api/exports/stalls.csv?market_id={markets['one']}", headers=await auth("viewer")
    )
    assert viewer.status_code == 200, viewer.text  # a viewer's export carries no personal field
    assert "licence_no" not in viewer.content.decode("utf-8-sig").splitlines()[0]
    holder = stall["holder"]["id"]
    r = await client.post(f"/api/stallholders/{holder}/export", headers=h)
    assert {s["stall_code"]: s["licence_no"] for s in r.json()["stalls"]}["GP-5"] == "32A8012345"
    r = await client.post(f"/api/stallholders/{holder}/export?format=pdf", headers=h)
    text = " ".join(pdf_text(r.content).split())
    assert "Giấy phép kinh doanh" in text and "32A8012345" in text
    r = await client.post(f"/api/stallholders/{holder}/erase", headers=h)
    assert r.status_code == 200, r.text
    assert await conn.fetchval("SELECT licence_no FROM stall WHERE id = $1", stall["id"]) is None
    # Nor does the audit trail keep it (the edit's before/after are scrubbed like the phone).
    kept = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'stall' AND entity_id = $1 "
        "AND (before::text LIKE '%32A8012345%' OR after::text LIKE '%32A8012345%')",
        str(stall["id"]),
    )
    assert kept == 0


async def test_given_at_registration_where_asked_refused_elsewhere(client, auth, markets, conn):
    await _ask(client, auth, markets["one"], True)
    h = await auth("volunteer")
    body = stall_body("GP-6") | {"licence_no": "32a8-0123/45"}
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=body,
        headers=h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    assert r.json()["licence_no"] == "32A8-0123/45"
    entry = await conn.fetchval(
        "SELECT after FROM audit_log WHERE action = 'register' AND entity_id = $1",
        str(r.json()["id"]),
    )
    assert entry["licence_no"] == "32A8-0123/45"
    # A market that does not ask: refused, and nothing of the stall is written.
    counts = await stalls_q.table_counts(conn)
    other = await auth("admin")
    r = await client.post(
        f"/api/markets/{markets['two']}/stalls",
        json=stall_body("GP-7") | {"licence_no": "32A8012345"},
        headers=other | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 422 and r.json()["code"] == "licence_not_asked", r.text
    assert r.json()["field"] == "licence_no"
    assert await stalls_q.table_counts(conn) == counts


def test_a_registration_without_one_fingerprints_as_before_the_field_existed():
    """A retry sent before the upgrade (no licence_no in the model) is still the same request."""
    from merchants import registration, schemas

    body = schemas.StallCreate.model_validate(stall_body("GP-8"))
    canonical = registration._canonical_request(7, body).decode()
    assert "licence_no" not in canonical
    with_one = schemas.StallCreate.model_validate(stall_body("GP-8") | {"licence_no": "1A"})
    assert '"licence_no": "1A"' in registration._canonical_request(7, with_one).decode()
