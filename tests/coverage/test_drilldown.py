"""Drill-down reads: country -> province -> ward -> market, each limited to the caller's scope.

The seeded city has market one (ward 20242) and market two (ward 20285), both in Đà Nẵng (48);
these tests add a market in Hà Nội (province 01, ward 00004) so a province filter has something
to leave out.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from coverage import counters, job, levels
from coverage.schemas import CoverageRollup
from tests.merchants.test_coverage import register


@pytest.fixture
async def national(client, auth, markets, conn) -> dict[str, int]:
    """Stalls in the two Đà Nẵng markets and in a new Hà Nội market (admin registers there)."""
    hanoi = await conn.fetchval(
        """INSERT INTO market (name, province_code, ward_code, lat, lon, zones)
           VALUES ('Chợ Thử Hà Nội', '01', '00004', 21.03, 105.83, '{A}') RETURNING id"""
    )
    v1, v2, admin = await auth("volunteer"), await auth("volunteer2"), await auth("admin")
    await register(client, v1, markets["one"], "A-1")
    b = await register(client, v1, markets["one"], "A-2")
    await register(client, v2, markets["two"], "A-1")
    await register(client, admin, hanoi, "A-1")
    await register(client, admin, hanoi, "A-2")
    await register(client, admin, hanoi, "A-3")
    await client.post(f"/api/stalls/{b}/sign-delivered", headers=v1)
    return {"one": markets["one"], "two": markets["two"], "hanoi": hanoi}


def _groups(body: dict) -> dict[str, dict]:
    return {g["key"]: g for g in body["groups"]}


async def _get(client, headers, path: str) -> dict:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_country_level_has_one_row_per_province_with_its_markets_mean_point(
    client, auth, national
):
    body = await _get(client, await auth("admin"), "/api/coverage?group_by=province")
    CoverageRollup.model_validate(body)  # the documented shape, although serialised by hand
    provinces = _groups(body)
    assert list(provinces) == ["01", "48"]
    assert (provinces["01"]["name"], provinces["01"]["markets"]) == ("Thành phố Hà Nội", 1)
    assert provinces["01"]["active_stalls"] == 3
    assert (provinces["01"]["lat"], provinces["01"]["lon"]) == (21.03, 105.83)
    danang = provinces["48"]
    assert (danang["markets"], danang["active_stalls"]) == (2, 3)
    assert danang["lat"] == pytest.approx((16.047 + 16.03) / 2)
    assert danang["lon"] == pytest.approx((108.22 + 108.25) / 2)
    assert danang["province_code"] == "48"
    assert body["total"]["active_stalls"] == 6
    assert body["province"] is None and body["ward"] is None


async def test_a_province_lists_its_wards_and_a_ward_its_markets(client, auth, national):
    h = await auth("admin")
    wards = await _get(client, h, "/api/coverage?group_by=ward&province=48")
    assert wards["province"] == {"code": "48", "name": "Thành phố Đà Nẵng"}
    by_ward = _groups(wards)
    assert {k: (g["name"], g["markets"], g["active_stalls"]) for k, g in by_ward.items()} == {
        "20242": ("Phường Hải Châu", 1, 2),
        "20285": ("Phường Ngũ Hành Sơn", 1, 1),
    }
    assert (by_ward["20242"]["lat"], by_ward["20242"]["lon"]) == (16.047, 108.22)
    assert by_ward["20242"]["province_code"] == "48"
    assert wards["total"]["active_stalls"] == 3  # Hà Nội left out

    in_ward = await _get(client, h, "/api/coverage?group_by=market&ward=20242")
    assert in_ward["ward"] == {"code": "20242", "name": "Phường Hải Châu"}
    (market,) = in_ward["groups"]
    assert (int(market["key"]), market["status"], market["active_stalls"]) == (
        national["one"],
        "in_progress",
        2,
    )
    assert (market["lat"], market["lon"], market["ward_code"], market["province_code"]) == (
        16.047,
        108.22,
        "20242",
        "48",
    )
    both = await _get(client, h, "/api/coverage?group_by=market&province=48&ward=20285")
    assert [int(g["key"]) for g in both["groups"]] == [national["two"]]
    partners = await _get(client, h, "/api/coverage?group_by=partner&ward=20242")
    assert {k: g["active_stalls"] for k, g in _groups(partners).items()} == {"MB": 2}


async def test_the_map_asks_for_the_markets_of_one_ward_or_province(client, auth, national):
    h = await auth("viewer")
    ward = await _get(client, h, "/api/coverage/markets.geojson?ward=20285")
    assert [f["id"] for f in ward["features"]] == [national["two"]]
    province = await _get(client, h, "/api/coverage/markets.geojson?province=01")
    assert [f["id"] for f in province["features"]] == [national["hanoi"]]
    assert province["features"][0]["geometry"]["coordinates"] == [105.83, 21.03]
    everything = await _get(client, h, "/api/coverage/markets.geojson")
    assert len(everything["features"]) == 3


async def test_a_ward_manager_sees_only_their_ward_at_every_level(client, auth, national):
    h = await auth("manager")  # scope: ward 20242
    provinces = await _get(client, h, "/api/coverage?group_by=province")
    assert {k: g["active_stalls"] for k, g in _groups(provinces).items()} == {"48": 2}
    wards = await _get(client, h, "/api/coverage?group_by=ward&province=48")
    assert list(_groups(wards)) == ["20242"]
    other = await _get(client, h, "/api/coverage?group_by=market&ward=20285")
    assert other["groups"] == [] and other["total"]["markets"] == 0
    hanoi = await _get(client, h, "/api/coverage/markets.geojson?province=01")
    assert hanoi["features"] == []
    volunteer2 = await _get(client, await auth("volunteer2"), "/api/coverage?group_by=market")
    assert [int(g["key"]) for g in volunteer2["groups"]] == [national["two"]]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("group_by=ward&province=99", 404, "province_not_found"),
        ("group_by=market&ward=99999", 404, "ward_not_found"),
        ("group_by=market&ward=48", 404, "ward_not_found"),  # a province, not a ward
        ("group_by=market&province=480", 404, "province_not_found"),
        ("group_by=market&province=20242", 422, "validation_error"),
        ("group_by=market&province=01&ward=20242", 422, "ward_not_in_province"),
        ("group_by=market&province=abc", 422, "validation_error"),
        ("group_by=market&ward=1234567", 422, "validation_error"),
    ],
)
async def test_an_unknown_or_mismatched_area_is_refused(
    client, auth, national, query, status, code
):
    r = await client.get(f"/api/coverage?{query}", headers=await auth("admin"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code
    geo = await client.get(
        f"/api/coverage/markets.geojson?{query.split('&', 1)[1]}", headers=await auth("admin")
    )
    assert geo.status_code == status


async def test_a_one_digit_province_code_means_the_directory_code(client, auth, national):
    body = await _get(client, await auth("admin"), "/api/coverage?group_by=market&province=1")
    assert body["province"]["code"] == "01"
    assert [int(g["key"]) for g in body["groups"]] == [national["hanoi"]]


async def test_area_series_agree_for_a_national_reader_and_a_ward_manager(
    client, auth, national, conn
):
    """The admin's ward series is read from the areas' daily numbers, the manager's (scope: that
    ward) from the markets' snapshots: both give the same days and numbers."""
    today = levels.local_day(datetime.now(UTC))
    noon = datetime.combine(today, time(12), tzinfo=levels.VN_TZ)
    await job.reevaluate_all(conn, window_days=30, now=noon - timedelta(days=4))
    stall = await register(client, await auth("volunteer"), national["one"], "B-9", zone="B")
    await client.post(f"/api/stalls/{stall}/sign-delivered", headers=await auth("volunteer"))
    await job.reevaluate_all(conn, window_days=30, now=noon - timedelta(days=2))
    span = f"from={today - timedelta(days=6)}&to={today}"
    admin = await _get(client, await auth("admin"), f"/api/coverage/history?ward=20242&{span}")
    manager = await _get(client, await auth("manager"), f"/api/coverage/history?ward=20242&{span}")
    assert admin["ward"] == {"code": "20242", "name": "Phường Hải Châu"}
    assert admin["points"] == manager["points"]
    days = [p["date"] for p in admin["points"]]
    assert days == [str(today - timedelta(days=d)) for d in (4, 3, 2, 1, 0)]
    active = [p["active_stalls"] for p in admin["points"]]
    assert active == [2, 2, 3, 3, 3]
    country = await _get(client, await auth("admin"), f"/api/coverage/history?{span}")
    assert [p["markets"] for p in country["points"]] == [3, 3, 3, 3, 3]
    assert country["points"][-1]["active_stalls"] == 7
    hanoi = await _get(client, await auth("admin"), f"/api/coverage/history?province=01&{span}")
    assert [p["active_stalls"] for p in hanoi["points"]] == [3, 3, 3, 3, 3]
    assert (await counters.recount(conn, window_days=30)).ok


async def test_history_takes_a_market_or_an_area_not_both(client, auth, national):
    r = await client.get(
        f"/api/coverage/history?market_id={national['one']}&ward=20242",
        headers=await auth("admin"),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    r = await client.get("/api/coverage/history?province=99", headers=await auth("admin"))
    assert r.status_code == 404
