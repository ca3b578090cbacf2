"""Two style sheets: app.css for every page, wide.css for every page but the volunteer app.

The volunteer app's shell is what a tablet on 3G waits for (issue 16: at most 70 KB on the wire),
so the manager, console and partner pages' rules live in wide.css, which only those pages load.
A rule moved there by mistake would leave something the volunteer app draws without its style,
which no other test would notice: these tests read every selector of wide.css and check that it
names a class or id the volunteer app's modules never write.
"""

from __future__ import annotations

import re

import httpx

from web import assets
from web.router import PAGES, STATIC, TEMPLATES

# A class or id in a selector.
_NAME = re.compile(r"[.#](-?[A-Za-z_][\w-]*)")


def _module_graph(entry: str, texts: dict[str, str]) -> set[str]:
    """Every module `entry` imports, statically or not, directly or not."""
    seen, todo = {entry}, [entry]
    while todo:
        path = todo.pop()
        for m in assets._IMPORT.finditer(texts[path]):
            dep = assets._resolve(path, m.group("spec"))
            if dep in texts and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _app_text() -> str:
    """What can put a class or id on the volunteer app's page: its modules, the classic script
    that draws its first screen, the page's template and the code that fills it in."""
    texts = {
        p.relative_to(STATIC).as_posix(): p.read_text(encoding="utf-8")
        for p in STATIC.rglob("*.js")
    }
    entry = PAGES["app"][1]
    parts = [texts[p] for p in sorted(_module_graph(entry, texts))]
    parts.append(texts["js/instant.js"])
    parts.append((TEMPLATES / "page.html").read_text(encoding="utf-8"))
    parts.append((STATIC.parent / "router.py").read_text(encoding="utf-8"))
    return "\n".join(parts)


def _written(name: str, text: str) -> bool:
    """Whether `text` may write the class or id `name`: as a word of its own, or as a prefix a
    script completes (`badge state-${rec.state}`, `"bar-level-" + level`)."""
    if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
        return True
    return any(
        name[k - 1] == "-" and re.search(rf"(?<![\w-]){re.escape(name[:k])}(?=[\"'`]|\$\{{)", text)
        for k in range(1, len(name))
    )


def _selectors(css: str) -> list[str]:
    """Every selector of a style sheet, those inside @media blocks included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(css):
        if ch == "{":
            prelude = css[start:i].strip()
            if not prelude.startswith("@"):
                found.extend(s.strip() for s in prelude.split(",") if s.strip())
            depth += 1
            start = i + 1
        elif ch == "}":
            depth -= 1
            start = i + 1
        elif ch == ";" and depth <= 1:
            start = i + 1
    return found


def _names(selector: str) -> list[str]:
    """The classes and ids a selector needs: what a :has() or :is() of one selector names too,
    not what a :not(), a list of alternatives or an attribute names."""
    selector = re.sub(r":not\([^)]*\)", "", selector)
    selector = re.sub(
        r":(?:is|where|has)\(([^)]*)\)",
        lambda m: "" if "," in m[1] else " " + m[1].lstrip(">+~ "),
        selector,
    )
    selector = re.sub(r"\[[^\]]*\]", "", selector)
    selector = re.sub(r"::?[\w-]+(?:\([^)]*\))?", "", selector)
    return _NAME.findall(selector)


def test_no_rule_of_wide_css_can_match_what_the_volunteer_app_draws() -> None:
    app = _app_text()
    selectors = _selectors((STATIC / "css" / "wide.css").read_text(encoding="utf-8"))
    assert len(selectors) > 200  # the parse found the sheet's rules
    reachable = [s for s in selectors if all(_written(n, app) for n in _names(s))]
    assert not reachable, f"these rules of wide.css could style the volunteer app: {reachable}"


def test_the_check_finds_a_rule_the_app_needs() -> None:
    """The test above, shown to fail: selectors whose every class the app writes."""
    app = _app_text()
    for selector in (".worklist li", ".badge.state-queued", "#list-status", ".btn"):
        assert all(_written(n, app) for n in _names(selector)), selector
    assert not all(_written(n, app) for n in _names(".console-tabs a.current"))
    assert not all(_written(n, app) for n in _names(".table-wrap:has(> .cards-phone)"))
    assert all(_written(n, app) for n in _names(".worklist:not(.console-tabs)"))


async def test_the_volunteer_app_loads_app_css_and_the_other_pages_both(
    client: httpx.AsyncClient,
) -> None:
    index = assets.current()
    sheets = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
    app_page = (await client.get("/")).text
    assert sheets.findall(app_page) == [index.url("css/app.css")]
    for path in ("/dashboard", "/map", "/markets/1", "/console", "/partner", "/activity"):
        page = (await client.get(path)).text
        assert sheets.findall(page) == [index.url("css/app.css"), index.url("css/wide.css")], path
        assert "{{" not in page
    # The service worker keeps both for a page opened offline.
    worker = (await client.get("/sw.js")).text
    assert index.url("css/wide.css") in worker and index.url("css/app.css") in worker
