"""Per-partner numbers and the partner's view of its accounts, within each caller's scope."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.state import state_of
from partners.schemes import own
from tests.conftest import stall_body

SECRET = "stats-signing-secret"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def register(
    client, headers, market_id: int, code: str, accounts: list[dict], purposes=None
) -> dict:
    body = stall_body(code, payment_accounts=accounts, holder={"full_name": "Huỳnh Văn Sơn"})
    if purposes:
        body["consent"]["purposes"] += purposes
    r = await client.post(f"/api/markets/{market_id}/stalls", json=body, headers=headers | key())
    assert r.status_code == 201, r.text
    return r.json()


async def pay(client, account_number: str, days_ago: int) -> None:
    when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    body = json.dumps(
        {
            "id": f"pay-{uuid.uuid4().hex}",
            "type": "payment.received",
            "occurred_at": when,
            "data": {"bin": "970422", "account_number": account_number, "amount": 20000},
        }
    ).encode()
    header = own.sign(body, signing_secret=SECRET, timestamp=int(time.time()))
    r = await client.post("/api/partners/MB/events", content=body, headers={"X-Signature": header})
    assert r.status_code == 202, r.text


def mb(number: str) -> dict:
    return {"bin": "970422", "account_number": number, "partner_code": "MB"}


@pytest.fixture
async def world(client, auth, markets) -> dict:
    """Partner MB's world.

    Market one: 3 MB accounts (paid 2 days ago, paid 40 days ago, suspended) and a VCB one.
    Market two: 1 MB account, suspended, paid yesterday. Plus a stall opted in to sharing with MB.
    """
    admin = await auth("admin")
    assert (
        await client.put(
            "/api/partners/MB/credentials", json={"signing_secret": SECRET}, headers=admin
        )
    ).status_code == 200
    s1 = await register(client, admin, markets["one"], "S-1", [mb("7100001")])
    s2 = await register(client, admin, markets["one"], "S-2", [mb("7100002")])
    s3 = await register(
        client,
        admin,
        markets["one"],
        "S-3",
        [mb("7100003"), {"bin": "970436", "account_number": "7100004", "partner_code": "VCB"}],
    )
    s4 = await register(client, admin, markets["two"], "S-4", [mb("7100005")])
    await client.post(
        f"/api/stalls/{s3['id']}/onboardings",
        headers=admin,
        json={
            "payment_account_id": s3["payment_accounts"][0]["id"],
            "partner_code": "MB",
            "channel": "field_visit",
            "status": "suspended",
        },
    )
    await client.post(
        f"/api/stalls/{s4['id']}/onboardings",
        headers=admin,
        json={
            "payment_account_id": s4["payment_accounts"][0]["id"],
            "partner_code": "MB",
            "channel": "field_visit",
            "status": "suspended",
        },
    )
    await pay(client, "7100001", days_ago=2)
    await pay(client, "7100002", days_ago=40)
    await pay(client, "7100005", days_ago=1)
    # A stall without MB onboarding whose holder opted in to sharing with MB.
    s5 = await register(
        client,
        admin,
        markets["one"],
        "S-5",
        [{"bin": "970415", "account_number": "7100006"}],
        purposes=["share_partner:MB"],
    )
    return {"s1": s1, "s2": s2, "s3": s3, "s4": s4, "s5": s5}


def counts(block: dict) -> tuple:
    return tuple(
        block[k] for k in ("onboarded", "pending", "active", "suspended", "removed", "receiving")
    )


async def test_admin_sees_every_market(client, auth, markets, world):
    r = await client.get("/api/partners/MB/stats", headers=await auth("admin"))
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["window_days"] == 30
    by_market = {m["market_id"]: counts(m) for m in stats["markets"]}
    assert by_market == {
        markets["one"]: (3, 0, 2, 1, 0, 1),
        markets["two"]: (1, 0, 0, 1, 0, 1),
    }
    assert counts(stats["totals"]) == (4, 0, 2, 2, 0, 2)
    vcb = (await client.get("/api/partners/vcb/stats", headers=await auth("admin"))).json()
    assert counts(vcb["totals"]) == (1, 0, 1, 0, 0, 0)


async def test_an_account_no_longer_in_use_is_not_counted_as_active(client, auth, markets, world):
    """A closed stall's account still said "Đang hoạt động" (and "receiving"): the status columns
    count accounts a stall can be paid on today; the others are "not in use"."""
    admin = await auth("admin")
    s1 = world["s1"]
    r = await client.patch(
        f"/api/stalls/{s1['id']}",
        json={"status": "closed"},
        headers=admin | {"If-Match": f'"{s1["version"]}"'},
    )
    assert r.status_code == 200, r.text
    stats = (await client.get("/api/partners/MB/stats", headers=admin)).json()
    one = next(m for m in stats["markets"] if m["market_id"] == markets["one"])
    # S-1 was active and paid 2 days ago: it leaves onboarded, active and receiving.
    assert counts(one) == (2, 0, 1, 1, 0, 0)
    assert one["not_in_use"] == 1
    assert stats["totals"]["not_in_use"] == 1
    assert counts(stats["totals"]) == (3, 0, 1, 2, 0, 1)


async def test_market_filter_and_managers_scope(client, auth, markets, world):
    admin = await auth("admin")
    one = (
        await client.get(f"/api/partners/MB/stats?market_id={markets['two']}", headers=admin)
    ).json()
    assert [m["market_id"] for m in one["markets"]] == [markets["two"]]
    manager = await auth("manager")  # ward 20242 = market one
    mine = (await client.get("/api/partners/MB/stats", headers=manager)).json()
    assert [m["market_id"] for m in mine["markets"]] == [markets["one"]]
    assert counts(mine["totals"]) == (3, 0, 2, 1, 0, 1)
    outside = await client.get(
        f"/api/partners/MB/stats?market_id={markets['two']}", headers=manager
    )
    assert outside.status_code == 404
    viewer = (await client.get("/api/partners/MB/stats", headers=await auth("viewer"))).json()
    assert counts(viewer["totals"]) == (4, 0, 2, 2, 0, 2)


async def test_a_partner_user_sees_only_its_own_numbers(client, auth, world):
    partner = await auth("partner")  # MB
    own_stats = await client.get("/api/partners/mb/stats", headers=partner)
    assert own_stats.status_code == 200 and own_stats.json()["totals"]["onboarded"] == 4
    for code in ("VCB", "NOPE"):
        r = await client.get(f"/api/partners/{code}/stats", headers=partner)
        assert r.status_code == 404 and r.json()["code"] == "partner_not_found"


async def test_the_window_is_the_setting(client, auth, app, world):
    state_of(app).settings.transacting_window_days = 60
    try:
        stats = (await client.get("/api/partners/MB/stats", headers=await auth("admin"))).json()
    finally:
        state_of(app).settings.transacting_window_days = 30
    assert stats["window_days"] == 60 and stats["totals"]["receiving"] == 3


async def test_partner_accounts_lists_onboarded_and_opted_in_accounts(client, auth, world):
    partner = await auth("partner")
    r = await client.get("/api/partners/MB/accounts", headers=partner)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["account_number"], i["relation"], i["onboarding_status"]) for i in items] == [
        ("7100001", "onboarded", "active"),
        ("7100002", "onboarded", "active"),
        ("7100003", "onboarded", "suspended"),
        ("7100005", "onboarded", "suspended"),
        ("7100006", "opted_in", None),
    ]
    assert "7100004" not in r.text  # VCB's account on the same stall
    page = (await client.get("/api/partners/MB/accounts?limit=2", headers=partner)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await client.get(
            f"/api/partners/MB/accounts?limit=10&cursor={page['next_cursor']}", headers=partner
        )
    ).json()
    assert [i["account_number"] for i in page["items"] + rest["items"]] == [
        i["account_number"] for i in items
    ]
    assert rest["next_cursor"] is None


async def test_withdrawn_sharing_consent_hides_the_opted_in_account(client, conn, auth, world):
    await conn.execute(
        "UPDATE consent SET withdrawn_at = clock_timestamp() WHERE purpose = 'share_partner:MB' "
        "AND stallholder_id = (SELECT holder_id FROM stall WHERE id = $1)",
        world["s5"]["id"],
    )
    r = await client.get("/api/partners/MB/accounts", headers=await auth("partner"))
    assert "7100006" not in r.text


async def test_who_may_list_a_partners_accounts(client, auth, markets, world):
    partner = await auth("partner")
    assert (await client.get("/api/partners/VCB/accounts", headers=partner)).status_code == 404
    assert (
        await client.get("/api/partners/MB/accounts", headers=await auth("viewer"))
    ).status_code == 403
    volunteer2 = (
        await client.get("/api/partners/MB/accounts", headers=await auth("volunteer2"))
    ).json()
    assert [i["account_number"] for i in volunteer2["items"]] == ["7100005"]
    admin = (await client.get("/api/partners/MB/accounts", headers=await auth("admin"))).json()
    assert len(admin["items"]) == 5
    bad = await client.get("/api/partners/MB/accounts?cursor=-1", headers=await auth("admin"))
    assert bad.status_code == 422


async def test_partner_api_keys_see_the_same_as_partner_users(client, conn, auth, world):
    admin = await auth("admin")
    partner_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'partner'")
    created = await client.post(
        f"/api/users/{partner_id}/api-keys", json={"label": "bank"}, headers=admin
    )
    assert created.status_code == 201, created.text
    api_key = created.json()["key"]
    r = await client.get("/api/partners/MB/accounts", headers={"X-API-Key": api_key})
    assert r.status_code == 200 and len(r.json()["items"]) == 5
    assert (
        await client.get("/api/partners/VCB/stats", headers={"X-API-Key": api_key})
    ).status_code == 404


@pytest.mark.parametrize("cursor", ["²", "0", "99999999999999999999", "1e3"])
async def test_a_foreign_cursor_is_422(client, auth, cursor):
    r = await client.get(
        "/api/partners/MB/accounts", params={"cursor": cursor}, headers=await auth("admin")
    )
    assert r.status_code == 422 and r.json()["field"] == "cursor"


def _sheet(content: bytes):
    import io

    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


async def test_stats_as_an_excel_workbook_with_the_same_scope(client, auth, markets, world):
    r = await client.get("/api/partners/mb/stats.xlsx", headers=await auth("admin"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    ws = _sheet(r.content)
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == (
        "Mã số chợ", "Chợ", "Tài khoản đang dùng (trừ đã gỡ)", "Chờ kích hoạt", "Đang hoạt động",
        "Tạm ngưng", "Đã gỡ", "Không còn dùng (sạp nghỉ, đổi hoặc xoá tài khoản)",
        "Có nhận tiền trong 30 ngày", "Sạp chưa có cách biết tiền về", "Sạp có loa báo tiền",
    )  # fmt: skip
    assert rows[1:] == [  # markets by name, as the JSON lists them
        (markets["two"], "Chợ Thử Hai", 1, 0, 0, 1, 0, 0, 1, 0, 0),
        (markets["one"], "Chợ Thử Một", 3, 0, 2, 1, 0, 0, 1, 0, 0),
        (None, "Tổng cộng", 4, 0, 2, 2, 0, 0, 2, 0, 0),
    ]
    assert ws.freeze_panes == "A2" and ws.title == "Đối tác MB"
    assert all(isinstance(v, int) for v in rows[2][2:])  # numbers, not text
    # A manager sees their markets only; a market outside it is 404 as in the JSON.
    manager = await auth("manager")
    mine = list(_sheet((await client.get("/api/partners/MB/stats.xlsx", headers=manager)).content)
                .iter_rows(values_only=True))  # fmt: skip
    assert [r[0] for r in mine[1:]] == [markets["one"], None]
    outside = await client.get(
        f"/api/partners/MB/stats.xlsx?market_id={markets['two']}", headers=manager
    )
    assert outside.status_code == 404
    other = await client.get("/api/partners/VCB/stats.xlsx", headers=await auth("partner"))
    assert other.status_code == 404 and other.json()["code"] == "partner_not_found"


async def test_stalls_by_how_their_holder_sees_money_arrive(client, auth, markets, world):
    """Where a partner could hand out sound boxes: its stalls (not accounts) whose holder checks
    nothing, and those with a sound box; the partner itself sees the same (its reach holds all)."""
    admin = await auth("admin")
    for stall, answer in ((world["s1"], []), (world["s2"], ["sound_box", "sms"]),
                          (world["s3"], []), (world["s5"], [])):  # fmt: skip
        r = await client.patch(f"/api/stalls/{stall['id']}", json={"confirm_by": answer},
                               headers=admin | {"If-Match": f'"{stall["version"]}"'})  # fmt: skip
        assert r.status_code == 200, r.text
    stats = (await client.get("/api/partners/MB/stats", headers=admin)).json()
    by_market = {
        m["market_id"]: (m["stalls_no_way"], m["stalls_sound_box"]) for m in stats["markets"]
    }
    # s5 has no MB onboarding (its holder only opted in): not counted; s3's MB account is suspended
    # but not removed: counted.
    assert by_market == {markets["one"]: (2, 1), markets["two"]: (0, 0)}
    assert (stats["totals"]["stalls_no_way"], stats["totals"]["stalls_sound_box"]) == (2, 1)
    mine = (await client.get("/api/partners/MB/stats", headers=await auth("partner"))).json()
    # The same rows as its other numbers (the reach rule is the query's WHERE, test_partner_scope).
    assert (mine["totals"]["stalls_no_way"], mine["totals"]["stalls_sound_box"]) == (2, 1)


async def test_an_archived_market_leaves_the_partners_numbers(client, auth, markets, world):
    """The dashboard's partner table dropped an archived market's stalls while the partner's own
    page and workbook kept them: both leave it out now."""
    admin = await auth("admin")
    r = await client.post(
        f"/api/markets/{markets['two']}/archive", json={"reason": "Chợ đã giải tỏa"}, headers=admin
    )
    assert r.status_code == 200, r.text
    stats = (await client.get("/api/partners/MB/stats", headers=admin)).json()
    assert {m["market_id"] for m in stats["markets"]} == {markets["one"]}
    assert counts(stats["totals"]) == (3, 0, 2, 1, 0, 1)
    # The account list still has its accounts, saying their market is archived.
    items = (await client.get("/api/partners/MB/accounts", headers=admin)).json()["items"]
    archived = {a["stall_code"] for a in items if a["market_archived"]}
    assert archived == {"S-4"}
    assert all(not a["market_archived"] for a in items if a["market_id"] == markets["one"])
