"""SQL of sealing stored account numbers once (rows written before numbers were sealed)."""

from __future__ import annotations

import asyncpg

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
