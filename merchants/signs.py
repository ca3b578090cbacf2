"""Printable signs of stalls and markets: the payload of a stored account, sign PDFs, QR images."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from core import access
from core.errors import NotFound
from core.types import User
from coverage import counters
from merchants import errors, queries, schemas, stalls
from privacy import consent
from qr import banks, sign
from qr.service import payload_for


def account_payload(account: schemas.PaymentAccount) -> str:
    """The exact payload printed for a stored account: static (POI 11), no amount, no purpose.

    This is the minimal layout every bank app emits; it is deterministic, so a reprint carries the
    same bytes, and the stored account is the only input.
    """
    return payload_for(account.bin, account.account_number, account.service, account.reference)


async def _stall_for_sign(
    conn: asyncpg.Connection, user: User, stall_id: int, route: str
) -> schemas.Stall:
    stall = await stalls.read_stall(conn, user=user, stall_id=stall_id, route=route)
    await _require_sign_consent(conn, stall.holder.id)
    return stall


async def _require_sign_consent(conn: asyncpg.Connection, holder_id: int | None) -> None:
    if holder_id is not None:
        await consent.require_purpose(conn, holder_id, "qr_sign")


def _pick_account(stall: schemas.Stall, account_id: int | None) -> schemas.PaymentAccount:
    accounts = [a for a in stall.payment_accounts if a.active]
    if account_id is not None:
        accounts = [a for a in accounts if a.id == account_id]
        if not accounts:
            raise NotFound(
                f"Stall {stall.id} has no active payment account {account_id}.", field="account_id"
            )
    if not accounts:
        raise errors.NoPaymentAccount(
            "Add a payment account to the stall before printing its sign."
        )
    return accounts[0]


async def stall_qr(
    conn: asyncpg.Connection, *, user: User, stall_id: int, account_id: int | None, route: str
) -> str:
    """The payload of a stall's (chosen or first) payment account."""
    stall = await _stall_for_sign(conn, user, stall_id, route)
    return account_payload(_pick_account(stall, account_id))


def _sign_info(
    *,
    payload_text: str,
    market_name: str,
    stall_code: str,
    zone: str | None,
    goods: str | None,
    holder_name: str | None,
    bin_: str,
    account_number: str,
    account_name: str | None,
) -> sign.SignInfo:
    bank = banks.get(bin_)
    return sign.SignInfo(
        payload=payload_text,
        market_name=market_name,
        stall_code=stall_code,
        holder_name=holder_name or "",
        goods=goods,
        bank_short_name=bank.short_name if bank else bin_,
        account_number=account_number,
        account_name=account_name or "",
        zone=zone,
    )


async def _mark_issued(
    conn: asyncpg.Connection, stall_ids: list[int], user: User, window_days: int
) -> None:
    for stall_id in stall_ids:
        await counters.mark_sign_issued(conn, stall_id, user, window_days=window_days)


async def stall_sign_pdf(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int | None,
    size: Literal["A6", "A5"],
    route: str,
    window_days: int,
) -> bytes:
    """One stall's printable sign; the print is recorded and the stall counts as issued."""
    stall = await _stall_for_sign(conn, user, stall_id, route)
    account = _pick_account(stall, account_id)
    text = account_payload(account)
    market = await queries.market_name(conn, stall.market_id) or ""
    pdf = sign.sign_pdf(
        _sign_info(
            payload_text=text,
            market_name=market,
            stall_code=stall.stall_code,
            zone=stall.zone,
            goods=stall.goods,
            holder_name=stall.holder.full_name,
            bin_=account.bin,
            account_number=account.account_number,
            account_name=account.account_name,
        ),
        size=size,
    )
    async with conn.transaction():
        await queries.record_prints(
            conn, prints=[(stall.id, account.id, text)], fmt="sign_pdf", user_id=user.id
        )
        await _mark_issued(conn, [stall.id], user, window_days)
    return pdf


async def market_signs(
    conn: asyncpg.Connection, *, market_id: int, zone: str | None, only_unprinted: bool
) -> tuple[str, list[queries.SignRow], list[sign.SignInfo]]:
    """Sign data of a market's active stalls (no scope check: callers do it)."""
    name = await queries.market_name(conn, market_id)
    if name is None:
        raise NotFound(f"No market with id {market_id}.")
    rows = await queries.market_sign_rows(
        conn, market_id=market_id, zone=zone, only_unprinted=only_unprinted
    )
    infos = [
        _sign_info(
            payload_text=payload_for(r.bin, r.account_number, r.service, r.reference),
            market_name=r.market_name,
            stall_code=r.stall_code,
            zone=r.zone,
            goods=r.goods,
            holder_name=r.holder_name,
            bin_=r.bin,
            account_number=r.account_number,
            account_name=r.account_name,
        )
        for r in rows
    ]
    return name, rows, infos


async def market_signs_pdf(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int,
    zone: str | None,
    only_unprinted: bool,
    size: Literal["A6", "A5"],
    window_days: int,
    fmt: str = "market_pdf",
    progress: Any = None,
) -> bytes:
    """Every active stall's sign in one print-ready PDF, in stall-code order; prints are recorded."""
    if not access.sees_personal_data(user) or not await access.can_see_market(
        conn, user, market_id
    ):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    name, rows, infos = await market_signs(
        conn, market_id=market_id, zone=zone, only_unprinted=only_unprinted
    )
    pdf = sign.market_pdf(infos, size=size, title=f"Biển VietQR - {name}", progress=progress)
    async with conn.transaction():
        await queries.record_prints(
            conn,
            prints=[
                (r.stall_id, r.account_id, i.payload) for r, i in zip(rows, infos, strict=True)
            ],
            fmt=fmt,
            user_id=user.id,
        )
        await _mark_issued(conn, [r.stall_id for r in rows], user, window_days)
    return pdf
