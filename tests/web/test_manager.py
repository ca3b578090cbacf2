"""The manager pages in a real browser: dashboard, map coloured by status, market page, exports."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import stall_body
from tests.web.conftest import LAPTOP, PHONE, TABLET, shot, sign_in, until
from tests.web.test_a11y import serious
from tests.web.test_volunteer import market_ids, register_via_api

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = pytest.mark.browser

# What each status looks like on the map (the CSS custom properties in app.css).
STATUS_FILL = {
    "not_started": "rgb(87, 96, 106)",
    "in_progress": "rgb(179, 89, 0)",
    "cashless": "rgb(10, 125, 59)",
    "lapsed": "rgb(179, 38, 30)",
}


@pytest.fixture(scope="module")
async def progress(live_server) -> AsyncIterator[dict]:
    """A lenient rule and two markets of this module's own (other tests of the session add stalls
    to the seeded ones): one stall with its sign delivered in the first, which is then cashless,
    and one without a sign in the second, in progress."""
    async with await live_server.api("admin") as c:
        before = (await c.get("/api/programme/rule")).json()
        res = await c.put("/api/programme/rule", json={"thresholds": {"qr_issued": 0.5}})
        assert res.status_code == 200, res.text
        made = {}
        for name, lat, lon in (("Chợ Bảng Một", 16.10, 108.12), ("Chợ Bảng Hai", 15.98, 108.30)):
            res = await c.post(
                "/api/markets",
                json={"name": name, "ward_code": "20242", "lat": lat, "lon": lon, "zones": ["A"]},
            )
            assert res.status_code == 201, res.text
            made[name] = res.json()["id"]
        stalls = []
        for name in made:
            holder = {"full_name": "Trần Thị Mẫu"}
            body = stall_body(f"M-{uuid.uuid4().hex[:4]}", location=None, holder=holder)
            res = await c.post(
                f"/api/markets/{made[name]}/stalls",
                json=body,
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert res.status_code == 201, res.text
            stalls.append(res.json())
        stall = stalls[0]
        assert (await c.post(f"/api/stalls/{stall['id']}/sign-delivered")).status_code == 200
        markets = {m["name"]: m["id"] for m in (await c.get("/api/markets")).json()}
    yield {"markets": markets, "stall": stall}
    async with await live_server.api("admin") as c:
        await c.put("/api/programme/rule", json={"thresholds": before["thresholds"]})


# The dashboard lists markets one by one in a ward (the drill-down's last level, tests/web/
# test_drill.py); this module's markets are in Phường Hải Châu.
HAI_CHAU = "/dashboard?province=48&ward=20242"


async def test_dashboard_lists_markets_with_status_and_progress(new_page, progress) -> None:
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", HAI_CHAU)
    await page.wait_for_selector(".markets-table tbody tr")
    two = progress["markets"]["Chợ Bảng Một"]
    row = page.locator(f".markets-table tr[data-market='{two}']")
    assert await row.locator(".status-badge").inner_text() == "Chợ không tiền mặt"
    bar = row.locator("[role=progressbar]").first
    assert await bar.get_attribute("aria-valuenow") == "100"
    assert "Đã in biển ≥ 50%" in await page.locator(".rule-line").first.inner_text()
    # Each market's signs come first, whatever the rule asks (a manager looked for them).
    labels = await page.locator(
        ".markets-table tbody tr .progress-row > span:first-child"
    ).all_inner_texts()
    assert labels and labels[0] == "Đã in biển", labels
    await shot(page, "20-dashboard")


async def test_dashboard_map_shows_markets_coloured_by_status(new_page, live_server, progress):
    async with await live_server.api("admin") as c:
        features = (await c.get("/api/coverage/markets.geojson?ward=20242")).json()["features"]
    expected = {str(f["properties"]["id"]): f["properties"]["status"] for f in features}
    assert "cashless" in expected.values() and len(set(expected.values())) >= 2

    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", HAI_CHAU)
    await page.wait_for_selector(".map-box .mk")
    drawn = await page.eval_on_selector_all(
        ".map-box .mk",
        "els => els.map(e => [e.dataset.market, e.dataset.status,"
        " getComputedStyle(e.querySelector('.mk-dot')).backgroundColor])",
    )
    # Every dot has its market's status (other tests of the session add markets, some without a
    # point); this module's two markets lie far apart and are drawn as dots of their own.
    shown = {market: status for market, status, _ in drawn}
    assert all(expected[market] == status for market, status in shown.items())
    first, second = (str(progress["markets"][n]) for n in ("Chợ Bảng Một", "Chợ Bảng Hai"))
    assert shown.get(first) == "cashless" and shown.get(second) not in (None, "cashless")
    for _, status, fill in drawn:
        assert fill == STATUS_FILL[status]
    legend = await page.locator(".legend").first.inner_text()
    cashless = sum(1 for status in expected.values() if status == "cashless")
    assert f"Chợ không tiền mặt ({cashless})" in legend


async def test_map_page_opens_a_market(new_page, live_server, progress) -> None:
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", "/map")
    await page.wait_for_selector(".map-box .mk")
    await shot(page, "21-map")
    two = progress["markets"]["Chợ Bảng Một"]
    # A market's dot opens its popup, whose link opens the market page.
    await page.click(f".map-box .mk[data-market='{two}']")
    popup = page.locator(".leaflet-popup")
    assert await popup.locator(".map-popup-title").inner_text() == "Chợ Bảng Một"
    assert await popup.locator(".status-badge").inner_text() == "Chợ không tiền mặt"
    await popup.locator("a.map-popup-link").click()
    await page.wait_for_url(f"**/markets/{two}")
    await page.wait_for_selector(".tiles .tile")
    tile = page.locator(f".tile[href='/#/s/{progress['stall']['id']}']")
    assert await tile.get_attribute("data-level") == "qr_issued"
    assert "level-qr_issued" in await tile.get_attribute("class")
    assert await page.locator("h1").inner_text() == "Chợ Bảng Một"
    assert await page.locator(".level-rows [role=progressbar]").count() == 4
    # On a phone each bar takes the row's width under its name and numbers, none of them cut.
    await page.set_viewport_size(PHONE)
    sizes = await page.evaluate(
        """() => [...document.querySelectorAll(".level-row")].map((row) => ({
             row: row.clientWidth, bar: row.querySelector(".bar").getBoundingClientRect().width,
             cut: [...row.children].some((c) => c.scrollWidth > c.clientWidth + 1) }))"""
    )
    assert all(s["bar"] > 0.8 * s["row"] and not s["cut"] for s in sizes), sizes
    await page.set_viewport_size(LAPTOP)
    assert await page.locator("svg.chart").count() == 1
    await shot(page, "22-market")


async def test_the_market_page_counts_how_stallholders_see_money_arrive(
    new_page, live_server, progress
) -> None:
    """users_want #23 for the market board: how many holders were asked how they see a payment
    arrive, each way, and how many have none (the ones to train again); a viewer sees it too."""
    market = progress["markets"]["Chợ Bảng Hai"]
    async with await live_server.api("admin") as c:
        stall = (await c.get(f"/api/markets/{market}/stalls")).json()["items"][0]
        r = await c.patch(f"/api/stalls/{stall['id']}", json={"confirm_by": []},
                          headers={"If-Match": f'"{stall["version"]}"'})  # fmt: skip
        assert r.status_code == 200, r.text
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "manager", f"/markets/{market}")
    card = page.locator("#confirm-counts")
    await card.wait_for()
    text = await card.inner_text()
    assert "Đã hỏi chủ sạp ở 1 trong số 1 sạp đang hoạt động." in text
    assert "Chưa có cách nào: 1" in text and "Loa báo tiền: 0" in text
    assert "1 sạp đang hoạt động chưa có cách nào biết tiền về" in text
    await card.scroll_into_view_if_needed()
    await shot(page, "74-market-confirm-counts")
    viewer = await new_page(viewport=PHONE)
    await sign_in(viewer, "viewer", f"/markets/{market}")
    await viewer.locator("#confirm-counts").wait_for()
    assert "Đã hỏi chủ sạp ở 1 trong số 1" in await viewer.locator("#confirm-counts").inner_text()


async def test_map_and_market_page_on_a_phone(new_page, live_server, progress) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, "manager", "/map")
    await page.wait_for_selector(".map-box .mk")
    await shot(page, "23-map-phone")
    one = progress["markets"]["Chợ Thử Một"]
    await page.goto(f"/markets/{one}")
    await page.wait_for_selector(".level-rows")
    # The chart's days are end-of-day figures, the status history's lines the moment of a change:
    # the page says so (a reviewer saw them differ for one day and could not tell why).
    assert "số liệu cuối ngày" in await page.locator("#trend-moment").inner_text()
    await shot(page, "24-market-phone")


async def test_a_provinces_export_holds_that_province(new_page, live_server, progress) -> None:
    """At a province, the stall export without a ward picked was every market in the caller's
    scope (the whole country for a national account): it is the province's markets."""
    page = await new_page(viewport=LAPTOP, accept_downloads=True)
    await sign_in(page, "admin", "/dashboard?province=48")
    await page.wait_for_selector("#export-ward")
    first = page.locator("#export-ward option").first
    assert await first.inner_text() == "Tất cả chợ của tỉnh, thành phố này"
    async with page.expect_request(lambda r: "/api/exports/stalls.csv" in r.url) as asked:
        async with page.expect_download():
            await page.click("#export-csv")
    url = (await asked.value).url
    assert "province=48" in url and "ward_code" not in url, url
    wards = await page.locator("#export-ward option").evaluate_all("os => os.map(o => o.value)")
    ward = next(w for w in wards if w and w != "-")
    await page.select_option("#export-ward", ward)
    async with page.expect_request(lambda r: "/api/exports/stalls.csv" in r.url) as asked:
        async with page.expect_download():
            await page.click("#export-csv")
    url = (await asked.value).url
    assert f"ward_code={ward}" in url and "province" not in url, url


async def test_exports_and_report(new_page, live_server, progress) -> None:
    page = await new_page(viewport=LAPTOP, accept_downloads=True)
    await sign_in(page, "admin", HAI_CHAU)
    await page.wait_for_selector("#export-csv")
    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    # The file says what it holds: the ward, then the level asked for, and the day in Vietnam.
    day = datetime.now(UTC).astimezone(timezone(timedelta(hours=7))).date().isoformat()
    assert download.suggested_filename == f"choso-sap-phuong-hai-chau-{day}.csv"
    await page.select_option("#export-level", "qr_verified")
    async with page.expect_download() as info:
        await page.click("#export-geojson")
    named = (await info.value).suggested_filename
    assert named == f"choso-sap-phuong-hai-chau-da-kiem-tra-ma-{day}.geojson"
    await page.select_option("#export-level", "")
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the Vietnamese correctly
    # The workbook for people: Vietnamese headers.
    async with page.expect_download() as info:
        await page.click("#export-xlsx")
    download = await info.value
    book = await asyncio.to_thread(Path(await download.path()).read_bytes)
    sheet = openpyxl.load_workbook(io.BytesIO(book), read_only=True).active
    headers = [c for c in next(sheet.iter_rows(values_only=True)) if c]
    assert "Mã sạp" in headers and "stall_id" not in headers, headers
    async with page.expect_download() as info:
        await page.click("#export-markets-xlsx")
    # The markets of the ward the page is at, named so (it held every market of the city).
    download = await info.value
    assert download.suggested_filename == f"choso-cho-phuong-hai-chau-{day}.xlsx"
    book = await asyncio.to_thread(Path(await download.path()).read_bytes)
    sheet = openpyxl.load_workbook(io.BytesIO(book), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    ward_col = rows[0].index("Phường/xã")
    assert rows[1:] and {r[ward_col] for r in rows[1:]} == {"Phường Hải Châu"}, rows
    two = progress["markets"]["Chợ Bảng Một"]
    async with page.expect_response(lambda r: "/report.pdf" in r.url) as res_info:
        async with page.context.expect_page() as popup:
            await page.click(f".markets-table tr[data-market='{two}'] button")
    res = await res_info.value
    assert res.status == 200 and res.headers["content-type"].startswith("application/pdf")
    await (await popup.value).close()


async def test_a_market_not_found_offers_a_way_out_not_a_retry(new_page, live_server) -> None:
    """A market that is not there (or not in one's area: the same answer) will not appear on a
    retry: the page says so and leads back to the dashboard instead of offering "Thử lại"."""
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "manager", "/markets/999999")
    await page.wait_for_selector("#load-error")
    said = await page.locator("#load-error").inner_text()
    assert "Không tìm thấy chợ này" in said and "Không tải được" not in said
    assert await page.locator("#load-error button").count() == 0
    await page.click("#load-error-home")
    await page.wait_for_url("**/dashboard")
    # An id no market can have, opened from the installed app's copy of the page (the server
    # never sees the address): the same answer, not "Thông tin chưa đúng".
    await page.goto("/markets/99999999999999999999")
    await page.wait_for_selector("text=Không tìm thấy")
    assert "Thông tin chưa đúng" not in await page.locator("body").inner_text()


async def test_a_market_without_a_ward_says_so(new_page, live_server) -> None:
    """A market recorded before the 2025 reform with only its old district, no ward chosen yet:
    its page says "Chưa có phường" before the old name, not a bracket on its own."""
    async with await live_server.api("admin") as c:
        r = await c.post(
            "/api/markets",
            json={"name": f"Chợ Chưa Phường {uuid.uuid4().hex[:4]}", "lat": 16.07, "lon": 108.23,
                  "legacy_district_name": "Quận Sơn Trà"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        market_id = r.json()["id"]
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", f"/markets/{market_id}")
    await page.wait_for_selector("h1")
    body = await page.locator("#main").inner_text()
    assert "Chưa có phường (trước 7/2025: Quận Sơn Trà)" in body


async def test_a_viewer_sees_numbers(new_page, live_server, progress) -> None:
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "viewer", "/dashboard")
    await page.wait_for_selector(".markets-table tbody tr")
    assert await page.locator(".kpi").count() == 6
    # The partners' column counts the stalls they opened accounts for, and says so.
    assert await page.locator("#h-partners").inner_text() == "Đối tác hỗ trợ mở tài khoản"
    assert "không phải số sạp dùng" in await page.locator("#partners-note").inner_text()
    # A quarter asked for, figures only from when they were first recorded: said, not left to
    # a title and an axis that disagree.
    await page.click("label[for=trend-quarter]")
    await expect(page.locator("#trend-starts")).to_contain_text("Số liệu có từ")
    # The chart's caption starts where its days do (it named the quarter's first day).
    starts = await page.locator("#trend-starts").inner_text()
    first_day = re.search(r"\d{2}/\d{2}/\d{4}", starts)
    assert first_day is not None, starts
    caption = await page.locator("#trend-chart caption, #trend-chart figcaption").first.inner_text()
    assert f"Từ {first_day.group(0)}" in caption, (starts, caption)
    # Offered nothing they cannot do: the app is "stall lists" for them, a market's stalls are
    # tiles to read (not links to a stallholder), and no signs are printed.
    assert "Danh sách sạp" in await page.locator(".topnav").inner_text()
    assert "Đăng ký sạp" not in await page.locator(".topnav").inner_text()
    await page.goto(f"/markets/{progress['markets']['Chợ Bảng Một']}")
    await page.wait_for_selector(".tiles .tile")
    assert await page.locator("a.tile").count() == 0
    assert await page.locator("#print-all").count() == 0
    # A market is a step of the dashboard's drill-down: the top bar says where they are.
    current = page.locator(".topnav a[aria-current=page]")
    assert await current.get_attribute("href") == "/dashboard"
    # The market's return-visit list is reached from its page (the list's empty page sent people
    # to the dashboard, which had no link to it).
    await page.click("#return-visits-link")
    await page.wait_for_url(f"**/return-visits?market={progress['markets']['Chợ Bảng Một']}")
    await expect(page.locator("h1")).to_have_text("Danh sách sạp cần quay lại")
    await expect(page.locator("main")).not_to_contain_text("Hãy mở danh sách từ")
    assert await current.get_attribute("href") == "/dashboard"
    await page.goto("/")
    await page.wait_for_selector(".market-cards")
    assert "Các chợ bạn được xem:" in await page.locator("#main").inner_text()
    # Their day is the figures: the first card leads there, and to no console.
    assert await page.locator("#overview-card #overview-dashboard").get_attribute("href") == (
        "/dashboard"
    )
    assert await page.locator("#overview-map").count() == 1
    assert await page.locator("#overview-console").count() == 0


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
async def test_a_manager_at_the_field_app_is_led_to_the_figures(new_page, viewport) -> None:
    """A manager (who has several markets) opening / lands on the market picker: its first card
    leads to the dashboard, the map and the console; a volunteer's picker has no such card."""
    page = await new_page(viewport=viewport)
    await sign_in(page, "manager", "/#/markets")
    await page.wait_for_selector("#overview-card")
    card = await page.locator("#overview-card").inner_text()
    # Their console has the markets only: the link does not promise people (a reviewer's 403).
    assert "Số liệu và điều hành" in card and "Quản trị chợ" in card
    assert "người dùng" not in card
    assert await page.locator("#overview-console").get_attribute("href") == "/console"
    box = await page.locator("#overview-card").bounding_box()
    assert box is not None and box["width"] <= viewport["width"]
    await shot(page, "manager-market-picker-phone")
    await page.click("#overview-dashboard")
    await page.wait_for_url("**/dashboard")
    volunteer = await new_page(viewport=viewport)
    await sign_in(volunteer, "volunteer", "/#/markets")
    await volunteer.wait_for_selector(".market-cards")
    assert await volunteer.locator("#overview-card").count() == 0


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
async def test_the_top_bar_stays_two_rows_high_on_a_phone_and_a_tablet(new_page, viewport) -> None:
    """The manager's links (six of them) take one row under the brand that scrolls sideways, with
    the current page's link in view: the sticky bar no longer covers a quarter of the screen."""
    page = await new_page(viewport=viewport)
    await sign_in(page, "manager", "/activity")
    await page.wait_for_selector(".topnav a.current")
    assert await page.locator(".topnav a").count() == 6
    bar = await page.evaluate("document.getElementById('topbar').getBoundingClientRect().height")
    assert bar <= 120, f"the top bar is {bar}px high"
    inside = await page.evaluate(
        "(() => { const n = document.querySelector('.topnav').getBoundingClientRect();"
        " const a = document.querySelector('.topnav a.current').getBoundingClientRect();"
        " return a.left >= n.left - 1 && a.right <= n.right + 1; })()"
    )
    assert inside, "the current page's link is scrolled out of view"
    # Where links are hidden past an edge, that edge is shaded (scroll shadows on the row).
    shade = await page.evaluate(
        "getComputedStyle(document.querySelector('.topnav')).backgroundImage"
    )
    assert shade.count("gradient(") == 4, shade
    await shot(page, "manager-topnav-scrolls")
    # A message (the banner area sticks under the bar) shows below the bar, not behind it.
    await page.evaluate("window.scrollTo(0, 400)")
    await page.evaluate(
        "document.getElementById('banners').append(Object.assign(document.createElement('p'),"
        " {className: 'banner', textContent: 'Đã lưu.'}))"
    )
    top = await page.evaluate(
        "document.querySelector('#banners .banner').getBoundingClientRect().top"
    )
    assert top >= bar - 1, f"a message at {top}px hides under a {bar}px bar"


async def test_a_partner_account_is_told_what_it_is_for(new_page) -> None:
    """A partner account signing in on the web gets a plain word, not one error screen per page
    (every number the pages read is refused to it)."""
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "partner", "/dashboard")
    for path in ("/dashboard", "/map", "/activity"):
        await page.goto(path)
        await page.wait_for_selector("#not-allowed")
        assert "Tài khoản đối tác MB" in await page.locator("#not-allowed").inner_text()
        assert await page.locator(".form-error").count() == 0
        # Its one page is offered, in the bar and in the message.
        assert await page.locator(".topnav a").all_inner_texts() == ["Đối tác"]
        assert await page.locator("#not-allowed a#partner-open").get_attribute("href") == "/partner"


async def test_a_partners_day_in_the_browser(new_page, live_server, tmp_path) -> None:
    """A bank's staff member signs in with the partner account: its accounts by market, the
    accounts themselves, and its onboarding report checked row by row (in Vietnamese) and then
    imported, which moves the numbers; nothing outside its reach shows."""
    code = f"P-{uuid.uuid4().hex[:4]}"
    async with await live_server.api("admin") as c:
        one = {m["name"]: m["id"] for m in (await c.get("/api/markets")).json()}["Chợ Thử Một"]
        body = stall_body(code, location=None, holder={"full_name": "Võ Thị Đối"},
                          confirm_duplicate=True)  # fmt: skip
        r = await c.post(f"/api/markets/{one}/stalls", json=body,
                         headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        assert r.status_code == 201, r.text
        # An erased person's MB account stays in the partner's list, as erased (it showed "~2ec").
        gone_code = f"P-{uuid.uuid4().hex[:4]}"
        body = stall_body(gone_code, location=None, holder={"full_name": "Võ Thị Xóa"},
                          confirm_duplicate=True,
                          payment_accounts=[{"bin": "970422", "account_number": "0123456788",
                                             "partner_code": "MB"}])  # fmt: skip
        r = await c.post(f"/api/markets/{one}/stalls", json=body,
                         headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        assert r.status_code == 201, r.text
        erased = await c.post(f"/api/stallholders/{r.json()['holder']['id']}/erase")
        assert erased.status_code == 200, erased.text
        before = (await c.get("/api/partners/MB/stats")).json()["totals"]
    page = await new_page(viewport=LAPTOP, accept_downloads=True)
    await sign_in(page, "partner", "/")  # the field app sends a partner's staff to their page
    await page.wait_for_url("**/partner")
    await page.wait_for_selector("#partner-stats")
    async with await live_server.api("admin") as c:
        name = (await c.get("/api/partners/MB")).json()["name"]
    assert await page.locator("h1").inner_text() == name
    heads = await page.locator("#partner-stats thead th").all_inner_texts()
    assert [x.lower() for x in heads[-2:]] == [
        "sạp chưa có cách biết tiền về",
        "sạp có loa báo tiền",
    ]
    total = page.locator("#partner-stats tfoot tr")
    cells = await total.locator("td").all_inner_texts()
    assert cells[0] == str(before["onboarded"]) and cells[2] == str(before["active"])
    # The erased person's account is counted as no longer in use, not as active.
    assert heads[6].lower() == "không còn dùng" and before["not_in_use"] >= 1
    assert cells[5] == str(before["not_in_use"])
    await expect_text(page, "#p-not-in-use-note", "Các cột trạng thái chỉ đếm tài khoản đang dùng")
    row = page.locator(f"#partner-accounts tr:has(td:text-is('{code}'))")
    await row.wait_for()
    assert "Chợ Thử Một" in await row.inner_text()
    await page.fill("#accounts-search", gone_code)
    gone = page.locator(f"#partner-accounts tr:has(td:text-is('{gone_code}'))")
    await gone.wait_for()
    assert "(đã xóa theo yêu cầu của chủ sạp)" in await gone.inner_text()
    assert "~" not in await gone.inner_text()
    # One account found from a report line by its stall code; a search that finds none says so.
    await page.fill("#accounts-search", code)
    await until(page, "document.querySelectorAll('#partner-accounts tbody tr').length === 1")
    await row.wait_for()
    await page.fill("#accounts-search", "ZZZ-không-có")
    await expect_text(page, "#accounts-none", "Không có tài khoản nào khớp “ZZZ-không-có”.")
    await page.fill("#accounts-search", "")
    await row.wait_for()
    async with page.expect_download() as info:
        await page.click("#stats-xlsx")
    # Dated, like every other download (it was the one without its day).
    assert re.fullmatch(
        r"doi-tac-mb-thong-ke-\d{4}-\d{2}-\d{2}\.xlsx", (await info.value).suggested_filename
    )

    report = tmp_path / "bao-cao.csv"
    report.write_text(
        "cho,ma_sap,trang_thai,ghi chu\n"
        f"Chợ Thử Một,{code},tạm ngưng,\n"
        "Chợ Không Có,A-1,active,\n"
        f"Chợ Thử Một,{code},bogus,\n",
        encoding="utf-8",
    )
    # Our own button in Vietnamese, not the browser's "Choose File"; the file's name beside it.
    assert await page.locator("label[for=report-file]").inner_text() == "Chọn tệp…"
    assert await page.locator("#report-file-name").inner_text() == "Chưa chọn tệp."
    await page.set_input_files("#report-file", str(report))
    assert await page.locator("#report-file-name").inner_text() == report.name
    assert await page.locator("#report-import").is_disabled()
    await page.click("#report-check")
    result = page.locator("#import-result")
    await result.wait_for()
    assert "Kết quả kiểm tra (chưa ghi gì):" in await result.inner_text()
    # A column the import does not read is said, not silently dropped.
    assert (
        "Các cột không dùng đến (tên cột không khớp): “ghi chu”"
        in await page.locator("#import-ignored").inner_text()
    )
    rows = page.locator("#import-rows tbody tr")
    assert await rows.count() == 3
    errors = await page.locator("#import-rows tr[data-outcome='error']").all_inner_texts()
    assert any("không tìm thấy chợ “Chợ Không Có”" in e for e in errors), errors
    assert any("không nhận ra trạng thái “bogus”" in e for e in errors), errors
    # A row in error names its stall as the file did, so the partner finds the line to fix.
    line4 = page.locator("#import-rows tr[data-line='4'] td").nth(1)
    assert await line4.inner_text() == f"{code} · Chợ Thử Một"
    # The stall's MB account was recorded active at registration: the report moves it.
    line2 = page.locator("#import-rows tr[data-line='2']")
    assert await line2.get_attribute("data-outcome") == "matched"
    assert "Tạm ngưng" in await line2.inner_text()
    await shot(page, "77-partner-report-checked")
    async with await live_server.api("admin") as c:
        assert (await c.get("/api/partners/MB/stats")).json()[
            "totals"
        ] == before  # a check writes nothing
    await page.click("#report-import")
    await page.wait_for_selector("#banners .banner-ok:has-text('Đã nhập báo cáo')")
    assert "Đã nhập báo cáo:" in await result.inner_text()
    async with await live_server.api("admin") as c:
        after = (await c.get("/api/partners/MB/stats")).json()["totals"]
    assert (after["active"], after["suspended"]) == (before["active"] - 1, before["suspended"] + 1)
    # The numbers above move at once (a reviewer saw the old ones until a reload).
    await until(
        page,
        "document.querySelectorAll('#partner-stats tfoot td')[3].textContent === "
        f"'{after['suspended']}'",
    )
    # The same file again changes nothing, says so, and offers nothing to import.
    await page.click("#report-check")
    await expect_text(page, "#import-result", "Tệp này đã được nhập trước đây")
    assert await page.locator("#report-import").is_disabled()
    await page.reload()
    await page.wait_for_selector("#partner-stats")
    await page.wait_for_selector("#partner-accounts tbody tr")
    suspended = page.locator("#partner-stats tfoot td").nth(3)
    assert await suspended.inner_text() == str(after["suspended"])
    # The same report kept in Excel is read the same way; a damaged workbook is said in Vietnamese.
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Chợ", "Mã sạp", "Trạng thái"])
    wb.active.append(["Chợ Thử Một", code, "Đang hoạt động"])
    wb.save(tmp_path / "bao-cao.xlsx")
    (tmp_path / "hong.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    await page.set_input_files("#report-file", str(tmp_path / "hong.xlsx"))
    await page.click("#report-check")
    await expect_text(page, "main", "Không đọc được tệp Excel")
    # A script's workbook whose formula has no stored result is refused, naming the cell.
    script = Workbook()
    script.active.append(["Chợ", "Mã sạp", "Trạng thái"])
    script.active.append(["Chợ Thử Một", code, '=LOWER("ACTIVE")'])
    script.save(tmp_path / "may-tao.xlsx")
    await page.set_input_files("#report-file", str(tmp_path / "may-tao.xlsx"))
    await page.click("#report-check")
    await expect_text(page, "main", "Ô C2 có công thức nhưng tệp không lưu kết quả")
    # A file without a column to find the stall by says so (it said "cannot be read: save it as
    # CSV UTF-8 with a header row" of a UTF-8 file with one).
    (tmp_path / "cot-sai.csv").write_text("ten,tuoi,dia_chi\nAn,30,Hue\n", encoding="utf-8")
    await page.set_input_files("#report-file", str(tmp_path / "cot-sai.csv"))
    await page.click("#report-check")
    await expect_text(page, "main", "Tệp thiếu cột để tìm sạp")
    await page.set_input_files("#report-file", str(tmp_path / "bao-cao.xlsx"))
    await page.click("#report-check")
    await page.wait_for_selector("#import-rows tr[data-line='2'][data-outcome='matched']")
    assert "Đang hoạt động" in await page.locator("#import-rows tr[data-line='2']").inner_text()
    assert await serious(page) == [], "the partner's page"
    await shot(page, "78-partner-page")


async def expect_text(page, selector: str, text: str) -> None:
    for _ in range(60):
        if text in await page.locator(selector).inner_text():
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"{selector} never said {text!r}")


async def test_the_partner_page_for_an_administrator_and_a_viewer(new_page, live_server) -> None:
    """An administrator opens a partner's page from the console; without a partner named, the page
    says where to go; a viewer sees the numbers but no accounts and no import."""
    ids = await market_ids(live_server)
    code = f"MT-{uuid.uuid4().hex[:4]}"
    account = {"bin": "970422", "account_number": f"79{uuid.uuid4().int % 10**8:08d}",
               "account_name": "MAU THI TEP", "partner_code": "MB"}  # fmt: skip
    await register_via_api(live_server, ids["Chợ Thử Một"], code, "Mẫu Thị Tệp", account=account)
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", "/console/partners#p-MB")
    await page.click("#partner-page-link")
    await page.wait_for_selector("#partner-stats, #stats-none")
    assert await page.locator("#report-file").count() == 1
    # The file to start from names the columns the import reads and holds the partner's accounts
    # with their status now (an example row of a stall not there came back as an error): checked
    # as it is, every row is read and nothing changes.
    async with page.expect_download() as got:
        await page.click("#report-template")
    sample = Path(await (await got.value).path())
    text = await asyncio.to_thread(sample.read_text, "utf-8-sig")
    # In Vietnamese, as people write it (it held the import's codes: ma_sap, dang_hoat_dong).
    assert text.startswith("Chợ,Mã sạp,Số điện thoại,Số tài khoản,Mã BIN,Trạng thái,Ngày\n")
    assert f"Chợ Thử Một,{code},,{account['account_number']},970422,Đang hoạt động," in text
    await page.set_input_files("#report-file", str(sample))
    await page.click("#report-check")
    await page.wait_for_selector("#import-rows tbody tr")
    # Its row reads back unchanged (other tests' markets may share a name here: not asserted).
    mine = page.locator("#import-rows tbody tr", has_text=code)
    assert await mine.get_attribute("data-outcome") == "unchanged"
    assert await page.locator("#import-result .form-error").count() == 0
    await page.goto("/partner")
    await page.wait_for_selector("#no-partner")
    viewer = await new_page(viewport=LAPTOP)
    await sign_in(viewer, "viewer", "/partner?code=MB")
    await viewer.wait_for_selector("#partner-stats, #stats-none")
    assert await viewer.locator("#partner-accounts").count() == 0
    assert await viewer.locator("#report-file").count() == 0
    assert await viewer.locator(".form-error").count() == 0


async def test_a_page_of_the_bar_not_meant_for_a_role_says_so(new_page, live_server) -> None:
    """The viewer opening /teams is told the page is not for their role (not a failed load with a
    'Thử lại' that cannot help); a volunteer (a team leader) has the Teams and Activity links."""
    viewer = await new_page(viewport=LAPTOP)
    await sign_in(viewer, "viewer", "/teams")
    await expect(viewer.locator("#not-allowed")).to_contain_text("không dành cho vai trò")
    assert await viewer.locator(".form-error").count() == 0
    volunteer = await new_page(viewport=LAPTOP)
    await sign_in(volunteer, "volunteer", "/dashboard")
    for href in ("/teams", "/activity"):
        await expect(volunteer.locator(f".topnav a[href='{href}']")).to_have_count(1)


async def test_the_ranking_reads_as_cards_on_a_phone(new_page, live_server, progress) -> None:
    """Which market next, on a phone: each market a card read top to bottom (what it lacks, its
    stalls, its report), not a table to scroll sideways with rows a screen tall."""
    page = await new_page(viewport=PHONE)
    await sign_in(page, "admin", HAI_CHAU)
    row = page.locator(".ranking-table tbody tr[data-market]").first
    await row.wait_for()
    wrap = await page.evaluate(
        """() => { const w = document.querySelector('.table-wrap:has(> .ranking-table)');
                   return [w.scrollWidth, w.clientWidth]; }"""
    )
    assert wrap[0] <= wrap[1] + 1, wrap
    stalls = row.locator("td.rank-stalls")
    label = await stalls.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert label.startswith('"Sạp'), label  # the number says what it counts
    box = await row.bounding_box()
    assert box and box["height"] < 260, box
    await shot(page, "25-ranking-phone")


FITS_JS = """(sel) => { const w = document.querySelector(sel).closest('.table-wrap');
                        return [w.scrollWidth, w.clientWidth]; }"""
LABEL_JS = "(td) => getComputedStyle(td, '::before').content"


async def test_the_wide_tables_read_as_cards_on_a_phone(new_page, live_server, progress) -> None:
    """Progress per market, the partner's numbers and accounts and the console's lists were wider
    than a phone, their right-hand columns (the bars, the statuses) off the screen: each row is a
    card now, each cell named by its column. A laptop keeps the tables."""
    page = await new_page(viewport=PHONE)
    await sign_in(page, "admin", HAI_CHAU)
    row = page.locator(".markets-table tbody tr[data-market]").first
    await row.wait_for()
    width = await page.evaluate(FITS_JS, ".markets-table")
    assert width[0] <= width[1] + 1, width
    stalls = row.locator("td.cell-count")
    assert (await stalls.evaluate(LABEL_JS)).startswith('"Sạp đang hoạt động')
    bars = await row.locator("td.cell-wide").bounding_box()
    name = await row.locator("td").first.bounding_box()
    assert bars and name and bars["y"] > name["y"] and bars["width"] > 250, (bars, name)
    await shot(page, "25-markets-cards-phone", full_page=False)

    await page.goto("/console/people")
    await page.wait_for_selector(".people-table tbody tr")
    width = await page.evaluate(FITS_JS, ".people-table")
    assert width[0] <= width[1] + 1, width
    role = page.locator(".people-table tbody tr td").nth(1)
    assert (await role.evaluate(LABEL_JS)).startswith('"Vai trò')

    partner = await new_page(viewport=PHONE)
    await sign_in(partner, "partner", "/partner")
    await partner.wait_for_selector("#partner-accounts tbody tr")
    for sel in ("#partner-stats", "#partner-accounts"):
        width = await partner.evaluate(FITS_JS, sel)
        assert width[0] <= width[1] + 1, (sel, width)
    total = partner.locator("#partner-stats tfoot td").first
    assert (await total.evaluate(LABEL_JS)).startswith('"Tài khoản đang dùng')
    # Rows the list loads later are named too (lib/cards.js watches the table).
    last = partner.locator("#partner-accounts tbody tr").last.locator("td").nth(1)
    assert (await last.evaluate(LABEL_JS)).startswith('"Chợ')
    await shot(partner, "25-partner-cards-phone", full_page=False)

    laptop = await new_page(viewport=LAPTOP)
    await sign_in(laptop, "admin", HAI_CHAU)
    await laptop.wait_for_selector(".markets-table tbody tr[data-market]")
    assert (
        await laptop.evaluate(
            "getComputedStyle(document.querySelector('.markets-table tbody tr')).display"
        )
        == "table-row"
    )


async def test_printing_a_whole_market_whose_stalls_all_have_signs_is_asked_first(
    new_page, live_server
):
    """ "In biển cả chợ" on a market where every sign is printed went straight to "66 signs
    printed?": reprinting every sign is asked first, and "Hủy" prints nothing."""
    from tests.web.test_volunteer import register_via_api

    name = f"Chợ In Đủ {uuid.uuid4().hex[:4]}"
    async with await live_server.api("admin") as c:
        market_id = (await c.post("/api/markets", json={"name": name})).json()["id"]
        account = {"bin": "970422", "account_number": "0123457800", "account_name": "LE THI IN"}
        stall = await register_via_api(live_server, market_id, "ZI-1", "Lê Thị In", account=account)
        assert (await c.post(f"/api/stalls/{stall['id']}/sign-printed")).status_code == 200
    page = await new_page(viewport=LAPTOP)
    jobs: list[str] = []
    page.on("request", lambda r: jobs.append(r.url) if "/print-jobs" in r.url else None)
    await sign_in(page, "admin", f"/markets/{market_id}")
    await page.click("#print-all")
    await page.wait_for_selector("#print-all-dialog")
    assert "Cả 1 sạp đang hoạt động đã in biển" in await page.inner_text("#print-all-dialog")
    await page.click("#print-all-dialog-cancel")
    await page.wait_for_timeout(300)
    assert jobs == []
    await page.click("#print-all")
    async with page.expect_request(lambda r: "/print-jobs" in r.url):
        await page.click("#print-all-dialog-ok")


async def test_confirming_a_markets_print_moves_its_numbers_at_once(new_page, live_server):
    """ "Xác nhận đã in" on the market page said "Đã ghi nhận 2 biển đã in" while the page kept
    its old figures (1 / 2) until a reload."""
    from tests.web.test_volunteer import register_via_api

    name = f"Chợ In Mới {uuid.uuid4().hex[:4]}"
    async with await live_server.api("admin") as c:
        market_id = (await c.post("/api/markets", json={"name": name})).json()["id"]
        for i in (1, 2):
            account = {
                "bin": "970422",
                "account_number": f"01234578{i}1",
                "account_name": "LE VAN IN",
            }
            stall = await register_via_api(
                live_server,
                market_id,
                f"ZJ-{i}",
                f"Lê Văn {'Một' if i == 1 else 'Hai'}",
                account=account,
            )
        assert (await c.post(f"/api/stalls/{stall['id']}/sign-printed")).status_code == 200
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", f"/markets/{market_id}")
    levels = page.locator(".level-rows")
    await expect_text(page, ".level-rows", "1 / 2 sạp")
    async with page.context.expect_page() as popup:
        await page.click("#print-all")
    await (await popup.value).close()
    await page.click("#confirm-print-job")
    await expect_text(page, ".level-rows", "2 / 2 sạp (100%)")
    assert "1 / 2 sạp" not in await levels.inner_text()


CHART_STEPS = """async () => {
  const loaded = (path) => performance.getEntriesByType("resource").map((e) => e.name)
    .find((name) => new URL(name).pathname === path) || path;
  const { coverageChart } = await import(loaded("/static/js/lib/chart.js"));
  const points = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"].map((date) => ({
    date, shares: { qr_issued: 0.9, qr_verified: 0.85, transacting: 0.4 } }));
  const steps = [
    { from: Date.parse("2026-10-01T00:00:00Z"), thresholds: { qr_verified: 0.9, transacting: 0.3 } },
    { from: Date.parse("2026-11-02T12:00:00Z"), thresholds: { qr_verified: 0.8 } },
  ];
  const figure = coverageChart(points, { thresholds: { qr_verified: 0.8 }, ruleSteps: steps });
  document.body.append(figure);
  const paths = [...figure.querySelectorAll("path.chart-threshold")];
  return paths.map((p) => [p.getAttribute("class"), p.getAttribute("d")]);
}"""


async def test_the_trend_draws_each_day_against_the_rule_it_was_judged_by(
    new_page, live_server
) -> None:
    """After a rule change the dashed target lines were drawn at today's thresholds over the whole
    history, so a market that lost its title under the old rule read as above its target."""
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", "/dashboard")
    await page.wait_for_selector(".rule-line")
    got = dict(await page.evaluate(CHART_STEPS))
    verified = got["chart-threshold series-qr_verified"]
    # 90 % until the change, then a step down to 80 %: one move, one vertical, one more move.
    assert re.fullmatch(r"M[\d.]+,[\d.]+H[\d.]+V[\d.]+H[\d.]+", verified), verified
    # A level the new version leaves out stops where the old version ended.
    transacting = got["chart-threshold series-transacting"]
    assert re.fullmatch(r"M[\d.]+,[\d.]+H[\d.]+", transacting), transacting
    assert float(transacting.split("H")[1]) < float(verified.split("H")[-1])


async def test_a_scheduled_rule_is_said_where_the_rule_is(new_page, live_server) -> None:
    """A version saved for a later day was only in the console: a manager learns there that their
    market's status may change that day. The next version to apply is said (another test may have
    scheduled one too)."""
    vn = timezone(timedelta(hours=7))
    day = (datetime.now(UTC) + timedelta(days=40)).astimezone(vn).date()
    async with await live_server.api("admin") as c:
        current = (await c.get("/api/programme/rule")).json()
        r = await c.put(
            "/api/programme/rule",
            json={
                "thresholds": current["thresholds"] | {"qr_issued": 0.95},
                "effective_from": day.isoformat(),
            },
        )
        assert r.status_code == 200 and r.json()["state"] == "scheduled", r.text
        version = r.json()["version"]
        versions = (await c.get("/api/programme/rule/versions")).json()
    scheduled = [v for v in versions if v["state"] == "scheduled"]
    upcoming = min(scheduled, key=lambda v: datetime.fromisoformat(v["effective_from"]))
    when = datetime.fromisoformat(upcoming["effective_from"]).astimezone(vn).date()
    said = f"Từ {when:%d/%m/%Y} áp dụng tiêu chí mới (phiên bản {upcoming['version']})"
    try:
        page = await new_page(viewport=LAPTOP)
        await sign_in(page, "manager", "/dashboard")
        note = page.locator("#rule-scheduled")
        await expect(note).to_contain_text(said)
        if upcoming["version"] == version:
            await expect(note).to_contain_text("Đã in biển ≥ 95%")
        ids = await market_ids(live_server)
        await page.goto(f"/markets/{ids['Chợ Thử Một']}")
        await expect(page.locator("#rule-scheduled")).to_contain_text(said)
    finally:
        async with await live_server.api("admin") as c:
            r = await c.post(f"/api/programme/rule/versions/{version}/withdraw")
            assert r.status_code == 200, r.text
