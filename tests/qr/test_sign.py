"""Printable signs: every QR on every page, rasterised at 150 dpi, scans back to its payload,
the sign shows its text with Vietnamese diacritics intact, and nothing spills over a cut line."""

import dataclasses
import re
import string

import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from qr import payload, render, sign
from tests.qr.test_render import DYNAMIC, PAYLOADS, QR_ONLY, STATIC, vietqr_payloads

DPI = 150
VIETNAMESE = "Nguyễn Thị Hồng Nhung Đỗ Ưng Phạm Quỳnh Trương Thủy Lý Huỳnh Ngô Vũ Đặng Bùi Dương"
LONG_NAME = "Tôn Nữ Thị Phương Thảo Hoàng Lê Nguyễn Quỳnh Anh Đ"  # 50 characters
SIGN = sign.SignInfo(
    payload=STATIC,
    market_name="Chợ Tân Chính",
    stall_code="K12",
    holder_name="Nguyễn Thị Hồng Nhung",
    goods="Rau củ quả tươi",
    bank_short_name="Vietcombank",
    account_number="0011001932418",
    account_name="Nguyen Thi Hong Nhung",
    zone="Khu rau",
)


def px(millimetres: float) -> int:
    return round(millimetres / 25.4 * DPI)


def page_images(pdf: bytes) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    return [page.render(scale=DPI / 72).to_pil().convert("L") for page in document]


def page_sizes_mm(pdf: bytes) -> list[tuple[int, int]]:
    return [
        tuple(round(v / 72 * 25.4) for v in page.get_size()) for page in pdfium.PdfDocument(pdf)
    ]


def page_texts(pdf: bytes) -> list[str]:
    return [page.get_textpage().get_text_bounded() for page in pdfium.PdfDocument(pdf)]


def scan(image: Image.Image, rows: int = 1) -> list[zxingcpp.Barcode]:
    """QR codes on a page, in reading order of a grid with `rows` rows."""
    found = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    row_height = image.height / rows

    def reading_order(code: zxingcpp.Barcode) -> tuple[int, int]:
        p = code.position
        return int(p.top_left.y // row_height), p.top_left.x

    return sorted(found, key=reading_order)


def width_mm(code: zxingcpp.Barcode) -> float:
    p = code.position
    return ((p.top_right.x - p.top_left.x) ** 2 + (p.top_right.y - p.top_left.y) ** 2) ** 0.5 / (
        DPI / 25.4
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def signs_for(payloads: list[str]) -> list[sign.SignInfo]:
    return [
        dataclasses.replace(SIGN, payload=p, stall_code=f"A{i + 1}") for i, p in enumerate(payloads)
    ]


def assert_fills_the_qr_square_with_a_4_module_quiet_zone(
    image: Image.Image, code: zxingcpp.Barcode, scale: float
) -> None:
    """Level H, modules as large as the sign's QR square allows, and nothing but white within
    4 modules of the code."""
    modules = render.matrix(code.text).size
    assert code.ec_level == "H"
    assert width_mm(code) == pytest.approx(sign.QR_BOX * scale * modules / (modules + 8), abs=0.5)
    p = code.position
    left, top, right, bottom = p.top_left.x, p.top_left.y, p.bottom_right.x, p.bottom_right.y
    quiet = round(4 * (right - left) / modules) - 1
    for box in (
        (left - quiet, top - quiet, right + quiet, top - 2),
        (left - quiet, bottom + 2, right + quiet, bottom + quiet),
        (left - quiet, top - quiet, left - 2, bottom + quiet),
        (right + 2, top - quiet, right + quiet, bottom + quiet),
    ):
        assert image.crop(box).getextrema() == (255, 255), box


def test_a6_sign_scans_back_and_shows_every_field() -> None:
    pdf = sign.sign_pdf(SIGN)
    assert page_sizes_mm(pdf) == [(105, 148)]
    (image,) = page_images(pdf)
    (code,) = scan(image)
    assert code.text == SIGN.payload
    assert width_mm(code) >= 59.5  # arm's-length scanning wants about 6 cm
    assert_fills_the_qr_square_with_a_4_module_quiet_zone(image, code, 1.0)
    text = page_texts(pdf)[0]
    for shown in (
        "CHỢ TÂN CHÍNH · KHU RAU",
        "K12",
        "Nguyễn Thị Hồng Nhung",
        "Rau củ quả tươi",
        "Vietcombank",
        "0011001932418",
        "NGUYEN THI HONG NHUNG",
        "Quét mã để thanh toán",
        "VietQR · NAPAS 247",
    ):
        assert shown in text


def test_a5_sign_is_a5_with_a_bigger_code() -> None:
    pdf = sign.sign_pdf(SIGN, size="A5")
    assert page_sizes_mm(pdf) == [(148, 210)]
    (image,) = page_images(pdf)
    (code,) = scan(image)
    assert code.text == SIGN.payload
    assert width_mm(code) >= 84
    assert_fills_the_qr_square_with_a_4_module_quiet_zone(image, code, sign.SCALE["A5"])


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="A6 or A5"):
        sign.sign_pdf(SIGN, size="A4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="A6 or A5"):
        sign.market_pdf([SIGN], size="A3")  # type: ignore[arg-type]


def test_every_public_vector_scans_back_from_a_market_sheet_in_order() -> None:
    signs = signs_for(PAYLOADS)
    calls: list[tuple[int, int]] = []
    pdf = sign.market_pdf(signs, progress=lambda done, total: calls.append((done, total)))
    pages = page_images(pdf)
    assert len(pages) == (len(signs) + 3) // 4
    assert set(page_sizes_mm(pdf)) == {(210, 297)}
    decoded = [code.text for image in pages for code in scan(image, rows=2)]
    assert decoded == [s.payload for s in signs]
    assert calls == [(i, len(signs)) for i in range(1, len(signs) + 1)]
    texts = page_texts(pdf)
    assert [flat(t).count("Quét mã để thanh toán") for t in texts] == [4] * (len(signs) // 4) + (
        [len(signs) % 4] if len(signs) % 4 else []
    )


def test_a5_market_sheet_puts_two_portrait_signs_on_landscape_a4() -> None:
    signs = signs_for([STATIC, DYNAMIC, PAYLOADS[6]])
    pdf = sign.market_pdf(signs, size="A5", title="Chợ Hàn")
    assert page_sizes_mm(pdf) == [(297, 210), (297, 210)]
    decoded = [code.text for image in page_images(pdf) for code in scan(image)]
    assert decoded == [s.payload for s in signs]
    assert pdfium.PdfDocument(pdf).get_metadata_dict()["Title"] == "Chợ Hàn"


def test_identical_payloads_are_drawn_once() -> None:
    signs = signs_for([STATIC, DYNAMIC, STATIC, STATIC, DYNAMIC, STATIC])
    pdf = sign.market_pdf(signs)
    assert len(re.findall(rb"/Subtype /Form", pdf)) == 2
    decoded = [code.text for image in page_images(pdf) for code in scan(image, rows=2)]
    assert decoded == [s.payload for s in signs]


def test_cut_marks_and_clean_gutters_on_a_sheet() -> None:
    long = dataclasses.replace(
        SIGN,
        holder_name=LONG_NAME,
        market_name="Chợ Bắc Mỹ An, phường Mỹ An, quận Ngũ Hành Sơn, Đà Nẵng",
        goods="Đồ khô, gia vị, hải sản khô các loại từ miền Trung và miền Nam",
        account_name="TON NU THI PHUONG THAO HOANG LE NGUYEN QUYNH ANH",
        account_number="1234567890123456789",
        stall_code="B-104-KHU-CA",
    )
    (image,) = page_images(sign.market_pdf([long] * 4))
    width, height = image.size

    def ink(box: tuple[int, int, int, int]) -> bool:
        darkest, _ = image.crop(box).getextrema()
        return bool(darkest < 128)  # type: ignore[operator]

    mid_x, mid_y = width // 2, height // 2
    # Ticks where the cut lines leave the sheet, and a cross where they meet.
    assert ink((mid_x - 2, px(2.5), mid_x + 2, px(6.5)))
    assert ink((mid_x - 2, height - px(6.5), mid_x + 2, height - px(2.5)))
    assert ink((px(2.5), mid_y - 2, px(6.5), mid_y + 2))
    assert ink((mid_x - px(2.5), mid_y - 2, mid_x + px(2.5), mid_y + 2))
    # Between the sign frames, along both cut lines, nothing but the marks.
    gutter = px(3.4)
    assert not ink((mid_x - gutter, px(8), mid_x - 3, mid_y - px(4)))
    assert not ink((mid_x + 3, px(8), mid_x + gutter, mid_y - px(4)))
    assert not ink((mid_x - gutter, mid_y + px(4), mid_x + gutter, height - px(8)))
    assert not ink((px(8), mid_y - gutter, mid_x - px(4), mid_y - 3))
    assert not ink((mid_x + px(4), mid_y + 3, width - px(8), mid_y + gutter))
    # And the long texts are all there, shrunk or wrapped, not cut.
    text = flat(page_texts(sign.market_pdf([long]))[0])
    assert LONG_NAME in text
    assert long.goods and long.goods in text
    assert long.account_name in text
    assert long.account_number in text


def test_long_texts_stay_inside_the_sign_frame() -> None:
    names = [LONG_NAME, "X" * 50, "Đ" * 50]
    for name in names:
        pdf = sign.sign_pdf(dataclasses.replace(SIGN, holder_name=name, goods="Ư" * 60))
        (image,) = page_images(pdf)
        width, height = image.size
        inset = px(sign.FRAME_INSET) - 2
        for box in ((0, 0, inset, height), (width - inset, 0, width, height)):
            assert image.crop(box).getextrema() == (255, 255), name
        (code,) = scan(image)
        assert code.text == SIGN.payload


def test_fit_text_wraps_a_50_character_name_into_two_balanced_lines() -> None:
    width = sign.TEXT_W * mm
    fitted = sign.fit_text(LONG_NAME, sign.BOLD, 16.0, width, max_lines=2)
    assert len(LONG_NAME) == 50
    assert len(fitted.lines) == 2
    assert " ".join(fitted.lines) == LONG_NAME
    assert fitted.size >= 12
    for line in fitted.lines:
        assert pdfmetrics.stringWidth(line, sign.BOLD, fitted.size) <= width + 1e-6


def test_fit_text_shrinks_then_cuts_a_word_too_long_for_any_line() -> None:
    width = sign.TEXT_W * mm
    short = sign.fit_text("K12", sign.BOLD, 34.0, width)
    assert short == sign.Fitted(34.0, ("K12",))
    word = "Đ" * 80
    fitted = sign.fit_text(word, sign.BOLD, 16.0, width, max_lines=2)
    assert fitted.size == sign.MIN_TEXT_PT
    (line,) = fitted.lines
    assert line.endswith("…") and word.startswith(line[:-1])
    assert pdfmetrics.stringWidth(line, sign.BOLD, fitted.size) <= width
    two_words = sign.fit_text(f"{word} {word}", sign.BOLD, 16.0, width, max_lines=2)
    assert len(two_words.lines) == 2
    for line in two_words.lines:
        assert line.endswith("…")
        assert pdfmetrics.stringWidth(line, sign.BOLD, two_words.size) <= width


def test_font_with_vietnamese_glyphs_is_embedded() -> None:
    pdf = sign.sign_pdf(dataclasses.replace(SIGN, holder_name=VIETNAMESE[:40]))
    assert pdf.count(b"/FontFile2") == 2  # regular and bold, embedded (subset)
    for font_name in (sign.REGULAR, sign.BOLD):
        face = pdfmetrics.getFont(font_name).face
        letters = set(VIETNAMESE + "ăâđêôơưẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ")
        assert all(ord(ch) in face.charToGlyph for ch in letters if not ch.isspace())
    assert flat(VIETNAMESE[:40]) in flat(page_texts(pdf)[0])
    assert (sign.FONT_DIR / "LICENSE").read_text().count("Bitstream Vera") >= 3


def test_sign_is_black_on_white() -> None:
    # Grey appears only on anti-aliased edges: no 3x3 patch anywhere is grey throughout.
    for size in ("A6", "A5"):
        (image,) = page_images(sign.sign_pdf(SIGN, size=size))  # type: ignore[arg-type]
        grey = image.point(lambda v: 255 if 40 <= v < 216 else 0)
        assert grey.filter(ImageFilter.MinFilter(3)).getextrema() == (0, 0)


def test_empty_market_gives_one_blank_page() -> None:
    pdf = sign.market_pdf([])
    (image,) = page_images(pdf)
    assert image.getextrema() == (255, 255)


vietnamese_text = st.text(
    alphabet=string.ascii_letters + " " + "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọ"
    "ốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ",
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=vietqr_payloads,
    holder=vietnamese_text,
    goods=st.none() | vietnamese_text,
    size=st.sampled_from(["A6", "A5"]),
)
def test_generated_signs_scan_back(data: str, holder: str, goods: str | None, size: str) -> None:
    info = dataclasses.replace(SIGN, payload=data, holder_name=holder, goods=goods)
    pdf = sign.sign_pdf(info, size=size)  # type: ignore[arg-type]
    (image,) = page_images(pdf)
    assert [code.text for code in scan(image)] == [data]
    assert payload.decode(data).crc_valid


def test_the_support_number_is_printed_whole_whatever_the_partners_name() -> None:
    """The last line carries the partner's support number: with the network and the partner's
    name when they fit, else without the network, else without the name; the number itself is
    never cut short, and the code still scans back."""
    plain = sign.footer_text(SIGN)
    assert plain == sign.NETWORK
    cases = {
        "MB": "VietQR · NAPAS 247 · Hỗ trợ MB: 1900 545426",
        "Ngân hàng TMCP Ngoại thương Việt Nam chi nhánh": (
            "Hỗ trợ Ngân hàng TMCP Ngoại thương Việt Nam chi nhánh: 1900 545426"
        ),
        "Đ" * 80: "Hỗ trợ: 1900 545426",
    }
    for partner, line in cases.items():
        info = dataclasses.replace(SIGN, support_partner=partner, support_phone="1900 545426")
        assert sign.footer_text(info) == line
        pdf = sign.sign_pdf(info)
        assert line in page_texts(pdf)[0]
        (image,) = page_images(pdf)
        (code,) = scan(image)
        assert code.text == SIGN.payload
        width, height = image.size
        inset = px(sign.FRAME_INSET) - 2
        for box in ((0, 0, inset, height), (width - inset, 0, width, height)):
            assert image.crop(box).getextrema() == (255, 255), partner
    longest = dataclasses.replace(SIGN, support_partner=None, support_phone="+84 24 3936 8888 12")
    assert sign.footer_text(longest) == "VietQR · NAPAS 247 · Hỗ trợ: +84 24 3936 8888 12"


def test_a_zone_is_named_on_the_sign_as_on_screen() -> None:
    """A zone "A" printed as "CHỢ HÀN · A" while every screen said "Khu A"; a zone whose name says
    it is a place ("Dãy 3") stays as it is."""
    for zone, shown in (("A", "CHỢ HÀN · KHU A"), ("Dãy 3", "CHỢ HÀN · DÃY 3")):
        pdf = sign.sign_pdf(dataclasses.replace(SIGN, market_name="Chợ Hàn", zone=zone))
        assert shown in flat(page_texts(pdf)[0]), zone


def test_goods_as_long_as_the_form_takes_are_printed_whole_on_two_lines() -> None:
    goods = "Rau củ quả, trái cây tươi, thịt heo, thịt bò, gà vịt, trứng, hải sản tươi sống, đồ khô các loại ngon"
    assert len(goods) == 100  # merchants.schemas.Goods: at most 100 characters
    info = dataclasses.replace(SIGN, goods=goods, holder_name=LONG_NAME)
    fitted = sign._texts(info).goods
    assert fitted is not None and len(fitted.lines) == 2 and not fitted.cut
    assert fitted.size > 8  # was one line at 6 pt before the goods could take two
    assert sign.shortened(info) == ()
    text = flat(page_texts(sign.sign_pdf(info))[0])
    assert goods in text and LONG_NAME in text
    (image,) = page_images(sign.sign_pdf(info))
    (code,) = scan(image)
    assert code.text == SIGN.payload


def test_fit_text_balances_three_lines_and_never_cuts_when_told() -> None:
    width = sign.TEXT_W * mm
    words = "một hai ba bốn năm sáu bảy tám chín mười mười một mười hai mười ba mười bốn"
    three = sign.fit_text(words, sign.REGULAR, 40.0, width, max_lines=3)
    assert len(three.lines) == 3 and " ".join(three.lines) == words and not three.cut
    widths = [pdfmetrics.stringWidth(line, sign.REGULAR, 1.0) for line in three.lines]
    assert max(widths) - min(widths) < 0.25 * max(widths)  # balanced, not greedy
    wide = "W" * 50  # an account name at its limit, in the widest letter
    kept = sign.fit_text(wide, sign.REGULAR, 9.0, width, never_cut=True)
    assert kept.lines == (wide,) and not kept.cut and kept.size < sign.MIN_TEXT_PT
    assert pdfmetrics.stringWidth(wide, sign.REGULAR, kept.size) <= width + 1e-6
    assert sign.fit_text(wide, sign.REGULAR, 9.0, width).cut


def test_the_sign_names_what_it_shows_only_in_part() -> None:
    assert sign.shortened(SIGN) == ()
    wide = dataclasses.replace(
        SIGN, holder_name=" ".join(["Ẅ" * 9] * 10), goods="W" * 100, account_name="W" * 50
    )
    assert sign.shortened(wide) == ("holder_name", "goods")
    text = flat(page_texts(sign.sign_pdf(wide))[0])
    assert "W" * 50 in text  # the account's name, whole, however small
    long_market = dataclasses.replace(SIGN, market_name="Chợ " + "Ẃ" * 116)
    assert sign.shortened(long_market) == ("market_name",)
