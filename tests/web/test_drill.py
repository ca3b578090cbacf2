"""The drill-down of /dashboard and /map: country -> province -> ward -> market, one level at a
time, the level in the URL, breadcrumbs and the browser's back button, and each user starting
where their scope makes sense (a national viewer at the country, a ward manager at their ward).

The module adds markets of its own in two other provinces (67 in one of them, more than an area
drawn market by market may hold, so the maps draw circles per area) and archives them at the end,
so the other modules see the session's data as before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import pytest

from tests.web.conftest import LAPTOP, PHONE, shot, sign_in, until
from tests.web.test_a11y import serious

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = pytest.mark.browser

MARKETS_PER_WARD = (40, 25)  # two wards of the first province: 65 markets, more than SMALL (60)


@pytest.fixture(scope="module")
async def country(live_server) -> AsyncIterator[dict]:
    """Markets in two more provinces: {p1, p2, w1, w2, w3, names, ids: {ward: [ids]}}."""
    async with await live_server.api("admin") as c:
        provinces = [u for u in (await c.get("/api/admin-units")).json() if u["code"] != "48"]
        p1, p2 = provinces[0], provinces[1]
        wards1 = (await c.get("/api/admin-units", params={"province": p1["code"]})).json()
        wards2 = (await c.get("/api/admin-units", params={"province": p2["code"]})).json()
        w1, w2, w3 = wards1[0], wards1[1], wards2[0]
        ids: dict[str, list[int]] = {w1["code"]: [], w2["code"]: [], w3["code"]: []}
        tag = uuid.uuid4().hex[:4]
        plan = [(w1, MARKETS_PER_WARD[0], 21.03), (w2, MARKETS_PER_WARD[1], 20.90), (w3, 2, 16.46)]
        for ward, n, lat in plan:
            for i in range(n):
                body = {
                    "name": f"Chợ Khoan {tag} {ward['code']}-{i:02d}",
                    "ward_code": ward["code"],
                    "lat": lat + (i % 8) * 0.01,
                    "lon": 105.80 + (i // 8) * 0.01 if lat > 20 else 107.59 + i * 0.01,
                    "zones": ["A"],
                }
                res = await c.post("/api/markets", json=body)
                assert res.status_code == 201, res.text
                ids[ward["code"]].append(res.json()["id"])
    yield {
        "p1": p1["code"],
        "p2": p2["code"],
        "w1": w1["code"],
        "w2": w2["code"],
        "w3": w3["code"],
        "names": {u["code"]: u["name"] for u in (p1, p2, w1, w2, w3)},
        "ids": ids,
    }
    async with await live_server.api("admin") as c:
        for market_ids in ids.values():
            for market_id in market_ids:
                res = await c.post(f"/api/markets/{market_id}/archive", json={"reason": "test"})
                assert res.status_code == 200, res.text


def area_of(url: str) -> dict[str, str]:
    """The drill-down parameters of a page URL."""
    qs = parse_qs(urlparse(url).query)
    return {k: v[0] for k, v in qs.items() if k in ("province", "ward")}


async def crumbs(page) -> list[str]:
    return await page.locator("nav.crumbs li").all_inner_texts()


async def area_rows(page) -> dict[str, int]:
    """{area code: markets} of the dashboard's rows."""
    rows = await page.eval_on_selector_all(
        ".area-table tbody tr",
        "rows => rows.map(r => [r.dataset.area, r.querySelector('td.num').textContent])",
    )
    return {code: int(n.replace(".", "")) for code, n in rows}


async def circles(page) -> dict[str, int]:
    """{area code: markets} of the map's circles."""
    await page.wait_for_selector(".map-box[data-drawn=areas] .area-mk")
    got = await page.eval_on_selector_all(
        ".map-box .area-mk", "els => els.map(e => [e.dataset.area, e.dataset.markets])"
    )
    return {code: int(n) for code, n in got}


async def test_a_national_viewer_drills_down_and_back_up(new_page, live_server, country) -> None:
    p1, w1, w2 = country["p1"], country["w1"], country["w2"]
    async with await live_server.api("viewer") as c:
        national = (await c.get("/api/coverage?group_by=province")).json()
        in_ward = (await c.get(f"/api/coverage?group_by=market&ward={w1}")).json()
    page = await new_page(viewport=LAPTOP)
    history: list[str] = []
    page.on(
        "request", lambda r: history.append(r.url) if "/api/coverage/history" in r.url else None
    )
    await sign_in(page, "viewer", "/dashboard")
    # The country: one row and one circle per province with markets, never a row per market.
    await page.wait_for_selector(".area-table tbody tr")
    assert area_of(page.url) == {}
    assert await crumbs(page) == ["Cả nước"]
    expected = {g["key"]: g["markets"] for g in national["groups"] if g["key"]}
    assert {k: v for k, v in (await area_rows(page)).items() if k} == expected
    assert await page.locator(".markets-table tr[data-market]").count() == 0
    drawn = await circles(page)
    assert drawn[p1] == sum(MARKETS_PER_WARD) and drawn[country["p2"]] == 2
    assert await page.locator(".map-box .mk").count() == 0
    kpi = await page.locator(".kpi-value").first.inner_text()
    assert kpi.replace(".", "") == str(national["total"]["markets"])
    await shot(page, "80-drill-country")

    # Into the province: its wards, its numbers, its trend.
    await page.click(f".area-table tr[data-area='{p1}'] a")
    await page.wait_for_selector(f".area-table tr[data-area='{w1}']")
    assert area_of(page.url) == {"province": p1}
    assert await crumbs(page) == ["Cả nước", country["names"][p1]]
    assert await area_rows(page) == {w1: MARKETS_PER_WARD[0], w2: MARKETS_PER_WARD[1]}
    assert await circles(page) == {w1: MARKETS_PER_WARD[0], w2: MARKETS_PER_WARD[1]}
    assert (await page.locator(".kpi-value").first.inner_text()) == str(sum(MARKETS_PER_WARD))
    await until(page, "!!document.querySelector('#trend-chart svg, #trend-chart p.muted')")
    assert any(f"province={p1}" in u for u in history)
    # Where to go next: the province's markets only.
    await page.wait_for_selector(".ranking-table tbody tr[data-market]")
    ranked = await page.eval_on_selector_all(
        ".ranking-table tbody tr[data-market]", "rows => rows.map(r => Number(r.dataset.market))"
    )
    assert ranked and set(ranked) <= set(country["ids"][w1] + country["ids"][w2])
    await shot(page, "81-drill-province")

    # Into a ward: its markets, as the dashboard always listed them, drawn market by market.
    await page.click(f".area-table tr[data-area='{w1}'] a")
    await page.wait_for_selector(".markets-table tr[data-market]")
    assert area_of(page.url) == {"province": p1, "ward": w1}
    assert await crumbs(page) == ["Cả nước", country["names"][p1], country["names"][w1]]
    shown = await page.eval_on_selector_all(
        ".markets-table tr[data-market]", "rows => rows.map(r => Number(r.dataset.market))"
    )
    assert sorted(shown) == sorted(int(g["key"]) for g in in_ward["groups"])
    assert len(shown) == MARKETS_PER_WARD[0]
    await page.wait_for_selector(".map-box .mk, .map-box .mk-cluster")
    assert await page.locator(".map-box .area-mk").count() == 0
    assert any(f"ward={w1}" in u for u in history)
    await shot(page, "82-drill-ward")

    # A market opens its page; the browser's back button returns level by level.
    first = shown[0]
    await page.click(f".markets-table tr[data-market='{first}'] a.market-name")
    await page.wait_for_url(f"**/markets/{first}")
    await page.wait_for_selector(".level-rows")
    await page.go_back()
    await page.wait_for_selector(f".markets-table tr[data-market='{first}']")
    assert area_of(page.url) == {"province": p1, "ward": w1}
    await page.go_back()
    await page.wait_for_selector(f".area-table tr[data-area='{w2}']")
    assert area_of(page.url) == {"province": p1}
    assert await crumbs(page) == ["Cả nước", country["names"][p1]]
    await page.go_back()
    await page.wait_for_selector(f".area-table tr[data-area='{p1}']")
    assert area_of(page.url) == {}
    # Forward again, then up with the breadcrumbs.
    await page.go_forward()
    await page.wait_for_selector(f".area-table tr[data-area='{w2}']")
    await page.click(f".area-table tr[data-area='{w2}'] a")
    await page.wait_for_selector(".markets-table tr[data-market]")
    assert await page.locator(".markets-table tr[data-market]").count() == MARKETS_PER_WARD[1]
    await page.click("nav.crumbs a[data-level=province]")
    await page.wait_for_selector(f".area-table tr[data-area='{w1}']")
    assert area_of(page.url) == {"province": p1}
    # Keyboard and screen-reader users land on the level's heading.
    assert await page.evaluate("document.activeElement.tagName") == "H1"
    await page.click("nav.crumbs a[data-level=country]")
    await page.wait_for_selector(f".area-table tr[data-area='{p1}']")
    assert area_of(page.url) == {}
    await page.go_back()
    await page.wait_for_selector(f".area-table tr[data-area='{w1}']")
    assert area_of(page.url) == {"province": p1}


async def test_the_map_drills_by_its_circles(new_page, country) -> None:
    p1, w1, w2 = country["p1"], country["w1"], country["w2"]
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "viewer", "/map")
    drawn = await circles(page)
    assert drawn[p1] == sum(MARKETS_PER_WARD)
    # The list beside the map names the same areas, and is a way in too.
    listed = await page.eval_on_selector_all(
        "nav.area-index a", "els => els.map(e => e.dataset.area)"
    )
    assert set(listed) == {k for k in drawn}
    assert await page.locator("#map-search").count() == 0
    await page.click(f".map-box .area-mk[data-area='{p1}']")
    await page.wait_for_selector(f".map-box .area-mk[data-area='{w1}']")
    assert area_of(page.url) == {"province": p1}
    assert await circles(page) == {w1: MARKETS_PER_WARD[0], w2: MARKETS_PER_WARD[1]}
    await shot(page, "83-drill-map-province")
    # From the keyboard: a focused circle opens with Enter.
    await page.focus(f".map-box .area-mk[data-area='{w2}']")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".map-box .mk, .map-box .mk-cluster")
    assert area_of(page.url) == {"province": p1, "ward": w2}
    # The ward's markets, each once, and the list of them with the search box.
    ids = await page.evaluate(
        """() => [...document.querySelectorAll('.map-box .mk')].map(e => e.dataset.market)
           .concat([...document.querySelectorAll('.map-box .mk-cluster')]
           .flatMap(e => e.dataset.markets.split(',')))"""
    )
    assert sorted(int(i) for i in ids) == sorted(country["ids"][w2])
    assert await page.locator("nav.market-index a").count() == MARKETS_PER_WARD[1]
    assert await page.locator("#map-search").count() == 1
    await shot(page, "84-drill-map-ward")
    await page.go_back()
    await page.wait_for_selector(f".map-box .area-mk[data-area='{w2}']")
    assert area_of(page.url) == {"province": p1}


async def test_a_ward_manager_starts_at_their_ward(new_page, live_server, country) -> None:
    async with await live_server.api("manager") as c:
        mine = (await c.get("/api/coverage?group_by=market&ward=20242")).json()["groups"]
    page = await new_page(viewport=PHONE)
    await sign_in(page, "manager", "/dashboard")
    await page.wait_for_selector(".markets-table tr[data-market]")
    assert area_of(page.url) == {"province": "48", "ward": "20242"}
    assert await crumbs(page) == ["Cả nước", "Thành phố Đà Nẵng", "Phường Hải Châu"]
    shown = await page.eval_on_selector_all(
        ".markets-table tr[data-market]", "rows => rows.map(r => r.dataset.market)"
    )
    assert sorted(shown) == sorted(g["key"] for g in mine)
    await shot(page, "85-drill-manager")
    # Up to the country: only what their scope holds (one province), never the others'.
    await page.click("nav.crumbs a[data-level=country]")
    await page.wait_for_selector(".area-table tr[data-area='48']")
    assert await page.locator(".area-table tbody tr").count() == 1
    # A reload (or the link shared) stays at the country instead of going back down to the ward.
    await page.reload()
    await page.wait_for_selector(".area-table tr[data-area='48']")
    assert area_of(page.url) == {} and "country=1" in page.url
    # An area outside the scope shows zeros, and says why.
    await page.goto("/dashboard?ward=20209")
    await page.wait_for_selector("#area-empty")
    # A code no province has: said in Vietnamese, not the generic failure.
    await page.goto("/dashboard?province=99")
    await page.wait_for_selector("main .form-error")
    assert "Không có tỉnh, thành phố nào với mã này" in await page.locator("main").inner_text()
    await page.goto("/map")
    await page.wait_for_selector(".map-box .mk, .map-box .mk-cluster")
    assert area_of(page.url) == {"province": "48", "ward": "20242"}


async def test_a_url_opens_its_level_directly(new_page, country) -> None:
    p1, w1, w2 = country["p1"], country["w1"], country["w2"]
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", f"/dashboard?province={p1}&ward={w2}")
    await page.wait_for_selector(".markets-table tr[data-market]")
    assert await page.locator(".markets-table tr[data-market]").count() == MARKETS_PER_WARD[1]
    assert area_of(page.url) == {"province": p1, "ward": w2}
    # A ward alone: its province is found and put in the URL and the breadcrumbs.
    await page.goto(f"/dashboard?ward={w1}")
    await page.wait_for_selector(".markets-table tr[data-market]")
    assert area_of(page.url) == {"province": p1, "ward": w1}
    assert await crumbs(page) == ["Cả nước", country["names"][p1], country["names"][w1]]
    # The map of a province, and the dashboard link that keeps the level.
    await page.goto(f"/map?province={p1}")
    assert set(await circles(page)) == {w1, w2}
    href = await page.get_attribute("main a[href^='/dashboard']", "href")
    assert area_of(href) == {"province": p1}
    # A code the directory does not have: the page says so instead of drawing nothing.
    await page.goto("/dashboard?province=999")
    await page.wait_for_selector("main .form-error")


async def test_drill_levels_have_no_serious_accessibility_violations(new_page, country) -> None:
    p1 = country["p1"]
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "viewer", "/dashboard")
    await page.wait_for_selector(".area-table tbody tr")
    await circles(page)
    assert await serious(page) == [], "dashboard, country"
    await page.goto(f"/map?province={p1}")
    await circles(page)
    assert await serious(page) == [], "map, province"
    await page.goto("/map")
    await circles(page)
    assert await serious(page) == [], "map, country"


async def test_a_nul_in_the_address_opens_the_page_not_raw_json(new_page, live_server):
    """/dashboard?province=%00 showed the raw problem+json in English as the page; now the page
    opens (the manager's own area: an area that is no area is not followed)."""
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "manager", "/dashboard")
    await page.goto("/dashboard?province=%00")
    await page.wait_for_selector("h1:has-text('Bảng điều khiển')")
    body = await page.locator("body").inner_text()
    assert '"type"' not in body and "invalid_text" not in body


async def test_the_dashboard_at_a_tablets_width_keeps_its_rows_whole(new_page, live_server):
    """At 820 px the sixth figure sat alone on a second row; at a phone's width they pair up."""
    for width, per_row in ((820, 3), (1366, 6), (390, 2)):
        page = await new_page(viewport={"width": width, "height": 1000})
        await sign_in(page, "manager", "/dashboard")
        cards = page.locator(".kpis > *")
        await expect(cards).to_have_count(6)
        tops = [round((await cards.nth(i).bounding_box())["y"]) for i in range(6)]
        rows = [tops.count(y) for y in dict.fromkeys(tops)]
        assert rows == [per_row] * (6 // per_row), (width, tops)
        await page.close()


async def test_at_a_tablets_width_the_rankings_report_button_keeps_to_two_lines(
    new_page, live_server
):
    """At 820 px "Báo cáo chợ, sạp cần đến (PDF)" wrapped to six lines in every row."""
    page = await new_page(viewport={"width": 820, "height": 1180})
    await sign_in(page, "manager", "/dashboard")
    button = page.locator("#ranking td.rank-action .btn").first
    await button.wait_for()
    line = await button.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
    box = await button.bounding_box()
    assert box and box["height"] < 3.2 * line + 16, (box, line)


async def test_on_a_touch_screen_the_breadcrumbs_and_page_links_are_a_finger_tall(
    new_page, live_server
) -> None:
    """ "Cả nước" was 71×24 px and "← Bản đồ các chợ" 141×19 on a phone: hard to hit."""
    page = await new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    await sign_in(page, "manager", "/dashboard")
    await page.wait_for_selector(".crumbs a")
    links = [page.locator(".crumbs a").first, page.locator(".nav-links a").first]
    await page.goto("/markets/1")
    await page.wait_for_selector(".nav-links a")
    links.append(page.locator(".nav-links a").first)
    for link in links[2:]:
        box = await link.bounding_box()
        assert box and box["height"] >= 40, box
    await page.goto("/dashboard")
    await page.wait_for_selector(".crumbs a")
    for link in links[:2]:
        box = await link.bounding_box()
        assert box and box["height"] >= 40, box
    await shot(page, "dashboard-touch", full_page=False)


async def test_a_province_without_markets_says_so_on_the_map(
    new_page, live_server, country
) -> None:
    """A province with no market drew an empty map (showing Đà Nẵng's ward names under a heading
    of another province) and an empty list: it says there is no market there."""
    async with await live_server.api("admin") as c:
        units = (await c.get("/api/admin-units")).json()
        markets = (await c.get("/api/markets")).json()
    used = {m.get("province_code") for m in markets}
    empty = next(u for u in units if u["code"] not in used and u["code"] not in (
        country["p1"], country["p2"]))  # fmt: skip
    page = await new_page(viewport=LAPTOP)
    await sign_in(page, "admin", f"/map?province={empty['code']}")
    note = page.locator("#map-empty")
    await expect(note).to_contain_text(f"Chưa có chợ nào ở {empty['name']}")
    assert await page.locator(".map-box").count() == 0
    assert await page.locator("nav.area-index, nav.market-index").count() == 0
