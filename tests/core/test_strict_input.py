"""Loose input that pydantic would coerce is refused: a 0 is not false, "0" is not a date."""

from __future__ import annotations

import uuid

from tests.conftest import stall_body


async def test_numbers_are_not_booleans(client, conn, auth, markets):
    admin = await auth("admin")
    user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
    r = await client.patch(f"/api/users/{user_id}", json={"active": 0}, headers=admin)
    assert r.status_code == 422
    assert await conn.fetchval("SELECT active FROM app_user WHERE id = $1", user_id) is True
    body = stall_body(confirm_duplicate=1)
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=body,
        headers=admin | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 422


async def test_booleans_are_not_shares(client, auth):
    r = await client.put(
        "/api/programme/rule",
        json={"thresholds": {"qr_issued": False}},
        headers=await auth("admin"),
    )
    assert r.status_code == 422


async def test_dates_are_iso_days(client, auth):
    headers = await auth("admin")
    assert (
        await client.get("/api/coverage/history", params={"to": "0"}, headers=headers)
    ).status_code == 422
    assert (
        await client.get("/api/coverage/history", params={"to": "2026-11-27"}, headers=headers)
    ).status_code == 200
