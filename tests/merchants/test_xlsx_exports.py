"""Excel exports read back with openpyxl: Vietnamese headers, typed cells, ICT times, frozen header."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl

from tests.merchants.test_exports import _seed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ICT = ZoneInfo("Asia/Ho_Chi_Minh")


def _workbook(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def _records(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


async def test_stalls_xlsx_is_for_people_and_logs_personal_reads(client, conn, auth, markets):
    ids = await _seed(client, auth, markets)
    await client.post(f"/api/stalls/{ids['a']}/sign-delivered", headers=await auth("volunteer"))
    r = await client.get("/api/exports/stalls.xlsx", headers=await auth("volunteer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    ws = _workbook(r.content).worksheets[0]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mã số sạp", "Mã số chợ", "Chợ"]
    assert {"Mã sạp", "Tình trạng sạp", "Mức hiện tại", "Đã kiểm tra mã", "Cần quay lại",
            "Họ tên chủ sạp", "Số điện thoại"} <= set(header)  # fmt: skip
    assert all(c.font.bold for c in ws[1])
    rows = _records(ws)
    assert [row["Mã sạp"] for row in rows] == ["A-1", "B-1"]  # market two is out of scope
    a, b = rows
    # The phone is text with its leading 0 (no apostrophe), as written in Vietnam.
    assert a["Số điện thoại"] == "0905 123 456"
    phone_cell = ws.cell(row=2, column=header.index("Số điện thoại") + 1)
    assert phone_cell.data_type == "s" and phone_cell.number_format == "@"
    assert (a["Họ tên chủ sạp"], a["Tình trạng sạp"], a["Mức hiện tại"]) == (
        "Lưu Thị Ngọc Thùy",
        "Đang bán",
        "Đã kiểm tra mã",
    )
    assert (a["Đã kiểm tra mã"], a["Cần quay lại"], b["Cần quay lại"]) == ("Có", "Không", "Có")
    assert b["Lý do quay lại"] == "Mã trên biển không hợp lệ"
    assert a["Cách kiểm tra"] == "Quét mã trên biển" and a["Ngân hàng"] == "MBBank"
    # The partner by the name people know (the CSV keeps the code).
    partner = await conn.fetchval("SELECT name FROM partner WHERE code = 'MB'")
    assert a["Đối tác"] == partner and partner != "MB"
    assert isinstance(a["Mã số sạp"], int) and a["Mã số sạp"] == ids["a"]
    # Coordinates are numbers a spreadsheet can compute with, shown to six decimals.
    assert (a["Vĩ độ"], a["Kinh độ"]) == (16.06, 108.2)
    lat_cell = ws.cell(row=2, column=header.index("Vĩ độ") + 1)
    assert lat_cell.data_type == "n" and lat_cell.number_format == "0.000000"
    # Times: a naive datetime in Asia/Ho_Chi_Minh, to the second (Excel has no time zones).
    delivered = a["Giao biển lúc"]
    assert isinstance(delivered, datetime) and delivered.tzinfo is None
    assert delivered.microsecond == 0
    stored = await conn.fetchval(
        "SELECT sign_delivered_at FROM stall_coverage WHERE stall_id = $1", ids["a"]
    )
    assert delivered == stored.astimezone(ICT).replace(tzinfo=None, microsecond=0)
    assert b["Giao biển lúc"] is None
    # The same personal-data access log as the CSV: one entry per stallholder exported.
    logged = await conn.fetch(
        "SELECT route FROM access_log WHERE reason = 'list_export' AND route = '/api/exports/stalls.xlsx'"
    )
    assert len(logged) == 2


async def test_stalls_xlsx_has_no_personal_columns_for_viewers_and_takes_the_filters(
    client, conn, auth, markets
):
    await _seed(client, auth, markets)
    viewer = await client.get("/api/exports/stalls.xlsx", headers=await auth("viewer"))
    assert viewer.status_code == 200
    header = [c.value for c in _workbook(viewer.content).worksheets[0][1]]
    assert "Họ tên chủ sạp" not in header and "Số điện thoại" not in header
    assert await conn.fetchval("SELECT count(*) FROM access_log WHERE reason = 'list_export'") == 0
    admin = await auth("admin")
    filtered = await client.get(
        f"/api/exports/stalls.xlsx?market_id={markets['one']}&needs_revisit=true", headers=admin
    )
    rows = _records(_workbook(filtered.content).worksheets[0])
    assert [r["Mã sạp"] for r in rows] == ["B-1"]
    partner = await client.get("/api/exports/stalls.xlsx", headers=await auth("partner"))
    assert partner.status_code == 403


async def test_markets_xlsx_has_status_since_counts_and_shares(client, conn, auth, markets):
    ids = await _seed(client, auth, markets)
    await client.post(f"/api/stalls/{ids['a']}/sign-delivered", headers=await auth("volunteer"))
    r = await client.get("/api/exports/markets.xlsx", headers=await auth("admin"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    ws = _workbook(r.content).worksheets[0]
    assert ws.freeze_panes == "A2"
    rows = {row["Chợ"]: row for row in _records(ws)}
    one = rows["Chợ Thử Một"]
    assert one["Trạng thái"] in ("Đang triển khai", "Chợ không tiền mặt")
    assert (one["Sạp đang hoạt động"], one["Đã in biển"], one["Đã kiểm tra mã"]) == (2, 1, 1)
    assert one["Tỷ lệ đã in biển"] == 0.5
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "Chợ Thử Một")
    share_cell = row[header.index("Tỷ lệ đã in biển")]
    assert share_cell.number_format == "0.00%" and share_cell.data_type == "n"
    since = one["Trạng thái từ"]
    assert isinstance(since, datetime) and since.tzinfo is None and since.microsecond == 0
    stored = await conn.fetchval(
        "SELECT status_since FROM market_coverage WHERE market_id = $1", markets["one"]
    )
    assert since == stored.astimezone(ICT).replace(tzinfo=None, microsecond=0)
    assert rows["Chợ Thử Hai"]["Phường/xã"] == "Phường Ngũ Hành Sơn"
    # Scope: a manager's markets only; partners are refused.
    manager = _records(
        _workbook(
            (await client.get("/api/exports/markets.xlsx", headers=await auth("manager"))).content
        ).worksheets[0]
    )
    assert [m["Chợ"] for m in manager] == ["Chợ Thử Một"]
    partner = await client.get("/api/exports/markets.xlsx", headers=await auth("partner"))
    assert partner.status_code == 403
    # The dashboard's area: a ward's markets, a province's; a ward with none gives the header only.
    admin = await auth("admin")

    async def names(query: str) -> list[str]:
        r = await client.get(f"/api/exports/markets.xlsx?{query}", headers=admin)
        assert r.status_code == 200, r.text
        return [m["Chợ"] for m in _records(_workbook(r.content).worksheets[0])]

    assert await names("ward=20285") == ["Chợ Thử Hai"]
    assert await names("ward=20242") == ["Chợ Thử Một"]
    assert sorted(await names("province=48")) == ["Chợ Thử Hai", "Chợ Thử Một"]
    assert await names("ward=99999") == []
    assert await names("province=01") == []
    bad = await client.get("/api/exports/markets.xlsx?ward=abc", headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_csv_stays_the_machine_format_with_a_semicolon_option(client, auth, markets):
    await _seed(client, auth, markets)
    admin = await auth("admin")
    plain = await client.get("/api/exports/stalls.csv", headers=admin)
    semi = await client.get("/api/exports/stalls.csv?sep=;", headers=admin)
    assert semi.status_code == 200 and semi.content.startswith(b"\xef\xbb\xbf")
    text = semi.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("stall_id;market_id;market_name;")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    same = list(csv.DictReader(io.StringIO(plain.content.decode("utf-8-sig"))))
    assert rows == same and rows[0]["registered"] == "true"
    bad = await client.get("/api/exports/stalls.csv?sep=|", headers=admin)
    assert bad.status_code == 422
