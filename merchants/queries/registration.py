"""SQL of a registration: the one statement that checks and writes a stall, and the
Idempotency-Key records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from core import sql
from core.crypto import keys_of
from core.sessions import SessionCheck, still_valid_part
from coverage import counters
from merchants import schemas
from merchants.queries.stalls import _stall
from partners import onboarding
from privacy import consent


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
    # The stall's business licence number: only for a market that asks (licence_not_asked).
    licence_no: str | None = None
    # Look for an active stall of this market that receives payments on one of these accounts.
    check_shared_account: bool = False
    # A session from a worker's memory (core.sessions), checked by the statement; None when the
    # user was read from the database for this request (or the caller is no request: imports).
    session: SessionCheck | None = None


@dataclass(frozen=True)
class Registered:
    """What register_stall did: the checks' outcomes and, when they passed, the new stall."""

    session_ok: bool  # False: the session from memory changed; nothing was checked or written
    known: bool  # the Idempotency-Key was used before: nothing was written (replay)
    claimed: bool  # the key was claimed and the stall written (False and not `known`: see below)
    market_found: bool
    market_archived: bool
    zone_problem: str | None  # unknown_zone | zone_retired
    licence_problem: str | None  # licence_not_asked
    missing_partners: list[str]
    duplicate_of: int | None
    # (index of the account in the request, id of another active stall of the market paid on it)
    shared_account_of: tuple[int, int] | None
    stall: schemas.Stall | None


# The whole registration is one statement: one round trip, atomic on its own (no BEGIN/COMMIT).
# A session the route took from memory is checked first (`session_ok`, core.sessions): when it
# changed, nothing is written and the caller signs in again from the database.
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
    -- The identity's sequence by its name, resolved once when the statement is planned
    -- (pg_get_serial_sequence looked the name up in the catalogs at every registration).
    SELECT nextval('stall_id_seq'::regclass) AS id
), market_state AS (
    -- Locked against a concurrent market edit (which locks it FOR UPDATE first): the zones and
    -- the archive state checked here are the ones in force when the stall is written.
    SELECT true AS found, zones, retired_zones, archived_at, asks_licence FROM market
    WHERE id = $market_id FOR KEY SHARE
), checks AS (
    SELECT {session_still_valid} AS session_ok,
           EXISTS (SELECT 1 FROM idempotency_key
                   WHERE user_id = $actor_id AND key = $idempotency_key) AS known,
           -- The market's row read once (joined below); none: market_found is false and the
           -- market's own checks say nothing.
           ms.found IS NOT NULL AS market_found,
           ms.archived_at IS NOT NULL AS market_archived,
           CASE WHEN ms.found IS NULL OR $zone::text IS NULL OR $zone = any(ms.zones)
                     OR cardinality(ms.zones) + cardinality(ms.retired_zones) = 0 THEN NULL
                WHEN $zone = any(ms.retired_zones) THEN 'zone_retired'
                ELSE 'unknown_zone' END AS zone_problem,
           CASE WHEN $licence_no::text IS NOT NULL AND NOT ms.asks_licence
                THEN 'licence_not_asked' END AS licence_problem,
           -- One probe of partner's key per code (OFFSET 0 keeps it a sub-plan: as a join,
           -- the plan built a hash table at every registration); a code twice is reported once
           -- by the caller.
           ARRAY(SELECT x FROM unnest($partner_codes::text[]) x
                 WHERE x IS NOT NULL AND NOT EXISTS (SELECT 1 FROM partner WHERE code = x OFFSET 0))
               AS missing_partners,
           CASE WHEN $check_duplicate AND $phone::text IS NOT NULL THEN
               -- From the phone (near unique) to each of its holders' stalls in this market, one
               -- probe of stall (holder_id, market_id) per holder, whatever the statistics say:
               -- a generic plan must not walk every stall of a large market.
               (SELECT min((SELECT min(s.id) FROM stall s
                            WHERE s.holder_id = h.id AND s.market_id = $market_id
                              AND s.status = 'active'))
                FROM stallholder h WHERE h.phone_e164 = $phone)
           END AS duplicate_of,
           CASE WHEN $check_shared_account AND cardinality($bins::text[]) > 0 THEN
               -- An account in use on another active stall of this market: perhaps typed from the
               -- wrong stall's card, and the sign would send this stall's money to that holder.
               -- [the account's place in the request, that stall's id]. From each number (near
               -- unique) to its accounts, and from each account to its stall by id: the plan no
               -- longer has a join to choose (with a few stalls' statistics it joined from the
               -- market's side, reading the market's stalls).
               (SELECT ARRAY[n.i, x.stall_id]
                FROM unnest($bins::text[], $account_numbers::text[])
                         WITH ORDINALITY AS n (bin, number, i),
                     LATERAL (SELECT min((SELECT CASE WHEN s.market_id = $market_id
                                                           AND s.status = 'active' THEN s.id END
                                          FROM stall s WHERE s.id = p.stall_id)) AS stall_id
                              FROM payment_account p
                              WHERE p.bin = n.bin AND p.account_number = n.number AND p.active
                              OFFSET 0) x
                WHERE x.stall_id IS NOT NULL
                ORDER BY n.i LIMIT 1)
           END AS shared_account_of
    FROM (SELECT) AS one LEFT JOIN market_state ms ON true
), claim AS (
    INSERT INTO idempotency_key (user_id, key, request_hash, resource_id, status_code)
    SELECT $actor_id, $idempotency_key, $request_hash, new_id.id, 201 FROM new_id, checks
    WHERE checks.session_ok AND NOT checks.known AND checks.market_found
      AND NOT checks.market_archived
      AND checks.zone_problem IS NULL AND checks.licence_problem IS NULL
      AND cardinality(checks.missing_partners) = 0
      AND checks.duplicate_of IS NULL AND checks.shared_account_of IS NULL
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING resource_id
), holder AS (
    INSERT INTO stallholder (full_name, phone_e164, cccd_hash, cccd_last4)
    SELECT $full_name, $phone, $cccd_hash, $cccd_last4 FROM claim
    RETURNING id, full_name, phone_e164, cccd_last4, erased_at
), new_stall AS (
    INSERT INTO stall (id, market_id, stall_code, code_key, code_sort, zone, goods, holder_id,
                       lat, lon, accuracy_m, search_text, created_by, licence_no)
    OVERRIDING SYSTEM VALUE
    SELECT claim.resource_id, $market_id, $stall_code, $code_key, $code_sort, $zone, $goods,
           holder.id, $lat, $lon, $accuracy_m, $search_text, $actor_id, $licence_no
    FROM holder, claim
    RETURNING id, market_id, stall_code, zone, goods, status, version, lat, lon, accuracy_m,
              created_at, updated_at, licence_no::text
), account AS (
    INSERT INTO payment_account (stall_id, bin, account_number, account_name, service,
                                 partner_code, position, created_by, reference, name_check,
                                 name_checked_at)
    SELECT new_stall.id, a.bin, a.number, a.name, a.service, a.partner_code, a.n - 1, $actor_id,
           a.reference, $name_check::text,
           CASE WHEN $name_check::text IS NOT NULL THEN clock_timestamp() END
    FROM new_stall,
         unnest($bins::text[], $account_numbers::text[], $account_names::text[],
                $services::text[], $partner_codes::text[], $references::text[])
             WITH ORDINALITY AS a (bin, number, name, service, partner_code, reference, n)
    ORDER BY a.n
    RETURNING id, stall_id, bin, account_number, account_name, partner_code, service, active,
              reference, name_check, bank_account_name, position
)"""

# The register entry: what the caller made of the request ($audit_entered, personal data masked)
# with what the database gave (ids, times), after the counters (so its time is the last). Each
# account entered is found by its place in the request (`position`).
_REGISTER_ENTRY = """
entry AS (
    INSERT INTO audit_log (actor_id, action, entity, entity_id, after)
    SELECT $actor_id, 'register', 'stall', s.id::text,
           $audit_entered::jsonb
           || jsonb_build_object(
                  'id', s.id, 'created_at', s.created_at, 'updated_at', s.updated_at,
                  'holder', ($audit_entered::jsonb -> 'holder') || jsonb_build_object('id', h.id),
                  'payment_accounts', coalesce(
                      (SELECT jsonb_agg(($audit_entered::jsonb -> 'payment_accounts' -> a.position)
                                        || jsonb_build_object('id', a.id))
                       FROM account a), '[]'::jsonb))
    FROM new_stall s, holder h
    WHERE (SELECT count(*) FROM market_row) >= 0
    RETURNING 1
)"""

_REGISTER_RESULT = """
SELECT c.session_ok, c.known, c.market_found, c.market_archived, c.zone_problem,
       c.licence_problem, c.missing_partners, c.duplicate_of, c.shared_account_of,
       s.id IS NOT NULL AS claimed,
       s.id, s.market_id, s.stall_code, s.zone, s.goods, s.status, s.version, s.lat, s.lon,
       s.accuracy_m, s.created_at, s.updated_at, s.licence_no,
       h.id AS holder_id, h.full_name, h.phone_e164, h.cccd_last4, h.erased_at,
       a.accounts, (SELECT count(*) FROM entry) AS audited, """

# The accounts come back as anonymous records, which asyncpg decodes only with base types: the
# columns whose rules are domains (migration 0025) are cast back to text in them. They come in the
# order they were written (the request's): a CTE is read in the order its rows were returned, so
# no sort is planned for it (tests/merchants/test_registration.py, several accounts).
_REGISTER_FROM = """
FROM checks c
LEFT JOIN new_stall s ON true
LEFT JOIN holder h ON true
CROSS JOIN (SELECT array_agg(ROW(id, bin::text, account_number, account_name::text, partner_code,
                                 service::text, active, reference::text, name_check::text,
                                 bank_account_name)) AS accounts
            FROM account) a
"""

_REGISTER_STALL = sql.compose(
    _REGISTER_OWN.replace("{session_still_valid}", still_valid_part())
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
        "licence_no": new.licence_no,
        "search_text": new.search_text,
        "full_name": new.full_name,
        "phone": new.phone,
        "cccd_hash": new.cccd_hash,
        "cccd_last4": new.cccd_last4,
        "check_duplicate": new.check_duplicate,
        "check_shared_account": new.check_shared_account,
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
        **consent.registration_values(new.purposes, new.notice_version),
        "audit_entered": new.audit_entered,
        "session_token": new.session.token_hash if new.session else None,
        "session_epoch": new.session.epoch if new.session else None,
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
        session_ok=row["session_ok"],
        known=row["known"],
        claimed=row["claimed"],
        market_found=row["market_found"],
        market_archived=row["market_archived"],
        zone_problem=row["zone_problem"],
        licence_problem=row["licence_problem"],
        missing_partners=list(dict.fromkeys(row["missing_partners"])),
        duplicate_of=row["duplicate_of"],
        shared_account_of=(
            (row["shared_account_of"][0] - 1, row["shared_account_of"][1])
            if row["shared_account_of"]
            else None
        ),
        stall=stall,
    )


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
