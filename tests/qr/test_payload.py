"""The VietQR engine: CRC, transliteration, encode rules and errors, hand-built decode cases."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qr import banks, payload
from qr.payload import PayloadError, decode, encode

VCB, VCB_ACCOUNT = "970436", "0011001932418"
VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬEÈÉẺẼẸÊỀẾỂỄỆIÌÍỈĨỊOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢUÙÚỦŨỤƯỪỨỬỮỰYỲÝỶỸỴĐ"
)


def with_crc(body: str) -> str:
    """Append tag 63 with the CRC over the UTF-8 bytes of body + "6304"."""
    body += "6304"
    return f"{body}{payload.crc16_ccitt_false(body.encode()):04X}"


def tlv(tag: str, value: str) -> str:
    """One EMV data object."""
    return f"{tag}{len(value):02d}{value}"


def napas(bin: str = "970436", account: str = "1017595600", service: str = "QRIBFTTA") -> str:
    """Tag 38 for a NAPAS transfer."""
    beneficiary = tlv("00", bin) + tlv("01", account)
    return tlv("38", tlv("00", payload.NAPAS_GUID) + tlv("01", beneficiary) + tlv("02", service))


def crc_bitwise(data: bytes) -> int:
    """CRC-16/CCITT-FALSE one bit at a time, straight from the definition."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def cleaned(text: str) -> str:
    """The documented purpose/reference rule: transliterate, unsafe to space, collapse spaces."""
    return " ".join(re.sub(r"[^A-Za-z0-9 .\-]", " ", payload.transliterate(text)).split())


# ---- CRC ------------------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert payload.crc16_ccitt_false(b"123456789") == 0x29B1


@given(st.binary(max_size=300))
def test_crc_matches_the_bitwise_definition(data: bytes) -> None:
    assert payload.crc16_ccitt_false(data) == crc_bitwise(data)


def test_crc_below_0x1000_is_zero_padded() -> None:
    qr = encode(bin="970432", account="19372", amount=152000, purpose="gen by go-vietqr")
    assert qr.endswith("63040ED4")


@given(st.integers(1, 10**13 - 1))
def test_crc_is_always_four_uppercase_hex_digits(amount: int) -> None:
    assert re.fullmatch(r"6304[0-9A-F]{4}", encode(bin=VCB, account="1", amount=amount)[-8:])


# ---- transliteration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("Thanh toán đơn hàng", "Thanh toan don hang"),
        ("ủng hộ lũ lụt", "ung ho lu lut"),
        ("ĐÀ NẴNG", "DA NANG"),
        ("áÁéÉóÓíÍúÚýÝđĐ", "aAeEoOiIuUyYdD"),  # odoo/odoo PR #189238 test expectation
        ("Phở\u00a0bò", "Pho bo"),  # a non-breaking space stays a space
        ("Cà phê ☕", "Ca phe "),
    ],
)
def test_transliterate_examples(text: str, ascii: str) -> None:
    assert payload.transliterate(text) == ascii


def test_every_vietnamese_letter_becomes_one_ascii_letter() -> None:
    out = payload.transliterate(VIETNAMESE)
    assert len(out) == len(VIETNAMESE) and out.isascii() and out.isalpha()


@given(st.text())
def test_transliterate_is_ascii_and_idempotent(text: str) -> None:
    out = payload.transliterate(text)
    assert out.isascii()
    assert payload.transliterate(out) == out


# ---- encode: exact payloads ---------------------------------------------------------------------

ENCODE_VECTORS = [
    # vietqr.md §2, reproduced byte for byte by several peers
    (
        dict(bin=VCB, account=VCB_ACCOUNT),
        "00020101021138570010A00000072701270006970436011300110019324180208QRIBFTTA53037045802VN"
        "6304E0BB",
    ),
    (
        dict(bin=VCB, account=VCB_ACCOUNT, amount=50000, purpose="thanh toan"),
        "00020101021238570010A00000072701270006970436011300110019324180208QRIBFTTA5303704"
        "5405500005802VN62140810thanh toan63045569",
    ),
    # NAPAS-1.0 §6.1.2, static to card
    (
        dict(bin="970403", account="9704031101234567", service="card"),
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC5303704"
        "5802VN63044F52",
    ),
    # subiz/vietqr tests; purposes typed with diacritics come out transliterated
    (
        dict(bin="970422", account="0023457923442", amount=40123, purpose="chuyển khoản"),
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA5303704"
        "5405401235802VN62160812chuyen khoan6304722F",
    ),
    (
        dict(
            bin="970422",
            account="0023457923442ASDFLJ",
            amount=40123,
            purpose="chuyen khoan alsdkf laksj",
        ),
        "00020101021238630010A0000007270133000697042201190023457923442ASDFLJ0208QRIBFTTA5303704"
        "5405401235802VN62290825chuyen khoan alsdkf laksj6304E5DB",
    ),
    (
        dict(bin="970415", account=VCB_ACCOUNT, amount=120000, purpose="ủng hộ lũ lụt"),
        "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA5303704"
        "5406120000" + "5802VN62170813ung ho lu lut6304C15C",
    ),
    # liopayvn/vietqr-php README
    (
        dict(bin=VCB, account="1017595600", amount=180000, purpose="thanh toan don hang"),
        "00020101021238540010A00000072701240006970436011010175956000208QRIBFTTA5303704"
        "5406180000" + "5802VN62230819thanh toan don hang630470FA",
    ),
    # sunary/vietqr tests: CAKE's non-SBV BIN, a 5-digit account, a 9-digit amount
    (
        dict(bin="546034", account="0905555999"),
        "00020101021138540010A00000072701240006546034011009055559990208QRIBFTTA53037045802VN"
        "6304B2A0",
    ),
    (
        dict(bin="970416", account="13579", amount=120000),
        "00020101021238490010A000000727011900069704160105135790208QRIBFTTA5303704540612000058"
        "02VN63049A71",
    ),
    (
        dict(bin="970415", account="9876543210", amount=999999999, purpose="Large amount transfer"),
        "00020101021238540010A00000072701240006970415011098765432100208QRIBFTTA5303704"
        "5409999999999" + "5802VN62250821Large amount transfer63048A8F",
    ),
]


@pytest.mark.parametrize(("kwargs", "expected"), ENCODE_VECTORS)
def test_encode_reproduces_public_payloads(kwargs: dict, expected: str) -> None:
    assert encode(**kwargs) == expected


def test_reference_and_purpose_go_into_62_in_ascending_order() -> None:
    qr = encode(bin=VCB, account="1", purpose="tien rau", reference="SAP 12")
    assert "62220506SAP 120808tien rau6304" in qr


@pytest.mark.parametrize(
    ("amount", "poi", "expected"),
    [(None, None, "11"), (5000, None, "12"), (5000, "11", "11"), (None, "12", "12")],
)
def test_poi_defaults_to_static_without_amount_and_can_be_chosen(amount, poi, expected) -> None:
    qr = encode(bin=VCB, account="1", amount=amount, poi=poi)
    assert qr.startswith(f"0002010102{expected}38")
    assert decode(qr).valid


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("INV/TEST/0001", "INV TEST 0001"),
        ("  Sạp   rau\tcô Ba  ", "Sap rau co Ba"),
        ("Giá: 50.000đ - trả góp", "Gia 50.000d - tra gop"),
    ],
)
def test_purpose_is_transliterated_restricted_and_collapsed(text: str, encoded: str) -> None:
    assert decode(encode(bin=VCB, account="1", purpose=text)).purpose == encoded


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_purpose_or_reference_is_left_out(blank: str) -> None:
    assert encode(bin=VCB, account="1", purpose=blank, reference=blank) == encode(
        bin=VCB, account="1"
    )


# ---- encode: errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "code", "limit", "length"),
    [
        (dict(bin="97043"), "bin", "bad_format", 6, 5),
        (dict(bin="97043a"), "bin", "bad_format", 6, 6),
        (dict(bin="999999"), "bin", "unknown_bin", None, None),
        (dict(account=""), "account", "empty_value", 19, 0),
        (dict(account="1" * 20), "account", "value_too_long", 19, 20),
        (dict(account=" 123"), "account", "bad_characters", None, None),
        (dict(account="123 "), "account", "bad_characters", None, None),
        (dict(account="12\n3"), "account", "bad_characters", None, None),
        (dict(account="tài khoản"), "account", "bad_characters", None, None),
        (dict(service="wallet"), "service", "bad_service", None, None),
        (dict(amount=0), "amount", "amount_format", None, None),
        (dict(amount=-5), "amount", "amount_format", None, None),
        (dict(amount=True), "amount", "amount_format", None, None),
        (dict(amount=50000.0), "amount", "amount_format", None, None),
        (dict(amount=10**13), "amount", "value_too_long", 13, 14),
        (dict(amount=10**5000), "amount", "value_too_long", 13, None),
        (dict(purpose="x" * 31), "purpose", "value_too_long", 25, 31),
        (dict(purpose="Thanh toán tiền hàng tháng 11"), "purpose", "value_too_long", 25, 29),
        (dict(purpose="🍜🍜"), "purpose", "no_safe_characters", None, None),
        (dict(reference="r" * 26), "reference", "value_too_long", 25, 26),
        (dict(poi="13"), "poi", "bad_poi", None, None),
        (dict(bin="971025", account="PSP123"), "reference", "missing_momo_reference", None, None),
        (
            dict(bin="971025", account="PSP123", reference="W2W123"),
            "reference",
            "missing_momo_reference",
            None,
            None,
        ),
    ],
)
def test_encode_rejects_bad_input(kwargs: dict, field: str, code: str, limit, length) -> None:
    with pytest.raises(PayloadError) as caught:
        encode(**{"bin": VCB, "account": "1", **kwargs})
    error = caught.value
    assert (error.field, error.code, error.limit, error.length) == (field, code, limit, length)
    assert isinstance(error, ValueError) and field in str(error)


def test_too_long_message_names_field_length_and_limit() -> None:
    with pytest.raises(PayloadError, match=r"^purpose is 31 characters; the limit is 25$"):
        encode(bin=VCB, account="1", purpose="p" * 31)


def test_long_purposes_are_rejected_never_truncated() -> None:
    with pytest.raises(PayloadError):
        encode(bin=VCB, account="1", purpose="a" * 26)
    assert decode(encode(bin=VCB, account="1", purpose="a" * 25)).purpose == "a" * 25


# ---- encode/decode properties ------------------------------------------------------------------

BINS = [bank.bin for bank in banks.all_banks()]
ACCOUNTS = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=19
).filter(lambda s: s == s.strip())
FREE_TEXT = st.none() | st.text(st.sampled_from(VIETNAMESE + " -./:,!0123456789xyz"), max_size=25)
REFERENCES = FREE_TEXT | st.from_regex(r"MOMOW2W[0-9]{1,18}", fullmatch=True)


@given(
    bin=st.sampled_from(BINS),
    account=ACCOUNTS,
    service=st.sampled_from(["account", "card"]),
    amount=st.none() | st.integers(1, 10**13 - 1),
    purpose=FREE_TEXT,
    reference=REFERENCES,
    poi=st.sampled_from([None, "11", "12"]),
)
def test_decode_recovers_what_encode_wrote(
    bin, account, service, amount, purpose, reference, poi
) -> None:
    kwargs = dict(bin=bin, account=account, service=service, amount=amount, purpose=purpose)
    kwargs |= dict(reference=reference, poi=poi)
    want_purpose = cleaned(purpose) if purpose is not None else ""
    want_reference = cleaned(reference) if reference is not None else ""
    refused = [
        text
        for text, want in ((purpose, want_purpose), (reference, want_reference))
        if text and text.strip() and not want
    ]
    momo_refused = bin == "971025" and not want_reference.startswith("MOMOW2W")
    if refused or momo_refused:
        with pytest.raises(PayloadError):
            encode(**kwargs)
        return
    qr = encode(**kwargs)
    got = decode(qr)
    assert got.valid and got.structure_valid and got.crc_valid and got.problems == []
    assert (got.bin, got.account) == (bin, account)
    assert got.service_code == {"account": "QRIBFTTA", "card": "QRIBFTTC"}[service]
    assert got.amount == (str(amount) if amount else None)
    assert got.purpose == (want_purpose or None)
    assert got.reference == (want_reference or None)
    assert got.poi == (poi or ("12" if amount else "11"))
    bank = banks.get(bin)
    assert bank is not None and got.bank_short_name == bank.short_name
    momo = bin in ("971025", "970454") and want_reference.startswith("MOMOW2W")
    assert got.scheme == ("momo_vietqr" if momo else "napas_ibft")
    assert qr.isascii()


@given(st.text())
def test_decode_never_raises_on_any_text(text: str) -> None:
    got = decode(text)
    assert got.valid == (got.problems == [])
    assert not got.valid or (got.structure_valid and got.crc_valid)


@given(st.text(st.sampled_from("0123456789AV 6.\u00e9\u0111"), max_size=120))
def test_decode_never_raises_on_payload_like_text(text: str) -> None:
    got = decode("000201" + text)
    assert got.valid == (got.problems == [])


@given(st.data())
def test_any_single_character_change_is_caught(data: st.DataObject) -> None:
    # One changed ASCII byte is an error burst of at most 8 bits: CRC-16 always detects it.
    qr = encode(bin=VCB, account=VCB_ACCOUNT, amount=50000, purpose="thanh toan")
    at = data.draw(st.integers(0, len(qr) - 1))
    char = data.draw(st.characters(max_codepoint=0x7F))
    mutated = qr[:at] + char + qr[at + 1 :]
    lowercased_crc = mutated[:-4] == qr[:-4] and mutated[-4:].upper() == qr[-4:]
    assert decode(mutated).valid == lowercased_crc


@pytest.mark.parametrize("text", ["\ud800", "000201\udfff6304ABCD", "0002010102\ud83d\ude00"])
def test_decode_survives_lone_surrogates(text: str) -> None:
    assert not decode(text).valid


# ---- decode: hand-built payloads ----------------------------------------------------------------

VNPAY = with_crc(
    "000201010211" + "26280010A000000775011001A8018790" + "52045411" + "5303704" + "540520000"
    + "5802VN" + "5910CHO HAN DN" + "6006DANANG" + "62210303ABC0710TERMINAL01"
)  # fmt: skip


def test_vnpay_merchant_qr() -> None:
    got = decode(VNPAY)
    assert got.valid and got.scheme == "vnpay"
    assert (got.mai_tag, got.guid, got.merchant_id) == ("26", "A000000775", "01A8018790")
    assert (got.bin, got.account, got.amount, got.mcc) == (None, None, "20000", "5411")
    assert (got.merchant_name, got.merchant_city) == ("CHO HAN DN", "DANANG")
    assert got.additional_data == {"03": "ABC", "07": "TERMINAL01"}


def test_other_networks_are_generic_emvco() -> None:
    got = decode(with_crc("000201010211" + "26250013vn.airpay.www0104S123" + "53037045802VN"))
    assert got.valid and got.scheme == "emvco"
    assert (got.mai_tag, got.guid, got.merchant_id) == ("26", "vn.airpay.www", "S123")


def test_payload_without_merchant_account_is_unknown() -> None:
    got = decode(with_crc("000201010211" + "53037045802VN"))
    assert got.scheme == "unknown" and not got.valid
    assert [p.code for p in got.problems] == ["missing_mandatory_tag"]


def test_napas_merchant_without_service_is_qrpush() -> None:
    got = decode(
        with_crc(
            "000201010211" + "38470010A000000727012900069704030115211299504460425"
            + "52045812" + "53037045802VN" + "5910PHUONG CAC6005HANOI"
        )
    )  # fmt: skip
    assert got.valid and got.scheme == "napas_qrpush"
    assert (got.bin, got.account, got.service_code) == ("970403", "211299504460425", None)
    assert got.bank_short_name == "Sacombank"


def test_napas_cash_withdrawal_is_not_a_transfer() -> None:
    got = decode(with_crc("000201010212" + napas(service="QRCASH") + "53037045802VN"))
    assert got.valid and got.scheme == "emvco" and got.service_code == "QRCASH"


@pytest.mark.parametrize(
    ("bin", "account"), [("971025", "PSP0123456789"), ("970454", "99MM2401100")]
)
def test_momo_wallet_via_vietqr(bin: str, account: str) -> None:
    got = decode(encode(bin=bin, account=account, reference="MOMOW2W10927364"))
    assert got.valid and got.scheme == "momo_vietqr" and got.reference == "MOMOW2W10927364"


def test_bvbank_without_momo_reference_is_a_plain_transfer() -> None:
    assert decode(encode(bin="970454", account="99ZP24011000004")).scheme == "napas_ibft"


def test_momo_bin_without_reference_is_invalid() -> None:
    got = decode(with_crc("000201010211" + napas("971025", "PSP0123") + "53037045802VN"))
    assert got.bin == "971025" and [p.code for p in got.problems] == ["missing_momo_reference"]


def root_objects(qr: str) -> list[str]:
    """The root data objects of a payload, CRC excluded."""
    body, parts, at = qr[:-8], [], 0
    while at < len(body):
        size = int(body[at + 2 : at + 4])
        parts.append(body[at : at + 4 + size])
        at += 4 + size
    return parts


ORDERED = encode(bin=VCB, account=VCB_ACCOUNT, amount=50000, purpose="tien rau", reference="S12")


@given(st.permutations(root_objects(ORDERED)[1:]))
def test_tags_after_00_may_come_in_any_order(rest: list[str]) -> None:
    shuffled, original = decode(with_crc("000201" + "".join(rest))), decode(ORDERED)
    assert shuffled.valid
    for name in ("bin", "account", "service_code", "amount", "purpose", "reference", "poi"):
        assert getattr(shuffled, name) == getattr(original, name)


def test_lowercase_crc_and_surrounding_whitespace_are_accepted() -> None:
    qr = encode(bin=VCB, account=VCB_ACCOUNT)
    assert decode(qr[:-4] + qr[-4:].lower()).valid
    assert decode(f"  {qr}\r\n").valid


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("000202010211" + napas() + "53037045802VN", "bad_format_indicator"),
        ("010211000201" + napas() + "53037045802VN", "bad_format_indicator"),
        ("000201010213" + napas() + "53037045802VN", "bad_poi"),
        ("000201" + napas() + "53037045802VN", "missing_mandatory_tag"),
        ("000201010211" + napas() + "5802VN", "missing_mandatory_tag"),
        ("000201010211" + napas() + "53038405802VN", "bad_currency"),
        ("000201010211" + napas() + "53037045802US", "bad_country"),
        ("000201010211" + "38400010A000000727011000069704360208QRIBFTTA" + "53037045802VN",
         "missing_mandatory_tag"),
        ("000201010211" + "38440010A0000007270114000697043601001020" + "8QRIBFTTA53037045802VN",
         "bad_length"),
        ("000201010211" + napas(account="1" * 20) + "53037045802VN", "value_too_long"),
        ("000201010211" + napas(service="QRBILL") + "53037045802VN", "bad_service_code"),
        ("000201010211" + napas() + "530370453037045802VN", "duplicate_tag"),
        ("000201010211" + napas() + "53037045802VN0000", "bad_length"),
        ("000201010211" + napas() + "53037045802VN" + "6203080", "trailing_data"),
    ],
)  # fmt: skip
def test_broken_payloads_name_the_problem(body: str, code: str) -> None:
    got = decode(with_crc(body))
    assert not got.valid and got.crc_valid
    assert code in [p.code for p in got.problems]


def test_crc_must_be_the_last_data_object() -> None:
    qr = encode(bin=VCB, account="1")
    got = decode(qr[:-8] + "9908" + qr[-8:])  # the real-looking CRC now sits inside tag 99
    assert not got.valid and "crc_missing" in [p.code for p in got.problems]
    assert [p.code for p in decode(qr[:-8]).problems] == ["crc_missing"]


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        ("50000", True),
        ("50000.", True),  # NAPAS-1.0 §5.2.6: a dot with no decimals is allowed
        ("9999999999999", True),
        ("0", False),
        ("000", False),
        ("50 000", False),
        ("50000.5", False),  # VND has no minor unit
        ("50000.00", False),
        ("1e5", False),
        ("-5000", False),
        ("99999999999999", False),  # 14 characters
        ("٥٠٠٠", False),  # Arabic-Indic digits are digits to Python, not to EMV
    ],
)
def test_amount_format(amount: str, ok: bool) -> None:
    got = decode(with_crc(f"000201010212{napas()}5303704{tlv('54', amount)}5802VN"))
    assert got.structure_valid and got.amount == amount
    assert got.valid is ok
    assert ok or [p.code for p in got.problems] == ["amount_format"]


def test_structurally_broken_payload_reports_no_payment_fields() -> None:
    qr = encode(bin=VCB, account=VCB_ACCOUNT, amount=50000, purpose="thanh toan")
    got = decode(with_crc(qr[:-8].replace("0810thanh toan", "0812thanh toan")))
    assert not got.structure_valid and not got.valid and got.crc_valid
    assert (got.bin, got.account, got.amount, got.purpose, got.additional_data) == (
        None, None, None, None, {}
    )  # fmt: skip
    assert (got.scheme, got.poi) == ("napas_ibft", "12")


MAI = napas()


@pytest.mark.parametrize("extra", ["62130809Lê Anh Tú", "62150811Lê Anh Tú"])
def test_non_ascii_lengths_counted_in_characters_or_bytes(extra: str) -> None:
    # "Lê Anh Tú" is 9 characters and 11 UTF-8 bytes; VNPay's wallet counts characters,
    # vietqr-ts counts bytes. Whichever reading parses cleanly is accepted.
    got = decode(with_crc(f"000201010211{MAI}53037045802VN{extra}"))
    assert got.valid and got.purpose == "Lê Anh Tú"


def test_non_ascii_length_wrong_both_ways_reports_both_readings() -> None:
    got = decode(with_crc(f"000201010211{MAI}53037045802VN62140810Lê Anh Tú"))
    assert not got.structure_valid
    messages = [p.message for p in got.problems]
    assert any(m.startswith("counting characters:") for m in messages)
    assert any(m.startswith("counting UTF-8 bytes:") for m in messages)
