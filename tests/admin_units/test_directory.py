"""The directory as the migration loads it: counts, codes, kinds, folded names, both directions."""

from __future__ import annotations

import asyncio
import unicodedata

import asyncpg
import pytest

from admin_units import service
from core import db
from tests.conftest import ROOT
from tools import make_admin_units_csv

DATA = ROOT / "alembic" / "data" / "admin_units_2025_07.csv"


async def test_every_province_and_ward_of_the_country_is_loaded(conn: asyncpg.Connection) -> None:
    counts = dict(
        await conn.fetch(
            "SELECT level, count(*) FROM admin_unit WHERE scheme = '2025-07' GROUP BY level"
        )
    )
    assert counts == {"province": 34, "ward": 3321}
    kinds = dict(
        await conn.fetch(
            "SELECT kind, count(*) FROM admin_unit WHERE scheme = '2025-07' GROUP BY kind"
        )
    )
    # Nine centrally-run cities in the 2026-09 directory (Quảng Ninh, Bắc Ninh, Đồng Nai joined).
    assert kinds == {"tinh": 25, "thanh_pho": 9, "phuong": 687, "xa": 2621, "dac_khu": 13}
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM admin_unit WHERE scheme = '2025-07' AND parent_code = '48'"
        )
        == 94
    )
    row = await conn.fetchrow(
        "SELECT name, level, kind, parent_code FROM admin_unit "
        "WHERE scheme = '2025-07' AND code = '20242'"
    )
    assert dict(row) == {
        "name": "Phường Hải Châu",
        "level": "ward",
        "kind": "phuong",
        "parent_code": "48",
    }
    # Codes reused by the reform, as the project's market data has them.
    named = dict(
        await conn.fetch(
            "SELECT code, name FROM admin_unit WHERE scheme = '2025-07' "
            "AND code IN ('20194', '20305', '20224')"
        )
    )
    assert named == {"20194": "Phường Hải Vân", "20305": "Phường An Khê"}
    # Codes as the Statistics Office writes them: provinces two digits, wards five.
    assert await conn.fetchval(
        "SELECT name FROM admin_unit WHERE scheme = '2025-07' AND code = '00004'"
    ) == ("Phường Ba Đình")
    assert await conn.fetchval(
        "SELECT name FROM admin_unit WHERE scheme = '2025-07' AND code = '04'"
    ) == ("Tỉnh Cao Bằng")
    assert await conn.fetchval(
        "SELECT count(*) FROM admin_unit WHERE scheme = '2025-07' AND level = 'ward' "
        "AND (code !~ '^[0-9]{5}$' OR parent_code !~ '^[0-9]{2}$')"
    ) == (0)


async def test_pre_reform_units_are_kept(conn: asyncpg.Connection) -> None:
    assert (
        await conn.fetchval(
            "SELECT name FROM admin_unit WHERE scheme = '2025-01' AND code = '20236'"
        )
        == "Phường Hải Châu"
    )


def test_the_shipped_data_file_is_the_package_directory() -> None:
    """alembic/data is what tools/make_admin_units_csv.py makes from the pinned package."""
    pytest.importorskip(
        "vietnam_provinces",
        minversion="2026.9.0",
        reason="vietnam-provinces 2026.9.0 (dev extra) installs on Python 3.12 or later only",
    )
    units = make_admin_units_csv.rows()
    assert DATA.read_text(encoding="utf-8") == make_admin_units_csv.render(units)
    assert sum(u["level"] == "province" for u in units) == 34
    assert sum(u["level"] == "ward" for u in units) == 3321


async def test_the_database_folds_names_as_the_search_does(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch("SELECT name, name_folded FROM admin_unit WHERE scheme = '2025-07'")
    assert len(rows) >= 3355
    assert [r["name_folded"] for r in rows] == [service.search_key(r["name"]) for r in rows]
    tricky = [
        "ĐÀ NẴNG",
        "  Phường   Hải\tChâu ",
        unicodedata.normalize("NFD", "Phường Hải Châu"),  # decomposed, as some keyboards type
        "Xã Ea H’Leo",
        "Xã Chân Mây – Lăng Cô",  # an en dash
        "Đặc khu Hoàng Sa",
    ]
    folded = [await conn.fetchval("SELECT admin_unit_fold($1)", t) for t in tricky]
    assert folded == [service.search_key(t) for t in tricky]
    assert folded[:3] == ["da nang", "phuong hai chau", "phuong hai chau"]
    assert folded[3:] == ["xa ea h leo", "xa chan may lang co", "dac khu hoang sa"]


async def _count(url: str, sql: str) -> int:
    c = await asyncpg.connect(url)
    try:
        return int(await c.fetchval(sql))
    finally:
        await c.close()


async def test_downgrade_keeps_used_units_and_upgrade_refreshes_them(fresh_db: str) -> None:
    # A unit recorded before the directory existed, outside it: both directions leave it alone.
    c = await asyncpg.connect(fresh_db)
    try:
        await c.execute(
            "INSERT INTO admin_unit (scheme, code, level, name, parent_code) "
            "VALUES ('2025-07', '99999', 'ward', 'Phường Thử Nghiệm', '48')"
        )
    finally:
        await c.close()

    await asyncio.to_thread(db.downgrade, fresh_db, "0007")
    c = await asyncpg.connect(fresh_db)
    try:
        left = {
            r["code"] for r in await c.fetch("SELECT code FROM admin_unit WHERE scheme = '2025-07'")
        }
        # The seeded markets use 20242 and 20285 (and a manager's scope 20242); 48 is their city.
        assert left == {"48", "20242", "20285", "99999"}
        columns = {
            r["column_name"]
            for r in await c.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'admin_unit'"
            )
        }
        assert columns == {"scheme", "code", "level", "name", "parent_code"}
        assert await c.fetchval("SELECT count(*) FROM admin_unit WHERE scheme = '2025-01'") == 1
        # A name recorded by hand before the directory: the directory's official name wins.
        await c.execute(
            "UPDATE admin_unit SET name = 'P. Hải Châu (cũ)' WHERE scheme = '2025-07' "
            "AND code = '20242'"
        )
    finally:
        await c.close()

    await asyncio.to_thread(db.migrate, fresh_db)
    c = await asyncpg.connect(fresh_db)
    try:
        assert (
            await c.fetchval(
                "SELECT count(*) FROM admin_unit WHERE scheme = '2025-07' AND kind IS NOT NULL"
            )
            == 3355
        )
        unit = await c.fetchrow(
            "SELECT name, kind, name_folded FROM admin_unit WHERE scheme = '2025-07' "
            "AND code = '20242'"
        )
        assert dict(unit) == {
            "name": "Phường Hải Châu",
            "kind": "phuong",
            "name_folded": "phuong hai chau",
        }
        kept = await c.fetchrow(
            "SELECT name, kind, name_folded FROM admin_unit WHERE code = '99999'"
        )
        assert dict(kept) == {
            "name": "Phường Thử Nghiệm",
            "kind": None,
            "name_folded": "phuong thu nghiem",
        }
        assert (
            await c.fetchval("SELECT count(*) FROM market WHERE ward_code IN ('20242', '20285')")
            == 2
        )
    finally:
        await c.close()
