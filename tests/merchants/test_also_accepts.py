"""Other ways a stall takes payment besides its VietQR sign (stall.also_accepts, users_want #26
and #7): edited like the stall's other fields, in its history, exports and the person's export;
null (not asked) is never shown as "the sign only"."""

from __future__ import annotations

import csv
import io

import asyncpg
import openpyxl
import pytest

from tests.merchants.test_confirm_by import _patch, _register
from tests.merchants.test_privacy import pdf_text


async def test_recorded_in_one_order_kept_by_other_edits_and_taken_back(client, auth, markets):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "TT-1")
    assert stall["also_accepts"] is None
    r = await _patch(client, h, stall, {"also_accepts": ["phone_transfer", "card", "card"]})
    assert r.status_code == 200, r.text
    assert r.json()["also_accepts"] == ["card", "phone_transfer"]
    r = await _patch(client, h, r.json(), {"goods": "Đèn lồng"})
    assert r.json()["also_accepts"] == ["card", "phone_transfer"]
    r = await _patch(client, h, r.json(), {"also_accepts": []})
    assert r.json()["also_accepts"] == []
    history = (await client.get(f"/api/stalls/{stall['id']}/history", headers=h)).json()
    changes = [c for e in history for c in e["changes"] if c["field"] == "also_accepts"]
    assert [(c["before"], c["after"]) for c in changes] == [
        ("card,phone_transfer", "none"),
        (None, "card,phone_transfer"),
    ]


@pytest.mark.parametrize("value", [["visa"], "card", [None], ["card"] * 4, [1]])
async def test_a_wrong_value_is_refused_and_changes_nothing(client, auth, markets, conn, value):
    h = await auth("volunteer")
    stall = await _register(client, h, markets["one"], "TT-2")
    r = await _patch(client, h, stall, {"also_accepts": value})
    assert r.status_code == 422, r.text
    assert r.json()["field"].split(".")[0] == "also_accepts"
    row = await conn.fetchrow("SELECT also_accepts, version FROM stall WHERE id = $1", stall["id"])
    assert (row["also_accepts"], row["version"]) == (None, stall["version"])


async def test_the_database_keeps_only_known_methods(client, auth, markets, conn):
    stall = await _register(client, await auth("volunteer"), markets["one"], "TT-3")
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE stall SET also_accepts = '{visa}' WHERE id = $1", stall["id"])


async def test_exports_and_the_persons_export_carry_it(client, auth, markets):
    h = await auth("manager")
    stall = await _register(client, h, markets["one"], "TT-4")
    await _patch(client, h, stall, {"also_accepts": ["intl_qr"]})
    r = await client.get(f"/api/exports/stalls.csv?market_id={markets['one']}", headers=h)
    rows = {x["stall_code"]: x for x in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert rows["TT-4"]["also_accepts"] == "intl_qr"
    header = r.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[header.index("support") + 1] == "also_accepts"
    r = await client.get(f"/api/exports/stalls.xlsx?market_id={markets['one']}", headers=h)
    table = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.values)
    column, code = table[0].index("Cách thanh toán khác"), table[0].index("Mã sạp")
    assert next(row[column] for row in table[1:] if row[code] == "TT-4") == "QR quốc tế"
    holder = stall["holder"]["id"]
    r = await client.post(f"/api/stallholders/{holder}/export", headers=h)
    assert {s["stall_code"]: s["also_accepts"] for s in r.json()["stalls"]}["TT-4"] == ["intl_qr"]
    r = await client.post(f"/api/stallholders/{holder}/export?format=pdf", headers=h)
    text = " ".join(pdf_text(r.content).split())
    assert "Cách thanh toán khác ngoài biển VietQR" in text and "QR quốc tế" in text


async def test_a_market_counts_them_for_everyone_who_reads_it(client, auth, markets):
    h = await auth("volunteer")
    stalls = [await _register(client, h, markets["one"], f"TT-{10 + i}") for i in range(4)]
    for stall, answer in zip(stalls, [["card", "intl_qr"], ["intl_qr"], []], strict=False):
        assert (await _patch(client, h, stall, {"also_accepts": answer})).status_code == 200
    for who in ("volunteer", "manager", "viewer", "admin"):
        r = await client.get(f"/api/markets/{markets['one']}/also-accepts", headers=await auth(who))
        assert r.status_code == 200, who
        got = r.json()
        assert (got["active_stalls"], got["asked"], got["none"]) == (4, 3, 1)
        assert (got["card"], got["intl_qr"], got["phone_transfer"]) == (1, 2, 0)
    outside = await client.get(f"/api/markets/{markets['two']}/also-accepts", headers=h)
    assert outside.status_code == 404 and outside.json()["code"] == "market_not_found"
