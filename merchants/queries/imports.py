"""SQL of stall list imports: the market's lock, the stalls rows name, and the batch
that creates or updates them with their counters and audit entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from core import sql
from core.crypto import keys_of
from coverage import counters
from merchants import schemas
from privacy import consent

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
