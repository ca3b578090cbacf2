"""The worklist at once on a device signed in (static/js/instant.js, views/worklist.js keepSnapshot).

The page the service worker keeps (`/?copy=device`) shows the list as the app last drew it while
the app's modules load; the app then draws it itself where the volunteer is. These tests hold the
app's module back, so what is on screen can only be instant.js's.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.web.conftest import TABLET, open_menu_and_sign_out, sign_in, until

pytestmark = pytest.mark.browser


async def _stall(live_server, code: str, name: str) -> int:
    async with await live_server.api("admin") as c:
        market = next(m for m in (await c.get("/api/markets")).json() if m["name"] == "Chợ Thử Một")
        notice = (await c.get("/api/consent-notice")).json()["version"]
        body = {
            "stall_code": code,
            "holder": {"full_name": name},
            "payment_accounts": [],
            "consent": {"notice_version": notice, "purposes": ["registration"]},
        }
        res = await c.post(
            f"/api/markets/{market['id']}/stalls", json=body,
            headers={"Idempotency-Key": f"web-test-instant-{code}"},
        )  # fmt: skip
        assert res.status_code in (200, 201), res.text
        return int(market["id"])


async def _signed_in_with_snapshot(new_page, live_server, code: str, name: str):
    market_id = await _stall(live_server, code, name)
    page = await new_page(viewport=TABLET)
    await sign_in(page)
    await page.wait_for_selector("#worklist .stall-row")
    if f"#/m/{market_id}" not in page.url:
        await page.goto(f"/#/m/{market_id}")
    await page.fill("#search", "")
    await until(page, "!!localStorage.getItem('choso.snapshot')")
    return page, market_id


async def _held_app(page):
    """Hold the app's module back until the returned event is set."""
    release = asyncio.Event()

    async def hold(route) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/static/js/app.js*", hold)
    return release


async def test_the_device_copy_shows_the_worklist_before_the_app_loads(new_page, live_server):
    page, market_id = await _signed_in_with_snapshot(new_page, live_server, "0TUC-1", "Võ Thị Tức")
    shot = json.loads(await page.evaluate("localStorage.getItem('choso.snapshot')"))
    assert shot["market"] == market_id and shot["user"] == "volunteer" and shot["lang"] == "vi"
    # What changes without the list is left out: the network pill, today's counts, the queue.
    assert "0TUC-1" in shot["main"] and "Võ Thị Tức" in shot["main"]
    assert "today-line" not in shot["main"] and "net-on" not in shot["topbar"]

    again = await page.context.new_page()
    release = await _held_app(again)
    await again.goto("/?copy=device", wait_until="commit")
    row = again.locator("#worklist .stall-row", has_text="0TUC-1")
    await row.wait_for()
    assert await again.evaluate("document.body.hasAttribute('data-snapshot')")
    assert await again.locator("#topbar .brand").count() == 1
    assert await again.is_checked("#filter-todo")  # the chip the app had ticked
    # The volunteer types in the search box meanwhile; the app keeps it when it takes over.
    await again.click("#search")
    await again.keyboard.type("tuc")
    release.set()
    await until(again, "!document.body.hasAttribute('data-snapshot')")
    await again.wait_for_selector("#worklist .stall-row")
    assert await again.input_value("#search") == "tuc"
    assert await again.evaluate("document.activeElement && document.activeElement.id") == "search"
    assert await again.locator("#worklist .stall-row", has_text="0TUC-1").count() == 1
    # The app's own worklist: the top bar has its network pill again.
    await again.wait_for_selector("#topbar .pill.net")


async def test_a_stall_tapped_before_the_app_loads_opens_when_it_does(new_page, live_server):
    page, _ = await _signed_in_with_snapshot(new_page, live_server, "0TUC-2", "Đỗ Văn Chạm")
    again = await page.context.new_page()
    release = await _held_app(again)
    await again.goto("/?copy=device", wait_until="commit")
    await again.click("#worklist .stall-row:has-text('0TUC-2')")
    assert "#/s/" in again.url
    release.set()
    await again.wait_for_selector("text=Đỗ Văn Chạm")
    await until(again, "!document.body.hasAttribute('data-snapshot')")
    assert await again.locator("#worklist").count() == 0


async def test_no_snapshot_for_another_day_version_person_or_after_sign_out(new_page, live_server):
    page, _ = await _signed_in_with_snapshot(new_page, live_server, "0TUC-3", "Lý Thị Cũ")
    real = await page.evaluate("localStorage.getItem('choso.snapshot')")
    changes = {
        "day": "2020-01-01",  # a list from another day waits for the app (its counts are dated)
        "version": "0000",  # another version of the app draws differently
        "user": "someone-else",
        "lang": "en",
    }
    for field, value in changes.items():
        shot = json.loads(real) | {field: value}
        await page.evaluate("(s) => localStorage.setItem('choso.snapshot', s)", json.dumps(shot))
        again = await page.context.new_page()
        await _held_app(again)
        await again.goto("/?copy=device", wait_until="commit")
        await again.wait_for_selector("#live", state="attached")  # parsed to the end
        assert await again.locator("#worklist").count() == 0, field
        assert await again.locator("#main .loading").count() == 1, field
        await again.close()
    # The plain page (a new device, or the server's answer) never has the script.
    await page.evaluate("(s) => localStorage.setItem('choso.snapshot', s)", real)
    plain = await page.context.new_page()
    await _held_app(plain)
    await plain.goto("/", wait_until="commit")
    await plain.wait_for_selector("#live", state="attached")
    assert await plain.locator("#worklist").count() == 0
    await plain.close()
    # Signing out leaves no list on the device.
    await page.bring_to_front()
    await open_menu_and_sign_out(page)
    await page.wait_for_selector("#username")
    assert await page.evaluate("localStorage.getItem('choso.snapshot')") is None


async def test_a_list_drawn_after_the_device_was_wiped_is_not_kept(new_page, live_server):
    """Signing out clears the device while the worklist may still redraw (lib/wipe.js is
    asynchronous): the list is only kept while a session is on the device."""
    page, _ = await _signed_in_with_snapshot(new_page, live_server, "0TUC-4", "Hà Thị Xoá")
    await page.evaluate(
        "localStorage.removeItem('choso.snapshot'); localStorage.removeItem('choso.token')"
    )
    await page.fill("#search", "x")
    await page.fill("#search", "")  # the list is drawn again, as it would be kept
    await page.wait_for_timeout(1600)
    assert await page.evaluate("localStorage.getItem('choso.snapshot')") is None
