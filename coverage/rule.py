"""The cashless-market rule: its versions, and changing it (every market is re-evaluated)."""

from __future__ import annotations

import asyncpg

from core import audit
from core.types import User
from coverage import schemas as s
from coverage.counters import reevaluate_markets
from coverage.queries import counters as q


def _rule_out(rule: q.Rule) -> s.Rule:
    return s.Rule(
        version=rule.version,
        thresholds=rule.thresholds,
        created_at=rule.created_at,
        created_by=rule.created_by,
    )


async def get_rule(conn: asyncpg.Connection) -> s.Rule:
    """The programme rule in force."""
    return _rule_out(await q.current_rule(conn))


async def rule_history(conn: asyncpg.Connection) -> list[s.Rule]:
    """Every version of the programme rule, newest first."""
    return [_rule_out(r) for r in await q.rule_versions(conn)]


async def set_rule(conn: asyncpg.Connection, *, user: User, body: s.RuleIn) -> s.Rule:
    """Store a new rule version and re-evaluate every market's status under it."""
    async with conn.transaction():
        before = await q.current_rule(conn, lock="exclusive")
        thresholds = {str(k): float(v) for k, v in sorted(body.thresholds.items())}
        rule = await q.insert_rule(conn, thresholds=thresholds, created_by=user.id)
        now = await q.db_now(conn)
        changed = await reevaluate_markets(
            conn, await q.all_market_ids(conn), rule, reason="rule_change", at=now
        )
        await q.set_rule_version_all(conn, rule.version)
        await audit.record(
            conn,
            actor_id=user.id,
            action="update",
            entity="programme_rule",
            entity_id=rule.version,
            before={"version": before.version, "thresholds": before.thresholds},
            after={
                "version": rule.version,
                "thresholds": rule.thresholds,
                "markets_changed": changed,
            },
        )
    return _rule_out(rule)
