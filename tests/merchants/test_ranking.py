"""Where to go next: markets ranked by how close they are to the rule, and return-visit lists."""

from __future__ import annotations

import uuid

from qr import payload
from tests.conftest import stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _stalls(client, headers, market_id: int, n: int, prefix: str) -> list[int]:
    ids = []
    for i in range(n):
        r = await client.post(
            f"/api/markets/{market_id}/stalls",
            json=stall_body(f"{prefix}-{i}", confirm_duplicate=True),
            headers=headers | key(),
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


GOOD = {"payload": payload.encode(bin="970422", account="0123456789")}
WRONG = {"payload": payload.encode(bin="970436", account="000111222")}


async def test_markets_are_ranked_by_what_they_still_need(client, conn, auth, markets):
    admin = await auth("admin")
    r = await client.put(
        "/api/programme/rule",
        json={"thresholds": {"qr_issued": 0.5, "qr_verified": 0.5}},
        headers=admin,
    )
    assert r.status_code == 200
    one = await _stalls(client, admin, markets["one"], 4, "A")
    await client.post(f"/api/stalls/{one[0]}/sign-delivered", headers=admin)
    two = await _stalls(client, admin, markets["two"], 2, "B")
    await client.post(f"/api/stalls/{two[0]}/sign-delivered", headers=admin)
    assert (await client.post(f"/api/stalls/{two[0]}/verify", json=GOOD, headers=admin)).is_success
    empty = await conn.fetchval(
        "INSERT INTO market (name, ward_code) VALUES ('Chợ Trống', '20242') RETURNING id"
    )

    r = await client.get("/api/coverage/ranking", headers=admin)
    assert r.status_code == 200, r.text
    ranking = r.json()
    order = [
        (m["rank"], m["market_id"], m["stalls_needed"], m["rule_met"]) for m in ranking["markets"]
    ]
    assert order == [
        (1, markets["one"], 3, False),  # 1 more sign, 2 more verified
        (2, empty, 0, False),  # nothing registered yet
        (3, markets["two"], 0, True),
    ]
    first = ranking["markets"][0]
    assert {p["level"]: p["stalls_needed"] for p in first["progress"]} == {
        "qr_issued": 1,
        "qr_verified": 2,
    }
    assert first["ward_name"] == "Phường Hải Châu" and first["active_stalls"] == 4

    r = await client.get("/api/coverage/ranking?ward_code=20285", headers=admin)
    assert [m["market_id"] for m in r.json()["markets"]] == [markets["two"]]
    # A province: its markets only (the drill-down's province level); one unknown: 404.
    r = await client.get("/api/coverage/ranking?province=48", headers=admin)
    assert [m["market_id"] for m in r.json()["markets"]] == [markets["one"], empty, markets["two"]]
    r = await client.get("/api/coverage/ranking?province=01", headers=admin)
    assert r.status_code == 200 and r.json()["markets"] == []
    r = await client.get("/api/coverage/ranking?province=999", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "province_not_found"
    r = await client.get("/api/coverage/ranking?status=cashless", headers=admin)
    assert [m["market_id"] for m in r.json()["markets"]] == [markets["two"]]
    # A manager ranks the markets of their ward only.
    r = await client.get("/api/coverage/ranking", headers=await auth("manager"))
    assert [m["market_id"] for m in r.json()["markets"]] == [markets["one"], empty]
    r = await client.get("/api/coverage/ranking?status=nope", headers=admin)
    assert r.status_code == 422
    r = await client.get("/api/coverage/ranking", headers=await auth("partner"))
    assert r.status_code == 403


async def test_return_visit_lists_per_market_and_per_team(client, conn, auth, markets):
    admin = await auth("admin")
    one = await _stalls(client, admin, markets["one"], 3, "Z")
    for stall_id in (one[2], one[0]):
        r = await client.post(f"/api/stalls/{stall_id}/verify", json=WRONG, headers=admin)
        assert r.status_code == 422 and r.json()["needs_revisit"]

    r = await client.get(f"/api/markets/{markets['one']}/return-visits", headers=admin)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["name"] == "Chợ Thử Một"
    assert [(v["stall_code"], v["reason"]) for v in data["visits"]] == [
        ("Z-0", "qr_mismatch"),
        ("Z-2", "qr_mismatch"),
    ]
    assert all(v["since"] for v in data["visits"])

    # Fixed: it drops off the list.
    r = await client.post(f"/api/stalls/{one[0]}/verify", json=GOOD, headers=admin)
    assert r.status_code == 200
    r = await client.get(f"/api/markets/{markets['one']}/return-visits", headers=admin)
    assert [v["stall_code"] for v in r.json()["visits"]] == ["Z-2"]

    r = await client.post(
        "/api/teams",
        json={
            "name": "Tổ HC",
            "ward_code": "20242",
            "market_ids": [markets["one"], markets["two"]],
        },
        headers=admin,
    )
    team = r.json()["id"]
    r = await client.get(f"/api/teams/{team}/return-visits", headers=admin)
    assert r.status_code == 200
    got = {m["name"]: [v["stall_code"] for v in m["visits"]] for m in r.json()["markets"]}
    assert got == {"Chợ Thử Một": ["Z-2"], "Chợ Thử Hai": []}
    # A manager sees the team's markets of their own scope only.
    r = await client.get(f"/api/teams/{team}/return-visits", headers=await auth("manager"))
    assert [m["name"] for m in r.json()["markets"]] == ["Chợ Thử Một"]
    r = await client.get(
        f"/api/markets/{markets['two']}/return-visits", headers=await auth("volunteer")
    )
    assert r.status_code == 404
