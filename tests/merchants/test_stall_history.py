"""A stall's history (GET /api/stalls/{id}/history): every change with who, when, why and what it
changed, newest first, numbers masked as the audit log keeps them; in scope only; the read is
logged like the stall's own and changes nothing else."""

from __future__ import annotations

import uuid

from tests.conftest import stall_body

TYPED_ACCOUNT = "0123456789"  # stall_body's MB account


async def _register(client, h, market_id: int) -> dict:
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=stall_body("H-1"),
        headers=h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_history_shows_each_change_with_who_when_and_why(client, auth, markets, conn):
    h = await auth("volunteer")
    await conn.execute(
        "UPDATE app_user SET display_name = 'Trần Tình Nguyện' WHERE username = 'volunteer'"
    )
    stall = await _register(client, h, markets["one"])
    sid, aid = stall["id"], stall["payment_accounts"][0]["id"]
    r = await client.patch(
        f"/api/stalls/{sid}",
        json={"goods": "Cá biển", "holder": {"full_name": "Lưu Thị Thùy"}},
        headers=h | {"If-Match": f'"{stall["version"]}"'},
    )
    assert r.status_code == 200, r.text
    url = f"/api/stalls/{sid}/payment-accounts/{aid}"
    r = await client.patch(
        url, json={"account_number": "0123456780", "reason": "Sai số cuối"}, headers=h
    )
    assert r.status_code == 200, r.text
    r = await client.post(url + "/deactivate", json={"reason": "Bấm nhầm"}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(url + "/reactivate", json={"reason": "Vẫn dùng"}, headers=h)
    assert r.status_code == 200, r.text

    r = await client.get(f"/api/stalls/{sid}/history", headers=h)
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [e["action"] for e in entries] == [
        "reactivate_payment_account",
        "deactivate_payment_account",
        "correct_payment_account",
        "update",
        "register",
    ]
    assert {e["actor"] for e in entries} == {"Trần Tình Nguyện"}
    assert [e["reason"] for e in entries[:3]] == ["Vẫn dùng", "Bấm nhầm", "Sai số cuối"]
    assert entries[3]["changes"] == [
        {"field": "goods", "before": "Rau củ", "after": "Cá biển"},
        {"field": "holder_name", "before": "Lưu Thị Ngọc Thùy", "after": "Lưu Thị Thùy"},
    ]
    assert entries[2]["changes"] == [
        {"field": "account_number", "before": "…6789", "after": "…6780"}
    ]
    assert entries[2]["account"] == {
        "bin": "970422",
        "account_number": "…6780",
        "account_name": "LUU THI NGOC THUY",
    }
    assert entries[0]["changes"] == [] and entries[0]["account"]["account_number"] == "…6780"
    # Masked as the audit log keeps them: no whole number or phone in the answer.
    assert TYPED_ACCOUNT not in r.text and "0123456780" not in r.text and "123 456" not in r.text
    assert "905123456" not in r.text
    assert len((await client.get(f"/api/stalls/{sid}/history?limit=2", headers=h)).json()) == 2
    # The read of the person's data is logged, as the stall's own.
    reasons = await conn.fetch(
        "SELECT reason FROM access_log WHERE stallholder_id = $1 AND reason = 'stall_history'",
        stall["holder"]["id"],
    )
    assert len(reasons) == 2


async def test_the_history_is_read_in_scope_only(client, auth, markets):
    stall = await _register(client, await auth("volunteer"), markets["one"])
    for who, status in (("volunteer2", 404), ("viewer", 403), ("partner", 403)):
        r = await client.get(f"/api/stalls/{stall['id']}/history", headers=await auth(who))
        assert r.status_code == status, (who, r.text)
        assert "Lưu" not in r.text
    h = await auth("manager")
    r = await client.get(f"/api/stalls/{stall['id']}/history", headers=h)  # the market's ward
    assert r.status_code == 200 and r.json()[0]["action"] == "register", r.text
    for bad in ("limit=0", "limit=501", "limit=x", "limit=1e3"):
        r = await client.get(f"/api/stalls/{stall['id']}/history?{bad}", headers=h)
        assert r.status_code == 422, bad
    r = await client.get("/api/stalls/999999999/history", headers=await auth("volunteer"))
    assert r.status_code == 404 and r.json()["code"] == "stall_not_found"


async def test_numbers_typed_in_a_reason_and_references_are_masked(client, auth, markets):
    h = await auth("volunteer")
    body = stall_body(
        "H-2",
        payment_accounts=[
            {"bin": "971025", "account_number": "0905111222", "reference": "MOMOW2W12345678"}
        ],
    )
    r = await client.post(
        f"/api/markets/{markets['one']}/stalls",
        json=body,
        headers=h | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    stall = r.json()
    url = f"/api/stalls/{stall['id']}/payment-accounts/{stall['payment_accounts'][0]['id']}"
    r = await client.patch(
        url,
        json={"reference": "MOMOW2W87654321", "reason": "Chủ sạp báo số 0905 111 222, mã cũ sai"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/stalls/{stall['id']}/history", headers=h)
    entry = r.json()[0]
    assert entry["reason"] == "Chủ sạp báo số …1222, mã cũ sai"
    assert entry["changes"] == [{"field": "account_reference", "before": "…5678", "after": "…4321"}]
    for secret in ("0905 111 222", "0905111222", "MOMOW2W12345678", "MOMOW2W87654321"):
        assert secret not in r.text, secret
