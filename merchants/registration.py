"""Registration: a whole stall (holder, accounts, onboardings, consents, coverage) exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from core import access
from core.crypto import Keys, keys_of
from core.text import stall_search_text
from core.types import User
from coverage import counters
from merchants import errors, queries, schemas, stalls
from partners import lookup as partner_lookup
from partners import registry

log = logging.getLogger("choso.merchants")


def request_hash(keys: Keys, market_id: int, body: schemas.StallCreate) -> bytes:
    """Fingerprint of a registration request, to tell a retry from a reused key. Keyed (the body
    holds the account number and any CCCD, which a plain hash would let anyone guess back)."""
    return keys.fingerprint(_canonical_request(market_id, body))


def _canonical_request(market_id: int, body: schemas.StallCreate) -> bytes:
    canonical = json.dumps(
        [market_id, body.model_dump(mode="json")], sort_keys=True, ensure_ascii=False
    )
    return canonical.encode()


async def register_stall(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    idempotency_key: str,
    body: schemas.StallCreate,
    name_check: str | None = None,
) -> tuple[schemas.Stall, bool]:
    """Register a stall exactly once per Idempotency-Key; returns (stall, replayed).

    `name_check` stores an account-name check outcome known up front (lookup disabled) with the
    accounts (the register entry shows it).
    """
    if "registration" not in body.consent.purposes:
        raise errors.ConsentRequired(
            "Tick the 'registration' consent purpose with the stallholder first.",
            field="consent.purposes",
        )
    code_key, code_sort = stalls.code_keys(body.stall_code)
    phone, cccd = body.holder.phone, body.holder.cccd
    new = queries.NewStall(
        user_id=user.id,
        idempotency_key=idempotency_key,
        request_hash=request_hash(keys_of(conn), market_id, body),
        market_id=market_id,
        stall_code=body.stall_code,
        code_key=code_key,
        code_sort=code_sort,
        zone=body.zone,
        goods=body.goods,
        location=body.location,
        search_text=stall_search_text(body.stall_code, body.holder.full_name, phone, body.goods),
        full_name=body.holder.full_name,
        phone=phone,
        cccd_hash=keys_of(conn).keyed_hash(cccd) if cccd else None,
        cccd_last4=cccd[-4:] if cccd else None,
        check_duplicate=bool(phone) and not body.confirm_duplicate,
        accounts=body.payment_accounts,
        name_check=name_check,
        purposes=body.consent.purposes,
        notice_version=body.consent.notice_version,
    )
    return await write(
        conn,
        new,
        same_request=lambda stored: keys_of(conn).fingerprint_matches(
            stored, _canonical_request(market_id, body)
        ),
    )


async def write(
    conn: asyncpg.Connection, new: queries.NewStall, *, same_request: Callable[[bytes], bool]
) -> tuple[schemas.Stall, bool]:
    """The writes of a validated registration, in one transaction of two statements.

    The first writes every row of the stall: the key claim, checks, holder, stall and accounts,
    with the onboardings, consents and coverage row that partners, privacy and coverage each write
    with their own SQL (queries.register_stall). The second adds the stall to the counters and
    audits it (queries.finish_registration), so the counter rows stay locked only until the commit
    right after; a status change, rare, adds a few. Checks that fail roll the transaction back,
    the claimed key with it. A key already used returns the stall it registered (same request) or
    422 idempotency_key_reused (`same_request` compares the stored fingerprint).
    """
    try:
        async with conn.transaction():
            done = await queries.register_stall(conn, new)
            if not done.market_found:
                raise errors.MarketNotFound(f"No market with id {new.market_id}.")
            if not done.claimed:
                user_id, key = new.user_id, new.idempotency_key
                return await _replay(conn, user_id=user_id, key=key, same=same_request), True
            if done.missing_partners:
                raise registry.unknown_partner(done.missing_partners, field="payment_accounts")
            if done.duplicate_of is not None:
                raise errors.PossibleDuplicate(
                    "A stall with this phone number is already registered in this market. "
                    "If the same person rents another stall, send confirm_duplicate: true.",
                    field="holder.phone",
                    existing_stall_id=done.duplicate_of,
                )
            stall = done.stall
            assert stall is not None
            # The register entry shows the stall as written, an outcome of the account-name
            # check known up front (lookup disabled) included; a check that runs later (a live
            # lookup, after the registration) has entries of its own.
            row = await queries.finish_registration(
                conn,
                market_id=new.market_id,
                counted_partners=done.counted_partners,
                actor_id=new.user_id,
                stall_id=stall.id,
                after=stalls.audit_view(stall),
            )
            await counters.settle_new_stall(conn, row, new.market_id)
            return stall, False
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "stall_market_id_code_key":
            raise errors.StallCodeTaken(
                f"Stall {new.stall_code} is already registered in this market.",
                field="stall_code",
                existing_stall_id=await queries.stall_id_by_code(conn, new.market_id, new.code_key),
            ) from None
        if exc.constraint_name == "payment_account_stall_id_bin_account_key":
            raise errors.AccountExists(
                "The same payment account is listed twice.", field="payment_accounts"
            ) from None
        raise
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "stall_market_id_fkey":
            raise errors.MarketNotFound(f"No market with id {new.market_id}.") from None
        raise


async def _replay(
    conn: asyncpg.Connection, *, user_id: int, key: str, same: Callable[[bytes], bool]
) -> schemas.Stall:
    """The stall an earlier request with this key registered (same request), or 422 key reused."""
    record = await queries.idempotency_record(conn, user_id=user_id, key=key)
    if record is None or record.resource_id is None or not same(record.request_hash):
        raise errors.IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; "
            "generate a new key for a new registration."
        )
    stall = await queries.get_stall(conn, record.resource_id)
    if stall is None:
        raise errors.StallNotFound("The stall registered with this key no longer exists.")
    return stall


async def register_stall_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    body: schemas.StallCreate,
    window_days: int,
    lookup: partner_lookup.LookupProvider | None = None,
    **kw: Any,
) -> tuple[schemas.Stall, bool]:
    """register_stall after the scope check, then the account-name check (a warning, never a block).

    An unknown market is market_not_found before anything else (for admins; others see a 403
    outside their scope): register_stall reports it, and a request that fails earlier (consent)
    looks it up first. A disabled lookup's outcome is known up front and written with the accounts.
    """
    await access.require_market_write(conn, user, market_id)
    if (
        user.role == "admin"
        and "registration" not in body.consent.purposes
        and not await queries.market_exists(conn, market_id)
    ):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    disabled = isinstance(lookup, partner_lookup.DisabledLookup)
    stall, replayed = await register_stall(
        conn,
        user=user,
        market_id=market_id,
        body=body,
        name_check="disabled" if disabled else None,
        **kw,
    )
    if lookup is not None and not disabled and not replayed and stall.payment_accounts:
        await partner_lookup.check_account_names(
            conn, provider=lookup, user=user, stall_id=stall.id, window_days=window_days
        )
        stall = await stalls.get_stall(conn, stall.id)
    return stall, replayed
