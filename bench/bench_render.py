"""Rendering throughput: our QR PNGs and market sign sheets against the plain qrcode path.

Both sides render the same distinct payloads in the same run, and our matrix cache is cleared
before every timed round, so the ratios measure rendering work, not cache hits.
"""

import io
import random
import string
import time
from collections.abc import Callable, Sequence
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from qr import banks, payload, render, sign

PNG_INPUTS = 300
STALLS = 500
ROUNDS = 3
SCALE = 10
WORDS = ["rau", "ca", "thit", "trai cay", "do kho", "gia vi", "hoa", "banh"]
NAMES = ["Nguyễn Thị Hồng", "Trần Văn Đức", "Lê Thị Ngọc Ánh", "Phạm Quốc Bảo", "Võ Thị Thu Hà"]


def _payloads(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    bins = [b.bin for b in banks.all_banks() if b.bin not in ("971025", "970454")]
    return [
        payload.encode(
            bin=rng.choice(bins),
            account="".join(rng.choices(string.digits, k=rng.randint(8, 16))),
            purpose=rng.choice([None, f"SAP {rng.randint(1, 300)} {rng.choice(WORDS)}"]),
        )
        for _ in range(count)
    ]


def _signs(count: int, seed: int = 7) -> list[sign.SignInfo]:
    rng = random.Random(seed)
    return [
        sign.SignInfo(
            payload=p,
            market_name="Chợ Hàn",
            stall_code=f"{rng.choice('ABCDK')}{i + 1}",
            holder_name=rng.choice(NAMES),
            goods=rng.choice(WORDS).title(),
            bank_short_name="Vietcombank",
            account_number=p[38:51],
            account_name="NGUYEN THI HONG",
            zone=rng.choice([None, "Khu rau", "Khu cá"]),
        )
        for i, p in enumerate(_payloads(count, seed))
    ]


def _plain_qrcode_png(data: str) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=SCALE, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out, "PNG")
    return out.getvalue()


def _naive_market_pdf(signs: Sequence[sign.SignInfo]) -> bytes:
    """The obvious loop: a plain qrcode PNG per stall, placed with the same text, 4 per A4."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    tile_w, tile_h = A4[0] / 2, A4[1] / 2
    for index, stall in enumerate(signs):
        slot = index % 4
        x, y = (slot % 2) * tile_w, A4[1] - (slot // 2 + 1) * tile_h
        centre = x + tile_w / 2
        image = ImageReader(io.BytesIO(_plain_qrcode_png(stall.payload)))
        canvas.drawImage(image, centre - 38 * mm, y + 28 * mm, 76 * mm, 76 * mm)
        canvas.setFont(sign.BOLD, 9)
        canvas.drawCentredString(centre, y + tile_h - 16 * mm, stall.market_name.upper())
        canvas.setFont(sign.BOLD, 34)
        canvas.drawCentredString(centre, y + tile_h - 25 * mm, stall.stall_code)
        canvas.setFont(sign.BOLD, 16)
        canvas.drawCentredString(centre, y + tile_h - 33 * mm, stall.holder_name)
        canvas.setFont(sign.REGULAR, 10)
        canvas.drawCentredString(centre, y + tile_h - 40 * mm, stall.goods or "")
        canvas.setFont(sign.BOLD, 13)
        canvas.drawCentredString(centre, y + 22 * mm, sign.INSTRUCTION)
        canvas.setFont(sign.BOLD, 12)
        account_line = f"{stall.bank_short_name}  {stall.account_number}"
        canvas.drawCentredString(centre, y + 16 * mm, account_line)
        canvas.setFont(sign.REGULAR, 9)
        canvas.drawCentredString(centre, y + 11 * mm, stall.account_name)
        canvas.setFont(sign.REGULAR, 7)
        canvas.drawCentredString(centre, y + 7 * mm, sign.NETWORK)
        if slot == 3 or index == len(signs) - 1:
            canvas.showPage()
    canvas.save()
    return out.getvalue()


def _best_of(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        render.matrix.cache_clear()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[dict[str, Any]]:
    """Time PNG rendering and a 500-stall market PDF, ours against the plain qrcode path."""
    payloads = _payloads(PNG_INPUTS, seed=20241127)
    ours_png = _best_of(lambda: [render.png(p, scale=SCALE) for p in payloads])
    baseline_png = _best_of(lambda: [_plain_qrcode_png(p) for p in payloads])

    signs = _signs(STALLS)
    ours_pdf = _best_of(lambda: sign.market_pdf(signs), rounds=2)
    baseline_pdf = _best_of(lambda: _naive_market_pdf(signs), rounds=2)
    return [
        {
            "name": "png_render",
            "ours_per_s": round(PNG_INPUTS / ours_png),
            "baseline_per_s": round(PNG_INPUTS / baseline_png),
            "ratio": round(baseline_png / ours_png, 2),
        },
        {
            "name": "market_pdf_500",
            "ours_seconds": round(ours_pdf, 3),
            "ours_stalls_per_s": round(STALLS / ours_pdf),
            "baseline_seconds": round(baseline_pdf, 3),
            "ratio": round(baseline_pdf / ours_pdf, 2),
        },
    ]


if __name__ == "__main__":
    print(run())
