"""Stall exports (CSV and GeoJSON): columns, scope, the personal-data access log, flat records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg

from core import access
from core.errors import Forbidden
from core.types import User
from coverage.levels import highest_level
from coverage.queries import exports as q
from coverage.scope import readable_market
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
]


PERSONAL_COLUMNS = ["holder_name", "phone"]


async def export_scope(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int | None,
    ward_code: str | None,
    level: str | None,
    needs_revisit: bool | None,
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
            "lat": r["lat"] if has_own else r["market_lat"],
            "lon": r["lon"] if has_own else r["market_lon"],
            "location_source": "stall"
            if has_own
            else ("market" if r["market_lat"] is not None else None),
            "zone": r["zone"] or "",
        }
        if personal:
            rec["holder_name"] = r["holder_name"]
            rec["phone"] = r["phone"]
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


async def csv_stream(records: AsyncIterator[dict], columns: list[str]) -> AsyncIterator[bytes]:
    """CSV bytes: UTF-8 with BOM (opens in Excel), formula-safe cells, flushed every 500 rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
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
