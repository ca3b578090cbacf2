"""Durability of printed signs: how many damaged photos of a sign still scan to its exact payload.

Each case is one sign photographed after one kind of damage. The same damage, placed in
millimetres on the sign, is applied to two prints of the same payload in the same square:
our sign as `qr.sign.sign_pdf` draws it, and a plain `qrcode.make(payload)` image (level M,
box 10, border 4) printed over the sign's QR square. zxing-cpp decodes both photos. A case
counts only when the decoded text is exactly the payload; any other text is a wrong decode.

Damage is drawn from seeded random numbers, so a run is repeatable. tests/qr/test_durability.py
asserts the shares on a sample; `make bench` reports them per damage kind on more cases.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pypdfium2 as pdfium
import qrcode
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from qr import payload, sign

DPI = 150  # the printed sign, rasterised; photos (at most 4 pixels per mm) are made from this
PX_PER_MM = DPI / 25.4
LENS_PX = 0.6  # blur (Gaussian sigma) of a phone's lens and sensor, in photo pixels

# Accounts of the public VietQR vectors (shared/reference/vietqr_vectors.json), encoded as a sign
# encodes them: static, no amount, no purpose. One MoMo wallet with its MOMOW2W reference.
ACCOUNTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("970415", "0011001932418", "account", None),
    ("970403", "9704031101234567", "card", None),
    ("970423", "0099999999", "account", None),
    ("970422", "0023457923442", "account", None),
    ("970436", "1017595600", "account", None),
    ("970407", "9796868", "account", None),
    ("970405", "1111111111", "account", None),
    ("971025", "0905555999", "account", "MOMOW2W0905555999"),
)

NAMES = ("Nguyễn Thị Hồng Nhung", "Trần Văn Đức", "Lê Thị Ngọc Ánh", "Phạm Quốc Bảo")
GOODS = ("Rau củ quả tươi", "Cá biển, mực", "Trái cây", None)


def sign_payloads() -> list[str]:
    """The exact payload a sign prints for each account above."""
    return [
        payload.encode(
            bin=bin_,
            account=account,
            service="card" if service == "card" else "account",
            reference=reference,
            poi="11",
        )
        for bin_, account, service, reference in ACCOUNTS
    ]


WEAR = ("none", "stain", "tape", "glare")  # what months over the stall did to the sign
SHOT = ("steady", "tilt", "distance", "blur", "jpeg", "contrast")  # how it is photographed


@dataclass(frozen=True)
class Case:
    """One photo: which payload, the sign's wear, the shot, and the seed of their parameters."""

    payload: str
    wear: str
    shot: str
    seed: int


def cases(payloads: Sequence[str], per_cell: int, seed: int = 2026) -> list[Case]:
    """`per_cell` cases of every wear and shot together, payloads taken in turn.

    A clean sign photographed steadily is no damage at all, so that cell is left out; the
    cells with wear "none" or shot "steady" are the single kinds of damage on their own."""
    rng = random.Random(seed)
    cells = [(w, s) for w in WEAR for s in SHOT if (w, s) != ("none", "steady")]
    return [
        Case(payloads[(k * per_cell + i) % len(payloads)], wear, shot, rng.getrandbits(32))
        for k, (wear, shot) in enumerate(cells)
        for i in range(per_cell)
    ]


# ---------------------------------------------------------------- the two prints


@dataclass(frozen=True)
class Box:
    """The sign's QR square (code and quiet zone) in pixels of the rasterised sign."""

    left: float
    top: float
    side: float

    def at(self, u: float, v: float) -> tuple[float, float]:
        """The pixel at fractions (u, v) of the square, from its top-left corner."""
        return self.left + u * self.side, self.top + v * self.side


MARGIN_MM = 12.0  # the photo frames the QR square and this much of the sign around it


def qr_box() -> Box:
    """Where the QR square lies in a print (`sign_print`, `plain_print`)."""
    return Box(MARGIN_MM * PX_PER_MM, MARGIN_MM * PX_PER_MM, sign.QR_BOX * PX_PER_MM)


def _framed(page: Image.Image) -> Image.Image:
    """The part of a rasterised A6 sign around its QR square that photos are made of."""
    left = (sign.SIGN_W / 2 - sign.QR_BOX / 2 - MARGIN_MM) * PX_PER_MM
    top = (sign.QR_TOP - MARGIN_MM) * PX_PER_MM
    side = (sign.QR_BOX + 2 * MARGIN_MM) * PX_PER_MM
    return page.crop((round(left), round(top), round(left + side), round(top + side)))


@cache
def sign_print(text: str) -> Image.Image:
    """Our A6 sign for `text` as printed (rasterised at DPI, greyscale), around its QR square."""
    info = sign.SignInfo(
        payload=text,
        market_name="Chợ Hàn",
        stall_code=f"K{len(text)}",
        holder_name=NAMES[len(text) % len(NAMES)],
        goods=GOODS[len(text) % len(GOODS)],
        bank_short_name="Vietcombank",
        account_number="0011001932418",
        account_name="NGUYEN THI HONG NHUNG",
        zone="Khu cá",
    )
    document = pdfium.PdfDocument(sign.sign_pdf(info))
    return _framed(document[0].render(scale=DPI / 72).to_pil().convert("L"))


@cache
def plain_print(text: str) -> Image.Image:
    """The same sign with `qrcode.make(text)` (border included) printed over its QR square."""
    out = sign_print(text).copy()
    box = qr_box()
    left, top, side = round(box.left), round(box.top), round(box.side)
    ImageDraw.Draw(out).rectangle((left, top, left + side - 1, top + side - 1), fill=255)
    plain = qrcode.make(text).get_image().convert("L")
    # Printed as a printer would: its modules resampled to the square, edges anti-aliased.
    out.paste(plain.resize((side, side), Image.Resampling.BOX), (left, top))
    return out


# ---------------------------------------------------------------- damage and camera


@dataclass(frozen=True)
class Camera:
    """How a phone sees the (damaged) sign."""

    px_per_mm: float = 4.0  # resolution on the sign in the photo; about 30 cm away at 1080p
    blur_mm: float = 0.15  # defocus and shake, as a Gaussian sigma on the sign
    tilt: tuple[float, float, float] = (0.0, 0.0, 0.0)  # pitch, yaw, roll in degrees
    jpeg_quality: int = 85
    noise: float = 3.0  # grey levels (sigma) of sensor noise
    black: int = 0  # where printed black and white land after lighting and the sleeve
    white: int = 255
    shade: float = 0.0  # uneven light: the darker edge gets (1 - shade) of the light


# Per kind of wear or shot, the range its severity is drawn from (mildest first).
SEVERITY: dict[str, tuple[float, float]] = {
    "stain": (0.04, 0.12),  # share of the QR square under a dark stain (about 1.7 to 3 cm across)
    "tape": (15.0, 35.0),  # mm of a 9-15 mm wide strip of light tape across the code
    "glare": (0.7, 0.97),  # peak wash toward white of a reflection on the sleeve
    "tilt": (20.0, 55.0),  # degrees the sign is turned away from the camera
    "distance": (2.1, 1.25),  # photo pixels per mm: 60 cm to 1 m away, 1080p frames, 75 degree lens
    "blur": (0.3, 0.8),  # Gaussian sigma in mm of sign (defocus, a hurried hand)
    "jpeg": (12.0, 3.0),  # JPEG quality of a photo at 2 pixels per mm
    "contrast": (80.0, 40.0),  # grey levels between printed black and white, unevenly lit
}


def photos(
    case: Case,
    prints: Sequence[Image.Image],
    *,
    wear_severity: float | None = None,
    shot_severity: float | None = None,
) -> list[Image.Image]:
    """Each print after the case's wear, through the case's shot: the same damage for all.

    The severities override those drawn from the kinds' ranges (for calibration)."""
    rng = random.Random(case.seed)
    marks = _wear(case.wear, _drawn(case.wear, rng, wear_severity), rng)
    camera = _shot(case.shot, _drawn(case.shot, rng, shot_severity), rng)
    if case.wear == "glare" and case.shot != "contrast":
        # the sleeve that reflects also hazes the whole sign a little
        camera = replace(camera, black=rng.randint(15, 40), white=rng.randint(215, 245))
    out = []
    for printed in prints:
        image = printed
        for mark in marks:
            image = mark(image)
        out.append(_photograph(image, camera, random.Random(case.seed ^ 0x5EED)))
    return out


def _drawn(kind: str, rng: random.Random, override: float | None) -> float:
    low, high = SEVERITY.get(kind, (0.0, 0.0))
    drawn = rng.uniform(low, high)  # drawn even when overridden, so the other draws stay put
    return drawn if override is None else override


def _wear(
    kind: str, severity: float, rng: random.Random
) -> list[Callable[[Image.Image], Image.Image]]:
    if kind == "none":
        return []
    if kind == "stain":
        return [_stain(rng, severity)]
    if kind == "tape":
        return [_tape(rng, severity)]
    if kind == "glare":
        return [_glare(rng, severity)]
    raise ValueError(f"unknown wear {kind!r}")


def _shot(kind: str, severity: float, rng: random.Random) -> Camera:
    if kind == "steady":
        return Camera()
    if kind == "tilt":
        turn = math.radians(rng.uniform(0, 360))  # which way the sign is turned
        pitch, yaw = severity * math.cos(turn), severity * math.sin(turn)
        return Camera(px_per_mm=3.0, tilt=(pitch, yaw, rng.uniform(-20, 20)))
    if kind == "distance":
        return Camera(px_per_mm=severity)
    if kind == "blur":
        return Camera(blur_mm=severity)
    if kind == "jpeg":
        return Camera(px_per_mm=2.0, jpeg_quality=round(severity))
    if kind == "contrast":
        black = rng.randint(60, 130)
        return Camera(
            black=black, white=black + round(severity), shade=rng.uniform(0.2, 0.5), noise=5.0
        )
    raise ValueError(f"unknown shot {kind!r}")


# A mark over a finder pattern defeats every QR code alike, whatever its level, so stains and
# tape stay off the three finder patterns (with their separators): in a square printed with a
# 4-module border they lie within this fraction of the side from the corners (12 of 41 modules
# for version 4, the plain code's; less for larger versions).
_FINDER_ZONE = 0.3
_FINDER_CORNERS = ((0.0, 0.0), (1.0 - _FINDER_ZONE, 0.0), (0.0, 1.0 - _FINDER_ZONE))
_MASK_STEP = 4  # masks are drawn and softened at a quarter of the print's resolution, then enlarged

Shape = Callable[[ImageDraw.ImageDraw, random.Random], None]


def _mark_mask(
    size: tuple[int, int], rng: random.Random, shape: Shape, edge_mm: float
) -> Image.Image:
    """A soft mask of `shape` (drawn on a 1/_MASK_STEP canvas), redrawn until it stays off every
    finder pattern, at full `size`."""
    box = qr_box()
    small_size = (size[0] // _MASK_STEP + 1, size[1] // _MASK_STEP + 1)
    zone = _FINDER_ZONE * box.side / _MASK_STEP
    for _ in range(1000):
        small = Image.new("L", small_size, 0)
        shape(ImageDraw.Draw(small), rng)
        small = small.filter(ImageFilter.GaussianBlur(edge_mm * PX_PER_MM / _MASK_STEP))
        clear = True
        for u, v in _FINDER_CORNERS:
            x, y = (c / _MASK_STEP for c in box.at(u, v))
            corner = small.crop((round(x), round(y), round(x + zone), round(y + zone)))
            clear = clear and corner.point(lambda a: 255 if a >= 32 else 0).getbbox() is None
        if clear:
            return small.resize(size, Image.Resampling.BILINEAR)
    raise ValueError("a mark this large cannot stay off the finder patterns")


def _inside_code(rng: random.Random) -> tuple[float, float]:
    """A random pixel of the print inside the code's area (the QR square less its border)."""
    return qr_box().at(rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85))


def _stain(rng: random.Random, area: float) -> Callable[[Image.Image], Image.Image]:
    """A dark stain (mud, grease, dried fish water) hiding about `area` of the QR square."""
    tone = rng.randint(40, 110)
    opacity = rng.uniform(0.85, 1.0)
    seed = rng.getrandbits(32)
    radius = qr_box().side * math.sqrt(area / math.pi)

    def blob(draw: ImageDraw.ImageDraw, r: random.Random) -> None:
        cx, cy = _inside_code(r)
        for _ in range(r.randint(3, 5)):  # a few overlapping ellipses around the centre
            a = radius * r.uniform(0.55, 0.8)
            x = cx + r.uniform(-0.45, 0.45) * radius
            y = cy + r.uniform(-0.45, 0.45) * radius
            squash = r.uniform(0.6, 1.4)
            draw.ellipse(
                _scaled((x - a * squash, y - a / squash, x + a * squash, y + a / squash)), fill=255
            )

    @cache
    def mask(size: tuple[int, int]) -> Image.Image:
        soft = _mark_mask(size, random.Random(seed), blob, edge_mm=0.6)
        return soft.point(lambda a: round(a * opacity))

    def apply(image: Image.Image) -> Image.Image:
        out = image.copy()
        out.paste(tone, mask=mask(image.size))
        return out

    return apply


def _tape(rng: random.Random, length_mm: float) -> Callable[[Image.Image], Image.Image]:
    """A strip of light tape, 9-15 mm wide and `length_mm` long, stuck across part of the code."""
    tone = rng.randint(215, 245)
    opacity = rng.uniform(0.8, 1.0)
    seed = rng.getrandbits(32)

    def strip(draw: ImageDraw.ImageDraw, r: random.Random) -> None:
        cx, cy = _inside_code(r)
        half_w, half_l = r.uniform(4.5, 7.5) * PX_PER_MM, length_mm / 2 * PX_PER_MM
        angle = r.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        corners = [
            (
                (cx + sx * half_l * dx - sy * half_w * dy) / _MASK_STEP,
                (cy + sx * half_l * dy + sy * half_w * dx) / _MASK_STEP,
            )
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        draw.polygon(corners, fill=round(255 * opacity))

    @cache
    def mask(size: tuple[int, int]) -> Image.Image:
        return _mark_mask(size, random.Random(seed), strip, edge_mm=0.2)

    def apply(image: Image.Image) -> Image.Image:
        out = image.copy()
        out.paste(tone, mask=mask(image.size))
        return out

    return apply


def _scaled(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return (box[0] / _MASK_STEP, box[1] / _MASK_STEP, box[2] / _MASK_STEP, box[3] / _MASK_STEP)


def _soft(small: Image.Image, size: tuple[int, int], edge_mm: float) -> Image.Image:
    """A mask drawn at 1/_MASK_STEP scale, its edges softened by `edge_mm`, at full `size`."""
    soft = small.filter(ImageFilter.GaussianBlur(edge_mm * PX_PER_MM / _MASK_STEP))
    return soft.resize(size, Image.Resampling.BILINEAR)


def _glare(rng: random.Random, peak: float) -> Callable[[Image.Image], Image.Image]:
    """A bright elliptical reflection on the sleeve: washes what is under it toward white."""
    seed = rng.getrandbits(32)

    @cache
    def mask(size: tuple[int, int]) -> Image.Image:
        r = random.Random(seed)
        box = qr_box()
        cx, cy = box.at(r.uniform(0.2, 0.8), r.uniform(0.2, 0.8))
        rx = box.side * r.uniform(0.12, 0.3)
        ry = rx * r.uniform(0.35, 0.8)
        small = Image.new("L", (size[0] // _MASK_STEP + 1, size[1] // _MASK_STEP + 1), 0)
        draw = ImageDraw.Draw(small)
        for level in range(1, 17):  # nested ellipses, brightest in the middle
            k = 1.6 - level / 16 * 1.2
            draw.ellipse(
                _scaled((cx - rx * k, cy - ry * k, cx + rx * k, cy + ry * k)),
                fill=round(255 * peak * min(1.0, level / 12)),
            )
        return _soft(small, size, edge_mm=1.5)

    def apply(image: Image.Image) -> Image.Image:
        return Image.composite(Image.new("L", image.size, 255), image, mask(image.size))

    return apply


def _photograph(image: Image.Image, camera: Camera, rng: random.Random) -> Image.Image:
    """Light, perspective, optics, sensor and compression, in that order."""
    if camera.black or camera.white != 255:
        span = camera.white - camera.black
        image = image.point(lambda p: camera.black + p * span // 255)
    if camera.shade:
        # light falling off across the sign in some direction: a turned linear ramp
        ramp = Image.linear_gradient("L").rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR)
        ramp = ramp.crop((38, 38, 218, 218)).resize(image.size, Image.Resampling.BILINEAR)
        ramp = ramp.point(lambda p: round(255 * (1 - camera.shade * p / 255)))
        image = ImageChops.multiply(image, ramp)
    # Optics work at twice the photo's resolution (or the print's, if lower): fine enough for
    # the final sampling, and a quarter of the pixels or fewer.
    work = min(PX_PER_MM, 2 * camera.px_per_mm)
    if work < PX_PER_MM:
        image = _resized(image, work / PX_PER_MM)
    if any(camera.tilt):
        image = _tilted(image, camera.tilt)
    # defocus and shake on the sign, plus the lens and sensor's own blur of about LENS_PX photo
    # pixels; Gaussian sigmas add in quadrature
    blur_px = math.hypot(camera.blur_mm, LENS_PX / camera.px_per_mm) * work
    if blur_px > 0.3:
        image = image.filter(ImageFilter.GaussianBlur(blur_px))
    image = _resized(image, camera.px_per_mm / work)
    if camera.noise:
        image = ImageChops.add(image, _noise(image.size, camera.noise, rng), offset=-128)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=camera.jpeg_quality)
    out.seek(0)
    return Image.open(out).convert("L")


def _resized(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BOX)


@cache
def _noise_tile(sigma: float) -> Image.Image:
    """Seeded Gaussian noise around grey 128 (PIL's own noise is not seeded)."""
    rng = random.Random(round(sigma * 1000))
    side = 256
    values = bytes(max(0, min(255, round(rng.gauss(128, sigma)))) for _ in range(side * side))
    return Image.frombytes("L", (side, side), values)


def _noise(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Noise for an image of `size`: the seeded tile, repeated from a random offset."""
    tile = _noise_tile(sigma)
    out = Image.new("L", size)
    dx, dy = rng.randrange(tile.width), rng.randrange(tile.height)
    for y in range(-dy, size[1], tile.height):
        for x in range(-dx, size[0], tile.width):
            out.paste(tile, (x, y))
    return out


def _tilted(image: Image.Image, tilt: tuple[float, float, float]) -> Image.Image:
    """The sign seen by a pinhole camera after turning it by pitch, yaw and roll (degrees)."""
    pitch, yaw, roll = (math.radians(a) for a in tilt)
    w, h = image.size
    distance = 2.5 * max(w, h)  # camera distance, in pixels of the sign: a phone at arm's length
    corners = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]

    def project(x: float, y: float) -> tuple[float, float]:
        px, py, pz = x - w / 2, y - h / 2, 0.0
        px, py = (
            px * math.cos(roll) - py * math.sin(roll),
            px * math.sin(roll) + py * math.cos(roll),
        )
        py, pz = py * math.cos(pitch), py * math.sin(pitch)
        px, pz = px * math.cos(yaw) + pz * math.sin(yaw), -px * math.sin(yaw) + pz * math.cos(yaw)
        f = distance / (distance + pz)
        return px * f, py * f

    seen = [project(x, y) for x, y in corners]
    min_x, min_y = min(p[0] for p in seen), min(p[1] for p in seen)
    seen = [(x - min_x + 20, y - min_y + 20) for x, y in seen]
    out_w = math.ceil(max(p[0] for p in seen)) + 20
    out_h = math.ceil(max(p[1] for p in seen)) + 20
    # PIL wants the map from output to input pixels
    coeffs = _perspective_coeffs(seen, corners)
    return image.transform(
        (out_w, out_h),
        Image.Transform.PERSPECTIVE,
        coeffs,
        resample=Image.Resampling.BICUBIC,
        fillcolor=90,  # a grey stall behind the sign
    )


def _perspective_coeffs(
    src: Sequence[tuple[float, float]], dst: Sequence[tuple[float, float]]
) -> tuple[float, ...]:
    """The 8 coefficients of the projective map taking each src point to its dst point."""
    rows: list[list[float]] = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    n = 8
    for col in range(n):  # Gauss-Jordan with partial pivoting
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [value / lead for value in rows[col]]
        for r in range(n):
            if r != col and rows[r][col]:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return tuple(row[n] for row in rows)


# ---------------------------------------------------------------- decoding and tallies


QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # as phones and our /scan read


def decoded(image: Image.Image) -> list[str]:
    """Every QR text zxing-cpp reads in `image`."""
    return [r.text for r in zxingcpp.read_barcodes(image, formats=QR_ONLY)]


@dataclass(frozen=True)
class Tally:
    """Cases, exact decodes and wrong decodes (some text other than the payload)."""

    cases: int
    exact: int
    wrong: int

    @property
    def share(self) -> float:
        return self.exact / self.cases if self.cases else 0.0


@dataclass(frozen=True)
class Outcome:
    """What zxing-cpp read from the photo of each print for one case."""

    case: Case
    ours: tuple[str, ...]
    plain: tuple[str, ...]

    def read(self, side: str) -> tuple[str, ...]:
        return self.ours if side == "ours" else self.plain


def measure(all_cases: Iterable[Case]) -> list[Outcome]:
    """Photograph and decode every case on both prints."""
    outcomes = []
    for case in all_cases:
        ours, plain = photos(case, [sign_print(case.payload), plain_print(case.payload)])
        outcomes.append(Outcome(case, tuple(decoded(ours)), tuple(decoded(plain))))
    return outcomes


def tally(outcomes: Iterable[Outcome], side: str, kind: str | None = None) -> Tally:
    """Our sign's (side "ours") or the plain code's results, for one wear or shot or all."""
    chosen = [o for o in outcomes if kind is None or kind in (o.case.wear, o.case.shot)]
    return Tally(
        len(chosen),
        sum(o.case.payload in o.read(side) for o in chosen),
        sum(any(t != o.case.payload for t in o.read(side)) for o in chosen),
    )


PER_CELL = 40  # 23 (wear, shot) pairs: 920 photos of each print


def _shares(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    ours, plain = tally(outcomes, "ours"), tally(outcomes, "plain")
    return {"cases": ours.cases, "ours": round(ours.share, 3), "plain": round(plain.share, 3)}


def run(per_cell: int = PER_CELL, seed: int = 2026) -> dict[str, Any]:
    """Shares read back exactly per wear, per shot and overall: our sign and the plain default."""
    outcomes = measure(cases(sign_payloads(), per_cell, seed))
    ours, plain = tally(outcomes, "ours"), tally(outcomes, "plain")
    by_kind = {
        kind: _shares([o for o in outcomes if kind in (o.case.wear, o.case.shot)])
        for kind in (*WEAR[1:], *SHOT[1:])
    }
    return {
        "name": "sign_durability",
        "ours_share": round(ours.share, 3),
        "plain_share": round(plain.share, 3),
        "points_above_plain": round(100 * (ours.share - plain.share), 1),
        "cases": ours.cases,
        "ours_wrong": ours.wrong,
        "plain_wrong": plain.wrong,
        "worn": _shares([o for o in outcomes if o.case.wear != "none"]),
        "clean": _shares([o for o in outcomes if o.case.wear == "none"]),
        "alone": {  # one kind of damage and nothing else
            kind: _shares(
                [
                    o
                    for o in outcomes
                    if {o.case.wear, o.case.shot} == {kind, "none" if kind in SHOT else "steady"}
                ]
            )
            for kind in (*WEAR[1:], *SHOT[1:])
        },
        "by_kind": by_kind,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
