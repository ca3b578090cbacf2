"""Stalls: read (scoped, logged), search a market's list, edit with optimistic concurrency."""

from __future__ import annotations

import base64
import json
import logging
from typing import Literal

import asyncpg

from core import access, audit
from core.errors import Invalid, PreconditionFailed
from core.params import MAX_ID
from core.text import (
    mask_phone,
    natural_key,
    normalize,
    search_keys,
    stall_search_text,
    unstorable,
)
from core.types import User
from coverage import counters
from coverage import stalls as coverage_stalls
from merchants import errors, markets, schemas
from merchants.queries import imports as imports_q
from merchants.queries import markets as markets_q
from merchants.queries import stalls as stalls_q
from partners import registry, takings
from partners import schemas as partner_schemas
from privacy import consent
from qr import banks

log = logging.getLogger("choso.merchants")


def code_keys(stall_code: str) -> tuple[str, str]:
    """(uniqueness key, natural sort key) of a stall code: 'a-12' and 'A-12' are the same stall, and
    so are 'đ-5' and 'Đ-5' (compared in NFC, upper case)."""
    key = normalize(stall_code).upper()
    return key, natural_key(key)


async def get_stall(conn: asyncpg.Connection, stall_id: int) -> schemas.Stall:
    """A stall, or stall_not_found."""
    stall = await stalls_q.get_stall(conn, stall_id)
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
    window_days: int,
) -> schemas.Stall:
    """Edit a stall if nobody changed it since `expected_version` (optimistic concurrency)."""
    market_id = await stalls_q.stall_market_id(conn, stall_id)
    if market_id is None:
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    try:
        async with conn.transaction():
            # The market first (a market edit locks it, then its stalls): its zones hold until
            # this edit commits.
            market = await markets_q.market_zones(conn, market_id, lock=True)
            before = await stalls_q.get_stall(conn, stall_id, for_update=True)
            if before is None or market is None:
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
            confirmed: dict | None = None
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
                if phone and phone != before.holder.phone:
                    if not patch.confirm_duplicate:
                        await _refuse_a_phone_in_use(conn, market_id, phone, stall_id)
                    elif await _phone_in_use(conn, market_id, phone, stall_id):
                        confirmed = {"confirm_duplicate": True}  # said so: the audit keeps it
                await stalls_q.update_holder(
                    conn, holder_id=before.holder.id, full_name=name, phone=phone
                )
            zone = patch.zone if "zone" in fields else before.zone
            if zone != before.zone:
                markets.check_zone(market, zone)
            goods = patch.goods if "goods" in fields else before.goods
            licence_no = patch.licence_no if "licence_no" in fields else before.licence_no
            if licence_no and licence_no != before.licence_no and not market.asks_licence:
                # Not collected where the programme does not ask for it (data minimisation);
                # a number recorded while it did may still be cleared or kept.
                raise errors.LicenceNotAsked(
                    "This market does not record business licence numbers; an administrator "
                    "or its manager can turn that on in the market's settings.",
                    field="licence_no",
                )
            await stalls_q.update_stall(
                conn,
                stall_id=stall_id,
                stall_code=stall_code,
                code_key=code_key,
                code_sort=code_sort,
                zone=zone,
                goods=goods,
                status=patch.status or before.status,
                location=patch.location if "location" in fields else before.location,
                search_text=stall_search_text(stall_code, name, phone, goods),
                confirm_by=patch.confirm_by if "confirm_by" in fields else before.confirm_by,
                also_accepts=patch.also_accepts
                if "also_accepts" in fields
                else before.also_accepts,
                licence_no=licence_no,
            )
            # What a printed sign shows besides its payment code.
            if (stall_code, zone, name, goods) != (
                before.stall_code,
                before.zone,
                before.holder.full_name,
                before.goods,
            ):
                await coverage_stalls.sign_details_changed(conn, stall_id=stall_id)
            return await settle_change(
                conn,
                user=user,
                before=before,
                action="update",
                window_days=window_days,
                extra=confirmed,
            )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "stall_market_id_code_key":
            raise errors.StallCodeTaken(
                "Another stall in this market has this code.", field="stall_code"
            ) from None
        raise


async def _phone_in_use(
    conn: asyncpg.Connection, market_id: int, phone: str, stall_id: int
) -> list[int]:
    """The market's other active stalls with this phone number (an import checks its rows the
    same way)."""
    found = await imports_q.active_stalls_by_phone(conn, market_id, [phone])
    return [i for i, _code in found.get(phone, []) if i != stall_id]


async def _refuse_a_phone_in_use(
    conn: asyncpg.Connection, market_id: int, phone: str, stall_id: int
) -> None:
    """Registration's duplicate check, for a phone number typed in an edit: another active stall of
    the market already has it."""
    others = await _phone_in_use(conn, market_id, phone, stall_id)
    if others:
        raise errors.PossibleDuplicate(
            "A stall with this phone number is already registered in this market. "
            "If the same person rents this stall too, send confirm_duplicate: true.",
            field="holder.phone",
            existing_stall_id=others[0],
        )


async def settle_change(
    conn: asyncpg.Connection,
    *,
    user: User,
    before: schemas.Stall,
    action: str,
    window_days: int,
    extra: dict | None = None,
) -> schemas.Stall:
    """After an edit, inside its transaction: move the coverage counters, re-read, audit."""
    await counters.on_stall_changed(conn, stall_id=before.id, window_days=window_days)
    after = await stalls_q.get_stall(conn, before.id)
    assert after is not None
    await audit.record(
        conn,
        actor_id=user.id,
        action=action,
        entity="stall",
        entity_id=before.id,
        before=audit_view(before),
        after={**(extra or {}), **audit_view(after)},
    )
    return after


def audit_view(stall: schemas.Stall) -> dict:
    """What the audit log keeps of a stall: no phone or account numbers in clear."""
    view = stall.model_dump(mode="json")  # plain JSON values, a fresh dict to mask in place
    holder = view.get("holder") or {}
    if holder.get("phone"):
        # Masked, as lists show it: an unkeyed hash of a phone number is reversed by enumeration.
        holder["phone"] = mask_phone(holder["phone"])
    for acc in view.get("payment_accounts", []):
        acc["account_number"] = "…" + acc["account_number"][-4:]
    return view


def encode_cursor(code_sort: str, stall_id: int) -> str:
    """Opaque cursor for the next page."""
    return base64.urlsafe_b64encode(json.dumps([code_sort, stall_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """Inverse of encode_cursor; bad_cursor when it was not made by us."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        code_sort, stall_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        # Only what encode_cursor can make: an id the database can hold, text it can store.
        if not isinstance(code_sort, str) or unstorable(code_sort) or isinstance(stall_id, bool):
            raise ValueError
        if not isinstance(stall_id, int) or not 1 <= stall_id <= MAX_ID:
            raise ValueError
        return code_sort, stall_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Invalid("The cursor is not valid; start again without it.", field="cursor") from None


def _like(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere (its own % and _ match themselves)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sign_consent(state: str | None) -> Literal["granted", "withdrawn", "missing"]:
    """A holder's qr_sign state as the list shows it (never asked, or no holder: missing)."""
    if state == "granted":
        return "granted"
    return "withdrawn" if state == "withdrawn" else "missing"


async def list_stalls(
    conn: asyncpg.Connection, *, market_id: int, q: str | None, limit: int, cursor: str | None
) -> schemas.StallPage:
    """A page of a market's stalls, searchable without diacritics (core.text.search_keys)."""
    if not await markets_q.market_exists(conn, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    keys = search_keys(q) if q else None
    rows = await stalls_q.list_stalls(
        conn,
        market_id=market_id,
        typed=_like(keys[0]) if keys else None,
        compacted=_like(keys[1]) if keys and keys[1] and keys[1] != keys[0] else None,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    holders = [r.holder_id for r in page if r.holder_id is not None and not r.erased]
    consents = await consent.consent_states(conn, holders, "qr_sign") if holders else {}
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
            sign_consent=_sign_consent(consents.get(r.holder_id) if r.holder_id else None),
            last_visit=schemas.VisitBrief(
                outcome=r.visit_outcome,  # type: ignore[arg-type]
                visited_at=r.visited_at,
                come_back_on=r.come_back_on,
                come_back_for=r.come_back_for if r.come_back_on else None,  # type: ignore[arg-type]
            )
            if r.visit_outcome and r.visited_at
            else None,
        )
        for r in page
    ]
    next_cursor = (
        encode_cursor(rows[limit - 1].code_sort, rows[limit - 1].id) if len(rows) > limit else None
    )
    return schemas.StallPage(items=items, next_cursor=next_cursor)


async def stall_in_scope(conn: asyncpg.Connection, user: User, stall_id: int) -> schemas.Stall:
    """The stall, when the user may read personal data and see its market (else stall_not_found:
    a stall out of scope reads as one that does not exist)."""
    access.require_personal_data_role(user)
    stall = await stalls_q.get_stall(conn, stall_id)
    if stall is None or not await access.can_see_market(conn, user, stall.market_id):
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    return stall


async def read_stall(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    route: str,
    reason: str = "stall_record",
) -> schemas.Stall:
    """A full stall record in scope; the read of personal data is logged with its `reason` (the
    record itself, or `stall_sign`: its QR code or sign, which show the account)."""
    stall = await stall_in_scope(conn, user, stall_id)
    await access.log_access(
        conn, user=user, stallholder_id=stall.holder.id, route=route, reason=reason
    )
    stopped = await registry.stopped_accounts(conn, [a.id for a in stall.payment_accounts])
    if not stopped:
        return stall
    accounts = [
        a.model_copy(update={"stopped_by_partner": stopped.get(a.id)})
        for a in stall.payment_accounts
    ]
    return stall.model_copy(update={"payment_accounts": accounts})


async def stall_takings_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, days: int, route: str
) -> partner_schemas.StallTakings:
    """What partners reported the stall received per day (partners.takings), read like the stall
    record: in scope, logged; no amounts once the holder's data was erased."""
    stall = await stall_in_scope(conn, user, stall_id)
    if not stall.holder.erased:
        await access.log_access(
            conn, user=user, stallholder_id=stall.holder.id, route=route, reason="stall_takings"
        )
    return await takings.stall_takings(
        conn, stall_id=stall_id, days=days, erased=stall.holder.erased
    )


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
    access.require_personal_data_role(user)
    if not await access.can_see_market(conn, user, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return await list_stalls(conn, market_id=market_id, q=q, limit=limit, cursor=cursor)


async def writable_stall(conn: asyncpg.Connection, user: User, stall_id: int) -> None:
    access.require_write_role(user)
    market_id = await stalls_q.stall_market_id(conn, stall_id)
    missing = errors.StallNotFound(f"No stall with id {stall_id}.")
    if market_id is None:
        raise missing
    await access.require_record_write(conn, user, market_id, missing)


async def update_stall_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    expected_version: int,
    patch: schemas.StallPatch,
    window_days: int,
) -> schemas.Stall:
    """update_stall after the scope check."""
    await writable_stall(conn, user, stall_id)
    return await update_stall(
        conn,
        user=user,
        stall_id=stall_id,
        expected_version=expected_version,
        patch=patch,
        window_days=window_days,
    )
