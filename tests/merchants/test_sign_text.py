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
