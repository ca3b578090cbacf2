"""The audit trail every domain writes to: who did what to which record, before and after."""

from __future__ import annotations

from typing import Any

import asyncpg

from core import queries


async def record(
    conn: asyncpg.Connection,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit entry (in the caller's transaction)."""
    await queries.insert_audit(
        conn,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
