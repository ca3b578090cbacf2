"""Reports in one language: the market report of every demo market is Vietnamese only, with no
research note from the shipped market list (data/danang_markets.json, its display_policy)."""

from __future__ import annotations

import json
import re

import pypdfium2

from core import db, users
from coverage import report
from ops import demo
from tests.conftest import TEST_KEYS

# Words of the research notes and of English UI text that a Vietnamese report must never show.
ENGLISH = (
    "the", "and", "of", "per", "source", "sources", "market", "markets", "stall", "stalls",
    "kiosk", "kiosks", "ward", "district", "city", "level", "class", "tourist", "reference",
    "point", "approx", "confidence", "medium", "verified", "not", "status", "cashless",
    "progress", "started", "lapsed", "version", "report", "zone", "sign", "signs", "payment",
    "payments", "issued", "transacting", "fees", "block", "bounded", "corner", "geocoder",
    "dataset", "https", "http", "www", "blog", "launched", "traders",
)  # fmt: skip
# Fields of the market list meant for people (display_policy); everything else is provenance.
DISPLAY = {
    "name",
    "address",
    "old_province",
    "old_district",
    "old_ward",
    "new_ward",
    "new_province",
}


def pdf_text(data: bytes) -> str:
    doc = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def notes_of(market: dict) -> list[str]:
    """The provenance texts of one market (strings of every non-display field)."""
    out: list[str] = []
    for key, value in market.items():
        if key in DISPLAY or key.endswith("_code") or key in ("lat", "lon", "stall_count_approx"):
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and len(text) >= 8:
                out.append(text)
    return out


async def test_every_demo_market_report_is_vietnamese_without_notes(fresh_db):
    listed = {m["name"]: m for m in json.loads(demo.DATA.read_text(encoding="utf-8"))["markets"]}
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        await conn.execute("DELETE FROM market")
        assert await demo.load_if_empty(conn, window_days=30, stalls_per_market=4)
        admin = await users.find_user(conn, "admin")
        assert admin is not None
        rows = await conn.fetch("SELECT id, name, address FROM market ORDER BY id")
        assert {r["name"] for r in rows} == set(listed)
        # The demo takes a market's address only from `address` (null where none was verified).
        for r in rows:
            assert r["address"] == listed[r["name"]]["address"], r["name"]
        checked = 0
        for r in rows:
            pdf = await report.report_pdf_for(conn, user=admin, market_id=r["id"], window_days=30)
            text = pdf_text(pdf)
            assert r["name"][:20] in text  # the extraction works (diacritics included)
            words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
            english = sorted(words & set(ENGLISH))
            assert not english, f"{r['name']}: English words {english} in\n{text}"
            for note in notes_of(listed[r["name"]]):
                assert note[:16] not in text, f"{r['name']}: a research note in the report: {note}"
            assert "quầy" not in text.lower()  # the dashboard's word is "sạp"
            # The rule is "Tiêu chí" as on the rule page (the footer said "Quy tắc").
            assert "Tiêu chí phiên bản" in text and "Quy tắc" not in text
            checked += 1
        assert checked == len(listed)
        # Chợ Hàn's street address is shown as verified, without the note around it.
        han = next(r for r in rows if r["name"] == "Chợ Hàn")
        text = pdf_text(
            await report.report_pdf_for(conn, user=admin, market_id=han["id"], window_days=30)
        )
        assert "119 Trần Phú" in text and "vietnampocketguide" not in text
    finally:
        await conn.close()
