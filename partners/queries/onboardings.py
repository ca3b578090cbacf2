"""Onboardings: which partner set up an account, with status history (and the registration part)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from core import sql
from partners import schemas
from partners.queries.reach import in_reach


@dataclass(frozen=True)
class OnboardingRow:
    id: int
    payment_account_id: int
    partner_code: str
    status: str


async def onboarding_for(
    conn: asyncpg.Connection, *, account_id: int, partner_code: str, for_update: bool = False
) -> OnboardingRow | None:
    """The onboarding of an account by a partner."""
    row = await conn.fetchrow(
        "SELECT id, payment_account_id, partner_code, status FROM onboarding "
        "WHERE payment_account_id = $1 AND partner_code = $2"
        + (" FOR UPDATE" if for_update else ""),
        account_id,
        partner_code,
    )
    return OnboardingRow(**dict(row)) if row else None


async def onboardings_for_accounts(
    conn: asyncpg.Connection, *, partner_code: str, account_ids: list[int]
) -> list[OnboardingRow]:
    """A partner's onboardings of these accounts."""
    rows = await conn.fetch(
        "SELECT id, payment_account_id, partner_code, status FROM onboarding "
        "WHERE partner_code = $1 AND payment_account_id = any($2::bigint[])",
        partner_code,
        account_ids,
    )
    return [OnboardingRow(**dict(r)) for r in rows]


# The onboardings of payment accounts a statement has just written (its CTE `account`: id,
# partner_code, read in the order the accounts were written): for each account naming a partner,
# the onboarding, the first line of its status history and its audit entry, in that order. A single onboarding (create_onboarding) runs it on a
# one-row `account` naming an existing account, which may have that partner's onboarding already
# (NEW_ONBOARDINGS: left as it is). A registration joins it to its own statement, whose accounts
# are written by that statement and so cannot have one (NEW_ACCOUNT_ONBOARDINGS: a plain insert,
# no conflict check and no confirmation record in the WAL).
_ONBOARDINGS = """
onboarding_row AS (
    INSERT INTO onboarding (payment_account_id, partner_code, channel, status, onboarded_by,
                            staff_name)
    SELECT id, partner_code, $onboarding_channel, $onboarding_status, $actor_id,
           $onboarding_staff_name
    FROM account
    WHERE partner_code IS NOT NULL
    {on_conflict}
    RETURNING id, payment_account_id, partner_code, status, channel
), onboarding_history AS (
    INSERT INTO onboarding_status (onboarding_id, from_status, to_status, actor_id, source,
                                   effective_on, ref)
    SELECT id, NULL, status, $actor_id, $onboarding_source, $onboarding_effective_on,
           $onboarding_ref
    FROM onboarding_row
    RETURNING 1
), onboarding_audit AS (
    INSERT INTO audit_log (actor_id, action, entity, entity_id, after)
    SELECT $actor_id, 'create', 'onboarding', id::text,
           jsonb_build_object('payment_account_id', payment_account_id,
                              'partner_code', partner_code, 'channel', channel, 'status', status,
                              'source', $onboarding_source::text, 'ref', $onboarding_ref::text)
    FROM onboarding_row
    RETURNING 1
)"""
NEW_ONBOARDINGS = _ONBOARDINGS.replace(
    "{on_conflict}", "ON CONFLICT ON CONSTRAINT onboarding_account_partner_key DO NOTHING"
)
NEW_ACCOUNT_ONBOARDINGS = _ONBOARDINGS.replace("\n    {on_conflict}", "")


_CREATE_ONBOARDING = sql.compose(
    """WITH account AS (SELECT $account_id::bigint AS id, $partner_code::text AS partner_code), """
    + NEW_ONBOARDINGS
    + """
SELECT r.id, (SELECT count(*) FROM onboarding_history) + (SELECT count(*) FROM onboarding_audit)
       AS written
FROM onboarding_row r"""
)


async def create_onboarding(
    conn: asyncpg.Connection,
    *,
    account_id: int,
    partner_code: str,
    channel: str,
    status: str,
    actor_id: int | None,
    source: str,
    staff_name: str | None,
    effective_on: date | None,
    ref: str | None,
) -> int | None:
    """Create an onboarding with its first status line and audit entry (NEW_ONBOARDINGS); None
    when the (account, partner) pair already has one."""
    row = await conn.fetchrow(
        _CREATE_ONBOARDING.text,
        *_CREATE_ONBOARDING.args(
            {
                "account_id": account_id,
                "partner_code": partner_code,
                "onboarding_channel": channel,
                "onboarding_status": status,
                "actor_id": actor_id,
                "onboarding_staff_name": staff_name,
                "onboarding_source": source,
                "onboarding_effective_on": effective_on,
                "onboarding_ref": ref,
            }
        ),
    )
    return int(row["id"]) if row else None


async def set_onboarding_status(
    conn: asyncpg.Connection, *, onboarding_id: int, status: str
) -> None:
    """Move an onboarding to a status."""
    await conn.execute(
        "UPDATE onboarding SET status = $2, updated_at = clock_timestamp() WHERE id = $1",
        onboarding_id,
        status,
    )


async def insert_status_change(
    conn: asyncpg.Connection,
    *,
    onboarding_id: int,
    from_status: str | None,
    to_status: str,
    actor_id: int | None,
    source: str,
    effective_on: date | None = None,
    ref: str | None = None,
) -> None:
    """Append one line to an onboarding's status history."""
    await conn.execute(
        """INSERT INTO onboarding_status (onboarding_id, from_status, to_status, actor_id, source,
                                          effective_on, ref)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        onboarding_id,
        from_status,
        to_status,
        actor_id,
        source,
        effective_on,
        ref,
    )


async def stall_onboardings(
    conn: asyncpg.Connection, *, stall_id: int, partner_code: str | None = None
) -> list[schemas.Onboarding]:
    """Onboardings of a stall's accounts, each with its full history; given a partner, only its
    onboardings of accounts within its reach."""
    rows = await conn.fetch(
        """SELECT o.id, a.stall_id, o.payment_account_id, a.bin, o.partner_code,
                  p.name AS partner_name,
                  o.channel, o.status, o.onboarded_by, o.staff_name, o.created_at, o.updated_at
           FROM onboarding o
           JOIN payment_account a ON a.id = o.payment_account_id
           JOIN partner p ON p.code = o.partner_code
           WHERE a.stall_id = $1
             AND ($2::text IS NULL OR (o.partner_code = $2 AND """
        + in_reach("a", "$2")
        + """))
           ORDER BY a.position, a.id, o.partner_code""",
        stall_id,
        partner_code,
    )
    history = await conn.fetch(
        """SELECT onboarding_id, from_status, to_status, at, actor_id, source, effective_on, ref
           FROM onboarding_status WHERE onboarding_id = any($1::bigint[])
           ORDER BY onboarding_id, id""",
        [r["id"] for r in rows],
    )
    by_id: dict[int, list[schemas.StatusChange]] = {}
    for h in history:
        values = dict(h)
        by_id.setdefault(values.pop("onboarding_id"), []).append(schemas.StatusChange(**values))
    return [schemas.Onboarding(**dict(r), history=by_id.get(r["id"], [])) for r in rows]


async def onboarding_by_id(
    conn: asyncpg.Connection, onboarding_id: int
) -> schemas.Onboarding | None:
    """One onboarding with its history."""
    stall_id = await conn.fetchval(
        "SELECT a.stall_id FROM onboarding o JOIN payment_account a ON a.id = o.payment_account_id "
        "WHERE o.id = $1",
        onboarding_id,
    )
    if stall_id is None:
        return None
    found = [o for o in await stall_onboardings(conn, stall_id=stall_id) if o.id == onboarding_id]
    return found[0] if found else None
