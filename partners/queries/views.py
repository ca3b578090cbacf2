"""What a partner sees: its stats and the accounts it onboarded or that opted in to it."""

from __future__ import annotations

import asyncpg

from core.crypto import keys_of
from partners import schemas
from partners.queries.accounts import _opened
from partners.queries.reach import in_reach


async def partner_stats(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    market_ids: list[int] | None,
    window_days: int,
    within_reach: bool,
) -> list[schemas.MarketStats]:
    """Per market: the partner's onboardings by status (only of accounts within its reach when
    asked), and accounts paid within the window. An archived market is left out, as from every
    other count (the dashboard's partner table among them).

    The statuses other than removed count accounts in use (the account active on an active stall);
    an onboarding whose account is no longer in use (the stall closed, the account replaced, the
    person's data erased) is counted apart, as not_in_use, whatever its status says: a partner's
    "active" is an account a stall can be paid on today."""
    rows = await conn.fetch(
        """SELECT s.market_id, m.name AS market_name, m.lat AS market_lat, m.lon AS market_lon,
                  count(*) FILTER (WHERE o.status <> 'removed' AND a.active
                                     AND s.status = 'active') AS onboarded,
                  count(*) FILTER (WHERE o.status = 'pending' AND a.active
                                     AND s.status = 'active') AS pending,
                  count(*) FILTER (WHERE o.status = 'active' AND a.active
                                     AND s.status = 'active') AS active,
                  count(*) FILTER (WHERE o.status = 'suspended' AND a.active
                                     AND s.status = 'active') AS suspended,
                  count(*) FILTER (WHERE o.status = 'removed') AS removed,
                  count(*) FILTER (WHERE o.status <> 'removed'
                                     AND NOT (a.active AND s.status = 'active')) AS not_in_use,
                  count(*) FILTER (WHERE o.status <> 'removed' AND a.active
                                     AND s.status = 'active' AND EXISTS (
                      SELECT 1 FROM payment_event pe
                      WHERE pe.payment_account_id = o.payment_account_id
                        AND pe.occurred_at >= clock_timestamp() - make_interval(days => $3)))
                      AS receiving,
                  -- Stalls (not accounts) with one of the partner's accounts in use, by how their
                  -- holder sees money arrive (stall.confirm_by): none yet, or a sound box.
                  count(DISTINCT s.id) FILTER (WHERE o.status <> 'removed' AND s.status = 'active'
                                                 AND s.confirm_by = '{}') AS stalls_no_way,
                  count(DISTINCT s.id) FILTER (WHERE o.status <> 'removed' AND s.status = 'active'
                                                 AND s.confirm_by @> '{sound_box}')
                      AS stalls_sound_box
           FROM onboarding o
           JOIN payment_account a ON a.id = o.payment_account_id
           JOIN stall s ON s.id = a.stall_id
           JOIN market m ON m.id = s.market_id
           WHERE o.partner_code = $1 AND ($2::bigint[] IS NULL OR s.market_id = any($2))
             AND m.archived_at IS NULL
             AND (NOT $4 OR """
        + in_reach("a", "$1")
        + """)
           GROUP BY s.market_id, m.name, m.name_sort, m.lat, m.lon
           ORDER BY m.name_sort, m.name, s.market_id""",
        partner_code,
        market_ids,
        window_days,
        within_reach,
    )
    return [schemas.MarketStats(**dict(r)) for r in rows]


async def partner_accounts(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    market_ids: list[int] | None,
    after_id: int | None,
    limit: int,
    within_reach: bool,
    search: str | None = None,
) -> list[schemas.PartnerAccount]:
    """Accounts the partner onboarded (only those within its reach when asked), or whose holder
    opted in to sharing with it (consent); `search`: the stall code holds it (any case), or the
    market name (any case, with or without diacritics: "cho con" finds Chợ Cồn), or it is the
    account number (exactly: numbers are stored sealed)."""
    rows = await conn.fetch(
        """SELECT a.id AS payment_account_id, a.stall_id, s.market_id, m.name AS market_name,
                  m.archived_at IS NOT NULL AS market_archived, s.stall_code,
                  a.bin, a.account_number, a.account_name, a.active,
                  CASE WHEN o.id IS NOT NULL THEN 'onboarded' ELSE 'opted_in' END AS relation,
                  o.status AS onboarding_status, o.created_at AS onboarded_at
           FROM payment_account a
           JOIN stall s ON s.id = a.stall_id
           JOIN market m ON m.id = s.market_id
           LEFT JOIN onboarding o ON o.payment_account_id = a.id AND o.partner_code = $1
                                 AND (NOT $5 OR """
        + in_reach("a", "$1")
        + """)
           WHERE (o.id IS NOT NULL OR (a.active AND EXISTS (
                     SELECT 1 FROM consent c
                     WHERE c.stallholder_id = s.holder_id AND c.withdrawn_at IS NULL
                       AND c.purpose = 'share_partner:' || $1)))
             AND ($2::bigint[] IS NULL OR s.market_id = any($2))
             AND ($3::bigint IS NULL OR a.id > $3)
             AND ($6::text IS NULL OR strpos(upper(s.stall_code), upper($6)) > 0
                  OR strpos(admin_unit_fold(m.name), admin_unit_fold($6)) > 0
                  OR a.account_number = $7)
           ORDER BY a.id
           LIMIT $4""",
        partner_code,
        market_ids,
        after_id,
        limit,
        within_reach,
        search,
        keys_of(conn).seal(search) if search else None,
    )
    return [schemas.PartnerAccount(**_opened(r, keys_of(conn))) for r in rows]


async def log_accounts_read(
    conn: asyncpg.Connection, *, actor_id: int, stall_ids: list[int], route: str
) -> None:
    """One access_log row per person whose account (number and name) a page of a partner's
    account list showed (reason `partner_accounts`): what a partner read of whom is on record."""
    await conn.execute(
        """INSERT INTO access_log (actor_id, stallholder_id, route, reason)
           SELECT DISTINCT $1::bigint, s.holder_id, $2::text, 'partner_accounts'
           FROM stall s JOIN stallholder h ON h.id = s.holder_id
           WHERE s.id = any($3::bigint[]) AND h.erased_at IS NULL""",
        actor_id,
        route,
        stall_ids,
    )
