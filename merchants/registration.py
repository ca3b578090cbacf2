"""Registration: a whole stall (holder, accounts, onboardings, consents, coverage) exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from core import access
from core.crypto import Keys, keys_of
from core.sessions import SessionChanged, SessionCheck
from core.text import mask_phone, stall_search_text
from core.types import User
from merchants import errors, markets, schemas, stalls
from merchants.queries import markets as markets_q
from merchants.queries import registration as registration_q
from merchants.queries import stalls as stalls_q
from partners import lookup as partner_lookup
from partners import registry
from privacy import consent
from qr import banks

log = logging.getLogger("choso.merchants")


def request_hash(keys: Keys, market_id: int, body: schemas.StallCreate) -> bytes:
    """Fingerprint of a registration request, to tell a retry from a reused key. Keyed (the body
    holds the account number and any CCCD, which a plain hash would let anyone guess back)."""
    return keys.fingerprint(_canonical_request(market_id, body))


def _canonical_request(market_id: int, body: schemas.StallCreate) -> bytes:
    dump = body.model_dump(mode="json")
    if dump.get("licence_no") is None:
        # Absent as before the field existed: a retry across that upgrade is still the same request.
        dump.pop("licence_no", None)
    if not dump.get("check_shared_account"):
        dump.pop("check_shared_account", None)  # the same, for that later field
    canonical = json.dumps([market_id, dump], sort_keys=True, ensure_ascii=False)
    return canonical.encode()


async def register_stall(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    idempotency_key: str,
    body: schemas.StallCreate,
    name_check: str | None = None,
    session: SessionCheck | None = None,
) -> tuple[schemas.Stall, bool]:
    """Register a stall exactly once per Idempotency-Key; returns (stall, replayed).

    `name_check` stores an account-name check outcome known up front (lookup disabled) with the
    accounts (the register entry shows it). `session`: the user came from a worker's memory, and
    the statement checks it (SessionChanged when it changed: nothing is written).
    """
    if "registration" not in body.consent.purposes:
        raise errors.ConsentRequired(
            "Tick the 'registration' consent purpose with the stallholder first.",
            field="consent.purposes",
        )
    await consent.check_purposes(conn, body.consent.purposes, field="consent.purposes")
    code_key, code_sort = stalls.code_keys(body.stall_code)
    phone, cccd = body.holder.phone, body.holder.cccd
    new = registration_q.NewStall(
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
        # The same person renting another stall (confirmed) may well be paid on the same account.
        check_shared_account=body.check_shared_account and not body.confirm_duplicate,
        accounts=body.payment_accounts,
        name_check=name_check,
        purposes=body.consent.purposes,
        notice_version=body.consent.notice_version,
        licence_no=body.licence_no,
        audit_entered=entered_view(
            market_id=market_id,
            stall_code=body.stall_code,
            zone=body.zone,
            goods=body.goods,
            full_name=body.holder.full_name,
            phone=phone,
            cccd_last4=cccd[-4:] if cccd else None,
            accounts=body.payment_accounts,
            name_check=name_check,
            location=body.location,
            licence_no=body.licence_no,
        ),
        session=session,
    )
    return await write(
        conn,
        new,
        same_request=lambda stored: keys_of(conn).fingerprint_matches(
            stored, _canonical_request(market_id, body)
        ),
    )


def entered_view(
    *,
    market_id: int,
    stall_code: str,
    zone: str | None,
    goods: str | None,
    full_name: str,
    phone: str | None,
    cccd_last4: str | None,
    accounts: list[schemas.PaymentAccountIn],
    name_check: str | None,
    location: schemas.Location | None,
    licence_no: str | None = None,
) -> dict[str, Any]:
    """The register audit entry before the database adds its ids and times: the stall as
    stalls.audit_view shows it (phone and account numbers masked), with the outcome of an
    account-name check known up front."""
    return {
        "market_id": market_id,
        "stall_code": stall_code,
        "zone": zone,
        "goods": goods,
        "status": "active",
        "version": 1,
        "holder": {
            "full_name": full_name,
            "phone": mask_phone(phone),
            "cccd_last4": cccd_last4,
            "erased": False,
        },
        "payment_accounts": [
            {
                "bin": a.bin,
                "bank_short_name": bank.short_name if (bank := banks.get(a.bin)) else None,
                "account_number": "…" + a.account_number[-4:],
                "account_name": a.account_name,
                "partner_code": a.partner_code,
                "service": a.service,
                "active": True,
                "reference": a.reference,
                "name_check": name_check,
                "bank_account_name": None,
            }
            for a in accounts
        ],
        "location": location.model_dump() if location else None,
        "licence_no": licence_no,
    }


async def write(
    conn: asyncpg.Connection, new: registration_q.NewStall, *, same_request: Callable[[bytes], bool]
) -> tuple[schemas.Stall, bool]:
    """The writes of a validated registration: one statement, one round trip.

    It writes every row of the stall (the key claim, holder, stall and accounts), with the
    onboardings, consents, coverage row and counters that partners, privacy and coverage each write
    with their own SQL, and the register audit entry (registration_q.register_stall); a statement is
    atomic, so no transaction is opened around it (inside a caller's transaction it runs in a
    savepoint, so a refused registration leaves that transaction usable). Checks that fail write
    nothing. A key already used returns the stall it registered (same request) or 422
    idempotency_key_reused (`same_request` compares the stored fingerprint). A session from memory
    that changed (new.session) raises SessionChanged before anything else is looked at.
    """
    try:
        if conn.is_in_transaction():
            async with conn.transaction():
                done = await registration_q.register_stall(conn, new)
        else:
            done = await registration_q.register_stall(conn, new)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "stall_market_id_code_key":
            raise errors.StallCodeTaken(
                f"Stall {new.stall_code} is already registered in this market.",
                field="stall_code",
                existing_stall_id=await stalls_q.stall_id_by_code(
                    conn, new.market_id, new.code_key
                ),
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
    if not done.session_ok:
        raise SessionChanged()
    if not done.market_found:
        raise errors.MarketNotFound(f"No market with id {new.market_id}.")
    if done.known:
        user_id, key = new.user_id, new.idempotency_key
        return await _replay(conn, user_id=user_id, key=key, same=same_request), True
    if done.market_archived:
        raise errors.MarketArchived(f"Market {new.market_id} is archived: it takes no new stalls.")
    if done.zone_problem is not None:
        raise await markets.zone_error(conn, new.market_id, new.zone, done.zone_problem)
    if done.licence_problem is not None:
        raise errors.LicenceNotAsked(
            "This market does not record business licence numbers; register the stall without "
            "one (an administrator or its manager can turn that on in the market's settings).",
            field="licence_no",
        )
    if done.missing_partners:
        raise registry.unknown_partner(done.missing_partners, field="payment_accounts")
    if done.duplicate_of is not None:
        raise errors.PossibleDuplicate(
            "A stall with this phone number is already registered in this market. "
            "If the same person rents another stall, send confirm_duplicate: true.",
            field="holder.phone",
            existing_stall_id=done.duplicate_of,
        )
    if done.shared_account_of is not None:
        position, other = done.shared_account_of
        raise errors.AccountInUse(
            "Another active stall of this market receives payments on this account: check the "
            "number with the stallholder. If both stalls are paid on it, send the registration "
            "without check_shared_account.",
            field=f"payment_accounts.{position}.account_number",
            existing_stall_id=other,
        )
    if not done.claimed:  # the same key, claimed by a request that ended meanwhile
        user_id, key = new.user_id, new.idempotency_key
        return await _replay(conn, user_id=user_id, key=key, same=same_request), True
    assert done.stall is not None
    return done.stall, False


async def _replay(
    conn: asyncpg.Connection, *, user_id: int, key: str, same: Callable[[bytes], bool]
) -> schemas.Stall:
    """The stall an earlier request with this key registered (same request), or 422 key reused."""
    record = await registration_q.idempotency_record(conn, user_id=user_id, key=key)
    if record is None or record.resource_id is None or not same(record.request_hash):
        raise errors.IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; "
            "generate a new key for a new registration."
        )
    stall = await stalls_q.get_stall(conn, record.resource_id)
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
        and not await markets_q.market_exists(conn, market_id)
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
