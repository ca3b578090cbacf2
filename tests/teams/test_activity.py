"""Field activity through the API: every kind of action, attributed to the user and to their team
at that moment, per grouping and role, and its CSV and Excel exports read back."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest

from qr import payload
from teams import activity as activity_service
from tests.conftest import stall_body
from tests.teams.test_teams import key, new_user, user_id

KINDS = (
    "registrations",
    "edits",
    "accounts",
    "consents",
    "prints",
    "deliveries",
    "verifications",
    "return_visits",
    "codes_fixed",
    "visits",
    "support",
    "assignments",
)


def period() -> str:
    """Yesterday to tomorrow (local): today's actions, wherever the clock is."""
    today = activity_service.today()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


async def rows(client, headers, group_by: str) -> dict:
    r = await client.get(f"/api/activity?{period()}&group_by={group_by}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def counts(row: dict) -> dict[str, int]:
    return {k: row[k] for k in KINDS if row[k]}


async def register(client, headers, market_id: int, code: str) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, confirm_duplicate=True),
        headers=headers | key(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def make_team(client, admin, name: str, members: list[int], market_ids: list[int], **kw):
    r = await client.post(
        "/api/teams",
        json={"name": name, "ward_code": "20242", "member_ids": members, "market_ids": market_ids}
        | kw,
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_every_field_action_counts_once_for_its_kind(client, conn, auth, markets):
    admin = await auth("admin")
    mai, mai_h = await new_user(conn, "mai")
    team = await make_team(client, admin, "Tổ Mai", [mai], [markets["one"]], leader_id=mai)
    stall = await register(client, mai_h, markets["one"], "K-1")
    sid = stall["id"]
    steps = [
        ("PATCH", f"/api/stalls/{sid}", {"goods": "Cá"}, {"If-Match": '"1"'}, 200),
        ("POST", f"/api/stalls/{sid}/payment-accounts", {"bin": "970436", "account_number": "11223344"}, {}, 201),
        ("POST", f"/api/stallholders/{stall['holder']['id']}/consents",
         {"notice_version": "2026-01", "purposes": ["share_partner:VCB"]}, {}, 200),
        ("POST", f"/api/stalls/{sid}/sign-printed", None, {}, 200),
        ("POST", f"/api/stalls/{sid}/sign-delivered", None, {}, 200),
        # A wrong code flags a return visit; the right one resolves it.
        ("POST", f"/api/stalls/{sid}/verify",
         {"payload": payload.encode(bin="970436", account="000111222")}, {}, 422),
        ("POST", f"/api/stalls/{sid}/verify",
         {"payload": payload.encode(bin="970422", account="0123456789")}, {}, 200),
        # A visit recorded (here: the stallholder shown how to use the code).
        ("POST", f"/api/stalls/{sid}/visits", {"outcome": "trained"}, key(), 201),
        # The support package recorded (users_want #21).
        ("POST", f"/api/stalls/{sid}/support", {"items": {"e_invoice": "offered"}}, {}, 200),
        # The team leader gives the stall's return visit to someone (herself), then takes it
        # back: the assignment counts, taking it back does not.
        ("PUT", f"/api/stalls/{sid}/assignment", {"user_id": mai}, {}, 200),
        ("PUT", f"/api/stalls/{sid}/assignment", {"user_id": None}, {}, 200),
    ]  # fmt: skip
    for method, url, body, extra, status in steps:
        r = await client.request(method, url, json=body, headers=mai_h | extra)
        assert r.status_code == status, (url, r.text)

    data = await rows(client, admin, "user")
    [row] = [r for r in data["rows"] if r["key"] == str(mai)]
    assert row["label"] == "mai"
    # With a display name, that name first and the user name that tells people apart.
    await conn.execute("UPDATE app_user SET display_name = 'Mai Thị Thử' WHERE id = $1", mai)
    named = await rows(client, admin, "user")
    assert [r["label"] for r in named["rows"] if r["key"] == str(mai)] == ["Mai Thị Thử (mai)"]
    assert counts(row) == {
        "registrations": 1,
        "edits": 1,
        "accounts": 1,
        "consents": 1,
        "prints": 1,
        "deliveries": 1,
        "verifications": 2,
        # One wrong code found (the failed check), and fixed by the next good one.
        "return_visits": 1,
        "codes_fixed": 1,
        "visits": 1,
        "support": 1,
        "assignments": 1,
    }
    # The actions: the wrong code found and fixed are the two checks, counted once.
    assert row["total"] == 11
    by_team = {r["key"]: r for r in (await rows(client, admin, "team"))["rows"]}
    assert by_team[str(team)]["label"] == "Tổ Mai" and by_team[str(team)]["total"] == 11
    # The admin's own actions of the fixtures (none here) would sit in the row without a team.
    assert set(by_team) <= {str(team), None}


async def test_actions_stay_with_the_team_of_their_moment(client, conn, auth, markets):
    admin = await auth("admin")
    an, an_h = await new_user(conn, "an")
    first = await make_team(client, admin, "Tổ Một", [an], [markets["one"]])
    second = await make_team(client, admin, "Tổ Hai", [], [markets["one"]])
    await register(client, an_h, markets["one"], "H-1")
    await register(client, an_h, markets["one"], "H-2")
    # An moves from the first team to the second, and works on.
    r = await client.patch(f"/api/teams/{first}", json={"member_ids": []}, headers=admin)
    assert r.status_code == 200
    r = await client.patch(f"/api/teams/{second}", json={"member_ids": [an]}, headers=admin)
    assert r.status_code == 200
    later = await register(client, an_h, markets["one"], "H-3")
    r = await client.post(f"/api/stalls/{later['id']}/sign-delivered", headers=an_h)
    assert r.status_code == 200

    by_team = {r["key"]: r for r in (await rows(client, admin, "team"))["rows"]}
    assert counts(by_team[str(first)]) == {"registrations": 2}
    assert counts(by_team[str(second)]) == {"registrations": 1, "deliveries": 1}
    by_user = {r["key"]: r for r in (await rows(client, admin, "user"))["rows"]}
    assert counts(by_user[str(an)]) == {"registrations": 3, "deliveries": 1}
    by_market = {r["key"]: r for r in (await rows(client, admin, "market"))["rows"]}
    assert by_market[str(markets["one"])]["label"] == "Chợ Thử Một"
    assert by_market[str(markets["one"])]["registrations"] == 3
    by_ward = {r["key"]: r for r in (await rows(client, admin, "ward"))["rows"]}
    assert by_ward["20242"]["label"] == "Phường Hải Châu"
    assert by_ward["20242"]["registrations"] == 3


async def test_the_same_sign_delivered_twice_counts_once(client, conn, auth, markets):
    """A second tap on "Đã giao biển" (or a retry from another device) counted a second delivery
    in the activity and the audit log; only a sign printed since is delivered anew."""
    admin = await auth("admin")
    giao, giao_h = await new_user(conn, "giao")
    await make_team(client, admin, "Tổ Giao", [giao], [markets["one"]], leader_id=giao)
    sid = (await register(client, giao_h, markets["one"], "G-1"))["id"]
    url = f"/api/stalls/{sid}"
    assert (await client.post(f"{url}/sign-printed", headers=giao_h)).status_code == 200
    first = await client.post(f"{url}/sign-delivered", headers=giao_h)
    again = await client.post(f"{url}/sign-delivered", headers=giao_h)
    assert first.status_code == again.status_code == 200
    assert again.json()["sign_delivered_at"] == first.json()["sign_delivered_at"]
    by_user = {r["key"]: r for r in (await rows(client, admin, "user"))["rows"]}
    assert counts(by_user[str(giao)])["deliveries"] == 1
    # Printed again (a new sign): its delivery is a new one.
    assert (await client.post(f"{url}/sign-printed", headers=giao_h)).status_code == 200
    third = await client.post(f"{url}/sign-delivered", headers=giao_h)
    assert third.json()["sign_delivered_at"] > first.json()["sign_delivered_at"]
    by_user = {r["key"]: r for r in (await rows(client, admin, "user"))["rows"]}
    assert counts(by_user[str(giao)])["deliveries"] == 2
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'sign_delivered' AND entity_id = $1",
        str(sid),
    )
    assert audited == 2


async def test_scope_and_names_per_role(client, conn, auth, markets):
    admin = await auth("admin")
    leader, leader_h = await new_user(conn, "truong")
    member, member_h = await new_user(conn, "thanhvien")
    outsider = await user_id(conn, "volunteer2")  # works in market two, no team
    team = await make_team(
        client, admin, "Tổ Chung", [leader, member], [markets["one"]], leader_id=leader
    )
    await register(client, leader_h, markets["one"], "S-1")
    await register(client, member_h, markets["one"], "S-2")
    await register(client, member_h, markets["one"], "S-3")
    await register(client, await auth("volunteer2"), markets["two"], "S-4")

    # The manager of ward 20242 sees market one's work, with names; not market two's.
    data = await rows(client, await auth("manager"), "user")
    assert not data["names_hidden"]
    seen = {r["key"]: (r["label"], r["registrations"]) for r in data["rows"]}
    assert seen == {str(leader): ("truong", 1), str(member): ("thanhvien", 2)}

    # A viewer sees the same numbers city-wide, without people's names.
    data = await rows(client, await auth("viewer"), "user")
    assert data["names_hidden"]
    seen = {r["key"]: (r["label"], r["registrations"]) for r in data["rows"]}
    assert seen == {
        str(leader): (None, 1),
        str(member): (None, 2),
        str(outsider): (None, 1),
    }
    by_team = {
        r["key"]: r["label"] for r in (await rows(client, await auth("viewer"), "team"))["rows"]
    }
    assert by_team == {str(team): "Tổ Chung", None: None}

    # A member sees themself only; the leader sees the team.
    mine = (await rows(client, member_h, "user"))["rows"]
    assert [(r["key"], r["registrations"]) for r in mine] == [(str(member), 2)]
    led = (await rows(client, leader_h, "user"))["rows"]
    assert sorted((r["key"], r["registrations"]) for r in led) == sorted(
        [(str(leader), 1), (str(member), 2)]
    )
    assert (await rows(client, leader_h, "team"))["total"]["registrations"] == 3

    r = await client.get("/api/activity", headers=await auth("partner"))
    assert r.status_code == 403


async def test_the_day_grouping_covers_every_day_of_the_period(client, conn, auth, markets):
    tam, tam_h = await new_user(conn, "tam")
    await make_team(client, await auth("admin"), "Tổ Tâm", [tam], [markets["one"]])
    await register(client, tam_h, markets["one"], "D-1")
    today = activity_service.today()
    start = today - timedelta(days=9)
    r = await client.get(f"/api/activity?from={start}&to={today}&group_by=day", headers=tam_h)
    data = r.json()
    assert (data["from"], data["to"], data["group_by"]) == (str(start), str(today), "day")
    assert [row["key"] for row in data["rows"]] == [
        str(start + timedelta(days=n)) for n in range(10)
    ]
    assert data["rows"][-1]["registrations"] == 1
    assert sum(row["total"] for row in data["rows"][:-1]) == 0
    # Default period: this week, Monday to today.
    data = (await client.get("/api/activity", headers=tam_h)).json()
    assert data["to"] == str(today) and data["from"] == str(today - timedelta(today.weekday()))


async def test_exports_read_back(client, conn, auth, markets):
    admin = await auth("admin")
    ha, ha_h = await new_user(conn, "ha")
    await make_team(client, admin, "-Tổ Hà", [ha], [markets["one"]])  # a leading minus
    stall = await register(client, ha_h, markets["one"], "E-1")
    await client.post(f"/api/stalls/{stall['id']}/sign-delivered", headers=ha_h)

    r = await client.get(f"/api/activity.csv?{period()}&group_by=team", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    [row] = [t for t in table if t["label"].endswith("Tổ Hà")]
    assert row["label"] == "'-Tổ Hà"  # never a formula in a spreadsheet
    assert (row["registrations"], row["deliveries"], row["total"]) == ("1", "1", "2")
    assert list(table[0]) == ["key", "label", *KINDS, "total"]

    r = await client.get(f"/api/activity.xlsx?{period()}&group_by=user", headers=admin)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:4] == ("Mã người dùng", "Người thực hiện", "Sạp đăng ký", "Sửa hồ sơ sạp")
    assert values[0][-1] == "Tổng số việc (mã sai đã tính trong kiểm tra mã)"
    [ha_row] = [v for v in values[1:] if v[1] == "ha"]
    assert ha_row[2] == 1 and ha_row[7] == 1 and ha_row[-1] == 2

    r = await client.get(f"/api/activity.xlsx?{period()}&group_by=day", headers=admin)
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "Ngày" and len(values) == 4  # header and three days
    assert sum(v[-1] for v in values[1:]) >= 2

    hidden = await client.get(
        f"/api/activity.xlsx?{period()}&group_by=user", headers=await auth("viewer")
    )
    ws = openpyxl.load_workbook(io.BytesIO(hidden.content)).active
    assert all(v[1] == "(ẩn tên)" for v in list(ws.iter_rows(values_only=True))[1:])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-02-10&to=2026-02-01", "from"),
        ("from=2025-01-01&to=2026-02-05", "from"),  # more than 400 days
        ("from=0001-01-01&to=2026-01-01", "from"),
        ("from=2026-01-01&to=9999-12-31", "to"),
        ("from=2026-02-30", "from"),
        ("from=2026-01-01%00", "from"),
        ("group_by=day%00", "group_by"),
        ("group_by=partner", "group_by"),
        ("to=20260101", "to"),
    ],
)
async def test_bad_periods_are_refused(client, auth, query, field):
    for path in ("/api/activity", "/api/activity.csv", "/api/activity.xlsx"):
        r = await client.get(f"{path}?{query}", headers=await auth("manager"))
        assert r.status_code == 422, (path, query, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == field


async def test_a_400_day_period_is_accepted(client, auth):
    r = await client.get(
        "/api/activity?from=2025-01-01&to=2026-02-04&group_by=day", headers=await auth("admin")
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["rows"]) == 400


async def test_a_resolved_return_visit_needs_a_failure_before_it(client, conn, auth, markets):
    admin = await auth("admin")
    binh, binh_h = await new_user(conn, "binh")
    await make_team(client, admin, "Tổ Bình", [binh], [markets["one"]])
    stall = await register(client, binh_h, markets["one"], "R-1")
    good = {"payload": payload.encode(bin="970422", account="0123456789")}
    for _ in range(2):
        r = await client.post(f"/api/stalls/{stall['id']}/verify", json=good, headers=binh_h)
        assert r.status_code == 200
    row = next(r for r in (await rows(client, admin, "user"))["rows"] if r["key"] == str(binh))
    assert (row["verifications"], row["return_visits"], row["codes_fixed"]) == (2, 0, 0)


async def test_the_same_wrong_sign_scanned_twice_is_one_wrong_code(client, conn, auth, markets):
    """Scanned wrong, "Kiểm tra lại" on the same wrong sign, then right: one wrong code found and
    fixed (a reviewer saw it found twice), three checks."""
    admin = await auth("admin")
    lan, lan_h = await new_user(conn, "lan3")
    await make_team(client, admin, "Tổ Lan Ba", [lan], [markets["one"]])
    stall = await register(client, lan_h, markets["one"], "R-3")
    wrong = {"payload": payload.encode(bin="970436", account="000111222")}
    good = {"payload": payload.encode(bin="970422", account="0123456789")}
    for body, status in ((wrong, 422), (wrong, 422), (good, 200), (wrong, 422)):
        r = await client.post(f"/api/stalls/{stall['id']}/verify", json=body, headers=lan_h)
        assert r.status_code == status, r.text
    row = next(r for r in (await rows(client, admin, "user"))["rows"] if r["key"] == str(lan))
    # The last scan found a wrong code again after the fix: a new one.
    assert (row["verifications"], row["return_visits"], row["codes_fixed"]) == (4, 2, 1)


async def test_an_account_corrected_or_deactivated_counts_as_account_work(
    client, conn, auth, markets
):
    """Issue 15 lists "account added or corrected": a correction and a deactivation (issue 12 A7)
    are the volunteer's account work too."""
    mai, mai_h = await new_user(conn, "mai2")
    await make_team(client, await auth("admin"), "Tổ Mai Hai", [mai], [markets["one"]])
    stall = await register(client, mai_h, markets["one"], "K-2")
    sid, account = stall["id"], stall["payment_accounts"][0]["id"]
    r = await client.patch(
        f"/api/stalls/{sid}/payment-accounts/{account}",
        json={"account_number": "0123456780", "reason": "Nhập sai số cuối"},
        headers=mai_h,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/stalls/{sid}/payment-accounts/{account}/deactivate",
        json={"reason": "Chủ sạp đóng tài khoản"},
        headers=mai_h,
    )
    assert r.status_code == 200, r.text
    [row] = [r for r in (await rows(client, mai_h, "user"))["rows"] if r["key"] == str(mai)]
    assert counts(row) == {"registrations": 1, "accounts": 2}
