"""Issue 12, A7: markets are corrected (optimistic concurrency, audited), archived and brought
back, and their zones added, renamed and retired."""

from __future__ import annotations

import io
import uuid

import openpyxl
import pytest

from coverage import counters
from tests.conftest import stall_body


async def _register(client, headers, market_id: int, code: str, **over):
    over.setdefault("confirm_duplicate", True)
    return await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, **over),
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )


async def _market(client, headers, market_id: int) -> dict:
    r = await client.get(f"/api/markets/{market_id}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    return r.json()


async def _patch(client, headers, market_id: int, body: dict, version: int | None = None):
    if version is None:
        version = (await _market(client, headers, market_id))["version"]
    return await client.patch(
        f"/api/markets/{market_id}", json=body, headers=headers | {"If-Match": f'"{version}"'}
    )


# ---------------------------------------------------------------- corrections


async def test_a_market_is_corrected_with_its_version_and_audited(client, auth, markets, conn):
    h = await auth("admin")
    m = markets["two"]
    before = await _market(client, h, m)
    body = {
        "name": "Chợ Thử Hai (mới)",
        "address": "12 Lê Duẩn",
        "ward_code": "20242",
        "lat": 16.07,
        "lon": 108.21,
    }
    assert (await client.patch(f"/api/markets/{m}", json=body, headers=h)).status_code == 428
    r = await _patch(client, h, m, body, version=before["version"])
    assert r.status_code == 200, r.text
    after = r.json()
    assert {k: after[k] for k in body} == body
    assert after["ward_name"] == "Phường Hải Châu"
    assert (
        after["version"] == before["version"] + 1 and r.headers["etag"] == f'"{after["version"]}"'
    )
    # A second edit made from the version read before is refused and changes nothing.
    stale = await _patch(client, h, m, {"name": "Chợ Cũ"}, version=before["version"])
    assert stale.status_code == 412 and stale.json()["code"] == "version_conflict"
    assert (await _market(client, h, m))["name"] == "Chợ Thử Hai (mới)"
    entry = await conn.fetchrow(
        "SELECT before, after FROM audit_log WHERE entity = 'market' AND entity_id = $1 "
        "AND action = 'update'",
        str(m),
    )
    assert entry["before"]["name"] == "Chợ Thử Hai" and entry["after"]["name"] == body["name"]
    # Coordinates can be cleared, together.
    r = await _patch(client, h, m, {"lat": None, "lon": None})
    assert r.status_code == 200 and r.json()["lat"] is None and r.json()["lon"] is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"ward_code": "99999"}, "unknown_ward", "ward_code"),
        ({"lat": 16.0}, "coordinates_incomplete", None),
        ({"lat": 16.0, "lon": None}, "coordinates_incomplete", None),
        ({"name": None}, "invalid_name", None),
        ({"zones": ["A", "a"]}, "duplicate_zone", "zones"),
        ({"zones": ["A" * 41]}, "invalid_zone", "zones.0"),
        ({"zone_renames": [{"from": "Z", "to": "Y"}]}, "unknown_zone", "zone_renames.0.from"),
        ({"zone_renames": [{"from": "A", "to": "b"}]}, "zone_taken", "zone_renames.0.to"),
        ({"unexpected": 1}, "validation_error", "unexpected"),
    ],
)
async def test_bad_market_corrections_change_nothing(client, auth, markets, body, code, field):
    h = await auth("admin")
    before = await _market(client, h, markets["one"])
    r = await _patch(client, h, markets["one"], body)
    assert r.status_code in (409, 422), r.text
    assert r.json()["code"] == code
    if field is not None:
        assert r.json()["field"] == field
    assert await _market(client, h, markets["one"]) == before


async def test_who_may_correct_a_market(client, auth, markets):
    one, two = markets["one"], markets["two"]
    # The manager's ward holds market one, not market two.
    manager = await auth("manager")
    assert (await _patch(client, manager, one, {"address": "Chợ đầu mối"})).status_code == 200
    assert (await _patch(client, manager, two, {"address": "x"}, version=1)).status_code == 403
    for role in ("volunteer", "viewer", "partner"):
        r = await _patch(client, await auth(role), one, {"address": "x"}, version=1)
        assert r.status_code == 403, role
    # A manager cannot move a market out of their own scope.
    r = await _patch(client, manager, one, {"ward_code": "20285"})
    assert r.status_code == 403 and r.json()["field"] == "ward_code"
    # Said as what it is (the console showed "not allowed here" under a ward it had offered).
    assert r.json()["code"] == "ward_out_of_scope"
    assert (await _market(client, await auth("admin"), one))["ward_code"] == "20242"
    missing = await _patch(client, await auth("admin"), 2**62, {"address": "x"}, version=1)
    assert missing.status_code == 404


# ---------------------------------------------------------------- archive


async def test_an_archived_market_leaves_lists_dashboards_and_rollups(client, auth, markets, conn):
    admin, volunteer = await auth("admin"), await auth("volunteer")
    one, two = markets["one"], markets["two"]
    r = await _register(client, volunteer, one, "A-1")
    assert r.status_code == 201
    stall_id = r.json()["id"]

    async def totals() -> tuple[set[int], int, int, int, int, int]:
        listed = {m["id"] for m in (await client.get("/api/markets", headers=admin)).json()}
        wards = (await client.get("/api/coverage?group_by=ward", headers=admin)).json()
        by_market = (await client.get("/api/coverage?group_by=market", headers=admin)).json()
        geo = (await client.get("/api/coverage/markets.geojson", headers=admin)).json()
        history = (await client.get("/api/coverage/history", headers=admin)).json()
        # The dashboard's "Tải bảng các chợ (Excel)" too (it kept an archived market's row).
        book = (await client.get("/api/exports/markets.xlsx", headers=admin)).content
        sheet = openpyxl.load_workbook(io.BytesIO(book), read_only=True).worksheets[0]
        return (
            listed,
            wards["total"]["markets"],
            len(by_market["groups"]),
            len(geo["features"]),
            history["points"][-1]["markets"],
            sum(1 for _ in sheet.iter_rows(min_row=2)),
        )

    assert await totals() == ({one, two}, 2, 2, 2, 2, 2)
    r = await client.post(
        f"/api/markets/{one}/archive", json={"reason": "Chợ đã giải tỏa"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["archived"] is True and r.json()["archive_reason"] == "Chợ đã giải tỏa"
    assert await totals() == ({two}, 1, 1, 1, 1, 1)
    # Still read by id, marked archived; its stalls and numbers stay.
    assert (await _market(client, admin, one))["archived"] is True
    assert (await client.get(f"/api/stalls/{stall_id}", headers=volunteer)).status_code == 200
    cov = await client.get(f"/api/markets/{one}/coverage", headers=admin)
    assert cov.status_code == 200 and cov.json()["active_stalls"] == 1
    listed = await client.get("/api/markets?include_archived=true", headers=admin)
    assert {m["id"]: m["archived"] for m in listed.json()} == {one: True, two: False}
    # No new stall in an archived market; a retry of a registration made before still replays.
    refused = await _register(client, volunteer, one, "A-2")
    assert refused.status_code == 409 and refused.json()["code"] == "market_archived"
    assert await conn.fetchval("SELECT count(*) FROM stall WHERE market_id = $1", one) == 1
    # Archiving again changes nothing; bringing it back restores every view.
    again = await client.post(f"/api/markets/{one}/archive", json={"reason": "x"}, headers=admin)
    assert again.json()["version"] == r.json()["version"]
    back = await client.post(
        f"/api/markets/{one}/unarchive", json={"reason": "Mở lại"}, headers=admin
    )
    assert back.status_code == 200 and back.json()["archived"] is False
    assert await totals() == ({one, two}, 2, 2, 2, 2, 2)
    assert (await _register(client, volunteer, one, "A-2")).status_code == 201
    actions = await conn.fetch(
        "SELECT action, after->>'reason' AS reason FROM audit_log WHERE entity = 'market' "
        "AND entity_id = $1 ORDER BY id",
        str(one),
    )
    assert [(a["action"], a["reason"]) for a in actions] == [
        ("archive", "Chợ đã giải tỏa"),
        ("unarchive", "Mở lại"),
    ]


async def test_archive_needs_a_reason_and_a_manager(client, auth, markets):
    one = markets["one"]
    r = await client.post(
        f"/api/markets/{one}/archive", json={"reason": " "}, headers=await auth("admin")
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_reason"
    r = await client.post(
        f"/api/markets/{one}/archive", json={"reason": "x"}, headers=await auth("volunteer")
    )
    assert r.status_code == 403


async def test_a_replayed_registration_of_an_archived_market_returns_its_stall(
    client, auth, markets
):
    h = await auth("volunteer")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = stall_body("A-7")
    first = await client.post(f"/api/markets/{markets['one']}/stalls", json=body, headers=h | key)
    assert first.status_code == 201
    await client.post(
        f"/api/markets/{markets['one']}/archive", json={"reason": "x"}, headers=await auth("admin")
    )
    again = await client.post(f"/api/markets/{markets['one']}/stalls", json=body, headers=h | key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]


# ---------------------------------------------------------------- zones


async def _zones_cov(client, headers, market_id: int) -> dict[str, int]:
    cov = (await client.get(f"/api/markets/{market_id}/coverage", headers=headers)).json()
    return {z["zone"]: z["active_stalls"] for z in cov["zones"]}


async def test_zones_are_added_renamed_and_retired(client, auth, markets, conn):
    admin, volunteer = await auth("admin"), await auth("volunteer")
    one = markets["one"]  # zones A, B
    a1 = (await _register(client, volunteer, one, "A-1", zone="A")).json()
    b1 = (await _register(client, volunteer, one, "B-1", zone="B")).json()
    assert await _zones_cov(client, admin, one) == {"A": 1, "B": 1}

    # Rename A to 'Khu Cá', retire B, add 'Nhà lồng' — in one edit.
    r = await _patch(
        client,
        admin,
        one,
        {"zone_renames": [{"from": "A", "to": "Khu Cá"}], "zones": ["Khu Cá", "Nhà lồng"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["zones"], r.json()["retired_zones"]) == (["Khu Cá", "Nhà lồng"], ["B"])
    # The stall moved with its zone (and its version), in the numbers too.
    moved = (await client.get(f"/api/stalls/{a1['id']}", headers=volunteer)).json()
    assert (moved["zone"], moved["version"]) == ("Khu Cá", a1["version"] + 1)
    assert await _zones_cov(client, admin, one) == {"Khu Cá": 1, "Nhà lồng": 0, "B": 1}
    counted = await conn.fetchval(
        "SELECT counted_zone FROM stall_coverage WHERE stall_id = $1", a1["id"]
    )
    assert counted == "Khu Cá"
    assert (await counters.recount(conn, window_days=30)).ok
    # The retired zone keeps its stall but takes no new one, by registration or by a move.
    kept = (await client.get(f"/api/stalls/{b1['id']}", headers=volunteer)).json()
    assert kept["zone"] == "B"
    r = await _register(client, volunteer, one, "B-2", zone="B")
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == (
        "zone_retired",
        "zone",
    )
    assert r.json()["zones"] == ["Khu Cá", "Nhà lồng"]
    r = await client.patch(
        f"/api/stalls/{a1['id']}",
        json={"zone": "B"},
        headers=volunteer | {"If-Match": f'"{moved["version"]}"'},
    )
    assert r.status_code == 422 and r.json()["code"] == "zone_retired"
    # The stall in the retired zone can still be edited, and moved to a current zone.
    r = await client.patch(
        f"/api/stalls/{b1['id']}",
        json={"goods": "Cá khô"},
        headers=volunteer | {"If-Match": f'"{kept["version"]}"'},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/stalls/{b1['id']}",
        json={"zone": "Nhà lồng"},
        headers=volunteer | {"If-Match": f'"{r.json()["version"]}"'},
    )
    assert r.status_code == 200 and r.json()["zone"] == "Nhà lồng"
    assert await _zones_cov(client, admin, one) == {"Khu Cá": 1, "Nhà lồng": 1}
    # A zone the market does not have is refused; listing a retired zone again brings it back.
    r = await _register(client, volunteer, one, "Z-1", zone="Z")
    assert r.status_code == 422 and r.json()["code"] == "unknown_zone"
    r = await _patch(client, admin, one, {"zones": ["Khu Cá", "Nhà lồng", "b"]})
    assert (r.json()["zones"], r.json()["retired_zones"]) == (["Khu Cá", "Nhà lồng", "B"], [])
    assert (await _register(client, volunteer, one, "B-3", zone="B")).status_code == 201
    assert (await counters.recount(conn, window_days=30)).ok


async def test_a_market_without_zones_takes_any_zone(client, auth):
    admin = await auth("admin")
    r = await client.post(
        "/api/markets", json={"name": "Chợ Không Khu", "ward_code": "20242"}, headers=admin
    )
    market_id = r.json()["id"]
    r = await _register(client, admin, market_id, "1", zone="Dãy ngoài")
    assert r.status_code == 201 and r.json()["zone"] == "Dãy ngoài"


# ---------------------------------------------------------------- names


async def test_a_ward_has_one_market_of_a_name(client, conn, auth, markets):
    """A reviewer created a second "Chợ Hàn" in Phường Hải Châu: the lists and the map could not
    tell the two apart. A name another market of the ward has (case and spacing aside) is 409
    market_name_taken, on creation and on an edit of the name or the ward; an archived market's
    name is free again, and another ward may use it."""
    admin = await auth("admin")
    before = await conn.fetchval("SELECT count(*) FROM market")

    async def create(name: str, ward: str):
        return await client.post(
            "/api/markets", json={"name": name, "ward_code": ward}, headers=admin
        )

    r = await create("  chợ thử   MỘT ", "20242")
    assert r.status_code == 409 and r.json()["code"] == "market_name_taken", r.text
    assert r.json()["field"] == "name"
    assert r.headers["content-type"] == "application/problem+json"
    assert await conn.fetchval("SELECT count(*) FROM market") == before
    elsewhere = await create("Chợ Thử Một", "20285")
    assert elsewhere.status_code == 201, elsewhere.text
    # An edit to the name, or to the ward, meets the same rule; the name it has is its own.
    two = await _market(client, admin, markets["two"])
    r = await _patch(client, admin, markets["two"], {"name": "CHỢ THỬ MỘT", "ward_code": "20242"},
                     version=two["version"])  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "market_name_taken"
    one = await _market(client, admin, markets["one"])
    same = await _patch(client, admin, markets["one"], {"name": "Chợ Thử Một", "address": "Số 1"},
                        version=one["version"])  # fmt: skip
    assert same.status_code == 200, same.text
    # Archived, its name is free.
    archived = await client.post(
        f"/api/markets/{elsewhere.json()['id']}/archive", json={"reason": "Nhập nhầm"},
        headers=admin,
    )  # fmt: skip
    assert archived.status_code == 200
    again = await create("Chợ Thử Một", "20285")
    assert again.status_code == 201
    # Brought back from the archive beside the new one: the same rule (a reviewer's two names).
    back = await client.post(
        f"/api/markets/{elsewhere.json()['id']}/unarchive", json={"reason": "Mở lại"}, headers=admin
    )
    assert back.status_code == 409 and back.json()["code"] == "market_name_taken", back.text


async def test_two_markets_of_one_name_created_at_once_make_one(live):
    """Two administrators adding the same market at the same moment: the ward's name lock lets
    one through and answers the others 409."""
    import asyncio

    h = await live.token("admin")
    name = f"Chợ Cùng Lúc {uuid.uuid4().hex[:4]}"
    async with live.client() as c:
        results = await asyncio.gather(
            *(
                c.post("/api/markets", json={"name": name, "ward_code": "20242"}, headers=h)
                for _ in range(4)
            )
        )
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409], [r.text for r in results]
    async with live.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM market WHERE name = $1", name) == 1
