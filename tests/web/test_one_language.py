"""Only Vietnamese in Vietnamese mode: every page, on the demo data, compared with the English
string table (every `en` value that differs from its `vi` value must not show), and no research
note of the shipped market list anywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from ops.demo import DATA, DEMO_PASSWORD
from qr import banks as banks_module
from tests.web.conftest import LAPTOP, LOADED_MODULE_JS
from tests.web.test_map import demo_db, demo_server  # noqa: F401 - module fixtures

pytestmark = pytest.mark.browser

# What the page shows (text nodes and the attributes people read or hear), and the string tables
# with the console's strings merged in. Elements marked lang="en" (the language switch) are English
# on purpose; code and pre hold protocol tokens and URLs (account.deactivated, /api/partners/...).
COLLECT = (
    """async () => {
  // The modules the page itself loaded: the string tables hold what the page added.
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await import(loaded("/static/js/console/strings.js"));
  const { vi, en, errorsVi, errorsEn } = await i18n.stringTables();
  const english = [];
  for (const [k, v] of Object.entries(en)) if (vi[k] !== v) english.push(v);
  for (const [k, v] of Object.entries(errorsEn)) if (errorsVi[k] !== v) english.push(v);
  const texts = [];
  const skip = (el) => !el || el.closest("[lang='en']:not(html), script, style, noscript, [hidden], template, code, pre");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (skip(node.parentElement)) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    if (skip(el)) continue;
    for (const a of ["aria-label", "title", "placeholder", "alt"]) {
      const v = el.getAttribute(a);
      if (v && v.trim()) texts.push(v.trim());
    }
  }
  texts.push(document.title);
  return { english, texts, lang: document.documentElement.lang };
}"""
)

# Research provenance of data/danang_markets.json (display_policy): never on a page.
NOTE_FIELDS = re.compile(r"note|confidence|method|accuracy|sources|category|hint")


def english_fragments(values: list[str]) -> tuple[set[str], set[str]]:
    """(long fragments matched anywhere in a text, short values matched as a whole text)."""
    long, short = set(), set()
    for value in values:
        # {n} and the English plural choice {n|stall|stalls} are filled in, not shown as such.
        for part in re.split(r"\{[a-z_]+(?:\|[^|}]*\|[^|}]*)?\}", value):
            part = part.strip(" .,:;·()—-")
            if not re.search(r"[A-Za-z]", part):
                continue
            (long if len(part) >= 4 else short).add(part)
    return long, short


def words(fragments: set[str]) -> re.Pattern[str]:
    """Any fragment as whole words ("Bank" is English, "MBBank" is a bank's name)."""
    alternatives = "|".join(re.escape(f) for f in sorted(fragments, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def bank_names() -> list[str]:
    """The banks' registered names (qr/data/banks.json), longest first: names, whatever their
    language ("DBS Bank Ltd - Chi nhánh …"), shown beside a bank's short name in the partner list
    (with a closing "(…)" that repeats the name left off, as the page does)."""
    banks = json.loads(
        (Path(banks_module.__file__).parent / "data" / "banks.json").read_text("utf-8")
    )
    names = {b["name"] for b in banks["banks"] if b.get("name")}
    names |= {re.sub(r"\s*\([^()]+\)$", "", n) for n in names}
    return sorted(names, key=len, reverse=True)


def research_notes() -> list[str]:
    markets = json.loads(DATA.read_text(encoding="utf-8"))["markets"]
    notes = []
    for m in markets:
        for key, value in m.items():
            if NOTE_FIELDS.search(key):
                for text in value if isinstance(value, list) else [value]:
                    if isinstance(text, str) and len(text) >= 12:
                        notes.append(text[:24])
    return notes


async def _ids(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        form = {"username": "admin", "password": DEMO_PASSWORD}
        token = (await c.post("/api/auth/token", data=form)).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        markets = {m["name"]: m["id"] for m in (await c.get("/api/markets", headers=h)).json()}
        users = {u["username"]: u["id"] for u in (await c.get("/api/users", headers=h)).json()}
        stalls = (await c.get(f"/api/markets/{markets['Chợ Hàn']}/stalls", headers=h)).json()
    return {"markets": markets, "users": users, "stall": stalls["items"][0]["id"]}


async def test_every_page_in_vietnamese_shows_no_english_and_no_notes(new_page, demo_server):  # noqa: F811
    ids = await _ids(demo_server)
    han = ids["markets"]["Chợ Hàn"]
    no_ward = ids["markets"]["Chợ Tân An"]
    pages = [
        ("/dashboard", ".markets-table tbody tr"),
        ("/map", ".map-box .mk, .map-box .mk-cluster"),
        (f"/markets/{han}", ".level-rows"),
        ("/#/markets", ".card-link, .market-cards"),
        (f"/#/m/{han}", "#worklist"),
        (f"/#/m/{han}/new", "#register-form"),
        (f"/#/s/{ids['stall']}", "#sign, #consent-card, .stall-layout"),
        ("/#/outbox", "#record-list, .empty"),
        ("/console", ".console-cards"),
        ("/console/markets", ".market-admin-table"),
        ("/console/markets#new", "#market-form"),
        (f"/console/markets#edit-{han}", "#market-form"),
        (f"/console/markets#edit-{no_ward}", "#market-form"),
        (f"/console/markets/{han}/import", "#import-form"),
        ("/console/people", ".people-table"),
        ("/console/people#new", "#person-form"),
        (f"/console/people#edit-{ids['users']['tinhnguyen']}", "#person-form"),
        (f"/console/people#edit-{ids['users']['xem']}", "#api-keys"),
        ("/console/rule", "#rule-form"),
        ("/console/partners", ".partner-table"),
        ("/console/partners#p-MOMO", "#cred-form"),
        ("/console/partners#p-MB", "#cred-form"),
        ("/console/requests", "#requests"),
        ("/console/audit", ".audit-table"),
        # Teams and field activity (the teams branch).
        ("/activity", "#by-team"),
        ("/teams", "#team-list"),
        (f"/return-visits?market={han}", ".visits-table, .empty"),
        ("/#/team", "#team-members-table, #no-team"),
        # A partner's page, as an administrator opens it for a partner.
        ("/partner?code=MB", "#partner-stats, #stats-none"),
    ]
    page = await new_page(viewport=LAPTOP)
    await page.goto(demo_server + "/dashboard")
    await page.fill("#username", "admin")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("#signin-button")
    await page.wait_for_selector("#username", state="detached")
    notes = research_notes()
    assert notes, "the market list has research notes to look for"
    names = bank_names()
    found: list[str] = []
    for path, ready in pages:
        await page.goto(demo_server + path)
        await page.wait_for_selector(ready)
        await page.wait_for_load_state("networkidle")
        if path == "/console/rule":  # the preview too
            await page.click("#r-preview")
            await page.wait_for_selector("#rule-preview h2")
        got = await page.evaluate(COLLECT)
        assert got["lang"] == "vi"
        long, short = english_fragments(got["english"])
        pattern = words(long)
        for text in got["texts"]:
            for name in names:
                text = text.replace(name, "")
            hits = pattern.findall(text) + ([text] if text in short else [])
            found += [f"{path}: “{hit}” in “{text[:80]}”" for hit in hits]
            found += [f"{path}: research note “{n}”" for n in notes if n in text]
    assert not found, "\n".join(sorted(set(found)))


async def test_the_check_finds_english_when_it_is_there(new_page, demo_server):  # noqa: F811
    """The same check on the English pages finds English: it is not blind."""
    page = await new_page(viewport=LAPTOP)
    await page.goto(demo_server + "/console")
    await page.fill("#username", "admin")
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("#signin-button")
    await page.wait_for_selector(".console-cards")
    await page.click("#topbar button.lang")
    await page.wait_for_selector("html[lang='en']")
    await page.wait_for_selector(".console-cards")
    got = await page.evaluate(COLLECT)
    long, _ = english_fragments(got["english"])
    pattern = words(long)
    hits = {f for text in got["texts"] for f in pattern.findall(text)}
    assert {"Overview", "Markets", "Data requests"} <= hits
