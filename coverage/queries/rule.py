"""SQL of the cashless rule: its versions, the rule in force, the rule lock, when versions apply."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

# Any number: serialises rule changes against status evaluations (see coverage.py).
RULE_LOCK = 727000006


@dataclass(frozen=True)
class Rule:
    version: int
    thresholds: dict[str, float]
    created_at: datetime
    created_by: str | None = None
    effective_from: datetime | None = None
    applied_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None


# The rule in force (current_rule) is read by code that also runs on an older schema in migration
# tests (counters.rebuild): it reads no column of a later migration; a withdrawn version is never
# applied, so it has no withdrawal to show.
_APPLIED_COLUMNS = """r.version, r.thresholds, r.created_at, u.username AS created_by,
       r.effective_from, r.applied_at"""
_RULE_COLUMNS = f"""{_APPLIED_COLUMNS}, r.withdrawn_at,
       (SELECT w.username FROM app_user w WHERE w.id = r.withdrawn_by) AS withdrawn_by"""
# The rule in force is the version applied last: a version made for today applies at once, one
# scheduled for a later day when the coverage job reaches its day (coverage/rule.py). Of versions
# applied together, the one with the latest day (then the newest) is the rule.
RULE_IN_FORCE_ORDER = "r.applied_at DESC, r.effective_from DESC, r.version DESC"
RULE_IN_FORCE = f"""SELECT r.version, r.thresholds FROM programme_rule r
    WHERE r.applied_at IS NOT NULL ORDER BY {RULE_IN_FORCE_ORDER} LIMIT 1"""


async def current_rule(conn: asyncpg.Connection, *, lock: str | None = None) -> Rule:
    """The rule in force; lock='shared' or 'exclusive' also takes the transaction's rule lock."""
    prefix = {
        None: "",
        "shared": f"SELECT pg_advisory_xact_lock_shared({RULE_LOCK}); ",
        "exclusive": f"SELECT pg_advisory_xact_lock({RULE_LOCK}); ",
    }[lock]
    if prefix:
        await conn.execute(prefix)
    row = await conn.fetchrow(
        f"""SELECT {_APPLIED_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           WHERE r.applied_at IS NOT NULL
           ORDER BY {RULE_IN_FORCE_ORDER} LIMIT 1"""
    )
    assert row is not None, "migration 0004 seeds rule version 1"
    return _rule(row)


def _rule(row: asyncpg.Record) -> Rule:
    thresholds = row["thresholds"]
    if isinstance(thresholds, str):
        thresholds = json.loads(thresholds)
    return Rule(
        version=row["version"],
        thresholds={k: float(v) for k, v in thresholds.items()},
        created_at=row["created_at"],
        created_by=row["created_by"],
        effective_from=row["effective_from"],
        applied_at=row["applied_at"],
        withdrawn_at=row.get("withdrawn_at"),
        withdrawn_by=row.get("withdrawn_by"),
    )


async def insert_rule(
    conn: asyncpg.Connection,
    *,
    thresholds: dict[str, float],
    created_by: int,
    effective_from: datetime | None,
) -> Rule:
    """Store the next rule version, effective now (None) or from a later moment; not applied yet."""
    row = await conn.fetchrow(
        f"""WITH r AS (
               INSERT INTO programme_rule (version, thresholds, created_by, effective_from)
               SELECT coalesce(max(version), 0) + 1, $1::jsonb, $2,
                      coalesce($3::timestamptz, clock_timestamp())
               FROM programme_rule
               RETURNING *)
           SELECT {_RULE_COLUMNS} FROM r LEFT JOIN app_user u ON u.id = r.created_by""",
        thresholds,
        created_by,
        effective_from,
    )
    return _rule(row)


async def mark_rules_applied(conn: asyncpg.Connection, versions: list[int]) -> datetime:
    """These versions were applied now (every market re-evaluated); returns when."""
    return await conn.fetchval(
        """UPDATE programme_rule SET applied_at = t.now
           FROM (SELECT clock_timestamp() AS now) t
           WHERE version = any($1::int[]) RETURNING t.now""",
        versions,
    )


async def due_rules(conn: asyncpg.Connection) -> list[Rule]:
    """Versions whose day has come and that were neither applied nor withdrawn, in the order they
    apply."""
    rows = await conn.fetch(
        f"""SELECT {_RULE_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           WHERE r.applied_at IS NULL AND r.withdrawn_at IS NULL
             AND r.effective_from <= clock_timestamp()
           ORDER BY r.effective_from, r.version"""
    )
    return [_rule(r) for r in rows]


async def rule_versions(conn: asyncpg.Connection) -> list[Rule]:
    """Every rule version, newest first."""
    rows = await conn.fetch(
        f"""SELECT {_RULE_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           ORDER BY r.version DESC"""
    )
    return [_rule(r) for r in rows]


async def rule_version(conn: asyncpg.Connection, version: int) -> Rule | None:
    """One rule version, or None."""
    row = await conn.fetchrow(
        f"""SELECT {_RULE_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           WHERE r.version = $1""",
        version,
    )
    return None if row is None else _rule(row)


async def withdraw_rule(conn: asyncpg.Connection, *, version: int, user_id: int) -> None:
    """A scheduled version will never apply (the caller checked it is scheduled)."""
    await conn.execute(
        """UPDATE programme_rule SET withdrawn_at = clock_timestamp(), withdrawn_by = $2
           WHERE version = $1 AND applied_at IS NULL AND withdrawn_at IS NULL""",
        version,
        user_id,
    )


async def set_rule_version_all(conn: asyncpg.Connection, version: int) -> None:
    """Every market's status was evaluated under this rule version."""
    await conn.execute(
        "UPDATE market_coverage SET rule_version = $1 WHERE rule_version IS DISTINCT FROM $1",
        version,
    )
