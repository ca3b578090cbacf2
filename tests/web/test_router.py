"""Pages and static files as served: types, cache headers, CSP, service worker, no path escapes."""

from __future__ import annotations

import re

import httpx

from core.state import state_of
from web.router import STATIC


async def test_pages_are_served_with_the_strict_csp(client: httpx.AsyncClient) -> None:
    for path in ("/", "/dashboard", "/map", "/markets/1"):
        res = await client.get(path)
        assert res.status_code == 200, path
        assert res.headers["content-type"].startswith("text/html")
        assert res.headers["cache-control"] == "no-cache"
        csp = res.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp
        # Nothing inline: no script bodies, no style blocks or attributes.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", res.text)
        assert "<style" not in res.text and " style=" not in res.text
        assert 'lang="vi"' in res.text


async def test_the_device_copy_of_the_app_preloads_the_worklist(client: httpx.AsyncClient) -> None:
    """The page the service worker keeps (?copy=device) preloads the first screen of a signed-in
    device; the page a new device gets from the server does not (those files would compete with
    the sign-in form's on 3G), and only names them for the app to preload once signed in."""

    def preloaded(text: str) -> list[str]:
        return re.findall(r'<link rel="modulepreload" href="/static/js/([^"?]+)\?v=', text)

    plain, copy = (await client.get("/")).text, (await client.get("/?copy=device")).text
    warm = re.search(r'data-warm="([^"]*)"', plain)
    assert warm and "/static/js/views/worklist.js?v=" in warm.group(1)
    assert "views/worklist.js" not in preloaded(plain)
    assert {"views/worklist.js", "lib/outbox.js", "lib/consents.js"} <= set(preloaded(copy))
    assert set(preloaded(plain)) < set(preloaded(copy))
    assert len(preloaded(copy)) == len(set(preloaded(copy)))  # each once, app.js not among them
    assert "app.js" not in preloaded(copy)
    # Other pages have no first screen to warm: their copy is the page itself.
    dashboard = (await client.get("/dashboard")).text
    assert preloaded((await client.get("/dashboard?copy=device")).text) == preloaded(dashboard)
    # The copy also shows the worklist as last drawn while the modules load (static/js/instant.js):
    # a classic script after <main>, so it runs while the page is parsed; never in the plain page.
    instant = re.compile(r'</main>\n<script src="/static/js/instant\.js\?v=[0-9a-f]+"></script>\n')
    assert instant.search(copy) and "instant.js" not in plain
    # The modules come after it there (it draws before they are compiled); in the head elsewhere.
    assert copy.index("instant.js") < copy.index('rel="modulepreload"')
    assert copy.index("instant.js") < copy.index('<script type="module"')
    assert plain.index('<script type="module"') < plain.index("</head>")
    assert "instant.js" not in (await client.get("/dashboard?copy=device")).text
    assert "{{" not in plain and "{{" not in copy


async def test_static_files_have_types_and_revalidate(client: httpx.AsyncClient) -> None:
    cases = {
        "/static/js/app.js": "text/javascript",
        "/static/css/app.css": "text/css",
        "/static/icons/icon.svg": "image/svg+xml",
        "/static/icons/icon-64.png": "image/png",
        "/static/icons/icon-192.png": "image/png",
        "/manifest.webmanifest": "application/manifest+json",
    }
    for path, ctype in cases.items():
        res = await client.get(path)
        assert res.status_code == 200, path
        assert res.headers["content-type"].startswith(ctype), path
        assert "cache-control" in res.headers
    res = await client.get("/static/js/app.js")
    again = await client.get("/static/js/app.js", headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_no_file_outside_the_static_folder(client: httpx.AsyncClient) -> None:
    escapes = ("/static/../router.py", "/static/%2e%2e/router.py", "/static/js/../../router.py")
    for path in (*escapes, "/static/nope.js"):
        res = await client.get(path)
        assert res.status_code == 404, path
    assert (await client.get("/static/sw.js")).status_code == 200  # harmless: the unfilled template


async def test_service_worker_caches_every_shipped_file(client: httpx.AsyncClient) -> None:
    res = await client.get("/sw.js")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/javascript")
    assert res.headers["service-worker-allowed"] == "/"
    assert res.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in res.text and "__ASSETS__" not in res.text
    listed = set(re.findall(r'"(/static/[^"]+)"', res.text))
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    shipped = {"/static/" + p.relative_to(STATIC).as_posix() for p in files}
    # Scripts and styles are listed by their hashed URLs (/static/js/app.js?v=...).
    assert shipped - {"/static/sw.js"} <= {url.split("?v=")[0] for url in listed}
    for url in listed:
        assert (await client.get(url)).status_code == 200, url


async def test_pages_pass_no_settings_unescaped(client: httpx.AsyncClient, app) -> None:
    state_of(app).settings.map_tile_url = 'https://tiles.example/{z}/{x}/{y}.png"><script>'
    res = await client.get("/map")
    assert "<script>" not in res.text.replace('<script type="module"', "")
    assert "&quot;&gt;&lt;script&gt;" in res.text


async def test_a_browser_at_an_address_that_is_no_page_gets_a_vietnamese_page(
    client: httpx.AsyncClient,
) -> None:
    """A mistyped address opened in a browser is a page (404) with the ways in; the API and any
    caller that does not ask for HTML keep problem+json."""
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in (
        "/visits",
        "/markets/abc",
        "/markets/777888777888777888777",
        "/console/markets/x/import",
    ):
        res = await client.get(path, headers=browser)
        assert res.status_code == 404 and res.headers["content-type"].startswith("text/html"), path
    res = await client.get("/visits", headers=browser)
    assert "Không tìm thấy trang này" in res.text and 'lang="vi"' in res.text
    assert (
        'href="/dashboard"' in res.text and "<script" not in res.text and " style=" not in res.text
    )
    assert "content-security-policy" in res.headers
    res = await client.get("/api/markets/abc", headers=browser)
    assert res.status_code in (401, 422)
    assert res.headers["content-type"] == "application/problem+json"
    for path, headers in (("/visits", {"Accept": "application/json"}), ("/api/nope", browser)):
        res = await client.get(path, headers=headers)
        assert res.status_code == 404, path
        assert res.headers["content-type"] == "application/problem+json", path
        assert res.json()["code"] == "not_found"
    res = await client.post("/visits", headers=browser)
    assert res.headers["content-type"] == "application/problem+json"
