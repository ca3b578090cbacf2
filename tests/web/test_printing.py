"""Printing in the browser: opening signs counts nothing; confirming the sheets counts them."""

from __future__ import annotations

import pytest

from tests.web.conftest import shot, sign_in
from tests.web.test_volunteer import market_ids, register_via_api

pytestmark = pytest.mark.browser


async def _issued(live_server, stall_id: int) -> bool:
    async with await live_server.api("admin") as c:
        return bool((await c.get(f"/api/stalls/{stall_id}/coverage")).json()["levels"]["qr_issued"])


async def test_the_worklist_prints_unprinted_signs_as_a_job_and_counts_them_once_confirmed(
    new_page, live_server
) -> None:
    market = (await market_ids(live_server))["Chợ Thử Một"]
    stalls = [
        await register_via_api(
            live_server,
            market,
            code,
            name,
            account={"bin": "970436", "account_number": number},
            user="volunteer",
        )
        for code, name, number in (
            ("PJ-1", "Đỗ Văn Một", "7001000001"),
            ("PJ-2", "Đỗ Văn Hai", "7001000002"),
        )
    ]
    # A name far wider than Vietnamese words: its sign shows it cut, and the job says which sign.
    await register_via_api(
        live_server, market, "PJ-3", " ".join(["WWWWWWWWW"] * 10),
        account={"bin": "970436", "account_number": "7001000003"}, user="volunteer",
    )  # fmt: skip
    # Vietcombank suspended the second stall's account: its sign still prints, and the job says so.
    async with await live_server.api("admin") as c:
        for status in ("active", "suspended"):
            body = {"payment_account_id": stalls[1]["payment_accounts"][0]["id"],
                    "partner_code": "VCB", "channel": "partner_import", "status": status}  # fmt: skip
            r = await c.post(f"/api/stalls/{stalls[1]['id']}/onboardings", json=body)
            assert r.status_code in (200, 201), r.text
    page = await new_page()
    await sign_in(page)
    await page.wait_for_selector("#worklist")
    async with page.expect_response(lambda r: "/print-jobs/" in r.url and "signs.pdf" in r.url):
        async with page.context.expect_page() as popup:
            await page.click("#print-unprinted")
    await (await popup.value).close()
    stopped = await page.locator("#print-job-stopped").inner_text()
    assert "PJ-2" in stopped and "PJ-1" not in stopped and "tạm ngưng" in stopped
    shortened = await page.locator("#print-job-shortened").inner_text()
    assert "PJ-3 (tên chủ sạp)" in shortened and "PJ-1" not in shortened, shortened
    await shot(page, "print-job-confirm")
    # The PDF is open; nothing counts until the volunteer says the sheets came out.
    assert [await _issued(live_server, s["id"]) for s in stalls] == [False, False]
    # The flagged signs may stay off the count (a reviewer could only confirm all or none); other
    # tests' stalls of the market may be flagged too, so the count is the note's.
    flagged = int(stopped.split(" ", 1)[0])  # "N biển dùng tài khoản …"
    assert await page.locator("#confirm-print-job-others").inner_text() == (
        f"Đã in, trừ {flagged} biển này (chưa treo)"
    )
    await page.click("#confirm-print-job-others")
    await page.wait_for_selector(".banner:has-text('biển đã in')")
    assert [await _issued(live_server, s["id"]) for s in stalls] == [True, False]
    await page.wait_for_selector("#confirm-print-job", state="detached")
