"""What a printed sign shows of a stall's texts, and the `Sign-Shortened` header that says when it
shows one only in part (the preview on screen shows every text whole)."""

from __future__ import annotations

import uuid

from tests.conftest import stall_body

# 99 characters of the widest letter: no two lines of the sign hold them, even at 6 pt.
WIDE_GOODS = " ".join(["WWWWWWWWW"] * 10)
# 98 characters as a market's stalls write them: two lines, whole.
LONG_GOODS = "Rau củ quả, trái cây tươi, thịt heo, thịt bò, gà vịt, trứng, hải sản tươi sống, đồ khô các loại"


async def _register(client, headers, market_id: int, code: str, goods: str, phone: str) -> dict:
    body = stall_body(code, goods=goods)
    body["holder"]["phone"] = phone
    body["payment_accounts"][0]["account_number"] = phone[-8:]
    r = await client.post(
        f"/api/markets/{market_id}/stalls",
        json=body,
        headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_sign_names_the_texts_it_cuts_and_says_nothing_when_it_shows_all(
    client, auth, markets
):
    headers = await auth("volunteer")
    whole = await _register(client, headers, markets["one"], "ST-1", LONG_GOODS, "0905111001")
    cut = await _register(client, headers, markets["one"], "ST-2", WIDE_GOODS, "0905111002")
    r = await client.get(f"/api/stalls/{whole['id']}/sign.pdf", headers=headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert "Sign-Shortened" not in r.headers
    r = await client.get(f"/api/stalls/{cut['id']}/sign.pdf?size=A5", headers=headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["Sign-Shortened"] == "goods"


async def test_a_sign_opened_before_its_account_was_corrected_is_not_counted_as_printed(
    client, auth, markets, conn
):
    """A correction queued on the tablet reached the server while the sheet printed: the sheet
    pays the old account. Its confirmation carries the PDF's Sign-Digest and is refused; the sign
    opened after the correction is confirmed."""
    headers = await auth("volunteer")
    stall = await _register(client, headers, markets["one"], "ST-3", "Rau", "0905111003")
    account = stall["payment_accounts"][0]
    sign = await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=headers)
    old_digest = sign.headers["Sign-Digest"]
    assert len(old_digest) == 16
    # Opening the same sign again gives the same digest; a correction changes it.
    again = await client.get(f"/api/stalls/{stall['id']}/sign.pdf?size=A5", headers=headers)
    assert again.headers["Sign-Digest"] == old_digest
    fix = {"account_number": "0905111099", "reason": "Nhập sai số cuối"}
    r = await client.patch(
        f"/api/stalls/{stall['id']}/payment-accounts/{account['id']}", json=fix, headers=headers
    )
    assert r.status_code == 200, r.text
    prints = "SELECT count(*) FROM sign_print WHERE stall_id = $1"
    r = await client.post(
        f"/api/stalls/{stall['id']}/sign-printed?account_id={account['id']}",
        json={"sign_digest": old_digest},
        headers=headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "sign_changed", r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await conn.fetchval(prints, stall["id"]) == 0
    cov = (await client.get(f"/api/stalls/{stall['id']}/coverage", headers=headers)).json()
    assert cov["sign_issued_at"] is None
    # A digest that is not one is a validation error, not a refusal of the print.
    r = await client.post(
        f"/api/stalls/{stall['id']}/sign-printed", json={"sign_digest": "x" * 16}, headers=headers
    )
    assert r.status_code == 422 and r.json()["field"] == "sign_digest", r.text
    new = await client.get(f"/api/stalls/{stall['id']}/sign.pdf", headers=headers)
    assert new.headers["Sign-Digest"] != old_digest
    r = await client.post(
        f"/api/stalls/{stall['id']}/sign-printed?account_id={account['id']}",
        json={"sign_digest": new.headers["Sign-Digest"]},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["sign_issued_at"], r.text
    assert await conn.fetchval(prints, stall["id"]) == 1
    # Without a digest (a confirmation queued by an older copy of the app): as before.
    r = await client.post(f"/api/stalls/{stall['id']}/sign-printed", headers=headers)
    assert r.status_code == 200, r.text


async def test_a_print_job_names_the_texts_each_of_its_signs_cuts(client, auth, markets):
    """The market's print job says per sign what its PDF shows only in part, as the one-stall
    sign's header does, so the person printing learns it before hanging the signs."""
    headers = await auth("volunteer")
    whole = await _register(client, headers, markets["one"], "PJ-1", LONG_GOODS, "0905111011")
    cut = await _register(client, headers, markets["one"], "PJ-2", WIDE_GOODS, "0905111012")
    r = await client.post(
        f"/api/markets/{markets['one']}/print-jobs", json={"size": "A6"}, headers=headers
    )
    assert r.status_code == 201, r.text
    job = r.json()
    by_stall = {s["stall_id"]: s["sign_shortened"] for s in job["stalls"]}
    assert by_stall[whole["id"]] == [] and by_stall[cut["id"]] == ["goods"]
    again = await client.get(f"/api/print-jobs/{job['id']}", headers=headers)
    assert again.status_code == 200 and again.json()["stalls"] == job["stalls"]
