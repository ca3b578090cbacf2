"""Draws the app icons (a market-stall awning over a QR code): `python -m web.icons`.

The same few shapes are written to SVG and painted with Pillow, so the icons are our own work and
can be regenerated; the output is committed under web/static/icons/.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "static" / "icons"
GREEN, YELLOW, WHITE, BLACK = "#0a5c36", "#ffd400", "#ffffff", "#111111"


def _shapes(full_bleed: bool) -> list[tuple]:
    """Shapes on a 512 grid: ("rect", x0, y0, x1, y1, radius, colour) or ("half", cx, cy, r, c)."""
    shapes: list[tuple] = [("rect", 0, 0, 512, 512, 0 if full_bleed else 104, GREEN)]
    # Awning: five stripes with a scalloped edge (content kept inside the maskable safe zone).
    for i in range(5):
        colour = WHITE if i % 2 == 0 else YELLOW
        x0 = 96 + 64 * i
        shapes.append(("rect", x0, 112, x0 + 64, 188, 0, colour))
        shapes.append(("half", x0 + 32, 188, 32, colour))
    # Counter with a QR code on it.
    shapes.append(("rect", 136, 236, 376, 420, 18, WHITE))
    for x, y in ((160, 256), (292, 256), (160, 332)):
        shapes.append(("rect", x, y, x + 64, y + 64, 6, BLACK))
        shapes.append(("rect", x + 10, y + 10, x + 54, y + 54, 2, WHITE))
        shapes.append(("rect", x + 20, y + 20, x + 44, y + 44, 2, BLACK))
    modules = (
        (292, 332),
        (324, 348),
        (340, 332),
        (292, 380),
        (340, 380),
        (240, 256),
        (240, 300),
        (256, 372),
    )
    for x, y in modules:
        shapes.append(("rect", x, y, x + 16, y + 16, 0, BLACK))
    return shapes


def svg(full_bleed: bool = False) -> str:
    """The icon as SVG text."""
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" '
        'role="img" aria-label="Chợ Số">'
    ]
    for shape in _shapes(full_bleed):
        if shape[0] == "rect":
            _, x0, y0, x1, y1, r, colour = shape
            parts.append(
                f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
                f'rx="{r}" fill="{colour}"/>'
            )
        else:
            _, cx, cy, r, colour = shape
            parts.append(
                f'<path d="M{cx - r} {cy} A{r} {r} 0 0 0 {cx + r} {cy} Z" fill="{colour}"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(size: int, full_bleed: bool = False) -> Image.Image:
    """The icon painted at `size` pixels (drawn at 4x and downsampled for smooth edges)."""
    big = 512 * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for shape in _shapes(full_bleed):
        if shape[0] == "rect":
            _, x0, y0, x1, y1, r, colour = shape
            draw.rounded_rectangle(
                (x0 * 4, y0 * 4, x1 * 4 - 1, y1 * 4 - 1), radius=r * 4, fill=colour
            )
        else:
            _, cx, cy, r, colour = shape
            draw.pieslice(
                ((cx - r) * 4, (cy - r) * 4, (cx + r) * 4, (cy + r) * 4), 0, 180, fill=colour
            )
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg(), encoding="utf-8")
    for size in (192, 512):
        png(size).save(OUT / f"icon-{size}.png", optimize=True)
    png(512, full_bleed=True).save(OUT / "icon-maskable-512.png", optimize=True)
    png(180, full_bleed=True).save(OUT / "apple-touch-icon.png", optimize=True)
    # The top bar's icon and the tab's: a small PNG in 32 colours (about 0.7 KB). A picture in SVG
    # is a document of its own to the browser, and building it cost a slow tablet about 0.1 s of
    # its main thread at every start (docs/benchmarks.md, 2026-12-03 12:40).
    png(64).quantize(colors=32, method=Image.Quantize.FASTOCTREE).save(
        OUT / "icon-64.png", optimize=True
    )
    print("icons written to", OUT)


if __name__ == "__main__":
    main()
