"""The one-page printable market report: the numbers, history and visit list, drawn by report_pdf."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from core.types import User
from coverage import report_pdf
from coverage.levels import local_day
from coverage.queries import reads as q
from coverage.reads import history_for, market_coverage_for


async def report_pdf_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, window_days: int
) -> bytes:
    """The one-page printable market report."""

    cov = await market_coverage_for(conn, user=user, market_id=market_id, window_days=window_days)
    header = await q.market_header(conn, market_id)
    assert header is not None
    today = local_day(datetime.now(UTC))
    history = await history_for(
        conn, user=user, market_id=market_id, start=today - timedelta(days=180), end=today
    )
    visits = await q.stalls_to_visit(conn, market_id)
    return await asyncio.to_thread(
        report_pdf.market_report,
        header=header,
        coverage=cov,
        history=history.points,
        visits=visits,
        today=today,
    )
