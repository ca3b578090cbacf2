"""SQL of a stall's history: its audit entries, newest first, with who made each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Entry:
    at: datetime
    action: str
    actor: str | None  # the display name, else the username; None: the system or a removed user
    before: Any
    after: Any


async def stall_entries(
    conn: asyncpg.Connection, stall_id: int, *, limit: int | None, since: datetime | None = None
) -> list[Entry]:
    """The stall's audit entries (entity 'stall'), newest first: at most `limit` (None: all),
    only those after `since` when it is given."""
    rows = await conn.fetch(
        """SELECT l.at, l.action, coalesce(nullif(u.display_name, ''), u.username) AS actor,
                  l.before, l.after
           FROM audit_log l LEFT JOIN app_user u ON u.id = l.actor_id
           WHERE l.entity = 'stall' AND l.entity_id = $1::bigint::text
             AND ($3::timestamptz IS NULL OR l.at > $3)
           ORDER BY l.at DESC, l.id DESC LIMIT $2""",
        stall_id,
        limit,
        since,
    )
    return [
        Entry(
            at=r["at"],
            action=r["action"],
            actor=r["actor"],
            before=r["before"],
            after=r["after"],
        )
        for r in rows
    ]


# How the audit log names this package's records (core.audit.name_records): a stall by its code
# and market (never its holder), a market by its name, an account by its stall.
AUDIT_NAMES = {
    "stall": "(SELECT s.stall_code || ' · ' || m.name FROM stall s JOIN market m ON m.id = s.market_id"
    " WHERE s.id = {id})",
    "market": "(SELECT name FROM market WHERE id = {id})",
    "payment_account": "(SELECT s.stall_code || ' · ' || m.name FROM payment_account pa"
    " JOIN stall s ON s.id = pa.stall_id JOIN market m ON m.id = s.market_id WHERE pa.id = {id})",
    # A stall list import: its market and day (not the file's name, which people type).
    "stall_import": "(SELECT m.name || ' · ' || to_char(i.created_at AT TIME ZONE"
    " 'Asia/Ho_Chi_Minh', 'DD/MM/YYYY') FROM stall_import i JOIN market m ON m.id = i.market_id"
    " WHERE i.id = {id})",
}
