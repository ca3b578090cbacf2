"""Differential tests against PyPI vietnam-qr-pay 1.0.0; each known difference is pinned here.

docs/vietqr-differences.md explains every pinned difference.
"""

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vietnam_qr_pay import BanksObject, QRPay, VietQRService

from qr import banks
from qr.payload import PayloadError, crc16_ccitt_false, decode, encode

SERVICES = {"account": VietQRService.BY_ACCOUNT_NUMBER, "card": VietQRService.BY_CARD_NUMBER}
VCB = "970436"
MAI = "38540010A00000072701240006970436011010175956000208QRIBFTTA"


def theirs(
    bin: str,
    account: str,
    service: str = "account",
    amount: str | None = None,
    purpose: str | None = None,
    reference: str | None = None,
    poi: str | None = None,
) -> str:
    """Build with vietnam-qr-pay the way its README does, plus reference and POI overrides."""
    qr = QRPay.init_viet_qr(
        bank_bin=bin, bank_number=account, amount=amount, purpose=purpose, service=SERVICES[service]
    )
    if reference:
        qr.additional_data.reference = reference
    if poi:
        qr.init_method = poi
    return qr.build()


def with_crc(body: str) -> str:
    body += "6304"
    return f"{body}{crc16_ccitt_false(body.encode()):04X}"


def codes(payload: str) -> list[str]:
    return [p.code for p in decode(payload).problems]


SAFE_WORDS = st.text(st.sampled_from("ABCXYZabcxyz0123456789.-"), min_size=1, max_size=6)
SAFE_TEXT = (
    st.lists(SAFE_WORDS, min_size=1, max_size=4).map(" ".join).filter(lambda s: len(s) <= 25)
)


@st.composite
def valid_inputs(draw: st.DrawFn) -> dict:
    bin = draw(st.sampled_from([b.bin for b in banks.all_banks()]))
    reference = draw(st.none() | SAFE_TEXT)
    if bin == "971025":
        reference = "MOMOW2W" + draw(st.from_regex(r"[0-9]{1,18}", fullmatch=True))
    return dict(
        bin=bin,
        account=draw(
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=19)
            .filter(lambda s: s == s.strip())
        ),
        service=draw(st.sampled_from(["account", "card"])),
        amount=draw(st.none() | st.integers(1, 10**13 - 1)),
        purpose=draw(st.none() | SAFE_TEXT),
        reference=reference,
        poi=draw(st.sampled_from([None, "11", "12"])),
    )  # fmt: skip


@settings(max_examples=400)
@given(valid_inputs())
def test_valid_ascii_inputs_give_byte_identical_payloads(kwargs: dict) -> None:
    amount = kwargs["amount"]
    expected = theirs(**{**kwargs, "amount": None if amount is None else str(amount)})
    assert encode(**kwargs) == expected


@given(valid_inputs())
def test_both_decoders_read_our_payloads_alike(kwargs: dict) -> None:
    payload = encode(**kwargs)
    them, us = QRPay(payload), decode(payload)
    assert them.is_valid and us.valid
    assert (them.consumer.bank_bin, them.consumer.bank_number) == (us.bin, us.account)
    assert (them.amount, them.additional_data.purpose) == (us.amount, us.purpose)
    assert (them.additional_data.reference, them.init_method) == (us.reference, us.poi)


# ---- encoding differences ------------------------------------------------------------------


def test_diacritics_kept_length_in_characters_crc_over_bytes() -> None:
    their_payload = theirs(VCB, "1", purpose="Thanh toán")
    assert "0810Thanh toán" in their_payload  # 10 characters, 11 UTF-8 bytes
    assert decode(their_payload).valid  # we read it, counting characters as EMV does
    assert "0810Thanh toan" in encode(bin=VCB, account="1", purpose="Thanh toán")


def test_d_stroke_is_kept_by_them_and_transliterated_by_us() -> None:
    assert "đ" in theirs(VCB, "1", purpose="đơn")
    assert "0803don" in encode(bin=VCB, account="1", purpose="đơn")


def test_unsafe_punctuation_and_spacing_kept_by_them() -> None:
    assert "0808INV/0001" in theirs(VCB, "1", purpose="INV/0001")
    assert "0808INV 0001" in encode(bin=VCB, account="1", purpose="INV/0001")
    assert "0804a  b" in theirs(VCB, "1", purpose="a  b")
    assert "0803a b" in encode(bin=VCB, account="1", purpose="a  b")


def test_over_25_characters_emitted_by_them_refused_by_us() -> None:
    their_payload = theirs(VCB, "1", purpose="x" * 40)
    assert "0840" + "x" * 40 in their_payload
    with pytest.raises(PayloadError, match="purpose is 40 characters; the limit is 25"):
        encode(bin=VCB, account="1", purpose="x" * 40)


def test_over_99_characters_gives_them_a_three_digit_length() -> None:
    their_payload = theirs(VCB, "1", purpose="x" * 100)
    assert "08100xxx" in their_payload
    assert not decode(their_payload).structure_valid


@pytest.mark.parametrize("amount", ["0", "50 000", "50000.0", "-5", "12345678901234"])
def test_bad_amounts_emitted_by_them(amount: str) -> None:
    their_payload = theirs(VCB, "1", amount=amount)
    assert f"54{len(amount):02d}{amount}" in their_payload
    assert "amount_format" in codes(their_payload)


def test_amount_zero_makes_their_payload_dynamic() -> None:
    assert theirs(VCB, "1", amount="0").startswith("000201010212")
    with pytest.raises(PayloadError):
        encode(bin=VCB, account="1", amount=0)


def test_empty_account_silently_dropped_by_them() -> None:
    their_payload = theirs(VCB, "")
    assert "38400010A000000727011000069704360208QRIBFTTA" in their_payload
    assert codes(their_payload) == ["missing_mandatory_tag"]


@pytest.mark.parametrize(("bin", "code"), [("12345", "unknown_bin"), ("999999", "unknown_bin")])
def test_unchecked_bins_emitted_by_them(bin: str, code: str) -> None:
    assert code in codes(theirs(bin, "1"))


@pytest.mark.parametrize("account", [" 123 ", "1" * 20, "tài khoản"])
def test_bad_accounts_emitted_by_them(account: str) -> None:
    assert f"01{len(account):02d}{account}0208QRIBFTTA" in theirs(VCB, account)
    with pytest.raises(PayloadError):
        encode(bin=VCB, account=account)


def test_momo_reference_not_required_by_them() -> None:
    assert decode(theirs("971025", "PSP0123")).problems[0].code == "missing_momo_reference"


def test_their_bank_list_lacks_wallets_and_has_an_empty_bin() -> None:
    their_bins = {bank.bin for bank in BanksObject.values()}
    assert "" in their_bins
    assert {"971025", "971005", "971011"}.isdisjoint(their_bins)
    assert all(banks.get(bin) for bin in their_bins - {""})


# ---- decoding differences ------------------------------------------------------------------

SPEC_STATIC = (  # NAPAS-1.0 §6.1.1 as printed: 38.01 says 27, its inner 01 says 12, 13 follow
    "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5"
)


def test_they_accept_broken_nesting_and_drop_the_leftover() -> None:
    them = QRPay(SPEC_STATIC)
    assert them.is_valid and them.consumer.bank_number == "001101234567"
    assert codes(SPEC_STATIC) == ["trailing_data"]


def test_they_crash_on_a_non_numeric_length_under_a_valid_crc() -> None:
    payload = with_crc("000201010211380X")
    with pytest.raises(ValueError):
        QRPay(payload)
    assert codes(payload) == ["non_numeric_tag"]


def test_they_recurse_once_per_data_object() -> None:
    payload = with_crc("000201" + "9901x" * (sys.getrecursionlimit() + 10))
    with pytest.raises(RecursionError):
        QRPay(payload)
    assert codes(payload) == ["duplicate_tag"]


def test_they_do_not_require_tag_63_or_mandatory_tags() -> None:
    body = "0002015802VN"
    payload = f"{body}{crc16_ccitt_false(body.encode()):04X}"
    assert QRPay(payload).is_valid
    assert not decode(payload).valid


def test_they_accept_unknown_bins_and_duplicate_tags() -> None:
    unknown = with_crc("000201010211" + MAI.replace("970436", "999999") + "53037045802VN")
    assert QRPay(unknown).is_valid and codes(unknown) == ["unknown_bin"]
    duplicate = with_crc("000201010211" + MAI + "530370453038405802VN")
    assert QRPay(duplicate).is_valid and QRPay(duplicate).currency == "840"
    assert codes(duplicate) == ["duplicate_tag"]


def test_they_do_not_strip_whitespace() -> None:
    payload = encode(bin=VCB, account="1") + "\n"
    assert not QRPay(payload).is_valid
    assert decode(payload).valid


def test_they_lose_the_beneficiary_when_38_01_precedes_the_guid() -> None:
    payload = with_crc(
        "000201010211" + "38540124000697043601101017595600" + "0010A0000007270208QRIBFTTA"
        + "53037045802VN"
    )  # fmt: skip
    them, us = QRPay(payload), decode(payload)
    assert them.is_valid and them.consumer.bank_number is None
    assert us.valid and (us.bin, us.account) == (VCB, "1017595600")


def test_they_reject_byte_counted_lengths() -> None:
    payload = with_crc(f"000201010211{MAI}53037045802VN62150811Lê Anh Tú")
    assert not QRPay(payload).is_valid
    assert decode(payload).valid and decode(payload).purpose == "Lê Anh Tú"


def test_they_ignore_networks_outside_tags_26_and_38() -> None:
    payload = with_crc("000201010211" + "27250013vn.airpay.www0104S123" + "53037045802VN")
    assert QRPay(payload).provider.guid is None
    assert decode(payload).guid == "vn.airpay.www"
