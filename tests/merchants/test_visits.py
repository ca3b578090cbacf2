"""Visits (POST/GET /api/stalls/{id}/visits): what a volunteer found at a stall, recorded exactly
once per device key, checked field by field (a bad one writes nothing), in scope only, shown on the
worklist row and in the stall's history, read with a log entry, kept out of the audit log's values,
cleared by an erasure and handed over by an export."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from coverage import counters
from qr import payload
from tests.conftest import stall_body

VN = timezone(timedelta(hours=7))


async def _stall(client, h, market_id: int, code: str = "V-1") -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, confirm_duplicate=True),
        headers=h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _count(conn) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM stall_visit"))


async def test_a_visit_is_recorded_listed_and_shown_on_the_worklist(client, auth, markets, conn):
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"])
    sid = stall["id"]
    today = datetime.now(VN).date()
    body = {
        "outcome": "blocked",
        "blockers": ["no_own_sim", "no_cccd"],
        "come_back_on": (today + timedelta(days=3)).isoformat(),
        "note": "Chị hẹn mang CCCD vào thứ Bảy",
    }
    r = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | _key())
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["outcome"] == "blocked" and visit["blockers"] == ["no_own_sim", "no_cccd"]
    assert visit["come_back_on"] == body["come_back_on"] and visit["note"] == body["note"]
    assert visit["visited_by"] == "volunteer"
    r = await client.post(
        f"/api/stalls/{sid}/visits", json={"outcome": "trained"}, headers=h | _key()
    )
    assert r.status_code == 201, r.text

    listed = (await client.get(f"/api/stalls/{sid}/visits", headers=h)).json()
    assert [v["outcome"] for v in listed] == ["trained", "blocked"]
    page = (await client.get(f"/api/markets/{markets['one']}/stalls", headers=h)).json()
    row = next(i for i in page["items"] if i["id"] == sid)
    # The latest visit set no day: the day agreed before it still stands.
    assert row["last_visit"]["outcome"] == "trained"
    assert row["last_visit"]["come_back_on"] == body["come_back_on"]

    # The audit entry says what happened, never the note (it may be about the person).
    after = await conn.fetchval(
        "SELECT after::text FROM audit_log WHERE action = 'visit' AND entity_id = $1 "
        "ORDER BY id LIMIT 1",
        str(sid),
    )
    assert "no_own_sim" in after and "CCCD" not in after
    history = (await client.get(f"/api/stalls/{sid}/history", headers=h)).json()
    assert [e["action"] for e in history[:2]] == ["visit", "visit"]
    assert history[1]["detail"] == "blocked"
    # Reading the visits is logged like the stall's own record.
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM access_log WHERE reason = 'stall_visits' AND stallholder_id = $1",
            stall["holder"]["id"],
        )
        == 1
    )


async def test_a_retry_is_the_same_visit_and_another_visit_under_its_key_is_refused(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    sid = (await _stall(client, h, markets["one"]))["id"]
    key = _key()
    at = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    body = {"outcome": "absent", "visited_at": at}
    first = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
    again = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert datetime.fromisoformat(first.json()["visited_at"]) == datetime.fromisoformat(at)
    other = await client.post(
        f"/api/stalls/{sid}/visits", json={"outcome": "declined", "visited_at": at}, headers=h | key
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await _count(conn) == 1


async def test_concurrent_retries_make_one_visit(live):
    import asyncio

    async with live.pool.acquire() as c:
        market_id = await c.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
    h = await live.token("volunteer")
    async with live.client() as client:
        sid = (await _stall(client, h, market_id))["id"]
        key = _key()
        answers = await asyncio.gather(
            *[
                client.post(
                    f"/api/stalls/{sid}/visits", json={"outcome": "absent"}, headers=h | key
                )
                for _ in range(12)
            ]
        )
    assert sorted(r.status_code for r in answers) == [200] * 11 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    async with live.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM stall_visit") == 1
        assert await c.fetchval("SELECT count(*) FROM audit_log WHERE action = 'visit'") == 1


def _bad_bodies(today: date) -> list[tuple[object, str]]:
    now = datetime.now(UTC)
    return [
        ({"outcome": "blocked"}, "invalid_blockers"),
        ({"outcome": "absent", "blockers": ["no_cccd"]}, "invalid_blockers"),
        ({"outcome": "blocked", "blockers": ["no_cccd", "no_cccd"]}, "invalid_blockers"),
        ({"outcome": "blocked", "blockers": ["cccd_number_012345"]}, "validation_error"),
        ({"outcome": "gone_fishing"}, "validation_error"),
        ({}, "validation_error"),
        ({"outcome": "absent", "extra": 1}, "validation_error"),
        ({"outcome": "absent", "visited_at": "2026-12-01T10:00:00"}, "invalid_visited_at"),
        (
            {"outcome": "absent", "visited_at": (now - timedelta(days=30)).isoformat()},
            "invalid_visited_at",
        ),
        ({"outcome": "absent", "visited_at": "0001-01-01T00:00:00Z"}, "invalid_visited_at"),
        ({"outcome": "absent", "visited_at": "10000-01-01T00:00:00Z"}, "validation_error"),
        (
            {"outcome": "come_back", "come_back_on": (today - timedelta(days=1)).isoformat()},
            "invalid_come_back_on",
        ),
        (
            {"outcome": "come_back", "come_back_on": (today + timedelta(days=400)).isoformat()},
            "invalid_come_back_on",
        ),
        ({"outcome": "come_back", "come_back_on": "9999-12-31"}, "invalid_come_back_on"),
        ({"outcome": "come_back", "come_back_on": "2026-02-30"}, "validation_error"),
        ({"outcome": "trained", "note": "x" * 301}, "invalid_note"),
        ({"outcome": "trained", "note": "rất vui 😀"}, "invalid_note"),
        ({"outcome": "trained", "note": "Hẹn 8h = sau giờ bán ₫"}, "invalid_note"),
        ({"outcome": "trained", "note": "a\u0000b"}, "invalid_text"),
        ({"outcome": "trained", "note": 12}, "validation_error"),
        ([], "validation_error"),
    ]


async def test_bad_visits_are_refused_with_their_code_and_write_nothing(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    sid = (await _stall(client, h, markets["one"]))["id"]
    before = await conn.fetchval("SELECT count(*) FROM audit_log")
    for body, code in _bad_bodies(datetime.now(VN).date()):
        r = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | _key())
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == code, (body, r.json())
    r = await client.post(f"/api/stalls/{sid}/visits", json={"outcome": "absent"}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_required"
    r = await client.post(
        f"/api/stalls/{sid}/visits",
        json={"outcome": "absent"},
        headers=h | {"Idempotency-Key": "x"},
    )
    assert r.status_code == 422
    assert await _count(conn) == 0
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == before


async def test_the_edges_of_the_allowed_days_are_taken(client, auth, markets, conn):
    h = await auth("volunteer")
    sid = (await _stall(client, h, markets["one"]))["id"]
    today = datetime.now(VN).date()
    for body in (
        {"outcome": "come_back", "come_back_on": today.isoformat()},
        {"outcome": "come_back", "come_back_on": (today + timedelta(days=365)).isoformat()},
        {"outcome": "absent", "visited_at": (datetime.now(UTC) - timedelta(days=13)).isoformat()},
        # A price is written with its currency sign (a reviewer's "₫" was refused as a symbol).
        {"outcome": "trained", "note": "Bán 20.000₫ một ký, 100% khách trả tiền mặt"},
    ):
        r = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | _key())
        assert r.status_code == 201, (body, r.text)


@pytest.mark.parametrize("who", ["volunteer2", "viewer", "partner"])
async def test_out_of_scope_and_roles_without_field_work_are_refused(
    who, client, auth, markets, conn
):
    sid = (await _stall(client, await auth("volunteer"), markets["one"]))["id"]
    h = await auth(who)
    r = await client.post(
        f"/api/stalls/{sid}/visits", json={"outcome": "absent"}, headers=h | _key()
    )
    assert r.status_code in (403, 404), r.text
    r = await client.get(f"/api/stalls/{sid}/visits", headers=h)
    assert r.status_code in (403, 404), r.text
    if who == "volunteer2":  # out of scope reads as a stall that does not exist
        missing = await client.get("/api/stalls/987654321/visits", headers=h)
        assert r.status_code == missing.status_code == 404
        assert r.json()["code"] == missing.json()["code"]
    assert await _count(conn) == 0


async def test_an_erasure_clears_the_notes_and_an_export_hands_them_over(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"])
    sid, holder = stall["id"], stall["holder"]["id"]
    r = await client.post(
        f"/api/stalls/{sid}/visits",
        json={"outcome": "follow_up", "note": "Con gái chị Thùy giúp mở ví"},
        headers=h | _key(),
    )
    assert r.status_code == 201, r.text
    m = await auth("manager")
    export = (await client.post(f"/api/stallholders/{holder}/export", headers=m)).json()
    assert [v["note"] for v in export["visits"]] == ["Con gái chị Thùy giúp mở ví"]
    pdf = await client.post(f"/api/stallholders/{holder}/export?format=pdf", headers=m)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    r = await client.post(f"/api/stallholders/{holder}/erase", headers=m)
    assert r.status_code == 200, r.text
    rows = await conn.fetch("SELECT outcome, note FROM stall_visit WHERE stall_id = $1", sid)
    assert [(x["outcome"], x["note"]) for x in rows] == [("follow_up", None)]


async def test_a_retry_of_a_recorded_visit_is_answered_whatever_changed_since(
    client, auth, markets, conn
):
    """Blank notes are no note (a retry matches); a retry is answered from the key before any
    check that could refuse it now (here: the volunteer's market was taken off them)."""
    h = await auth("volunteer")
    sid = (await _stall(client, h, markets["one"]))["id"]
    key = _key()
    body = {"outcome": "trained", "note": "   "}
    first = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
    assert first.status_code == 201, first.text
    await conn.execute(
        "DELETE FROM user_market WHERE user_id = "
        "(SELECT id FROM app_user WHERE username = 'volunteer')"
    )
    again = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
    assert again.status_code == 200 and again.json()["note"] is None, again.text
    # Not a key to try other stalls or visits with: another visit under it is refused.
    other = await client.post(
        f"/api/stalls/{sid}/visits", json={"outcome": "absent"}, headers=h | key
    )
    assert other.json()["code"] == "idempotency_key_reused"
    assert await _count(conn) == 1


async def test_numbers_in_a_note_are_kept_to_their_last_four_digits(client, auth, markets, conn):
    h = await auth("volunteer")
    sid = (await _stall(client, h, markets["one"]))["id"]
    key = _key()
    note = "CCCD 079 123 456 789, STK 0123456789, gọi 0905.123.456"
    body = {"outcome": "follow_up", "note": note}
    first = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
    assert first.status_code == 201, first.text
    assert first.json()["note"] == "CCCD …6789, STK …6789, gọi …3456"
    stored = await conn.fetchval("SELECT note FROM stall_visit WHERE stall_id = $1", sid)
    assert "079" not in stored and "0123456789" not in stored
    again = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
    assert again.status_code == 200, again.text


async def test_a_device_clock_running_fast_records_the_visit_now(client, auth, markets, conn):
    h = await auth("volunteer")
    sid = (await _stall(client, h, markets["one"]))["id"]
    ahead = datetime.now(UTC) + timedelta(hours=3)
    for at in (ahead.isoformat(), "9999-12-31T23:59:59Z"):
        key = _key()
        body = {"outcome": "absent", "visited_at": at}
        r = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
        assert r.status_code == 201, r.text
        assert datetime.fromisoformat(r.json()["visited_at"]) <= datetime.now(UTC)
        again = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | key)
        assert again.status_code == 200 and again.json() == r.json(), again.text


async def test_appointments_list_the_days_agreed_where_work_is_left(client, auth, markets, conn):
    """The printed list of the next visit: the day agreed to come back that still stands (the
    latest visit that set one, until a visit on or after that day), from a week ago on, earliest
    first; a stall whose code was since checked at the stall, or whose day was kept, or which
    closed, is not listed; no names or notes."""
    h = await auth("volunteer")
    today = datetime.now(VN).date()
    stalls = [(await _stall(client, h, markets["one"], f"AP-{i}"))["id"] for i in range(6)]

    async def visit(sid: int, body: dict) -> None:
        r = await client.post(f"/api/stalls/{sid}/visits", json=body, headers=h | _key())
        assert r.status_code == 201, r.text

    later, sooner, done, replaced, closed, kept_open = stalls
    # A stall without an account yet (the usual case for an appointment).
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=stall_body("AP-8", payment_accounts=[], confirm_duplicate=True),
        headers=h | _key(),
    )
    assert r.status_code == 201, r.text
    bare = r.json()["id"]
    await visit(
        bare, {"outcome": "come_back", "come_back_on": (today + timedelta(days=1)).isoformat()}
    )
    paid = (await _stall(client, h, markets["one"], "AP-9"))["id"]
    await visit(paid, {"outcome": "come_back", "come_back_on": today.isoformat()})
    # Receiving payments, never checked at the stall: done for the worklist, so done here too.
    await counters.record_payment(
        conn, stall_id=paid, occurred_at=datetime.now(UTC), window_days=30
    )
    await visit(
        later, {"outcome": "come_back", "come_back_on": (today + timedelta(days=5)).isoformat()}
    )
    await visit(sooner, {"outcome": "blocked", "blockers": ["no_cccd"], "note": "Chị Lan",
                         "come_back_on": today.isoformat()})  # fmt: skip
    await visit(done, {"outcome": "come_back", "come_back_on": today.isoformat()})
    # Its code since checked at the stall: nothing left to do there.
    code = {"payload": payload.encode(bin="970422", account="0123456789")}
    r = await client.post(f"/api/stalls/{done}/verify", json=code, headers=h)
    assert r.status_code == 200, r.text
    # Checked at the stall too, but the visit asked for a follow-up on a day (training, the
    # support package): that day stands (a reviewer saw it vanish once the sign was printed).
    followed = (await _stall(client, h, markets["one"], "AP-10"))["id"]
    r = await client.post(f"/api/stalls/{followed}/verify", json=code, headers=h)
    assert r.status_code == 200, r.text
    in_two = (today + timedelta(days=2)).isoformat()
    await visit(followed, {"outcome": "follow_up", "come_back_on": in_two})
    await visit(replaced, {"outcome": "come_back", "come_back_on": today.isoformat()})
    await visit(replaced, {"outcome": "declined"})  # a visit on the day agreed: it was kept
    # A visit before the day agreed that sets no day (the volunteer passed by) keeps it: the
    # stallholder still expects the volunteer then (a reviewer saw it vanish).
    in_three = (today + timedelta(days=3)).isoformat()
    await visit(kept_open, {"outcome": "come_back", "come_back_on": in_three})
    await visit(kept_open, {"outcome": "trained"})
    await visit(closed, {"outcome": "come_back", "come_back_on": today.isoformat()})
    await conn.execute("UPDATE stall SET status = 'closed' WHERE id = $1", closed)
    r = await client.get(f"/api/markets/{markets['one']}/appointments", headers=h)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [a["stall_id"] for a in got["appointments"]] == [
        sooner, bare, followed, kept_open, later
    ]  # fmt: skip
    assert got["appointments"][3]["come_back_on"] == in_three
    # The worklist row says the same day (its latest visit is the one that set none).
    listed = (await client.get(f"/api/markets/{markets['one']}/stalls?limit=200", headers=h)).json()
    row = next(x for x in listed["items"] if x["id"] == kept_open)
    assert (row["last_visit"]["outcome"], row["last_visit"]["come_back_on"]) == (
        "trained",
        in_three,
    )
    assert row["last_visit"]["come_back_for"] == "come_back"  # the visit that agreed the day
    row = next(x for x in listed["items"] if x["id"] == followed)
    assert (row["last_visit"]["come_back_on"], row["last_visit"]["come_back_for"]) == (
        in_two,
        "follow_up",
    )
    row = next(x for x in listed["items"] if x["id"] == replaced)
    assert row["last_visit"]["come_back_on"] is None
    assert row["last_visit"]["come_back_for"] is None
    # The stallholder withdraws the registration consent (they leave the programme): no day to
    # go back to them stands (the team would have gone back to someone who left).
    holder = (await client.get(f"/api/stalls/{later}", headers=h)).json()["holder"]["id"]
    r = await client.post(
        f"/api/stallholders/{holder}/consents/withdraw",
        json={"purposes": ["registration"]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/markets/{markets['one']}/appointments", headers=h)
    assert later not in [a["stall_id"] for a in r.json()["appointments"]]
    listed = (await client.get(f"/api/markets/{markets['one']}/stalls?limit=200", headers=h)).json()
    row = next(x for x in listed["items"] if x["id"] == later)
    assert row["last_visit"]["come_back_on"] is None
    assert got["appointments"][0]["blockers"] == ["no_cccd"]
    assert "Chị Lan" not in r.text and "Lưu Thị" not in r.text
    assert got["since"] == (today - timedelta(days=7)).isoformat()
    # Out of scope reads as a market that does not exist; a viewer has no field work.
    other = await client.get(f"/api/markets/{markets['two']}/appointments", headers=h)
    missing = await client.get("/api/markets/987654321/appointments", headers=h)
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"]
    admin_missing = await client.get(
        "/api/markets/987654321/appointments", headers=await auth("admin")
    )
    assert admin_missing.status_code == 404
    viewer = await client.get(
        f"/api/markets/{markets['one']}/appointments", headers=await auth("viewer")
    )
    assert viewer.status_code == 403
