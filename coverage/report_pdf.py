"""The one-page printable market report (A4, Vietnamese): numbers, status, chart, stalls to visit.

Pure: takes the numbers, returns PDF bytes. Text uses DejaVu Sans from qr/fonts/ for diacritics.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from coverage import schemas as s
from qr.sign import FONT_DIR

REGULAR = "ChoSoReport-DejaVuSans"
BOLD = "ChoSoReport-DejaVuSans-Bold"
pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))

# The dashboard's words (web/static/js/lib/i18n.js, status_* and level_*): one vocabulary.
STATUS_LABEL = {
    "not_started": "Chưa bắt đầu",
    "in_progress": "Đang triển khai",
    "cashless": "Chợ không tiền mặt",
    "lapsed": "Mất danh hiệu",
}
STATUS_COLOR = {
    "not_started": HexColor("#9e9e9e"),
    "in_progress": HexColor("#f2a516"),
    "cashless": HexColor("#1e8e3e"),
    "lapsed": HexColor("#c62828"),
}
LEVEL_LABEL = {
    "qr_issued": "Đã in biển",
    "qr_verified": "Đã kiểm tra mã",
    "transacting": "Đang giao dịch",
    "fees_cashless": "Thu phí không tiền mặt",
}
# The trend chart's colours (web/static/css/wide.css .series-*): the printed report and the market
# page's chart name a level in the same colour.
LEVEL_COLOR = {
    "qr_issued": HexColor("#1d4ed8"),
    "qr_verified": HexColor("#0a7d3b"),
    "transacting": HexColor("#b35900"),
    "fees_cashless": HexColor("#6b21a8"),
}
LEVEL_CRITERION = {
    "qr_issued": "đã in biển mã QR",
    "qr_verified": "có mã QR đã kiểm tra",
    "transacting": "có nhận thanh toán",
    "fees_cashless": "nộp phí chợ không tiền mặt",
}
VISIT_GROUPS = (
    ("revisit", "Cần quay lại (mã sai, hỏng hoặc tài khoản bị ngưng)"),
    ("no_sign", "Chưa có biển mã QR"),
    ("not_verified", "Đã in biển, chưa kiểm tra mã"),
)
INK = HexColor("#202124")
MUTED = HexColor("#5f6368")
RULE_LINE = HexColor("#dadce0")

VN_TZ = timezone(timedelta(hours=7), "ICT")
W, H = A4
MARGIN = 14 * mm


def _pct(x: float) -> str:
    """A share as a whole percentage rounded down, as the pages show it (web/static/js/lib/i18n.js
    pct): 89.8 % is "89%", never the "90%" a target asks for."""
    return f"{math.floor(x * 100 + 1e-9)}%"


def _target_pct(x: float) -> str:
    """A rule's threshold as set, to a tenth of a percent (Vietnamese decimal comma): 0.575 is
    "57,5%", 0.9 is "90%"; never rounded down as a share is (web/static/js/lib/i18n.js)."""
    return f"{round(x * 100, 1):g}%".replace(".", ",")


def _date_vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _fit(c: Canvas, text: str, font: str, size: float, width: float) -> str:
    """Cut text with an ellipsis so it fits the width."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(c: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines that fit the width (at spaces)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and c.stringWidth(candidate, font, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def market_report(
    *,
    header: dict[str, Any],
    coverage: s.MarketCoverage,
    history: Sequence[s.HistoryPoint],
    visits: Sequence[Any],
    today: date,
    generated_at: datetime | None = None,
) -> bytes:
    """Draw the report; `visits` are rows with stall_code, zone and reason."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"Báo cáo độ phủ — {header['name']}")
    c.setAuthor("Chợ Số")
    c.setSubject("Báo cáo độ phủ thanh toán không dùng tiền mặt")
    y = _draw_header(c, header, coverage, today)
    y = _draw_levels(c, coverage, y - 8 * mm)
    y = _draw_chart(c, coverage, history, y - 7 * mm)
    _draw_zones_and_visits(c, coverage, visits, y - 7 * mm)
    c.setFont(REGULAR, 7)
    c.setFillColor(MUTED)
    stamp = (generated_at or datetime.now(VN_TZ)).strftime("%d/%m/%Y %H:%M")
    c.drawString(
        MARGIN, 8 * mm, f"Chợ Số · lập lúc {stamp} · số liệu tổng hợp, không có dữ liệu cá nhân"
    )
    c.drawRightString(W - MARGIN, 8 * mm, f"Tiêu chí phiên bản {coverage.rule_version}")
    c.showPage()
    c.save()
    return out.getvalue()


def _draw_header(c: Canvas, header: dict[str, Any], cov: s.MarketCoverage, today: date) -> float:
    top = H - MARGIN
    c.setFillColor(INK)
    c.setFont(REGULAR, 9)
    c.drawString(MARGIN, top - 4 * mm, "BÁO CÁO ĐỘ PHỦ THANH TOÁN KHÔNG DÙNG TIỀN MẶT")
    c.drawRightString(W - MARGIN, top - 4 * mm, f"Ngày {_date_vn(today)}")
    # A long name (many markets are named after the streets around them) is set smaller before
    # anything is cut: an official report keeps the whole name.
    size = next(
        (
            x
            for x in (20, 18, 16, 14, 12)
            if c.stringWidth(header["name"], BOLD, x) <= W - 2 * MARGIN
        ),
        12,
    )
    c.setFont(BOLD, size)
    c.drawString(MARGIN, top - 13 * mm, _fit(c, header["name"], BOLD, size, W - 2 * MARGIN))
    area = []
    if header.get("ward_name"):
        area.append(header["ward_name"])
    if header.get("province_name"):
        area.append(header["province_name"])
    legacy = ", ".join(
        x for x in (header.get("legacy_ward_name"), header.get("legacy_district_name")) if x
    )
    line = " · ".join(area) + (f" (trước 7/2025: {legacy})" if legacy else "")
    c.setFont(REGULAR, 9)
    c.setFillColor(MUTED)
    c.drawString(MARGIN, top - 19 * mm, _fit(c, line, REGULAR, 9, W - 2 * MARGIN))
    if header.get("address"):
        c.drawString(
            MARGIN, top - 23.5 * mm, _fit(c, header["address"], REGULAR, 9, W - 2 * MARGIN)
        )
    # Status badge and the rule.
    y = top - 36 * mm
    color = STATUS_COLOR[cov.status]
    c.setFillColor(color)
    c.roundRect(MARGIN, y, 78 * mm, 9 * mm, 2 * mm, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont(BOLD, 11)
    c.drawString(MARGIN + 3 * mm, y + 3 * mm, STATUS_LABEL[cov.status])
    c.setFillColor(INK)
    c.setFont(REGULAR, 8.5)
    since = cov.status_since.astimezone(VN_TZ).strftime("%d/%m/%Y")  # Vietnam's day, not UTC's
    c.drawString(
        MARGIN + 82 * mm,
        y + 7.2 * mm,
        f"Trạng thái từ {since}. Tiêu chí (phiên bản {cov.rule_version}):",
    )
    crit = "; ".join(
        f"≥ {_target_pct(t)} sạp {LEVEL_CRITERION[lvl]}" for lvl, t in cov.thresholds.items()
    )
    lines = _wrap(c, crit, REGULAR, 8.5, W - 2 * MARGIN - 82 * mm)[:2]
    for k, text in enumerate(lines):
        c.drawString(MARGIN + 82 * mm, y + (3.6 - 3.6 * k) * mm, text)
    return y


def _draw_levels(c: Canvas, cov: s.MarketCoverage, top: float) -> float:
    """Table of levels with bars and threshold marks."""
    c.setFillColor(INK)
    c.setFont(BOLD, 11)
    c.drawString(MARGIN, top, f"Số liệu trên {cov.active_stalls} sạp đang hoạt động")
    c.setFont(REGULAR, 7.5)
    c.setFillColor(MUTED)
    days = cov.transacting_window_days
    c.drawString(
        MARGIN,
        top - 4.5 * mm,
        f"Sạp trống hoặc đã đóng không tính. Đang giao dịch: có nhận thanh toán trong {days} ngày qua. "
        "Vạch đen: ngưỡng của tiêu chí.",
    )
    y = top - 6 * mm
    label_w, bar_x, bar_w = 60 * mm, MARGIN + 60 * mm, 62 * mm
    for level in ("qr_issued", "qr_verified", "transacting", "fees_cashless"):
        lc = getattr(cov.levels, level)
        y -= 8.5 * mm
        c.setFillColor(INK)
        c.setFont(REGULAR, 9.5)
        c.drawString(
            MARGIN, y + 1.5 * mm, _fit(c, LEVEL_LABEL[level], REGULAR, 9.5, label_w - 2 * mm)
        )
        c.setFillColor(HexColor("#eeeeee"))
        c.rect(bar_x, y, bar_w, 5.5 * mm, stroke=0, fill=1)
        c.setFillColor(LEVEL_COLOR[level])
        c.rect(bar_x, y, bar_w * min(1.0, lc.share), 5.5 * mm, stroke=0, fill=1)
        threshold = cov.thresholds.get(level)
        if threshold is not None:
            tx = bar_x + bar_w * threshold
            c.setStrokeColor(INK)
            c.setLineWidth(1.2)
            c.line(tx, y - 1 * mm, tx, y + 6.5 * mm)
        c.setFillColor(INK)
        c.setFont(BOLD, 10)
        c.drawString(bar_x + bar_w + 3 * mm, y + 1.5 * mm, _pct(lc.share))
        c.setFont(REGULAR, 8.5)
        c.drawString(bar_x + bar_w + 17.5 * mm, y + 1.5 * mm, f"{lc.count}/{cov.active_stalls} sạp")
        progress = next((p for p in cov.progress if p.level == level), None)
        if progress is not None and not cov.active_stalls:
            # A market without an active stall lacks none ("thiếu 0 sạp" in red): it has none (yet,
            # or every stall closed).
            c.setFillColor(MUTED)
            c.drawRightString(W - MARGIN, y + 1.5 * mm, "không có sạp")
        elif progress is not None:
            c.setFillColor(STATUS_COLOR["cashless"] if progress.met else STATUS_COLOR["lapsed"])
            text = "đạt ngưỡng" if progress.met else f"thiếu {progress.stalls_needed} sạp"
            c.drawRightString(W - MARGIN, y + 1.5 * mm, text)
    return y - 2 * mm


def _draw_chart(
    c: Canvas, cov: s.MarketCoverage, history: Sequence[s.HistoryPoint], top: float
) -> float:
    """Shares over time (daily points), with the thresholds as dashed lines."""
    c.setFillColor(INK)
    c.setFont(BOLD, 11)
    c.drawString(MARGIN, top, "Độ phủ theo thời gian")
    x0, x1 = MARGIN + 10 * mm, W - MARGIN - 2 * mm
    y1 = top - 5 * mm
    y0 = y1 - 52 * mm
    c.setStrokeColor(RULE_LINE)
    c.setLineWidth(0.5)
    c.setFont(REGULAR, 7)
    for i in range(0, 5):
        yy = y0 + (y1 - y0) * i / 4
        c.line(x0, yy, x1, yy)
        c.setFillColor(MUTED)
        c.drawRightString(x0 - 1.5 * mm, yy - 1 * mm, f"{i * 25}%")
    levels = ("qr_issued", "qr_verified", "transacting")
    if not history:
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 9)
        c.drawCentredString((x0 + x1) / 2, (y0 + y1) / 2, "Chưa có số liệu theo ngày.")
    else:
        first, last = history[0].date, history[-1].date
        span = max(1, (last - first).days)

        def px(d: date) -> float:
            return x0 + (x1 - x0) * ((d - first).days / span) if len(history) > 1 else (x0 + x1) / 2

        def py(share: float) -> float:
            return y0 + (y1 - y0) * share

        for level in levels:
            threshold = cov.thresholds.get(level)
            if threshold is not None:
                c.setStrokeColor(LEVEL_COLOR[level])
                c.setLineWidth(0.8)
                c.setDash(3, 2)
                c.line(x0, py(threshold), x1, py(threshold))
                c.setDash()
        for level in levels:
            color: Color = LEVEL_COLOR[level]
            c.setStrokeColor(color)
            c.setFillColor(color)
            c.setLineWidth(1.6)
            pts = [(px(p.date), py(getattr(p.levels, level).share)) for p in history]
            if len(pts) > 1:
                path = c.beginPath()
                path.moveTo(*pts[0])
                for x, y in pts[1:]:
                    path.lineTo(x, y)
                c.drawPath(path, stroke=1, fill=0)
            x, y = pts[-1]
            c.circle(x, y, 0.9 * mm, stroke=0, fill=1)
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 7)
        c.drawString(x0, y0 - 4 * mm, _date_vn(first))
        if len(history) > 1:
            c.drawRightString(x1, y0 - 4 * mm, _date_vn(last))
    # Legend.
    lx = x0
    c.setFont(REGULAR, 7.5)
    for level in levels:
        c.setFillColor(LEVEL_COLOR[level])
        c.rect(lx, y0 - 9.5 * mm, 4 * mm, 2 * mm, stroke=0, fill=1)
        c.setFillColor(INK)
        c.drawString(lx + 5 * mm, y0 - 9.5 * mm, LEVEL_LABEL[level])
        lx += 5 * mm + c.stringWidth(LEVEL_LABEL[level], REGULAR, 7.5) + 7 * mm
    c.setFillColor(MUTED)
    c.drawString(lx, y0 - 9.5 * mm, "--- ngưỡng")
    return y0 - 11 * mm


def _draw_zones_and_visits(
    c: Canvas, cov: s.MarketCoverage, visits: Sequence[Any], top: float
) -> None:
    """Per-zone table on the left, the list of stalls still to visit on the right."""
    bottom = 14 * mm
    c.setFillColor(INK)
    c.setFont(BOLD, 11)
    c.drawString(MARGIN, top, "Theo khu")
    # The level columns carry the labels the rest of the report uses, on two lines where needed.
    cols = [
        ("Khu", 0),
        ("Sạp", 20),
        (LEVEL_LABEL["qr_issued"], 32),
        (LEVEL_LABEL["qr_verified"], 50),
        (LEVEL_LABEL["transacting"], 67),
    ]
    ends = [dx for _, dx in cols[1:]] + [84]
    heads = [
        _wrap(c, name, BOLD, 8, (end - dx - 1.5) * mm)
        for (name, dx), end in zip(cols, ends, strict=True)
    ]
    y = top - 6 * mm
    c.setFont(BOLD, 8)
    for lines, (_, dx) in zip(heads, cols, strict=True):
        for i, line in enumerate(lines):
            c.drawString(MARGIN + dx * mm, y - i * 3.3 * mm, line)
    y -= (max(len(lines) for lines in heads) - 1) * 3.3 * mm
    c.setStrokeColor(RULE_LINE)
    c.line(MARGIN, y - 1.5 * mm, MARGIN + 84 * mm, y - 1.5 * mm)
    c.setFont(REGULAR, 8)
    shown = 0
    for z in cov.zones:
        y -= 5 * mm
        if y < bottom + 6 * mm:
            c.drawString(MARGIN, y, f"… và {len(cov.zones) - shown} khu khác")
            break
        cells = [
            z.zone or "(không khu)",
            str(z.active_stalls),
            _pct(z.levels.qr_issued.share),
            _pct(z.levels.qr_verified.share),
            _pct(z.levels.transacting.share),
        ]
        for (_, dx), text in zip(cols, cells, strict=True):
            c.drawString(MARGIN + dx * mm, y, _fit(c, text, REGULAR, 8, 17 * mm))
        shown += 1

    vx = MARGIN + 92 * mm
    width = W - MARGIN - vx
    c.setFillColor(INK)
    c.setFont(BOLD, 11)
    c.drawString(vx, top, f"Sạp cần đến ({len(visits)})")
    y = top - 6 * mm
    if not visits and not cov.active_stalls:
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 9)
        c.drawString(vx, y, "Không có sạp nào đang hoạt động.")
        return
    if not visits:
        c.setFillColor(STATUS_COLOR["cashless"])
        c.setFont(REGULAR, 9)
        c.drawString(vx, y, "Không còn sạp nào cần đến.")
        return
    line_h = 4.2 * mm
    for reason, title in VISIT_GROUPS:
        codes = [v.stall_code for v in visits if v.reason == reason]
        if not codes:
            continue
        if y < bottom + 2 * line_h:
            break
        c.setFillColor(STATUS_COLOR["lapsed"] if reason == "revisit" else INK)
        c.setFont(BOLD, 8.5)
        c.drawString(vx, y, f"{title} ({len(codes)})")
        y -= line_h
        c.setFont(REGULAR, 8.5)
        c.setFillColor(INK)
        lines = _wrap(c, ", ".join(codes), REGULAR, 8.5, width)
        room = max(1, int((y - bottom) // line_h))
        if len(lines) > room:
            lines = lines[: room - 1] + [_more(c, lines[room - 1], codes, lines[: room - 1], width)]
        for text in lines:
            c.drawString(vx, y, text)
            y -= line_h
        y -= 1.5 * mm


def _more(c: Canvas, line: str, codes: list[str], before: list[str], width: float) -> str:
    """The last line that fits, ending with how many codes were left out."""
    shown = sum(len(x.split(", ")) for x in before)
    words = line.split(", ")
    while words:
        rest = len(codes) - shown - len(words)
        text = ", ".join(words) + f" … và {rest} sạp khác"
        if c.stringWidth(text, REGULAR, 8.5) <= width:
            return text
        words.pop()
    return f"… và {len(codes) - shown} sạp khác"
