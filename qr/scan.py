"""Reading QR codes from uploaded photos, the one safe way.

An upload is untrusted: only Pillow's PNG, JPEG and WebP readers ever look at it (no other plug-in
runs on it), its dimensions are checked from the header before a single pixel is decoded (a
30000x30000 PNG is ~110 KB and would decode to ~900 MB), and decoding runs on a small pool of worker
threads of its own, so the event loop keeps answering and at most `DECODERS` images are in memory
at once. Every unreadable upload raises `BadImage`.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, UnidentifiedImageError

from core.errors import Invalid

FORMATS = ("PNG", "JPEG", "WEBP")
# Pillow's JPEG reader returns a JPEG with a multi-picture index (phone "Ultra HDR" photos) as MPO;
# it is the same reader and decoder, and only the first picture is decoded.
_OPENED_AS = frozenset(FORMATS) | {"MPO"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000
DECODERS = 2

_pool = ThreadPoolExecutor(max_workers=DECODERS, thread_name_prefix="qr-scan")


class BadImage(Invalid):
    code, title = "bad_image", "The file is not a readable PNG, JPEG or WebP photo"


def read_qr_codes_sync(data: bytes) -> list[str]:
    """Texts of the QR codes in a PNG, JPEG or WebP photo (blocking: call `read_qr_codes`)."""
    import zxingcpp

    try:
        # Image.open reads the header only; `formats` keeps every other plug-in away from the data.
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            if image.format not in _OPENED_AS:
                raise BadImage("Send a PNG, JPEG or WebP photo of the sign.")
            width, height = image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise BadImage(
                    f"The photo is {width}x{height} pixels; send at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels, {MAX_SIDE} pixels a side."
                )
            grey = image.convert("L")  # decodes here, within the checked size
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,  # raised when warnings are errors
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise BadImage("Send a PNG, JPEG or WebP photo of the sign.") from None
    results = zxingcpp.read_barcodes(
        grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [r.text for r in results if r.valid and r.text]


async def read_qr_codes(data: bytes) -> list[str]:
    """Texts of the QR codes in a photo, decoded on a worker thread; `BadImage` if unreadable."""
    return await asyncio.get_running_loop().run_in_executor(_pool, read_qr_codes_sync, data)
