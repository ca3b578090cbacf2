"""QR rendering: every PNG and SVG we produce scans back to exactly its payload."""

# ruff: noqa: E501  (public payloads stay verbatim on one line, so they can be searched for)

import io
import re
import string

import pytest
import qrcode
import resvg_py
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q

from qr import banks, payload, render

# Every payload string of the public vectors in shared/reference/vietqr_vectors.json, valid or not:
# rendering must carry any string faithfully, whatever a decoder later makes of it.
PAYLOADS = [
    "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5",
    "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52",
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E",
    "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN6304A203",
    "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203",
    "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4",
    "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA53037045405401235802VN62200816test text string6304D9C6",
    "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA53037045405401235802VN62160812chuyen khoan6304722F",
    "00020101021238630010A0000007270133000697042201190023457923442ASDFLJ0208QRIBFTTA53037045405401235802VN62290825chuyen khoan alsdkf laksj6304E5DB",
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C",
    "0002010102113838000697042201120023457923440208QRIBFTTA530370454061800005802VN62160814ung ho bao lut6304E69F",
    "00020101021238540010A00000072701240006970436011010175956000208QRIBFTTA530370454061800005802VN62230819thanh toan don hang630470FA",
    "00020101021138470010A0000007270129000697040301152112995044604255204581253037045802VN5910PHUONG CAC6005HANOI62110507NPS686963040000",
    "00020101021138540010A00000072701240006546034011009055559990208QRIBFTTA53037045802VN6304B2A0",
    "00020101021238490010A000000727011900069704160105135790208QRIBFTTA530370454061200005802VN63049A71",
    "00020101021138510010A00000072701210006970407010797968680208QRIBFTTA53037045802VN62240820gen by sunary/vietqr6304BE74",
    "00020101021238490010A000000727011900069704320105193720208QRIBFTTA530370454061520005802VN62200816gen by go-vietqr63040ED4",
    "00020101021238540010A00000072701240006970405011011111111110208QRIBFTTA53037045405500005802VN62930889This is a very long message that tests the maximum length handling for QR code generation63043199",
    "00020101021238540010A00000072701240006970403011022222222220208QRIBFTTA53037045405750005802VN62600856Message with special chars: @#$%^&*()_+-=[]{}|;':\",./<>?630498F2",
    "00020101021238540010A00000072701240006970415011098765432100208QRIBFTTA530370454099999999995802VN62250821Large amount transfer63048A8F",
    "00020101021138400010A0000007750110VNP-1234560208QRIBFTTA53037045802VN6304E56C",
    "00020101021138540010A00000072701240006999999011009055559990208QRIBFTTA53037045802VN6304B2A0",
]
STATIC = "00020101021138540010A00000072701240006970422011001234567890208QRIBFTTA53037045802VN62210817CHO TAN CHINH K126304C391"
DYNAMIC = "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
QRCODE_LEVEL = {"M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
BINS = [b.bin for b in banks.all_banks() if b.bin != payload.MOMO_BIN]
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
PURPOSE_CHARS = string.ascii_letters + string.digits + " .-" + "ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệ"


def decode(image: Image.Image) -> list[str]:
    # QR codes only, as phones and our /scan do: an all-format scan can also find a phantom
    # 1-D barcode (ITF) in a row of modules.
    return [r.text for r in zxingcpp.read_barcodes(image.convert("L"), formats=QR_ONLY)]


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def svg_image(svg: str) -> Image.Image:
    """Rasterise with resvg, an SVG renderer independent of ours."""
    return png_image(bytes(resvg_py.svg_to_bytes(svg_string=svg)))


def qrcode_reference(data: str, ecc: str = "M") -> qrcode.QRCode:
    reference = qrcode.QRCode(error_correction=QRCODE_LEVEL[ecc], border=0)
    reference.add_data(data)
    reference.make(fit=True)
    return reference


def assert_same_symbol_as_qrcode(data: str, ecc: str = "M") -> None:
    """Given qrcode's own segments and version, our symbol is qrcode's, module for module."""
    reference = qrcode_reference(data, ecc)
    segments = [(chunk.mode, chunk.data) for chunk in reference.data_list]
    ours = render.from_segments(segments, ecc, reference.version)
    assert ours.to_lists() == reference.modules
    assert render.matrix(data, ecc).version <= reference.version


vietqr_payloads = st.builds(
    lambda bin, account, amount, purpose: payload.encode(
        bin=bin, account=account, amount=amount, purpose=purpose
    ),
    bin=st.sampled_from(BINS),
    account=st.text(string.digits, min_size=1, max_size=19)
    | st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=19),
    amount=st.none() | st.integers(1, 499_999_999),
    purpose=st.none()
    | st.text(PURPOSE_CHARS, min_size=1, max_size=25).filter(
        lambda s: 0 < len(" ".join(payload.transliterate(s).split())) <= 25
    ),
)


@pytest.mark.parametrize("data", PAYLOADS, ids=range(len(PAYLOADS)))
def test_public_vector_png_and_svg_scan_back(data: str) -> None:
    assert decode(png_image(render.png(data))) == [data]
    assert decode(svg_image(render.svg(data, scale=4))) == [data]


@pytest.mark.parametrize("data", PAYLOADS, ids=range(len(PAYLOADS)))
def test_public_vector_symbol_matches_qrcode(data: str) -> None:
    assert_same_symbol_as_qrcode(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=vietqr_payloads, scale=st.integers(1, 12))
def test_generated_vietqr_payloads_scan_back(data: str, scale: int) -> None:
    assert decode(png_image(render.png(data, scale=max(scale, 3)))) == [data]
    assert decode(svg_image(render.svg(data, scale=scale))) == [data]
    assert_same_symbol_as_qrcode(data)


@settings(max_examples=100, deadline=None)
@given(
    data=st.text(string.printable.strip() + " ", min_size=1, max_size=400),
    ecc=st.sampled_from(["M", "Q", "H"]),
)
def test_any_ascii_text_all_levels(data: str, ecc: str) -> None:
    # Mixed runs of digits, upper case and other text exercise every segment mode switch.
    assert_same_symbol_as_qrcode(data, ecc)
    image = png_image(render.png(data, scale=3))  # PNGs are always level H
    assert image.size == ((render.matrix(data).size + 8) * 3,) * 2
    assert decode(image) == [data]


def test_vietnamese_text_in_byte_mode_scans_back() -> None:
    text = "Thanh toán đơn hàng – Chợ Hàn, Đà Nẵng"
    assert decode(png_image(render.png(text))) == [text]


def test_segments_pick_compact_modes() -> None:
    # Digits and upper case need no byte mode; lower case forces it only where it occurs.
    static = render.matrix(STATIC)
    assert b"".join(chunk for _, chunk in static.segments) == STATIC.encode()
    assert {mode for mode, _ in static.segments} == {render.NUMERIC, render.ALPHANUMERIC}
    dynamic = render.matrix(DYNAMIC)
    byte_text = b"".join(chunk for mode, chunk in dynamic.segments if mode == render.BYTE)
    assert b"thanh toan don hang" in byte_text and len(byte_text) < 40


def test_symbol_can_be_smaller_than_qrcode_optimiser_makes_it() -> None:
    data = PAYLOADS[6]  # "...test text string..."
    assert render.matrix(data, "M").version == 5
    assert qrcode_reference(data, "M").version == 6
    assert render.matrix(data).version == 8  # level H, what we render
    assert qrcode_reference(data, "H").version == 9
    assert decode(png_image(render.png(data))) == [data]


def test_ecc_is_h_by_default_and_never_below_m() -> None:
    assert render.matrix(STATIC).ecc == "H"
    assert render.matrix(STATIC, "m").ecc == "M"
    with pytest.raises(ValueError, match="M, Q or H"):
        render.matrix(STATIC, "L")
    with pytest.raises(ValueError, match="empty"):
        render.matrix("")


def test_png_is_one_bit_with_a_white_quiet_zone() -> None:
    symbol = render.matrix(DYNAMIC)
    image = png_image(render.png(DYNAMIC, scale=5, border=6))
    assert image.format == "PNG" and image.mode == "1"
    side = (symbol.size + 12) * 5
    assert image.size == (side, side)
    grey = image.convert("L")
    quiet = 6 * 5
    for box in ((0, 0, side, quiet), (0, side - quiet, side, side), (0, 0, quiet, side)):
        assert grey.crop(box).getextrema() == (255, 255)
    assert grey.crop((side - quiet, 0, side, side)).getextrema() == (255, 255)
    # Every module is a solid scale x scale block matching the matrix.
    for r in range(symbol.size):
        for c in range(symbol.size):
            block = grey.crop((quiet + c * 5, quiet + r * 5, quiet + c * 5 + 5, quiet + r * 5 + 5))
            expected = 0 if symbol.is_dark(r, c) else 255
            assert block.getextrema() == (expected, expected)


def test_png_and_svg_reject_a_thin_quiet_zone_or_zero_scale() -> None:
    with pytest.raises(ValueError, match="quiet zone"):
        render.png(STATIC, border=3)
    with pytest.raises(ValueError, match="quiet zone"):
        render.svg(STATIC, border=2)
    with pytest.raises(ValueError, match="scale"):
        render.png(STATIC, scale=0)


def test_svg_is_one_crisp_path_in_module_units() -> None:
    symbol = render.matrix(STATIC)
    svg = render.svg(STATIC, scale=7, border=4)
    side = symbol.size + 8
    assert svg.count("<path") == 1
    assert 'shape-rendering="crispEdges"' in svg
    assert f'viewBox="0 0 {side} {side}"' in svg
    assert f'width="{side * 7}" height="{side * 7}"' in svg
    # The path covers exactly the dark modules: its unit rows add up to the dark count.
    widths = [int(w) for w in re.findall(r"h(\d+)v1", svg)]
    assert sum(widths) == sum(row.bit_count() for row in symbol.rows)


def test_matrix_is_cached_per_payload() -> None:
    render.matrix.cache_clear()
    first = render.matrix(DYNAMIC)
    assert render.matrix(DYNAMIC) is first
    assert render.matrix.cache_info().hits == 1
    assert render.matrix(STATIC) is not first
