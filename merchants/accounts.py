"""Payment accounts of a stall: add, correct, deactivate or reactivate one (with the name check);
seal old numbers."""

from __future__ import annotations

import logging

import asyncpg
from pydantic import ValidationError

from core.crypto import keys_of
from core.errors import Invalid, PreconditionFailed
from core.types import User
from coverage import stalls as coverage_stalls
from merchants import errors, schemas, signs, stalls
from merchants.queries import accounts as accounts_q
from merchants.queries import sealing as sealing_q
from merchants.queries import stalls as stalls_q
from partners import lookup as partner_lookup
from partners import onboarding, registry
from privacy.errors import StallholderErased

log = logging.getLogger("choso.merchants")


def _unique_refused(exc: asyncpg.UniqueViolationError) -> Exception:
    """What a unique violation while writing an account means to the caller: the stall already
    shows this account (409 account_exists); any other one is re-raised as it is."""
    if exc.constraint_name == "payment_account_stall_id_bin_account_key":
        return errors.AccountExists(
            "This stall already shows this account.", field="account_number"
        )
    return exc


async def _refuse_shared(
    conn: asyncpg.Connection, stall: schemas.Stall, bin: str, account_number: str
) -> None:
    """409 account_in_use when another active stall of the market is paid on the account (the
    registration's check: perhaps typed from the wrong stall's card)."""
    other = await accounts_q.stall_paid_on(
        conn, market_id=stall.market_id, bin=bin, account_number=account_number, besides=stall.id
    )
    if other is not None:
        raise errors.AccountInUse(
            "Another active stall of this market receives payments on this account: check the "
            "number with the stallholder. If both stalls are paid on it, send it again without "
            "check_shared_account.",
            field="account_number",
            existing_stall_id=other,
        )


async def add_payment_account(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account: schemas.PaymentAccountAdd,
    window_days: int,
) -> schemas.Stall:
    """Add a payment account to a stall."""
    try:
        async with conn.transaction():
            before = await stalls_q.get_stall(conn, stall_id, for_update=True)
            if before is None:
                raise errors.StallNotFound(f"No stall with id {stall_id}.")
            if len(before.payment_accounts) >= 5:
                raise Invalid("A stall shows at most 5 payment accounts.", field="payment_accounts")
            await registry.require_partners(conn, [account.partner_code], field="partner_code")
            if account.check_shared_account:
                await _refuse_shared(conn, before, account.bin, account.account_number)
            account_id = await accounts_q.insert_account(
                conn, stall_id=stall_id, account=account, created_by=user.id
            )
            if account.partner_code:
                await onboarding.record_registration_onboarding(
                    conn, user=user, account_id=account_id, partner_code=account.partner_code
                )
            await stalls_q.bump_stall_version(conn, stall_id)
            return await stalls.settle_change(
                conn,
                user=user,
                before=before,
                action="add_payment_account",
                window_days=window_days,
                extra={"payment_account_id": account_id},
            )
    except asyncpg.UniqueViolationError as exc:
        raise _unique_refused(exc) from None


async def add_payment_account_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account: schemas.PaymentAccountAdd,
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


def _account(stall: schemas.Stall, account_id: int) -> schemas.PaymentAccount:
    for account in stall.payment_accounts:
        if account.id == account_id:
            return account
    raise errors.AccountNotFound(
        f"Stall {stall.id} has no payment account {account_id}.", field="account_id"
    )


def _invalid(exc: ValidationError) -> Invalid:
    """The first rule the corrected account breaks, with its own code (momo_reference_required)."""
    first = exc.errors()[0]
    error = Invalid(str(first["msg"]), field=".".join(map(str, first["loc"])) or "reference")
    error.code = str(first["type"])
    return error


def _check_version(stall: schemas.Stall, expected_version: int | None) -> None:
    if expected_version is not None and stall.version != expected_version:
        raise PreconditionFailed(
            f"The stall is at version {stall.version}, you edited version {expected_version}. "
            "Reload it and apply your change again.",
            current_version=stall.version,
        )


async def correct_payment_account(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int,
    patch: schemas.PaymentAccountPatch,
    window_days: int,
    expected_version: int | None = None,
) -> schemas.Stall:
    """Correct a wrongly typed account in place, with a reason.

    The old values stay in the audit log (numbers shortened, as everywhere there); an earlier
    verification or account-name check of the account no longer holds; a sign that shows it is
    flagged for reprint; the counters move. The same correction sent again changes nothing.
    """
    try:
        async with conn.transaction():
            before = await stalls_q.get_stall(conn, stall_id, for_update=True)
            if before is None:
                raise errors.StallNotFound(f"No stall with id {stall_id}.")
            old = _account(before, account_id)
            if not old.active:
                raise errors.AccountInactive(
                    "This account is deactivated; add the right one as a new account.",
                    field="account_id",
                )
            fields = patch.model_fields_set - {"reason", "check_shared_account"}
            new = {
                "bin": old.bin,
                "account_number": old.account_number,
                "account_name": old.account_name,
                "reference": old.reference,
            } | {k: getattr(patch, k) for k in fields}
            if all(new[k] == getattr(old, k) for k in new):
                return before  # a resend of a correction already made
            _check_version(before, expected_version)
            try:  # the account's own rules, on the corrected whole (a MoMo wallet's reference)
                checked = schemas.PaymentAccountIn.model_validate({"service": old.service, **new})
            except ValidationError as exc:
                raise _invalid(exc) from None
            moved = (checked.bin, checked.account_number) != (old.bin, old.account_number)
            if patch.check_shared_account and moved:
                await _refuse_shared(conn, before, checked.bin, checked.account_number)
            await coverage_stalls.account_changing(
                conn, stall_id=stall_id, account_id=account_id, reason="account_corrected"
            )
            await accounts_q.correct_account(conn, account_id=account_id, account=checked)
            await stalls_q.bump_stall_version(conn, stall_id)
            return await stalls.settle_change(
                conn,
                user=user,
                before=before,
                action="correct_payment_account",
                window_days=window_days,
                extra={"payment_account_id": account_id, "reason": patch.reason},
            )
    except asyncpg.UniqueViolationError as exc:
        raise _unique_refused(exc) from None


async def set_payment_account_active(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int,
    active: bool,
    reason: str,
    window_days: int,
    expected_version: int | None = None,
) -> schemas.Stall:
    """Stop showing an account (active=False) or show a stopped one again (True), with a reason;
    the account's row and history stay, the counters move, and asking for the state the account
    is in changes nothing (a resend).

    A stop clears the account's verification and flags a sign that shows it for reprint. A reuse
    (stopped by mistake, or the stallholder uses it again) leaves the verification cleared: the
    code is checked at the stall again; a reprint flag the stop raised is judged again from the
    recorded prints (merchants.signs.reprint_after_reactivation). An account whose number an
    erasure wiped stays stopped."""
    async with conn.transaction():
        before = await stalls_q.get_stall(conn, stall_id, for_update=True)
        if before is None:
            raise errors.StallNotFound(f"No stall with id {stall_id}.")
        account = _account(before, account_id)
        if account.active == active:
            return before
        if active and account.account_number.startswith("~"):  # privacy.queries.scrub_accounts
            raise StallholderErased(
                "The stallholder's data was erased at their request: their accounts stay stopped; "
                "add the account again with the stallholder's consent.",
                field="account_id",
            )
        _check_version(before, expected_version)
        if not active:
            await coverage_stalls.account_changing(
                conn, stall_id=stall_id, account_id=account_id, reason="account_deactivated"
            )
        await accounts_q.set_account_active(conn, account_id=account_id, active=active)
        if active:
            await signs.reprint_after_reactivation(conn, stall_id)
        await stalls_q.bump_stall_version(conn, stall_id)
        return await stalls.settle_change(
            conn,
            user=user,
            before=before,
            action="reactivate_payment_account" if active else "deactivate_payment_account",
            window_days=window_days,
            extra={"payment_account_id": account_id, "reason": reason},
        )


async def correct_payment_account_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int,
    patch: schemas.PaymentAccountPatch,
    window_days: int,
    expected_version: int | None = None,
    lookup: partner_lookup.LookupProvider | None = None,
) -> schemas.Stall:
    """correct_payment_account after the scope check, then the account-name check of the
    corrected account (its earlier outcome no longer holds)."""
    await stalls.writable_stall(conn, user, stall_id)
    stall = await correct_payment_account(
        conn,
        user=user,
        stall_id=stall_id,
        account_id=account_id,
        patch=patch,
        window_days=window_days,
        expected_version=expected_version,
    )
    if lookup is not None:
        await partner_lookup.check_account_names(
            conn, provider=lookup, user=user, stall_id=stall_id, window_days=window_days
        )
        stall = await stalls.get_stall(conn, stall_id)
    return stall


async def set_payment_account_active_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int,
    active: bool,
    reason: str,
    window_days: int,
    expected_version: int | None = None,
) -> schemas.Stall:
    """set_payment_account_active after the scope check."""
    await stalls.writable_stall(conn, user, stall_id)
    return await set_payment_account_active(
        conn,
        user=user,
        stall_id=stall_id,
        account_id=account_id,
        active=active,
        reason=reason,
        window_days=window_days,
        expected_version=expected_version,
    )


async def seal_stored_accounts(conn: asyncpg.Connection) -> int:
    """Seal account numbers written before they were sealed (migration 0006); returns how many.

    Runs at start-up in every process; the first one does the work under a lock, then validates
    the database checks that keep numbers sealed, which later starts read as done.
    """
    state = await sealing_q.sealed_checks_state(conn)
    if state is None:
        raise RuntimeError(
            "The database schema is older than this version of the app (it stores account "
            "numbers sealed from migration 0006 on): run `alembic upgrade head` first."
        )
    if state:
        return 0  # sealed and validated already
    async with conn.transaction():
        await sealing_q.lock_sealing(conn)
        if await sealing_q.sealed_checks_state(conn):
            return 0
        sealed = 0
        for table, rows in (await sealing_q.unsealed_values(conn)).items():
            seal = keys_of(conn).seal  # account numbers and printed payloads alike
            await sealing_q.store_sealed(conn, table, [(i, seal(v)) for i, v in rows])
            sealed += len(rows)
        events = await sealing_q.unsealed_event_payloads(conn)
        await sealing_q.store_event_payloads(
            conn, [(i, keys_of(conn).seal_numbers_in(p, skip_sealed=True)) for i, p in events]
        )
        await sealing_q.validate_sealed_checks(conn)
    if sealed or events:
        log.info("sealed %d stored account numbers and %d partner messages", sealed, len(events))
    return sealed + len(events)
