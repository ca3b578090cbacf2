"""VietQR use cases that need no database: payloads of stored accounts, decoding, photos, images."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.errors import AppError, Invalid
from qr import banks, payload, render, scan


class NoQrFound(Invalid):
    code, title = "no_qr_found", "No QR code found in the image"


class UnprintableAccount(AppError):
    status, code, title = (
        409,
        "unprintable_account",
        "The payment account cannot be encoded as VietQR",
    )


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


async def scan_image(data: bytes) -> list[str]:
    """Every QR payload in a PNG/JPEG/WebP photo (qr.scan: safe, off the event loop)."""
    found = await scan.read_qr_codes(data)
    if not found:
        raise NoQrFound(
            "No QR code could be read. Hold the camera closer, in good light, and try again."
        )
    return found


def qr_png(text: str, scale: int) -> bytes:
    """PNG of a payload."""
    return render.png(text, scale=scale)


def qr_svg(text: str, scale: int) -> str:
    """SVG of a payload."""
    return render.svg(text, scale=scale)
