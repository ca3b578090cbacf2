"""What a partner and the programme see of partners: stats, onboarded accounts, unmatched payments."""

from __future__ import annotations

import asyncio
import logging
import re

import asyncpg

from core import access, labels
from core.errors import Invalid, MarketNotFound
from core.params import MAX_ID
from core.spreadsheet import Column, Sheet, write_xlsx
from core.types import User
from partners import errors, registry, schemas
from partners.queries import events as events_q
from partners.queries import registry as registry_q
from partners.queries import views as views_q

log = logging.getLogger("choso.partners")


async def _partner_view_scope(
    conn: asyncpg.Connection, user: User, code: str, *, personal: bool
) -> list[int] | None:
    """Markets of a partner's data the caller may see (None = all); 404 for other partners."""
    if personal and user.role != "partner":
        access.require_personal_data_role(user)
    if await registry_q.get_partner(conn, code) is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    if user.role == "partner":
        if await registry.partner_of(conn, user) != code:
            raise errors.PartnerNotFound(f"No partner with code {code}.")
        return None
    if user.role not in access.READ_ROLES:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    return await access.market_scope(conn, user)


async def partner_stats(
    conn: asyncpg.Connection, *, user: User, code: str, market_id: int | None, window_days: int
) -> schemas.PartnerStats:
    """A partner's onboarded, active and paid accounts by market, within the caller's scope (a
    partner user counts only accounts within its reach)."""
    code = code.upper()
    scope = await _partner_view_scope(conn, user, code, personal=False)
    if market_id is not None:
        if scope is not None and market_id not in scope:
            raise MarketNotFound(f"No market with id {market_id}.")
        scope = [market_id]
    rows = await views_q.partner_stats(
        conn,
        partner_code=code,
        market_ids=scope,
        window_days=window_days,
        within_reach=user.role == "partner",
    )
    totals = schemas.StatsCounts(
        **{name: sum(getattr(r, name) for r in rows) for name in schemas.StatsCounts.model_fields}
    )
    return schemas.PartnerStats(
        partner_code=code, window_days=window_days, totals=totals, markets=rows
    )


def _stats_columns(window_days: int) -> list[Column]:
    return [
        Column("Mã số chợ", "int"),
        Column("Chợ"),
        Column("Tài khoản đang dùng (trừ đã gỡ)", "int"),
        *(Column(labels.onboarding_header(s), "int") for s in schemas.STATUSES),
        Column("Không còn dùng (sạp nghỉ, đổi hoặc xoá tài khoản)", "int"),
        Column(f"Có nhận tiền trong {window_days} ngày", "int"),
        Column("Sạp chưa có cách biết tiền về", "int"),
        Column("Sạp có loa báo tiền", "int"),
    ]


_COUNTS = (
    "onboarded", "pending", "active", "suspended", "removed", "not_in_use", "receiving", "stalls_no_way",
    "stalls_sound_box",
)  # fmt: skip


async def partner_stats_xlsx(
    conn: asyncpg.Connection, *, user: User, code: str, market_id: int | None, window_days: int
) -> bytes:
    """partner_stats as an Excel workbook (same scope rules): one row per market and a total."""
    stats = await partner_stats(
        conn, user=user, code=code, market_id=market_id, window_days=window_days
    )
    rows: list[list[object]] = [
        [m.market_id, m.market_name, *(getattr(m, c) for c in _COUNTS)] for m in stats.markets
    ]
    rows.append([None, "Tổng cộng", *(getattr(stats.totals, c) for c in _COUNTS)])
    sheet = Sheet(f"Đối tác {stats.partner_code}", _stats_columns(window_days), rows)
    return await asyncio.to_thread(write_xlsx, [sheet])


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", cursor) or not 1 <= int(cursor) <= MAX_ID:
        raise Invalid("The cursor is not valid; start again without it.", field="cursor")
    return int(cursor)


async def partner_accounts(
    conn: asyncpg.Connection,
    *,
    user: User,
    code: str,
    limit: int,
    cursor: str | None,
    q: str | None = None,
) -> schemas.PartnerAccountPage:
    """Payment accounts a partner onboarded or that opted in to it, a page at a time (a partner
    user sees its onboardings only of accounts within its reach)."""
    code = code.upper()
    scope = await _partner_view_scope(conn, user, code, personal=True)
    rows = await views_q.partner_accounts(
        conn,
        partner_code=code,
        market_ids=scope,
        after_id=_decode_cursor(cursor),
        limit=limit + 1,
        within_reach=user.role == "partner",
        search=(q or "").strip() or None,
    )
    next_cursor = str(rows[limit - 1].payment_account_id) if len(rows) > limit else None
    items = rows[:limit]
    await views_q.log_accounts_read(
        conn,
        actor_id=user.id,
        stall_ids=sorted({a.stall_id for a in items}),
        route=f"/api/partners/{code}/accounts",
    )
    return schemas.PartnerAccountPage(items=items, next_cursor=next_cursor)


async def unmatched_payments(
    conn: asyncpg.Connection, *, code: str, limit: int, cursor: str | None
) -> schemas.UnmatchedPage:
    """Verified payments of a partner that matched no stall, for review."""
    code = code.upper()
    if await registry_q.get_partner(conn, code) is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    rows = await events_q.unmatched_payments(
        conn, partner_code=code, after_id=_decode_cursor(cursor), limit=limit + 1
    )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return schemas.UnmatchedPage(items=rows[:limit], next_cursor=next_cursor)


async def recent_notifications(
    conn: asyncpg.Connection, *, code: str, limit: int
) -> list[schemas.Notification]:
    """A partner's latest verified notifications and events, for administrators to follow up."""
    code = code.upper()
    if await registry_q.get_partner(conn, code) is None:
        raise errors.PartnerNotFound(f"No partner with code {code}.")
    return await events_q.recent_notifications(conn, partner_code=code, limit=limit)
