"""Issue 12, A7: a wrongly typed payment account is corrected or deactivated with a reason; its
history stays, its verification no longer holds, the counters move, the sign is flagged for
reprint until a new print of the current account is confirmed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from coverage import counters
from coverage import stalls as coverage_stalls
from qr import payload
from tests.conftest import stall_body

TYPED = payload.encode(bin="970422", account="0123456789")  # what stall_body registers (MB)


async def _stall(client, headers, market_id: int, code: str = "A-12", **over) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body(code, **over),
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _coverage(client, headers, stall_id: int) -> dict:
    r = await client.get(f"/api/stalls/{stall_id}/coverage", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _levels(client, headers, market_id: int) -> dict[str, int]:
    cov = (await client.get(f"/api/markets/{market_id}/coverage", headers=headers)).json()
    return {k: v["count"] for k, v in cov["levels"].items()}


def _url(stall: dict, suffix: str = "") -> str:
    return (
        f"/api/stalls/{stall['id']}/payment-accounts/{stall['payment_accounts'][0]['id']}{suffix}"
    )


async def _printed_and_verified(client, h, market_id: int) -> dict:
    stall = await _stall(client, h, market_id)
    r = await client.post(f"/api/stalls/{stall['id']}/sign-printed", headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/stalls/{stall['id']}/verify", json={"payload": TYPED}, headers=h)
    assert r.status_code == 200 and r.json()["verified_at"], r.text
    return (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json()


async def test_a_corrected_account_keeps_its_history_and_needs_a_new_sign(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    m = markets["one"]
    stall = await _printed_and_verified(client, h, m)
    assert (await _levels(client, h, m))["qr_verified"] == 1
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is False

    fix = {"account_number": "0123456788", "reason": "Nhập sai số cuối"}
    r = await client.patch(_url(stall), json=fix, headers=h)
    assert r.status_code == 200, r.text
    fixed = r.json()
    account = fixed["payment_accounts"][0]
    assert account["id"] == stall["payment_accounts"][0]["id"]
    assert account["account_number"] == "0123456788" and account["active"] is True
    assert fixed["version"] == stall["version"] + 1 and r.headers["etag"] == f'"{fixed["version"]}"'
    # The earlier verification named the old number: it no longer holds, and the counters moved.
    cov = await _coverage(client, h, stall["id"])
    assert cov["verified_at"] is None and cov["levels"]["qr_verified"] is False
    assert (await _levels(client, h, m))["qr_verified"] == 0
    # The sign at the stall shows the old number.
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (True, "account_corrected")
    assert cov["sign_reprint_flagged_at"] is not None
    tiles = (await client.get(f"/api/markets/{m}/stall-tiles", headers=h)).json()
    tile = next(t for z in tiles["zones"] for t in z["stalls"] if t["id"] == stall["id"])
    assert tile["sign_reprint_needed"] is True
    # History: the audit log keeps old and new (numbers shortened) and the reason; the table
    # keeps the number sealed.
    entry = await conn.fetchrow(
        "SELECT before, after FROM audit_log WHERE entity = 'stall' AND entity_id = $1 "
        "AND action = 'correct_payment_account'",
        str(stall["id"]),
    )
    assert entry["before"]["payment_accounts"][0]["account_number"] == "…6789"
    assert entry["after"]["payment_accounts"][0]["account_number"] == "…6788"
    assert entry["after"]["reason"] == "Nhập sai số cuối"
    assert "0123456788" not in str(dict(entry)) and "0123456789" not in str(dict(entry))
    stored = await conn.fetchval(
        "SELECT account_number FROM payment_account WHERE id = $1", account["id"]
    )
    assert stored.startswith("v1:")
    # The new number verifies again; a confirmed print of it clears the flag.
    new = payload.encode(bin="970422", account="0123456788")
    r = await client.post(f"/api/stalls/{stall['id']}/verify", json={"payload": new}, headers=h)
    assert r.status_code == 200 and r.json()["levels"]["qr_verified"] is True
    r = await client.post(f"/api/stalls/{stall['id']}/sign-printed", headers=h)
    assert r.status_code == 200 and r.json()["sign_reprint_needed"] is False
    assert (await counters.recount(conn, window_days=30)).ok


async def test_a_print_frozen_before_the_correction_does_not_clear_the_flag(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    m = markets["one"]
    stall = await _printed_and_verified(client, h, m)
    job = await client.post(f"/api/markets/{m}/print-jobs", json={}, headers=h)
    assert job.status_code == 201, job.text
    fix = {"account_number": "0123456788", "reason": "Nhập sai số cuối"}
    assert (await client.patch(_url(stall), json=fix, headers=h)).status_code == 200
    # The job's sheet shows the old number: confirming it leaves the sign flagged.
    r = await client.post(f"/api/print-jobs/{job.json()['id']}/confirm", json={}, headers=h)
    assert r.status_code == 200, r.text
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is True
    # A job made now prints the corrected account.
    job = await client.post(f"/api/markets/{m}/print-jobs", json={}, headers=h)
    await client.post(f"/api/print-jobs/{job.json()['id']}/confirm", json={}, headers=h)
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is False
    # clear_reprint is the service the confirmations call.
    await conn.execute(
        "UPDATE stall_coverage SET sign_reprint_needed = true, "
        "sign_reprint_reason = 'account_corrected' WHERE stall_id = $1",
        stall["id"],
    )
    await coverage_stalls.clear_reprint(conn, stall_id=stall["id"])
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is False


async def test_the_same_correction_sent_again_changes_nothing(client, auth, markets, conn):
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"])
    fix = {"account_name": "LUU THI NGOC THUY B", "reason": "Tên theo ngân hàng"}
    first = await client.patch(_url(stall), json=fix, headers=h)
    again = await client.patch(_url(stall), json=fix, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.json()["version"] == first.json()["version"] == stall["version"] + 1
    assert again.json()["payment_accounts"][0]["account_name"] == "LUU THI NGOC THUY B"
    # No sign was ever printed: nothing to reprint.
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is False
    n = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'correct_payment_account' "
        "AND entity_id = $1",
        str(stall["id"]),
    )
    assert n == 1


async def test_bad_corrections_are_refused_and_change_nothing(client, auth, markets):
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"])
    second = await client.post(
        f"/api/stalls/{stall['id']}/payment-accounts",
        json={"bin": "970436", "account_number": "111222333"},
        headers=h,
    )
    assert second.status_code == 201
    cases = [
        ({"account_number": "0123456788"}, 422, "validation_error"),  # no reason
        ({"account_number": "0123456788", "reason": ""}, 422, "invalid_reason"),
        ({"bin": "971025", "reason": "Ví MoMo"}, 422, "momo_reference_required"),
        ({"bin": "970436", "account_number": "111222333", "reason": "x"}, 409, "account_exists"),
        ({"account_number": None, "reason": "x"}, 422, "invalid_account_number"),
        ({"account_number": "12 34 5ư", "reason": "x"}, 422, "invalid_account_number"),
    ]
    for body, status, code in cases:
        r = await client.patch(_url(stall), json=body, headers=h)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    r = await client.patch(
        _url(stall), json={"account_name": "X", "reason": "x"}, headers=h | {"If-Match": '"1"'}
    )
    assert r.status_code == 412 and r.json()["code"] == "version_conflict"
    missing = f"/api/stalls/{stall['id']}/payment-accounts/{2**62}"
    r = await client.patch(missing, json={"account_name": "X", "reason": "x"}, headers=h)
    assert r.status_code == 404 and r.json()["code"] == "payment_account_not_found"
    after = (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json()
    assert after["payment_accounts"][0] == stall["payment_accounts"][0]
    # Outside the caller's markets: as if the stall did not exist (a 403 told them it does).
    other = await client.patch(
        _url(stall), json={"account_name": "X", "reason": "x"}, headers=await auth("volunteer2")
    )
    assert (other.status_code, other.json()["code"]) == (404, "stall_not_found")


async def test_a_deactivated_account_stops_counting_and_stays_in_history(
    client, auth, markets, conn
):
    h = await auth("volunteer")
    m = markets["one"]
    stall = await _printed_and_verified(client, h, m)
    partners = (await client.get("/api/coverage?group_by=partner", headers=h)).json()
    assert {g["key"]: g["active_stalls"] for g in partners["groups"]} == {"MB": 1}
    r = await client.post(
        _url(stall, "/deactivate"), json={"reason": "Chủ sạp đóng tài khoản"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["payment_accounts"][0]["active"] is False
    cov = await _coverage(client, h, stall["id"])
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (True, "account_deactivated")
    assert cov["verified_at"] is None and (await _levels(client, h, m))["qr_verified"] == 0
    partners = (await client.get("/api/coverage?group_by=partner", headers=h)).json()
    assert {g["key"]: g["active_stalls"] for g in partners["groups"]} == {"MB": 0}
    # The list shows no account left; the stall's QR has none to show.
    items = (await client.get(f"/api/markets/{m}/stalls", headers=h)).json()["items"]
    assert items[0]["account_count"] == 0
    r = await client.get(f"/api/stalls/{stall['id']}/qr.png", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "no_payment_account"
    # Again: nothing changes; a deactivated account is not corrected.
    again = await client.post(_url(stall, "/deactivate"), json={"reason": "x"}, headers=h)
    assert again.status_code == 200
    r = await client.patch(_url(stall), json={"account_name": "X", "reason": "x"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "account_inactive"
    entries = await conn.fetch(
        "SELECT after->>'reason' AS reason FROM audit_log WHERE entity_id = $1 "
        "AND action = 'deactivate_payment_account'",
        str(stall["id"]),
    )
    assert [e["reason"] for e in entries] == ["Chủ sạp đóng tài khoản"]
    assert (await counters.recount(conn, window_days=30)).ok


async def test_a_stopped_account_is_used_again_with_a_reason(client, auth, markets, conn):
    """Stopped by mistake (or the stallholder uses it again): reactivated, it counts again, its
    code must be verified again, and the stall's QR shows it; a resend changes nothing."""
    h = await auth("volunteer")
    m = markets["one"]
    stall = await _printed_and_verified(client, h, m)
    in_use = await _levels(client, h, m)
    assert in_use["qr_verified"] == 1
    r = await client.post(_url(stall, "/deactivate"), json={"reason": "Bấm nhầm"}, headers=h)
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    # Refused, changing nothing: no reason, a stale If-Match, an account of another stall.
    assert (await client.post(_url(stall, "/reactivate"), json={}, headers=h)).status_code == 422
    r = await client.post(
        _url(stall, "/reactivate"), json={"reason": "x"}, headers=h | {"If-Match": '"1"'}
    )
    assert r.status_code == 412 and r.json()["code"] == "version_conflict", r.text
    other = await _stall(
        client,
        h,
        m,
        code="B-3",
        holder={"full_name": "Trần Văn Bình", "phone": "0905 999 888"},
        payment_accounts=[{"bin": "970436", "account_number": "555666777"}],
    )
    r = await client.post(
        f"/api/stalls/{other['id']}/payment-accounts/{stall['payment_accounts'][0]['id']}/reactivate",
        json={"reason": "x"},
        headers=h,
    )
    assert r.status_code == 404 and r.json()["code"] == "payment_account_not_found"
    assert (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json()["version"] == version

    r = await client.post(
        _url(stall, "/reactivate"),
        json={"reason": "Ngừng nhầm, chủ sạp vẫn dùng"},
        headers=h | {"If-Match": f'"{version}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["payment_accounts"][0]["active"] is True
    assert r.json()["version"] == version + 1
    # It counts again as it did, but not as verified: the code is checked at the stall again.
    assert await _levels(client, h, m) == in_use | {"qr_verified": 0}
    cov = await _coverage(client, h, stall["id"])
    assert cov["verified_at"] is None
    # The sign printed with it shows it as it is: the flag the stop raised is gone.
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (False, None)
    partners = (await client.get("/api/coverage?group_by=partner", headers=h)).json()
    assert {g["key"]: g["active_stalls"] for g in partners["groups"]}["MB"] == 1
    r = await client.get(f"/api/stalls/{stall['id']}/qr.png", headers=h)
    assert r.status_code == 200
    # Again: nothing changes (a resend from the tablet's queue).
    again = await client.post(_url(stall, "/reactivate"), json={"reason": "x"}, headers=h)
    assert again.status_code == 200 and again.json()["version"] == version + 1
    entries = await conn.fetch(
        "SELECT after->>'reason' AS reason FROM audit_log WHERE entity_id = $1 "
        "AND action = 'reactivate_payment_account'",
        str(stall["id"]),
    )
    assert [e["reason"] for e in entries] == ["Ngừng nhầm, chủ sạp vẫn dùng"]
    assert (await counters.recount(conn, window_days=30)).ok


async def test_a_reactivated_account_corrected_since_its_print_still_needs_a_new_sign(
    client, auth, markets
):
    h = await auth("volunteer")
    stall = await _printed_and_verified(client, h, markets["one"])
    r = await client.patch(
        _url(stall), json={"account_number": "0123456780", "reason": "x"}, headers=h
    )
    assert r.status_code == 200, r.text
    for action in ("/deactivate", "/reactivate"):
        r = await client.post(_url(stall, action), json={"reason": "x"}, headers=h)
        assert r.status_code == 200, r.text
    cov = await _coverage(client, h, stall["id"])
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (True, "account_corrected")


async def test_a_reactivated_account_keeps_the_flag_when_the_signs_details_changed_since(
    client, auth, markets
):
    """The stop overwrote the stall's one reprint reason; an edit of what the sign shows made while
    it was flagged could not set its own: the history since the print tells."""
    h = await auth("volunteer")
    stall = await _printed_and_verified(client, h, markets["one"])
    r = await client.post(_url(stall, "/deactivate"), json={"reason": "x"}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/stalls/{stall['id']}",
        json={"goods": "Cá biển"},
        headers=h | {"If-Match": f'"{r.json()["version"]}"'},
    )
    assert r.status_code == 200, r.text
    r = await client.post(_url(stall, "/reactivate"), json={"reason": "x"}, headers=h)
    assert r.status_code == 200, r.text
    cov = await _coverage(client, h, stall["id"])
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (
        True,
        "sign_details_changed",
    )


async def test_an_erased_persons_account_stays_stopped(client, auth, markets, conn):
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"])
    r = await client.post(
        f"/api/stallholders/{stall['holder']['id']}/erase", headers=await auth("admin")
    )
    assert r.status_code == 200, r.text
    before = (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json()
    assert before["payment_accounts"][0]["active"] is False
    r = await client.post(_url(stall, "/reactivate"), json={"reason": "x"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "stallholder_erased", r.text
    assert (await client.get(f"/api/stalls/{stall['id']}", headers=h)).json() == before


async def test_an_erased_persons_stall_stops_counting_as_signed_verified_or_transacting(
    client, auth, markets, conn
):
    """What the console's erase box promises: the stall stays (active), but the sign at it shows
    an account that is gone, so it no longer counts as having a sign, a checked code or payments
    (a reviewer found it still counted as "Đã in biển" after the erasure)."""
    h, admin = await auth("volunteer"), await auth("admin")
    stall = await _stall(client, h, markets["one"])
    sid = stall["id"]
    assert (await client.post(f"/api/stalls/{sid}/sign-printed", headers=h)).status_code == 200
    assert (await client.post(f"/api/stalls/{sid}/sign-delivered", headers=h)).status_code == 200
    await counters.record_payment(conn, stall_id=sid, occurred_at=datetime.now(UTC), window_days=30)
    before = await _levels(client, h, markets["one"])
    cov = await _coverage(client, h, sid)
    assert cov["level"] == "transacting" and cov["levels"]["qr_issued"] is True
    r = await client.post(f"/api/stallholders/{stall['holder']['id']}/erase", headers=admin)
    assert r.status_code == 200, r.text
    cov = await _coverage(client, h, sid)
    assert cov["status"] == "active" and cov["level"] == "registered", cov
    assert (cov["sign_issued_at"], cov["sign_delivered_at"], cov["last_payment_at"]) == (
        None,
        None,
        None,
    )
    assert cov["sign_reprint_needed"] is False
    after = await _levels(client, h, markets["one"])
    for level in ("qr_issued", "transacting"):
        assert after[level] == before[level] - 1, (level, before, after)
    assert (await counters.recount(conn, window_days=30)).ok
    # A late payment through the old sign (its CS<id> reference names the stall) does not make
    # it transacting again: the money went to the erased person's account.
    await counters.record_payment(conn, stall_id=sid, occurred_at=datetime.now(UTC), window_days=30)
    assert (await _coverage(client, h, sid))["level"] == "registered"
    # With a new account, its payments count; one dated before the erasure still does not.
    r = await client.post(
        f"/api/stalls/{sid}/payment-accounts",
        json={"bin": "970436", "account_number": "99887766"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    await counters.record_payment(
        conn, stall_id=sid, occurred_at=datetime.now(UTC) - timedelta(days=1), window_days=30
    )
    assert (await _coverage(client, h, sid))["last_payment_at"] is None
    await counters.record_payment(conn, stall_id=sid, occurred_at=datetime.now(UTC), window_days=30)
    assert (await _coverage(client, h, sid))["level"] == "transacting"
    assert (await counters.recount(conn, window_days=30)).ok


async def test_correcting_an_account_no_sign_shows_flags_nothing(client, auth, markets):
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"])
    r = await client.post(
        f"/api/stalls/{stall['id']}/payment-accounts",
        json={"bin": "970436", "account_number": "111222333"},
        headers=h,
    )
    second = r.json()["payment_accounts"][1]
    # The sign is printed with the first account only.
    assert (
        await client.post(f"/api/stalls/{stall['id']}/sign-printed", headers=h)
    ).status_code == 200
    url = f"/api/stalls/{stall['id']}/payment-accounts/{second['id']}"
    r = await client.patch(url, json={"account_number": "111222334", "reason": "x"}, headers=h)
    assert r.status_code == 200
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is False
    r = await client.patch(
        _url(stall), json={"account_number": "0123456780", "reason": "x"}, headers=h
    )
    assert (await _coverage(client, h, stall["id"]))["sign_reprint_needed"] is True


async def _edit(client, h, stall_id: int, body: dict) -> dict:
    current = (await client.get(f"/api/stalls/{stall_id}", headers=h)).json()
    r = await client.patch(
        f"/api/stalls/{stall_id}", json=body, headers=h | {"If-Match": str(current["version"])}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_an_edit_of_what_the_sign_shows_flags_it_for_reprint(client, auth, markets, conn):
    """A sign shows the stall's code and zone, the stallholder's name and the goods: once it is
    printed, changing one of them flags it for reprint; changing the phone does not."""
    h = await auth("volunteer")
    stall = await _stall(client, h, markets["one"], code="A-30")
    sid = stall["id"]
    # No sign yet: nothing to reprint.
    await _edit(client, h, sid, {"stall_code": "A-31"})
    assert (await _coverage(client, h, sid))["sign_reprint_needed"] is False
    assert (await client.post(f"/api/stalls/{sid}/sign-printed", headers=h)).status_code == 200
    # The phone is not on the sign; an emptied phone and goods are removed (null).
    edited = await _edit(client, h, sid, {"holder": {"phone": None}})
    assert edited["holder"]["phone"] is None
    assert (await _coverage(client, h, sid))["sign_reprint_needed"] is False
    for change in ({"goods": None}, {"stall_code": "A-32"}, {"holder": {"full_name": "Lê Thị B"}}):
        await _edit(client, h, sid, change)
        cov = await _coverage(client, h, sid)
        assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (
            True,
            "sign_details_changed",
        ), change
        # A confirmed new print clears it.
        r = await client.post(f"/api/stalls/{sid}/sign-printed", headers=h)
        assert r.status_code == 200 and r.json()["sign_reprint_needed"] is False
    # An account reason flagged first keeps its reason.
    fix = {"account_number": "0123456788", "reason": "Nhập sai số cuối"}
    assert (await client.patch(_url(stall), json=fix, headers=h)).status_code == 200
    await _edit(client, h, sid, {"stall_code": "A-33"})
    cov = await _coverage(client, h, sid)
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (True, "account_corrected")
    assert (await counters.recount(conn, window_days=30)).ok


async def test_an_added_or_corrected_account_another_stall_is_paid_on_is_refused_when_asked(
    client, auth, markets, conn
):
    """The registration's shared-account check (account_in_use) holds when an account is added to
    a registered stall or corrected: typed from the wrong stall's card, the sign would send this
    stall's money to that holder. The tablet asks it (check_shared_account); the volunteer who
    confirms both stalls are paid on the account sends without; other markets do not count."""
    from merchants.queries import stalls as stalls_q

    h = await auth("volunteer")
    m = markets["one"]
    first = await _stall(client, h, m)  # paid on MB 0123456789
    other = {"full_name": "Hồ Thị Sáu", "phone": "0912 000 111"}
    second = await _stall(
        client, h, m, "A-13", holder=other,
        payment_accounts=[{"bin": "970436", "account_number": "0011001932418"}],
    )  # fmt: skip
    add_url = f"/api/stalls/{second['id']}/payment-accounts"
    taken = {"bin": "970422", "account_number": "0123-456-789", "check_shared_account": True}

    before = await stalls_q.table_counts(conn)
    r = await client.post(add_url, json=taken, headers=h)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert (problem["code"], problem["field"]) == ("account_in_use", "account_number")
    assert problem["existing_stall_id"] == first["id"]
    assert await stalls_q.table_counts(conn) == before
    again = (await client.get(f"/api/stalls/{second['id']}", headers=h)).json()
    assert again["version"] == second["version"] and len(again["payment_accounts"]) == 1

    # Corrected onto the other stall's account: refused the same way, nothing changes.
    fix = {"bin": "970422", "account_number": "0123456789", "reason": "Nhập sai"}
    fix["check_shared_account"] = True
    r = await client.patch(_url(second), json=fix, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "account_in_use"), r.text
    assert r.json()["field"] == "account_number"
    unchanged = (await client.get(f"/api/stalls/{second['id']}", headers=h)).json()
    assert unchanged["payment_accounts"][0]["account_number"] == "0011001932418"
    # A correction of the name only, with the flag, is not a move onto another account.
    name_only = {"account_name": "HO THI SAU", "reason": "Tên", "check_shared_account": True}
    assert (await client.patch(_url(second), json=name_only, headers=h)).status_code == 200

    # The stall itself is not "another stall": correcting its own account keeps it.
    own = {"account_name": "LUU THI NGOC THUY", "reason": "Tên", "check_shared_account": True}
    assert (await client.patch(_url(first), json=own, headers=h)).status_code == 200
    # A stall of another market is not in use here.
    elsewhere = await _stall(
        client, await auth("admin"), markets["two"], "B-1", holder={"full_name": "Bà Tư", "phone": "0913 000 222"},
        payment_accounts=[{"bin": "970415", "account_number": "1010101010"}],
    )  # fmt: skip
    moved = {"bin": "970415", "account_number": "1010101010", "check_shared_account": True}
    assert (await client.post(add_url, json=moved, headers=h)).status_code == 201
    assert elsewhere["market_id"] != second["market_id"]

    # Confirmed (sent without the check): both stalls are paid on it.
    confirmed = {k: v for k, v in taken.items() if k != "check_shared_account"}
    r = await client.post(add_url, json=confirmed, headers=h)
    assert r.status_code == 201, r.text
    assert [a["account_number"] for a in r.json()["payment_accounts"]][-1] == "0123456789"
