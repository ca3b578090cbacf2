"""Printable stall signs: one A6/A5 sign per page, or several per A4 sheet with cut marks.

Each sign is drawn in A6 coordinates (millimetres, origin bottom-left) and scaled for A5. The
QR code is vector rectangles in a PDF form XObject, so identical payloads are stored once, and
text uses the embedded DejaVu Sans (qr/fonts/) for full Vietnamese diacritics.

The code is level H (`render.ECC`) and fills the sign's QR square with exactly the standard's
4-module quiet zone around it: for a static payload (version 6, 41 modules) that is 1.55 mm
modules and a 6.2 mm quiet zone on A6, 2.19 mm and 8.7 mm on A5. docs/signs.md says why.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from core.text import zone_label
from qr import render

Size = Literal["A6", "A5"]

INSTRUCTION = "Quét mã để thanh toán"
NETWORK = "VietQR · NAPAS 247"

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = "ChoSo-DejaVuSans"
BOLD = "ChoSo-DejaVuSans-Bold"
pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))


@dataclass(frozen=True)
class SignInfo:
    """What one stall's sign shows; `payload` is the VietQR string its code carries."""

    payload: str
    market_name: str
    stall_code: str
    holder_name: str
    goods: str | None
    bank_short_name: str
    account_number: str
    account_name: str
    zone: str | None = None
    # Whom the stallholder calls when a transfer goes wrong: the partner that set the account up
    # and the support number an administrator recorded for it (partners.registry); both or neither.
    support_partner: str | None = None
    support_phone: str | None = None


# ---------------------------------------------------------------- geometry (millimetres)

SIGN_W, SIGN_H = 105.0, 148.0  # A6 portrait; A5 is the same drawing scaled by 148/105
SCALE = {"A6": 1.0, "A5": 148.0 / 105.0}
PAGE = {"A6": (105.0, 148.0), "A5": (148.0, 210.0)}  # one sign per page, portrait
FRAME_INSET = 4.0
TEXT_W = SIGN_W - 2 * FRAME_INSET - 8.0  # usable text width inside the frame
BAND_H = 21.0  # black header band with market and stall code
QR_TOP = 44.0  # from the top edge: where the square kept for the code and its quiet zone begins
QR_BOX = 76.0  # side of that square: the code fills it, less its quiet zone
QUIET = 4  # quiet zone in modules on every side (the standard's minimum): larger modules instead
MIN_TEXT_PT = 6.0
# DejaVu Sans: ascender (room for Vietnamese stacked marks) and line height, in ems
ASCENT, LINE = 0.93, 1.17


@dataclass(frozen=True)
class Fitted:
    """Text fitted into a width: its font size and its lines; `cut` when a line had to be
    shortened with an ellipsis (the sign does not show the whole text)."""

    size: float
    lines: tuple[str, ...]
    cut: bool = False


def fit_text(
    text: str,
    font: str,
    max_size: float,
    width: float,
    max_lines: int = 1,
    *,
    never_cut: bool = False,
) -> Fitted:
    """Largest size <= max_size at which `text` fits `width` points in at most `max_lines` lines,
    broken at spaces so that the widest line is as narrow as it can be. Another line is tried only
    while fewer lines leave the text under 0.8 of `max_size`. Rather than shrink below
    MIN_TEXT_PT, a line too wide is cut short with an ellipsis; with `never_cut` the text gets as
    small as it must (an account's name, which a payer compares with their bank app's, whole)."""
    text = " ".join(text.split())
    words = text.split(" ")
    advances = [pdfmetrics.stringWidth(word, font, 1.0) for word in words]
    space = pdfmetrics.stringWidth(" ", font, 1.0)
    best = Fitted(0.0, (text,))
    for count in range(1, min(max_lines, len(words)) + 1):
        lines, widest = _balanced(words, advances, space, count)
        size = min(max_size, width / (widest or 1.0))
        if size > best.size:
            best = Fitted(size, lines)
        if best.size >= 0.8 * max_size:
            break
    if best.size >= MIN_TEXT_PT or never_cut:
        return best
    return Fitted(MIN_TEXT_PT, tuple(_cut(line, font, width) for line in best.lines), cut=True)


def _balanced(
    words: list[str], advances: list[float], space: float, count: int
) -> tuple[tuple[str, ...], float]:
    """`words` set in `count` lines whose widest is as narrow as possible (at size 1), and that
    width. Glyph advances add up (no kerning in the sign's text), so a line's width is its words'
    plus its spaces'."""
    total = len(words)
    before = [0.0]
    for advance in advances:
        before.append(before[-1] + advance)

    def span(i: int, j: int) -> float:  # words[i:j] on one line
        return before[j] - before[i] + space * (j - i - 1)

    inf = float("inf")
    # widest[k][j]: the narrowest widest line that sets words[:j] in k lines; start: its last
    # line's first word
    widest = [[inf] * (total + 1) for _ in range(count + 1)]
    start = [[0] * (total + 1) for _ in range(count + 1)]
    widest[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(k, total + 1):
            for i in range(k - 1, j):
                value = max(widest[k - 1][i], span(i, j))
                if value < widest[k][j]:
                    widest[k][j], start[k][j] = value, i
    lines: list[str] = []
    j = total
    for k in range(count, 0, -1):
        i = start[k][j]
        lines.append(" ".join(words[i:j]))
        j = i
    return tuple(reversed(lines)), widest[count][total]


def footer_text(sign: SignInfo) -> str:
    """The sign's last line: the payment network, and the partner's support number when there is
    one. A number is never cut short: when the whole line does not fit at MIN_TEXT_PT the network
    goes first, then the partner's name."""
    if not sign.support_phone:
        return NETWORK
    bare = f"Hỗ trợ: {sign.support_phone}"
    named = f"Hỗ trợ {sign.support_partner}: {sign.support_phone}" if sign.support_partner else bare
    for text in (f"{NETWORK} · {named}", named, bare):
        if pdfmetrics.stringWidth(text, REGULAR, MIN_TEXT_PT) <= TEXT_W * mm:
            return text
    return sign.support_phone  # at most 20 characters (partners.schemas): fits any sign


def _cut(line: str, font: str, width: float) -> str:
    """`line` at MIN_TEXT_PT, shortened with an ellipsis if it is wider than `width`."""
    if pdfmetrics.stringWidth(line, font, MIN_TEXT_PT) <= width:
        return line
    while line and pdfmetrics.stringWidth(line + "…", font, MIN_TEXT_PT) > width:
        line = line[:-1]
    return line.rstrip() + "…"


@dataclass(frozen=True)
class _Texts:
    """A sign's texts, each fitted to the sign's width as drawn."""

    market: Fitted
    code: Fitted
    name: Fitted
    goods: Fitted | None
    account_name: Fitted
    footer: Fitted


def _texts(sign: SignInfo) -> _Texts:
    width = TEXT_W * mm
    market = sign.market_name.upper()
    if sign.zone:  # named as on screen ("Khu A"), not a bare letter after the market
        market = f"{market} · {zone_label(sign.zone).upper()}"
    return _Texts(
        market=fit_text(market, BOLD, 9.0, width),
        code=fit_text(sign.stall_code, BOLD, 34.0, width),
        name=fit_text(sign.holder_name, BOLD, 16.0, width, max_lines=2),
        goods=fit_text(sign.goods, REGULAR, 10.0, width, max_lines=2) if sign.goods else None,
        account_name=fit_text(sign.account_name.upper(), REGULAR, 9.0, width, never_cut=True),
        footer=fit_text(footer_text(sign), REGULAR, 7.0, width),
    )


_INSTRUCTION = fit_text(INSTRUCTION, BOLD, 13.0, TEXT_W * mm)


def shortened(sign: SignInfo) -> tuple[str, ...]:
    """The texts this sign shows only in part, cut short with an ellipsis because they do not fit
    at MIN_TEXT_PT: `market_name` (with the zone), `stall_code`, `holder_name`, `goods`. Within the schemas'
    limits that takes letters far wider than Vietnamese words (a name of 100 characters and a
    goods line of 100 fit in their two lines); the account's name is never cut."""
    texts = _texts(sign)
    fields = (("market_name", texts.market), ("stall_code", texts.code),
              ("holder_name", texts.name), ("goods", texts.goods))  # fmt: skip
    return tuple(field for field, fitted in fields if fitted is not None and fitted.cut)


# ---------------------------------------------------------------- drawing


class _Painter:
    """Draws signs on one canvas; remembers which QR forms it has already defined."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.forms: dict[str, str] = {}

    def qr_form(self, payload: str) -> tuple[str, int]:
        qr = render.matrix(payload)
        name = self.forms.get(payload)
        if name is None:
            name = f"qr{len(self.forms)}"
            self.forms[payload] = name
            c = self.canvas
            c.beginForm(name, 0, 0, qr.size, qr.size)
            c.addLiteral(_qr_path(qr))
            c.endForm()
        return name, qr.size

    def sign(self, sign: SignInfo, x: float, y: float, scale: float) -> None:
        """Draw `sign` with its bottom-left corner at (x, y) points, A6 scaled by `scale`."""
        c = self.canvas
        c.saveState()
        c.translate(x, y)
        c.scale(scale * mm, scale * mm)  # from here on, units are A6 millimetres
        c.setLineJoin(1)
        top = SIGN_H
        inner_w = SIGN_W - 2 * FRAME_INSET
        centre = SIGN_W / 2

        # Frame, and the black header band clipped to its rounded corners.
        c.saveState()
        clip = c.beginPath()
        clip.roundRect(FRAME_INSET, FRAME_INSET, inner_w, SIGN_H - 2 * FRAME_INSET, 3.0)
        c.clipPath(clip, stroke=0, fill=0)
        c.setFillGray(0)
        c.rect(FRAME_INSET, top - FRAME_INSET - BAND_H, inner_w, BAND_H, stroke=0, fill=1)
        c.restoreState()
        c.setLineWidth(0.5)
        c.roundRect(FRAME_INSET, FRAME_INSET, inner_w, SIGN_H - 2 * FRAME_INSET, 3.0)

        texts = _texts(sign)
        c.setFillGray(1)
        self._line(texts.market, BOLD, top - FRAME_INSET - 5.6, centre)
        self._line(texts.code, BOLD, top - FRAME_INSET - BAND_H + 3.4, centre)

        c.setFillGray(0)
        heading_top = top - FRAME_INSET - BAND_H - 2.0
        self._heading(texts, top=heading_top, bottom=top - QR_TOP, centre=centre)

        name, modules = self.qr_form(sign.payload)
        module = QR_BOX / (modules + 2 * QUIET)
        symbol = module * modules
        c.saveState()
        c.translate(centre - symbol / 2, top - QR_TOP - QR_BOX / 2 - symbol / 2)
        c.scale(module, module)
        c.doForm(name)
        c.restoreState()

        below = top - QR_TOP - QR_BOX  # bottom of the quiet zone
        self._line(_INSTRUCTION, BOLD, below - 5.2, centre)
        self._pair(sign.bank_short_name, sign.account_number, below - 11.6, centre)
        self._line(texts.account_name, REGULAR, below - 16.4, centre)
        self._line(texts.footer, REGULAR, FRAME_INSET + 2.6, centre)
        c.restoreState()

    def _line(self, fitted: Fitted, font: str, baseline: float, centre: float) -> None:
        c = self.canvas
        c.setFont(font, fitted.size / mm)
        c.drawCentredString(centre, baseline, fitted.lines[0])

    def _heading(self, texts: _Texts, *, top: float, bottom: float, centre: float) -> None:
        """Stallholder name and goods (each one or two lines), centred between `top` and
        `bottom`; the name gets smaller when both would not fit."""
        room = (top - bottom) * mm  # points
        gap = 2.5 * mm
        name, goods = texts.name, texts.goods
        goods_h = goods.size * LINE * len(goods.lines) if goods else 0.0
        name_size = name.size
        name_room = room - (goods_h + gap if goods else 0.0)
        if len(name.lines) * name_size * LINE > name_room:
            name_size = name_room / (len(name.lines) * LINE)
        blocks = [(BOLD, name_size, name.lines)]
        if goods:
            blocks.append((REGULAR, goods.size, goods.lines))
        used = sum(size * LINE * len(lines) for _, size, lines in blocks) + gap * (len(blocks) - 1)
        y = top * mm - (room - used) / 2  # points, top of the first line box
        c = self.canvas
        for font, size, lines in blocks:
            c.setFont(font, size / mm)
            for line in lines:
                y -= ASCENT * size
                c.drawCentredString(centre, y / mm, line)
                y -= (LINE - ASCENT) * size
            y -= gap

    def _pair(self, bank: str, account: str, baseline: float, centre: float) -> None:
        """Bank name (regular) and account number (bold) on one centred line."""
        gap = "  "
        size = 12.5
        width_pt = pdfmetrics.stringWidth(bank + gap, REGULAR, 1.0) * 0.85 + pdfmetrics.stringWidth(
            account, BOLD, 1.0
        )
        size = min(size, TEXT_W * mm / width_pt)
        c = self.canvas
        bank_size, account_size = 0.85 * size / mm, size / mm
        bank_w = pdfmetrics.stringWidth(bank + gap, REGULAR, bank_size)
        total = bank_w + pdfmetrics.stringWidth(account, BOLD, account_size)
        left = centre - total / 2
        c.setFont(REGULAR, bank_size)
        c.drawString(left, baseline, bank + gap)
        c.setFont(BOLD, account_size)
        c.drawString(left + bank_w, baseline, account)


def _qr_path(qr: render.QrMatrix) -> str:
    """PDF path operators filling every dark run, in module units with y up."""
    top = qr.size - 1
    rects = " re\n".join(f"{c} {top - r} {n} 1" for r, c, n in qr.runs)
    return f"0 g\n{rects} re\nf"


def _new_canvas(out: io.BytesIO, pagesize: tuple[float, float], title: str) -> Canvas:
    canvas = Canvas(out, pagesize=pagesize, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("Chợ Số")
    canvas.setCreator("Chợ Số")
    canvas.setSubject("Biển thanh toán VietQR")
    return canvas


def _check_size(size: str) -> None:
    if size not in SCALE:
        raise ValueError(f"sign size must be A6 or A5 (got {size!r})")


def sign_pdf(sign: SignInfo, *, size: Size = "A6") -> bytes:
    """One sign on one page of its own size (A6 or A5, portrait)."""
    _check_size(size)
    scale = SCALE[size]
    width, height = PAGE[size]
    out = io.BytesIO()
    canvas = _new_canvas(out, (width * mm, height * mm), f"{sign.market_name} · {sign.stall_code}")
    _Painter(canvas).sign(sign, 0, (height - SIGN_H * scale) / 2 * mm, scale)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def market_pdf(
    signs: Iterable[SignInfo],
    *,
    size: Size = "A6",
    progress: Callable[[int, int], None] | None = None,
    title: str | None = None,
) -> bytes:
    """Signs in the given order, 4 A6 (portrait A4) or 2 A5 (landscape A4) per sheet, with
    cut marks. Identical payloads are rendered once. `progress(done, total)` follows along."""
    _check_size(size)
    items = list(signs)
    scale = SCALE[size]
    if size == "A6":
        page, columns, rows = A4, 2, 2
    else:
        page, columns, rows = landscape(A4), 2, 1
    tile_w, tile_h = page[0] / columns, page[1] / rows
    sign_w, sign_h = SIGN_W * scale * mm, SIGN_H * scale * mm
    per_page = columns * rows
    out = io.BytesIO()
    canvas = _new_canvas(out, page, title or "Biển thanh toán VietQR")
    painter = _Painter(canvas)
    for index, sign in enumerate(items):
        slot = index % per_page
        col, row = slot % columns, slot // columns
        x = col * tile_w + (tile_w - sign_w) / 2
        y = page[1] - (row + 1) * tile_h + (tile_h - sign_h) / 2
        painter.sign(sign, x, y, scale)
        if progress is not None:
            progress(index + 1, len(items))
        if slot == per_page - 1 or index == len(items) - 1:
            _cut_marks(canvas, page, columns, rows)
            canvas.showPage()
    if not items:
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _cut_marks(canvas: Canvas, page: tuple[float, float], columns: int, rows: int) -> None:
    """Short ticks where the cut lines meet the sheet edges, and crosses where they meet."""
    width, height = page
    edge_from, edge_to, arm = 2 * mm, 7 * mm, 3 * mm
    canvas.saveState()
    canvas.setStrokeGray(0)
    canvas.setLineWidth(0.4)
    path = canvas.beginPath()
    for i in range(1, columns):
        x = width * i / columns
        path.moveTo(x, edge_from)
        path.lineTo(x, edge_to)
        path.moveTo(x, height - edge_from)
        path.lineTo(x, height - edge_to)
    for j in range(1, rows):
        y = height * j / rows
        path.moveTo(edge_from, y)
        path.lineTo(edge_to, y)
        path.moveTo(width - edge_from, y)
        path.lineTo(width - edge_to, y)
    for i in range(1, columns):
        for j in range(1, rows):
            x, y = width * i / columns, height * j / rows
            path.moveTo(x - arm, y)
            path.lineTo(x + arm, y)
            path.moveTo(x, y - arm)
            path.lineTo(x, y + arm)
    canvas.drawPath(path, stroke=1, fill=0)
    canvas.restoreState()
