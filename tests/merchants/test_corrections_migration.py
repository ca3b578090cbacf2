"""Migration 0010 rewrites the search texts of existing stalls to what the app makes now, and its
downgrade restores them."""

from __future__ import annotations

import asyncio

from core import db
from core.text import fold, stall_search_text
from tests.conftest import TEST_KEYS


def _old_search_text(code: str, name: str | None, phone: str | None, goods: str | None) -> str:
    """core.text.stall_search_text before 0010: the phone in both forms, no code key."""
    parts = [code, name or "", goods or ""]
    if phone:
        parts += [phone, "0" + phone[3:] if phone.startswith("+84") else phone]
    return fold(" ".join(parts))


ROWS = [  # code, name, phone, goods
    ("A-15", "Lưu Thị Lan", "+84905123456", "Rau củ"),
    ("B 7/2", "Trần Văn Đức", None, None),
    ("C.1_x", None, "+12025550100", "Cá"),  # a foreign number keeps its E.164 form
    ("k-9", "Võ Mai", "+842363821999", None),
]


async def test_upgrade_rewrites_search_texts_and_downgrade_restores_them(fresh_db):
    await asyncio.to_thread(db.downgrade, fresh_db, "0009")
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        market_id = await conn.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
        for code, name, phone, goods in ROWS:
            holder = await conn.fetchval(
                "INSERT INTO stallholder (full_name, phone_e164) VALUES ($1, $2) RETURNING id",
                name,
                phone,
            )
            await conn.execute(
                """INSERT INTO stall (market_id, stall_code, code_key, code_sort, goods, holder_id,
                                      search_text)
                   VALUES ($1, $2, upper($2), upper($2), $3, $4, $5)""",
                market_id,
                code,
                goods,
                holder,
                _old_search_text(code, name, phone, goods),
            )
        # A text that is not in the old form (written by hand) keeps what it has.
        await conn.execute(
            "INSERT INTO stall (market_id, stall_code, code_key, code_sort, search_text) "
            "VALUES ($1, 'Z-1', 'Z-1', 'Z-1', 'hand made')",
            market_id,
        )
    finally:
        await conn.close()
    await asyncio.to_thread(db.migrate, fresh_db)
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        got = dict(await conn.fetch("SELECT stall_code, search_text FROM stall"))
        for code, name, phone, goods in ROWS:
            assert got[code] == stall_search_text(code, name, phone, goods), code
        assert got["Z-1"] == "hand made z1"
        assert "+84" not in got["A-15"] and got["A-15"].endswith(" 0905123456 a15")
        market = await conn.fetchrow(
            "SELECT version, retired_zones, archived_at FROM market WHERE id = $1", market_id
        )
        assert dict(market) == {"version": 1, "retired_zones": [], "archived_at": None}
    finally:
        await conn.close()
    await asyncio.to_thread(db.downgrade, fresh_db, "0009")
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        got = dict(await conn.fetch("SELECT stall_code, search_text FROM stall"))
        for code, name, phone, goods in ROWS:
            assert got[code] == _old_search_text(code, name, phone, goods), code
        assert got["Z-1"] == "hand made"
        gone = await conn.fetchval(
            """SELECT count(*) FROM information_schema.columns
               WHERE (table_name = 'market' AND column_name IN ('version', 'archived_at'))
                  OR (table_name = 'stall_coverage' AND column_name = 'sign_reprint_needed')"""
        )
        assert gone == 0
    finally:
        await conn.close()
    await asyncio.to_thread(db.migrate, fresh_db)
