"""A person's data export as a printed page in Vietnamese: what a market board hands the stallholder
who asked what the service holds about them (the JSON export is the machine-readable copy).

Pure: takes the gathered export, returns PDF bytes. DejaVu Sans from qr/fonts/ for diacritics.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core import labels
from privacy import queries
from qr import banks
from qr.sign import FONT_DIR

REGULAR = "ChoSoPrivacy-DejaVuSans"
BOLD = "ChoSoPrivacy-DejaVuSans-Bold"
pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))

VN = timezone(timedelta(hours=7))  # Vietnam keeps UTC+7 all year
LINE = HexColor("#9ca3af")
SHADE = HexColor("#f3f4f6")
LAST_READS = 20  # the newest reads listed one by one; the count says how many there were
LAST_REQUESTS = 20  # the same for the person's requests (each export adds one)

_BODY = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11)
_TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=15, leading=19, spaceAfter=2 * mm)
_HEAD = ParagraphStyle(
    "head", fontName=BOLD, fontSize=11, leading=14, spaceBefore=4 * mm, spaceAfter=1.5 * mm
)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8.5, leading=10.5)
_CELL_BOLD = ParagraphStyle("cellb", parent=_CELL, fontName=BOLD)

PURPOSES = {
    "registration": "Đăng ký sạp vào chương trình chợ không dùng tiền mặt",
    "qr_sign": "In họ tên, tên và số tài khoản lên biển mã QR treo tại sạp",
    "coverage_reporting": "Dùng thông tin sạp để báo cáo số liệu tổng hợp cho chợ, phường, thành phố",
}
STATUSES = {"active": "Đang bán", "vacant": "Sạp trống", "closed": "Đã nghỉ"}
CONFIRM_TOOLS = labels.CONFIRM_TOOLS_VI  # how the person learns that a payment arrived
ONBOARDING = labels.ONBOARDING_STATUS_VI
CHANNELS = {"tablet": "trên máy tính bảng", "paper": "trên giấy", "import": "từ danh sách nhập"}
READS = {
    "stall_record": "mở hồ sơ sạp",
    "stall_sign": "xem mã QR hoặc in biển của sạp",
    "stall_history": "xem lịch sử sạp",
    "stall_visits": "xem các lần ghé sạp",
    "stall_takings": "xem tiền sạp nhận",
    "export": "xuất dữ liệu theo yêu cầu",
    "list_export": "tải danh sách sạp có tên người này",
    "partner_accounts": "đối tác xem tài khoản nhận tiền của người này",
}


REQUESTS = {"export": "Xuất dữ liệu", "erase": "Xóa dữ liệu", "withdraw": "Rút đồng ý"}
VISITS = {
    "absent": "Không gặp chủ sạp",
    "declined": "Chủ sạp chưa đồng ý tham gia",
    "come_back": "Hẹn quay lại",
    "blocked": "Còn thiếu điều kiện mở tài khoản",
    "trained": "Đã hướng dẫn sử dụng",
    "follow_up": "Cần theo dõi thêm",
}
BLOCKERS = {
    "no_cccd": "chưa có CCCD tại sạp",
    "no_own_sim": "chưa có SIM chính chủ",
    "no_smartphone": "chưa có điện thoại thông minh",
    "no_bank_account": "chưa có tài khoản ngân hàng",
}
LAST_VISITS = 20  # the newest visits listed one by one


@dataclass(frozen=True)
class Gathered:
    """Everything the service holds about one person, as privacy.requests reads it."""

    holder: queries.HolderRow
    stalls: list[queries.StallRow]
    accounts: list[queries.AccountRow]
    onboardings: list[queries.OnboardingRow]
    payments: list[queries.PaymentRow]
    consents: list[queries.ConsentRow]
    access_log: list[queries.AccessRow]
    audit: list[queries.AuditRow]
    requests: list[queries.DataRequestRow]
    request_id: int
    visits: list[queries.VisitRow] = field(default_factory=list)


def _visit_outcome(v: queries.VisitRow) -> str:
    text = VISITS.get(v.outcome, v.outcome)
    if v.blockers:
        text += ": " + ", ".join(BLOCKERS.get(b, b) for b in v.blockers)
    if v.come_back_on:
        text += f" (hẹn ngày {v.come_back_on:%d/%m/%Y})"
    return text


def _moment(at: datetime | None) -> str:
    return at.astimezone(VN).strftime("%H:%M %d/%m/%Y") if at else "—"


def _day(at: date) -> str:
    return at.strftime("%d/%m/%Y")


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đ"


def _purpose(code: str) -> str:
    if code.startswith("share_partner:"):
        return f"Chia sẻ thông tin với đối tác {code.split(':', 1)[1]}"
    return PURPOSES.get(code, code)


def _number(number: str) -> str:
    """An account number; one an erasure wiped ('~' and an id) said as such."""
    return "(đã xóa theo yêu cầu)" if number.startswith("~") else number


def _bank(bin_: str) -> str:
    bank = banks.get(bin_)
    return bank.short_name if bank else bin_


def _p(text: Any, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape("—" if text is None or text == "" else str(text)), style)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> Table:
    data = [[_p(h, _CELL_BOLD) for h in head]] + [[_p(v) for v in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, LINE),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _confirm_by(tools: list[str] | None) -> str:
    """A stall's answer in words: not asked, none, or its tools."""
    if tools is None:
        return "Chưa hỏi"
    return ", ".join(CONFIRM_TOOLS.get(t, t) for t in tools) or labels.CONFIRM_NONE_VI


def _none(text: str) -> Paragraph:
    return _p(text, _BODY)


def person_pdf(data: Gathered, *, today: date) -> bytes:
    """The printed export: who the person is to the service, their stalls, accounts, consents,
    partners, payments received, who read their record and the requests they made."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title="Dữ liệu cá nhân do Chợ Số lưu giữ",
        author="Chợ Số",
    )
    h = data.holder
    stall_codes = {s.id: s.stall_code for s in data.stalls}
    flow: list[Any] = [
        _p("Dữ liệu cá nhân do Chợ Số lưu giữ", _TITLE),
        _p(
            f"Về: {h.full_name or '(đã xóa theo yêu cầu)'} · In ngày {_day(today)} · "
            f"Yêu cầu xuất dữ liệu số {data.request_id}",
            _BODY,
        ),
        Spacer(1, 2 * mm),
        _p(
            "Bản này liệt kê mọi thông tin chương trình Chợ Số đang lưu về ông/bà, theo quyền "
            "được biết và được tiếp cận dữ liệu của mình (Luật Bảo vệ dữ liệu cá nhân số "
            "91/2025/QH15). Ông/bà có quyền yêu cầu sửa, xóa thông tin và rút lại đồng ý bất cứ "
            "lúc nào, bằng cách báo Ban quản lý chợ. Bản máy đọc (tệp JSON) có cùng nội dung.",
            _SMALL,
        ),
        _p("Thông tin chủ sạp", _HEAD),
        _table(
            ["Họ tên", "Số điện thoại", "CCCD", "Lưu từ"],
            [
                [
                    h.full_name,
                    _phone(h.phone_e164),
                    f"chỉ 4 số cuối: {h.cccd_last4}" if h.cccd_last4 else "không lưu",
                    _moment(h.created_at),
                ]
            ],
            [55, 35, 45, 43],
        ),
    ]
    if h.erased_at:
        flow.append(_none(f"Dữ liệu đã được xóa theo yêu cầu lúc {_moment(h.erased_at)}."))
    flow.append(_p("Sạp", _HEAD))
    flow.append(
        _table(
            ["Mã sạp", "Chợ", "Khu", "Mặt hàng", "Tình trạng", "Cách biết tiền về", "Đăng ký lúc"],
            [
                [
                    s.stall_code,
                    s.market_name,
                    s.zone,
                    s.goods,
                    STATUSES.get(s.status, s.status),
                    _confirm_by(s.confirm_by),
                    _moment(s.created_at),
                ]
                for s in data.stalls
            ],
            [18, 36, 16, 30, 20, 28, 30],
        )
        if data.stalls
        else _none("Không có sạp nào.")
    )
    other_ways = [s for s in data.stalls if s.also_accepts is not None]
    if other_ways:
        flow.append(_p("Cách thanh toán khác ngoài biển VietQR", _HEAD))
        flow.append(
            _table(
                ["Sạp", "Nhận thêm"],
                [
                    [
                        s.stall_code,
                        ", ".join(labels.ALSO_ACCEPTS_VI.get(m, m) for m in s.also_accepts or [])
                        or labels.ALSO_ACCEPTS_NONE_VI,
                    ]
                    for s in other_ways
                ],
                [30, 148],
            )
        )
    licensed = [s for s in data.stalls if s.licence_no]
    if licensed:
        flow.append(_p("Giấy phép kinh doanh", _HEAD))
        flow.append(
            _table(
                ["Sạp", "Số giấy phép"], [[s.stall_code, s.licence_no] for s in licensed], [30, 148]
            )
        )
    supported = [s for s in data.stalls if s.support]
    if supported:
        flow.append(_p("Gói hỗ trợ chuyển đổi số", _HEAD))
        flow.append(
            _table(
                ["Sạp", "Mục hỗ trợ", "Đã làm"],
                [
                    [
                        s.stall_code,
                        labels.SUPPORT_ITEMS_VI.get(item, item),
                        labels.SUPPORT_STATES_VI.get(state, state),
                    ]
                    for s in supported
                    for item, _, state in (part.partition(":") for part in s.support)
                ],
                [30, 90, 58],
            )
        )
    flow.append(_p("Tài khoản nhận tiền", _HEAD))
    flow.append(
        _table(
            ["Sạp", "Ngân hàng, ví", "Số tài khoản", "Tên chủ tài khoản", "Đang dùng"],
            [
                [
                    stall_codes.get(a.stall_id),
                    _bank(a.bin),
                    _number(a.account_number),
                    a.account_name or a.bank_account_name,
                    "có" if a.active else "đã ngừng",
                ]
                for a in data.accounts
            ],
            [20, 35, 45, 55, 23],
        )
        if data.accounts
        else _none("Không có tài khoản nào.")
    )
    flow.append(_p("Đồng ý của ông/bà", _HEAD))
    flow.append(
        _table(
            ["Mục đích", "Đồng ý lúc", "Ghi nhận", "Rút lại lúc"],
            [
                [
                    _purpose(c.purpose),
                    _moment(c.granted_at),
                    CHANNELS.get(c.channel, c.channel),
                    _moment(c.withdrawn_at) if c.withdrawn_at else "chưa rút",
                ]
                for c in data.consents
            ],
            [80, 34, 30, 34],
        )
        if data.consents
        else _none("Chưa ghi nhận đồng ý nào.")
    )
    account_label = {a.id: f"{_bank(a.bin)} {_number(a.account_number)}" for a in data.accounts}
    flow.append(_p("Đối tác mở tài khoản", _HEAD))
    flow.append(
        _table(
            ["Tài khoản", "Đối tác", "Trạng thái", "Từ lúc"],
            [
                [
                    account_label.get(o.payment_account_id),
                    o.partner_code,
                    ONBOARDING.get(o.status, o.status),
                    _moment(o.created_at),
                ]
                for o in data.onboardings
            ],
            [70, 30, 40, 38],
        )
        if data.onboardings
        else _none("Không có đối tác nào ghi nhận việc mở tài khoản.")
    )
    flow.append(_p("Giao dịch nhận được", _HEAD))
    if data.payments:
        first = min(p.occurred_at for p in data.payments)
        last = max(p.occurred_at for p in data.payments)
        flow.append(
            _none(
                f"{len(data.payments):,}".replace(",", ".")
                + f" giao dịch, tổng {_money(sum(p.amount for p in data.payments))}, "
                f"từ {_moment(first)} đến {_moment(last)} (chi tiết trong tệp JSON)."
            )
        )
    else:
        flow.append(_none("Chưa ghi nhận giao dịch nào."))
    if data.visits:
        flow.append(_p("Các lần ghé sạp", _HEAD))
        visits = sorted(data.visits, key=lambda v: v.visited_at, reverse=True)
        if len(visits) > LAST_VISITS:
            flow.append(_none(f"{len(visits)} lần ghé; {LAST_VISITS} lần gần nhất:"))
        flow.append(
            _table(
                ["Lúc", "Sạp", "Kết quả", "Ghi chú"],
                [
                    [
                        _moment(v.visited_at),
                        stall_codes.get(v.stall_id),
                        _visit_outcome(v),
                        v.note or "",
                    ]
                    for v in visits[:LAST_VISITS]
                ],
                [34, 20, 64, 60],
            )
        )
    flow.append(_p("Ai đã xem hồ sơ của ông/bà", _HEAD))
    reads = sorted(data.access_log, key=lambda r: r.at, reverse=True)
    if reads:
        flow.append(
            _none(
                f"{len(reads)} lần xem dữ liệu của ông/bà"
                + (f"; {LAST_READS} lần gần nhất:" if len(reads) > LAST_READS else ":")
            )
        )
        flow.append(
            _table(
                ["Lúc", "Người xem", "Việc"],
                [
                    [
                        _moment(r.at),
                        r.actor or "(tài khoản đã xóa)",
                        READS.get(r.reason or "", "xem dữ liệu"),
                    ]
                    for r in reads[:LAST_READS]
                ],
                [40, 60, 78],
            )
        )
    else:
        flow.append(_none("Chưa ai mở hồ sơ này."))
    flow.append(_p("Các yêu cầu của ông/bà", _HEAD))
    asked = sorted(data.requests, key=lambda r: r.requested_at, reverse=True)
    if len(asked) > LAST_REQUESTS:
        flow.append(_none(f"{len(asked)} yêu cầu; {LAST_REQUESTS} yêu cầu gần nhất:"))
    flow.append(
        _table(
            ["Yêu cầu", "Lúc", "Hạn", "Xong lúc"],
            [
                [
                    REQUESTS.get(r.kind, r.kind),
                    _moment(r.requested_at),
                    _moment(r.due_at),
                    _moment(r.completed_at) if r.completed_at else "chưa xong",
                ]
                for r in asked[:LAST_REQUESTS]
            ],
            [50, 43, 43, 42],
        )
        if data.requests
        else _none("Không có yêu cầu nào.")
    )
    flow.append(Spacer(1, 3 * mm))
    flow.append(
        _p(
            f"Nhật ký thay đổi: {len(data.audit)} mục (ai sửa gì, khi nào), có trong tệp JSON. "
            "Chợ Số không lưu ảnh và không lưu số CCCD đầy đủ.",
            _SMALL,
        )
    )
    doc.build(flow)
    return out.getvalue()


def _phone(e164: str | None) -> str | None:
    """+84905123456 as people write it: 0905 123 456."""
    if not e164 or not e164.startswith("+84"):
        return e164
    national = "0" + e164[3:]
    return f"{national[:4]} {national[4:7]} {national[7:]}".strip()
