"""Personal data does not linger on a shared tablet: receipts once sent, nothing after sign-out."""

from __future__ import annotations

import json

import pytest

from tests.web.conftest import (
    TABLET,
    device_storage,
    open_menu_and_sign_out,
    shot,
    sign_in,
    until,
)
from tests.web.test_volunteer import fill_form, open_form

pytestmark = pytest.mark.browser

# Values that appear nowhere in the app's own files, so finding one on the device means a record.
NAME = "Tạ Thị Diệu Linh"
PHONE = "0936 271 845"
ACCOUNT = "7301958264"
CCCD = "048193007712"
QUEUED_NAME = "Quách Văn Khởi"
QUEUED_PHONE = "0987 640 312"
QUEUED_ACCOUNT = "5519082736"
DRAFT_NAME = "Mạc Thị Tươi"
SENT_NAME = "Khúc Văn Thừa"
SENT_PHONE = "0918 452 706"
SENT_ACCOUNT = "6620193847"


def personal_values() -> list[str]:
    """Each person's data in every form the app may keep it in."""
    values = [NAME, QUEUED_NAME, DRAFT_NAME, ACCOUNT, QUEUED_ACCOUNT, CCCD]
    values += ["TA THI DIEU LINH", "QUACH VAN KHOI", "MAC THI TUOI"]  # account names
    for phone in (PHONE, QUEUED_PHONE):
        digits = phone.replace(" ", "")
        values += [phone, digits, "+84" + digits[1:], digits[1:]]
    return values


def found_in(storage: dict) -> list[str]:
    text = json.dumps(storage, ensure_ascii=False)
    return [v for v in personal_values() if v in text]


async def test_sign_out_leaves_no_personal_data_on_the_device(new_page) -> None:
    page = await new_page(viewport=TABLET, service_workers="allow")
    await sign_in(page)
    await page.wait_for_selector("#worklist")

    # A stall registered and sent, whose page (with the full record) was opened.
    await open_form(page)
    await fill_form(page, code="P-01", name=NAME, phone=PHONE, bank="vietcom", account=ACCOUNT)
    await page.click("#save-stall")
    await page.wait_for_selector("#sign img.qr")
    # One queued offline, one half-typed draft.
    await page.goto("/#/")
    await page.wait_for_selector("#worklist")
    await page.context.set_offline(True)
    await open_form(page)
    await fill_form(
        page, code="P-02", name=QUEUED_NAME, phone=QUEUED_PHONE, bank="agri", account=QUEUED_ACCOUNT
    )
    await page.click("#save-stall")
    await page.wait_for_selector("#worklist")
    await open_form(page)
    await page.fill("#f-stall_code", "P-03")
    await page.fill("#f-name", DRAFT_NAME)
    # A sent record kept in full with a CCCD, as an earlier version of the app left them.
    await page.evaluate(
        """cccd => new Promise((ok, bad) => {
          const r = indexedDB.open("choso");
          r.onsuccess = () => {
            const tx = r.result.transaction("outbox", "readwrite");
            tx.objectStore("outbox").put({
              id: "old-sent", key: "old-key", kind: "register", user: "volunteer", market_id: 1,
              stall_id: null, body: {stall_code: "P-00", holder: {full_name: "Tạ Thị Diệu Linh", cccd}},
              state: "sent", attempts: 1, next_at: 0, created_at: Date.now(), updated_at: Date.now(),
              sent_at: Date.now(), label: "P-00 · Tạ Thị Diệu Linh", result: null});
            tx.oncomplete = () => { r.result.close(); ok(true); };
            tx.onerror = () => bad(tx.error);
          };
          r.onerror = () => bad(r.error);
        })""",
        CCCD,
    )
    before = await device_storage(page)
    assert {NAME, QUEUED_NAME, DRAFT_NAME, ACCOUNT, QUEUED_ACCOUNT, CCCD} <= set(found_in(before))

    # The volunteer is warned about what would be lost, and may stay.
    await open_menu_and_sign_out(page)
    dialog = page.locator("#sign-out-dialog")
    await dialog.wait_for()
    text = await dialog.inner_text()
    assert "Còn 1 hồ sơ chưa gửi" in text and "1 bản nháp" in text
    await shot(page, "40-sign-out-warning")
    await page.click("#sign-out-dialog-cancel")
    await dialog.wait_for(state="detached")
    assert await page.locator("#username").count() == 0
    assert QUEUED_NAME in found_in(await device_storage(page))

    await open_menu_and_sign_out(page)
    await page.click("#sign-out-dialog-ok")
    await page.wait_for_selector("#username")
    after = await device_storage(page)
    assert found_in(after) == [], f"personal data left on the device: {found_in(after)}"
    assert after["idb"].get("choso/outbox") == []
    assert set(after["local"]) <= {"choso.lang"}
    assert after["session"] == {}
    assert not [url for url, _ in after["caches"] if "/api/" in url]
    await page.context.set_offline(False)


async def test_sign_out_without_unsent_records_asks_nothing(new_page) -> None:
    page = await new_page()
    await sign_in(page)
    await page.wait_for_selector("#worklist")
    await open_menu_and_sign_out(page)
    await page.wait_for_selector("#username")
    assert await page.locator("#sign-out-dialog").count() == 0
    storage = await device_storage(page)
    assert storage["idb"].get("choso/outbox", []) == []
    assert set(storage["local"]) <= {"choso.lang"}


async def test_a_sent_record_keeps_no_personal_data(new_page) -> None:
    page = await new_page()
    await sign_in(page)
    await open_form(page)
    await fill_form(
        page, code="P-11", name=SENT_NAME, phone=SENT_PHONE, bank="vietcom", account=SENT_ACCOUNT
    )
    await page.click("#save-stall")
    await page.wait_for_selector("#sign img.qr")
    stall_id = int(page.url.split("#/s/")[1].split("?")[0])
    records = (await device_storage(page))["idb"]["choso/outbox"]
    sent = [r for r in records if r["state"] == "sent"]
    assert len(sent) == 1
    receipt = json.dumps(sent[0], ensure_ascii=False)
    digits = SENT_PHONE.replace(" ", "")
    kept = [SENT_NAME, "KHUC VAN THUA", SENT_ACCOUNT, digits, "+84" + digits[1:], digits[1:]]
    assert [v for v in kept if v in receipt] == []
    assert sent[0]["label"] == "P-11" and sent[0]["result"]["stall_id"] == stall_id
    # The queue still lists it, by stall code, with a way to the stall.
    await page.goto("/#/outbox")
    await until(page, "document.querySelectorAll('.record[data-state=sent]').length === 1")
    row = page.locator(".record[data-state=sent]")
    assert "P-11" in await row.inner_text()
    assert await row.locator(f"a[href='#/s/{stall_id}']").count() == 1


async def test_an_open_account_menu_stays_open_when_the_server_answers(new_page) -> None:
    """Reopened signed in, the tablet draws the top bar from what it knows and again when the
    server's answers (the user, the markets) arrive; a menu the volunteer opened meanwhile stays
    open, so "Đăng xuất" is still under their finger."""
    page = await new_page()
    await sign_in(page)
    await page.wait_for_selector("#worklist")
    held: list = []

    async def hold(route) -> None:
        held.append(route)

    await page.route("**/api/users/me", hold)
    await page.route("**/api/markets", hold)
    await page.reload()
    await page.wait_for_selector("#worklist")
    await page.click("#topbar details.menu summary")
    assert await page.locator("#topbar details.menu[open]").count() == 1
    await page.evaluate("document.querySelector('#topbar details.menu').dataset.old = '1'")
    assert held, "the reopened app asks the server who is signed in"
    for route in held:
        await route.continue_()
    # The answers redraw the bar (a new menu element), and the menu is still open.
    await until(page, "!document.querySelector('#topbar details.menu').dataset.old")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#topbar details.menu[open]").count() == 1


async def test_signing_out_from_a_manager_page_warns_and_wipes_the_same(new_page) -> None:
    """/map, /dashboard, /return-visits sign out as the app does: the warning about a draft, and
    nothing personal left behind."""
    page = await new_page()
    await sign_in(page)
    await page.wait_for_selector("#worklist")
    await open_form(page)
    await page.fill("#f-stall_code", "P-09")
    await page.fill("#f-name", "Nguyễn Nháp Dở")
    await page.goto("/map")
    await page.wait_for_selector("#topbar details.menu")
    await open_menu_and_sign_out(page)
    dialog = page.locator("#sign-out-dialog")
    await dialog.wait_for()
    assert "1 bản nháp" in await dialog.inner_text()
    await page.click("#sign-out-dialog-ok")
    await page.wait_for_selector("#username")
    after = await device_storage(page)
    assert "Nguyễn Nháp Dở" not in json.dumps(after, ensure_ascii=False)
    assert set(after["local"]) <= {"choso.lang"}
