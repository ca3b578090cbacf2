"""What a slow network carries: compressed files and answers, hashed URLs cached for good, and a
warm start of the installed app that asks the server for data only."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import brotli
import httpx
import pytest

from tests.web.conftest import sign_in, until
from web import assets
from web.router import STATIC


async def _raw(client: httpx.AsyncClient, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as it came over the wire (not decoded)."""
    async with client.stream("GET", url, headers=headers) as res:
        body = b"".join([chunk async for chunk in res.aiter_raw()])
    return res, body


def _page_urls(page_html: str) -> dict[str, list[str]]:
    return {
        "script": re.findall(r'<script type="module" src="([^"]+)"', page_html),
        "preload": re.findall(r'<link rel="modulepreload" href="([^"]+)"', page_html),
        "style": re.findall(r'<link rel="stylesheet" href="([^"]+)"', page_html),
    }


async def test_the_page_names_hashed_scripts_and_preloads_what_its_module_imports(
    client: httpx.AsyncClient,
) -> None:
    res = await client.get("/")
    urls = _page_urls(res.text)
    assert urls["script"] == [assets.current().url("js/app.js")]
    assert urls["style"] == [assets.current().url("css/app.css")]
    assert re.fullmatch(r"/static/js/app\.js\?v=[0-9a-f]{12}", urls["script"][0])
    # Exactly the modules app.js imports (directly or not), fetched at once, not one level at a time.
    app_js = (await client.get(urls["script"][0])).text
    imported = re.findall(r'^import .* from "\./(lib/[a-z]+\.js\?v=[0-9a-f]{12})";$', app_js, re.M)
    assert imported and {"/static/js/" + i for i in imported} <= set(urls["preload"])
    for url in urls["preload"]:
        assert re.fullmatch(r"/static/js/[a-z0-9/]+\.js\?v=[0-9a-f]{12}", url), url
    # The views the sign-in form does not need are not preloaded: they load after it is up.
    assert not any("/views/" in u for u in urls["preload"])


async def test_scripts_come_compressed_as_asked_and_plain_otherwise(
    client: httpx.AsyncClient,
) -> None:
    url = assets.current().url("js/lib/i18n-en.js")  # a module that imports nothing: served as is
    plain = (STATIC / "js" / "lib" / "i18n-en.js").read_bytes()

    res, body = await _raw(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert res.headers["content-encoding"] == "br"
    assert res.headers["vary"] == "Accept-Encoding"
    assert brotli.decompress(body) == plain
    assert len(body) < len(plain) / 3
    assert int(res.headers["content-length"]) == len(body)

    res, body = await _raw(client, url, **{"Accept-Encoding": "gzip"})
    assert res.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain

    res, body = await _raw(client, url, **{"Accept-Encoding": "br;q=0, gzip;q=0.5"})
    assert res.headers["content-encoding"] == "gzip"

    res, body = await _raw(client, url, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in res.headers
    assert res.headers["vary"] == "Accept-Encoding"
    assert body == plain

    # Images are compressed already: sent as they are, whatever is asked.
    res, body = await _raw(client, "/static/icons/icon-192.png", **{"Accept-Encoding": "br, gzip"})
    assert "content-encoding" not in res.headers
    assert body == (STATIC / "icons" / "icon-192.png").read_bytes()


async def test_the_style_sheet_comes_without_its_comments(client: httpx.AsyncClient) -> None:
    """A fifth of the style sheet was comments: part of the app shell a tablet on 3G waits for.
    They are left out as served; strings that hold "/*" are kept whole."""
    url = assets.current().url("css/app.css")
    source = (STATIC / "css" / "app.css").read_bytes()
    res, body = await _raw(client, url, **{"Accept-Encoding": "identity"})
    assert res.status_code == 200 and b"/*" in source and b"/*" not in body
    assert len(body) < len(source) * 0.95
    # Every rule is kept: the same selectors and declarations, in the same order.
    assert re.sub(rb"\s+", b"", body) == re.sub(rb"\s+", b"", assets.css_without_comments(source))
    assert re.findall(rb"[^{}]+{", re.sub(rb"/\*.*?\*/", b"", source, flags=re.S)) == re.findall(
        rb"[^{}]+{", body
    )
    kept = assets.css_without_comments(b"a{content:\"/* keep */\"}/* go */b{c:'it\\'s /*x*/'}")
    assert kept == b"a{content:\"/* keep */\"}b{c:'it\\'s /*x*/'}"


async def test_hashed_urls_are_kept_for_a_year_and_plain_names_revalidate(
    client: httpx.AsyncClient,
) -> None:
    hashed = assets.current().url("js/app.js")
    res = await client.get(hashed)
    assert res.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = res.headers["etag"]
    # The same file under its plain name, or under the hash of an older version: revalidated.
    for url in ("/static/js/app.js", "/static/js/app.js?v=0123456789ab"):
        other = await client.get(url)
        assert other.status_code == 200
        assert other.headers["cache-control"] == "public, max-age=0, must-revalidate"
        assert other.content == res.content
    # Revalidation answers 304 with no body, whichever encoding the browser holds.
    for held in (etag, etag.replace("-br", "-gzip"), etag.replace("-br", "")):
        again = await client.get("/static/js/app.js", headers={"If-None-Match": held})
        assert again.status_code == 304 and again.content == b"", held
    # Imports inside a module name hashed URLs too, so the whole graph is cached the same way.
    assert re.search(r'from "\./lib/dom\.js\?v=[0-9a-f]{12}"', res.text)
    assert not re.search(r'from "\./lib/dom\.js"', res.text)


async def test_a_changed_file_changes_its_url_its_importers_and_the_service_worker(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "static"
    shutil.copytree(STATIC, root)
    monkeypatch.setattr(assets, "RECHECK_S", 0.0)
    monkeypatch.setattr(assets, "current", assets._Current(root))
    before = assets.current()
    sw_before = (await client.get("/sw.js")).text

    dom = root / "js" / "lib" / "dom.js"
    dom.write_text(dom.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    after = assets.current()
    sw_after = (await client.get("/sw.js")).text

    assert after.url("js/lib/dom.js") != before.url("js/lib/dom.js")
    assert after.url("js/app.js") != before.url("js/app.js")  # imports dom.js
    assert after.url("js/lib/idb.js") == before.url("js/lib/idb.js")  # does not
    # The service worker's text changes, so browsers install the new version and its new URLs.
    version = re.compile(r'const VERSION = "([0-9a-f]{12})"')
    assert version.search(sw_before)[1] != version.search(sw_after)[1]  # type: ignore[index]
    assert after.url("js/lib/dom.js") in sw_after and before.url("js/lib/dom.js") not in sw_after
    served = await client.get(after.url("js/lib/dom.js"))
    assert served.text.endswith("// changed\n")
    assert served.headers["cache-control"].endswith("immutable")


async def test_api_answers_over_a_kilobyte_are_gzipped_small_ones_are_not(
    client: httpx.AsyncClient, auth
) -> None:
    headers = await auth("admin")
    res, body = await _raw(client, "/api/banks", **headers, **{"Accept-Encoding": "gzip, br"})
    assert res.status_code == 200
    assert res.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in res.headers["vary"]
    plain = gzip.decompress(body)
    assert len(body) < len(plain) / 3 and plain.startswith(b"[")

    res, body = await _raw(client, "/api/users/me", **headers, **{"Accept-Encoding": "gzip"})
    assert len(body) < 1024 and "content-encoding" not in res.headers

    res, body = await _raw(client, "/api/banks", **headers, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in res.headers and body == plain


async def test_a_streamed_export_stays_streamed_and_is_gzipped(
    client: httpx.AsyncClient, auth
) -> None:
    headers = await auth("admin")
    res, body = await _raw(
        client, "/api/exports/stalls.csv", **headers, **{"Accept-Encoding": "gzip"}
    )
    assert res.status_code == 200
    assert res.headers["content-encoding"] == "gzip"
    assert "content-length" not in res.headers  # sent as it is produced
    assert gzip.decompress(body).decode("utf-8-sig").startswith("stall_id")


# ------------------------------------------------------------------ in the browser


@pytest.mark.browser
async def test_a_warm_start_asks_the_server_for_data_only(new_page, live_server) -> None:
    async with await live_server.api("admin") as c:  # a stall still to do in the volunteer's market
        market = next(m for m in (await c.get("/api/markets")).json() if m["name"] == "Chợ Thử Một")
        notice = (await c.get("/api/consent-notice")).json()["version"]
        body = {
            "stall_code": "WARM-1",
            "holder": {"full_name": "Lê Thị Ấm"},
            "payment_accounts": [],
            "consent": {"notice_version": notice, "purposes": ["registration"]},
        }
        key = {"Idempotency-Key": "web-test-warm-start"}
        res = await c.post(f"/api/markets/{market['id']}/stalls", json=body, headers=key)
        assert res.status_code in (200, 201), res.text
    page = await new_page(service_workers="allow")
    await sign_in(page)
    await page.wait_for_selector("#worklist .stall-row")
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await until(page, "navigator.serviceWorker.controller !== null")
    # Installed: every file of this version is in the service worker's cache.
    await until(page, "caches.keys().then((k) => k.length === 1)")
    listed = await page.evaluate(
        "caches.keys().then((k) => caches.open(k[0])).then((c) => c.keys()).then((r) => r.length)"
    )
    assert listed > 30
    # The app's page as the device keeps it preloads the worklist (web/router.py DEVICE_COPY).
    home = await page.evaluate(
        "caches.keys().then((k) => caches.open(k[0])).then((c) => c.match('/')).then((r) => r.text())"
    )
    assert re.search(r'<link rel="modulepreload" href="/static/js/views/worklist\.js\?v=', home)

    # The volunteer opens the app again (a new tab in the same browser profile).
    again = await page.context.new_page()
    asked: list[str] = []
    log_start = live_server.log.stat().st_size  # the app's log: its access log says what it served

    def on_request(request) -> None:
        asked.append(request.url)

    again.on("request", on_request)
    # The top bar comes with the worklist, not a frame before it (a layout and a paint of the
    # loading page that a slow tablet's worklist waited for): note what was there when it came.
    await again.add_init_script(
        """new MutationObserver(() => {
             const bar = document.getElementById("topbar");
             if (bar && bar.childElementCount && !window.__topbarCame) {
               window.__topbarCame = { worklist: !!document.getElementById("worklist") };
             }
           }).observe(document, { subtree: true, childList: true });"""
    )
    res = await again.goto("/")
    await again.wait_for_selector("#worklist .stall-row")
    assert await again.evaluate("window.__topbarCame") == {"worklist": True}
    await again.wait_for_load_state("networkidle")
    assert res is not None and res.from_service_worker

    # What reached the server: data, and nothing else (the browser may check /sw.js for updates).
    served = live_server.log.read_bytes()[log_start:].decode(errors="replace")
    reached = re.findall(r'"GET (\S+) HTTP/1\.1" \d{3}', served)
    assert reached, "the access log shows no request at all: is it still written?"
    not_data = [p for p in reached if not p.startswith("/api/") and p != "/sw.js"]
    assert not_data == []
    # And the page did load its shell and scripts (from the device).
    assert any(u.endswith("/") for u in asked)
    assert any("/static/js/app.js?v=" in u for u in asked)
