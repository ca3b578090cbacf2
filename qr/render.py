"""QR symbols for payment payloads: the module matrix, PNG and SVG. Payload in, bytes out.

The symbol is built here rather than by `qrcode.QRCode.make()`, whose pure-Python mask search
and per-pixel drawing cost several milliseconds a code. Only the standard's tables (block
layout, alignment positions) come from the qrcode package. Segments are chosen by an exact
shortest-bit-stream search over numeric, alphanumeric and byte modes, so the symbol is never
larger than qrcode's optimiser would make it. Given the same segments and version, the matrix
equals qrcode's bit for bit, mask choice included (tests/qr/test_render.py checks this).

Every code we print or serve is level H (`ECC`): a payment sign hangs for months over wet
goods, often in a plastic sleeve. With a stain over 15% of a sign's QR square, 97% of photos of
a level-H code still scan, against about half of a level-M code (the usual default) with 12%.
The price is a larger version (6 rather than 4 for a static payload), so smaller modules at the
same printed size; docs/signs.md has the measurements (bench/bench_durability.py).
"""

from __future__ import annotations

import operator
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache

from qrcode import base as qr_tables
from qrcode import util as qr_util

# Format-information indicator of each error-correction level (ISO/IEC 18004 table 12).
# The qrcode package uses these same numbers as its ERROR_CORRECT_* constants.
ECC_BITS = {"M": 0b00, "Q": 0b11, "H": 0b10}
ECC = "H"  # the level of every symbol we render unless asked otherwise (see the module docstring)

NUMERIC, ALPHANUMERIC, BYTE = 0b0001, 0b0010, 0b0100
Segment = tuple[int, bytes]  # (mode indicator, data); byte-mode data is the UTF-8 encoding

_ALPHANUMERIC_CHARS = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE = {c: i for i, c in enumerate(_ALPHANUMERIC_CHARS)}
_DIGITS = frozenset(b"0123456789")


def _count_bits(version: int) -> dict[int, int]:
    """Width of the character-count field per mode for a version."""
    if version <= 9:
        return {NUMERIC: 10, ALPHANUMERIC: 9, BYTE: 8}
    if version <= 26:
        return {NUMERIC: 12, ALPHANUMERIC: 11, BYTE: 16}
    return {NUMERIC: 14, ALPHANUMERIC: 13, BYTE: 16}


@dataclass(frozen=True)
class QrMatrix:
    """A finished QR symbol without quiet zone.

    `rows[r]` holds row r as an integer whose most significant of `size` bits is column 0;
    a set bit is a dark module.
    """

    version: int
    ecc: str
    mask: int
    size: int
    rows: tuple[int, ...] = field(repr=False)
    segments: tuple[Segment, ...] = field(repr=False, compare=False, default=())

    def is_dark(self, row: int, col: int) -> bool:
        return bool(self.rows[row] >> (self.size - 1 - col) & 1)

    def to_lists(self) -> list[list[bool]]:
        """The modules as nested lists of booleans (row-major), like qrcode's `modules`."""
        return [[self.is_dark(r, c) for c in range(self.size)] for r in range(self.size)]

    @cached_property
    def runs(self) -> tuple[tuple[int, int, int], ...]:
        """Horizontal runs of dark modules as (row, first column, length), top to bottom."""
        width = self.size
        out: list[tuple[int, int, int]] = []
        for r, bits in enumerate(self.rows):
            line = format(bits, f"0{width}b")
            out.extend((r, m.start(), m.end() - m.start()) for m in _DARK_RUN.finditer(line))
        return tuple(out)


_DARK_RUN = re.compile("1+")


# ---------------------------------------------------------------- segmentation


_CONTINUES_FROM = (2, 0, 1, 4, 3, 5)  # state before one more byte of the same segment
_OPENS = (0, 1, 0, 0, 2, 4)  # flag recorded when a byte opens a segment in that state


def _segments(data: bytes, version: int) -> list[Segment]:
    """Shortest bit stream for `data` at `version`'s count-field widths (exact dynamic programme).

    States: 0-2 inside a numeric segment whose length is 0/1/2 mod 3, 3-4 inside an
    alphanumeric segment of even/odd length, 5 inside a byte segment. Costs are exact bits.
    """
    count = _count_bits(version)
    head_n, head_a, head_b = 4 + count[NUMERIC], 4 + count[ALPHANUMERIC], 4 + count[BYTE]
    inf = 1 << 40
    n0 = n1 = n2 = a0 = a1 = b = inf
    best, best_state = 0, -1
    trail: list[tuple[int, int]] = []  # per byte: (cheapest state before it, segments opened)
    for ch in data:
        opened = 0
        if ch in _DIGITS:
            start, more = best + head_n + 4, n0 + 4
            n0, n2 = n2 + 3, n1 + 3
            if start < more:
                n1, opened = start, 1
            else:
                n1 = more
        else:
            n0 = n1 = n2 = inf
        if ch in _ALPHANUMERIC_VALUE:
            start, more = best + head_a + 6, a0 + 6
            a0 = a1 + 5
            if start < more:
                a1, opened = start, opened | 2
            else:
                a1 = more
        else:
            a0 = a1 = inf
        start, more = best + head_b + 8, b + 8
        if start < more:
            b, opened = start, opened | 4
        else:
            b = more
        trail.append((best_state, opened))
        costs = (n0, n1, n2, a0, a1, b)
        best = min(costs)
        best_state = costs.index(best)

    state = best_state
    modes = bytearray(len(data))
    starts = []
    for i in range(len(data) - 1, -1, -1):
        modes[i] = NUMERIC if state <= 2 else ALPHANUMERIC if state <= 4 else BYTE
        before, opened = trail[i]
        if opened & _OPENS[state]:
            starts.append(i)
            state = before
        else:
            state = _CONTINUES_FROM[state]
    starts.reverse()
    bounds = [*starts, len(data)]
    return [(modes[s], data[s:e]) for s, e in zip(bounds, bounds[1:], strict=False)]


def _bit_length(segments: Sequence[Segment], version: int) -> int:
    count = _count_bits(version)
    total = 0
    for mode, chunk in segments:
        n = len(chunk)
        if mode == NUMERIC:
            body = 10 * (n // 3) + (0, 4, 7)[n % 3]
        elif mode == ALPHANUMERIC:
            body = 11 * (n // 2) + 6 * (n % 2)
        else:
            body = 8 * n
        total += 4 + count[mode] + body
    return total


@cache
def _data_capacity_bits(version: int, ecc: str) -> int:
    return 8 * sum(int(b.data_count) for b in _blocks(version, ecc))


@cache
def _blocks(version: int, ecc: str) -> tuple[qr_tables.RSBlock, ...]:
    return tuple(qr_tables.rs_blocks(version, ECC_BITS[ecc]))


def _choose(data: bytes, ecc: str) -> tuple[list[Segment], int]:
    """Smallest version that holds `data`, with its optimal segmentation."""
    for first, last in ((1, 9), (10, 26), (27, 40)):
        segments = _segments(data, first)
        needed = _bit_length(segments, first)
        for version in range(first, last + 1):
            if needed <= _data_capacity_bits(version, ecc):
                return segments, version
    raise ValueError(f"payload of {len(data)} bytes does not fit in a QR code at level {ecc}")


# ---------------------------------------------------------------- bit stream and Reed-Solomon


def _codewords(segments: Sequence[Segment], version: int, ecc: str) -> bytes:
    """Data codewords (with terminator and padding) followed by interleaved ECC codewords."""
    count = _count_bits(version)
    acc = 0
    nbits = 0
    for mode, chunk in segments:
        acc = (acc << 4 | mode) << count[mode] | len(chunk)
        nbits += 4 + count[mode]
        if mode == BYTE:
            acc = acc << 8 * len(chunk) | int.from_bytes(chunk, "big")
            nbits += 8 * len(chunk)
        elif mode == NUMERIC:
            for i in range(0, len(chunk), 3):
                group = chunk[i : i + 3]
                width = (0, 4, 7, 10)[len(group)]
                acc = acc << width | int(group)
                nbits += width
        else:
            values = [_ALPHANUMERIC_VALUE[c] for c in chunk]
            for i in range(0, len(values) - 1, 2):
                acc = acc << 11 | values[i] * 45 + values[i + 1]
                nbits += 11
            if len(values) % 2:
                acc = acc << 6 | values[-1]
                nbits += 6
    capacity = _data_capacity_bits(version, ecc)
    if nbits > capacity:
        raise ValueError("segments do not fit in this version")
    terminator = min(4, capacity - nbits)
    nbits += terminator
    acc <<= terminator
    pad = -nbits % 8
    acc <<= pad
    nbits += pad
    data = acc.to_bytes(nbits // 8, "big")
    fill = (capacity - nbits) // 8
    data += (b"\xec\x11" * (fill // 2 + 1))[:fill]

    blocks = _blocks(version, ecc)
    data_blocks: list[bytes] = []
    ecc_blocks: list[bytes] = []
    offset = 0
    for block in blocks:
        chunk = data[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ecc_blocks.append(_rs_remainder(chunk, block.total_count - block.data_count))
    return _interleave(data_blocks) + _interleave(ecc_blocks)


def _interleave(blocks: list[bytes]) -> bytes:
    """Codeword i of every block in turn; longer blocks (one codeword more) come last."""
    count = len(blocks)
    if count == 1:
        return blocks[0]
    short = min(len(b) for b in blocks)
    out = bytearray(short * count)
    for k, block in enumerate(blocks):
        out[k::count] = block[:short]
    return bytes(out) + bytes(b[short] for b in blocks if len(b) > short)


def _gf_tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _gf_tables()


@cache
def _rs_table(degree: int) -> tuple[int, ...]:
    """For each feedback byte f, the generator's non-leading coefficients times f, packed
    big-endian into one integer so one shift-and-xor advances the division by a codeword."""
    gen = [1]  # coefficients, highest power first
    for i in range(degree):
        root = _EXP[i]
        nxt = [*gen, 0]
        for j, coef in enumerate(gen):
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + _LOG[root]]
        gen = nxt
    tail = gen[1:]
    table = [0]
    for f in range(1, 256):
        lf = _LOG[f]
        packed = bytes(_EXP[_LOG[c] + lf] if c else 0 for c in tail)
        table.append(int.from_bytes(packed, "big"))
    return tuple(table)


def _rs_remainder(data: bytes, degree: int) -> bytes:
    table = _rs_table(degree)
    shift = 8 * (degree - 1)
    keep = (1 << 8 * degree) - 1
    rem = 0
    for byte in data:
        rem = ((rem << 8) & keep) ^ table[(rem >> shift) ^ byte]
    return rem.to_bytes(degree, "big")


# ---------------------------------------------------------------- placement and masking


def _bch(value: int, poly: int, poly_degree: int) -> int:
    rem = value << poly_degree
    top = poly.bit_length()
    while rem.bit_length() >= top:
        rem ^= poly << (rem.bit_length() - top)
    return value << poly_degree | rem


_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
)


@dataclass(frozen=True)
class _Grid:
    """Everything about a version's module grid that does not depend on the data.

    Whole symbols are handled as one integer of size*size bits, row-major (or column-major),
    first module most significant, so masking and penalty scoring are a few big-int operations.
    """

    size: int
    data_modules: int
    rows_of: Callable[[str], tuple[str, ...]]  # source bits + "01" -> row-major module chars
    cols_of: Callable[[str], tuple[str, ...]]  # the same, column-major
    flips: tuple[tuple[int, int], ...]  # per mask: data modules it flips (row-, column-major)
    pairs: int  # bit j set iff bits j and j+1 lie on the same line
    windows: int  # bit j set iff bits j..j+10 lie on the same line
    upper: int  # every line but the last (row-major: a row that has a row below it)
    format_cells: tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
    version_cells: tuple[tuple[tuple[int, int], tuple[int, int]], ...]


@cache
def _grid(version: int) -> _Grid:
    n = 4 * version + 17
    # None = data module; otherwise the fixed colour (format/version areas light, as
    # during mask selection; their bits are overlaid once the mask is chosen).
    cells: list[list[bool | None]] = [[None] * n for _ in range(n)]

    def finder(top: int, left: int) -> None:
        for r in range(-1, 8):
            for c in range(-1, 8):
                y, x = top + r, left + c
                if 0 <= y < n and 0 <= x < n:
                    ring = max(abs(r - 3), abs(c - 3))
                    cells[y][x] = ring in (0, 1, 3)

    finder(0, 0)
    finder(0, n - 7)
    finder(n - 7, 0)
    centres = qr_util.pattern_position(version)
    for y in centres:
        for x in centres:
            if cells[y][x] is not None:
                continue  # overlaps a finder
            for r in range(-2, 3):
                for c in range(-2, 3):
                    cells[y + r][x + c] = max(abs(r), abs(c)) != 1
    for i in range(8, n - 8):
        if cells[6][i] is None:
            cells[6][i] = i % 2 == 0
        if cells[i][6] is None:
            cells[i][6] = i % 2 == 0

    vertical = tuple((i if i < 6 else i + 1 if i < 8 else n - 15 + i, 8) for i in range(15))
    horizontal = tuple((8, n - 1 - i if i < 8 else 7 if i == 8 else 14 - i) for i in range(15))
    for y, x in (*vertical, *horizontal, (n - 8, 8)):
        cells[y][x] = False
    version_cells = tuple(((i // 3, n - 11 + i % 3), (n - 11 + i % 3, i // 3)) for i in range(18))
    if version >= 7:
        for a, b in version_cells:
            cells[a[0]][a[1]] = False
            cells[b[0]][b[1]] = False

    order: list[tuple[int, int]] = []
    upward = True
    col = n - 1
    while col > 0:
        if col == 6:
            col -= 1
        for r in range(n - 1, -1, -1) if upward else range(n):
            for c in (col, col - 1):
                if cells[r][c] is None:
                    order.append((r, c))
        upward = not upward
        col -= 2

    data_modules = len(order)
    source_index = {pos: i for i, pos in enumerate(order)}
    light, dark = data_modules, data_modules + 1

    def source(r: int, c: int) -> int:
        fixed = cells[r][c]
        return source_index[(r, c)] if fixed is None else dark if fixed else light

    def flip_bits(mask: int, column_major: bool) -> int:
        flips = _MASKS[mask]
        order = (
            ((r, c) for c in range(n) for r in range(n))
            if column_major
            else ((r, c) for r in range(n) for c in range(n))
        )
        return int(
            "".join("1" if cells[r][c] is None and flips(r, c) else "0" for r, c in order), 2
        )

    flips = tuple((flip_bits(m, False), flip_bits(m, True)) for m in range(8))
    column = [(n * n - 1 - k) % n for k in range(n * n)]  # bit k's place on its line
    return _Grid(
        size=n,
        data_modules=data_modules,
        rows_of=operator.itemgetter(*(source(r, c) for r in range(n) for c in range(n))),
        cols_of=operator.itemgetter(*(source(r, c) for c in range(n) for r in range(n))),
        flips=flips,
        pairs=sum(1 << k for k in range(n * n) if column[k] >= 1),
        windows=sum(1 << k for k in range(n * n) if column[k] >= 10),
        upper=((1 << n * n) - 1) ^ ((1 << n) - 1),
        format_cells=(vertical, horizontal),
        version_cells=version_cells if version >= 7 else (),
    )


@cache
def _overlay(version: int, ecc: str, mask: int) -> int:
    """Dark modules of the format and version information (and the always-dark module)."""
    grid = _grid(version)
    n = grid.size
    dark: set[tuple[int, int]] = {(n - 8, 8)}
    fmt = _bch(ECC_BITS[ecc] << 3 | mask, 0x537, 10) ^ 0x5412
    for copy in grid.format_cells:
        dark.update(cell for i, cell in enumerate(copy) if fmt >> i & 1)
    if grid.version_cells:
        bits = _bch(version, 0x1F25, 12)
        for i, cell_pair in enumerate(grid.version_cells):
            if bits >> i & 1:
                dark.update(cell_pair)
    return sum(1 << (n * n - 1 - (r * n + c)) for r, c in dark)


def _penalty(by_rows: int, by_cols: int, grid: _Grid) -> int:
    """ISO/IEC 18004 mask penalty, scored exactly as the qrcode package scores it."""
    score = 0
    for x in (by_rows, by_cols):
        # N1: a run of k >= 5 equal modules costs k - 2.
        same = ~(x ^ (x >> 1)) & grid.pairs
        five = same & (same >> 1) & (same >> 2) & (same >> 3)
        score += five.bit_count() + 2 * (five & ~(five >> 1)).bit_count()
        # N3: 1011101 with four light modules on either side costs 40.
        core = x & ~(x >> 1) & (x >> 2) & (x >> 3) & (x >> 4) & ~(x >> 5) & (x >> 6)
        light4 = ~(x | (x >> 1) | (x >> 2) | (x >> 3))
        score += 40 * (((core >> 4) & light4 | core & (light4 >> 7)) & grid.windows).bit_count()
    # N2: each 2x2 block of one colour costs 3.
    n = grid.size
    vertical = ~(by_rows ^ (by_rows >> n))
    horizontal = ~(by_rows ^ (by_rows >> 1))
    blocks = vertical & (vertical >> 1) & horizontal & grid.pairs & (grid.upper >> n)
    score += 3 * blocks.bit_count()
    # N4: 10 per full 5% that the dark share departs from 50%.
    percent = float(by_rows.bit_count()) / (n * n)
    score += int(abs(percent * 100 - 50) / 5) * 10
    return score


def from_segments(
    segments: Sequence[Segment], ecc: str = ECC, version: int | None = None
) -> QrMatrix:
    """The symbol for explicit segments, at `version` or the smallest that fits."""
    level = _level(ecc)
    if version is None:
        version = next(
            (v for v in range(1, 41) if _bit_length(segments, v) <= _data_capacity_bits(v, level)),
            None,
        )
        if version is None:
            raise ValueError("segments do not fit in a QR code")
    grid = _grid(version)
    n = grid.size
    codewords = _codewords(segments, version, level)
    bits = format(int.from_bytes(codewords, "big"), f"0{8 * len(codewords)}b")
    source = bits.ljust(grid.data_modules, "0") + "01"  # remainder bits, then light, dark
    plain_rows = int("".join(grid.rows_of(source)), 2)
    plain_cols = int("".join(grid.cols_of(source)), 2)

    best_mask, best_score = 0, -1
    for mask, (flip_rows, flip_cols) in enumerate(grid.flips):
        score = _penalty(plain_rows ^ flip_rows, plain_cols ^ flip_cols, grid)
        if best_score < 0 or score < best_score:
            best_mask, best_score = mask, score
    final = plain_rows ^ grid.flips[best_mask][0] | _overlay(version, level, best_mask)
    row_mask = (1 << n) - 1
    rows = tuple(final >> (n * (n - 1 - r)) & row_mask for r in range(n))
    return QrMatrix(
        version=version, ecc=level, mask=best_mask, size=n, rows=rows, segments=tuple(segments)
    )


def _level(ecc: str) -> str:
    level = ecc.upper()
    if level not in ECC_BITS:
        raise ValueError(f"error correction must be M, Q or H (got {ecc!r})")
    return level


@lru_cache(maxsize=8192)
def matrix(payload: str, ecc: str = ECC) -> QrMatrix:
    """The QR symbol for `payload` (cached: identical payloads are computed once)."""
    level = _level(ecc)
    if not payload:
        raise ValueError("payload is empty")
    segments, version = _choose(payload.encode("utf-8"), level)
    return from_segments(segments, level, version)


# ---------------------------------------------------------------- images


def _check_geometry(scale: int, border: int) -> None:
    if scale < 1:
        raise ValueError("scale must be at least 1 pixel per module")
    if border < 4:
        raise ValueError("the quiet zone (border) must be at least 4 modules")


def png(payload: str, *, scale: int = 10, border: int = 4) -> bytes:
    """A 1-bit black-on-white PNG of the level-H symbol, `scale` pixels per module."""
    _check_geometry(scale, border)
    qr = matrix(payload)
    width = qr.size + 2 * border
    side = width * scale
    stride = (side + 7) // 8
    spread = _spread_table(scale)
    groups = (width + 7) // 8  # whole bytes of modules, quiet zone included
    shift = 8 * groups - width + border
    # Each pixel row is prefixed by its PNG filter type: 0 (none) for the first pixel row of
    # a module row, 2 (up: same as the row above) for its scale - 1 repeats, which are zeros.
    repeat = (b"\x02" + bytes(stride)) * (scale - 1)
    quiet = b"\x00" + b"\xff" * stride + repeat
    lines = [quiet * border]
    for bits in qr.rows:
        modules = (bits << shift).to_bytes(groups, "big")
        lines.append(b"\x00" + b"".join([spread[m] for m in modules])[:stride] + repeat)
    lines.append(quiet * border)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(b"".join(lines), 1)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=32)
def _spread_table(scale: int) -> tuple[bytes, ...]:
    """For each byte of 8 modules (set = dark), its `scale` bytes of pixels (set = white)."""
    table = []
    for modules in range(256):
        pixels = 0
        for k in range(7, -1, -1):
            light = not modules >> k & 1
            pixels = pixels << scale | ((1 << scale) - 1 if light else 0)
        table.append(pixels.to_bytes(scale, "big"))
    return tuple(table)


def svg(payload: str, *, scale: int = 10, border: int = 4) -> str:
    """An SVG of the level-H symbol: white background, one crisp-edged <path> of module runs."""
    _check_geometry(scale, border)
    qr = matrix(payload)
    width = qr.size + 2 * border
    path = "".join(f"M{c + border} {r + border}h{n}v1h-{n}z" for r, c, n in qr.runs)
    side = width * scale
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
        f'viewBox="0 0 {width} {width}" shape-rendering="crispEdges">'
        f'<rect width="{width}" height="{width}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )
