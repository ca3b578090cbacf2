"""Every public vector in the reference set decodes to its expected fields and verdicts.

Copied from shared/reference/vietqr_vectors.json (sources named per vector). Problems are given as
our stable codes; the reference gives prose, once per length unit ("chars:"/"bytes:"). For ASCII
payloads both units read the same, so we report each problem once.
"""

# ruff: noqa: E501  (public payloads stay verbatim on one line, so they can be searched for)

from dataclasses import dataclass
from typing import Any

import pytest

from qr.payload import decode


@dataclass(frozen=True)
class Vector:
    payload: str
    source: str
    expected: dict[str, Any]
    note: str = ""


VECTORS = [
    Vector(
        "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5",
        "subiz/vietqr:spec/QR_Format_T&C_v1.0_VN_092021.pdf",
        {
            "scheme": "napas_ibft",
            "bin": None,
            "account": None,
            "service_code": None,
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": True,
            "crc_computed": "F4E5",
            "crc_given": "F4E5",
            "structure_valid": False,
            "problems": ["trailing_data"],
        },
        note="NAPAS-1.0 §6.1.1: 38.01 declares 27 but its 01 says 12 and 13 follow",
    ),
    Vector(
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52",
        "subiz/vietqr:spec/QR_Format_T&C_v1.0_VN_092021.pdf",
        {
            "scheme": "napas_ibft",
            "bin": "970403",
            "account": "9704031101234567",
            "service_code": "QRIBFTTC",
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": True,
            "crc_computed": "4F52",
            "crc_given": "4F52",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "problems": [],
        },
    ),
    Vector(
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E",
        "subiz/vietqr:spec/QR_Format_T&C_v1.0_VN_092021.pdf",
        {
            "scheme": "napas_ibft",
            "bin": "970403",
            "account": "0011012345678",
            "service_code": "QRIBFTTA",
            "amount": "180000",
            "purpose": "thanh toan don hang",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "2E2E",
            "crc_given": "2E2E",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"01": "NPS6869", "08": "thanh toan don hang"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN6304A203",
        "subiz/vietqr:spec/QR_Format_T&C_v1.0_VN_092021.pdf",
        {
            "scheme": "napas_ibft",
            "bin": "970403",
            "account": "9704031101234567",
            "service_code": "QRIBFTTC",
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": False,
            "crc_computed": "4F52",
            "crc_given": "A203",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "problems": ["crc_mismatch"],
        },
        note="NAPAS-1.0 §6.1.4 headline: static card string printed with the dynamic CRC",
    ),
    Vector(
        "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203",
        "subiz/vietqr:spec/QR_Format_T&C_v1.0_VN_092021.pdf",
        {
            "scheme": "napas_ibft",
            "bin": "970403",
            "account": "9704031101234567",
            "service_code": "QRIBFTTC",
            "amount": "180000",
            "purpose": "thanh toan don hang",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "A203",
            "crc_given": "A203",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"01": "NPS6869", "08": "thanh toan don hang"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4",
        "subiz/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970423",
            "account": "0099999999",
            "service_code": "QRIBFTTA",
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": True,
            "crc_computed": "CBB4",
            "crc_given": "CBB4",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "problems": [],
        },
    ),
    Vector(
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA53037045405401235802VN62200816test text string6304D9C6",
        "subiz/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970422",
            "account": "0023457923442",
            "service_code": "QRIBFTTA",
            "amount": "40123",
            "purpose": "test text string",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "D9C6",
            "crc_given": "D9C6",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "test text string"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA53037045405401235802VN62160812chuyen khoan6304722F",
        "subiz/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970422",
            "account": "0023457923442",
            "service_code": "QRIBFTTA",
            "amount": "40123",
            "purpose": "chuyen khoan",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "722F",
            "crc_given": "722F",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "chuyen khoan"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021238630010A0000007270133000697042201190023457923442ASDFLJ0208QRIBFTTA53037045405401235802VN62290825chuyen khoan alsdkf laksj6304E5DB",
        "subiz/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970422",
            "account": "0023457923442ASDFLJ",
            "service_code": "QRIBFTTA",
            "amount": "40123",
            "purpose": "chuyen khoan alsdkf laksj",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "E5DB",
            "crc_given": "E5DB",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "chuyen khoan alsdkf laksj"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C",
        "subiz/vietqr:README.md",
        {
            "scheme": "napas_ibft",
            "bin": "970415",
            "account": "0011001932418",
            "service_code": "QRIBFTTA",
            "amount": "120000",
            "purpose": "ung ho lu lut",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "C15C",
            "crc_given": "C15C",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "ung ho lu lut"},
            "problems": [],
        },
    ),
    Vector(
        "0002010102113838000697042201120023457923440208QRIBFTTA530370454061800005802VN62160814ung ho bao lut6304E69F",
        "subiz/vietqr:README.md",
        {
            "scheme": "napas_ibft",
            "bin": None,
            "account": None,
            "service_code": None,
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": False,
            "crc_computed": "13BC",
            "crc_given": "E69F",
            "structure_valid": False,
            "problems": ["non_numeric_tag", "crc_mismatch"],
        },
        note="subiz README walkthrough: tag 38 lacks the GUID; 62 declares 16 but 18 follow",
    ),
    Vector(
        "00020101021238540010A00000072701240006970436011010175956000208QRIBFTTA530370454061800005802VN62230819thanh toan don hang630470FA",
        "liopayvn/vietqr-php:README.md",
        {
            "scheme": "napas_ibft",
            "bin": "970436",
            "account": "1017595600",
            "service_code": "QRIBFTTA",
            "amount": "180000",
            "purpose": "thanh toan don hang",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "70FA",
            "crc_given": "70FA",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "thanh toan don hang"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021138470010A0000007270129000697040301152112995044604255204581253037045802VN5910PHUONG CAC6005HANOI62110507NPS686963040000",
        "liopayvn/vietqr-php:tests/Unit/Parser/QRParserTest.php",
        {
            "scheme": "napas_qrpush",
            "bin": "970403",
            "account": "211299504460425",
            "service_code": None,
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": False,
            "crc_computed": "B35C",
            "crc_given": "0000",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "merchant_name": "PHUONG CAC",
            "mcc": "5812",
            "additional_data": {"05": "NPS6869"},
            "problems": ["crc_mismatch"],
        },
        note="liopayvn QRPUSH merchant layout with a deliberate CRC of 0000",
    ),
    Vector(
        "00020101021138540010A00000072701240006546034011009055559990208QRIBFTTA53037045802VN6304B2A0",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "546034",
            "account": "0905555999",
            "service_code": "QRIBFTTA",
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": True,
            "crc_computed": "B2A0",
            "crc_given": "B2A0",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "problems": [],
        },
    ),
    Vector(
        "00020101021238490010A000000727011900069704160105135790208QRIBFTTA530370454061200005802VN63049A71",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970416",
            "account": "13579",
            "service_code": "QRIBFTTA",
            "amount": "120000",
            "purpose": None,
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "9A71",
            "crc_given": "9A71",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "problems": [],
        },
    ),
    Vector(
        "00020101021138510010A00000072701210006970407010797968680208QRIBFTTA53037045802VN62240820gen by sunary/vietqr6304BE74",
        "sunary/vietqr:README.md",
        {
            "scheme": "napas_ibft",
            "bin": "970407",
            "account": "9796868",
            "service_code": "QRIBFTTA",
            "amount": None,
            "purpose": "gen by sunary/vietqr",
            "poi": "11",
            "crc_valid": True,
            "crc_computed": "BE74",
            "crc_given": "BE74",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "gen by sunary/vietqr"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021238490010A000000727011900069704320105193720208QRIBFTTA530370454061520005802VN62200816gen by go-vietqr63040ED4",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970432",
            "account": "19372",
            "service_code": "QRIBFTTA",
            "amount": "152000",
            "purpose": "gen by go-vietqr",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "0ED4",
            "crc_given": "0ED4",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "gen by go-vietqr"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021238540010A00000072701240006970405011011111111110208QRIBFTTA53037045405500005802VN62930889This is a very long message that tests the maximum length handling for QR code generation63043199",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970405",
            "account": "1111111111",
            "service_code": "QRIBFTTA",
            "amount": "50000",
            "purpose": "This is a very long message that tests the maximum length handling for QR code generation",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "3199",
            "crc_given": "3199",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {
                "08": "This is a very long message that tests the maximum length handling for QR code generation"
            },
            "problems": [],
        },
        note="62.08 of 89 characters: over the encode limit, accepted on decode as in the wild",
    ),
    Vector(
        "00020101021238540010A00000072701240006970403011022222222220208QRIBFTTA53037045405750005802VN62600856Message with special chars: @#$%^&*()_+-=[]{}|;':\",./<>?630498F2",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970403",
            "account": "2222222222",
            "service_code": "QRIBFTTA",
            "amount": "75000",
            "purpose": "Message with special chars: @#$%^&*()_+-=[]{}|;':\",./<>?",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "98F2",
            "crc_given": "98F2",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "Message with special chars: @#$%^&*()_+-=[]{}|;':\",./<>?"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021238540010A00000072701240006970415011098765432100208QRIBFTTA530370454099999999995802VN62250821Large amount transfer63048A8F",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "970415",
            "account": "9876543210",
            "service_code": "QRIBFTTA",
            "amount": "999999999",
            "purpose": "Large amount transfer",
            "poi": "12",
            "crc_valid": True,
            "crc_computed": "8A8F",
            "crc_given": "8A8F",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "additional_data": {"08": "Large amount transfer"},
            "problems": [],
        },
    ),
    Vector(
        "00020101021138400010A0000007750110VNP-1234560208QRIBFTTA53037045802VN6304E56C",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "emvco",
            "bin": None,
            "account": None,
            "service_code": "QRIBFTTA",
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": True,
            "crc_computed": "E56C",
            "crc_given": "E56C",
            "structure_valid": True,
            "guid": "A000000775",
            "mai_tag": "38",
            "merchant_id": "VNP-123456",
            "problems": [],
        },
        note="DEVIATION: the reference expects scheme 'synthetic_vnpay_in_38', a layout made up by sunary/vietqr (VNPAY's GUID inside tag 38). Our scheme set has no such value and real VNPAY-QR uses tag 26, so this is a generic EMVCo template in tag 38",
    ),
    Vector(
        "00020101021138540010A00000072701240006999999011009055559990208QRIBFTTA53037045802VN6304B2A0",
        "sunary/vietqr:vietqr_test.go",
        {
            "scheme": "napas_ibft",
            "bin": "999999",
            "account": "0905555999",
            "service_code": "QRIBFTTA",
            "amount": None,
            "purpose": None,
            "poi": "11",
            "crc_valid": False,
            "crc_computed": "5556",
            "crc_given": "B2A0",
            "structure_valid": True,
            "guid": "A000000727",
            "mai_tag": "38",
            "problems": ["crc_mismatch"],
        },
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{i:02d}" for i in range(len(VECTORS))])
def test_vector(vector: Vector) -> None:
    got = decode(vector.payload)
    for name, want in vector.expected.items():
        if name != "problems":
            assert getattr(got, name) == want, name
    codes = [p.code for p in got.problems]
    assert set(vector.expected["problems"]) <= set(codes)
    assert got.valid == (not vector.expected["problems"])
    assert got.valid == (not codes)


def test_all_reference_vectors_are_here() -> None:
    assert len(VECTORS) == 22
    assert len({v.payload for v in VECTORS}) == 22


def test_problem_offsets_point_into_the_payload() -> None:
    walkthrough = VECTORS[10]
    messages = [p.message for p in decode(walkthrough.payload).problems]
    assert "non-numeric tag/len 'ut63' at offset 97" in messages


def test_unknown_bin_is_reported_even_when_the_crc_also_fails() -> None:
    got = decode(VECTORS[21].payload)
    assert got.bin == "999999" and got.bank_short_name is None
    assert {p.code for p in got.problems} == {"crc_mismatch", "unknown_bin"}


def test_crc_valid_payloads_stay_invalid_when_structure_is_broken() -> None:
    spec_static = decode(VECTORS[0].payload)
    assert spec_static.crc_valid and not spec_static.valid


def test_merchant_fields_of_the_qrpush_vector() -> None:
    got = decode(VECTORS[12].payload)
    assert got.bank_short_name == "Sacombank" and got.merchant_city == "HANOI"
