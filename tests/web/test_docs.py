"""The API documentation in a real browser: /docs (Swagger UI) and /redoc render every operation."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import LAPTOP, shot, until


def _csp(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


async def test_redoc_page_loads_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    page = await client.get("/redoc")
    assert page.status_code == 200
    assert "https://" not in page.text  # no CDN, no Google Fonts
    csp = _csp(page.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]  # ReDoc needs no inline script
    assert "blob:" in csp["worker-src"] and csp["frame-ancestors"] == ["'none'"]
    bundle = await client.get("/docs-assets/redoc.js")
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith(
        "text/javascript"
    )
    assert len(bundle.content) > 500_000 and b"cdn.redoc.ly" not in bundle.content
    favicon = await client.get("/docs-assets/favicon.png")
    assert favicon.status_code == 200 and favicon.content.startswith(b"\x89PNG")


async def test_the_docs_exception_covers_exactly_the_two_pages(client: httpx.AsyncClient) -> None:
    for path in ("/docs/", "/docs/x", "/redoc/", "/docs-assets/redoc.js", "/openapi.json"):
        r = await client.get(path)
        assert "'unsafe-inline'" not in r.headers["content-security-policy"], path
        assert "blob:" not in _csp(r.headers["content-security-policy"])["worker-src"], path


def _operations(live_server) -> list[dict]:
    """Every operation the app publishes in /openapi.json (OpenAPI 3.1)."""
    spec = httpx.get(live_server.base + "/openapi.json", timeout=30).json()
    assert spec["openapi"].startswith("3.1")
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return [
        {"path": path, "method": method, **op}
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in methods
    ]


@pytest.mark.browser
async def test_swagger_ui_renders_every_operation(new_page, live_server) -> None:
    operations = _operations(live_server)
    page = await new_page(viewport=LAPTOP)
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    await page.goto("/docs")
    await until(page, "document.querySelectorAll('.opblock').length > 0", seconds=30)
    count = await page.evaluate("document.querySelectorAll('.opblock').length")
    assert count == len(operations)
    body = await page.inner_text("body")
    assert "Unable to render this definition" not in body
    assert "Chợ Số API" in body
    paths = await page.eval_on_selector_all(
        ".opblock-summary-path", "els => els.map(e => e.getAttribute('data-path'))"
    )
    assert "/api/markets" in paths
    assert "/api/admin-units" in paths
    listing = next(o for o in operations if o["path"] == "/api/markets" and o["method"] == "get")
    assert listing["summary"] in body  # "List Markets"
    # Opening an operation shows its description and its problem+json error responses.
    block = page.locator("#operations-markets_and_stalls-list_markets_api_markets_get")
    await block.locator(".opblock-summary").click()
    await block.get_by_text("Markets the caller may see.").wait_for()
    await block.get_by_text("application/problem+json").first.wait_for()
    await shot(page, "api-docs-swagger", full_page=False)
    assert all(url.startswith(live_server.base) for url in requests), requests  # no CDN


@pytest.mark.browser
async def test_redoc_renders_every_operation(new_page, live_server) -> None:
    operations = _operations(live_server)
    page = await new_page(viewport=LAPTOP)
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    await page.goto("/redoc")
    selector = "[data-section-id*='operation/']"
    await until(page, f'document.querySelectorAll("{selector}").length > 0', seconds=30)
    sections = await page.eval_on_selector_all(
        selector, "els => els.map(e => e.getAttribute('data-section-id'))"
    )
    # Each operation's section, under its tag: "tag/markets-and-stalls/operation/<operationId>".
    rendered = [s.rsplit("/", 1)[-1] for s in sections if s.startswith("tag/")]
    assert sorted(rendered) == sorted(o["operationId"] for o in operations)
    text = await page.inner_text("body")
    assert "Something went wrong" not in text
    assert "/api/markets" in text and "/api/admin-units" in text
    listing = next(o for o in operations if o["path"] == "/api/markets" and o["method"] == "get")
    assert listing["summary"] in text
    # The search box works (ReDoc indexes in a blob: web worker, which the docs' CSP allows).
    await page.fill("input[placeholder='Search...']", "administrative")
    await page.locator("[data-role='search:results'] li").first.wait_for()
    await shot(page, "api-docs-redoc", full_page=False)
    assert all(url.startswith((live_server.base, "blob:", "data:")) for url in requests), requests
