"""Concurrent writers: one stall per Idempotency-Key, one stall per code (own database, real pool)."""

from __future__ import annotations

import asyncio
import uuid

from coverage import counters
from tests.conftest import stall_body


async def _market_id(live) -> int:
    async with live.pool.acquire() as c:
        return int(await c.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'"))


async def test_twenty_concurrent_retries_make_one_stall(live):
    market_id = await _market_id(live)
    headers = await live.token("volunteer") | {"Idempotency-Key": str(uuid.uuid4())}
    async with live.client() as client:
        responses = await asyncio.gather(
            *[
                client.post(f"/api/markets/{market_id}/stalls", json=stall_body(), headers=headers)
                for _ in range(20)
            ]
        )
    assert {r.status_code for r in responses} == {201}, [
        r.text for r in responses if r.status_code != 201
    ]
    assert len({r.json()["id"] for r in responses}) == 1
    async with live.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM stall WHERE market_id = $1", market_id) == 1
        assert await c.fetchval("SELECT count(*) FROM stallholder") == 1
        assert await c.fetchval("SELECT count(*) FROM payment_account") == 1


async def test_two_keys_racing_for_one_code_make_one_stall_and_one_409(live):
    market_id = await _market_id(live)
    token = await live.token("volunteer")
    first = stall_body("A-1")
    second = stall_body("A-1", holder={"full_name": "Trần Văn Hùng", "phone": "0912345678"})
    async with live.client() as client:
        responses = await asyncio.gather(
            client.post(
                f"/api/markets/{market_id}/stalls",
                json=first,
                headers=token | {"Idempotency-Key": str(uuid.uuid4())},
            ),
            client.post(
                f"/api/markets/{market_id}/stalls",
                json=second,
                headers=token | {"Idempotency-Key": str(uuid.uuid4())},
            ),
        )
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert [r.json()["code"] for r in responses if r.status_code == 409] == ["stall_code_taken"]
    async with live.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM stall WHERE market_id = $1", market_id) == 1
        # The loser's holder row was rolled back with it.
        assert await c.fetchval("SELECT count(*) FROM stallholder") == 1


async def test_concurrent_edits_one_wins_the_other_gets_412(live):
    market_id = await _market_id(live)
    token = await live.token("volunteer")
    async with live.client() as client:
        stall = (
            await client.post(
                f"/api/markets/{market_id}/stalls",
                json=stall_body(),
                headers=token | {"Idempotency-Key": str(uuid.uuid4())},
            )
        ).json()
        responses = await asyncio.gather(
            *[
                client.patch(
                    f"/api/stalls/{stall['id']}",
                    json={"goods": f"Hàng {i}"},
                    headers=token | {"If-Match": "1"},
                )
                for i in range(5)
            ]
        )
    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412, 412]


async def test_overlapping_print_jobs_confirmed_at_once_neither_deadlock_nor_double_count(live):
    """Two people confirm batches of one market's signs at the same moment (their stalls overlap):
    no deadlock, no 500, every stall counted once."""
    headers = await live.token("admin")
    async with live.pool.acquire() as c:
        market = await c.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
    async with live.client() as client:
        for i in range(12):
            body = stall_body(
                f"R-{i}",
                holder={"full_name": f"Người Bán {chr(65 + i)}"},
                payment_accounts=[{"bin": "970436", "account_number": f"8800{i:04d}"}],
            )
            r = await client.post(
                f"/api/markets/{market}/stalls",
                json=body,
                headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 201, r.text
        jobs = [
            (
                await client.post(f"/api/markets/{market}/print-jobs", json={}, headers=headers)
            ).json()
            for _ in range(2)
        ]

    async def confirm(job: dict, reverse: bool) -> int:
        ids = [s["stall_id"] for s in job["stalls"]]
        async with live.client() as client:
            r = await client.post(
                f"/api/print-jobs/{job['id']}/confirm",
                json={"stall_ids": ids[::-1] if reverse else ids},
                headers=headers,
            )
            return r.status_code

    async def one_by_one(job: dict) -> list[int]:
        # Meanwhile a volunteer confirms single signs, from the other end of the list.
        out = []
        async with live.client() as client:
            for s in reversed(job["stalls"]):
                r = await client.post(f"/api/stalls/{s['stall_id']}/sign-printed", headers=headers)
                out.append(r.status_code)
        return out

    results = await asyncio.gather(
        *(confirm(j, n % 2 == 1) for n, j in enumerate(jobs * 2)), one_by_one(jobs[0])
    )
    assert results[:4] == [200, 200, 200, 200]
    assert set(results[4]) == {200}
    async with live.pool.acquire() as c:
        issued = await c.fetchval(
            "SELECT qr_issued FROM market_coverage WHERE market_id = $1", market
        )
        assert issued == 12
        assert (await counters.recount(c, window_days=30)).ok


async def test_a_stall_written_while_its_zone_is_renamed_never_keeps_the_old_name(live):
    """A zone rename holds the market row; a registration or a stall's move into that zone waits
    for it and then sees the new zones, so no stall is left in a zone the market no longer has."""
    from core.types import User
    from merchants import markets, schemas

    market_id = await _market_id(live)
    token = await live.token("volunteer")
    async with live.client() as client:
        b1 = await client.post(
            f"/api/markets/{market_id}/stalls",
            json=stall_body("B-1", zone="B"),
            headers=token | {"Idempotency-Key": str(uuid.uuid4())},
        )
        c1 = await client.post(
            f"/api/markets/{market_id}/stalls",
            json=stall_body("C-1", zone=None, confirm_duplicate=True),
            headers=token | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert b1.status_code == c1.status_code == 201
        async with live.pool.acquire() as c:
            admin_id = await c.fetchval("SELECT id FROM app_user WHERE username = 'admin'")
            admin = User(id=admin_id, username="admin", role="admin", active=True)
            tr = c.transaction()
            await tr.start()
            renames = [
                schemas.ZoneRename.model_validate({"from": "A", "to": "Khu A"}),
                schemas.ZoneRename.model_validate({"from": "B", "to": "Khu B"}),
            ]
            await markets.update_market(
                c,
                user=admin,
                market_id=market_id,
                expected_version=1,
                patch=schemas.MarketPatch(zone_renames=renames),
            )
            register = asyncio.create_task(
                client.post(
                    f"/api/markets/{market_id}/stalls",
                    json=stall_body("A-1", zone="A", confirm_duplicate=True),
                    headers=token | {"Idempotency-Key": str(uuid.uuid4())},
                )
            )
            move = asyncio.create_task(
                client.patch(
                    f"/api/stalls/{c1.json()['id']}",
                    json={"zone": "A"},
                    headers=token | {"If-Match": '"1"'},
                )
            )
            await asyncio.sleep(
                0.5
            )  # both reach the market row and wait (without the lock, they finish)
            await tr.commit()
        registered, moved = await register, await move
    assert (registered.status_code, registered.json()["code"]) == (422, "unknown_zone")
    assert (moved.status_code, moved.json()["code"]) == (422, "unknown_zone")
    async with live.pool.acquire() as c:
        zones = await c.fetch(
            "SELECT s.zone, c.counted_zone FROM stall s JOIN stall_coverage c ON c.stall_id = s.id "
            "WHERE s.market_id = $1 ORDER BY s.id",
            market_id,
        )
        assert [(z["zone"], z["counted_zone"]) for z in zones] == [("Khu B", "Khu B"), (None, "")]
