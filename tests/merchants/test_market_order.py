"""Markets in Vietnamese alphabet order wherever the server sorts them (migration 0024): the
database compares bytes (no ICU), so a stored key does what the browser's "vi" collation does."""

from __future__ import annotations

import csv
import io

import pytest

from core.text import natural_key

# In the Vietnamese alphabet: a ă â b c d đ e ê ... o ô ơ ... u ư ..., tones with the bare letter.
ORDERED = [
    "Chợ An Hải",
    "Chợ Ăn Uống",
    "Chợ Ân Thịnh",
    "chợ Bắc Mỹ An",
    "Chợ Cồn",
    "Chợ Dân",
    "Chợ đêm An Thượng",
    "Chợ Đống Đa",
    "Chợ Hàn",
    "Chợ Ơn",
    "Chợ quê Kim Bồng",
    "Chợ Uyên",
    "Chợ Ưng",
    "Chợ Vật tư",
]


async def test_the_sort_key_orders_names_in_the_vietnamese_alphabet(conn):
    keys = await conn.fetch(
        "SELECT n, vi_sort_key(n) AS k FROM unnest($1::text[]) AS n ORDER BY 2, 1",
        list(reversed(ORDERED)),
    )
    assert [r["n"] for r in keys] == ORDERED
    # The same key as core.text.natural_key gives stall codes (digits apart).
    for r in keys:
        assert r["k"] == natural_key(r["n"]), r["n"]


@pytest.mark.parametrize("name", ["Chợ Đống Đa", "CHỢ ĐỐNG ĐA", "Cho Dong Da"])
async def test_case_and_tone_do_not_change_the_letter(conn, name):
    assert (await conn.fetchval("SELECT vi_sort_key($1)", name)).startswith("CHO")


async def test_lists_of_markets_come_in_that_order(client, auth, conn):
    await conn.executemany(
        "INSERT INTO market (name, ward_code, province_code) VALUES ($1, '20242', '48')",
        [(n,) for n in reversed(ORDERED)],
    )
    r = await client.get("/api/markets", headers=await auth("admin"))
    assert r.status_code == 200, r.text
    names = [m["name"] for m in r.json() if m["name"] in ORDERED]
    assert names == ORDERED


async def test_coverage_by_market_and_the_stall_export_come_in_that_order(client, auth, conn):
    """GET /api/coverage?group_by=market sorted by bytes ("Chợ Vật tư" before "Chợ phiên", "Chợ
    Đống Đa" last), and the stall export by market id: the same alphabet as every other list."""
    from tests.conftest import stall_body

    admin = await auth("admin")
    ids = {}
    for name in reversed(ORDERED):
        ids[name] = await conn.fetchval(
            "INSERT INTO market (name, ward_code, province_code) VALUES ($1, '20242', '48') "
            "RETURNING id",
            name,
        )
    for i, name in enumerate(ORDERED):
        r = await client.post(
            f"/api/markets/{ids[name]}/stalls",
            json=stall_body(f"O-{i}", holder={"full_name": "Phan Văn Thứ"}),
            headers=admin | {"Idempotency-Key": f"market-order-{i}"},
        )
        assert r.status_code == 201, r.text
    r = await client.get("/api/coverage", params={"group_by": "market"}, headers=admin)
    assert [g["name"] for g in r.json()["groups"] if g["name"] in ORDERED] == ORDERED
    r = await client.get("/api/exports/stalls.csv", headers=admin)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    seen = [n for n in dict.fromkeys(row["market_name"] for row in rows) if n in ORDERED]
    assert seen == ORDERED
