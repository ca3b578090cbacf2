"""Use cases of QR codes and signs: payloads for stored accounts, sign PDFs, scanning photos."""

from __future__ import annotations

import io
import warnings
from dataclasses import asdict
from typing import Any, Literal

import asyncpg
from PIL import Image

from core.errors import AppError, Invalid, NotFound
from core.queries import User
from merchants import coverage, privacy
from merchants import schemas as merchant_schemas
from qr import banks, payload, queries, render, sign

MAX_IMAGE_PIXELS = 40_000_000


class NoQrFound(Invalid):
    code, title = "no_qr_found", "No QR code found in the image"


class BadImage(Invalid):
    code, title = "bad_image", "The file is not a readable PNG or JPEG image"


class UnprintableAccount(AppError):
    status, code, title = (
        409,
        "unprintable_account",
        "The payment account cannot be encoded as VietQR",
    )


class NoPaymentAccount(AppError):
    status, code, title = 409, "no_payment_account", "The stall has no payment account yet"


def account_payload(account: merchant_schemas.PaymentAccount) -> str:
    """The exact payload printed for a stored account: static (POI 11), no amount, no purpose.

    This is the minimal layout every bank app emits; it is deterministic, so a reprint carries the
    same bytes, and the stored account is the only input.
    """
    return payload_for(account.bin, account.account_number, account.service, account.reference)


def payload_for(bin_: str, account_number: str, service: str, reference: str | None) -> str:
    """encode() for a stored account; an account that cannot be encoded is a 409, never a 500."""
    try:
        return payload.encode(
            bin=bin_,
            account=account_number,
            service="card" if service == "card" else "account",
            reference=reference,
            poi="11",
        )
    except payload.PayloadError as exc:
        raise UnprintableAccount(
            f"This payment account cannot be put in a VietQR code: {exc}. Correct the account first.",
            reason=exc.code,
        ) from None


def decoded_dict(d: payload.Decoded) -> dict[str, Any]:
    """The public shape of a decode result."""
    bank = banks.get(d.bin) if d.bin else None
    return {
        "valid": d.valid,
        "crc_valid": d.crc_valid,
        "structure_valid": d.structure_valid,
        "scheme": d.scheme,
        "bin": d.bin,
        "bank": {
            "bin": bank.bin,
            "code": bank.code,
            "short_name": bank.short_name,
            "name": bank.name,
        }
        if bank
        else None,
        "account": d.account,
        "service_code": d.service_code,
        "amount": d.amount,
        "purpose": d.purpose,
        "reference": d.reference,
        "poi": d.poi,
        "merchant_id": d.merchant_id,
        "merchant_name": d.merchant_name,
        "crc_given": d.crc_given,
        "crc_computed": d.crc_computed,
        "additional_data": d.additional_data,
        "problems": [asdict(p) for p in d.problems],
    }


def scan_image(data: bytes) -> list[str]:
    """Every QR payload zxing-cpp finds in a PNG/JPEG photo."""
    import zxingcpp

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            image = Image.open(io.BytesIO(data))
            if image.format not in ("PNG", "JPEG", "WEBP"):
                raise BadImage("Send a PNG or JPEG photo of the sign.")
            image.load()
    except (
        OSError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        SyntaxError,
    ):
        raise BadImage("Send a PNG or JPEG photo of the sign.") from None
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    if not results:
        # A second try on a sharpened grey image catches many blurry phone photos.
        results = zxingcpp.read_barcodes(
            image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode, try_downscale=True
        )
    found = [r.text for r in results if r.valid and r.text]
    if not found:
        raise NoQrFound(
            "No QR code could be read. Hold the camera closer, in good light, and try again."
        )
    return found


async def _stall_for_sign(
    conn: asyncpg.Connection, user: User, stall_id: int, route: str
) -> merchant_schemas.Stall:
    from merchants import service as merchants_service

    stall = await merchants_service.read_stall(conn, user=user, stall_id=stall_id, route=route)
    await _require_sign_consent(conn, stall.holder.id)
    return stall


async def _require_sign_consent(conn: asyncpg.Connection, holder_id: int | None) -> None:
    if holder_id is not None:
        await privacy.require_purpose(conn, holder_id, "qr_sign")


def _pick_account(
    stall: merchant_schemas.Stall, account_id: int | None
) -> merchant_schemas.PaymentAccount:
    accounts = [a for a in stall.payment_accounts if a.active]
    if account_id is not None:
        accounts = [a for a in accounts if a.id == account_id]
        if not accounts:
            raise NotFound(
                f"Stall {stall.id} has no active payment account {account_id}.", field="account_id"
            )
    if not accounts:
        raise NoPaymentAccount("Add a payment account to the stall before printing its sign.")
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


async def _mark_issued(conn: asyncpg.Connection, stall_ids: list[int], user: User) -> None:
    for stall_id in stall_ids:
        await coverage.mark_sign_issued(conn, stall_id=stall_id, user=user)


async def stall_sign_pdf(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    account_id: int | None,
    size: Literal["A6", "A5"],
    route: str,
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
        await _mark_issued(conn, [stall.id], user)
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
    fmt: str = "market_pdf",
    progress: Any = None,
) -> bytes:
    """Every active stall's sign in one print-ready PDF, in stall-code order; prints are recorded."""
    from core import access
    from merchants import errors as merchant_errors

    if not access.sees_personal_data(user) or not await access.can_see_market(
        conn, user, market_id
    ):
        raise merchant_errors.MarketNotFound(f"No market with id {market_id}.")
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
        await _mark_issued(conn, [r.stall_id for r in rows], user)
    return pdf


def qr_png(text: str, scale: int) -> bytes:
    """PNG of a payload."""
    return render.png(text, scale=scale)


def qr_svg(text: str, scale: int) -> str:
    """SVG of a payload."""
    return render.svg(text, scale=scale)
