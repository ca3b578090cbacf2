"""Stall and market exports (CSV, GeoJSON, Excel): columns, scope, the personal-data access log.

The CSV is the machine format: English column names, ISO 8601 times in UTC, true/false, codes
(statuses, levels) as the API writes them, E.164 phones. The .xlsx is for people: Vietnamese
headers, times in Asia/Ho_Chi_Minh to the second, Có/Không, statuses and levels in Vietnamese,
phones as text in the national form (0905 123 456), a frozen header row.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import phonenumbers

from core import access, labels
from core.errors import Forbidden
from core.spreadsheet import Column, ColumnKind, Sheet, write_xlsx
from core.types import User
from coverage.levels import highest_level
from coverage.queries import exports as q
from coverage.scope import readable_market
from coverage.shapes import share
from qr import banks

EXPORT_COLUMNS = [
    "stall_id",
    "market_id",
    "market_name",
    "ward_code",
    "ward_name",
    "legacy_district",
    "stall_code",
    "zone",
    "goods",
    "status",
    "level",
    "registered",
    "qr_issued",
    "qr_verified",
    "transacting",
    "fees_cashless",
    "needs_revisit",
    "revisit_reason",
    "sign_issued_at",
    "sign_delivered_at",
    "verified_at",
    "verified_method",
    "last_payment_at",
    "account_count",
    "banks",
    "partner_codes",
    "lat",
    "lon",
    "location_source",
    "confirm_by",  # from here on, added at the end: the columns before keep their places
    "support",  # the support package (migration 0022)
    "also_accepts",  # other ways the stall takes payment (migration 0023)
]


# A household business's licence number names its holder like the phone does (migration 0027).
PERSONAL_COLUMNS = ["holder_name", "phone", "licence_no"]


async def export_scope(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int | None,
    ward_code: str | None,
    level: str | None,
    needs_revisit: bool | None,
    province: str | None = None,
    without_ward: bool = False,
) -> tuple[q.ExportFilter, bool]:
    """The filter an export runs with, and whether it may carry personal fields."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot export stalls.")
    if market_id is not None:
        await readable_market(conn, user, market_id)
    scope = await access.market_scope(conn, user)
    f = q.ExportFilter(
        market_ids=scope,
        market_id=market_id,
        ward_code=ward_code,
        level=level,
        needs_revisit=needs_revisit,
        province=province,
        without_ward=without_ward,
    )
    return f, access.sees_personal_data(user)


async def log_export(conn: asyncpg.Connection, f: q.ExportFilter, *, user: User, route: str) -> int:
    """Log the personal-data read of an export, one row per stallholder (like access.log_access)."""
    async with conn.transaction():
        return await q.log_export_access(conn, f, actor_id=user.id, route=route)


async def export_records(
    conn: asyncpg.Connection, f: q.ExportFilter, *, personal: bool
) -> AsyncIterator[dict]:
    """Flat export records in a stable column order."""
    async for r in q.export_rows(conn, f, personal=personal):
        flags = (
            r["registered"],
            r["qr_issued"],
            r["qr_verified"],
            r["transacting"],
            r["fees_cashless"],
        )
        has_own = r["lat"] is not None and r["lon"] is not None
        rec = {
            **{k: r[k] for k in EXPORT_COLUMNS if k in r},
            "level": highest_level(flags),
            "banks": " ".join(b.short_name if (b := banks.get(x)) else x for x in r["bins"]),
            "partner_codes": " ".join(r["partner_codes"]),
            # For people (the workbook): the names they know, not the codes.
            "partner_names": ", ".join(r["partner_names"]),
            "lat": r["lat"] if has_own else r["market_lat"],
            "lon": r["lon"] if has_own else r["market_lon"],
            "location_source": "stall"
            if has_own
            else ("market" if r["market_lat"] is not None else None),
            "zone": r["zone"] or "",
            # Space-separated like banks; "none": asked, checks nothing; empty: not asked yet.
            "confirm_by": None
            if r["confirm_by"] is None
            else (" ".join(r["confirm_by"]) or "none"),
            # Space-separated item:state in the package's order; empty: nothing recorded.
            "support": " ".join(r["support"]),
            # Like confirm_by: codes, "none" (the VietQR sign only), empty when not asked.
            "also_accepts": None
            if r["also_accepts"] is None
            else (" ".join(r["also_accepts"]) or "none"),
        }
        if personal:
            rec["holder_name"] = r["holder_name"]
            rec["phone"] = r["phone"]
            rec["licence_no"] = r["licence_no"]
        yield rec


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # Spreadsheet formula injection: a leading = + - @ would run as a formula in Excel.
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def csv_stream(
    records: AsyncIterator[dict], columns: list[str], *, sep: str = ","
) -> AsyncIterator[bytes]:
    """CSV bytes: UTF-8 with BOM (opens in Excel), formula-safe cells, flushed every 500 rows;
    `sep` ';' for spreadsheets set to the Vietnamese locale (where ',' is the decimal mark)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(columns)
    yield ("\ufeff" + buf.getvalue()).encode()
    buf.seek(0)
    buf.truncate()
    n = 0
    async for rec in records:
        writer.writerow([_cell(rec.get(c)) for c in columns])
        n += 1
        if n % 500 == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


async def geojson_stream(records: AsyncIterator[dict], columns: list[str]) -> AsyncIterator[bytes]:
    """A GeoJSON FeatureCollection, one feature per record, streamed."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    async for rec in records:
        geometry = (
            {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]}
            if rec.get("lat") is not None and rec.get("lon") is not None
            else None
        )
        props = {c: _json(rec.get(c)) for c in columns if c not in ("lat", "lon")}
        feature = {
            "type": "Feature",
            "id": rec["stall_id"],
            "geometry": geometry,
            "properties": props,
        }
        yield (b"" if first else b",") + json.dumps(feature, ensure_ascii=False).encode()
        first = False
    yield b"]}"


# ---------------------------------------------------------------- Excel (.xlsx)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Words of the dashboard and the tablet (web/static/js/lib/i18n.js).
STALL_STATUS_VI = {"active": "Đang bán", "vacant": "Sạp trống", "closed": "Đã nghỉ"}
LEVEL_VI = {
    "inactive": "Không hoạt động",
    "registered": "Đã đăng ký",
    "qr_issued": "Đã in biển",
    "qr_verified": "Đã kiểm tra mã",
    "transacting": "Đang giao dịch",
    "fees_cashless": "Thu phí không tiền mặt",
}
MARKET_STATUS_VI = {
    "not_started": "Chưa bắt đầu",
    "in_progress": "Đang triển khai",
    "cashless": "Chợ không tiền mặt",
    "lapsed": "Mất danh hiệu",
}
REVISIT_VI = {
    "qr_mismatch": "Mã trên biển không khớp tài khoản",
    "qr_invalid": "Mã trên biển không hợp lệ",
    "no_account": "Sạp chưa có tài khoản nhận tiền",
    "account_suspended": "Đối tác tạm ngưng tài khoản trên biển",
    "account_removed": "Đối tác đã gỡ tài khoản trên biển",
}
VERIFIED_VI = {"scan": "Quét mã trên biển", "name_match": "Ngân hàng xác nhận tên tài khoản"}
LOCATION_VI = {"stall": "Vị trí của sạp", "market": "Vị trí của chợ"}
CONFIRM_VI = labels.CONFIRM_TOOLS_VI | {"none": labels.CONFIRM_NONE_VI}

# Column of the stall export -> (Vietnamese header, cell kind, how a value is shown).
_STALL_XLSX: dict[str, tuple[str, ColumnKind, dict[str, str] | None]] = {
    "stall_id": ("Mã số sạp", "int", None),
    "market_id": ("Mã số chợ", "int", None),
    "market_name": ("Chợ", "text", None),
    "ward_code": ("Mã phường/xã", "text", None),
    "ward_name": ("Phường/xã", "text", None),
    "legacy_district": ("Quận/huyện (trước 7/2025)", "text", None),
    "stall_code": ("Mã sạp", "text", None),
    "zone": ("Khu", "text", None),
    "goods": ("Mặt hàng", "text", None),
    "status": ("Tình trạng sạp", "text", STALL_STATUS_VI),
    "level": ("Mức hiện tại", "text", LEVEL_VI),
    "registered": ("Đã đăng ký", "bool", None),
    "qr_issued": ("Đã in biển", "bool", None),
    "qr_verified": ("Đã kiểm tra mã", "bool", None),
    "transacting": ("Đang giao dịch", "bool", None),
    "fees_cashless": ("Thu phí không tiền mặt", "bool", None),
    "needs_revisit": ("Cần quay lại", "bool", None),
    "revisit_reason": ("Lý do quay lại", "text", REVISIT_VI),
    "sign_issued_at": ("In biển lúc", "datetime", None),
    "sign_delivered_at": ("Giao biển lúc", "datetime", None),
    "verified_at": ("Kiểm tra mã lúc", "datetime", None),
    "verified_method": ("Cách kiểm tra", "text", VERIFIED_VI),
    "last_payment_at": ("Nhận tiền gần nhất lúc", "datetime", None),
    "account_count": ("Số lượng tài khoản nhận tiền", "int", None),
    "banks": ("Ngân hàng", "text", None),
    "partner_codes": ("Đối tác", "text", None),
    "confirm_by": ("Cách biết tiền về", "text", None),
    "support": ("Gói hỗ trợ chuyển đổi số", "text", None),
    "also_accepts": ("Cách thanh toán khác", "text", None),
    "lat": ("Vĩ độ", "coordinate", None),
    "lon": ("Kinh độ", "coordinate", None),
    "location_source": ("Vị trí lấy từ", "text", LOCATION_VI),
    "holder_name": ("Họ tên chủ sạp", "text", None),
    "phone": ("Số điện thoại", "phone", None),
    "licence_no": ("Số giấy phép kinh doanh", "text", None),
}


def national_phone(e164: str | None) -> str | None:
    """'+84905123456' -> '0905 123 456' (how people in Vietnam write it; the 0 stays)."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _shown(column: str, value: Any) -> Any:
    _, kind, names = _STALL_XLSX[column]
    if value is None or value == "":
        return None
    if names is not None:
        return names.get(str(value), str(value))
    if column == "confirm_by":
        return ", ".join(CONFIRM_VI.get(tool, tool) for tool in str(value).split())
    if column == "also_accepts":
        words = labels.ALSO_ACCEPTS_VI | {"none": labels.ALSO_ACCEPTS_NONE_VI}
        return ", ".join(words.get(m, m) for m in str(value).split())
    if column == "support":  # "Hóa đơn điện tử: Đã nhận; Tên miền .biz.vn: Đã tư vấn"
        pairs = (part.partition(":") for part in str(value).split())
        return "; ".join(
            f"{labels.SUPPORT_ITEMS_VI.get(item, item)}: {labels.SUPPORT_STATES_VI.get(state, state)}"
            for item, _, state in pairs
        )
    if column in ("lat", "lon"):
        return float(value)  # a number, shown to six decimals (the "coordinate" column kind)
    if kind == "phone":
        return national_phone(str(value))
    return value


async def stalls_xlsx(records: AsyncIterator[dict], columns: list[str]) -> bytes:
    """The stall export as an .xlsx (the same records and columns as the CSV)."""
    shown = {"partner_codes": "partner_names"}  # the workbook names partners as people know them
    rows = [[_shown(c, rec.get(shown.get(c, c))) for c in columns] async for rec in records]
    sheet = Sheet(
        "Sạp",
        [Column(_STALL_XLSX[c][0], _STALL_XLSX[c][1]) for c in columns],
        rows,
    )
    return await asyncio.to_thread(write_xlsx, [sheet])


_MARKET_COLUMNS = [
    Column("Mã số chợ", "int"),
    Column("Chợ"),
    Column("Mã phường/xã"),
    Column("Phường/xã"),
    Column("Quận/huyện (trước 7/2025)"),
    Column("Trạng thái"),
    Column("Trạng thái từ", "datetime"),
    Column("Phiên bản tiêu chí", "int"),
    Column("Sạp đang hoạt động", "int"),
    Column("Đã in biển", "int"),
    Column("Tỷ lệ đã in biển", "percent"),
    Column("Đã kiểm tra mã", "int"),
    Column("Tỷ lệ đã kiểm tra mã", "percent"),
    Column("Đang giao dịch", "int"),
    Column("Tỷ lệ đang giao dịch", "percent"),
    Column("Thu phí không tiền mặt", "int"),
    Column("Tỷ lệ thu phí không tiền mặt", "percent"),
]


async def markets_xlsx_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    province: str | None = None,
    ward: str | None = None,
) -> bytes:
    """Every market in the caller's scope (of a province or a ward, as the page's area): status
    and since when, counts and shares (no personal data, so no access log)."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    markets = await q.market_rows(
        conn, await access.market_scope(conn, user), province=province, ward=ward
    )
    rows = []
    for m in markets:
        active = m["active_stalls"]
        counts = []
        for level in ("qr_issued", "qr_verified", "transacting", "fees_cashless"):
            counts += [m[level], share(m[level], active)]
        rows.append(
            [
                m["market_id"],
                m["market_name"],
                m["ward_code"],
                m["ward_name"],
                m["legacy_district"],
                MARKET_STATUS_VI.get(m["status"], m["status"]),
                m["status_since"],
                m["rule_version"],
                active,
                *counts,
            ]
        )
    return await asyncio.to_thread(write_xlsx, [Sheet("Chợ", _MARKET_COLUMNS, rows)])
