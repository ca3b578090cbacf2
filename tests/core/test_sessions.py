"""Registration may take a session from the worker's memory (core.sessions), and the statement that
writes checks it again: a revoked token, a deactivated user or changed rights never register a
stall, and every refusal is the one a lookup from the database gives."""

from __future__ import annotations

import uuid

import pytest

from core.state import state_of
from merchants.queries import stalls as stalls_q
from tests.conftest import stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _register(client, market_id: int, headers: dict[str, str], code: str, **over):
    body = stall_body(code, **over) | {"confirm_duplicate": True}
    return await client.post(f"/api/markets/{market_id}/stalls", json=body, headers=headers | key())


async def _statements(conn, run) -> list[str]:
    """The SQL statements `run()` sends on the test's connection (not the savepoints the test's
    outer transaction makes of the app's own)."""
    sent: list[str] = []

    def log(record) -> None:
        sent.append(record.query)

    conn.add_query_logger(log)
    try:
        await run()
    finally:
        conn.remove_query_logger(log)
    return [q for q in sent if not q.lstrip().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))]


async def test_a_second_registration_takes_the_session_from_memory(
    app, client, conn, auth, markets
):
    # asyncpg reads the statement's types on its first run: done by another user first.
    other = await _register(client, markets["two"], await auth("volunteer2"), "W-1", zone="A")
    assert other.status_code == 201, other.text
    headers = await auth("volunteer")

    async def register(code: str) -> None:
        r = await _register(client, markets["one"], headers, code)
        assert r.status_code == 201, r.text

    first = await _statements(conn, lambda: register("S-1"))
    assert len(first) == 2 and "auth_token" in first[0]  # signed in from the database
    assert len(state_of(app).sessions) == 2  # the two volunteers
    sent = await _statements(conn, lambda: register("S-2"))
    # One round trip: the registration statement, which checks the session itself.
    assert len(sent) == 1 and "INSERT INTO idempotency_key" in sent[0], sent
    assert "access_epoch" in sent[0]


async def test_a_token_revoked_after_it_was_kept_registers_nothing(client, conn, auth, markets):
    headers = await auth("volunteer")
    assert (await _register(client, markets["one"], headers, "S-1")).status_code == 201
    await conn.execute("UPDATE auth_token SET revoked_at = now()")
    counts = await stalls_q.table_counts(conn)
    r = await _register(client, markets["one"], headers, "S-2")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized", r.text
    assert await stalls_q.table_counts(conn) == counts


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("UPDATE app_user SET active = false WHERE username = 'volunteer'", 401),
        ("UPDATE app_user SET role = 'viewer' WHERE username = 'volunteer'", 403),
        (
            "DELETE FROM user_market WHERE user_id = (SELECT id FROM app_user WHERE username = 'volunteer')",
            403,
        ),
        # The market moves to another ward: a ward manager's scope changes with it.
        ("UPDATE market SET ward_code = '20285' WHERE name = 'Chợ Thử Một'", 403),
    ],
)
async def test_changed_rights_are_seen_by_the_next_registration(
    client, conn, auth, markets, change, status
):
    user = "manager" if "ward_code" in change else "volunteer"
    headers = await auth(user)
    assert (await _register(client, markets["one"], headers, "S-1")).status_code == 201
    await conn.execute(change)
    counts = await stalls_q.table_counts(conn)
    r = await _register(client, markets["one"], headers, "S-2")
    assert r.status_code == status, r.text
    assert await stalls_q.table_counts(conn) == counts


async def test_rights_given_after_the_session_was_kept_are_used(client, conn, auth, markets):
    headers = await auth("volunteer")
    assert (await _register(client, markets["one"], headers, "S-1")).status_code == 201
    await conn.execute(
        "INSERT INTO user_market (user_id, market_id) "
        "SELECT id, $1 FROM app_user WHERE username = 'volunteer'",
        markets["two"],
    )
    r = await _register(client, markets["two"], headers, "S-2", zone="A")
    assert r.status_code == 201, r.text


async def test_a_refusal_before_the_route_runs_is_the_one_a_fresh_lookup_gives(
    client, conn, auth, markets
):
    """A body that fails validation, from a revoked token kept in memory: 401 (as it would be had
    the token been read from the database first), not the 422 of the body."""
    headers = await auth("volunteer")
    assert (await _register(client, markets["one"], headers, "S-1")).status_code == 201
    url = f"/api/markets/{markets['one']}/stalls"
    bad = stall_body("S-2") | {"stall_code": ""}
    assert (await client.post(url, json=bad, headers=headers | key())).status_code == 422
    await conn.execute("UPDATE auth_token SET revoked_at = now()")
    r = await client.post(url, json=bad, headers=headers | key())
    assert r.status_code == 401, r.text
    # The route's own refusals too (no Idempotency-Key).
    assert (await client.post(url, json=stall_body("S-3"), headers=headers)).status_code == 401


async def test_a_refusal_stands_when_nothing_changed(client, conn, auth, markets):
    headers = await auth("volunteer")
    assert (await _register(client, markets["one"], headers, "S-1")).status_code == 201
    r = await _register(client, markets["two"], headers, "S-2")  # not the volunteer's market
    assert r.status_code == 403, r.text
    taken = await _register(client, markets["one"], headers, "S-1")
    assert taken.status_code == 409 and taken.json()["code"] == "stall_code_taken"


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO user_market (user_id, market_id) SELECT u.id, m.id FROM app_user u, market m "
        "WHERE u.username = 'volunteer' AND m.name = 'Chợ Thử Hai'",
        "DELETE FROM user_ward",
        "INSERT INTO user_province (user_id, province_code) "
        "SELECT id, '48' FROM app_user WHERE username = 'viewer'",
        "UPDATE app_user SET role = 'manager' WHERE username = 'volunteer'",
        "UPDATE app_user SET active = false WHERE username = 'volunteer'",
        "UPDATE market SET province_code = '48'",
        "UPDATE market SET ward_code = ward_code",
        "INSERT INTO market (name, ward_code) VALUES ('Chợ Mới', '20242')",
    ],
)
async def test_every_change_of_rights_raises_the_access_epoch(conn, change):
    before = await conn.fetchval("SELECT n FROM access_epoch")
    await conn.execute(change)
    assert await conn.fetchval("SELECT n FROM access_epoch") > before


async def test_other_changes_leave_the_access_epoch(conn, auth, markets):
    before = await conn.fetchval("SELECT n FROM access_epoch")
    await auth("volunteer")  # a new token
    await conn.execute("UPDATE market SET name = 'Chợ Thử Một (mới)' WHERE id = $1", markets["one"])
    await conn.execute(
        "UPDATE app_user SET display_name = 'Tình nguyện viên' WHERE username = 'volunteer'"
    )
    assert await conn.fetchval("SELECT n FROM access_epoch") == before
