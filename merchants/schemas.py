"""Request and response shapes for markets and stalls, with the field rules of the registry."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, model_validator

from core.params import IdField
from core.text import normalize, strip_marks
from core.types import Cccd, PartnerCode, PersonName, Phone, Strict, fail, free_text
from privacy.schemas import ConsentIn
from qr.payload import MOMO_BIN
from qr.types import AccountName, AccountNumber, Bin, PaymentReference

_CODE_PUNCTUATION = frozenset(" ._/-")


def is_code_letter(c: str) -> bool:
    """A Latin letter, with or without Vietnamese (or other) marks: a, Đ, ư, ẫ; not ß, я, 中."""
    if c.isascii():
        return c.isalpha()
    bare = strip_marks(c)
    return unicodedata.category(c).startswith("L") and len(bare) == 1 and bare.isascii()


def code_rule(limit: int, what: str) -> str:
    """The rule of a code or a zone name, as the API states it in its errors."""
    return (
        f"A {what} is 1-{limit} characters: letters (Vietnamese letters too), digits, spaces "
        "and . _ / -, starting with a letter or a digit."
    )


def _code(limit: int, code: str, what: str) -> BeforeValidator:
    """Codes and zone names: NFC, spaces collapsed, then the rule; an over-long value is refused
    (never cut) with the rule's code, before the schema's own length check."""

    def check(value: object) -> object:
        if not isinstance(value, str):
            return value  # the str schema refuses it
        text = normalize(value)
        ok = (
            0 < len(text) <= limit
            and (text[0].isdigit() and text[0].isascii() or is_code_letter(text[0]))
            and all(
                c in _CODE_PUNCTUATION or (c.isdigit() and c.isascii()) or is_code_letter(c)
                for c in text
            )
        )
        if not ok:
            extra = f" This one has {len(text)}." if len(text) > limit else ""
            raise fail(code, code_rule(limit, what) + extra)
        return text

    return BeforeValidator(check)


STALL_CODE_MAX, ZONE_MAX = 20, 40
StallCode = Annotated[
    str,
    Field(max_length=STALL_CODE_MAX, description=code_rule(STALL_CODE_MAX, "stall code")),
    _code(STALL_CODE_MAX, "invalid_stall_code", "stall code"),
]
Zone = Annotated[
    str,
    Field(max_length=ZONE_MAX, description=code_rule(ZONE_MAX, "zone name")),
    _code(ZONE_MAX, "invalid_zone", "zone name"),
]
Goods = Annotated[str, Field(max_length=400), free_text(100, "invalid_goods")]

# How the stallholder learns that a payment arrived (migration 0020, users_want.md #23), in this
# order: the bank's or wallet's app, a sound box reading each payment aloud, balance-change SMS.
CONFIRM_TOOLS = ("bank_app", "sound_box", "sms")
ConfirmTool = Literal["bank_app", "sound_box", "sms"]


def _confirm_tools(tools: list[str] | None) -> list[str] | None:
    """Each tool once, in CONFIRM_TOOLS order (a tool named twice is the same answer)."""
    return None if tools is None else [t for t in CONFIRM_TOOLS if t in tools]


ConfirmBy = Annotated[
    list[ConfirmTool],
    Field(
        max_length=len(CONFIRM_TOOLS),
        description="How the stallholder learns that a payment arrived: bank_app (the bank's or "
        "wallet's app notification), sound_box (a speaker reading each payment aloud), sms "
        "(balance-change text messages). [] = asked, they check nothing; null = not asked yet.",
    ),
    AfterValidator(_confirm_tools),
]
# Other ways a stall takes payment besides its VietQR sign (migration 0023), in this order: a card
# terminal, a foreign QR (cross-border, tourists' wallets), a transfer to the holder's phone number.
ALSO_ACCEPTS = ("card", "intl_qr", "phone_transfer")
AlsoAcceptsMethod = Literal["card", "intl_qr", "phone_transfer"]


def _also_accepts(methods: list[str] | None) -> list[str] | None:
    """Each method once, in ALSO_ACCEPTS order."""
    return None if methods is None else [m for m in ALSO_ACCEPTS if m in methods]


AlsoAccepts = Annotated[
    list[AlsoAcceptsMethod],
    Field(
        max_length=len(ALSO_ACCEPTS),
        description="Other ways the stall takes payment besides its VietQR sign: card (a card "
        "terminal), intl_qr (a foreign QR: cross-border schemes, tourists' wallets), "
        "phone_transfer (a transfer to the stallholder's phone number, no smartphone needed). "
        "[] = asked, the VietQR sign only; null = not asked yet.",
    ),
    AfterValidator(_also_accepts),
]
# A business licence number (migration 0027), as written on the certificate: letters upper-cased,
# spaces dropped; letters, digits and . / - only, at most 30. "" clears it (like null).
LICENCE_MAX = 30
_LICENCE = re.compile(r"[0-9A-Z][0-9A-Z./-]{0,29}")


def _licence(value: str) -> str | None:
    text = "".join(value.split()).upper()
    if not text:
        return None
    if not _LICENCE.fullmatch(text):
        raise fail(
            "invalid_licence",
            f"A business licence number is up to {LICENCE_MAX} letters, digits and . / - "
            "(e.g. 32A8012345).",
        )
    return text


LicenceNo = Annotated[
    str,
    Field(
        max_length=100,
        description="The stall's business licence number (e.g. 32A8012345): only for a market "
        "that asks for it (Market.asks_licence; otherwise 422 licence_not_asked). Spaces are "
        'dropped and letters upper-cased; "" or null clears it.',
    ),
    AfterValidator(_licence),
]
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
    ward_code: WardCode | None = Field(
        default=None,
        description="A ward of the national directory (GET /api/admin-units); the market's "
        "province is the ward's. Unknown -> 422 unknown_ward.",
    )
    legacy_ward_code: WardCode | None = None
    legacy_ward_name: MarketName | None = None
    legacy_district_name: MarketName | None = None
    address: Address | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    zones: list[Zone] = Field(default_factory=list, max_length=200)
    asks_licence: StrictBool = Field(
        default=False,
        description="Whether the market's programme records its stalls' business licence "
        "numbers (Stall.licence_no); off unless the programme asks (data minimisation).",
    )


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
    zones: list[str] = Field(description="The current zones, in display order.")
    stall_count: int = 0
    retired_zones: list[str] = Field(
        default_factory=list,
        description="Zones that take no new stalls; stalls in them keep them until moved.",
    )
    version: int = Field(default=1, description="Send it back in If-Match to edit the market.")
    archived: bool = False
    archived_at: datetime | None = None
    archive_reason: str | None = None
    asks_licence: bool = Field(
        default=False, description="Its stalls' business licence numbers are recorded."
    )


class ConfirmByCounts(BaseModel):
    """How the holders of a market's active stalls learn that a payment arrived (Stall.confirm_by),
    counted when read. A stall with several tools counts under each."""

    market_id: int
    active_stalls: int
    asked: int = Field(description="Stalls whose holder was asked (confirm_by not null)")
    bank_app: int
    sound_box: int
    sms: int
    none: int = Field(description="Asked, and the holder checks nothing: the stalls to train again")


# The digital-transformation support package (users_want #21, migration 0022), item by item, and
# what was done about each at a stall. No record of an item: nobody talked about it yet.
SUPPORT_ITEMS = (
    "sales_app",
    "digital_signature",
    "e_invoice",
    "domain",
    "payment_account",
    "ecommerce",
)
SupportItem = Literal[
    "sales_app", "digital_signature", "e_invoice", "domain", "payment_account", "ecommerce"
]
SupportState = Literal["offered", "delivered", "declined"]


class SupportIn(Strict):
    """What was done about some items of the package at the stall: offered (the household was
    consulted about it), delivered (it received it), declined (it does not want it), or null
    (take a record back: nobody talked about it). Items not named stay as they are, so sending
    the same body again changes nothing.

    `was` (optional, sent by the tablet's queue): what the device saw for each item when the
    change was decided (null: no record). An item someone else has changed since (neither what
    the device saw nor what it asks for now) makes the whole request a 409 support_changed that
    writes nothing, so a change queued offline never undoes a newer one from another device."""

    items: dict[SupportItem, SupportState | None] = Field(
        min_length=1, max_length=len(SUPPORT_ITEMS)
    )
    was: dict[SupportItem, SupportState | None] | None = Field(
        default=None, max_length=len(SUPPORT_ITEMS)
    )


class SupportRecord(BaseModel):
    item: SupportItem
    state: SupportState
    updated_at: datetime
    updated_by: str | None = Field(description="Display name (else username) of who recorded it")


class StallSupport(BaseModel):
    stall_id: int
    items: list[SupportRecord] = Field(
        description="In SUPPORT_ITEMS order; items never talked about are absent"
    )


class SupportItemCounts(BaseModel):
    item: SupportItem
    offered: int
    delivered: int
    declined: int


class SupportCounts(BaseModel):
    """The package at a market's active stalls, counted when read."""

    market_id: int
    active_stalls: int
    consulted: int = Field(
        description="Active stalls with at least one item recorded (offered, delivered or declined): "
        "the households consulted"
    )
    items: list[SupportItemCounts]


class AreaSupportCounts(BaseModel):
    """The package over the caller's markets in an area (not archived), counted when read."""

    province: str | None
    ward: str | None
    active_stalls: int = Field(description="From the markets' coverage counters")
    consulted: int = Field(description="Active stalls with at least one item recorded")
    items: list[SupportItemCounts]


class AlsoAcceptsCounts(BaseModel):
    """Other ways a market's active stalls take payment (Stall.also_accepts), counted when read.
    A stall with several methods counts under each."""

    market_id: int
    active_stalls: int
    asked: int = Field(description="Stalls whose holder was asked (also_accepts not null)")
    card: int
    intl_qr: int
    phone_transfer: int
    none: int = Field(description="Asked: the VietQR sign only")


class ZoneRename(Strict):
    from_: Zone = Field(alias="from", description="A zone of the market (current or retired).")
    to: Zone


class MarketPatch(Strict):
    """Fields to change (absent ones stay). Zones: `zone_renames` first (stalls in a renamed zone
    move with it), then `zones` is the new list of current zones: current zones left out are
    retired (their stalls keep them), retired zones listed again are restored, new names added."""

    name: MarketName | None = None
    address: Address | None = None
    ward_code: WardCode | None = Field(
        default=None, description="A ward of the national directory (GET /api/admin-units)."
    )
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    zones: list[Zone] | None = Field(default=None, max_length=200)
    zone_renames: list[ZoneRename] = Field(default_factory=list, max_length=200)
    asks_licence: StrictBool | None = Field(
        default=None,
        description="Start or stop recording its stalls' business licence numbers. Stopping "
        "keeps the numbers already recorded (each can still be cleared on its stall).",
    )

    @model_validator(mode="after")
    def _coordinates_together(self) -> MarketPatch:
        given = {"lat", "lon"} & self.model_fields_set
        if len(given) == 1 or (given and (self.lat is None) != (self.lon is None)):
            raise fail("coordinates_incomplete", "Send lat and lon together (or both null).")
        if "name" in self.model_fields_set and self.name is None:
            raise fail("invalid_name", "A market keeps a name.")
        return self


def _said(value: str) -> str:
    if not value:
        raise fail("invalid_reason", "Say why, in 1-200 characters.")
    return value


Reason = Annotated[
    str,
    Field(max_length=400, description="Why (1-200 characters)."),
    free_text(200, "invalid_reason"),
    AfterValidator(_said),
]


class SignPrintedIn(Strict):
    sign_digest: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        description="The `Sign-Digest` header of the sign.pdf that was printed: a print of a sign "
        "whose account changed since it was opened is refused (409 sign_changed)",
    )


class ReasonIn(Strict):
    """Why (archive, unarchive, deactivate): kept in the audit log."""

    reason: Reason


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


class PaymentAccountAdd(PaymentAccountIn):
    """An account added to a registered stall."""

    # As at registration (StallCreate): refuse (409 account_in_use) an account another active
    # stall of the market is paid on, until the volunteer confirms both stalls are paid on it.
    check_shared_account: StrictBool = False


class PaymentAccountPatch(Strict):
    """A correction of a wrongly typed account: the fields to change and why."""

    bin: Bin | None = None
    account_number: AccountNumber | None = None
    account_name: AccountName | None = None
    reference: PaymentReference | None = None
    reason: Reason
    # As when adding one (PaymentAccountAdd), for a corrected bank or number.
    check_shared_account: StrictBool = False

    @model_validator(mode="after")
    def _number_kept(self) -> PaymentAccountPatch:
        for name in ("bin", "account_number"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise fail(f"invalid_{name}", f"An account keeps its {name}.")
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
    # Refuse (409 account_in_use) an account another active stall of this market is paid on:
    # the tablet asks it, until the volunteer confirms both stalls are paid on that account.
    check_shared_account: StrictBool = False
    licence_no: LicenceNo | None = None


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
    confirm_by: ConfirmBy | None = None
    also_accepts: AlsoAccepts | None = None
    licence_no: LicenceNo | None = None
    # As at registration: a new phone number that another active stall of the market has is
    # refused (409 possible_duplicate) unless the same person rents both stalls.
    confirm_duplicate: StrictBool = False


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
    stopped_by_partner: Literal["suspended", "removed"] | None = Field(
        default=None,
        description="The account's own bank or wallet suspended or removed it (partner report, "
        "event or console): a sign showing it may bring no money in. Set on GET /api/stalls/{id}.",
    )


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
    confirm_by: list[ConfirmTool] | None = Field(
        default=None,
        description="How the stallholder learns that a payment arrived (StallPatch.confirm_by); "
        "null: not asked yet.",
    )
    also_accepts: list[AlsoAcceptsMethod] | None = Field(
        default=None,
        description="Other ways the stall takes payment (StallPatch.also_accepts); null: not "
        "asked yet.",
    )
    licence_no: str | None = Field(
        default=None,
        description="Its business licence number, where its market asks for it (asks_licence).",
    )
    created_at: datetime
    updated_at: datetime
    source: StallSource = Field(default_factory=lambda: StallSource(kind="registration"))


# ---------------------------------------------------------------- visits

VisitOutcome = Literal["absent", "declined", "come_back", "blocked", "trained", "follow_up"]
Blocker = Literal["no_cccd", "no_own_sim", "no_smartphone", "no_bank_account"]


def _blank_is_none(value: str) -> str | None:
    return value or None


VisitNote = Annotated[
    str,
    Field(
        max_length=600,
        description="What the next volunteer should know (at most 300 characters). A phone, "
        "account or CCCD number typed in it is kept to its last 4 digits.",
    ),
    free_text(300, "invalid_note"),
    AfterValidator(_blank_is_none),
]


class VisitIn(Strict):
    """What a volunteer found at a stall on a visit that did not end in a registration, or what
    they did there besides (trained the stallholder, something to follow up)."""

    outcome: VisitOutcome = Field(
        description="absent: nobody at the stall; declined: the stallholder said no for now; "
        "come_back: agreed to come back (come_back_on); blocked: something is missing to open an "
        "account (blockers); trained: showed how to use the code; follow_up: something to look into"
    )
    blockers: list[Blocker] = Field(
        default_factory=list,
        max_length=4,
        description="With `blocked` (at least one): what the stallholder lacks: no_cccd (no ID card "
        "at hand; never its number), no_own_sim (no SIM in their own name), no_smartphone, "
        "no_bank_account",
    )
    come_back_on: date | None = Field(
        default=None,
        description="The day agreed to come back (from the visit's day, within a year)",
    )
    note: VisitNote | None = None
    visited_at: datetime | None = Field(
        default=None,
        description="When the visit happened, as the device recorded it (a visit sent later from "
        "the queue keeps its time); at most 14 days ago. Default: now.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> VisitIn:
        if self.outcome == "blocked" and not self.blockers:
            raise fail("invalid_blockers", "Say what is missing (blockers) for a blocked visit.")
        if self.outcome != "blocked" and self.blockers:
            raise fail("invalid_blockers", "Blockers go with the outcome 'blocked' only.")
        if len(set(self.blockers)) != len(self.blockers):
            raise fail("invalid_blockers", "Each blocker once.")
        if self.visited_at is not None and self.visited_at.tzinfo is None:
            raise fail("invalid_visited_at", "visited_at needs a time zone (e.g. +07:00 or Z).")
        return self


class Appointment(BaseModel):
    """A day agreed with a stallholder to come back (their stall's latest visit)."""

    stall_id: int
    stall_code: str
    zone: str | None
    come_back_on: date
    outcome: VisitOutcome = Field(description="The visit that agreed it")
    blockers: list[Blocker]
    visited_at: datetime


class MarketAppointments(BaseModel):
    market_id: int
    since: date = Field(description="Appointments from this day (a week ago, in Vietnam) on")
    appointments: list[Appointment]


class VisitBrief(BaseModel):
    """A stall's latest visit, as its worklist row shows it, with the day agreed to come back."""

    outcome: VisitOutcome
    visited_at: datetime
    come_back_on: date | None = Field(
        description="The day agreed with the stallholder to come back that still stands: set at "
        "the latest visit that set one (maybe an earlier one than this), until a visit is made "
        "on or after it."
    )
    come_back_for: VisitOutcome | None = Field(
        default=None,
        description="The outcome of the visit that agreed come_back_on (maybe an earlier visit than "
        "this one): follow_up keeps the appointment even where no other work is left.",
    )


class Visit(BaseModel):
    id: int
    stall_id: int
    outcome: VisitOutcome
    blockers: list[Blocker]
    come_back_on: date | None
    note: str | None
    visited_at: datetime
    visited_by: str | None = Field(description="Display name (else username) of the volunteer")


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
    sign_consent: Literal["granted", "withdrawn", "missing"] = Field(
        description="The stallholder's consent to the printed sign (purpose qr_sign): granted, "
        "withdrawn, or missing (never given, or no stallholder)."
    )
    last_visit: VisitBrief | None = Field(
        default=None, description="The stall's latest recorded visit (POST /api/stalls/{id}/visits)"
    )


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
    account_stopped: Literal["suspended", "removed"] | None = Field(
        default=None,
        description="The sign's account was suspended or removed by its own bank or wallet (now, "
        "not when the job was made): check with the stallholder before hanging the sign.",
    )
    sign_shortened: list[str] = Field(
        default_factory=list,
        description="The texts this sign shows only in part, cut with an ellipsis because they "
        "are too long (market_name, stall_code, holder_name, goods), as the one-stall sign's "
        "Sign-Shortened header names them. Empty: the sign shows every text whole.",
    )


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


class HistoryChange(BaseModel):
    """One field an entry changed, as the audit log keeps it (phone and account numbers masked)."""

    field: Literal[
        "stall_code",
        "zone",
        "goods",
        "status",
        "confirm_by",
        "also_accepts",
        "licence_no",
        "holder_name",
        "holder_phone",
        "fees_cashless",
        "account_bin",
        "account_number",
        "account_name",
        "account_reference",
        "support_sales_app",
        "support_digital_signature",
        "support_e_invoice",
        "support_domain",
        "support_payment_account",
        "support_ecommerce",
    ]
    before: str | None = Field(
        description="As the audit log keeps it; confirm_by, also_accepts: codes joined by commas, "
        "'none' for asked-and-none; support_<item>: offered, delivered, declined, or null (no "
        "record)"
    )
    after: str | None


class HistoryAccount(BaseModel):
    """The payment account an entry is about (number masked: its last four digits)."""

    bin: str | None
    account_number: str | None
    account_name: str | None


class HistoryEntry(BaseModel):
    """One change of a stall (or work on it): when, what, by whom, why, and what it changed."""

    at: datetime
    action: str = Field(
        description="register, update, import, add_payment_account, correct_payment_account, "
        "deactivate_payment_account, reactivate_payment_account, print_confirmed, sign_printed, "
        "sign_delivered, verify, verify_failed, fees_cashless, visit, support, revisit_flagged, "
        "revisit_cleared (detail account_suspended or account_removed: the partner holding the "
        "account on the sign suspended, removed or resumed it)"
    )
    actor: str | None = Field(description="Display name (else username); null: the system")
    reason: str | None = Field(description="The reason given (account corrections and stops)")
    detail: str | None = Field(
        description="verify: scan or name_match; verify_failed: why the code did not match; "
        "visit: its outcome (GET /api/stalls/{id}/visits has the whole visit)"
    )
    account: HistoryAccount | None
    changes: list[HistoryChange]
