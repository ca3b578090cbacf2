"""A partner sees only its own: the reach rule on every path a partner acts through.

A partner (its users, its API keys, its signed events, its report imports) may create, change or
see an onboarding only for an account at one of its BINs or tagged with its code. Anything outside
that reach is answered exactly as if it did not exist, so no answer tells a partner whether a phone,
a stall or an account number is registered. The comparisons below run the same request twice, once
with the out-of-reach object present and once without it (rolled back), and compare whole answers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from partners.schemes import momo, own
from tests.conftest import stall_body
from tests.partners import vectors

SECRET = "whsec_scope_" + "5" * 24
VCB_BIN, MB_BIN = "970436", "970422"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def register(
    client,
    headers,
    market_id: int,
    code: str,
    accounts: list[dict],
    *,
    phone: str | None = None,
    purposes: list[str] | None = None,
) -> dict:
    body = stall_body(
        code,
        payment_accounts=accounts,
        holder={"full_name": "Trần Thị Riêng", "phone": phone},
        confirm_duplicate=True,
    )
    if purposes:
        body["consent"]["purposes"] += purposes
    r = await client.post(f"/api/markets/{market_id}/stalls", json=body, headers=headers | key())
    assert r.status_code == 201, r.text
    return r.json()


def vcb(number: str, name: str = "TRAN THI RIENG") -> dict:
    return {"bin": VCB_BIN, "account_number": number, "account_name": name}


def mb(number: str) -> dict:
    return {"bin": MB_BIN, "account_number": number, "partner_code": "MB"}


async def rolled_back(conn, action: Callable[[], Awaitable[Any]]) -> Any:
    """Run `action` in a savepoint and undo everything it wrote (the app shares `conn`)."""
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        return await action()
    finally:
        await savepoint.rollback()


async def written(conn) -> tuple:
    """Everything a partner path could write."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM onboarding) AS o, (SELECT count(*) FROM onboarding_status) "
        "AS h, (SELECT count(*) FROM partner_event) AS e, (SELECT count(*) FROM payment_event) "
        "AS p, (SELECT count(*) FROM partner_import) AS i"
    )
    return tuple(row)


def answer(r) -> tuple[int, Any]:
    return r.status_code, r.json()


@pytest.fixture
async def admin(client, auth) -> dict[str, str]:
    """MB has a signing secret (its events endpoint is on); returns admin headers."""
    headers = await auth("admin")
    r = await client.put(
        "/api/partners/MB/credentials", json={"signing_secret": SECRET}, headers=headers
    )
    assert r.status_code == 200, r.text
    return headers


@pytest.fixture
async def world(client, admin, markets) -> dict:
    """P-1 and P-3 show only a Vietcombank account, P-2 an MB account and a Vietcombank one, and
    a member of staff recorded an MB onboarding of P-1's Vietcombank account (outside MB's reach)."""
    p1 = await register(
        client, admin, markets["one"], "P-1", [vcb("8800001", "NGUOI BAN VCB")], phone="0905700001"
    )
    p2 = await register(
        client, admin, markets["one"], "P-2", [mb("8800002"), vcb("8800003")], phone="0905700002"
    )
    p3 = await register(
        client, admin, markets["one"], "P-3", [vcb("8800004", "NGUOI BAN KHAC")], phone="0905700003"
    )
    manual = await client.post(
        f"/api/stalls/{p1['id']}/onboardings",
        json={
            "payment_account_id": p1["payment_accounts"][0]["id"],
            "partner_code": "MB",
            "channel": "field_visit",
        },
        headers=admin,
    )
    assert manual.status_code == 201, manual.text
    return {"p1": p1, "p2": p2, "p3": p3}


# ---------------------------------------------------------------- the exploit of the issue


def report(*rows: str, header: str = "market,stall_code,phone,account_number,bin,status") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


async def upload(client, headers, data: bytes, *, code: str = "MB", dry_run: bool = False):
    return await client.post(
        f"/api/partners/{code}/imports" + ("?dry_run=true" if dry_run else ""),
        files={"file": ("r.csv", data, "text/csv")},
        headers=headers,
    )


def sign(body: dict) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    header = own.sign(raw, signing_secret=SECRET, timestamp=int(time.time()))
    return raw, {"Content-Type": "application/json", "X-Signature": header}


async def send(client, type_: str, data: dict, event_id: str | None = None):
    raw, headers = sign(
        {
            "id": event_id or f"evt-{uuid.uuid4().hex[:12]}",
            "type": type_,
            "occurred_at": "2026-11-27T09:30:00+07:00",
            "data": data,
        }
    )
    return await client.post("/api/partners/MB/events", content=raw, headers=headers)


async def test_an_import_row_cannot_claim_a_stall_at_another_bank(client, conn, auth, world):
    partner = await auth("partner")  # MB
    before = await written(conn)
    # An admin uploads the partner's reports too: the rule is the partner's, whoever uploads.
    for who, status in ((partner, "active"), (await auth("admin"), "pending")):
        r = await upload(client, who, report(f"Chợ Thử Một,P-3,,,,{status}"))
        assert r.status_code == 200, r.text
        [row] = r.json()["rows"]
        assert row["result"] == "error" and row["stall_id"] is None
        assert row["payment_account_id"] is None
    assert await written(conn) == before[:4] + (before[4] + 2,)  # only the imports themselves
    seen = await client.get("/api/partners/MB/accounts", headers=partner)
    assert "8800004" not in seen.text and "NGUOI BAN KHAC" not in seen.text


async def test_an_event_cannot_claim_a_stall_at_another_bank(client, conn, auth, world):
    before = await written(conn)
    for type_ in ("account.onboarded", "account.activated", "payment.received"):
        r = await send(client, type_, {"stall_id": world["p3"]["id"], "amount": 1000})
        assert r.status_code == 422 and r.json()["code"] == "unknown_account", r.text
    assert await written(conn) == before
    seen = await client.get("/api/partners/MB/accounts", headers=await auth("partner"))
    assert "8800004" not in seen.text and "NGUOI BAN KHAC" not in seen.text


# ---------------------------------------------------------------- out of reach = unknown


async def test_import_rows_outside_the_reach_read_as_unknown_in_dry_runs_and_real_ones(
    client, conn, auth, admin, world, markets
):
    partner = await auth("partner")
    p2 = world["p2"]
    data = report(
        "Chợ Thử Một,Q-1,,,,active",  # a stall with only a Vietcombank account
        ",,0905 700 009,,,active",  # its holder's phone
        ",,,8800009,,active",  # its account number
        f",,,8800009,{VCB_BIN},active",  # its account number and BIN
        "Chợ Thử Một,P-2,,8800010,,active",  # an account at another bank on a stall of MB's
        ",,,8800010,,active",
    )

    async def probe() -> list:
        return [
            answer(await upload(client, who, data, dry_run=dry))
            for who in (partner, admin)
            for dry in (True, False)
        ]

    async def with_objects() -> list:
        await register(client, admin, markets["one"], "Q-1", [vcb("8800009")], phone="0905700009")
        added = await client.post(
            f"/api/stalls/{p2['id']}/payment-accounts", json=vcb("8800010"), headers=admin
        )
        assert added.status_code == 201, added.text
        return await probe()

    present = await rolled_back(conn, with_objects)
    absent = await rolled_back(conn, probe)
    for (status_p, body_p), (status_a, body_a) in zip(present, absent, strict=True):
        assert status_p == status_a == 200
        # A real import gets a fresh id each time; everything else is the same.
        body_p, body_a = dict(body_p, import_id=None), dict(body_a, import_id=None)
        assert body_p == body_a
        assert [row["result"] for row in body_p["rows"]] == ["error"] * 6


async def test_events_outside_the_reach_read_as_unknown(client, conn, admin, world, markets):
    p2 = world["p2"]
    before = await written(conn)
    stall_id: dict[str, int] = {}

    async def probe() -> list:
        replies = []
        for type_ in (
            "account.onboarded",
            "account.activated",
            "account.deactivated",
            "payment.received",
        ):
            for data in (
                {"stall_id": stall_id["q"]},
                {"account_number": "8800011"},
                {"bin": VCB_BIN, "account_number": "8800011"},
                {"account_number": "8800012"},
                {"account_number": "8800012", "stall_id": p2["id"]},
            ):
                replies.append(
                    answer(await send(client, type_, data | {"amount": 5000}, "evt-same-id"))
                )
        return replies

    async def with_objects() -> list:
        stall = await register(client, admin, markets["one"], "Q-2", [vcb("8800011")])
        stall_id["q"] = stall["id"]
        added = await client.post(
            f"/api/stalls/{p2['id']}/payment-accounts", json=vcb("8800012"), headers=admin
        )
        assert added.status_code == 201, added.text
        return await probe()

    present = await rolled_back(conn, with_objects)
    absent = await rolled_back(conn, probe)  # the same stall id, now free
    assert present == absent
    assert {status for status, _ in present} == {422}
    assert {body["code"] for _, body in present} == {"unknown_account"}
    assert await written(conn) == before


async def test_api_onboardings_outside_the_reach_read_as_unknown(
    client, conn, auth, admin, world, markets
):
    partner = await auth("partner")
    p2 = world["p2"]
    ids: dict[str, int] = {}

    async def probe() -> list:
        body = {"partner_code": "MB", "channel": "partner_api", "status": "active"}
        return [
            answer(
                await client.post(
                    f"/api/stalls/{ids['stall']}/onboardings",
                    json=body | {"payment_account_id": ids["stall_account"]},
                    headers=partner,
                )
            ),
            answer(await client.get(f"/api/stalls/{ids['stall']}/onboardings", headers=partner)),
            answer(
                await client.post(
                    f"/api/stalls/{p2['id']}/onboardings",
                    json=body | {"payment_account_id": ids["p2_account"]},
                    headers=partner,
                )
            ),
        ]

    async def with_objects() -> list:
        stall = await register(client, admin, markets["one"], "Q-3", [vcb("8800013")])
        ids["stall"], ids["stall_account"] = stall["id"], stall["payment_accounts"][0]["id"]
        # Even an MB onboarding recorded by staff does not bring the account into MB's reach.
        manual = await client.post(
            f"/api/stalls/{stall['id']}/onboardings",
            json={
                "payment_account_id": ids["stall_account"],
                "partner_code": "MB",
                "channel": "field_visit",
            },
            headers=admin,
        )
        assert manual.status_code == 201
        added = await client.post(
            f"/api/stalls/{p2['id']}/payment-accounts", json=vcb("8800014"), headers=admin
        )
        ids["p2_account"] = added.json()["payment_accounts"][-1]["id"]
        return await probe()

    present = await rolled_back(conn, with_objects)
    absent = await rolled_back(conn, probe)
    assert present == absent
    assert [(status, body["code"]) for status, body in present] == [
        (404, "stall_not_found"),
        (404, "stall_not_found"),
        (422, "unknown_account"),
    ]


# ---------------------------------------------------------------- what the partner sees


async def test_an_onboarding_outside_the_reach_is_invisible_and_unchangeable(
    client, conn, auth, admin, world
):
    partner = await auth("partner")
    p1, p2 = world["p1"], world["p2"]
    accounts = (await client.get("/api/partners/MB/accounts", headers=partner)).json()["items"]
    assert [i["account_number"] for i in accounts] == ["8800002"]
    stats = (await client.get("/api/partners/MB/stats", headers=partner)).json()
    assert stats["totals"]["onboarded"] == 1
    assert (
        await client.get(f"/api/stalls/{p1['id']}/onboardings", headers=partner)
    ).status_code == 404
    seen = (await client.get(f"/api/stalls/{p2['id']}/onboardings", headers=partner)).json()
    assert [o["bin"] for o in seen] == [MB_BIN]
    # Nothing a partner sends moves it.
    before = await conn.fetchval(
        "SELECT status FROM onboarding WHERE payment_account_id = $1",
        p1["payment_accounts"][0]["id"],
    )
    change = await client.post(
        f"/api/stalls/{p1['id']}/onboardings",
        json={
            "payment_account_id": p1["payment_accounts"][0]["id"],
            "partner_code": "MB",
            "channel": "partner_api",
            "status": "suspended",
        },
        headers=partner,
    )
    assert change.status_code == 404
    event = await send(client, "account.deactivated", {"account_number": "8800001"})
    assert event.status_code == 422 and event.json()["code"] == "unknown_account"
    imported = await upload(client, partner, report(",,,8800001,,removed"))
    assert imported.json()["rows"][0]["result"] == "error"
    after = await conn.fetchval(
        "SELECT status FROM onboarding WHERE payment_account_id = $1",
        p1["payment_accounts"][0]["id"],
    )
    assert before == after == "active"
    # Staff still see what they recorded.
    staff = (await client.get(f"/api/stalls/{p1['id']}/onboardings", headers=admin)).json()
    assert [o["partner_code"] for o in staff] == ["MB"]


async def test_paging_the_accounts_never_steps_outside_the_reach(client, auth, world):
    partner = await auth("partner")
    every = (await client.get("/api/partners/MB/accounts", headers=partner)).json()["items"]
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get("/api/partners/MB/accounts", params=params, headers=partner)
        ).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert int(cursor) in {i["payment_account_id"] for i in every}
    assert seen == every
    # A cursor just below an account outside the reach does not reveal it either.
    below = world["p1"]["payment_accounts"][0]["id"] - 1
    page = await client.get("/api/partners/MB/accounts", params={"cursor": below}, headers=partner)
    assert "8800001" not in page.text


async def test_an_opt_in_shows_the_holders_accounts_only_through_consent(
    client, auth, admin, markets
):
    """Sharing with a partner is the stallholder's choice (consent share_partner:<CODE>)."""
    await register(
        client, admin, markets["one"], "Q-5", [vcb("8800015")], purposes=["share_partner:mb"]
    )
    await register(client, admin, markets["one"], "Q-6", [vcb("8800016")])
    items = (await client.get("/api/partners/MB/accounts", headers=await auth("partner"))).json()[
        "items"
    ]
    assert [(i["account_number"], i["relation"]) for i in items] == [("8800015", "opted_in")]


async def test_a_partner_user_cannot_read_another_partner_by_changing_the_code(
    client, conn, auth, admin, world
):
    partner_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'partner'")
    made = await client.post(f"/api/users/{partner_id}/api-keys", json={}, headers=admin)
    for headers in (await auth("partner"), {"X-API-Key": made.json()["key"]}):
        for path in ("stats", "accounts"):
            other = await client.get(f"/api/partners/VCB/{path}", headers=headers)
            nope = await client.get(f"/api/partners/NOPE/{path}", headers=headers)
            assert other.status_code == nope.status_code == 404
            assert other.json()["code"] == nope.json()["code"] == "partner_not_found"
        assert (await client.get("/api/partners/MB/unmatched", headers=headers)).status_code == 403
        vcb_import = await upload(client, headers, report("Chợ Thử Một,P-1,,,,active"), code="VCB")
        assert (vcb_import.status_code, vcb_import.json()["code"]) == (404, "partner_not_found")
    assert await conn.fetchval("SELECT count(*) FROM partner_import") == 0


async def test_native_notifications_never_touch_onboardings(client, conn, admin, world):
    creds = {"access_key": vectors.MOMO_ACCESS_KEY, "secret_key": vectors.MOMO_SECRET_KEY}
    assert (
        await client.put("/api/partners/MOMO/credentials", json=creds, headers=admin)
    ).status_code == 200
    fields = {k: v for k, v in vectors.MOMO_IPN.items() if k != "signature"} | {
        "orderId": f"CS{world['p1']['id']}-1",
        "transId": 4300000001,
    }
    fields["signature"] = momo.sign(
        fields, access_key=vectors.MOMO_ACCESS_KEY, secret_key=vectors.MOMO_SECRET_KEY
    )
    onboardings = await conn.fetch("SELECT id, status FROM onboarding ORDER BY id")
    r = await client.post("/api/partners/momo/ipn", content=json.dumps(fields).encode())
    assert r.status_code == 204
    assert await conn.fetch("SELECT id, status FROM onboarding ORDER BY id") == onboardings
    assert await conn.fetchval("SELECT count(*) FROM onboarding WHERE partner_code = 'MOMO'") == 0


# ---------------------------------------------------------------- partner codes that are stored


async def test_a_users_partner_code_names_a_registered_partner(client, conn, admin):
    base = {"password": "long-enough-pw", "role": "partner"}
    cases = [
        ({"username": "p-nope", "partner_code": "NOPE"}, "unknown_partner"),
        (
            {"username": "v-mb", "role": "volunteer", "partner_code": "MB"},
            "partner_code_not_allowed",
        ),
        ({"username": "a-mb", "role": "admin", "partner_code": "MB"}, "partner_code_not_allowed"),
    ]
    for body, code in cases:
        r = await client.post("/api/users", json=base | body, headers=admin)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, code, "partner_code")
    assert await conn.fetchval("SELECT count(*) FROM app_user WHERE username LIKE '%-%'") == 0
    made = await client.post(
        "/api/users", json=base | {"username": "p-vcb", "partner_code": "vcb"}, headers=admin
    )
    assert made.status_code == 201 and made.json()["partner_code"] == "VCB"
    user_id = made.json()["id"]
    for patch, code in (
        ({"partner_code": "NOPE"}, "unknown_partner"),
        ({"partner_code": None}, "partner_code_required"),
    ):
        r = await client.patch(f"/api/users/{user_id}", json=patch, headers=admin)
        assert (r.status_code, r.json()["code"]) == (422, code)
    volunteer_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
    r = await client.patch(f"/api/users/{volunteer_id}", json={"partner_code": "MB"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, "partner_code_not_allowed")
    assert (await client.get(f"/api/users/{user_id}", headers=admin)).json()[
        "partner_code"
    ] == "VCB"


async def test_moving_a_partner_user_to_another_partner_ends_its_keys(client, conn, auth, admin):
    partner_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'partner'")
    api_key = (
        await client.post(f"/api/users/{partner_id}/api-keys", json={}, headers=admin)
    ).json()["key"]
    token = await auth("partner")
    moved = await client.patch(
        f"/api/users/{partner_id}", json={"partner_code": "VCB"}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["partner_code"] == "VCB"
    # A key MB's machine held must not start acting for Vietcombank.
    for headers in ({"X-API-Key": api_key}, token):
        assert (await client.get("/api/partners/VCB/stats", headers=headers)).status_code == 401
    # Leaving the partner role drops the code (only partner users carry one).
    viewer = await client.patch(f"/api/users/{partner_id}", json={"role": "viewer"}, headers=admin)
    assert viewer.status_code == 200 and viewer.json()["partner_code"] is None


async def test_a_sharing_consent_names_a_registered_partner(client, conn, admin, markets):
    before = await conn.fetchval("SELECT count(*) FROM stall")
    body = stall_body("Q-7", payment_accounts=[vcb("8800017")])
    body["consent"]["purposes"] += ["share_partner:NOPE"]
    r = await client.post(f"/api/markets/{markets['one']}/stalls", json=body, headers=admin | key())
    assert (r.status_code, r.json()["code"]) == (422, "unknown_partner"), r.text
    assert await conn.fetchval("SELECT count(*) FROM stall") == before
    stall = await register(client, admin, markets["one"], "Q-8", [vcb("8800018")])
    url = f"/api/stallholders/{stall['holder']['id']}/consents"
    consents = await conn.fetchval("SELECT count(*) FROM consent")
    r = await client.post(
        url, json={"notice_version": "2026-01", "purposes": ["share_partner:NOPE"]}, headers=admin
    )
    assert (r.status_code, r.json()["code"]) == (422, "unknown_partner"), r.text
    assert await conn.fetchval("SELECT count(*) FROM consent") == consents
    r = await client.post(
        url, json={"notice_version": "2026-01", "purposes": ["share_partner:vcb"]}, headers=admin
    )
    assert r.status_code == 200 and r.json()["changed"] == ["share_partner:VCB"]


async def test_a_partner_finds_an_account_by_stall_market_or_whole_number(
    client, auth, admin, world, markets
):
    """The account list had no search: a partner with thousands of accounts paged to find one.
    `q` finds by stall code or market name (any case), or by the whole account number (numbers
    are sealed: exact only); the reach still holds (P-1's account is outside MB's)."""
    partner = await auth("partner")

    async def found(q: str, headers=partner) -> list[str]:
        r = await client.get("/api/partners/MB/accounts", params={"q": q}, headers=headers)
        assert r.status_code == 200, r.text
        return sorted(i["account_number"] for i in r.json()["items"])

    assert await found("8800002") == ["8800002"]
    assert await found("880000") == []  # a part of a number finds nothing
    assert await found("p-2") == ["8800002"]
    market = (await client.get(f"/api/markets/{markets['one']}", headers=admin)).json()["name"]
    assert "8800002" in await found(market.upper())
    # Typed without diacritics, as a phone keyboard often is ("cho thu mot" for Chợ Thử Một).
    assert market == "Chợ Thử Một"
    assert "8800002" in await found("cho thu mot")
    assert "8800002" in await found("thu  MOT")
    assert await found("8800001") == []  # outside MB's reach: as if there were none
    assert await found("8800001", admin) == ["8800001"]
    assert await found("không có") == []


async def test_an_account_number_written_with_dots_or_dashes_is_the_registers(client, auth, world):
    """Registration drops the spaces, dots and dashes an account number is written with; a
    partner's report and events kept the dots and dashes, so "8800-002" found no account (and a
    space in an event was refused with an internal function's name in the message)."""
    partner = await auth("partner")
    r = await upload(client, partner, report(",,,8800.002,970422,suspended"), dry_run=True)
    [row] = r.json()["rows"]
    assert row["result"] == "matched", row
    assert row["payment_account_id"] == world["p2"]["payment_accounts"][0]["id"]
    for written_as in ("8800-002", "880 0002"):
        event = await send(
            client, "account.activated", {"bin": "970422", "account_number": written_as}
        )
        assert (event.status_code, event.json()["status"]) == (202, "applied"), event.text
    bad = await send(client, "account.activated", {"account_number": "88\x00"})
    assert bad.status_code == 422 and "payments." not in bad.text


async def test_a_report_naming_one_account_on_several_lines_applies_the_newest(client, auth, world):
    """Three lines for one account were applied in file order: "tạm ngưng" of 06/12, then "đang
    hoạt động" of 01/12, then "đã gỡ" of 03/12 left it removed (for good). The newest line by its
    date is applied; lines without dates that disagree are refused; a repeated line applies once."""
    partner = await auth("partner")
    p2 = world["p2"]["payment_accounts"][0]["id"]
    rows = [",,,8800002,970422,tam_ngung,06/12/2025", ",,,8800002,970422,dang_hoat_dong,01/12/2025",
            ",,,8800002,970422,da_go,03/12/2025"]  # fmt: skip
    header = "market,stall_code,phone,account_number,bin,status,date"
    r = await upload(client, partner, report(*rows, header=header), dry_run=True)
    got = [(x["line"], x["result"], x["payment_account_id"]) for x in r.json()["rows"]]
    assert got == [(2, "matched", p2), (3, "unchanged", p2), (4, "unchanged", p2)], got
    assert r.json()["rows"][2]["reason_vi"] == "dòng 2 cùng tài khoản này có ngày mới hơn"

    undated = [",,,8800002,970422,suspended", ",,,8800002,970422,removed"]
    r = await upload(client, partner, report(*undated), dry_run=True)
    assert [x["result"] for x in r.json()["rows"]] == ["error", "error"]
    assert "các dòng 2, 3 cùng một tài khoản" in r.json()["rows"][0]["reason_vi"]

    again = [",,,8800002,970422,suspended", ",,,8800002,970422,suspended"]
    r = await upload(client, partner, report(*again), dry_run=True)
    assert [x["result"] for x in r.json()["rows"]] == ["matched", "unchanged"]


async def test_what_a_partner_reads_of_a_person_is_in_the_access_log(client, conn, auth, world):
    """A partner's account list shows people's account numbers and names, and nothing recorded
    the read: each person shown is now logged (reason partner_accounts), as an export is."""
    partner = await auth("partner")
    r = await client.get("/api/partners/MB/accounts", params={"q": "8800002"}, headers=partner)
    assert [a["account_number"] for a in r.json()["items"]] == ["8800002"]
    holder = world["p2"]["holder"]["id"]
    rows = await conn.fetch(
        "SELECT stallholder_id, reason, route FROM access_log WHERE reason = 'partner_accounts'"
    )
    assert [(x["stallholder_id"], x["route"]) for x in rows] == [
        (holder, "/api/partners/MB/accounts")
    ]
