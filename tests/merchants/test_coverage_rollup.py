"""Rollups by market, ward, legacy district, province and partner; history; map; stall tiles."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from coverage import counters, job, levels
from tests.merchants.test_coverage import GOOD, register


async def _seed(client, auth, markets) -> dict[str, int]:
    """Market one: 3 stalls (1 verified, 1 with a sign, 1 registered); two: 1 stall with a sign."""
    v1, v2 = await auth("volunteer"), await auth("volunteer2")
    ids = {
        "a": await register(client, v1, markets["one"], "A-1"),
        "b": await register(client, v1, markets["one"], "B-1", zone="B"),
        "c": await register(
            client,
            v1,
            markets["one"],
            "A-2",
            payment_accounts=[
                {"bin": "970436", "account_number": "99887766", "partner_code": "VCB"}
            ],
        ),
        "d": await register(client, v2, markets["two"], "A-1"),
    }
    await client.post(f"/api/stalls/{ids['a']}/verify", json={"payload": GOOD}, headers=v1)
    await client.post(f"/api/stalls/{ids['b']}/sign-delivered", headers=v1)
    await client.post(f"/api/stalls/{ids['d']}/sign-delivered", headers=v2)
    return ids


def _by_key(body: dict) -> dict[str, dict]:
    return {g["key"]: g for g in body["groups"]}


async def test_city_wide_rollups(client, auth, markets, conn):
    await _seed(client, auth, markets)
    h = await auth("admin")
    province = (await client.get("/api/coverage?group_by=province", headers=h)).json()
    assert list(_by_key(province)) == ["48"]
    g = province["groups"][0]
    assert (g["name"], g["markets"], g["active_stalls"]) == ("Thành phố Đà Nẵng", 2, 4)
    assert g["levels"]["qr_issued"] == {"count": 3, "share": 0.75}
    assert g["levels"]["qr_verified"] == {"count": 1, "share": 0.25}
    assert g["statuses"] == {"not_started": 0, "in_progress": 2, "cashless": 0, "lapsed": 0}
    assert province["total"]["active_stalls"] == 4
    assert province["rule_version"] == 1

    wards = _by_key((await client.get("/api/coverage?group_by=ward", headers=h)).json())
    assert {k: (g["name"], g["active_stalls"]) for k, g in wards.items()} == {
        "20242": ("Phường Hải Châu", 3),
        "20285": ("Phường Ngũ Hành Sơn", 1),
    }
    districts = _by_key(
        (await client.get("/api/coverage?group_by=legacy_district", headers=h)).json()
    )
    assert {k: g["active_stalls"] for k, g in districts.items()} == {
        "Quận Hải Châu": 3,
        "Quận Ngũ Hành Sơn": 1,
    }
    by_market = (await client.get("/api/coverage?group_by=market", headers=h)).json()
    assert {g["name"]: (g["status"], g["active_stalls"]) for g in by_market["groups"]} == {
        "Chợ Thử Một": ("in_progress", 3),
        "Chợ Thử Hai": ("in_progress", 1),
    }
    partners = (await client.get("/api/coverage?group_by=partner", headers=h)).json()
    assert {
        k: (g["active_stalls"], g["levels"]["qr_verified"]["count"])
        for k, g in _by_key(partners).items()
    } == {
        "MB": (3, 1),
        "VCB": (1, 0),
    }
    # Leaderboards name partners as people know them, not by internal code.
    assert {k: g["name"] for k, g in _by_key(partners).items()} == {
        "MB": "MBBank",
        "VCB": "Vietcombank",
    }
    assert partners["total"] is None
    assert (await counters.recount(conn, window_days=30)).ok


async def test_scoped_callers_see_their_markets_only(client, auth, markets):
    await _seed(client, auth, markets)
    manager = (
        await client.get("/api/coverage?group_by=province", headers=await auth("manager"))
    ).json()
    assert manager["groups"][0]["active_stalls"] == 3  # ward 20242 = market one only
    wards = _by_key(
        (await client.get("/api/coverage?group_by=ward", headers=await auth("volunteer2"))).json()
    )
    assert list(wards) == ["20285"]
    partners = _by_key(
        (
            await client.get("/api/coverage?group_by=partner", headers=await auth("volunteer2"))
        ).json()
    )
    assert {k: g["active_stalls"] for k, g in partners.items()} == {"MB": 1}
    viewer = (
        await client.get("/api/coverage?group_by=province", headers=await auth("viewer"))
    ).json()
    assert viewer["groups"][0]["active_stalls"] == 4  # a viewer without scope sees the city
    assert (
        await client.get(f"/api/markets/{markets['two']}/coverage", headers=await auth("volunteer"))
    ).status_code == 404
    assert (
        await client.get(f"/api/markets/{markets['two']}/coverage", headers=await auth("viewer"))
    ).status_code == 200


async def test_partner_users_see_their_partner_group_only(client, auth, markets):
    await _seed(client, auth, markets)
    h = await auth("partner")
    r = await client.get("/api/coverage?group_by=partner", headers=h)
    assert r.status_code == 200
    assert [(g["key"], g["active_stalls"]) for g in r.json()["groups"]] == [("MB", 3)]
    for group_by in ("market", "ward", "province"):
        assert (
            await client.get(f"/api/coverage?group_by={group_by}", headers=h)
        ).status_code == 403
    assert (
        await client.get(f"/api/markets/{markets['one']}/coverage", headers=h)
    ).status_code == 404
    assert (await client.get("/api/coverage/markets.geojson", headers=h)).status_code == 403


async def test_bad_group_by_and_no_token(client, auth):
    assert (
        await client.get("/api/coverage?group_by=country", headers=await auth("admin"))
    ).status_code == 422
    assert (await client.get("/api/coverage?group_by=ward")).status_code == 401


async def test_rollups_follow_a_market_that_moves_ward(client, auth, markets, conn):
    await _seed(client, auth, markets)
    await conn.execute("UPDATE market SET ward_code = '20285' WHERE id = $1", markets["one"])
    wards = _by_key(
        (await client.get("/api/coverage?group_by=ward", headers=await auth("admin"))).json()
    )
    assert {k: (g["markets"], g["active_stalls"]) for k, g in wards.items()} == {"20285": (2, 4)}
    await conn.execute(
        "INSERT INTO market (name, ward_code, legacy_district_name) "
        "VALUES ('Chợ Mới', '20242', 'Quận Hải Châu')"
    )
    wards = _by_key(
        (await client.get("/api/coverage?group_by=ward", headers=await auth("admin"))).json()
    )
    assert wards["20242"]["markets"] == 1
    assert wards["20242"]["statuses"]["not_started"] == 1
    assert (await counters.recount(conn, window_days=30)).ok


async def test_history_carries_the_last_snapshot_forward(client, auth, markets, conn):
    h = await auth("volunteer")
    a = await register(client, h, markets["one"], "A-1")
    today = levels.local_day(datetime.now(UTC))
    noon = datetime.combine(today, time(12), tzinfo=levels.VN_TZ)
    await job.reevaluate_all(conn, window_days=30, now=noon - timedelta(days=5))
    await client.post(f"/api/stalls/{a}/sign-delivered", headers=h)
    await job.reevaluate_all(conn, window_days=30, now=noon - timedelta(days=2))
    start = today - timedelta(days=6)
    r = await client.get(
        f"/api/coverage/history?market_id={markets['one']}&from={start}&to={today}", headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == str(start)
    points = {p["date"]: p for p in body["points"]}
    assert sorted(points) == [str(today - timedelta(days=d)) for d in (5, 4, 3, 2, 1, 0)]
    issued = [
        points[str(today - timedelta(days=d))]["levels"]["qr_issued"]["count"]
        for d in (5, 4, 3, 2, 1, 0)
    ]
    assert issued == [0, 0, 0, 1, 1, 1]
    assert points[str(today - timedelta(days=4))]["status"] == "not_started"
    assert points[str(today)]["live"] is True
    assert points[str(today)]["status"] == "in_progress"
    # City-wide series over every market in scope.
    city = (
        await client.get(
            f"/api/coverage/history?from={start}&to={today}", headers=await auth("admin")
        )
    ).json()
    assert city["points"][-1]["markets"] == 2
    assert city["points"][0]["markets"] == 2


async def test_history_validation_and_scope(client, auth, markets):
    h = await auth("volunteer")
    assert (
        await client.get("/api/coverage/history?from=2026-02-01&to=2026-01-01", headers=h)
    ).status_code == 422
    assert (
        await client.get("/api/coverage/history?from=2020-01-01&to=2026-01-01", headers=h)
    ).status_code == 422
    assert (await client.get("/api/coverage/history?from=yesterday", headers=h)).status_code == 422
    assert (
        await client.get(f"/api/coverage/history?market_id={markets['two']}", headers=h)
    ).status_code == 404


async def test_markets_geojson(client, auth, markets):
    await _seed(client, auth, markets)
    r = await client.get("/api/coverage/markets.geojson", headers=await auth("viewer"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    one = next(f for f in fc["features"] if f["id"] == markets["one"])
    assert one["geometry"] == {"type": "Point", "coordinates": [108.22, 16.047]}
    props = one["properties"]
    assert all(not isinstance(v, (dict, list)) for v in props.values())  # flat
    assert (props["name"], props["ward"], props["status"], props["active_stalls"]) == (
        "Chợ Thử Một",
        "Phường Hải Châu",
        "in_progress",
        3,
    )
    assert (props["qr_issued_share"], props["qr_verified_share"]) == (0.6666, 0.3333)
    scoped = (
        await client.get("/api/coverage/markets.geojson", headers=await auth("volunteer2"))
    ).json()
    assert [f["id"] for f in scoped["features"]] == [markets["two"]]


async def test_stall_tiles_have_levels_and_no_personal_data(client, auth, markets):
    ids = await _seed(client, auth, markets)
    h = await auth("viewer")
    r = await client.get(f"/api/markets/{markets['one']}/stall-tiles", headers=h)
    assert r.status_code == 200
    zones = {z["zone"]: z for z in r.json()["zones"]}
    assert [t["stall_code"] for t in zones["A"]["stalls"]] == ["A-1", "A-2"]
    assert {t["id"]: t["level"] for z in zones.values() for t in z["stalls"]} == {
        ids["a"]: "qr_verified",
        ids["c"]: "registered",
        ids["b"]: "qr_issued",
    }
    assert zones["A"]["levels"]["qr_verified"] == {"count": 1, "share": 0.5}
    text = r.text
    assert "Lưu" not in text and "0123456789" not in text and "holder" not in text
    assert (
        await client.get(
            f"/api/markets/{markets['one']}/stall-tiles", headers=await auth("volunteer2")
        )
    ).status_code == 404
