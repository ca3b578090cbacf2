"""Payment accounts of a stall: add one (with its onboarding and name check); seal old numbers."""

from __future__ import annotations

import logging

import asyncpg

from core.crypto import keys_of
from core.errors import Invalid
from core.types import User
from merchants import errors, queries, schemas, stalls
from partners import lookup as partner_lookup
from partners import onboarding, registry

log = logging.getLogger("choso.merchants")


async def add_payment_account(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account: schemas.PaymentAccountIn,
    window_days: int,
) -> schemas.Stall:
    """Add a payment account to a stall."""
    try:
        async with conn.transaction():
            before = await queries.get_stall(conn, stall_id, for_update=True)
            if before is None:
                raise errors.StallNotFound(f"No stall with id {stall_id}.")
            if len(before.payment_accounts) >= 5:
                raise Invalid("A stall shows at most 5 payment accounts.", field="payment_accounts")
            await registry.require_partners(conn, [account.partner_code], field="partner_code")
            account_id = await queries.insert_account(
                conn, stall_id=stall_id, account=account, created_by=user.id
            )
            if account.partner_code:
                await onboarding.record_registration_onboarding(
                    conn, user=user, account_id=account_id, partner_code=account.partner_code
                )
            await queries.bump_stall_version(conn, stall_id)
            return await stalls.settle_change(
                conn,
                user=user,
                before=before,
                action="add_payment_account",
                window_days=window_days,
                extra={"payment_account_id": account_id},
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "payment_account_stall_id_bin_account_key":
            raise errors.AccountExists(
                "This stall already shows this account.", field="account_number"
            ) from None
        raise


async def add_payment_account_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account: schemas.PaymentAccountIn,
    window_days: int,
    lookup: partner_lookup.LookupProvider | None = None,
) -> schemas.Stall:
    """add_payment_account after the scope check, then the account-name check of unchecked accounts."""
    await stalls.writable_stall(conn, user, stall_id)
    stall = await add_payment_account(
        conn, user=user, stall_id=stall_id, account=account, window_days=window_days
    )
    if lookup is not None:
        await partner_lookup.check_account_names(
            conn, provider=lookup, user=user, stall_id=stall_id, window_days=window_days
        )
        stall = await stalls.get_stall(conn, stall_id)
    return stall


async def seal_stored_accounts(conn: asyncpg.Connection) -> int:
    """Seal account numbers written before they were sealed (migration 0006); returns how many.

    Runs at start-up in every process; the first one does the work under a lock, then validates
    the database checks that keep numbers sealed, which later starts read as done.
    """
    state = await queries.sealed_checks_state(conn)
    if state is None:
        raise RuntimeError(
            "The database schema is older than this version of the app (it stores account "
            "numbers sealed from migration 0006 on): run `alembic upgrade head` first."
        )
    if state:
        return 0  # sealed and validated already
    async with conn.transaction():
        await queries.lock_sealing(conn)
        if await queries.sealed_checks_state(conn):
            return 0
        sealed = 0
        for table, rows in (await queries.unsealed_values(conn)).items():
            seal = keys_of(conn).seal  # account numbers and printed payloads alike
            await queries.store_sealed(conn, table, [(i, seal(v)) for i, v in rows])
            sealed += len(rows)
        events = await queries.unsealed_event_payloads(conn)
        await queries.store_event_payloads(
            conn, [(i, keys_of(conn).seal_numbers_in(p, skip_sealed=True)) for i, p in events]
        )
        await queries.validate_sealed_checks(conn)
    if sealed or events:
        log.info("sealed %d stored account numbers and %d partner messages", sealed, len(events))
    return sealed + len(events)
