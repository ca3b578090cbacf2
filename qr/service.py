"""VietQR use cases that need no database: payloads of stored accounts, decoding, photos, images."""

from __future__ import annotations

import io
import warnings
from dataclasses import asdict
from typing import Any

import zxingcpp
from PIL import Image

from core.errors import AppError, Invalid
from qr import banks, payload, render

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
    picture: Image.Image = image if image.mode in ("L", "RGB") else image.convert("RGB")
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(picture, formats=qr_only)
    if not results:
        # A second try on a sharpened grey image catches many blurry phone photos.
        results = zxingcpp.read_barcodes(picture.convert("L"), formats=qr_only, try_downscale=True)
    found = [r.text for r in results if r.valid and r.text]
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
