"""Partners' service points (users_want #22): who records them, who sees them, what is refused."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import stall_body


def point(market_id: int, **over: object) -> dict:
    body: dict = {
        "partner_code": "MB",
        "market_id": market_id,
        "kind": "cash",
        "name": "  Quầy nạp rút   MB cổng chợ ",
        "address": "Cổng số 2, đường Trần Phú",
        "opening_hours": "7:00 – 17:00",
        "location": {"lat": 16.0475, "lon": 108.2207},
    }
    body.update(over)
    return body


async def register_mb_stall(client, headers, market_id: int) -> None:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(f"SP-{uuid.uuid4().hex[:6]}"),
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text


async def test_an_admin_records_a_point_that_every_reader_of_the_market_sees(
    client, auth, markets, conn
):
    admin = await auth("admin")
    r = await client.post("/api/service-points", json=point(markets["one"]), headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"] == "Quầy nạp rút MB cổng chợ"  # spaces folded like every name
    assert made["partner_name"] and made["market_name"] == "Chợ Thử Một"
    assert (made["lat"], made["lon"]) == (16.0475, 108.2207)
    for who in ("admin", "manager", "volunteer", "viewer"):
        listed = await client.get(
            "/api/service-points", params={"market_id": markets["one"]}, headers=await auth(who)
        )
        assert listed.status_code == 200, (who, listed.text)
        assert [p["id"] for p in listed.json()["points"]] == [made["id"]], who
    # By area too: the market's ward, and the other ward (nothing).
    by_ward = await client.get("/api/service-points", params={"ward": "20242"}, headers=admin)
    assert [p["id"] for p in by_ward.json()["points"]] == [made["id"]]
    other = await client.get("/api/service-points", params={"ward": "20285"}, headers=admin)
    assert other.json() == {"points": [], "more": False}
    entry = await conn.fetchrow(
        "SELECT action, after FROM audit_log WHERE entity = 'service_point' AND entity_id = $1",
        str(made["id"]),
    )
    assert entry["action"] == "create"


async def test_a_market_out_of_scope_reads_like_one_that_does_not_exist(client, auth, markets):
    admin = await auth("admin")
    assert (
        await client.post("/api/service-points", json=point(markets["two"]), headers=admin)
    ).status_code == 201
    volunteer = await auth("volunteer")  # market one only
    outside = await client.get(
        "/api/service-points", params={"market_id": markets["two"]}, headers=volunteer
    )
    missing = await client.get(
        "/api/service-points", params={"market_id": 987654}, headers=volunteer
    )
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["code"] == missing.json()["code"] == "market_not_found"
    # Without a filter, only the points of the caller's markets.
    assert (await client.get("/api/service-points", headers=volunteer)).json()["points"] == []
    manager = await auth("manager")  # ward 20242: market one
    refused = await client.post("/api/service-points", json=point(markets["two"]), headers=manager)
    unknown = await client.post("/api/service-points", json=point(987654), headers=manager)
    assert refused.status_code == unknown.status_code == 422
    assert refused.json()["code"] == unknown.json()["code"] == "unknown_market"
    assert refused.json()["detail"].replace(str(markets["two"]), "N") == unknown.json()[
        "detail"
    ].replace("987654", "N")


async def test_a_partner_records_and_sees_only_its_own_points_where_it_works(client, auth, markets):
    admin, partner = await auth("admin"), await auth("partner")  # the partner user is MB's
    other = await client.post(
        "/api/service-points",
        json=point(markets["one"], partner_code="VCB", name="Quầy VCB"),
        headers=admin,
    )
    assert other.status_code == 201, other.text
    # No MB account in the market yet: the market is not one its page lists.
    early = await client.post("/api/service-points", json=point(markets["one"]), headers=partner)
    assert early.status_code == 422 and early.json()["code"] == "unknown_market"
    await register_mb_stall(client, admin, markets["one"])
    mine = await client.post("/api/service-points", json=point(markets["one"]), headers=partner)
    assert mine.status_code == 201, mine.text
    foreign = await client.post(
        "/api/service-points", json=point(markets["one"], partner_code="VCB"), headers=partner
    )
    assert foreign.status_code == 403
    seen = (await client.get("/api/service-points", headers=partner)).json()["points"]
    assert [p["id"] for p in seen] == [mine.json()["id"]]
    asked = await client.get("/api/service-points", params={"partner": "VCB"}, headers=partner)
    assert asked.json() == {"points": [], "more": False}
    by_admin = await client.get("/api/service-points", params={"partner": "vcb"}, headers=admin)
    assert [p["id"] for p in by_admin.json()["points"]] == [other.json()["id"]]
    # Another partner's point reads as missing, to remove as to see.
    gone = await client.delete(f"/api/service-points/{other.json()['id']}", headers=partner)
    never = await client.delete("/api/service-points/987654", headers=partner)
    assert gone.status_code == never.status_code == 404
    assert gone.json()["code"] == "service_point_not_found"
    assert (
        await client.delete(f"/api/service-points/{mine.json()['id']}", headers=partner)
    ).status_code == 204
    assert (await client.get("/api/service-points", headers=partner)).json()["points"] == []


async def test_field_roles_read_but_do_not_record(client, auth, markets):
    admin = await auth("admin")
    made = (
        await client.post("/api/service-points", json=point(markets["one"]), headers=admin)
    ).json()
    for who in ("volunteer", "viewer"):
        headers = await auth(who)
        assert (
            await client.post("/api/service-points", json=point(markets["one"]), headers=headers)
        ).status_code == 403
        assert (
            await client.delete(f"/api/service-points/{made['id']}", headers=headers)
        ).status_code == 403
    manager = await auth("manager")
    assert (
        await client.delete(f"/api/service-points/{made['id']}", headers=manager)
    ).status_code == 204


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"kind": "atm"}, "validation_error"),
        ({"name": "   "}, "invalid_name"),
        ({"name": "Quầy\x00"}, "invalid_text"),
        ({"name": "x" * 121}, "invalid_name"),
        ({"address": "a\u202e"}, "invalid_address"),
        ({"opening_hours": "y" * 81}, "invalid_hours"),
        ({"location": {"lat": 91, "lon": 108}}, "validation_error"),
        ({"location": {"lat": 16}}, "validation_error"),
        ({"market_id": 2**63}, "validation_error"),
        ({"partner_code": "NOPE"}, "unknown_partner"),
        ({"partner_code": "M B"}, "validation_error"),
        ({"colour": "red"}, "validation_error"),
    ],
)
async def test_bad_points_are_refused_and_change_nothing(client, auth, markets, conn, over, code):
    body = point(markets["one"]) | over
    r = await client.post("/api/service-points", json=body, headers=await auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.json()
    assert await conn.fetchval("SELECT count(*) FROM service_point") == 0


async def test_blank_address_and_hours_are_none_and_a_point_may_have_no_place(
    client, auth, markets
):
    r = await client.post(
        "/api/service-points",
        json=point(markets["one"], address="  ", opening_hours="", location=None, kind="help"),
        headers=await auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["address"], r.json()["opening_hours"], r.json()["lat"]) == (None, None, None)


async def test_list_parameters_are_checked(client, auth):
    admin = await auth("admin")
    for params in (
        {"limit": 0},
        {"limit": 1001},
        {"ward": "x"},
        {"province": "1234"},
        {"market_id": 0},
    ):
        r = await client.get("/api/service-points", params=params, headers=admin)
        assert r.status_code == 422, params


async def test_more_says_when_the_limit_cut_the_list(client, auth, markets):
    admin = await auth("admin")
    for n in range(3):
        await client.post(
            "/api/service-points", json=point(markets["one"], name=f"Quầy {n}"), headers=admin
        )
    page = (await client.get("/api/service-points", params={"limit": 2}, headers=admin)).json()
    assert len(page["points"]) == 2 and page["more"] is True
    page = (await client.get("/api/service-points", params={"limit": 3}, headers=admin)).json()
    assert len(page["points"]) == 3 and page["more"] is False


async def test_an_archived_market_takes_no_point_and_its_points_leave_the_lists(
    client, auth, markets
):
    admin = await auth("admin")
    made = await client.post("/api/service-points", json=point(markets["two"]), headers=admin)
    assert made.status_code == 201
    r = await client.post(
        f"/api/markets/{markets['two']}/archive", json={"reason": "Chợ đã giải tỏa"}, headers=admin
    )
    assert r.status_code == 200, r.text
    refused = await client.post("/api/service-points", json=point(markets["two"]), headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "market_archived"
    # Off the map's area lists, as its market is; still read by the market's id (its page).
    assert (await client.get("/api/service-points", headers=admin)).json()["points"] == []
    assert (
        await client.get("/api/service-points", params={"ward": "20285"}, headers=admin)
    ).json()["points"] == []
    by_id = await client.get(
        "/api/service-points", params={"market_id": markets["two"]}, headers=admin
    )
    assert [p["id"] for p in by_id.json()["points"]] == [made.json()["id"]]
