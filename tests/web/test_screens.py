"""The screens changed for issue 12 at phone and tablet sizes: they fit, and are saved as pictures.

Pictures go to test-output/screenshots/ (named 3x-<screen>-<width>x<height>.png); the ones in
docs/screenshots/ were copied from a run of this test.
"""

from __future__ import annotations

import io

import pytest
import qrcode

from tests.web.conftest import (
    PHONE,
    SHOTS,
    STRAY_TEXT_JS,
    TABLET,
    open_menu_and_sign_out,
    sign_in,
)
from tests.web.test_volunteer import fill_form, market_ids, open_form, register_via_api

pytestmark = pytest.mark.browser


async def view_shot(page, name: str, selector: str | None = None) -> None:
    """A picture of what the screen shows, with `selector` scrolled to the top under the bar."""
    if selector:
        await page.eval_on_selector(
            selector, "e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -140); }"
        )
    stray = await page.evaluate(STRAY_TEXT_JS)
    assert not stray, f"{name}: the page shows {stray}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    await page.screenshot(path=str(SHOTS / f"{name}-{size['width']}x{size['height']}.png"))


async def fits(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{width}px wide: the page scrolls sideways"


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
async def test_changed_screens_fit_phone_and_tablet(new_page, live_server, viewport) -> None:
    tag = "P" if viewport is PHONE else "T"
    ids = await market_ids(live_server)
    market = ids["Chợ Thử Một"]
    await register_via_api(live_server, market, f"S{tag}-1", "Đặng Thị Có")
    account = {"bin": "970422", "account_number": "9704220081" if tag == "P" else "9704220082"}
    checked = await register_via_api(
        live_server, market, f"S{tag}-9", "Lý Văn Kiểm", account=account
    )
    page = await new_page(viewport=viewport)
    await sign_in(page)
    await page.wait_for_selector(".stall-row[data-stall]")

    # Register: a code already in the list, banks by name, the partner left alone.
    await open_form(page)
    await page.fill("#f-stall_code", f"s{tag.lower()}-1")
    await page.wait_for_selector("#f-stall_code-warn:visible")
    await fits(page)
    await view_shot(page, "30-register-code-warning", "#f-stall_code-field")
    await page.fill("#f-stall_code", f"S{tag}-2")
    await fill_form(page, code=f"S{tag}-2", name="Quan Thị Hai", consent=False)
    await page.fill("#f-bank", "cimb")
    await page.wait_for_selector("#f-bank-list .option")
    await view_shot(page, "31-register-bank-by-name", "#f-bank-field")
    await page.keyboard.press("Enter")
    await page.fill("#f-acct", f"80012345{ord(tag)}")  # its own account in each run
    await view_shot(page, "32-register-partner-none", "#f-acct-field")
    await page.check("#f-purpose-registration")

    # The stall saved without consent to the sign: why no sign, and consent completed later.
    await page.click("#save-stall")
    await page.wait_for_selector("#consent-card")
    await fits(page)
    await view_shot(page, "33-stall-saved-no-consent")
    await page.click("#consent-add")
    await page.wait_for_selector("#consent-form:visible")
    await view_shot(page, "34-stall-consent-later", "#consent-card")

    # The worklist says why the stall is blocked.
    await page.goto(f"/#/m/{market}")
    await page.wait_for_selector(".badge-blocked")
    await fits(page)
    await view_shot(page, "35-worklist-blocked", "#worklist")

    # A mismatch names the bank.
    async with await live_server.api("admin") as c:
        res = await c.post("/api/qr/encode", json={"bin": "970436", "account_number": "1234567890"})
        other = res.json()["payload"]
    buf = io.BytesIO()
    qrcode.make(other, box_size=8).save(buf, format="PNG")
    await page.goto(f"/#/s/{checked['id']}/verify")
    await page.wait_for_selector("label[for=verify-photo]")
    photo = {"name": "other.png", "mimeType": "image/png", "buffer": buf.getvalue()}
    await page.set_input_files("#verify-photo", files=[photo])
    await page.click("#verify-unprinted-dialog-ok")  # no print recorded: asked first
    await page.wait_for_selector("#verify-result.verify-bad")
    await fits(page)
    await view_shot(page, "36-verify-mismatch-bank-name", "#verify-result")

    # Sign-out warns about what would be lost.
    await page.goto("/#/")
    await page.context.set_offline(True)
    await open_form(page)
    await page.fill("#f-stall_code", f"S{tag}-3")
    await open_menu_and_sign_out(page)
    await page.wait_for_selector("#sign-out-dialog")
    await view_shot(page, "37-sign-out-warning")
    await page.click("#sign-out-dialog-cancel")
    await page.context.set_offline(False)

    # A viewer sees codes and levels, no actions.
    viewer = await new_page(viewport=viewport)
    await sign_in(viewer, "viewer")
    await viewer.goto(f"/#/m/{market}")
    await viewer.wait_for_selector("#viewer-note")
    await viewer.click("label[for=filter-all]")
    await viewer.wait_for_selector(".stall-row[data-stall]")
    await fits(viewer)
    await view_shot(viewer, "38-worklist-viewer")
