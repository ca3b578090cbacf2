"""Accessibility basics checked with axe-core on every main screen: labels, contrast, names."""

from __future__ import annotations

import pytest

from tests.web.conftest import LAPTOP, PHONE, sign_in

pytestmark = pytest.mark.browser


async def serious(page) -> list[str]:
    """Critical and serious axe violations on the page, as readable lines."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] in ("critical", "serious"):
            where = "; ".join(n["target"][0] for n in v["nodes"][:5])
            found.append(f"{v['id']} ({v['impact']}): {v['help']} — {where}")
    return found


async def test_volunteer_screens_have_no_serious_violations(new_page, live_server) -> None:
    page = await new_page(viewport=PHONE)
    await page.goto("/")
    await page.wait_for_selector("#username")
    assert await serious(page) == [], "sign-in"
    await sign_in(page)
    await page.wait_for_selector("#worklist")
    assert await serious(page) == [], "worklist"
    await page.click("#register-new")
    await page.wait_for_selector("#register-form")
    await page.click("#save-stall")  # show the error state too
    await page.wait_for_selector(".field-error:visible")
    assert await serious(page) == [], "register form with errors"
    await page.fill("#f-stall_code", "X-1")
    await page.fill("#f-name", "Phan Văn An")
    await page.fill("#f-bank", "agri")
    await page.keyboard.press("Enter")
    await page.fill("#f-acct", "1234567890")
    await page.check("#f-purpose-registration")
    await page.check("#f-purpose-qr_sign")
    await page.click("#save-stall")
    await page.wait_for_selector("#sign img.qr")
    assert "Quét mã để thanh toán" in await page.locator("#sign figcaption").inner_text()
    assert await serious(page) == [], "stall and sign"
    await page.click("#verify")
    await page.wait_for_selector("label[for=verify-photo]")
    assert await serious(page) == [], "verify"
    await page.goto("/#/outbox")
    await page.wait_for_selector("#record-list")
    assert await serious(page) == [], "queue"


async def test_manager_screens_have_no_serious_violations(new_page, live_server) -> None:
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", "/dashboard")
    await page.wait_for_selector(".markets-table tbody tr")
    assert await serious(page) == [], "dashboard"
    await page.goto("/map")
    await page.wait_for_selector(".map-box .mk")
    assert await serious(page) == [], "map"
    href = await page.get_attribute("nav.market-index a", "href")
    await page.goto(href)
    await page.wait_for_selector(".level-rows")
    assert await serious(page) == [], "market"


async def test_consent_and_sign_out_screens_have_no_serious_violations(new_page) -> None:
    from tests.web.conftest import open_menu_and_sign_out

    page = await new_page(viewport=PHONE)
    await sign_in(page)
    await page.click("#register-new")
    await page.fill("#f-stall_code", "X-2")
    await page.fill("#f-name", "Phan Thị Bình")
    await page.fill("#f-bank", "agri")
    await page.keyboard.press("Enter")
    await page.fill("#f-acct", "1234567892")
    await page.check("#f-purpose-registration")
    await page.click("#save-stall")
    await page.wait_for_selector("#consent-card")
    await page.click("#consent-add")
    await page.wait_for_selector("#consent-form:visible")
    assert await serious(page) == [], "stall with consent to complete"
    await page.context.set_offline(True)
    await page.goto("/#/")
    await page.click("#register-new")
    await page.fill("#f-stall_code", "X-3")
    await open_menu_and_sign_out(page)
    await page.wait_for_selector("#sign-out-dialog")
    assert await serious(page) == [], "sign-out warning"
    await page.click("#sign-out-dialog-cancel")
    await page.context.set_offline(False)
