"""Field activity: who did what, in which market, for which team, day by day.

Every action is attributed to the user who did it (the audit entry's actor) and to the team that
user was in at that moment (team_membership by time), so it stays with the old team when they
move. Scoped like every read: a manager sees the actions in their markets, a viewer the numbers of
their scope without people's names, a volunteer their own actions, and a team leader also their
team's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from core import access
from core.errors import Forbidden
from core.spreadsheet import Column, Sheet, write_xlsx
from core.types import User
from coverage import exports
from teams import errors, kinds, queries, schemas

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_DAYS = 400
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def today() -> date:
    """Today in Asia/Ho_Chi_Minh."""
    return datetime.now(UTC).astimezone(ICT).date()


def period(start: date | None, end: date | None, *, now: date | None = None) -> tuple[date, date]:
    """The inclusive period asked for; by default this week (Monday to today)."""
    now = now or today()
    end = end or (max(now, start) if start else now)
    start = start or end - timedelta(days=end.weekday())
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise errors.BadPeriod(f"'{name}' must be between {EARLIEST} and {LATEST}.", field=name)
    if start > end:
        raise errors.BadPeriod("'from' must not be after 'to'.", field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise errors.BadPeriod(f"Ask for at most {MAX_DAYS} days at a time.", field="from")
    return start, end


async def _filter(
    conn: asyncpg.Connection, user: User, start: date, end: date
) -> queries.ActivityFilter:
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role does not read field activity.")
    names = access.sees_personal_data(user)
    if user.role == "volunteer":
        mine = await queries.current_team(conn, user.id)
        led = mine[0] if mine and mine[1] else None
        return queries.ActivityFilter(start, end, None, user.id, led, names)
    markets = await access.market_scope(conn, user)
    return queries.ActivityFilter(start, end, markets, None, None, names)


def _counts(row: dict) -> dict[str, int]:
    counts = {k: int(row.get(k) or 0) for k in kinds.KINDS}
    # The actions: a wrong code found or fixed is a code check already counted, not again.
    checks = ("return_visits", "codes_fixed")
    return counts | {"total": sum(n for k, n in counts.items() if k not in checks)}


def _sort_key(row: schemas.ActivityRow) -> tuple:
    return (-row.total, -row.registrations, row.key is None, (row.label or "").lower(), row.key)


async def activity(
    conn: asyncpg.Connection,
    *,
    user: User,
    start: date | None,
    end: date | None,
    group_by: schemas.ActivityGroup,
) -> schemas.Activity:
    """Counts per kind of action in the period, per day, user, team, market or ward."""
    first, last = period(start, end)
    f = await _filter(conn, user, first, last)
    raw = await queries.activity(conn, f, group_by)
    rows = [
        schemas.ActivityRow(
            key=r["key"],
            label=r["label"],
            **_counts(r),
        )
        for r in raw
    ]
    if group_by == "day":
        by_day = {r.key: r for r in rows}
        rows = []
        for n in range((last - first).days + 1):
            day = (first + timedelta(days=n)).isoformat()
            rows.append(by_day.get(day) or schemas.ActivityRow(key=day, label=day))
    else:
        rows.sort(key=_sort_key)
    total = {k: sum(getattr(r, k) for r in rows) for k in (*kinds.KINDS, "total")}
    return schemas.Activity.model_validate(
        {
            "group_by": group_by,
            "from": first,
            "to": last,
            "names_hidden": not f.names,
            "rows": rows,
            "total": total,
        }
    )


# ---------------------------------------------------------------- exports

CSV_COLUMNS = ["key", "label", *kinds.KINDS, "total"]

# Vietnamese column headers of the spreadsheet.
_KEY_HEADERS = {
    "day": ("Ngày", "Ngày"),
    "user": ("Mã người dùng", "Người thực hiện"),  # managers and admins do field work too
    "team": ("Mã tổ", "Tổ"),
    "market": ("Mã chợ", "Chợ"),
    "ward": ("Mã phường, xã", "Phường, xã"),
}
_KIND_HEADERS = {
    "registrations": "Sạp đăng ký",
    "edits": "Sửa hồ sơ sạp",
    "accounts": "Tài khoản thêm, sửa",
    "consents": "Đồng ý ghi nhận",
    "prints": "Biển đã in",
    "deliveries": "Biển đã giao",
    "verifications": "Kiểm tra mã",
    "return_visits": "Mã sai phát hiện",
    "codes_fixed": "Mã sai đã sửa",
    "visits": "Lần ghé sạp",
    "support": "Gói hỗ trợ ghi nhận",
    "assignments": "Giao quay lại sạp",
    # A wrong code found is a check that failed: counted once, under "Kiểm tra mã", not again.
    "total": "Tổng số việc (mã sai đã tính trong kiểm tra mã)",
}
_NO_KEY = {"team": "(không thuộc tổ nào)", "market": "(không rõ chợ)", "ward": "(không rõ phường)"}


async def csv_bytes(result: schemas.Activity) -> AsyncIterator[bytes]:
    """The rows as CSV (UTF-8 with BOM, formula-safe cells), machine-readable column names."""

    async def records() -> AsyncIterator[dict]:
        for row in result.rows:
            yield row.model_dump()

    async for chunk in exports.csv_stream(records(), CSV_COLUMNS):
        yield chunk


def xlsx_bytes(result: schemas.Activity) -> bytes:
    """The rows as an .xlsx sheet with Vietnamese headers."""
    key_header, label_header = _KEY_HEADERS[result.group_by]
    counts = [Column(_KIND_HEADERS[k], "int") for k in (*kinds.KINDS, "total")]
    if result.group_by == "day":
        columns = [Column(key_header, "date"), *counts]
        rows = [
            [date.fromisoformat(r.key or ""), *(getattr(r, k) for k in (*kinds.KINDS, "total"))]
            for r in result.rows
        ]
    else:
        columns = [Column(key_header), Column(label_header, width=32), *counts]
        hidden = "(ẩn tên)" if result.names_hidden and result.group_by == "user" else None
        rows = [
            [
                r.key or "",
                r.label or (_NO_KEY.get(result.group_by, "") if r.key is None else hidden or ""),
                *(getattr(r, k) for k in (*kinds.KINDS, "total")),
            ]
            for r in result.rows
        ]
    return write_xlsx([Sheet(title="Hoạt động", columns=columns, rows=rows)])


def export_name(result: schemas.Activity, ext: str) -> str:
    """hoat-dong-<group>-<from>-<to>.<ext>"""
    return f"hoat-dong-{result.group_by}-{result.from_}-{result.to}.{ext}"
