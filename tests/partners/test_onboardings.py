"""Onboardings: who set up each payment account, through which channel, and its status history."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import stall_body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def register(client, headers, market_id: int, code: str, accounts: list[dict]) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, payment_accounts=accounts, holder={"full_name": "Phan Thị Mai"}),
        headers=headers | key(),
    )
    assert r.status_code == 201, r.text
    return r.json()


def account(bin_: str, number: str, partner: str | None = None) -> dict:
    body = {"bin": bin_, "account_number": number, "partner_code": partner}
    if bin_ == "971025":  # MoMo wallets are payable only with their MOMOW2W reference
        body["reference"] = f"MOMOW2W{number}"
    return body


async def test_a_stall_showing_three_partners_credits_each(client, auth, markets):
    headers = await auth("volunteer")
    stall = await register(
        client,
        headers,
        markets["one"],
        "T-1",
        [
            account("970422", "1001", "MB"),
            account("971025", "0905111222", "MOMO"),
            account("971005", "0905333444", "VIETTELMONEY"),
        ],
    )
    r = await client.get(f"/api/stalls/{stall['id']}/onboardings", headers=headers)
    assert r.status_code == 200
    assert sorted((o["partner_code"], o["status"]) for o in r.json()) == [
        ("MB", "active"),
        ("MOMO", "active"),
        ("VIETTELMONEY", "active"),
    ]


async def test_record_then_move_through_the_statuses_with_full_history(client, conn, auth, markets):
    headers = await auth("volunteer")
    stall = await register(client, headers, markets["one"], "T-2", [account("970436", "2002")])
    account_id = stall["payment_accounts"][0]["id"]
    url = f"/api/stalls/{stall['id']}/onboardings"
    body = {
        "payment_account_id": account_id,
        "partner_code": "vcb",
        "channel": "field_visit",
        "status": "pending",
        "staff_name": "Nguyễn Văn Bình",
    }
    created = await client.post(url, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["partner_code"], created.json()["status"]) == ("VCB", "pending")
    assert created.json()["staff_name"] == "Nguyễn Văn Bình"
    for status in ("active", "suspended", "active", "removed"):
        moved = await client.post(url, json=body | {"status": status}, headers=headers)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    same = await client.post(url, json=body | {"status": "removed"}, headers=headers)
    assert same.status_code == 200
    [onboarding] = (await client.get(url, headers=headers)).json()
    assert [(h["from_status"], h["to_status"], h["source"]) for h in onboarding["history"]] == [
        (None, "pending", "manual"),
        ("pending", "active", "manual"),
        ("active", "suspended", "manual"),
        ("suspended", "active", "manual"),
        ("active", "removed", "manual"),
    ]
    audits = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'onboarding' AND entity_id = $1",
        str(onboarding["id"]),
    )
    assert audits == 5


async def test_a_suspended_account_on_a_sign_puts_the_stall_on_the_return_visit_list(
    client, conn, auth, markets
):
    """A reviewer saw a partner suspend the account a stall's sign shows, and nothing move: the
    stall still counted as checked and receiving, with no return visit. Its bank suspending it
    flags a return visit (account_suspended), in the stall's history; resumed, the flag goes. A
    gateway's onboarding ending stops no transfer: nothing is flagged."""
    headers = await auth("volunteer")
    stall = await register(
        client, headers, markets["one"], "T-SUS", [account("970436", "3003", "VNPAY")]
    )
    sid, account_id = stall["id"], stall["payment_accounts"][0]["id"]
    assert (
        await client.post(f"/api/stalls/{sid}/sign-printed", headers=headers)
    ).status_code == 200
    url = f"/api/stalls/{sid}/onboardings"

    async def coverage() -> dict:
        return (await client.get(f"/api/stalls/{sid}/coverage", headers=headers)).json()

    async def stopped() -> str | None:
        record = (await client.get(f"/api/stalls/{sid}", headers=headers)).json()
        return record["payment_accounts"][0]["stopped_by_partner"]

    async def move(partner: str, status: str) -> None:
        body = {"payment_account_id": account_id, "partner_code": partner,
                "channel": "partner_import", "status": status}  # fmt: skip
        r = await client.post(url, json=body, headers=headers)
        assert r.status_code in (200, 201), r.text

    await move("VNPAY", "suspended")  # a gateway, not the account's bank
    assert (await coverage())["needs_revisit"] is False
    assert await stopped() is None
    await move("VCB", "active")  # Vietcombank holds 970436 accounts
    await move("VCB", "suspended")
    after = await coverage()
    assert (after["needs_revisit"], after["revisit_reason"]) == (True, "account_suspended")
    history = (await client.get(f"/api/stalls/{sid}/history", headers=headers)).json()
    assert ("revisit_flagged", "account_suspended") in [(e["action"], e["detail"]) for e in history]
    # The stall's record says which account (its page marks it).
    assert await stopped() == "suspended"
    await move("VCB", "active")
    back = await coverage()
    assert (back["needs_revisit"], back["revisit_reason"]) == (False, None)
    assert await stopped() is None
    # A return visit for another reason is not taken away by the account's resumption.
    await move("VCB", "suspended")
    await conn.execute(
        "UPDATE stall_coverage SET revisit_reason = 'qr_mismatch' WHERE stall_id = $1", sid
    )
    await move("VCB", "active")
    assert (await coverage())["revisit_reason"] == "qr_mismatch"
    # Removed for good: said as such (a volunteer must not promise it comes back).
    await conn.execute(
        "UPDATE stall_coverage SET needs_revisit = false, revisit_reason = NULL WHERE stall_id = $1",
        sid,
    )
    await move("VCB", "removed")
    gone = await coverage()
    assert (gone["needs_revisit"], gone["revisit_reason"]) == (True, "account_removed")
    assert await stopped() == "removed"


async def test_a_markets_signs_print_an_account_its_bank_has_not_stopped(client, auth, markets):
    """The stall's own sign shows an account its bank has not stopped first; "In biển cả chợ"
    printed the first account even when its bank had suspended it. Now the market's signs choose
    as the stall's page does, and the print job names each sign whose account is stopped (a stall
    with no other account still gets its sign: the holder may have reopened it)."""
    headers = await auth("volunteer")
    two = await register(
        client, headers, markets["one"], "T-PJ1",
        [account("970436", "4004"), account("970422", "4005")],
    )  # fmt: skip
    one = await register(client, headers, markets["one"], "T-PJ2", [account("970436", "4006")])
    for stall in (two, one):
        body = {"payment_account_id": stall["payment_accounts"][0]["id"], "partner_code": "VCB",
                "channel": "partner_import", "status": "active"}  # fmt: skip
        url = f"/api/stalls/{stall['id']}/onboardings"
        assert (await client.post(url, json=body, headers=headers)).status_code in (200, 201)
        body["status"] = "suspended"
        assert (await client.post(url, json=body, headers=headers)).status_code == 200

    r = await client.post(f"/api/markets/{markets['one']}/print-jobs", json={}, headers=headers)
    assert r.status_code == 201, r.text
    signs = {s["stall_id"]: s for s in r.json()["stalls"]}
    assert signs[two["id"]]["payment_account_id"] == two["payment_accounts"][1]["id"]
    assert signs[two["id"]]["account_stopped"] is None
    assert signs[one["id"]]["payment_account_id"] == one["payment_accounts"][0]["id"]
    assert signs[one["id"]]["account_stopped"] == "suspended"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["active", "removed"], "active"),
        (["active", "removed"], "suspended"),
        (["active"], "pending"),
        (["pending"], "suspended"),
        (["active", "suspended"], "pending"),
    ],
)
async def test_invalid_transitions_are_409_and_change_nothing(
    client, conn, auth, markets, path, target
):
    headers = await auth("admin")
    stall = await register(client, headers, markets["one"], "T-3", [account("970418", "3003")])
    url = f"/api/stalls/{stall['id']}/onboardings"
    body = {
        "payment_account_id": stall["payment_accounts"][0]["id"],
        "partner_code": "BIDV",
        "channel": "field_visit",
    }
    for status in path:
        assert (
            await client.post(url, json=body | {"status": status}, headers=headers)
        ).status_code in (
            200,
            201,
        )
    history = await conn.fetchval("SELECT count(*) FROM onboarding_status")
    r = await client.post(url, json=body | {"status": target}, headers=headers)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "invalid_transition" and r.json()["current_status"] == path[-1]
    assert await conn.fetchval("SELECT count(*) FROM onboarding_status") == history
    [onboarding] = (await client.get(url, headers=headers)).json()
    assert onboarding["status"] == path[-1]


async def test_bad_references_are_422(client, auth, markets):
    headers = await auth("admin")
    one = await register(client, headers, markets["one"], "T-4", [account("970422", "4004")])
    other = await register(client, headers, markets["one"], "T-5", [account("970422", "5005")])
    url = f"/api/stalls/{one['id']}/onboardings"
    foreign = {
        "payment_account_id": other["payment_accounts"][0]["id"],
        "partner_code": "MB",
        "channel": "field_visit",
    }
    r = await client.post(url, json=foreign, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "unknown_account"
    unknown = foreign | {
        "payment_account_id": one["payment_accounts"][0]["id"],
        "partner_code": "XYZ",
    }
    r = await client.post(url, json=unknown, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "unknown_partner"
    r = await client.post(
        url, json=unknown | {"partner_code": "MB", "channel": "by_post"}, headers=headers
    )
    assert r.status_code == 422 and r.json()["field"] == "channel"
    missing = await client.post("/api/stalls/999999999/onboardings", json=foreign, headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "stall_not_found"
    overflow = await client.post(f"/api/stalls/{2**63}/onboardings", json=foreign, headers=headers)
    assert overflow.status_code == 422


async def test_volunteers_and_managers_work_only_in_their_markets(client, auth, markets):
    admin = await auth("admin")
    stall = await register(client, admin, markets["two"], "T-6", [account("970422", "6006", "MB")])
    url = f"/api/stalls/{stall['id']}/onboardings"
    body = {
        "payment_account_id": stall["payment_accounts"][0]["id"],
        "partner_code": "MB",
        "channel": "field_visit",
        "status": "suspended",
    }
    for role in ("volunteer", "manager"):  # outside their markets: as if it did not exist
        assert (await client.post(url, json=body, headers=await auth(role))).status_code == 404
        assert (await client.get(url, headers=await auth(role))).status_code == 404
    viewer = await auth("viewer")
    assert (await client.post(url, json=body, headers=viewer)).status_code == 403
    assert (await client.get(url, headers=viewer)).status_code == 403
    mine = await auth("volunteer2")
    assert (await client.post(url, json=body, headers=mine)).status_code == 200
    assert (await client.get(url, headers=mine)).json()[0]["status"] == "suspended"


async def test_partner_users_act_for_their_own_partner_only(client, auth, markets):
    admin = await auth("admin")
    partner = await auth("partner")  # partner_code MB
    stall = await register(
        client, admin, markets["two"], "T-7", [account("970422", "7007"), account("970436", "7008")]
    )
    mb_account, vcb_account = (a["id"] for a in stall["payment_accounts"])
    url = f"/api/stalls/{stall['id']}/onboardings"
    assert (await client.get(url, headers=partner)).status_code == 404  # nothing of MB's there yet
    body = {
        "payment_account_id": mb_account,
        "partner_code": "MB",
        "channel": "partner_api",
        "status": "pending",
    }
    r = await client.post(url, json=body, headers=partner)
    assert r.status_code == 201, r.text
    assert r.json()["history"][0]["source"] == "partner_api"
    other_partner = await client.post(url, json=body | {"partner_code": "VCB"}, headers=partner)
    assert other_partner.status_code == 403
    # An account outside MB's reach reads like one the stall does not have (test_partner_scope.py).
    not_its_bin = await client.post(
        url, json=body | {"payment_account_id": vcb_account}, headers=partner
    )
    assert not_its_bin.status_code == 422 and not_its_bin.json()["code"] == "unknown_account"
    vcb = {"payment_account_id": vcb_account, "partner_code": "VCB", "channel": "field_visit"}
    assert (await client.post(url, json=vcb, headers=admin)).status_code == 201
    seen = await client.get(url, headers=partner)
    assert [o["partner_code"] for o in seen.json()] == ["MB"]
    assert sorted(o["partner_code"] for o in (await client.get(url, headers=admin)).json()) == [
        "MB",
        "VCB",
    ]
