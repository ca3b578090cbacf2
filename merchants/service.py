"""Use cases of the stall registry: markets, registration, edits, search."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable

import asyncpg

from core import crypto
from core import queries as core_q
from core.crypto import keyed_hash, seal_account, seal_text
from core.errors import Invalid, PreconditionFailed
from core.queries import User
from core.text import fold, mask_phone, natural_key
from merchants import coverage, errors, queries, schemas
from partners import lookup as partner_lookup
from partners import service as partners_service

log = logging.getLogger("choso.merchants")


async def create_market(
    conn: asyncpg.Connection, *, user: User, body: schemas.MarketCreate
) -> schemas.Market:
    """Create a market (and its ward, when a new ward code comes with a name)."""
    async with conn.transaction():
        if body.ward_code is not None:
            if body.ward_name:
                await queries.upsert_admin_unit(
                    conn,
                    scheme="2025-07",
                    code=body.ward_code,
                    level="ward",
                    name=body.ward_name,
                    parent_code=body.province_code,
                )
            elif not await queries.admin_unit_exists(conn, "2025-07", body.ward_code):
                raise errors.UnknownWard(
                    f"Ward {body.ward_code} is not known; send ward_name to add it.",
                    field="ward_code",
                )
        market_id = await queries.insert_market(conn, body)
        market = await queries.get_market(conn, market_id)
        assert market is not None
        await core_q.insert_audit(
            conn,
            actor_id=user.id,
            action="create",
            entity="market",
            entity_id=market_id,
            after=market.model_dump(mode="json"),
        )
    return market


async def get_market(conn: asyncpg.Connection, market_id: int) -> schemas.Market:
    """A market, or market_not_found."""
    market = await queries.get_market(conn, market_id)
    if market is None:
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return market


def code_keys(stall_code: str) -> tuple[str, str]:
    """(uniqueness key, natural sort key) of a stall code: 'a-12' and 'A-12' are the same stall."""
    key = stall_code.upper()
    return key, natural_key(key)


def search_text(
    stall_code: str, holder_name: str | None, phone: str | None, goods: str | None
) -> str:
    """What the diacritic-insensitive search matches: code, name, phone (both forms), goods."""
    parts = [stall_code, holder_name or "", goods or ""]
    if phone:
        parts += [phone, "0" + phone[3:] if phone.startswith("+84") else phone]
    return fold(" ".join(parts))


def request_hash(market_id: int, body: schemas.StallCreate) -> bytes:
    """Fingerprint of a registration request, to tell a retry from a reused key. Keyed (the body
    holds the account number and any CCCD, which a plain hash would let anyone guess back)."""
    return crypto.fingerprint(_canonical_request(market_id, body))


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
    hash_key: bytes,
    name_check: str | None = None,
) -> tuple[schemas.Stall, bool]:
    """Register a stall exactly once per Idempotency-Key; returns (stall, replayed).

    One transaction of two statements: the registration itself (key claim, checks, every row of
    the stall with its onboardings, consents and coverage row: queries.register_stall), then its
    end (coverage counters, audit entries, the key's outcome: queries.finish_registration), so the
    counter rows stay locked only until the commit right after; a status change, rare, adds a few.
    Checks that fail roll the transaction back, the claimed key with it. `name_check` stores an
    account-name check outcome known up front (lookup disabled) with the accounts, audited too.
    """
    if "registration" not in body.consent.purposes:
        raise errors.ConsentRequired(
            "Tick the 'registration' consent purpose with the stallholder first.",
            field="consent.purposes",
        )
    fingerprint = request_hash(market_id, body)
    code_key, code_sort = code_keys(body.stall_code)
    phone, cccd = body.holder.phone, body.holder.cccd
    onboarding = partners_service.REGISTRATION_ONBOARDING
    new = queries.NewStall(
        user_id=user.id,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        market_id=market_id,
        stall_code=body.stall_code,
        code_key=code_key,
        code_sort=code_sort,
        zone=body.zone,
        goods=body.goods,
        location=body.location,
        search_text=search_text(body.stall_code, body.holder.full_name, phone, body.goods),
        full_name=body.holder.full_name,
        phone=phone,
        cccd_hash=keyed_hash(hash_key, cccd) if cccd else None,
        cccd_last4=cccd[-4:] if cccd else None,
        check_duplicate=bool(phone) and not body.confirm_duplicate,
        accounts=body.payment_accounts,
        name_check=name_check,
        purposes=body.consent.purposes,
        notice_version=body.consent.notice_version,
        onboarding_status=onboarding.status,
        onboarding_channel=onboarding.channel,
        onboarding_source=onboarding.source,
        counted=coverage.new_stall_levels(),
    )
    try:
        async with conn.transaction():
            done = await queries.register_stall(conn, new)
            if not done.market_found:
                raise errors.MarketNotFound(f"No market with id {market_id}.")
            if not done.claimed:
                earlier = await _replay(
                    conn,
                    user=user,
                    key=idempotency_key,
                    same=lambda stored: crypto.fingerprint_matches(
                        stored, _canonical_request(market_id, body)
                    ),
                )
                return earlier, True
            if done.missing_partners:
                raise partners_service.unknown_partner(
                    done.missing_partners, field="payment_accounts"
                )
            if done.duplicate_of is not None:
                raise errors.PossibleDuplicate(
                    "A stall with this phone number is already registered in this market. "
                    "If the same person rents another stall, send confirm_duplicate: true.",
                    field="holder.phone",
                    existing_stall_id=done.duplicate_of,
                )
            stall = done.stall
            assert stall is not None
            # The register entry shows the stall as entered; a name check has entries of its own,
            # as when a live lookup runs after the registration.
            entered = (
                stall
                if name_check is None
                else stall.model_copy(
                    update={
                        "payment_accounts": [
                            a.model_copy(update={"name_check": None, "bank_account_name": None})
                            for a in stall.payment_accounts
                        ]
                    }
                )
            )
            added = await queries.finish_registration(
                conn,
                market_id=market_id,
                counts=coverage.vector(new.counted),
                counted_zone=done.counted_zone,
                counted_partners=done.counted_partners,
                actor_id=user.id,
                stall_id=stall.id,
                after=_audit_view(entered),
                name_check=name_check,
                account_ids=[a.id for a in stall.payment_accounts],
                idempotency_key=idempotency_key,
            )
            await coverage.settle_new_stall(conn, added)
            return stall, False
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "stall_market_id_code_key":
            raise errors.StallCodeTaken(
                f"Stall {body.stall_code} is already registered in this market.",
                field="stall_code",
                existing_stall_id=await queries.stall_id_by_code(conn, market_id, code_key),
            ) from None
        if exc.constraint_name == "payment_account_stall_id_bin_account_key":
            raise errors.AccountExists(
                "The same payment account is listed twice.", field="payment_accounts"
            ) from None
        raise
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "stall_market_id_fkey":
            raise errors.MarketNotFound(f"No market with id {market_id}.") from None
        raise


async def _replay(
    conn: asyncpg.Connection, *, user: User, key: str, same: Callable[[bytes], bool]
) -> schemas.Stall:
    """The stall an earlier request with this key registered (same request), or 422 key reused."""
    record = await core_q.idempotency_record(conn, user_id=user.id, key=key)
    if record is None or record.resource_id is None or not same(record.request_hash):
        raise errors.IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; "
            "generate a new key for a new registration."
        )
    stall = await queries.get_stall(conn, record.resource_id)
    if stall is None:
        raise errors.StallNotFound("The stall registered with this key no longer exists.")
    return stall


def _audit_view(stall: schemas.Stall) -> dict:
    """What the audit log keeps of a stall: no phone or account numbers in clear."""
    view = stall.model_dump(mode="json")  # plain JSON values, a fresh dict to mask in place
    holder = view.get("holder") or {}
    if holder.get("phone"):
        # Masked, as lists show it: an unkeyed hash of a phone number is reversed by enumeration.
        holder["phone"] = mask_phone(holder["phone"])
    for acc in view.get("payment_accounts", []):
        acc["account_number"] = "…" + acc["account_number"][-4:]
    return view


async def get_stall(conn: asyncpg.Connection, stall_id: int) -> schemas.Stall:
    """A stall, or stall_not_found."""
    stall = await queries.get_stall(conn, stall_id)
    if stall is None:
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    return stall


async def update_stall(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    expected_version: int,
    patch: schemas.StallPatch,
) -> schemas.Stall:
    """Edit a stall if nobody changed it since `expected_version` (optimistic concurrency)."""
    try:
        async with conn.transaction():
            before = await queries.get_stall(conn, stall_id, for_update=True)
            if before is None:
                raise errors.StallNotFound(f"No stall with id {stall_id}.")
            if before.version != expected_version:
                raise PreconditionFailed(
                    f"The stall is at version {before.version}, you edited version {expected_version}. "
                    "Reload it and apply your change again.",
                    current_version=before.version,
                )
            fields = patch.model_dump(exclude_unset=True)
            stall_code = (
                patch.stall_code
                if "stall_code" in fields and patch.stall_code
                else before.stall_code
            )
            code_key, code_sort = code_keys(stall_code)
            name, phone = before.holder.full_name, before.holder.phone
            if (
                patch.holder is not None
                and before.holder.id is not None
                and not before.holder.erased
            ):
                hfields = patch.holder.model_dump(exclude_unset=True)
                name = (
                    patch.holder.full_name
                    if "full_name" in hfields and patch.holder.full_name
                    else name
                )
                phone = patch.holder.phone if "phone" in hfields else phone
                await queries.update_holder(
                    conn, holder_id=before.holder.id, full_name=name, phone=phone
                )
            zone = patch.zone if "zone" in fields else before.zone
            goods = patch.goods if "goods" in fields else before.goods
            await queries.update_stall(
                conn,
                stall_id=stall_id,
                stall_code=stall_code,
                code_key=code_key,
                code_sort=code_sort,
                zone=zone,
                goods=goods,
                status=patch.status or before.status,
                location=patch.location if "location" in fields else before.location,
                search_text=search_text(stall_code, name, phone, goods),
            )
            return await _settle_change(conn, user=user, before=before, action="update")
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "stall_market_id_code_key":
            raise errors.StallCodeTaken(
                "Another stall in this market has this code.", field="stall_code"
            ) from None
        raise


async def _settle_change(
    conn: asyncpg.Connection,
    *,
    user: User,
    before: schemas.Stall,
    action: str,
    extra: dict | None = None,
) -> schemas.Stall:
    """After an edit, inside its transaction: move the coverage counters, re-read, audit."""
    await coverage.on_stall_changed(conn, stall_id=before.id)
    after = await queries.get_stall(conn, before.id)
    assert after is not None
    await core_q.insert_audit(
        conn,
        actor_id=user.id,
        action=action,
        entity="stall",
        entity_id=before.id,
        before=_audit_view(before),
        after={**(extra or {}), **_audit_view(after)},
    )
    return after


async def add_payment_account(
    conn: asyncpg.Connection, *, user: User, stall_id: int, account: schemas.PaymentAccountIn
) -> schemas.Stall:
    """Add a payment account to a stall."""
    try:
        async with conn.transaction():
            before = await queries.get_stall(conn, stall_id, for_update=True)
            if before is None:
                raise errors.StallNotFound(f"No stall with id {stall_id}.")
            if len(before.payment_accounts) >= 5:
                raise Invalid("A stall shows at most 5 payment accounts.", field="payment_accounts")
            await partners_service.require_partners(
                conn, [account.partner_code], field="partner_code"
            )
            account_id = await queries.insert_account(
                conn, stall_id=stall_id, account=account, created_by=user.id
            )
            if account.partner_code:
                await partners_service.record_registration_onboarding(
                    conn, user=user, account_id=account_id, partner_code=account.partner_code
                )
            await queries.bump_stall_version(conn, stall_id)
            return await _settle_change(
                conn,
                user=user,
                before=before,
                action="add_payment_account",
                extra={"payment_account_id": account_id},
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "payment_account_stall_id_bin_account_key":
            raise errors.AccountExists(
                "This stall already shows this account.", field="account_number"
            ) from None
        raise


def encode_cursor(code_sort: str, stall_id: int) -> str:
    """Opaque cursor for the next page."""
    return base64.urlsafe_b64encode(json.dumps([code_sort, stall_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """Inverse of encode_cursor; bad_cursor when it was not made by us."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        code_sort, stall_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(code_sort, str) or not isinstance(stall_id, int):
            raise ValueError
        return code_sort, stall_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Invalid("The cursor is not valid; start again without it.", field="cursor") from None


async def list_stalls(
    conn: asyncpg.Connection, *, market_id: int, q: str | None, limit: int, cursor: str | None
) -> schemas.StallPage:
    """A page of a market's stalls, searchable without diacritics."""
    from qr import banks

    if not await queries.market_exists(conn, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    folded = fold(q) if q and q.strip() else None
    if folded and folded.replace(" ", "").isdigit() and folded.startswith("0"):
        folded = folded.replace(" ", "")
    rows = await queries.list_stalls(
        conn,
        market_id=market_id,
        query=folded,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    items = [
        schemas.StallSummary(
            id=r.id,
            market_id=r.market_id,
            stall_code=r.stall_code,
            zone=r.zone,
            goods=r.goods,
            status=r.status,
            version=r.version,
            holder_name=r.full_name,
            phone_masked=mask_phone(r.phone_e164),
            account_count=len(r.bins),
            bank_short_names=[b.short_name if (b := banks.get(x)) else x for x in r.bins],
        )
        for r in rows[:limit]
    ]
    next_cursor = (
        encode_cursor(rows[limit - 1].code_sort, rows[limit - 1].id) if len(rows) > limit else None
    )
    return schemas.StallPage(items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------- scoped entry points (routers call these)


async def list_markets(conn: asyncpg.Connection, *, user: User) -> list[schemas.Market]:
    """Markets in the caller's scope."""
    from core import access

    if user.role not in access.READ_ROLES:
        return []
    return await queries.list_markets(conn, await access.market_scope(conn, user))


async def get_market_for(conn: asyncpg.Connection, *, user: User, market_id: int) -> schemas.Market:
    """A market in scope; 404 otherwise (its existence is not revealed)."""
    from core import access

    market = await queries.get_market(conn, market_id)
    if market is None or not await access.can_see_market(conn, user, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return market


async def _stall_in_scope(conn: asyncpg.Connection, user: User, stall_id: int) -> schemas.Stall:
    from core import access

    access.require_personal_data_role(user)
    stall = await queries.get_stall(conn, stall_id)
    if stall is None or not await access.can_see_market(conn, user, stall.market_id):
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    return stall


async def read_stall(
    conn: asyncpg.Connection, *, user: User, stall_id: int, route: str
) -> schemas.Stall:
    """A full stall record in scope; the read of personal data is logged."""
    from core import access

    stall = await _stall_in_scope(conn, user, stall_id)
    await access.log_access(
        conn, user=user, stallholder_id=stall.holder.id, route=route, reason="stall_record"
    )
    return stall


async def register_stall_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    body: schemas.StallCreate,
    lookup: partner_lookup.LookupProvider | None = None,
    **kw,
) -> tuple[schemas.Stall, bool]:
    """register_stall after the scope check, then the account-name check (a warning, never a block).

    An unknown market is market_not_found before anything else (for admins; others see a 403
    outside their scope): register_stall reports it, and a request that fails earlier (consent)
    looks it up first. A disabled lookup's outcome is known up front and written with the accounts.
    """
    from core import access

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
        await partners_service.check_account_names(
            conn, provider=lookup, user=user, stall_id=stall.id
        )
        stall = await get_stall(conn, stall.id)
    return stall, replayed


async def list_stalls_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> schemas.StallPage:
    """list_stalls within the caller's scope."""
    from core import access

    access.require_personal_data_role(user)
    if not await access.can_see_market(conn, user, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return await list_stalls(conn, market_id=market_id, q=q, limit=limit, cursor=cursor)


async def _writable_stall(conn: asyncpg.Connection, user: User, stall_id: int) -> None:
    from core import access

    access.require_write_role(user)
    market_id = await queries.stall_market_id(conn, stall_id)
    if market_id is None:
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    await access.require_market_write(conn, user, market_id)


async def update_stall_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    expected_version: int,
    patch: schemas.StallPatch,
) -> schemas.Stall:
    """update_stall after the scope check."""
    await _writable_stall(conn, user, stall_id)
    return await update_stall(
        conn, user=user, stall_id=stall_id, expected_version=expected_version, patch=patch
    )


async def add_payment_account_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account: schemas.PaymentAccountIn,
    lookup: partner_lookup.LookupProvider | None = None,
) -> schemas.Stall:
    """add_payment_account after the scope check, then the account-name check of unchecked accounts."""
    await _writable_stall(conn, user, stall_id)
    stall = await add_payment_account(conn, user=user, stall_id=stall_id, account=account)
    if lookup is not None:
        await partners_service.check_account_names(
            conn, provider=lookup, user=user, stall_id=stall_id
        )
        stall = await get_stall(conn, stall_id)
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
            seal = seal_text if table == "sign_print" else seal_account
            await queries.store_sealed(conn, table, [(i, seal(v)) for i, v in rows])
            sealed += len(rows)
        events = await queries.unsealed_event_payloads(conn)
        await queries.store_event_payloads(
            conn, [(i, crypto.seal_numbers_in(p, skip_sealed=True)) for i, p in events]
        )
        await queries.validate_sealed_checks(conn)
    if sealed or events:
        log.info("sealed %d stored account numbers and %d partner messages", sealed, len(events))
    return sealed + len(events)
