"""Issue 12 in a real browser: the zone chip never doubles the code's prefix; a Vietnamese stall code
registered end to end; an over-long code refused at its field (never cut); a payment account
corrected, deactivated and used again on the tablet, and the sign flagged for reprint."""

from __future__ import annotations

import pytest

from tests.web.conftest import shot, sign_in
from tests.web.test_volunteer import (
    fill_form,
    market_ids,
    open_form,
    register_via_api,
    stall_on_screen,
)

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = pytest.mark.browser


async def test_tapping_a_zone_never_doubles_its_prefix(new_page) -> None:
    page = await new_page()
    await sign_in(page)
    await open_form(page)
    code = "#f-stall_code"
    await page.click("label[for=f-zone-A]")
    assert await page.input_value(code) == "A-"
    # The volunteer types the whole code after the "A-" the chip put there.
    await page.keyboard.type("A-15")
    assert await page.input_value(code) == "A-15"
    # Tapping the zone again, or another zone, leaves a typed code alone.
    await page.click("label[for=f-zone-A]")
    await page.click("label[for=f-zone-B]")
    await page.click("label[for=f-zone-A]")
    assert await page.input_value(code) == "A-15"
    # A bare number typed first gets the prefix once.
    await page.fill(code, "")
    await page.click("label[for=f-zone-B]")
    assert await page.input_value(code) == "B-"
    await page.fill(code, "16")
    await page.click("label[for=f-zone-A]")
    assert await page.input_value(code) == "A-16"
    await page.click("label[for=f-zone-A]")
    assert await page.input_value(code) == "A-16"


async def test_a_vietnamese_stall_code_registered_end_to_end(new_page, live_server) -> None:
    # A market of its own (archived at the end, which takes it off every view).
    async with await live_server.api("admin") as c:
        r = await c.post(
            "/api/markets",
            json={"name": "Chợ Thử Đà", "ward_code": "20242", "zones": ["Khu Cá", "Nhà lồng Ư"]},
        )
        assert r.status_code == 201, r.text
        market_id = r.json()["id"]
    try:
        page = await new_page()
        await sign_in(page, "admin")
        await page.goto(f"/#/m/{market_id}/new")
        await page.wait_for_selector("#register-form")
        # A zone whose name says what place it is keeps its name ("Khu Khu Cá" was shown).
        chips = await page.locator("#f-zone label").all_inner_texts()
        assert chips == ["Khu Cá", "Nhà lồng Ư", "Chưa rõ khu"]
        await page.click("label[for='f-zone-Khu Cá']")
        assert await page.input_value("#f-stall_code") == "Khu Cá-"
        # Over-long: the field keeps every character typed and says the rule at once.
        await page.fill("#f-stall_code", "")
        await page.click("#f-stall_code")
        await page.keyboard.type("Đ-123456789012345678X")  # 21 characters
        assert await page.input_value("#f-stall_code") == "Đ-123456789012345678X"
        error = page.locator("#f-stall_code-error")
        await error.wait_for(state="visible")
        assert "1–20 ký tự" in await error.inner_text()
        await shot(page, "corrections-01-code-too-long")
        await page.keyboard.press("Backspace")
        await error.wait_for(state="hidden")
        await fill_form(page, code="Đ-5", name="Nguyễn Thị Ưng", phone="0905 123 505")
        await page.click("label[for='f-zone-Nhà lồng Ư']")
        assert await page.input_value("#f-stall_code") == "Đ-5"  # a typed code keeps its own prefix
        await page.click("#save-stall")
        await page.wait_for_selector("#saved-banner")
        assert "Đ-5" in await page.locator("h1").inner_text()
        assert await page.locator("h1 + p.muted").inner_text() == "Chợ Thử Đà · Nhà lồng Ư"
        await shot(page, "corrections-02-vietnamese-code")
        async with await live_server.api("admin") as c:
            items = (await c.get(f"/api/markets/{market_id}/stalls", params={"q": "đ5"})).json()[
                "items"
            ]
        assert [(s["stall_code"], s["zone"]) for s in items] == [("Đ-5", "Nhà lồng Ư")]
        # The same code in lower case is the same stall: refused next to the field, in Vietnamese.
        await page.goto(f"/#/m/{market_id}/new")
        await page.wait_for_selector("#register-form")
        await fill_form(page, code="đ-5", name="Trần Văn Năm", phone="0905 123 506")
        await page.click("#save-stall")
        await page.wait_for_selector("#f-stall_code-error:has-text('đã được đăng ký')")
    finally:
        # The market leaves the dashboards and the map the other tests look at.
        async with await live_server.api("admin") as c:
            await c.post(f"/api/markets/{market_id}/archive", json={"reason": "test done"})


async def test_an_account_is_corrected_and_deactivated_on_the_tablet(new_page, live_server) -> None:
    ids = await market_ids(live_server)
    account = {"bin": "970422", "account_number": "9704220011", "account_name": "LE THI SAU"}
    stall = await register_via_api(
        live_server, ids["Chợ Thử Một"], "Q-77", "Lê Thị Sáu", account=account
    )
    async with await live_server.api("volunteer") as c:
        assert (await c.post(f"/api/stalls/{stall['id']}/sign-printed")).status_code == 200
    account_id = stall["payment_accounts"][0]["id"]
    page = await new_page()
    await sign_in(page)
    await page.goto(f"/#/s/{stall['id']}")
    await page.wait_for_selector("#account-list")
    assert await page.locator("#reprint-needed").count() == 0
    # With one account, "Sửa tài khoản" sits with the big buttons too (a reviewer found only the
    # small link in the details); both open the same form.
    big = page.locator(".action-grid #fix-account")
    assert await big.get_attribute("href") == f"#/s/{stall['id']}/account/{account_id}"
    await page.click(f"#fix-account-{account_id}")
    await page.wait_for_selector("#account-fix-form")
    assert await page.input_value("#f-acct") == "9704220011"
    await page.fill("#f-acct", "9704220012")
    await page.click("#account-fix-save")
    # The reason is asked for, next to its field.
    await page.wait_for_selector("#f-reason-error:visible")
    await page.fill("#f-reason", "Nhập sai số cuối")
    await page.click("#account-fix-save")
    await page.wait_for_selector("#reprint-needed")
    assert "Cần in lại biển" in await page.locator("#reprint-needed").inner_text()
    assert "9704220012" in await page.locator("#account-list").inner_text()
    await shot(page, "corrections-03-reprint-needed")
    async with await live_server.api("admin") as c:
        cov = (await c.get(f"/api/stalls/{stall['id']}/coverage")).json()
    assert (cov["sign_reprint_needed"], cov["sign_reprint_reason"]) == (True, "account_corrected")

    # Deactivate it, with a reason and a confirmation.
    await page.click(f"#fix-account-{account_id}")
    await page.wait_for_selector("#account-off-form")
    await page.click("#account-off")
    await page.wait_for_selector("#f-off-reason-error:visible")
    await page.fill("#f-off-reason", "Chủ sạp đóng tài khoản")
    await page.click("#account-off")
    await page.click("#account-off-dialog-ok")
    await page.wait_for_selector(
        f"#account-list li[data-account='{account_id}'][data-active=false]"
    )
    assert "đã ngừng dùng" in await page.locator("#account-list").inner_text()
    async with await live_server.api("admin") as c:
        got = (await c.get(f"/api/stalls/{stall['id']}")).json()
    assert got["payment_accounts"][0]["active"] is False
    assert got["payment_accounts"][0]["account_number"] == "9704220012"

    # Stopped by mistake: "Dùng lại", with a reason and a confirmation, puts it back in use.
    await page.click(f"#reuse-account-{account_id}")
    await page.wait_for_selector("#account-on-form")
    assert "9704220012" in await page.locator("#account-on-form").inner_text()
    await page.click("#account-on")
    await page.wait_for_selector("#f-on-reason-error:visible")
    await page.fill("#f-on-reason", "Ngừng nhầm")
    await shot(page, "corrections-04-account-use-again-form")
    await page.click("#account-on")
    await page.click("#account-on-dialog-ok")
    await page.wait_for_selector(f"#account-list li[data-account='{account_id}'][data-active=true]")
    assert await page.locator(f"#reuse-account-{account_id}").count() == 0
    # The sign still shows the number as it was before the correction.
    assert "đã được sửa" in await page.locator("#reprint-needed").inner_text()
    await shot(page, "corrections-05-account-used-again")
    # The stall's history says who did each, when and why, in Vietnamese.
    await page.click("#show-history")
    items = page.locator("#history .history-list > li")
    await expect(items.first).to_contain_text("Dùng lại tài khoản")
    text = await page.locator("#history").inner_text()
    for words in (
        "Lý do: Ngừng nhầm",
        "Ngừng dùng tài khoản",
        "Lý do: Chủ sạp đóng tài khoản",
        "Sửa tài khoản",
        "Số tài khoản: …0011 → …0012",
        "Lý do: Nhập sai số cuối",
        "Đăng ký sạp",
        "MBBank …0012",
    ):
        assert words in text, words
    assert [a for a in await items.evaluate_all("els => els.map(e => e.dataset.action)")] == [
        "reactivate_payment_account",
        "deactivate_payment_account",
        "correct_payment_account",
        "print_confirmed",
        "register",
    ]
    await page.locator("#history").scroll_into_view_if_needed()
    await shot(page, "corrections-06-history")
    async with await live_server.api("admin") as c:
        got = (await c.get(f"/api/stalls/{stall['id']}")).json()
    assert got["payment_accounts"][0]["active"] is True


async def test_the_worklist_finds_a_stall_by_its_whole_phone_and_its_code_without_dash(
    new_page, live_server
) -> None:
    ids = await market_ids(live_server)
    stall = await register_via_api(
        live_server, ids["Chợ Thử Một"], "P-15", "Đinh Thị Bảy", phone="0905 777 815"
    )
    await register_via_api(
        live_server, ids["Chợ Thử Một"], "S-3", "Đinh Văn Tám", phone="0905 777 816"
    )
    page = await new_page()
    await sign_in(page)
    await page.wait_for_selector("#worklist")
    await page.click("label[for=filter-all]")
    # The list on the device masks phones; the whole number is looked up on the server.
    rows = page.locator(".stall-row")
    for q in ("0905 777 815", "+84905777815", "905777815", "p15", "P 15"):
        await page.fill("#search", "")
        await expect(rows).not_to_have_count(1)
        await page.fill("#search", q)
        await expect(rows).to_have_count(1)
        assert await rows.get_attribute("data-stall") == str(stall["id"]), q


async def test_an_archived_market_offers_no_registration(new_page, live_server) -> None:
    """A market archived in the console (or while its worklist is open) says so on the tablet and
    offers no "register a stall" that the server would refuse."""
    async with await live_server.api("admin") as c:
        r = await c.post("/api/markets", json={"name": "Chợ Thử Lưu Trữ", "ward_code": "20242"})
        assert r.status_code == 201, r.text
        market_id = r.json()["id"]
        r = await c.post(f"/api/markets/{market_id}/archive", json={"reason": "Chợ đóng cửa"})
        assert r.status_code == 200, r.text
    page = await new_page()
    await sign_in(page, "admin")
    await page.goto(f"/#/m/{market_id}")
    await page.wait_for_selector("#worklist")
    assert "lưu trữ" in await page.locator("#archived-note").inner_text()
    assert await page.locator("#register-new").count() == 0


async def correct_offline(page, account_id: int, number: str) -> None:
    """Correct the stall's account with the device offline; the stall page opens again."""
    await page.wait_for_selector("#account-list")
    await page.context.set_offline(True)
    await page.click(f"#fix-account-{account_id}")
    await page.wait_for_selector("#account-fix-form")
    await page.fill("#f-acct", number)
    await page.fill("#f-reason", "Nhập sai số cuối")
    await page.click("#account-fix-save")
    await page.wait_for_selector("#account-list")


async def test_a_correction_and_a_stop_made_offline_both_reach_the_server(
    new_page, live_server
) -> None:
    """A stop carries the stall version it was decided on (If-Match), so a resend cannot undo a
    later change; this device's own earlier change, queued with it, is not such a change: once it
    is sent, the stop follows the version it made and goes through."""
    page, stall = await stall_on_screen(
        new_page, live_server, "Q-88", "Tạ Thị Tám", "9704220088", "TA THI TAM"
    )
    account_id = stall["payment_accounts"][0]["id"]
    await correct_offline(page, account_id, "9704220089")
    await page.click(f"#fix-account-{account_id}")
    await page.wait_for_selector("#account-off-form")
    await page.fill("#f-off-reason", "Chủ sạp không dùng nữa")
    await page.click("#account-off")
    await page.click("#account-off-dialog-ok")
    await page.wait_for_selector("#account-list")
    await page.context.set_offline(False)
    got: dict = {}
    for _ in range(60):
        async with await live_server.api("admin") as c:
            got = (await c.get(f"/api/stalls/{stall['id']}")).json()["payment_accounts"][0]
        if got["active"] is False:
            break
        await page.wait_for_timeout(250)
    assert (got["account_number"], got["active"]) == ("9704220089", False)
    async with await live_server.api("admin") as c:
        history = (await c.get(f"/api/stalls/{stall['id']}/history")).json()
    assert [e["action"] for e in history[:2]] == [
        "deactivate_payment_account",
        "correct_payment_account",
    ]


async def test_no_sign_is_printed_while_a_correction_waits_and_the_page_follows_it(
    new_page, live_server
) -> None:
    """An account corrected offline: the stall page still shows the server's copy (the old
    number), so it says a change waits and prints no sign (the sheet would pay the old account);
    once the queue has sent the change, the page is drawn again with the new number."""
    page, stall = await stall_on_screen(
        new_page, live_server, "Q-71", "Lê Thị Bảy", "9704220071", "LE THI BAY"
    )
    account_id = stall["payment_accounts"][0]["id"]
    await expect(page.locator("#print-sign")).to_be_enabled()
    await correct_offline(page, account_id, "9704220072")
    await expect(page.locator("#print-sign")).to_be_disabled()
    await expect(page.locator("#print-blocked")).to_contain_text("chưa gửi (như sửa tài khoản)")
    await page.context.set_offline(False)
    await expect(page.locator("#sign .sign-number")).to_have_text("9704220072", timeout=15000)
    await expect(page.locator("#print-sign")).to_be_enabled()
    await expect(page.locator("#print-blocked")).to_have_count(0)
