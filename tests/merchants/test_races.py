"""Concurrent writers: one stall per Idempotency-Key, one stall per code (own database, real pool)."""

from __future__ import annotations

import asyncio
import uuid

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
