"""VietQR payloads: build NAPAS transfers and read any EMVCo merchant-presented QR (pure, no I/O).

Encoding rules worth knowing:
- Purpose (62.08) and reference (62.05) are transliterated, every character outside
  A-Z a-z 0-9 space - . becomes a space, and whitespace is collapsed. More than 25 characters
  after that raises PayloadError; nothing is ever truncated.
- A blank purpose or reference is left out; one that had content but cleans to nothing raises.
- Output is always ASCII, so character and byte lengths agree.

Decoding rules worth knowing:
- Lengths count characters (EMV). Only when that reading fails on a non-ASCII payload is a
  reading that counts UTF-8 bytes tried; the CRC is always computed over the UTF-8 bytes.
- Once the TLV framing is broken no payment field is reported, only the POI, the scheme hint and
  the CRC verdict: a payer's app must not act on a payload whose lengths cannot be trusted.
- Field limits are not enforced on decode beyond what routing needs (BIN, account <= 19):
  real payloads carry longer purposes.
- `valid` is True exactly when `problems` is empty.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
import unicodedata
from typing import Literal

from qr import banks

NAPAS_GUID = "A000000727"
VNPAY_GUID = "A000000775"
MOMO_BIN = "971025"
MOMO_REFERENCE_PREFIX = "MOMOW2W"
TEXT_LIMIT = 25
ACCOUNT_LIMIT = 19
AMOUNT_DIGITS = 13
SAFE_PUNCTUATION = "-."

_SERVICES = {"account": "0208QRIBFTTA", "card": "0208QRIBFTTC"}
_IBFT_SERVICES = frozenset({"QRIBFTTA", "QRIBFTTC"})
_KNOWN_SERVICES = _IBFT_SERVICES | {"QRPUSH", "QRCASH"}
_MOMO_BINS = frozenset({MOMO_BIN, "970454"})  # 970454 is BVBank, which carries legacy MoMo wallets
_UNSAFE = re.compile(r"[^A-Za-z0-9 .\-]")
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]*)?")
# An AID or dashless UUID, or a reverse domain: what a network puts in sub-tag 00.
_GUID_SHAPE = re.compile(r"[0-9A-Fa-f]{10,32}|[A-Za-z][\w-]*(\.[\w-]+)+")
_TEMPLATES = frozenset({*(str(tag) for tag in range(26, 52)), "62", "64"})
_D_STROKE = str.maketrans("đĐ", "dD")  # base letters: no decomposition strips them


class PayloadError(ValueError):
    """An encode input that cannot go into a valid VietQR payload."""

    def __init__(
        self,
        field: str,
        code: str,
        message: str,
        *,
        limit: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.limit = limit
        self.length = length


@dataclasses.dataclass(frozen=True)
class Problem:
    """One reason a payload is not valid, with a stable snake_case code."""

    code: str
    message: str


@dataclasses.dataclass
class Decoded:
    """Everything read from a payload; `valid` means a payer's app can act on it."""

    valid: bool
    crc_valid: bool
    structure_valid: bool
    scheme: str
    bin: str | None = None
    account: str | None = None
    service_code: str | None = None
    amount: str | None = None
    purpose: str | None = None
    reference: str | None = None
    poi: str | None = None
    guid: str | None = None
    mai_tag: str | None = None
    merchant_id: str | None = None
    merchant_name: str | None = None
    merchant_city: str | None = None
    crc_given: str | None = None
    crc_computed: str | None = None
    additional_data: dict[str, str] = dataclasses.field(default_factory=dict)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    bank_short_name: str | None = None
    mcc: str | None = None


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final XOR."""
    return binascii.crc_hqx(data, 0xFFFF)


def transliterate(text: str) -> str:
    """Vietnamese to ASCII: NFD, drop combining marks, đ/Đ to d/D; other non-ASCII is dropped."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    return "".join(c if c.isascii() else " " if c.isspace() else "" for c in decomposed)


def encode(
    *,
    bin: str,
    account: str,
    service: Literal["account", "card"] = "account",
    amount: int | None = None,
    purpose: str | None = None,
    reference: str | None = None,
    poi: Literal["11", "12"] | None = None,
) -> str:
    """Build a NAPAS VietQR transfer payload: ascending tags, uppercase zero-padded CRC."""
    if not (len(bin) == 6 and bin.isascii() and bin.isdigit()):
        raise PayloadError(
            "bin",
            "bad_format",
            f"bin is {len(bin)} characters; it must be exactly 6 digits",
            limit=6,
            length=len(bin),
        )
    if banks.get(bin) is None:
        raise PayloadError("bin", "unknown_bin", f"bin {bin} is not in the bank directory")
    _check_account(account)
    service_tlv = _SERVICES.get(service)
    if service_tlv is None:
        raise PayloadError("service", "bad_service", f"service is {service!r}; use account or card")
    amount_text = _amount_text(amount)
    purpose = _clean("purpose", purpose)
    reference = _clean("reference", reference)
    if bin == MOMO_BIN and not (reference or "").startswith(MOMO_REFERENCE_PREFIX):
        raise PayloadError(
            "reference",
            "missing_momo_reference",
            f"MoMo (bin {MOMO_BIN}) needs a reference starting with {MOMO_REFERENCE_PREFIX}",
        )
    if poi is None:
        poi = "11" if amount_text is None else "12"
    elif poi not in ("11", "12"):
        raise PayloadError("poi", "bad_poi", f"poi is {poi!r}; use 11 (static) or 12 (dynamic)")
    beneficiary = f"0006{bin}01{len(account):02d}{account}"
    mai = f"0010{NAPAS_GUID}01{len(beneficiary):02d}{beneficiary}{service_tlv}"
    body = f"0002010102{poi}38{len(mai):02d}{mai}5303704"
    if amount_text is not None:
        body += f"54{len(amount_text):02d}{amount_text}"
    body += "5802VN"
    extra = _tlv("05", reference) + _tlv("08", purpose)
    if extra:
        body += f"62{len(extra):02d}{extra}"
    body += "6304"
    return f"{body}{crc16_ccitt_false(body.encode('ascii')):04X}"


def _tlv(tag: str, value: str | None) -> str:
    return f"{tag}{len(value):02d}{value}" if value else ""


def _check_account(account: str) -> None:
    if not account:
        raise PayloadError(
            "account", "empty_value", "account is empty", limit=ACCOUNT_LIMIT, length=0
        )
    if len(account) > ACCOUNT_LIMIT:
        raise _too_long("account", len(account), ACCOUNT_LIMIT)
    if not (account.isascii() and account.isprintable()) or account.strip() != account:
        raise PayloadError(
            "account",
            "bad_characters",
            "account must be printable ASCII with no spaces at the ends",
        )


def _amount_text(amount: int | None) -> str | None:
    if amount is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise PayloadError(
            "amount",
            "amount_format",
            f"amount is {amount!r}; it must be a whole number of VND above 0",
        )
    if amount >= 10**AMOUNT_DIGITS:
        digits = len(str(amount)) if amount < 10**4000 else None  # str() refuses huge ints
        raise PayloadError(
            "amount",
            "value_too_long",
            f"amount is {digits or 'over 4000'} digits; the limit is 13",
            limit=AMOUNT_DIGITS,
            length=digits,
        )
    return str(amount)


def _clean(field: str, text: str | None) -> str | None:
    """Transliterate, turn characters outside the safe set into spaces, collapse whitespace."""
    if text is None:
        return None
    cleaned = " ".join(_UNSAFE.sub(" ", transliterate(text)).split())
    if not cleaned:
        if text.strip():
            raise PayloadError(
                field,
                "no_safe_characters",
                f"{field} has no letters, digits, spaces or {SAFE_PUNCTUATION!r} to encode",
            )
        return None
    if len(cleaned) > TEXT_LIMIT:
        raise _too_long(field, len(cleaned), TEXT_LIMIT)
    return cleaned


def _too_long(field: str, length: int, limit: int) -> PayloadError:
    return PayloadError(
        field,
        "value_too_long",
        f"{field} is {length} characters; the limit is {limit}",
        limit=limit,
        length=length,
    )


def decode(payload: str) -> Decoded:
    """Read any EMVCo merchant-presented payload; never raises, reports problems instead."""
    text = payload.strip()
    crc_given = crc_computed = None
    if len(text) >= 8 and text[-8:-4] == "6304":
        crc_given = text[-4:]
        crc_computed = f"{crc16_ccitt_false(text[:-4].encode('utf-8', 'surrogatepass')):04X}"
    crc_valid = crc_given is not None and crc_given.upper() == crc_computed
    fields, problems = _read(text)
    scheme, mai = _classify(fields)
    result = Decoded(
        valid=False,
        crc_valid=crc_valid,
        structure_valid=not problems,
        scheme=scheme,
        poi=fields.get("01"),
        mai_tag=mai,
        guid=fields.get(f"{mai}.00") if mai else None,
        crc_given=crc_given,
        crc_computed=crc_computed,
        problems=problems,
    )
    if crc_given is None:
        problems.append(Problem("crc_missing", "payload does not end with 6304 and 4 hex digits"))
    elif not crc_valid:
        problems.append(
            Problem("crc_mismatch", f"CRC mismatch (computed {crc_computed}, given {crc_given})")
        )
    if result.structure_valid:
        _fill(result, fields)
        problems.extend(_check(result, fields))
    result.valid = not problems
    return result


def _read(text: str) -> tuple[dict[str, str], list[Problem]]:
    """Parse counting characters; on a non-ASCII failure, retry counting UTF-8 bytes."""
    if not text:
        return {}, [Problem("empty", "payload is empty")]
    fields, problems = _parse(text)
    if not problems or text.isascii():
        return fields, problems
    byte_fields, byte_problems = _parse(text.encode("utf-8", "surrogatepass").decode("latin-1"))
    try:
        byte_fields = {k: v.encode("latin-1").decode("utf-8") for k, v in byte_fields.items()}
    except UnicodeDecodeError:
        byte_problems.append(Problem("split_character", "a length ends inside a character"))
    if not byte_problems:
        return byte_fields, []
    return fields, [
        *(Problem(p.code, f"counting characters: {p.message}") for p in problems),
        *(Problem(p.code, f"counting UTF-8 bytes: {p.message}") for p in byte_problems),
    ]


def _parse(units: str) -> tuple[dict[str, str], list[Problem]]:
    """Read root data objects and known templates into {"38.01.00": value}, in payload order."""
    fields: dict[str, tuple[str, int]] = {}
    problems: list[Problem] = []

    def read(data: str, base: int, prefix: str) -> dict[str, tuple[str, int]]:
        read_here: dict[str, tuple[str, int]] = {}
        i = 0
        while i < len(data):
            head, at = data[i : i + 4], base + i
            where = f"in tag {prefix[:-1]}: " if prefix else ""
            if len(head) < 4:
                problems.append(Problem("trailing_data", f"{where}trailing data at offset {at}"))
                break
            if not (head.isascii() and head.isdigit()):
                problems.append(
                    Problem(
                        "non_numeric_tag", f"{where}non-numeric tag/len {head!r} at offset {at}"
                    )
                )
                break
            path, size = prefix + head[:2], int(head[2:])
            if size == 0 or i + 4 + size > len(data):
                left = len(data) - i - 4
                message = f"tag {path} at offset {at} declares {size} characters; {left} remain"
                problems.append(Problem("bad_length", message))
                break
            if path in fields:
                problems.append(Problem("duplicate_tag", f"tag {path} appears twice"))
                break
            fields[path] = read_here[path] = data[i + 4 : i + 4 + size], at + 4
            i += 4 + size
        return read_here

    for tag, (value, offset) in read(units, 0, "").items():
        if tag in _TEMPLATES:
            inner = read(value, offset, f"{tag}.")
            guid, beneficiary = inner.get(f"{tag}.00"), inner.get(f"{tag}.01")
            if beneficiary is not None and _is_napas(tag, guid and guid[0]):
                read(*beneficiary, f"{tag}.01.")
    return {path: value for path, (value, _) in fields.items()}, problems


def _is_napas(tag: str, guid: str | None) -> bool:
    """A NAPAS template; so is tag 38 unless another network's GUID claims it (38 is NAPAS's)."""
    if guid == NAPAS_GUID:
        return True
    return tag == "38" and (guid is None or guid.isdigit() or not _GUID_SHAPE.fullmatch(guid))


def _classify(fields: dict[str, str]) -> tuple[str, str | None]:
    """Return the scheme and the tag of the merchant account template it was read from."""
    root = sorted(tag for tag in fields if "." not in tag)
    templates = [tag for tag in root if "26" <= tag <= "51"]
    napas = [tag for tag in templates if _is_napas(tag, fields.get(f"{tag}.00"))]
    if napas:
        tag = napas[0]
        service = fields.get(f"{tag}.02")
        if fields.get(f"{tag}.01.00") in _MOMO_BINS and fields.get("62.05", "").startswith(
            MOMO_REFERENCE_PREFIX
        ):
            return "momo_vietqr", tag
        if service in _IBFT_SERVICES:
            return "napas_ibft", tag
        return ("napas_qrpush" if service in (None, "QRPUSH") else "emvco"), tag
    if fields.get("26.00") == VNPAY_GUID:
        return "vnpay", "26"
    others = templates or [tag for tag in root if "02" <= tag <= "25"]
    return ("emvco", others[0]) if others else ("unknown", None)


def _fill(result: Decoded, fields: dict[str, str]) -> None:
    """Copy the payment fields of a structurally sound payload into the result."""
    mai = result.mai_tag
    if mai is not None and mai in _TEMPLATES:
        result.service_code = fields.get(f"{mai}.02")
        if _is_napas(mai, result.guid):
            result.bin = fields.get(f"{mai}.01.00")
            result.account = fields.get(f"{mai}.01.01")
            bank = banks.get(result.bin) if result.bin else None
            result.bank_short_name = bank.short_name if bank else None
        else:
            result.merchant_id = fields.get(f"{mai}.01")
    elif mai is not None:
        result.merchant_id = fields[mai]
    result.amount = fields.get("54")
    result.mcc = fields.get("52")
    result.merchant_name = fields.get("59")
    result.merchant_city = fields.get("60")
    result.additional_data = {k[3:]: v for k, v in fields.items() if k.startswith("62.")}
    result.purpose = result.additional_data.get("08")
    result.reference = result.additional_data.get("05")


def _check(result: Decoded, fields: dict[str, str]) -> list[Problem]:
    """Problems of meaning in a structurally sound payload."""
    problems: list[Problem] = []
    add = problems.append
    root = [tag for tag in fields if "." not in tag]
    mai = result.mai_tag
    napas = mai is not None and mai in _TEMPLATES and _is_napas(mai, result.guid)
    domestic = napas or result.scheme == "vnpay"
    if root and (root[0] != "00" or fields["00"] != "01"):
        add(Problem("bad_format_indicator", "tag 00 must come first and hold 01"))
    if result.crc_given is not None and root and root[-1] != "63":
        add(Problem("crc_missing", "the CRC (tag 63) is not the last data object"))
    required = {"00": "payload format indicator", "53": "currency", "58": "country"}
    if napas:
        required |= {
            "01": "point of initiation",
            f"{mai}.00": "NAPAS GUID",
            f"{mai}.01.00": "beneficiary BIN",
            f"{mai}.01.01": "beneficiary account",
        }
    elif result.scheme == "vnpay":
        required["26.01"] = "VNPAY merchant id"
    for path, name in required.items():
        if path not in fields:
            add(Problem("missing_mandatory_tag", f"tag {path} ({name}) is missing"))
    if mai is None:
        add(Problem("missing_mandatory_tag", "no merchant account information (tags 02-51)"))
    poi, currency, country = fields.get("01"), fields.get("53"), fields.get("58")
    if poi is not None and poi not in ("11", "12"):
        add(Problem("bad_poi", f"point of initiation is {poi!r}; expected 11 or 12"))
    if currency is not None and not (
        currency == "704"
        if domestic
        else len(currency) == 3 and currency.isascii() and currency.isdigit()
    ):
        add(Problem("bad_currency", f"currency is {currency!r}; expected 704 (VND)"))
    if country is not None and not (
        country == "VN"
        if domestic
        else len(country) == 2 and country.isascii() and country.isupper()
    ):
        add(Problem("bad_country", f"country is {country!r}; expected VN"))
    amount = result.amount
    if amount is not None:
        match = _AMOUNT.fullmatch(amount) if amount.isascii() else None
        decimals = match.group(1) if match else None
        if (
            match is None
            or len(amount) > AMOUNT_DIGITS
            or amount.strip("0.") == ""
            or (currency == "704" and decimals not in (None, "."))
        ):
            add(Problem("amount_format", f"amount {amount!r} is not a positive VND amount"))
    if napas and result.bin is not None and banks.get(result.bin) is None:
        add(Problem("unknown_bin", f"BIN {result.bin} is not in the bank directory"))
    if napas and result.account is not None and len(result.account) > ACCOUNT_LIMIT:
        add(Problem("value_too_long", f"account is {len(result.account)} characters; limit 19"))
    if napas and result.service_code is not None and result.service_code not in _KNOWN_SERVICES:
        add(Problem("bad_service_code", f"service code {result.service_code!r} is not a NAPAS one"))
    if result.bin == MOMO_BIN and not (result.reference or "").startswith(MOMO_REFERENCE_PREFIX):
        add(Problem("missing_momo_reference", "MoMo needs a reference (62.05) starting MOMOW2W"))
    return problems
