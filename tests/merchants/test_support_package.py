"""The digital-transformation support package per stall (users_want #21): recorded item by item,
safe to send again, in the stall's history, counted per market; refused input changes nothing."""

from __future__ import annotations

import asyncpg
import pytest

from tests.merchants.test_confirm_by import _register


async def test_items_are_recorded_merged_and_taken_back(client, auth, markets, conn):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GH-1")
    url = f"/api/stalls/{stall['id']}/support"
    assert (await client.get(url, headers=h)).json() == {"stall_id": stall["id"], "items": []}
    r = await client.post(
        url, json={"items": {"e_invoice": "delivered", "sales_app": "offered"}}, headers=h
    )
    assert r.status_code == 200, r.text
    # In the package's order, whatever order they came in; with who recorded them.
    assert [(i["item"], i["state"]) for i in r.json()["items"]] == [
        ("sales_app", "offered"),
        ("e_invoice", "delivered"),
    ]
    assert all(i["updated_by"] for i in r.json()["items"])
    # Items not named stay; null takes one back.
    r = await client.post(url, json={"items": {"sales_app": None, "domain": "declined"}}, headers=h)
    assert [(i["item"], i["state"]) for i in r.json()["items"]] == [
        ("e_invoice", "delivered"),
        ("domain", "declined"),
    ]
    entries = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'stall' AND entity_id = $1 AND action = 'support'",
        str(stall["id"]),
    )
    # The same body again (a retry over a bad connection) changes nothing and writes nothing.
    again = await client.post(
        url, json={"items": {"sales_app": None, "domain": "declined"}}, headers=h
    )
    assert again.json() == r.json()
    assert (
        entries
        == 2
        == await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE entity = 'stall' AND entity_id = $1 AND action = 'support'",
            str(stall["id"]),
        )
    )
    history = (await client.get(f"/api/stalls/{stall['id']}/history", headers=h)).json()
    support = [e for e in history if e["action"] == "support"]
    # Each item as it was and as it became, in the package's order.
    assert [[(c["field"], c["before"], c["after"]) for c in e["changes"]] for e in support] == [
        [("support_sales_app", "offered", None), ("support_domain", None, "declined")],
        [("support_sales_app", None, "offered"), ("support_e_invoice", None, "delivered")],
    ]


async def test_a_market_counts_its_active_stalls(client, auth, markets):
    h = await auth("volunteer")
    a = await _register(client, h, markets["one"], "GH-2")
    b = await _register(client, h, markets["one"], "GH-3")
    await _register(client, h, markets["one"], "GH-4")
    await client.post(
        f"/api/stalls/{a['id']}/support",
        json={"items": {"e_invoice": "delivered", "domain": "offered"}},
        headers=h,
    )
    await client.post(
        f"/api/stalls/{b['id']}/support", json={"items": {"e_invoice": "declined"}}, headers=h
    )
    for who in ("volunteer", "manager", "viewer", "admin"):
        r = await client.get(f"/api/markets/{markets['one']}/support", headers=await auth(who))
        assert r.status_code == 200, who
        got = r.json()
        assert (got["active_stalls"], got["consulted"]) == (3, 2)
        items = {i["item"]: i for i in got["items"]}
        assert list(items) == [
            "sales_app",
            "digital_signature",
            "e_invoice",
            "domain",
            "payment_account",
            "ecommerce",
        ]
        assert (items["e_invoice"]["delivered"], items["e_invoice"]["declined"]) == (1, 1)
        assert items["domain"]["offered"] == 1
    # A stall that closed no longer counts.
    r = await client.patch(
        f"/api/stalls/{b['id']}",
        json={"status": "closed"},
        headers=h | {"If-Match": f'"{b["version"]}"'},
    )
    assert r.status_code == 200, r.text
    got = (await client.get(f"/api/markets/{markets['one']}/support", headers=h)).json()
    assert (got["active_stalls"], got["consulted"]) == (2, 1)


async def test_out_of_scope_reads_like_missing(client, auth, markets):
    admin = await auth("admin")
    stall = await _register(client, admin, markets["two"], "GH-5")
    volunteer = await auth("volunteer")  # market one only
    for method, body in (("GET", None), ("POST", {"items": {"domain": "offered"}})):
        outside = await client.request(
            method, f"/api/stalls/{stall['id']}/support", json=body, headers=volunteer
        )
        missing = await client.request(
            method, "/api/stalls/987654/support", json=body, headers=volunteer
        )
        assert outside.status_code in (403, 404) and missing.status_code == 404, (
            method,
            outside.text,
        )
    r = await client.get(f"/api/markets/{markets['two']}/support", headers=volunteer)
    assert r.status_code == 404 and r.json()["code"] == "market_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"items": {}},
        {"items": {"vpn": "offered"}},
        {"items": {"domain": "maybe"}},
        {"items": {"domain": ["offered"]}},
        {"items": ["domain"]},
        {},
        {"items": {"domain": "offered"}, "extra": 1},
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(client, auth, markets, conn, body):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GH-6")
    r = await client.post(f"/api/stalls/{stall['id']}/support", json=body, headers=h)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        await conn.fetchval("SELECT count(*) FROM stall_support WHERE stall_id = $1", stall["id"])
        == 0
    )


async def test_the_database_keeps_only_known_items_and_states(client, auth, markets, conn):
    stall = await _register(client, await auth("volunteer"), markets["one"], "GH-7")
    for item, state in (("vpn", "offered"), ("domain", "maybe")):
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO stall_support (stall_id, item, state) VALUES ($1, $2, $3)",
                    stall["id"], item, state,
                )  # fmt: skip


async def test_the_exports_carry_the_package(client, auth, markets):
    import csv
    import io

    import openpyxl

    h = await auth("manager")
    stall = await _register(client, h, markets["one"], "GH-8")
    body = {"items": {"domain": "offered", "e_invoice": "delivered"}}
    assert (
        await client.post(f"/api/stalls/{stall['id']}/support", json=body, headers=h)
    ).status_code == 200
    r = await client.get(f"/api/exports/stalls.csv?market_id={markets['one']}", headers=h)
    rows = {
        row["stall_code"]: row for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
    }
    assert rows["GH-8"]["support"] == "e_invoice:delivered domain:offered"  # the package's order
    header = r.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[header.index("confirm_by") + 1] == "support"  # added at the end: nothing moved
    r = await client.get(f"/api/exports/stalls.xlsx?market_id={markets['one']}", headers=h)
    table = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.values)
    column, code = table[0].index("Gói hỗ trợ chuyển đổi số"), table[0].index("Mã sạp")
    shown = next(row[column] for row in table[1:] if row[code] == "GH-8")
    assert shown == "Hóa đơn điện tử: Đã nhận; Tên miền .biz.vn: Đã giới thiệu"


async def test_the_persons_export_has_the_package(client, auth, markets):
    from tests.merchants.test_privacy import pdf_text

    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GH-9")
    body = {"items": {"digital_signature": "declined", "sales_app": "delivered"}}
    await client.post(f"/api/stalls/{stall['id']}/support", json=body, headers=h)
    manager = await auth("manager")
    holder = stall["holder"]["id"]
    r = await client.post(f"/api/stallholders/{holder}/export", headers=manager)
    assert r.status_code == 200, r.text
    got = {s["stall_code"]: s["support"] for s in r.json()["stalls"]}
    assert got["GH-9"] == ["sales_app:delivered", "digital_signature:declined"]
    r = await client.post(f"/api/stallholders/{holder}/export?format=pdf", headers=manager)
    text = " ".join(pdf_text(r.content).split())
    assert "Gói hỗ trợ chuyển đổi số" in text
    assert "Phần mềm bán hàng Đã nhận" in text and "Chữ ký số Không cần" in text


async def test_an_area_counts_the_markets_in_the_callers_scope(client, auth, markets):
    admin = await auth("admin")
    one = await _register(client, admin, markets["one"], "GH-10")
    two = await _register(client, admin, markets["two"], "GH-11")
    await _register(client, admin, markets["two"], "GH-12")
    await client.post(
        f"/api/stalls/{one['id']}/support", json={"items": {"domain": "delivered"}}, headers=admin
    )
    await client.post(
        f"/api/stalls/{two['id']}/support",
        json={"items": {"domain": "offered", "e_invoice": "declined"}},
        headers=admin,
    )
    city = (
        await client.get("/api/support-package", params={"province": "48"}, headers=admin)
    ).json()
    assert (city["active_stalls"], city["consulted"]) == (3, 2)
    domain = next(i for i in city["items"] if i["item"] == "domain")
    assert (domain["offered"], domain["delivered"]) == (1, 1)
    # A ward: its markets only; the volunteer: their market only, whatever the area asked.
    ward = (
        await client.get("/api/support-package", params={"ward": "20285"}, headers=admin)
    ).json()
    assert (ward["active_stalls"], ward["consulted"]) == (2, 1)
    mine = (await client.get("/api/support-package", headers=await auth("volunteer"))).json()
    assert (mine["active_stalls"], mine["consulted"]) == (1, 1)
    # The same numbers as the market's own count.
    market = (await client.get(f"/api/markets/{markets['two']}/support", headers=admin)).json()
    assert (market["active_stalls"], market["consulted"]) == (
        ward["active_stalls"],
        ward["consulted"],
    )
    assert (
        await client.get("/api/support-package", headers=await auth("partner"))
    ).status_code == 403


async def test_a_change_queued_offline_never_undoes_a_newer_one(client, auth, markets, conn):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GH-13")
    url = f"/api/stalls/{stall['id']}/support"
    # Tablet A saw nothing recorded and queued "offered"; tablet B meanwhile recorded "delivered".
    await client.post(
        url, json={"items": {"e_invoice": "delivered"}, "was": {"e_invoice": None}}, headers=h
    )
    late = await client.post(
        url,
        json={
            "items": {"e_invoice": "offered", "domain": "offered"},
            "was": {"e_invoice": None, "domain": None},
        },
        headers=h,
    )
    assert late.status_code == 409 and late.json()["code"] == "support_changed"
    assert late.json()["items"] == ["e_invoice"]
    assert (
        await conn.fetchval("SELECT count(*) FROM stall_support WHERE stall_id = $1", stall["id"])
        == 1
    )
    # A resend of what is already there (a lost answer) is not a conflict.
    again = await client.post(
        url, json={"items": {"e_invoice": "delivered"}, "was": {"e_invoice": None}}, headers=h
    )
    assert again.status_code == 200
    # Decided on what is there now: fine.
    now = await client.post(
        url, json={"items": {"e_invoice": None}, "was": {"e_invoice": "delivered"}}, headers=h
    )
    assert now.status_code == 200 and now.json()["items"] == []


async def test_a_save_counts_as_field_activity(client, auth, markets):
    """The teams' activity counts support records (one per save that changed something)."""
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "GH-14")
    url = f"/api/stalls/{stall['id']}/support"
    await client.post(url, json={"items": {"domain": "offered"}}, headers=h)
    await client.post(url, json={"items": {"domain": "offered"}}, headers=h)  # nothing changes
    await client.post(url, json={"items": {"domain": "delivered"}}, headers=h)
    r = await client.get("/api/activity", params={"group_by": "user"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["total"]["support"] == 2
