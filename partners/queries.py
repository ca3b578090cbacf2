"""All SQL of partners, onboardings, partner events, payments and imports.

Credentials are read by `partner_credentials` only; every other partner query returns field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from core import sql
from core.crypto import Keys, keys_of
from partners import schemas

# ---------------------------------------------------------------- partners

_PARTNER = """
SELECT code, name, kind, scheme, bins,
       ARRAY(SELECT jsonb_object_keys(credentials) ORDER BY 1) AS credentials_set,
       credentials ? 'signing_secret' AS own_api_enabled,
       created_at, updated_at
FROM partner
"""


async def list_partners(conn: asyncpg.Connection) -> list[schemas.Partner]:
    """Every partner by code (credential names only)."""
    rows = await conn.fetch(_PARTNER + " ORDER BY code")
    return [schemas.Partner(**dict(r)) for r in rows]


async def get_partner(
    conn: asyncpg.Connection, code: str, *, for_update: bool = False
) -> schemas.Partner | None:
    """One partner (credential names only)."""
    row = await conn.fetchrow(
        _PARTNER + " WHERE code = $1" + (" FOR UPDATE" if for_update else ""), code
    )
    return schemas.Partner(**dict(row)) if row else None


async def partner_credentials(conn: asyncpg.Connection, code: str) -> dict[str, str] | None:
    """A partner's stored credentials (server-side use only); None for an unknown partner."""
    value = await conn.fetchval("SELECT credentials FROM partner WHERE code = $1", code)
    return keys_of(conn).open_credentials(code, value) if value is not None else None


async def add_directory_partners(
    conn: asyncpg.Connection, rows: list[tuple[str, str, str, str, list[str]]]
) -> list[str]:
    """Insert (code, name, kind, scheme, bins) partners that do not exist yet, and give existing
    ones the BINs they lack; returns the codes added."""
    added = await conn.fetch(
        """WITH new AS (
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                   AS n (code, name, kind, scheme)
           ), added AS (
               INSERT INTO partner (code, name, kind, scheme, bins)
               SELECT n.code, n.name, n.kind, n.scheme,
                      string_to_array(b.bins, ',')
               FROM new n JOIN unnest($1::text[], $5::text[]) AS b (code, bins) USING (code)
               ON CONFLICT (code) DO NOTHING
               RETURNING code
           ), widened AS (
               UPDATE partner p SET bins = ARRAY(SELECT DISTINCT x FROM unnest(
                          p.bins || string_to_array(b.bins, ',')) AS x ORDER BY 1),
                      updated_at = clock_timestamp()
               FROM unnest($1::text[], $5::text[]) AS b (code, bins)
               WHERE p.code = b.code AND NOT string_to_array(b.bins, ',') <@ p.bins
               RETURNING p.code
           )
           SELECT code FROM added ORDER BY code""",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [",".join(r[4]) for r in rows],
    )
    return [r["code"] for r in added]


async def credentials_in_clear(conn: asyncpg.Connection) -> list[tuple[str, dict[str, str]]]:
    """(code, credentials) of partners with a credential stored before sealing (no `g1:`)."""
    rows = await conn.fetch(
        """SELECT code, credentials FROM partner
           WHERE EXISTS (SELECT 1 FROM jsonb_each_text(credentials) AS c (name, value)
                         WHERE c.value !~ '^g1:')
           ORDER BY code FOR UPDATE"""
    )
    return [(r["code"], dict(r["credentials"])) for r in rows]


async def store_sealed_credentials(
    conn: asyncpg.Connection, rows: list[tuple[str, dict[str, str]]]
) -> None:
    """Write credentials already in their stored (sealed) form."""
    await conn.executemany("UPDATE partner SET credentials = $2 WHERE code = $1", rows)


async def set_credentials(
    conn: asyncpg.Connection, *, code: str, credentials: dict[str, str], scheme: str
) -> None:
    """Replace a partner's credentials (and scheme)."""
    await conn.execute(
        "UPDATE partner SET credentials = $2, scheme = $3, updated_at = clock_timestamp() "
        "WHERE code = $1",
        code,
        keys_of(conn).seal_credentials(code, credentials),
        scheme,
    )


async def missing_partner_codes(conn: asyncpg.Connection, codes: list[str]) -> list[str]:
    """Which of these partner codes are not in the registry."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::text[]) x "
        "WHERE NOT EXISTS (SELECT 1 FROM partner WHERE code = x)",
        codes,
    )
    return [str(r["x"]) for r in rows]


async def user_partner_code(conn: asyncpg.Connection, user_id: int) -> str | None:
    """The partner a (partner) user belongs to, upper-cased."""
    value = await conn.fetchval("SELECT upper(partner_code) FROM app_user WHERE id = $1", user_id)
    return str(value) if value else None


# ---------------------------------------------------------------- the reach of a partner


def in_reach(account: str, partner: str) -> str:
    """The reach rule, as an SQL condition: the payment account `account` (a table alias) is at one
    of the BINs of the partner whose code is `partner` (an SQL expression), or tagged with its code.

    A partner (its users, API keys, signed events and report imports) creates, changes and sees
    onboardings only of accounts within its reach; every partner path filters with this condition
    and nothing else (docs/partners.md).
    """
    return (
        f"({account}.partner_code = {partner} OR {account}.bin = ANY ("
        f"SELECT unnest(reach_partner.bins) FROM partner reach_partner "
        f"WHERE reach_partner.code = {partner}))"
    )


def _stall_in_reach(stall: str, partner: str) -> str:
    """SQL condition: the stall shows an active account within the partner's reach."""
    return (
        f"EXISTS (SELECT 1 FROM payment_account reach_account "
        f"WHERE reach_account.stall_id = {stall} AND reach_account.active "
        f"AND {in_reach('reach_account', partner)})"
    )


# ---------------------------------------------------------------- accounts and stalls


@dataclass(frozen=True)
class Account:
    id: int
    stall_id: int
    market_id: int
    bin: str
    account_number: str
    account_name: str | None
    partner_code: str | None
    active: bool


def _opened(row: asyncpg.Record, keys: Keys) -> dict[str, Any]:
    """A row with its sealed account number opened (core/crypto.py)."""
    return dict(row) | {"account_number": keys.open_or_none(row["account_number"])}


_ACCOUNT = """
SELECT a.id, a.stall_id, s.market_id, a.bin, a.account_number, a.account_name, a.partner_code,
       a.active
FROM payment_account a JOIN stall s ON s.id = a.stall_id
"""


async def get_account(conn: asyncpg.Connection, account_id: int) -> Account | None:
    """One payment account with its stall's market."""
    row = await conn.fetchrow(_ACCOUNT + " WHERE a.id = $1", account_id)
    return Account(**_opened(row, keys_of(conn))) if row else None


async def accounts_by_number(
    conn: asyncpg.Connection,
    *,
    account_number: str,
    bin: str | None = None,
    stall_id: int | None = None,
    within_reach_of: str | None = None,
) -> list[Account]:
    """Active accounts with this number (optionally this BIN and stall, within a partner's reach)."""
    rows = await conn.fetch(
        _ACCOUNT
        + """ WHERE a.account_number = $1 AND a.active
              AND ($2::text IS NULL OR a.bin = $2) AND ($3::bigint IS NULL OR a.stall_id = $3)
              AND ($4::text IS NULL OR """
        + in_reach("a", "$4")
        + """)
            ORDER BY a.id""",
        keys_of(conn).seal(account_number),
        bin,
        stall_id,
        within_reach_of,
    )
    return [Account(**_opened(r, keys_of(conn))) for r in rows]


async def accounts_by_numbers(
    conn: asyncpg.Connection, numbers: list[str], *, within_reach_of: str
) -> list[Account]:
    """Active accounts with any of these numbers, within the partner's reach."""
    rows = await conn.fetch(
        _ACCOUNT
        + " WHERE a.account_number = any($1::text[]) AND a.active AND "
        + in_reach("a", "$2")
        + " ORDER BY a.id",
        keys_of(conn).seal_all(numbers),
        within_reach_of,
    )
    return [Account(**_opened(r, keys_of(conn))) for r in rows]


async def account_in_reach(
    conn: asyncpg.Connection, *, account_id: int, stall_id: int, partner_code: str
) -> Account | None:
    """The stall's account with this id, if within the partner's reach (active or not)."""
    row = await conn.fetchrow(
        _ACCOUNT + " WHERE a.id = $1 AND a.stall_id = $2 AND " + in_reach("a", "$3"),
        account_id,
        stall_id,
        partner_code,
    )
    return Account(**_opened(row, keys_of(conn))) if row else None


async def stall_market_in_reach(
    conn: asyncpg.Connection, *, stall_id: int, partner_code: str
) -> int | None:
    """The market of a stall that shows an account within the partner's reach (active or not)."""
    value = await conn.fetchval(
        "SELECT s.market_id FROM stall s WHERE s.id = $1 AND EXISTS ("
        "SELECT 1 FROM payment_account a WHERE a.stall_id = s.id AND " + in_reach("a", "$2") + ")",
        stall_id,
        partner_code,
    )
    return int(value) if value is not None else None


@dataclass(frozen=True)
class Candidate:
    """A stall's account ranked for a partner.

    0 onboarded by it, 1 tagged with its code, 2 at one of its BINs, 3 anything else.
    """

    account_id: int
    stall_id: int
    rank: int


async def stall_candidates(
    conn: asyncpg.Connection, *, stall_ids: list[int], partner_code: str, within_reach: bool
) -> list[Candidate]:
    """Active accounts of these stalls (only those within the partner's reach when asked), ranked
    by how surely they belong to the partner."""
    rows = await conn.fetch(
        """SELECT a.id AS account_id, a.stall_id,
                  CASE WHEN EXISTS (SELECT 1 FROM onboarding o
                                    WHERE o.payment_account_id = a.id AND o.partner_code = $2)
                       THEN 0
                       WHEN a.partner_code = $2 THEN 1
                       WHEN a.bin = any(coalesce((SELECT bins FROM partner WHERE code = $2), '{}'))
                       THEN 2
                       ELSE 3 END AS rank
           FROM payment_account a
           WHERE a.stall_id = any($1::bigint[]) AND a.active
             AND (NOT $3 OR """
        + in_reach("a", "$2")
        + """)
           ORDER BY a.stall_id, a.position, a.id""",
        stall_ids,
        partner_code,
        within_reach,
    )
    return [Candidate(**dict(r)) for r in rows]


async def stall_market_id(conn: asyncpg.Connection, stall_id: int) -> int | None:
    """The market of a stall, or None."""
    value = await conn.fetchval("SELECT market_id FROM stall WHERE id = $1", stall_id)
    return int(value) if value is not None else None


@dataclass(frozen=True)
class MarketName:
    id: int
    name: str


async def all_markets(conn: asyncpg.Connection) -> list[MarketName]:
    """Every market's id and name."""
    rows = await conn.fetch("SELECT id, name FROM market ORDER BY id")
    return [MarketName(**dict(r)) for r in rows]


@dataclass(frozen=True)
class StallRef:
    id: int
    market_id: int
    code_key: str
    phone_e164: str | None


async def stalls_by_codes(
    conn: asyncpg.Connection, pairs: list[tuple[int, str]], *, within_reach_of: str
) -> list[StallRef]:
    """Stalls for (market id, code key) pairs that show an active account within the partner's
    reach."""
    if not pairs:
        return []
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.code_key, h.phone_e164
           FROM unnest($1::bigint[], $2::text[]) AS p(market_id, code_key)
           JOIN stall s ON s.market_id = p.market_id AND s.code_key = p.code_key
           LEFT JOIN stallholder h ON h.id = s.holder_id
           WHERE """
        + _stall_in_reach("s.id", "$3"),
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        within_reach_of,
    )
    return [StallRef(**dict(r)) for r in rows]


async def stalls_by_phones(
    conn: asyncpg.Connection, phones: list[str], *, within_reach_of: str
) -> list[StallRef]:
    """Active stalls whose holder has one of these phone numbers and that show an active account
    within the partner's reach."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.code_key, h.phone_e164
           FROM stall s JOIN stallholder h ON h.id = s.holder_id
           WHERE h.phone_e164 = any($1::text[]) AND s.status = 'active' AND """
        + _stall_in_reach("s.id", "$2")
        + """
           ORDER BY s.id""",
        phones,
        within_reach_of,
    )
    return [StallRef(**dict(r)) for r in rows]


# ---------------------------------------------------------------- onboardings


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
# partner_code, position): for each account naming a partner, the onboarding, the first line of
# its status history and its audit entry. A registration joins this part to its own statement; a
# single onboarding (create_onboarding) runs it on a one-row `account`.
NEW_ONBOARDINGS = """
onboarding_row AS (
    INSERT INTO onboarding (payment_account_id, partner_code, channel, status, onboarded_by,
                            staff_name)
    SELECT id, partner_code, $onboarding_channel, $onboarding_status, $actor_id,
           $onboarding_staff_name
    FROM account
    WHERE partner_code IS NOT NULL
    ORDER BY position
    ON CONFLICT ON CONSTRAINT onboarding_account_partner_key DO NOTHING
    RETURNING id, payment_account_id, partner_code, status, channel
), onboarding_history AS (
    INSERT INTO onboarding_status (onboarding_id, from_status, to_status, actor_id, source,
                                   effective_on, ref)
    SELECT id, NULL, status, $actor_id, $onboarding_source, $onboarding_effective_on,
           $onboarding_ref
    FROM onboarding_row ORDER BY id
    RETURNING 1
), onboarding_audit AS (
    INSERT INTO audit_log (actor_id, action, entity, entity_id, after)
    SELECT $actor_id, 'create', 'onboarding', id::text,
           jsonb_build_object('payment_account_id', payment_account_id,
                              'partner_code', partner_code, 'channel', channel, 'status', status,
                              'source', $onboarding_source::text, 'ref', $onboarding_ref::text)
    FROM onboarding_row ORDER BY id
    RETURNING 1
)"""

_CREATE_ONBOARDING = sql.compose(
    """WITH account AS (SELECT $account_id::bigint AS id, $partner_code::text AS partner_code,
                                0 AS position), """
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


# ---------------------------------------------------------------- partner events and payments


@dataclass(frozen=True)
class StoredEvent:
    id: int
    fingerprint: bytes
    result: str | None


async def claim_event(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    external_id: str,
    type: str,
    payload: dict[str, Any],
    fingerprint: bytes,
    body_sha256: bytes,
) -> int | None:
    """Record a partner message; None when (partner, id) was already received.

    A concurrent claim of the same id waits on the unique index until the first transaction ends.
    """
    value = await conn.fetchval(
        """INSERT INTO partner_event (partner_code, external_id, type, payload, fingerprint,
                                      body_sha256)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT ON CONSTRAINT partner_event_partner_external_key DO NOTHING
           RETURNING id""",
        partner_code,
        external_id,
        type,
        keys_of(conn).seal_numbers_in(payload),
        fingerprint,
        body_sha256,
    )
    return int(value) if value is not None else None


async def stored_event(
    conn: asyncpg.Connection, *, partner_code: str, external_id: str
) -> StoredEvent | None:
    """The earlier message with this (partner, id)."""
    row = await conn.fetchrow(
        "SELECT id, fingerprint, result FROM partner_event "
        "WHERE partner_code = $1 AND external_id = $2",
        partner_code,
        external_id,
    )
    return StoredEvent(**dict(row)) if row else None


async def finish_event(
    conn: asyncpg.Connection, *, event_id: int, result: str, payment_account_id: int | None
) -> None:
    """Mark a message processed with its outcome."""
    await conn.execute(
        "UPDATE partner_event SET processed_at = clock_timestamp(), result = $2, "
        "payment_account_id = $3 "
        "WHERE id = $1",
        event_id,
        result,
        payment_account_id,
    )


async def insert_payment(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    external_id: str,
    payment_account_id: int | None,
    stall_id: int | None,
    amount: int,
    occurred_at: datetime,
    account_number: str | None,
    reference: str | None,
) -> int | None:
    """Record money received (matched when the stall is known); None if already recorded."""
    value = await conn.fetchval(
        """INSERT INTO payment_event (partner_code, external_id, payment_account_id, stall_id,
                                      amount,
                                      occurred_at, matched, account_number, reference)
           VALUES ($1, $2, $3, $4, $5, $6, $4::bigint IS NOT NULL, $7, $8)
           ON CONFLICT ON CONSTRAINT payment_event_partner_external_key DO NOTHING
           RETURNING id""",
        partner_code,
        external_id,
        payment_account_id,
        stall_id,
        amount,
        occurred_at,
        keys_of(conn).seal_or_none(account_number),
        reference,
    )
    return int(value) if value is not None else None


@dataclass(frozen=True)
class PaymentRow:
    id: int
    partner_code: str
    external_id: str
    payment_account_id: int | None
    stall_id: int | None
    amount: int
    occurred_at: datetime
    matched: bool


async def payment_by_key(
    conn: asyncpg.Connection, *, partner_code: str, external_id: str
) -> PaymentRow | None:
    """The recorded payment with this partner transaction id."""
    row = await conn.fetchrow(
        """SELECT id, partner_code, external_id, payment_account_id, stall_id, amount, occurred_at,
                  matched
           FROM payment_event WHERE partner_code = $1 AND external_id = $2""",
        partner_code,
        external_id,
    )
    return PaymentRow(**dict(row)) if row else None


async def unmatched_payments(
    conn: asyncpg.Connection, *, partner_code: str, after_id: int | None, limit: int
) -> list[schemas.UnmatchedPayment]:
    """Verified payments no stall was found for, oldest first."""
    rows = await conn.fetch(
        """SELECT id, external_id, amount, occurred_at, received_at, account_number, reference
           FROM payment_event
           WHERE partner_code = $1 AND NOT matched AND ($2::bigint IS NULL OR id > $2)
           ORDER BY id LIMIT $3""",
        partner_code,
        after_id,
        limit,
    )
    return [schemas.UnmatchedPayment(**_opened(r, keys_of(conn))) for r in rows]


# ---------------------------------------------------------------- partner views: stats and accounts


async def partner_stats(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    market_ids: list[int] | None,
    window_days: int,
    within_reach: bool,
) -> list[schemas.MarketStats]:
    """Per market: the partner's onboardings by status (only of accounts within its reach when
    asked), and accounts paid within the window."""
    rows = await conn.fetch(
        """SELECT s.market_id, m.name AS market_name,
                  count(*) FILTER (WHERE o.status <> 'removed') AS onboarded,
                  count(*) FILTER (WHERE o.status = 'pending') AS pending,
                  count(*) FILTER (WHERE o.status = 'active') AS active,
                  count(*) FILTER (WHERE o.status = 'suspended') AS suspended,
                  count(*) FILTER (WHERE o.status = 'removed') AS removed,
                  count(*) FILTER (WHERE o.status <> 'removed' AND EXISTS (
                      SELECT 1 FROM payment_event pe
                      WHERE pe.payment_account_id = o.payment_account_id
                        AND pe.occurred_at >= clock_timestamp() - make_interval(days => $3)))
                      AS receiving
           FROM onboarding o
           JOIN payment_account a ON a.id = o.payment_account_id
           JOIN stall s ON s.id = a.stall_id
           JOIN market m ON m.id = s.market_id
           WHERE o.partner_code = $1 AND ($2::bigint[] IS NULL OR s.market_id = any($2))
             AND (NOT $4 OR """
        + in_reach("a", "$1")
        + """)
           GROUP BY s.market_id, m.name
           ORDER BY m.name, s.market_id""",
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
) -> list[schemas.PartnerAccount]:
    """Accounts the partner onboarded (only those within its reach when asked), or whose holder
    opted in to sharing with it (consent)."""
    rows = await conn.fetch(
        """SELECT a.id AS payment_account_id, a.stall_id, s.market_id, m.name AS market_name,
                  s.stall_code,
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
           ORDER BY a.id
           LIMIT $4""",
        partner_code,
        market_ids,
        after_id,
        limit,
        within_reach,
    )
    return [schemas.PartnerAccount(**_opened(r, keys_of(conn))) for r in rows]


# ---------------------------------------------------------------- imports


@dataclass(frozen=True)
class ImportRecord:
    id: int
    created_at: datetime


async def import_by_sha(
    conn: asyncpg.Connection, *, partner_code: str, sha256: bytes
) -> ImportRecord | None:
    """An earlier import of the same file for this partner."""
    row = await conn.fetchrow(
        "SELECT id, created_at FROM partner_import WHERE partner_code = $1 AND sha256 = $2",
        partner_code,
        sha256,
    )
    return ImportRecord(**dict(row)) if row else None


async def claim_import(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    sha256: bytes,
    filename: str | None,
    created_by: int,
) -> int | None:
    """Record an import of a file; None when this file was already imported for the partner."""
    value = await conn.fetchval(
        """INSERT INTO partner_import (partner_code, sha256, filename, created_by)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT ON CONSTRAINT partner_import_partner_sha256_key DO NOTHING RETURNING id""",
        partner_code,
        sha256,
        filename,
        created_by,
    )
    return int(value) if value is not None else None


async def finish_import(
    conn: asyncpg.Connection, *, import_id: int, summary: dict[str, Any]
) -> None:
    """Store what an import did."""
    await conn.execute("UPDATE partner_import SET summary = $2 WHERE id = $1", import_id, summary)


# ---------------------------------------------------------------- account-name check


@dataclass(frozen=True)
class NameCheckTarget:
    id: int
    bin: str
    account_number: str
    account_name: str | None


async def accounts_to_check(conn: asyncpg.Connection, *, stall_id: int) -> list[NameCheckTarget]:
    """A stall's accounts whose name was never checked against the bank."""
    rows = await conn.fetch(
        """SELECT id, bin, account_number, account_name FROM payment_account
           WHERE stall_id = $1 AND name_check IS NULL ORDER BY position, id""",
        stall_id,
    )
    return [NameCheckTarget(**_opened(r, keys_of(conn))) for r in rows]


async def set_name_check(
    conn: asyncpg.Connection, *, account_id: int, check: str, bank_account_name: str | None
) -> None:
    """Store the outcome of an account-name check."""
    await conn.execute(
        "UPDATE payment_account SET name_check = $2, bank_account_name = $3, "
        "name_checked_at = clock_timestamp() "
        "WHERE id = $1",
        account_id,
        check,
        bank_account_name,
    )


async def unprocessed_event_count(conn: asyncpg.Connection, *, limit_s: float) -> int | None:
    """Partner messages received but not processed yet (None before the partners migration)."""
    exists = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM information_schema.columns
                          WHERE table_schema = current_schema() AND table_name = 'partner_event'
                            AND column_name = 'processed_at')""",
        timeout=limit_s,
    )
    if not exists:
        return None
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM partner_event WHERE processed_at IS NULL", timeout=limit_s
        )
    )
