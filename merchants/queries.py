"""All SQL of markets, stalls, stallholders, payment accounts and consent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core import sql
from core.crypto import Keys, keys_of
from coverage import counters
from merchants import schemas
from partners import onboarding
from privacy import consent
from qr import banks

# ---------------------------------------------------------------- markets

_MARKET_SELECT = """
SELECT m.id, m.name, m.province_code, m.ward_code, w.name AS ward_name,
       m.legacy_ward_code, m.legacy_ward_name, m.legacy_district_name,
       m.address, m.lat, m.lon, m.zones, m.retired_zones, m.version,
       m.archived_at IS NOT NULL AS archived, m.archived_at, m.archive_reason,
       (SELECT count(*) FROM stall s WHERE s.market_id = m.id AND s.status = 'active') AS stall_count
FROM market m
LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
"""


async def insert_market(conn: asyncpg.Connection, m: schemas.MarketCreate) -> int:
    """Create a market; returns its id."""
    return int(
        await conn.fetchval(
            """INSERT INTO market (name, province_code, ward_code, legacy_ward_code, legacy_ward_name,
                                   legacy_district_name, address, lat, lon, zones)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
            m.name,
            m.province_code,
            m.ward_code,
            m.legacy_ward_code,
            m.legacy_ward_name,
            m.legacy_district_name,
            m.address,
            m.lat,
            m.lon,
            m.zones,
        )
    )


async def get_market(
    conn: asyncpg.Connection, market_id: int, *, for_update: bool = False
) -> schemas.Market | None:
    """One market with its active stall count; for_update locks its row (edits, archive)."""
    row = await conn.fetchrow(
        _MARKET_SELECT + " WHERE m.id = $1" + (" FOR UPDATE OF m" if for_update else ""), market_id
    )
    return schemas.Market(**dict(row)) if row else None


async def list_markets(
    conn: asyncpg.Connection, ids: list[int] | None = None, *, include_archived: bool = False
) -> list[schemas.Market]:
    """Markets (all, or those with the given ids) by name; archived ones only when asked for."""
    rows = await conn.fetch(
        _MARKET_SELECT
        + """ WHERE ($1::bigint[] IS NULL OR m.id = any($1::bigint[]))
                AND ($2 OR m.archived_at IS NULL)
              ORDER BY m.name, m.id""",
        ids,
        include_archived,
    )
    return [schemas.Market(**dict(r)) for r in rows]


async def update_market(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    name: str,
    address: str | None,
    ward_code: str | None,
    lat: float | None,
    lon: float | None,
    zones: list[str],
    retired_zones: list[str],
) -> None:
    """Write a market's editable fields and bump its version."""
    await conn.execute(
        """UPDATE market SET name = $2, address = $3, ward_code = $4, lat = $5, lon = $6,
                  zones = $7, retired_zones = $8, version = version + 1,
                  updated_at = clock_timestamp()
           WHERE id = $1""",
        market_id,
        name,
        address,
        ward_code,
        lat,
        lon,
        zones,
        retired_zones,
    )


async def set_market_archived(
    conn: asyncpg.Connection, *, market_id: int, archived: bool, user_id: int, reason: str
) -> None:
    """Archive a market (who, when, why) or bring it back (the last reason is kept in the audit)."""
    await conn.execute(
        """UPDATE market SET archived_at = CASE WHEN $2 THEN clock_timestamp() END,
                  archived_by = CASE WHEN $2 THEN $3::bigint END,
                  archive_reason = CASE WHEN $2 THEN $4::text END,
                  version = version + 1, updated_at = clock_timestamp()
           WHERE id = $1""",
        market_id,
        archived,
        user_id,
        reason,
    )


@dataclass(frozen=True)
class MarketZones:
    """What decides which zones a stall of the market may be put in."""

    market_id: int
    zones: list[str]
    retired_zones: list[str]
    archived: bool


async def market_zones(
    conn: asyncpg.Connection, market_id: int, *, lock: bool = False
) -> MarketZones | None:
    """A market's zones; lock=True reads it FOR KEY SHARE (see merchants.markets: a stall moved
    to a zone waits for a market edit in progress, and keeps the edit waiting until it commits)."""
    row = await conn.fetchrow(
        """SELECT id AS market_id, zones, retired_zones, archived_at IS NOT NULL AS archived
           FROM market WHERE id = $1"""
        + (" FOR KEY SHARE" if lock else ""),
        market_id,
    )
    return MarketZones(**dict(row)) if row else None


async def stall_zones(conn: asyncpg.Connection, market_id: int) -> list[str]:
    """The distinct zones the market's stalls are in."""
    rows = await conn.fetch(
        "SELECT DISTINCT zone FROM stall WHERE market_id = $1 AND zone IS NOT NULL", market_id
    )
    return [r["zone"] for r in rows]


async def rename_stall_zone(
    conn: asyncpg.Connection, *, market_id: int, old: list[str], new: str
) -> int:
    """Move the market's stalls in zones `old` to zone `new` (each stall's version moves too)."""
    result = await conn.execute(
        """UPDATE stall SET zone = $3, version = version + 1, updated_at = clock_timestamp()
           WHERE market_id = $1 AND zone = any($2::text[])""",
        market_id,
        old,
        new,
    )
    return int(result.split()[-1])


async def market_exists(conn: asyncpg.Connection, market_id: int) -> bool:
    """Whether a market exists."""
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM market WHERE id = $1)", market_id)
    )


async def count_markets(conn: asyncpg.Connection) -> int:
    """How many markets exist."""
    return int(await conn.fetchval("SELECT count(*) FROM market"))


# ---------------------------------------------------------------- stalls


async def insert_account(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    account: schemas.PaymentAccountIn,
    created_by: int,
) -> int:
    """Add a payment account to a stall (position = next); raises on a duplicate account."""
    return int(
        await conn.fetchval(
            """INSERT INTO payment_account (stall_id, bin, account_number, account_name, service,
                                            partner_code, position, created_by, reference)
               VALUES ($1, $2, $3, $4, $5, $6,
                       (SELECT coalesce(max(position) + 1, 0) FROM payment_account WHERE stall_id = $1),
                       $7, $8)
               RETURNING id""",
            stall_id,
            account.bin,
            keys_of(conn).seal(account.account_number),
            account.account_name,
            account.service,
            account.partner_code,
            created_by,
            account.reference,
        )
    )


async def correct_account(
    conn: asyncpg.Connection, *, account_id: int, account: schemas.PaymentAccountIn
) -> None:
    """Write a corrected account (number sealed); its earlier name check no longer holds."""
    await conn.execute(
        """UPDATE payment_account SET bin = $2, account_number = $3, account_name = $4,
                  reference = $5, name_check = NULL, name_checked_at = NULL,
                  bank_account_name = NULL
           WHERE id = $1""",
        account_id,
        account.bin,
        keys_of(conn).seal(account.account_number),
        account.account_name,
        account.reference,
    )


async def deactivate_account(conn: asyncpg.Connection, *, account_id: int) -> None:
    """Stop showing an account on the stall (the row stays)."""
    await conn.execute("UPDATE payment_account SET active = false WHERE id = $1", account_id)


@dataclass(frozen=True)
class NewStall:
    """A validated registration, as the registration statement takes it."""

    user_id: int
    idempotency_key: str
    request_hash: bytes
    market_id: int
    stall_code: str
    code_key: str
    code_sort: str
    zone: str | None
    goods: str | None
    location: schemas.Location | None
    search_text: str
    full_name: str
    phone: str | None
    cccd_hash: bytes | None
    cccd_last4: str | None
    check_duplicate: bool  # look for an active stall of this market with the same phone
    accounts: list[schemas.PaymentAccountIn]
    name_check: str | None  # the account-name check's outcome when it is known up front
    purposes: list[str]
    notice_version: str
    # The register audit entry as entered, personal data masked (merchants.stalls.entered_view);
    # the statement adds the ids and times the database gives.
    audit_entered: dict[str, Any]


@dataclass(frozen=True)
class Registered:
    """What register_stall did: the checks' outcomes and, when they passed, the new stall."""

    known: bool  # the Idempotency-Key was used before: nothing was written (replay)
    claimed: bool  # the key was claimed and the stall written (False and not `known`: see below)
    market_found: bool
    market_archived: bool
    zone_problem: str | None  # unknown_zone | zone_retired
    missing_partners: list[str]
    duplicate_of: int | None
    stall: schemas.Stall | None


# The whole registration is one statement: one round trip, atomic on its own (no BEGIN/COMMIT).
# The stall's own rows come first: a key used before (`known`) writes nothing (replay); else the
# checks run, and only when every one passes is the Idempotency-Key claimed (with the id the stall
# will get, so the key needs no second write) and the holder, the stall and its accounts written.
# A concurrent claim of the same key waits on the key's primary key until the first statement
# ends, then finds it taken (not claimed, not known: replay). The other packages' rows follow,
# each written by that package's own SQL part (core.sql): the accounts' onboardings (partners),
# the consents (privacy), and the stall's coverage row and counters with the rule lock (coverage:
# stall rows, then the rule lock, then counter rows). The register audit entry, last, shows the
# stall as written (`$audit_entered`, masked by the caller, with the ids the database gave).
# Each part reads the rows earlier entries returned, which also fixes the order. A taken stall
# code fails the statement (stall_market_id_code_key) and nothing of it stays.
_REGISTER_OWN = """
WITH new_id AS (
    SELECT nextval(pg_get_serial_sequence('stall', 'id')) AS id
), market_state AS (
    -- Locked against a concurrent market edit (which locks it FOR UPDATE first): the zones and
    -- the archive state checked here are the ones in force when the stall is written.
    SELECT zones, retired_zones, archived_at FROM market WHERE id = $market_id FOR KEY SHARE
), checks AS (
    SELECT EXISTS (SELECT 1 FROM idempotency_key
                   WHERE user_id = $actor_id AND key = $idempotency_key) AS known,
           EXISTS (SELECT 1 FROM market_state) AS market_found,
           coalesce((SELECT archived_at IS NOT NULL FROM market_state), false) AS market_archived,
           (SELECT CASE WHEN $zone::text IS NULL OR $zone = any(zones)
                             OR cardinality(zones) + cardinality(retired_zones) = 0 THEN NULL
                        WHEN $zone = any(retired_zones) THEN 'zone_retired'
                        ELSE 'unknown_zone' END
            FROM market_state) AS zone_problem,
           ARRAY(SELECT DISTINCT x FROM unnest($partner_codes::text[]) x
                 WHERE x IS NOT NULL AND NOT EXISTS (SELECT 1 FROM partner WHERE code = x))
               AS missing_partners,
           CASE WHEN $check_duplicate AND $phone::text IS NOT NULL THEN
               -- From the phone (near unique) to its stalls, whatever the statistics say: a
               -- generic plan must not walk every stall of a large market.
               (SELECT min(s.id) FROM stall s
                WHERE s.holder_id = ANY (ARRAY(SELECT id FROM stallholder WHERE phone_e164 = $phone))
                  AND s.market_id = $market_id AND s.status = 'active')
           END AS duplicate_of
), claim AS (
    INSERT INTO idempotency_key (user_id, key, request_hash, resource_id, status_code)
    SELECT $actor_id, $idempotency_key, $request_hash, new_id.id, 201 FROM new_id, checks
    WHERE NOT checks.known AND checks.market_found AND NOT checks.market_archived
      AND checks.zone_problem IS NULL AND cardinality(checks.missing_partners) = 0
      AND checks.duplicate_of IS NULL
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING resource_id
), holder AS (
    INSERT INTO stallholder (full_name, phone_e164, cccd_hash, cccd_last4)
    SELECT $full_name, $phone, $cccd_hash, $cccd_last4 FROM claim
    RETURNING id, full_name, phone_e164, cccd_last4, erased_at
), new_stall AS (
    INSERT INTO stall (id, market_id, stall_code, code_key, code_sort, zone, goods, holder_id,
                       lat, lon, accuracy_m, search_text, created_by)
    OVERRIDING SYSTEM VALUE
    SELECT claim.resource_id, $market_id, $stall_code, $code_key, $code_sort, $zone, $goods,
           holder.id, $lat, $lon, $accuracy_m, $search_text, $actor_id
    FROM holder, claim
    RETURNING id, market_id, stall_code, zone, goods, status, version, lat, lon, accuracy_m,
              created_at, updated_at
), account AS (
    INSERT INTO payment_account (stall_id, bin, account_number, account_name, service,
                                 partner_code, position, created_by, reference, name_check,
                                 name_checked_at)
    SELECT new_stall.id, a.bin, a.number, a.name, a.service, a.partner_code, a.n - 1, $actor_id,
           a.reference, $name_check, CASE WHEN $name_check::text IS NOT NULL THEN clock_timestamp() END
    FROM new_stall,
         unnest($bins::text[], $account_numbers::text[], $account_names::text[],
                $services::text[], $partner_codes::text[], $references::text[])
             WITH ORDINALITY AS a (bin, number, name, service, partner_code, reference, n)
    ORDER BY a.n
    RETURNING id, stall_id, bin, account_number, account_name, partner_code, service, active,
              reference, name_check, bank_account_name, position
)"""

# The register entry: what the caller made of the request ($audit_entered, personal data masked)
# with what the database gave (ids, times), after the counters (so its time is the last).
_REGISTER_ENTRY = """
entry AS (
    INSERT INTO audit_log (actor_id, action, entity, entity_id, after)
    SELECT $actor_id, 'register', 'stall', s.id::text,
           $audit_entered::jsonb
           || jsonb_build_object('id', s.id, 'created_at', s.created_at,
                                 'updated_at', s.updated_at)
           || jsonb_build_object(
                  'holder', ($audit_entered::jsonb -> 'holder') || jsonb_build_object('id', h.id),
                  'payment_accounts', coalesce(
                      (SELECT jsonb_agg(e.value || jsonb_build_object('id', a.id) ORDER BY e.n)
                       FROM jsonb_array_elements($audit_entered::jsonb -> 'payment_accounts')
                                WITH ORDINALITY AS e (value, n)
                       JOIN account a ON a.position = e.n - 1), '[]'::jsonb))
    FROM new_stall s, holder h
    WHERE (SELECT count(*) FROM market_row) >= 0
    RETURNING 1
)"""

_REGISTER_RESULT = """
SELECT c.known, c.market_found, c.market_archived, c.zone_problem, c.missing_partners,
       c.duplicate_of, (SELECT count(*) FROM claim) = 1 AS claimed,
       s.id, s.market_id, s.stall_code, s.zone, s.goods, s.status, s.version, s.lat, s.lon,
       s.accuracy_m, s.created_at, s.updated_at,
       h.id AS holder_id, h.full_name, h.phone_e164, h.cccd_last4, h.erased_at,
       a.accounts, (SELECT count(*) FROM entry) AS audited, """

_REGISTER_FROM = """
FROM checks c
LEFT JOIN new_stall s ON true
LEFT JOIN holder h ON true
CROSS JOIN (SELECT array_agg(ROW(id, bin, account_number, account_name, partner_code, service,
                                 active, reference, name_check, bank_account_name)
                             ORDER BY position, id) AS accounts
            FROM account) a
"""

_REGISTER_STALL = sql.compose(
    _REGISTER_OWN
    + ","
    + onboarding.registration_part()
    + ","
    + consent.registration_part()
    + ","
    + counters.registration_row_part(
        after="(SELECT count(*) FROM onboarding_history) + (SELECT count(*) FROM onboarding_audit)"
        " + (SELECT count(*) FROM consent_row)"
    )
    + ","
    + _REGISTER_ENTRY
    + _REGISTER_RESULT
    + counters.registration_row_check()
    + _REGISTER_FROM
)

_ACCOUNT_FIELDS = (
    "id", "bin", "account_number", "account_name", "partner_code", "service", "active",
    "reference", "name_check", "bank_account_name",
)  # fmt: skip


async def register_stall(conn: asyncpg.Connection, new: NewStall) -> Registered:
    """Check and write a whole registration, its counters and its audit entry, in one statement
    (_REGISTER_STALL): atomic by itself, in the caller's transaction if there is one.

    Raises UniqueViolationError (stall_market_id_code_key, payment_account_stall_id_bin_account_key)
    and ForeignKeyViolationError (stall_market_id_fkey: the market went away meanwhile).
    """
    accounts = new.accounts
    location = new.location
    values: dict[str, object] = {
        "actor_id": new.user_id,
        "idempotency_key": new.idempotency_key,
        "request_hash": new.request_hash,
        "market_id": new.market_id,
        "stall_code": new.stall_code,
        "code_key": new.code_key,
        "code_sort": new.code_sort,
        "zone": new.zone,
        "goods": new.goods,
        "search_text": new.search_text,
        "full_name": new.full_name,
        "phone": new.phone,
        "cccd_hash": new.cccd_hash,
        "cccd_last4": new.cccd_last4,
        "check_duplicate": new.check_duplicate,
        "bins": [a.bin for a in accounts],
        "account_numbers": keys_of(conn).seal_all(a.account_number for a in accounts),
        "account_names": [a.account_name for a in accounts],
        "partner_codes": [a.partner_code for a in accounts],
        "services": [a.service for a in accounts],
        "references": [a.reference for a in accounts],
        "name_check": new.name_check,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
        "accuracy_m": location.accuracy_m if location else None,
        "consent_purposes": new.purposes,
        "consent_notice_version": new.notice_version,
        "consent_channel": "tablet",
        "audit_entered": new.audit_entered,
        **onboarding.registration_values(),
        **counters.registration_row_values(),
    }
    row = await conn.fetchrow(_REGISTER_STALL.text, *_REGISTER_STALL.args(values))
    assert row is not None
    stall = None
    if row["id"] is not None:
        assert counters.registration_counted(row) and row["audited"] == 1
        account_rows = [dict(zip(_ACCOUNT_FIELDS, a, strict=True)) for a in row["accounts"] or []]
        stall = _stall(row, account_rows, keys_of(conn))
    return Registered(
        known=row["known"],
        claimed=row["claimed"],
        market_found=row["market_found"],
        market_archived=row["market_archived"],
        zone_problem=row["zone_problem"],
        missing_partners=list(row["missing_partners"]),
        duplicate_of=row["duplicate_of"],
        stall=stall,
    )


async def stall_id_by_code(conn: asyncpg.Connection, market_id: int, code_key: str) -> int | None:
    """The stall with this code in this market."""
    value = await conn.fetchval(
        "SELECT id FROM stall WHERE market_id = $1 AND code_key = $2", market_id, code_key
    )
    return int(value) if value is not None else None


_STALL_SELECT = """
SELECT s.id, s.market_id, s.stall_code, s.zone, s.goods, s.status, s.version, s.lat, s.lon,
       s.accuracy_m, s.created_at, s.updated_at, s.holder_id,
       h.full_name, h.phone_e164, h.cccd_last4, h.erased_at,
       s.import_id, (SELECT i.list_date FROM stall_import i WHERE i.id = s.import_id)
           AS import_list_date
FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
"""


async def get_stall(
    conn: asyncpg.Connection, stall_id: int, *, for_update: bool = False
) -> schemas.Stall | None:
    """A stall with its holder and payment accounts."""
    row = await conn.fetchrow(
        _STALL_SELECT + " WHERE s.id = $1" + (" FOR UPDATE OF s" if for_update else ""), stall_id
    )
    if row is None:
        return None
    accounts = await conn.fetch(
        """SELECT id, bin, account_number, account_name, partner_code, service, active, reference,
                  name_check, bank_account_name
           FROM payment_account WHERE stall_id = $1 ORDER BY position, id""",
        stall_id,
    )
    return _stall(row, accounts, keys_of(conn))


def _bank_short(bin_: str) -> str | None:
    bank = banks.get(bin_)
    return bank.short_name if bank else None


def _stall(row: asyncpg.Record, accounts: Sequence[Mapping[str, Any]], keys: Keys) -> schemas.Stall:
    location = (
        schemas.Location(lat=row["lat"], lon=row["lon"], accuracy_m=row["accuracy_m"])
        if row["lat"] is not None and row["lon"] is not None
        else None
    )
    return schemas.Stall(
        id=row["id"],
        market_id=row["market_id"],
        stall_code=row["stall_code"],
        zone=row["zone"],
        goods=row["goods"],
        status=row["status"],
        version=row["version"],
        holder=schemas.Holder(
            id=row["holder_id"],
            full_name=row["full_name"],
            phone=row["phone_e164"],
            cccd_last4=row["cccd_last4"],
            erased=row["erased_at"] is not None,
        ),
        payment_accounts=[
            schemas.PaymentAccount(
                bank_short_name=_bank_short(a["bin"]),
                **(dict(a) | {"account_number": keys.open(a["account_number"])}),
            )
            for a in accounts
        ],
        location=location,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        source=_source(row),
    )


def _source(row: asyncpg.Record) -> schemas.StallSource:
    """Registered on a tablet, or created by an import (rows that do not say: registered)."""
    import_id = row.get("import_id")
    if import_id is None:
        return schemas.StallSource(kind="registration")
    return schemas.StallSource(
        kind="import", import_id=import_id, list_date=row.get("import_list_date")
    )


@dataclass(frozen=True)
class StallListRow:
    id: int
    market_id: int
    stall_code: str
    code_sort: str
    zone: str | None
    goods: str | None
    status: str
    version: int
    holder_id: int | None
    erased: bool
    full_name: str | None
    phone_e164: str | None
    bins: list[str]


async def list_stalls(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    typed: str | None,
    compacted: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[StallListRow]:
    """A page of a market's stalls in natural stall-code order; with LIKE patterns, those whose
    search text matches either (core.text.search_keys)."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.stall_code, s.code_sort, s.zone, s.goods, s.status, s.version,
                  s.holder_id, h.erased_at IS NOT NULL AS erased, h.full_name, h.phone_e164,
                  coalesce((SELECT array_agg(a.bin ORDER BY a.position, a.id) FROM payment_account a
                            WHERE a.stall_id = s.id AND a.active), '{}') AS bins
           FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
           WHERE s.market_id = $1
             AND ($2::text IS NULL OR s.search_text LIKE $2 OR s.search_text LIKE $3::text)
             AND ($4::text IS NULL OR (s.code_sort, s.id) > ($4, $5::bigint))
           ORDER BY s.code_sort, s.id
           LIMIT $6""",
        market_id,
        typed,
        compacted,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [StallListRow(**dict(r)) for r in rows]


async def update_stall(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    stall_code: str,
    code_key: str,
    code_sort: str,
    zone: str | None,
    goods: str | None,
    status: str,
    location: schemas.Location | None,
    search_text: str,
) -> None:
    """Write a stall's editable fields and bump its version."""
    await conn.execute(
        """UPDATE stall SET stall_code = $2, code_key = $3, code_sort = $4, zone = $5, goods = $6,
                  status = $7, lat = $8, lon = $9, accuracy_m = $10, search_text = $11,
                  version = version + 1, updated_at = clock_timestamp()
           WHERE id = $1""",
        stall_id,
        stall_code,
        code_key,
        code_sort,
        zone,
        goods,
        status,
        location.lat if location else None,
        location.lon if location else None,
        location.accuracy_m if location else None,
        search_text,
    )


async def bump_stall_version(conn: asyncpg.Connection, stall_id: int) -> None:
    """Mark a stall changed (a child row was added)."""
    await conn.execute(
        "UPDATE stall SET version = version + 1, updated_at = clock_timestamp() WHERE id = $1",
        stall_id,
    )


async def update_holder(
    conn: asyncpg.Connection, *, holder_id: int, full_name: str | None, phone: str | None
) -> None:
    """Write a stallholder's name and phone."""
    await conn.execute(
        "UPDATE stallholder SET full_name = $2, phone_e164 = $3, updated_at = clock_timestamp() WHERE id = $1",
        holder_id,
        full_name,
        phone,
    )


async def table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the registry tables (tests use them to prove nothing changed)."""
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM market) AS market, (SELECT count(*) FROM stall) AS stall,
                  (SELECT count(*) FROM stallholder) AS stallholder,
                  (SELECT count(*) FROM payment_account) AS payment_account,
                  (SELECT count(*) FROM consent) AS consent,
                  (SELECT count(*) FROM idempotency_key) AS idempotency_key"""
    )
    return dict(row)


async def stall_updated_at(conn: asyncpg.Connection, stall_id: int) -> datetime | None:
    """When a stall last changed."""
    return await conn.fetchval("SELECT updated_at FROM stall WHERE id = $1", stall_id)


async def stall_market_id(conn: asyncpg.Connection, stall_id: int) -> int | None:
    """The market of a stall."""
    value = await conn.fetchval("SELECT market_id FROM stall WHERE id = $1", stall_id)
    return int(value) if value is not None else None


# ---------------------------------------------------------------- sealed account numbers

SEALED_CHECKS = ("payment_account_number_sealed_check", "payment_event_number_sealed_check")


async def sealed_checks_state(conn: asyncpg.Connection) -> bool | None:
    """True when both sealed-number checks are validated, False if not yet, None if absent."""
    return await conn.fetchval(
        "SELECT CASE WHEN count(*) = 2 THEN bool_and(convalidated) END FROM pg_constraint "
        "WHERE conname = any($1::text[])",
        list(SEALED_CHECKS),
    )


# Sealing a large database takes a while once: no statement timeout for it (the pool has one).
_SEALING_LIMIT_S = 6 * 3600


async def lock_sealing(conn: asyncpg.Connection) -> None:
    """One process seals at a time (workers start together and wait for the first); held until
    the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(727000006)", timeout=_SEALING_LIMIT_S)


async def unsealed_values(conn: asyncpg.Connection) -> dict[str, list[tuple[int, str]]]:
    """(id, value) of every stored text that still holds an account number in clear, by table."""
    found: dict[str, list[tuple[int, str]]] = {}
    # An erased account's number is exactly '~' and its id in hex (privacy.queries.scrub_accounts);
    # any other value, even one that starts with '~', was a number. Rows are locked, so an erasure
    # by a process still running the old version waits instead of being overwritten.
    for table, query in (
        ("payment_account", "SELECT id, account_number FROM payment_account "
                            "WHERE account_number !~ '^v1:' "
                            "AND account_number <> '~' || to_hex(id) FOR UPDATE"),
        ("payment_event", "SELECT id, account_number FROM payment_event "
                          "WHERE account_number !~ '^v1:' FOR UPDATE"),
        ("sign_print", "SELECT id, payload FROM sign_print "
                       "WHERE payload !~ '^v1:' AND payload <> '[erased]' FOR UPDATE"),
    ):  # fmt: skip
        found[table] = [(r[0], r[1]) for r in await conn.fetch(query, timeout=_SEALING_LIMIT_S)]
    return found


_STORE_SEALED = {
    table: f"""UPDATE {table} t SET {column} = v.sealed
               FROM unnest($1::bigint[], $2::text[]) AS v (id, sealed) WHERE t.id = v.id"""
    for table, column in (
        ("payment_account", "account_number"),
        ("payment_event", "account_number"),
        ("sign_print", "payload"),
    )
}


async def store_sealed(conn: asyncpg.Connection, table: str, rows: list[tuple[int, str]]) -> None:
    """Replace values by their sealed form (rows from unsealed_values, values sealed)."""
    await conn.execute(
        _STORE_SEALED[table], [r[0] for r in rows], [r[1] for r in rows], timeout=_SEALING_LIMIT_S
    )


async def unsealed_event_payloads(conn: asyncpg.Connection) -> list[tuple[int, dict]]:
    """Partner messages whose stored payload names an account number in clear."""
    rows = await conn.fetch(
        """SELECT id, payload FROM partner_event
           WHERE payload->>'account_number' !~ '^v1:'
              OR payload->'data'->>'account_number' !~ '^v1:'
           FOR UPDATE""",
        timeout=_SEALING_LIMIT_S,
    )
    return [(r["id"], r["payload"]) for r in rows]


async def store_event_payloads(conn: asyncpg.Connection, rows: list[tuple[int, dict]]) -> None:
    await conn.executemany(
        "UPDATE partner_event SET payload = $2 WHERE id = $1", rows, timeout=_SEALING_LIMIT_S
    )


async def validate_sealed_checks(conn: asyncpg.Connection) -> None:
    """Every row now satisfies the checks added NOT VALID by migration 0006."""
    await conn.execute(
        "ALTER TABLE payment_account VALIDATE CONSTRAINT payment_account_number_sealed_check; "
        "ALTER TABLE payment_event VALIDATE CONSTRAINT payment_event_number_sealed_check",
        timeout=_SEALING_LIMIT_S,
    )


# ---------------------------------------------------------------- demo data (core/demo.py)


# ---------------------------------------------------------------- signs


@dataclass(frozen=True)
class SignRow:
    stall_id: int
    stall_code: str
    zone: str | None
    goods: str | None
    holder_id: int | None
    holder_name: str | None
    market_name: str
    account_id: int
    bin: str
    account_number: str
    account_name: str | None
    service: str
    reference: str | None


_SIGN_ROW = """
SELECT s.id AS stall_id, s.stall_code, s.zone, s.goods, s.holder_id, h.full_name AS holder_name,
       m.name AS market_name, a.id AS account_id, a.bin, a.account_number, a.account_name,
       a.service, a.reference
FROM stall s
JOIN market m ON m.id = s.market_id
LEFT JOIN stallholder h ON h.id = s.holder_id
"""


async def market_sign_rows(
    conn: asyncpg.Connection, *, market_id: int, zone: str | None, only_unprinted: bool
) -> list[SignRow]:
    """The first active account of every active stall of a market whose holder consents to a sign,
    in natural stall-code order; only_unprinted: stalls without a confirmed print."""
    rows = await conn.fetch(
        _SIGN_ROW
        + """JOIN LATERAL (SELECT * FROM payment_account pa WHERE pa.stall_id = s.id AND pa.active
                         ORDER BY pa.position, pa.id LIMIT 1) a ON true
           WHERE s.market_id = $1 AND s.status = 'active'
             AND ($2::text IS NULL OR upper(s.zone) = upper($2))
             AND (NOT $3 OR NOT EXISTS (SELECT 1 FROM sign_print p WHERE p.stall_id = s.id))
             AND """
        + consent.consented_sql("s.holder_id", "'qr_sign'")
        + " ORDER BY s.code_sort, s.id",
        market_id,
        zone,
        only_unprinted,
    )
    return [
        SignRow(**(dict(r) | {"account_number": keys_of(conn).open(r["account_number"])}))
        for r in rows
    ]


async def record_prints(
    conn: asyncpg.Connection,
    *,
    prints: list[tuple[int, int, str]],
    fmt: str,
    user_id: int | None,
    job_id: int | None = None,
) -> None:
    """Record confirmed (stall_id, account_id, payload) prints; payloads (they hold the number)
    sealed."""
    await conn.executemany(
        """INSERT INTO sign_print (stall_id, payment_account_id, payload, format, printed_by, job_id)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(s, a, keys_of(conn).seal(p), fmt, user_id, job_id) for s, a, p in prints],
    )


async def market_name(conn: asyncpg.Connection, market_id: int) -> str | None:
    """A market's name."""
    return await conn.fetchval("SELECT name FROM market WHERE id = $1", market_id)


# ---------------------------------------------------------------- print jobs


@dataclass(frozen=True)
class PrintJobRow:
    id: int
    market_id: int
    zone: str | None
    size: str
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True)
class PrintJobStallRow:
    stall_id: int
    stall_code: str
    zone: str | None
    payment_account_id: int
    confirmed_at: datetime | None


async def insert_print_job(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    zone: str | None,
    size: str,
    user_id: int,
    signs: list[tuple[int, int, str]],
) -> int:
    """A print job with its (stall_id, account_id, payload) signs in print order; its id."""
    job_id = int(
        await conn.fetchval(
            """INSERT INTO print_job (market_id, zone, size, created_by) VALUES ($1, $2, $3, $4)
               RETURNING id""",
            market_id,
            zone,
            size,
            user_id,
        )
    )
    await conn.executemany(
        """INSERT INTO print_job_stall (job_id, stall_id, payment_account_id, position, payload)
           VALUES ($1, $2, $3, $4, $5)""",
        [(job_id, s, a, n, keys_of(conn).seal(p)) for n, (s, a, p) in enumerate(signs)],
    )
    return job_id


async def print_job(conn: asyncpg.Connection, job_id: int) -> PrintJobRow | None:
    """A print job."""
    row = await conn.fetchrow(
        "SELECT id, market_id, zone, size, created_by, created_at FROM print_job WHERE id = $1",
        job_id,
    )
    return PrintJobRow(**dict(row)) if row else None


async def print_job_stalls(conn: asyncpg.Connection, job_id: int) -> list[PrintJobStallRow]:
    """The signs of a print job in print order."""
    rows = await conn.fetch(
        """SELECT j.stall_id, s.stall_code, s.zone, j.payment_account_id, j.confirmed_at
           FROM print_job_stall j JOIN stall s ON s.id = j.stall_id
           WHERE j.job_id = $1 ORDER BY j.position""",
        job_id,
    )
    return [PrintJobStallRow(**dict(r)) for r in rows]


async def print_job_sign_rows(conn: asyncpg.Connection, job_id: int) -> list[tuple[str, SignRow]]:
    """(payload frozen in the job, sign data) of every sign of a job, in print order."""
    rows = await conn.fetch(
        "SELECT j.payload AS job_payload, "
        + _SIGN_ROW.strip().removeprefix("SELECT ")
        + """
           JOIN print_job_stall j ON j.stall_id = s.id
           JOIN payment_account a ON a.id = j.payment_account_id
           WHERE j.job_id = $1 ORDER BY j.position""",
        job_id,
    )
    keys = keys_of(conn)
    return [
        (
            keys.open(r["job_payload"]),
            SignRow(
                **(
                    {k: v for k, v in dict(r).items() if k != "job_payload"}
                    | {"account_number": keys.open(r["account_number"])}
                )
            ),
        )
        for r in rows
    ]


async def confirm_job_stalls(
    conn: asyncpg.Connection, *, job_id: int, stall_ids: list[int] | None, user_id: int
) -> list[tuple[int, int, str]]:
    """Mark signs of a job printed (all, or these stalls) unless already; (stall_id, account_id,
    payload) of those newly confirmed, in print order."""
    rows = await conn.fetch(
        """UPDATE print_job_stall SET confirmed_at = clock_timestamp(), confirmed_by = $3
           WHERE job_id = $1 AND confirmed_at IS NULL
             AND ($2::bigint[] IS NULL OR stall_id = any($2::bigint[]))
           RETURNING position, stall_id, payment_account_id, payload""",
        job_id,
        stall_ids,
        user_id,
    )
    keys = keys_of(conn)
    return [(r[1], r[2], keys.open(r[3])) for r in sorted(rows, key=lambda r: r[0])]


# ---------------------------------------------------------------- idempotency keys


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: bytes
    resource_id: int | None
    status_code: int | None


async def idempotency_record(
    conn: asyncpg.Connection, *, user_id: int, key: str
) -> IdempotencyRecord | None:
    """The stored outcome of an earlier request with this key."""
    row = await conn.fetchrow(
        "SELECT request_hash, resource_id, status_code FROM idempotency_key WHERE user_id = $1 AND key = $2",
        user_id,
        key,
    )
    return IdempotencyRecord(**dict(row)) if row else None


# ---------------------------------------------------------------- stall list imports

# Imports of one market wait for each other (the second then finds the first's stalls).
_IMPORT_LOCK = 727000012


async def lock_market_imports(conn: asyncpg.Connection, market_id: int) -> None:
    """Serialise the stall imports of a market until the transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1::int, ($2::bigint % 2147483647)::int)",
        _IMPORT_LOCK,
        market_id,
    )


@dataclass(frozen=True)
class ImportedAccount:
    id: int
    bin: str
    account_number: str  # sealed, as stored (sealing is deterministic: compare sealed values)
    account_name: str | None


@dataclass(frozen=True)
class ExistingStall:
    """A stall of the market an import row names by its code, and whether the import may edit it."""

    id: int
    code_key: str
    stall_code: str
    zone: str | None
    goods: str | None
    status: str
    version: int
    import_id: int | None
    holder_id: int | None
    full_name: str | None
    phone: str | None
    erased: bool
    consent_asked: bool  # the holder was asked for consent (any purpose, granted or withdrawn)
    worked_on: bool  # any stall audit entry other than an import's (edit, sign, check, ...)
    account: ImportedAccount | None  # the first active account
    accounts: int  # every account of the stall, active or not


async def stalls_by_code(
    conn: asyncpg.Connection, market_id: int, code_keys: list[str]
) -> list[ExistingStall]:
    """The market's stalls with these code keys (not locked: see lock_stall_versions)."""
    rows = await conn.fetch(
        """SELECT s.id, s.code_key, s.stall_code, s.zone, s.goods, s.status, s.version, s.import_id,
                  s.holder_id, h.full_name, h.phone_e164 AS phone,
                  h.erased_at IS NOT NULL AS erased, """
        + consent.asked_sql("s.holder_id")
        + """ AS consent_asked,
                  EXISTS (SELECT 1 FROM audit_log l
                          WHERE l.entity = 'stall' AND l.entity_id = s.id::text
                            AND l.action <> 'import') AS worked_on,
                  a.id AS account_id, a.bin, a.account_number, a.account_name,
                  (SELECT count(*) FROM payment_account x WHERE x.stall_id = s.id) AS accounts
           FROM stall s
           LEFT JOIN stallholder h ON h.id = s.holder_id
           LEFT JOIN LATERAL (SELECT id, bin, account_number, account_name FROM payment_account pa
                              WHERE pa.stall_id = s.id AND pa.active
                              ORDER BY pa.position, pa.id LIMIT 1) a ON true
           WHERE s.market_id = $1 AND s.code_key = any($2::text[])
           ORDER BY s.id""",
        market_id,
        code_keys,
    )
    return [
        ExistingStall(
            **{k: r[k] for k in ExistingStall.__dataclass_fields__ if k != "account"},
            account=ImportedAccount(
                r["account_id"], r["bin"], r["account_number"], r["account_name"]
            )
            if r["account_id"] is not None
            else None,
        )
        for r in rows
    ]


async def lock_stall_versions(conn: asyncpg.Connection, stall_ids: list[int]) -> dict[int, int]:
    """Lock these stalls (FOR UPDATE, in id order) and read their versions."""
    rows = await conn.fetch(
        "SELECT id, version FROM stall WHERE id = any($1::bigint[]) ORDER BY id FOR UPDATE",
        stall_ids,
    )
    return {r["id"]: r["version"] for r in rows}


async def active_stalls_by_phone(
    conn: asyncpg.Connection, market_id: int, phones: list[str]
) -> dict[str, list[tuple[int, str]]]:
    """(id, stall code) of the market's active stalls per holder phone (E.164), for the
    duplicate check."""
    rows = await conn.fetch(
        """SELECT h.phone_e164 AS phone, s.id, s.stall_code
           FROM stallholder h JOIN stall s ON s.holder_id = h.id
           WHERE h.phone_e164 = any($2::text[]) AND s.market_id = $1 AND s.status = 'active'
           ORDER BY s.id""",
        market_id,
        phones,
    )
    found: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        found.setdefault(r["phone"], []).append((r["id"], r["stall_code"]))
    return found


async def insert_stall_import(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    uploaded_by: int,
    filename: str | None,
    sha256: bytes,
    list_date: Any,
    counts: schemas.StallImportCounts,
) -> int:
    """Record an import (its source and row counts); its id."""
    return int(
        await conn.fetchval(
            """INSERT INTO stall_import (market_id, uploaded_by, filename, sha256, list_date,
                                         row_count, created_count, updated_count, unchanged_count,
                                         error_count)
               VALUES ($1, $2, $3, $4, $5, $6::int + $7::int + $8::int + $9::int, $6, $7, $8, $9)
               RETURNING id""",
            market_id,
            uploaded_by,
            filename,
            sha256,
            list_date,
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.error,
        )
    )


@dataclass(frozen=True)
class ImportedStall:
    """A validated import row that creates a stall (at most one account, which names no partner)."""

    stall_code: str
    code_key: str
    code_sort: str
    zone: str | None
    goods: str | None
    search_text: str
    full_name: str
    phone: str | None
    account: schemas.PaymentAccountIn | None


# The stalls of an import batch, in one statement: holders, stalls and accounts written from
# arrays (ids drawn first, so each row's holder, stall and account find each other), then the
# coverage rows with coverage's own part, exactly as a registration writes its stall's. There is
# no consent part: the stallholders have not been asked (a volunteer collects consent on a visit),
# and no onboarding part: a board's list does not say which partner set an account up.
_IMPORT_OWN = """
WITH input AS (
    SELECT * FROM unnest($stall_codes::text[], $code_keys::text[], $code_sorts::text[],
                         $zones::text[], $goods::text[], $search_texts::text[],
                         $full_names::text[], $phones::text[])
        WITH ORDINALITY AS r (stall_code, code_key, code_sort, zone, goods, search_text,
                              full_name, phone, n)
), ids AS MATERIALIZED (
    SELECT n, nextval(pg_get_serial_sequence('stallholder', 'id')) AS holder_id,
           nextval(pg_get_serial_sequence('stall', 'id')) AS stall_id
    FROM input
), holder AS (
    INSERT INTO stallholder (id, full_name, phone_e164)
    OVERRIDING SYSTEM VALUE
    SELECT ids.holder_id, input.full_name, input.phone
    FROM input JOIN ids USING (n)
    ORDER BY n
    RETURNING id
), new_stall AS (
    INSERT INTO stall (id, market_id, stall_code, code_key, code_sort, zone, goods, holder_id,
                       search_text, created_by, import_id)
    OVERRIDING SYSTEM VALUE
    SELECT ids.stall_id, $market_id, input.stall_code, input.code_key, input.code_sort,
           input.zone, input.goods, holder.id, input.search_text, $actor_id, $import_id
    FROM input JOIN ids USING (n) JOIN holder ON holder.id = ids.holder_id
    ORDER BY n
    RETURNING id, market_id, zone
), account AS (
    INSERT INTO payment_account (stall_id, bin, account_number, account_name, service,
                                 partner_code, position, created_by)
    SELECT new_stall.id, a.bin, a.number, a.name, 'account', NULL, 0, $actor_id
    FROM unnest($account_rows::bigint[], $bins::text[], $account_numbers::text[],
                $account_names::text[]) AS a (n, bin, number, name)
    JOIN ids USING (n) JOIN new_stall ON new_stall.id = ids.stall_id
    ORDER BY a.n
    RETURNING id, stall_id, partner_code, active, position
)"""

_IMPORT_STALLS = sql.compose(
    _IMPORT_OWN
    + ","
    + counters.batch_rows_part(after="(SELECT count(*) FROM account)")
    + """
SELECT ARRAY(SELECT ids.stall_id FROM ids JOIN new_stall ON new_stall.id = ids.stall_id
             ORDER BY ids.n) AS stall_ids,
       (SELECT count(*) FROM account) AS accounts,
       (SELECT count(*) FROM coverage_row WHERE cardinality(counted_partners) > 0) AS partnered,
       (SELECT count(*) FROM rule_lock) AS rule_locked"""
)


async def insert_imported_stalls(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    actor_id: int,
    import_id: int,
    stalls: Sequence[ImportedStall],
) -> list[int]:
    """Write a batch of new stalls (_IMPORT_STALLS), uncounted yet; their ids, in batch order.

    Runs inside the caller's transaction, which then adds them to the counters
    (finish_import_counted). Raises UniqueViolationError (stall_market_id_code_key) when a stall
    code was taken meanwhile.
    """
    with_account = [(n, s.account) for n, s in enumerate(stalls, 1) if s.account is not None]
    values: dict[str, object] = {
        "market_id": market_id,
        "actor_id": actor_id,
        "import_id": import_id,
        "stall_codes": [s.stall_code for s in stalls],
        "code_keys": [s.code_key for s in stalls],
        "code_sorts": [s.code_sort for s in stalls],
        "zones": [s.zone for s in stalls],
        "goods": [s.goods for s in stalls],
        "search_texts": [s.search_text for s in stalls],
        "full_names": [s.full_name for s in stalls],
        "phones": [s.phone for s in stalls],
        "account_rows": [n for n, _ in with_account],
        "bins": [a.bin for _, a in with_account],
        "account_numbers": keys_of(conn).seal_all(a.account_number for _, a in with_account),
        "account_names": [a.account_name for _, a in with_account],
        **counters.batch_rows_values(),
    }
    row = await conn.fetchrow(_IMPORT_STALLS.text, *_IMPORT_STALLS.args(values))
    assert row is not None
    ids = list(row["stall_ids"])
    assert len(ids) == len(stalls) and row["accounts"] == len(with_account)
    assert row["rule_locked"] == len(stalls) and row["partnered"] == 0
    return ids


# The end of an import that created stalls: they enter their market's counters at once (coverage's
# part, as a registration's stall does, with the sum of their levels), and the audit log gets one
# entry per stall created or updated and one for the import.
_COUNTERS_PART, _COUNTERS_RESULT = counters.batch_counters_part()
_FINISH_IMPORT = sql.compose(
    "WITH"
    + _COUNTERS_PART
    + """, entry AS (
    INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after)
    SELECT $actor_id, 'import', e.entity, e.entity_id, e.before, e.after
    FROM unnest($entities::text[], $entity_ids::text[], $befores::jsonb[], $afters::jsonb[])
        WITH ORDINALITY AS e (entity, entity_id, before, after, n)
    ORDER BY e.n
    RETURNING 1
)
SELECT (SELECT count(*) FROM entry) AS audited,"""
    + _COUNTERS_RESULT
)

_AUDIT_IMPORT = sql.compose(
    """INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after)
    SELECT $actor_id, 'import', e.entity, e.entity_id, e.before, e.after
    FROM unnest($entities::text[], $entity_ids::text[], $befores::jsonb[], $afters::jsonb[])
        WITH ORDINALITY AS e (entity, entity_id, before, after, n)
    ORDER BY e.n"""
)


@dataclass(frozen=True)
class AuditEntry:
    entity: str
    entity_id: int
    before: dict | None
    after: dict


async def finish_import(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    actor_id: int,
    created: int,
    entries: Sequence[AuditEntry],
) -> asyncpg.Record | None:
    """Add `created` new stalls to the market's counters (when any) and write the audit entries;
    the counters' row (None when nothing was created)."""
    values: dict[str, object] = {
        "actor_id": actor_id,
        "entities": [e.entity for e in entries],
        "entity_ids": [str(e.entity_id) for e in entries],
        "befores": [e.before for e in entries],
        "afters": [e.after for e in entries],
    }
    if not created:
        await conn.execute(_AUDIT_IMPORT.text, *_AUDIT_IMPORT.args(values))
        return None
    values |= counters.batch_counters_values(market_id=market_id, partners=[], stalls=created)
    row: asyncpg.Record | None = await conn.fetchrow(
        _FINISH_IMPORT.text, *_FINISH_IMPORT.args(values)
    )
    return row


@dataclass(frozen=True)
class ImportUpdate:
    """New values an import row brings to a stall it created (None: the field is not changed)."""

    stall_id: int
    holder_id: int | None
    zone: str | None
    goods: str | None
    full_name: str | None
    phone: str | None
    search_text: str
    account: schemas.PaymentAccountIn | None  # replaces the first active account, or is added
    account_id: int | None  # the account it replaces


_UPDATE_STALLS = """
UPDATE stall s SET zone = coalesce(v.zone, s.zone), goods = coalesce(v.goods, s.goods),
       search_text = v.search_text, version = s.version + 1, updated_at = clock_timestamp()
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v (id, zone, goods, search_text)
WHERE s.id = v.id"""

_UPDATE_HOLDERS = """
UPDATE stallholder h SET full_name = coalesce(v.full_name, h.full_name),
       phone_e164 = coalesce(v.phone, h.phone_e164), updated_at = clock_timestamp()
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v (id, full_name, phone)
WHERE h.id = v.id AND (v.full_name IS NOT NULL OR v.phone IS NOT NULL)"""

# A corrected account keeps its row (nothing refers to it yet: the stall has no sign, check or
# onboarding); its earlier name check no longer holds.
_CORRECT_ACCOUNTS = """
UPDATE payment_account a SET bin = v.bin, account_number = v.number,
       account_name = coalesce(v.name, a.account_name), name_check = NULL,
       name_checked_at = NULL, bank_account_name = NULL
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v (id, bin, number, name)
WHERE a.id = v.id"""

_ADD_ACCOUNTS = """
INSERT INTO payment_account (stall_id, bin, account_number, account_name, service, position,
                             created_by)
SELECT v.stall_id, v.bin, v.number, v.name, 'account',
       (SELECT coalesce(max(position) + 1, 0) FROM payment_account x WHERE x.stall_id = v.stall_id),
       $5
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v (stall_id, bin, number, name)"""


async def update_imported_stalls(
    conn: asyncpg.Connection, updates: Sequence[ImportUpdate], *, actor_id: int
) -> None:
    """Apply import rows to the stalls they created, set-based (one statement per table)."""
    if not updates:
        return
    keys = keys_of(conn)
    await conn.execute(
        _UPDATE_STALLS,
        [u.stall_id for u in updates],
        [u.zone for u in updates],
        [u.goods for u in updates],
        [u.search_text for u in updates],
    )
    holders = [u for u in updates if u.holder_id is not None]
    await conn.execute(
        _UPDATE_HOLDERS,
        [u.holder_id for u in holders],
        [u.full_name for u in holders],
        [u.phone for u in holders],
    )
    corrected = [u for u in updates if u.account is not None and u.account_id is not None]
    await conn.execute(
        _CORRECT_ACCOUNTS,
        [u.account_id for u in corrected],
        [u.account.bin for u in corrected if u.account],
        keys.seal_all(u.account.account_number for u in corrected if u.account),
        [u.account.account_name for u in corrected if u.account],
    )
    added = [u for u in updates if u.account is not None and u.account_id is None]
    await conn.execute(
        _ADD_ACCOUNTS,
        [u.stall_id for u in added],
        [u.account.bin for u in added if u.account],
        keys.seal_all(u.account.account_number for u in added if u.account),
        [u.account.account_name for u in added if u.account],
        actor_id,
    )
