"""Request and response shapes for markets and stalls, with the field rules of the registry."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from core.errors import own_code
from core.text import normalize, strip_marks
from merchants import notices
from qr import banks
from qr.payload import MOMO_BIN

PURPOSES = ("registration", "qr_sign", "coverage_reporting")
_PARTNER_PURPOSE = re.compile(r"^share_partner:[A-Za-z0-9_-]{1,32}$")


def _fail(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(own_code(code), message)


def _has_bad_chars(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


def _person_name(value: str) -> str:
    if _has_bad_chars(value):
        raise _fail("invalid_name", "The name contains control characters.")
    name = normalize(value)
    if not name:
        raise _fail("invalid_name", "The name is empty.")
    if len(name) > 100:
        raise _fail("invalid_name", f"The name is {len(name)} characters; the limit is 100.")
    for c in name:
        cat = unicodedata.category(c)
        if not (cat.startswith("L") or cat.startswith("M") or c in " .'-"):
            raise _fail(
                "invalid_name", f"The name may hold letters, spaces and . ' - only, not {c!r}."
            )
    return name


def _free_text(limit: int, code: str) -> AfterValidator:
    def check(value: str) -> str:
        if _has_bad_chars(value):
            raise _fail(code, "The text contains control characters.")
        text = normalize(value)
        if len(text) > limit:
            raise _fail(code, f"The text is {len(text)} characters; the limit is {limit}.")
        for c in text:
            cat = unicodedata.category(c)
            if cat.startswith("S") and c not in "+&%/":
                raise _fail(code, f"The text may not contain symbols or emoji such as {c!r}.")
        return text

    return AfterValidator(check)


def _phone(value: str) -> str:
    if len(value) > 30 or _has_bad_chars(value):
        raise _fail("invalid_phone", "This is not a Vietnamese phone number.")
    try:
        parsed = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        raise _fail("invalid_phone", "This is not a Vietnamese phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise _fail("invalid_phone", "This is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _bin(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[0-9]{6}", value):
        raise _fail("invalid_bin", "A bank BIN is exactly 6 digits.")
    if banks.get(value) is None:
        raise _fail("unknown_bin", f"BIN {value} is not in the bank directory.")
    return value


def _account_number(value: str) -> str:
    compact = value.replace(" ", "")
    if not re.fullmatch(r"[!-~]{1,19}", compact):
        raise _fail(
            "invalid_account_number",
            "An account number is 1-19 printable characters (letters, digits, no spaces).",
        )
    return compact


def _account_name(value: str) -> str:
    if _has_bad_chars(value):
        raise _fail("invalid_account_name", "The account name contains control characters.")
    name = normalize(strip_marks(value)).upper()
    if not name:
        raise _fail("invalid_account_name", "The account name is empty.")
    if len(name) > 50:
        raise _fail(
            "invalid_account_name", f"The account name is {len(name)} characters; the limit is 50."
        )
    if not re.fullmatch(r"[A-Z0-9 .,'-]+", name):
        raise _fail(
            "invalid_account_name",
            "The account name may hold letters, digits, spaces and . , ' - only.",
        )
    return name


def _code(limit: int, code: str, what: str) -> AfterValidator:
    pattern = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 ._/-]{{0,{limit - 1}}}")

    def check(value: str) -> str:
        text = normalize(value)
        if not pattern.fullmatch(text):
            raise _fail(code, f"The {what} is 1-{limit} letters, digits, spaces or . _ / -.")
        return text

    return AfterValidator(check)


def _cccd(value: str) -> str:
    digits = value.replace(" ", "")
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise _fail("invalid_cccd", "A citizen ID (CCCD) is 12 digits.")
    return digits


def _reference(value: str) -> str:
    compact = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9]{1,25}", compact):
        raise _fail("invalid_reference", "A payment reference is 1-25 letters and digits.")
    return compact


def _purpose(value: str) -> str:
    if value in PURPOSES or _PARTNER_PURPOSE.fullmatch(value):
        return value
    raise _fail(
        "invalid_purpose",
        f"Unknown purpose {value[:40]!r}; use {', '.join(PURPOSES)} or share_partner:<CODE>.",
    )


PersonName = Annotated[str, Field(max_length=400), AfterValidator(_person_name)]
Phone = Annotated[str, Field(max_length=64), AfterValidator(_phone)]
Bin = Annotated[str, Field(max_length=32), AfterValidator(_bin)]
AccountNumber = Annotated[str, Field(max_length=64), AfterValidator(_account_number)]
AccountName = Annotated[str, Field(max_length=200), AfterValidator(_account_name)]
StallCode = Annotated[str, Field(max_length=64), _code(20, "invalid_stall_code", "stall code")]
Zone = Annotated[str, Field(max_length=64), _code(20, "invalid_zone", "zone")]
PartnerCode = Annotated[
    str, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]{1,32}$"), AfterValidator(str.upper)
]
Goods = Annotated[str, Field(max_length=400), _free_text(100, "invalid_goods")]
Address = Annotated[str, Field(max_length=400), _free_text(200, "invalid_address")]
MarketName = Annotated[str, Field(max_length=400), _free_text(120, "invalid_name")]
Cccd = Annotated[str, Field(max_length=32), AfterValidator(_cccd)]
Purpose = Annotated[str, Field(max_length=64), AfterValidator(_purpose)]
WardCode = Annotated[str, Field(pattern=r"^[0-9]{1,6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class Location(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class MarketCreate(Strict):
    name: MarketName
    province_code: Annotated[str, Field(pattern=r"^[0-9]{1,3}$")] = "48"
    ward_code: WardCode | None = None
    ward_name: MarketName | None = None
    legacy_ward_code: WardCode | None = None
    legacy_ward_name: MarketName | None = None
    legacy_district_name: MarketName | None = None
    address: Address | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    zones: list[Zone] = Field(default_factory=list, max_length=200)


class Market(BaseModel):
    id: int
    name: str
    province_code: str
    ward_code: str | None
    ward_name: str | None
    legacy_ward_code: str | None
    legacy_ward_name: str | None
    legacy_district_name: str | None
    address: str | None
    lat: float | None
    lon: float | None
    zones: list[str]
    stall_count: int = 0


class HolderIn(Strict):
    full_name: PersonName
    phone: Phone | None = None
    cccd: Cccd | None = None


class PaymentAccountIn(Strict):
    bin: Bin
    account_number: AccountNumber
    account_name: AccountName | None = None
    partner_code: PartnerCode | None = None
    service: Literal["account", "card"] = "account"
    # What the payer's app must send in tag 62.05; MoMo wallets (BIN 971025) need their MOMOW2W… id.
    reference: Annotated[str, Field(max_length=64), AfterValidator(_reference)] | None = None

    @model_validator(mode="after")
    def _momo_needs_reference(self) -> PaymentAccountIn:
        if self.bin == MOMO_BIN and not (self.reference or "").upper().startswith("MOMOW2W"):
            raise _fail(
                "momo_reference_required",
                "A MoMo wallet (BIN 971025) is paid through VietQR only with its MOMOW2W… reference, "
                "shown in the stallholder's own MoMo QR.",
            )
        return self


def _notice_version(value: str) -> str:
    if not notices.known(value):
        raise _fail(
            "unknown_notice_version",
            "This consent notice version is not one we published; reload the app to get the "
            "current notice and read it to the stallholder.",
        )
    return value


NoticeVersion = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9._-]{1,20}$"), AfterValidator(_notice_version)
]


class ConsentIn(Strict):
    notice_version: NoticeVersion
    purposes: list[Purpose] = Field(max_length=20)


class StallCreate(Strict):
    stall_code: StallCode
    zone: Zone | None = None
    goods: Goods | None = None
    holder: HolderIn
    payment_accounts: list[PaymentAccountIn] = Field(default_factory=list, max_length=5)
    consent: ConsentIn
    location: Location | None = None
    confirm_duplicate: StrictBool = False


class HolderPatch(Strict):
    full_name: PersonName | None = None
    phone: Phone | None = None


class StallPatch(Strict):
    stall_code: StallCode | None = None
    zone: Zone | None = None
    goods: Goods | None = None
    status: Literal["active", "vacant", "closed"] | None = None
    holder: HolderPatch | None = None
    location: Location | None = None


class Holder(BaseModel):
    id: int | None
    full_name: str | None
    phone: str | None
    cccd_last4: str | None = None
    erased: bool = False


class PaymentAccount(BaseModel):
    id: int
    bin: str
    bank_short_name: str | None
    account_number: str
    account_name: str | None
    partner_code: str | None
    service: str
    active: bool
    reference: str | None = None
    # Account-name lookup at registration: matched | mismatch | not_found | no_name | unavailable | disabled.
    name_check: str | None = None
    bank_account_name: str | None = None


class Stall(BaseModel):
    id: int
    market_id: int
    stall_code: str
    zone: str | None
    goods: str | None
    status: str
    version: int
    holder: Holder
    payment_accounts: list[PaymentAccount]
    location: Location | None
    created_at: datetime
    updated_at: datetime


class StallSummary(BaseModel):
    id: int
    market_id: int
    stall_code: str
    zone: str | None
    goods: str | None
    status: str
    version: int
    holder_name: str | None
    phone_masked: str | None
    account_count: int
    bank_short_names: list[str]


class StallPage(BaseModel):
    items: list[StallSummary]
    next_cursor: str | None
