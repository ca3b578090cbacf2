"""The cashless-market rule: its versions, changing it, and seeing what a change would do.

A version applies from its `effective_from`: the start of a day in Vietnam. A version for today
applies at once (every market is re-evaluated in the same transaction); one for a later day waits,
and the hourly coverage job (`apply_due_rules`, from coverage/job.py) applies it once its day has
come. The rule in force is the version applied last. A scheduled version is corrected by saving
another one for the same day: of versions applied together, the newest with the latest day wins.
One scheduled by mistake is withdrawn before its day: it stays in the history, never applied.
"""

from __future__ import annotations

from datetime import date, datetime, time

import asyncpg

from core import audit
from core.types import User
from coverage import errors
from coverage import schemas as s
from coverage.counters import reevaluate_markets
from coverage.levels import VN_TZ, evaluate_status, local_day
from coverage.queries import counters as counters_q
from coverage.queries import job as job_q
from coverage.queries import rule as rule_q
from coverage.shapes import levels_out


def _rule_out(rule: rule_q.Rule, in_force: int) -> s.Rule:
    assert rule.effective_from is not None
    state: s.RuleState = (
        "in_force"
        if rule.version == in_force
        else "withdrawn"
        if rule.withdrawn_at is not None
        else "scheduled"
        if rule.applied_at is None
        else "superseded"
    )
    return s.Rule(
        version=rule.version,
        thresholds=rule.thresholds,
        created_at=rule.created_at,
        created_by=rule.created_by,
        effective_from=rule.effective_from,
        applied_at=rule.applied_at,
        state=state,
        withdrawn_at=rule.withdrawn_at,
        withdrawn_by=rule.withdrawn_by,
    )


def start_of_day(day: date) -> datetime:
    """The moment a day begins in Vietnam."""
    return datetime.combine(day, time(0), tzinfo=VN_TZ)


async def get_rule(conn: asyncpg.Connection) -> s.Rule:
    """The programme rule in force."""
    rule = await rule_q.current_rule(conn)
    return _rule_out(rule, rule.version)


async def rule_history(conn: asyncpg.Connection) -> list[s.Rule]:
    """Every version of the programme rule, newest first, scheduled ones included."""
    in_force = (await rule_q.current_rule(conn)).version
    return [_rule_out(r, in_force) for r in await rule_q.rule_versions(conn)]


async def _effective_moment(conn: asyncpg.Connection, day: date | None) -> datetime | None:
    """None when the version applies now (no day, or today); 422 for a day that is over or more
    than two years ahead."""
    if day is None:
        return None
    today = local_day(await job_q.db_now(conn))
    if day < today:
        raise errors.EffectiveDatePast(
            f"{day.isoformat()} is over (today is {today.isoformat()} in Vietnam); "
            "choose today or a later day.",
            field="effective_from",
        )
    # A year typed wrong (2207 for 2027) would schedule a version that never comes.
    try:
        latest = today.replace(year=today.year + 2)
    except ValueError:  # 29 February: two years on has none
        latest = today.replace(year=today.year + 2, day=28)
    if day > latest:
        raise errors.EffectiveDateTooFar(
            f"{day.isoformat()} is more than two years ahead (the latest is {latest.isoformat()}); "
            "check the year.",
            field="effective_from",
        )
    return None if day == today else start_of_day(day)


async def set_rule(conn: asyncpg.Connection, *, user: User, body: s.RuleIn) -> s.Rule:
    """Store a new rule version: applied at once (every market re-evaluated) when it is for today,
    else scheduled for its day."""
    thresholds = {str(k): float(v) for k, v in sorted(body.thresholds.items())}
    async with conn.transaction():
        effective = await _effective_moment(conn, body.effective_from)
        before = await rule_q.current_rule(conn, lock="exclusive")
        rule = await rule_q.insert_rule(
            conn, thresholds=thresholds, created_by=user.id, effective_from=effective
        )
        changed = None
        if effective is None:
            changed = await _apply(conn, rule)
        await audit.record(
            conn,
            actor_id=user.id,
            action="update" if effective is None else "schedule",
            entity="programme_rule",
            entity_id=rule.version,
            before={"version": before.version, "thresholds": before.thresholds},
            after={
                "version": rule.version,
                "thresholds": rule.thresholds,
                "effective_from": (effective or rule.effective_from or rule.created_at).isoformat(),
                "markets_changed": changed,
            },
        )
        in_force = (await rule_q.current_rule(conn)).version
        rule = next(r for r in await rule_q.rule_versions(conn) if r.version == rule.version)
    return _rule_out(rule, in_force)


async def withdraw_rule(conn: asyncpg.Connection, *, user: User, version: int) -> s.Rule:
    """Withdraw a scheduled version before its day: it is never applied, the rule in force stays.
    Withdrawing a withdrawn version again changes nothing; an applied one is refused (409)."""
    async with conn.transaction():
        # The rule lock: the coverage job cannot apply the version while it is being withdrawn.
        await rule_q.current_rule(conn, lock="exclusive")
        rule = await rule_q.rule_version(conn, version)
        if rule is None:
            raise errors.RuleVersionNotFound(f"No rule version {version}.")
        if rule.applied_at is not None:
            raise errors.RuleVersionApplied(
                f"Version {version} was applied on {rule.applied_at.isoformat()}: save a new "
                "version to change the rule."
            )
        if rule.withdrawn_at is None:
            await rule_q.withdraw_rule(conn, version=version, user_id=user.id)
            assert rule.effective_from is not None
            await audit.record(
                conn,
                actor_id=user.id,
                action="withdraw",
                entity="programme_rule",
                entity_id=version,
                before={"version": version, "state": "scheduled"},
                after={
                    "version": version,
                    "state": "withdrawn",
                    "thresholds": rule.thresholds,
                    "effective_from": rule.effective_from.isoformat(),
                },
            )
            rule = await rule_q.rule_version(conn, version)
            assert rule is not None
        in_force = (await rule_q.current_rule(conn)).version
    return _rule_out(rule, in_force)


async def _apply(conn: asyncpg.Connection, rule: rule_q.Rule, also: list[int] | None = None) -> int:
    """Re-evaluate the markets under `rule` and mark it (and `also`) applied; markets changed.

    Archived markets are left to the periodic job (as the preview leaves them out): what saving
    changes at once is what the preview listed."""
    now = await job_q.db_now(conn)
    changed = await reevaluate_markets(
        conn, await counters_q.live_market_ids(conn), rule, reason="rule_change", at=now
    )
    await rule_q.set_rule_version_all(conn, rule.version)
    await rule_q.mark_rules_applied(conn, [rule.version, *(also or [])])
    return changed


async def apply_due_rules(conn: asyncpg.Connection) -> int | None:
    """Apply the scheduled versions whose day has come (the coverage job calls this every hour).

    Of several due at once, the one with the latest day (then the newest) is applied and the others
    are marked applied with it (each was the rule for no time at all). Returns the version now in
    force, or None when nothing was due.
    """
    async with conn.transaction():
        await rule_q.current_rule(conn, lock="exclusive")
        due = await rule_q.due_rules(conn)
        if not due:
            return None
        rule = due[-1]
        changed = await _apply(conn, rule, also=[r.version for r in due[:-1]])
        await audit.record(
            conn,
            actor_id=None,
            action="apply_scheduled",
            entity="programme_rule",
            entity_id=rule.version,
            after={
                "version": rule.version,
                "thresholds": rule.thresholds,
                "skipped_versions": [r.version for r in due[:-1]],
                "markets_changed": changed,
            },
        )
        return rule.version


async def preview_rule(conn: asyncpg.Connection, *, body: s.RuleIn) -> s.RulePreview:
    """The markets whose status this rule would change today, from → to, with their numbers.

    Reads only; a day that is over is refused as saving it would be.
    """
    await _effective_moment(conn, body.effective_from)
    thresholds = {str(k): float(v) for k, v in sorted(body.thresholds.items())}
    rows = await counters_q.market_counters_named(conn)
    changes = []
    for row in rows:
        after = evaluate_status(row.counts, thresholds, row.status)
        if after != row.status:
            changes.append(
                s.StatusChangePreview.model_validate(
                    {
                        "market_id": row.market_id,
                        "name": row.name,
                        "from": row.status,
                        "to": after,
                        "active_stalls": row.counts.active_stalls,
                        "levels": levels_out(row.counts),
                    }
                )
            )
    return s.RulePreview(
        thresholds=thresholds,
        effective_from=body.effective_from,
        markets=len(rows),
        changes=changes,
    )
