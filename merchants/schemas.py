"""Request and response shapes for markets and stalls, with the field rules of the registry."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, model_validator

from core.params import IdField
from core.text import normalize
from core.types import Cccd, PartnerCode, PersonName, Phone, Strict, fail, free_text
from privacy.schemas import ConsentIn
from qr.payload import MOMO_BIN
from qr.types import AccountName, AccountNumber, Bin, PaymentReference


def _code(limit: int, code: str, what: str) -> AfterValidator:
    pattern = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 ._/-]{{0,{limit - 1}}}")

    def check(value: str) -> str:
        text = normalize(value)
        if not pattern.fullmatch(text):
            raise fail(code, f"The {what} is 1-{limit} letters, digits, spaces or . _ / -.")
        return text

    return AfterValidator(check)


StallCode = Annotated[str, Field(max_length=64), _code(20, "invalid_stall_code", "stall code")]
Zone = Annotated[str, Field(max_length=64), _code(20, "invalid_zone", "zone")]
Goods = Annotated[str, Field(max_length=400), free_text(100, "invalid_goods")]
Address = Annotated[str, Field(max_length=400), free_text(200, "invalid_address")]
MarketName = Annotated[str, Field(max_length=400), free_text(120, "invalid_name")]
WardCode = Annotated[str, Field(pattern=r"^[0-9]{1,6}$")]


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
    reference: PaymentReference | None = None

    @model_validator(mode="after")
    def _momo_needs_reference(self) -> PaymentAccountIn:
        if self.bin == MOMO_BIN and not (self.reference or "").upper().startswith("MOMOW2W"):
            raise fail(
                "momo_reference_required",
                "A MoMo wallet (BIN 971025) is paid through VietQR only with its MOMOW2W… reference, "
                "shown in the stallholder's own MoMo QR.",
            )
        return self


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


class StallSource(BaseModel):
    """Where a stall record came from: registered on a tablet (with the stallholder's consent) or
    created by a stall list import (no consent yet: a volunteer still has to visit)."""

    kind: Literal["registration", "import"]
    import_id: int | None = None
    list_date: date | None = Field(default=None, description="The date of the board's list.")


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
    source: StallSource = Field(default_factory=lambda: StallSource(kind="registration"))


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


class PrintJobIn(Strict):
    zone: Zone | None = None
    only_unprinted: StrictBool = False
    size: Literal["A6", "A5"] = "A6"


class PrintConfirmIn(Strict):
    stall_ids: list[IdField] | None = Field(
        default=None,
        max_length=5000,
        description="Signs that came out of the printer; all if absent",
    )


class PrintJobStall(BaseModel):
    stall_id: int
    stall_code: str
    zone: str | None
    payment_account_id: int
    confirmed_at: datetime | None


class PrintJob(BaseModel):
    id: int
    market_id: int
    zone: str | None
    size: str
    created_at: datetime
    stall_count: int
    confirmed_count: int
    stalls: list[PrintJobStall]
    pdf_url: str


# ---------------------------------------------------------------- stall list imports

ImportOutcome = Literal["created", "updated", "unchanged", "error"]


class StallImportError(BaseModel):
    column: str | None = Field(description="The column's header as written in the file.")
    field: str | None = Field(description="stall_code, zone, full_name, phone, goods, bank, ...")
    code: str = Field(description="Stable code, as the registration API's errors.")
    reason: str = Field(description="What is wrong, in Vietnamese.")


class StallImportRow(BaseModel):
    line: int = Field(description="Line (CSV) or row number (Excel) in the file, from 1.")
    status: ImportOutcome
    stall_code: str | None
    stall_id: int | None = Field(description="The stall the row matched or created (real run).")
    changed: list[str] = Field(default_factory=list, description="Fields the row changes.")
    kept: list[str] = Field(
        default_factory=list,
        description="Fields that differ from the stall but that the import leaves as they are "
        "(the stall was registered or visited on a tablet).",
    )
    note_code: str | None = None
    note: str | None = Field(default=None, description="Why fields were kept, in Vietnamese.")
    errors: list[StallImportError] = Field(default_factory=list)


class StallImportColumn(BaseModel):
    header: str
    field: str


class StallImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error: int = 0


class StallImportResult(BaseModel):
    import_id: int | None = Field(
        description="The recorded import; null for a dry run or when the file changed nothing."
    )
    dry_run: bool
    written: bool = Field(description="Whether anything was written.")
    market_id: int
    filename: str | None
    sha256: str
    list_date: date | None
    counts: StallImportCounts
    columns: list[StallImportColumn]
    ignored_columns: list[str]
    rows: list[StallImportRow]
