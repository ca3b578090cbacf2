"""The audit trail every domain writes to (who did what to which record, before and after), and
its read for administrators."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel, Field

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


class AuditEntry(BaseModel):
    """One thing done: when, by whom, what, to which record (not its values)."""

    id: int
    at: datetime
    actor: str | None = Field(description="Display name, else username; null: the system")
    actor_username: str | None
    action: str
    entity: str
    entity_id: str | None
    entity_label: str | None = Field(
        None,
        description="What the record is called (a stall's code and market, a team's name…), "
        "never a person's data; null when its package names none or it is gone.",
    )
    status_from: str | None = Field(
        None, description="A status change (set_status …): the status before, as a code."
    )
    status_to: str | None = Field(None, description="A status change: the status after.")


# What a record is called in the audit log, per entity: an SQL expression over the entry's id as
# a number (`{id}`), written and registered by the package that owns the entity (core imports
# nothing above it, but its audit query runs these expressions over those packages' tables).
# Never personal data: a stall is its code and market, not its holder.
_LABELS: dict[str, str] = dict(queries.AUDIT_NAMES)


def name_records(labels: dict[str, str]) -> None:
    """Register how a package's entities are named in the audit log (entity -> SQL expression
    over `{id}`, the entry's entity id as a bigint). Entity names are code constants; anything
    else is refused here rather than written into SQL."""
    for entity, expr in labels.items():
        if not re.fullmatch(r"[a-z_]{1,40}", entity) or "{id}" not in expr:
            raise ValueError(f"not an audit entity name or label: {entity!r}")
        if entity in _LABELS and _LABELS[entity] != expr:
            raise ValueError(f"two packages name {entity!r} in the audit log")
    _LABELS.update(labels)


class AuditPage(BaseModel):
    """Entries newest first (by time, then id); `next_before`: the last entry's id, to pass as
    `before` for the next page (null: no more)."""

    items: list[AuditEntry]
    next_before: int | None


VN = ZoneInfo("Asia/Ho_Chi_Minh")


async def entries(
    conn: asyncpg.Connection,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
    before: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """The audit trail for administrators, newest first: `since`/`until` are days in Vietnam
    (both included). Reads only."""
    start = datetime.combine(since, time.min, VN) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, VN) if until else None
    rows = await queries.audit_entries(
        conn,
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor=actor,
        since=start,
        until=end,
        before_id=before,
        limit=limit + 1,
        labels=_LABELS,
    )
    items = [AuditEntry(**row.__dict__) for row in rows[:limit]]
    return AuditPage(items=items, next_before=items[-1].id if len(rows) > limit else None)
