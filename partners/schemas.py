"""Request and response shapes of partners, onboardings, partner events, imports and lookups."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel
from pydantic_core import PydanticCustomError

from core.errors import own_code
from core.params import IdField
from core.types import PartnerCode, PersonName, fail, free_text, parsed_phone

Status = Literal["pending", "active", "suspended", "removed"]
Channel = Literal["field_visit", "partner_import", "partner_api"]
STATUSES: tuple[str, ...] = ("pending", "active", "suspended", "removed")
# Allowed status changes. `removed` is final; a pending onboarding that never went live may be
# removed.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"active", "removed"}),
    "active": frozenset({"suspended", "removed"}),
    "suspended": frozenset({"active", "removed"}),
    "removed": frozenset(),
}
# Statuses in which the partner serves the account (the others stopped it).
SERVING: frozenset[str] = frozenset({"pending", "active"})


def _secret(value: str) -> str:
    # Never echo the value: the message names the rule only.
    if value != value.strip() or any(unicodedata.category(c).startswith("C") for c in value):
        raise PydanticCustomError(
            own_code("invalid_credential"),
            "A credential may not contain control characters or start or end with spaces.",
        )
    return value


CredentialName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
CredentialValue = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_secret)]


class CredentialsIn(RootModel[dict[CredentialName, CredentialValue]]):
    """Every credential the partner should hold from now on ({} clears them)."""

    root: dict[CredentialName, CredentialValue] = Field(max_length=10)


# A published support number: groups of digits with one space, dot or hyphen between them, an
# optional leading +, at most 20 characters and at least 3 digits ("1900 545426", "1800.1091",
# "1900-545-426", "+84 24 3936 8888"). The database holds the same rule (migration 0018).
_SUPPORT_PHONE = re.compile(r"\+?[0-9]+(?:[ .-][0-9]+)*")


def _support_phone(value: str) -> str:
    value = " ".join(value.split())
    if (
        len(value) > 20
        or sum(c.isdigit() for c in value) < 3
        or not _SUPPORT_PHONE.fullmatch(value)
        or parsed_phone(value) is None  # a number one can call ("9999-12-31" is a date)
    ):
        raise fail(
            "invalid_support_phone",
            "A support number is a phone number of at most 20 characters: groups of digits (3 or more) with "
            "one space, dot or hyphen between them, after an optional + (e.g. 1900 545426).",
        )
    return value


SupportPhone = Annotated[str, Field(max_length=40), AfterValidator(_support_phone)]


class SupportIn(BaseModel):
    """The partner's support number for stallholders; null when none is known."""

    model_config = ConfigDict(extra="forbid")
    support_phone: SupportPhone | None


class Partner(BaseModel):
    code: str
    name: str
    kind: str
    scheme: str
    bins: list[str]
    support_phone: str | None = Field(
        description="The number a stallholder calls when a transfer goes wrong (set by an admin)."
    )
    credentials_set: list[str] | None = Field(
        description="Names of the credentials set (never values); null: not yours to see."
    )
    own_api_enabled: bool | None = Field(description="Null: not yours to see.")
    created_at: datetime
    updated_at: datetime


class OnboardingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_account_id: IdField
    partner_code: PartnerCode
    channel: Channel
    status: Status | None = None
    staff_name: PersonName | None = None


class StatusChange(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    actor_id: int | None
    source: str
    effective_on: date | None = None
    ref: str | None = None


class Onboarding(BaseModel):
    id: int
    stall_id: int
    payment_account_id: int
    bin: str
    partner_code: str
    partner_name: str
    channel: str
    status: str
    onboarded_by: int | None
    staff_name: str | None
    created_at: datetime
    updated_at: datetime
    history: list[StatusChange] = Field(default_factory=list)


class PartnerAccount(BaseModel):
    payment_account_id: int
    stall_id: int
    market_id: int
    market_name: str
    market_archived: bool = Field(
        default=False,
        description="The market is archived: listed here, left out of the partner's numbers",
    )
    stall_code: str
    bin: str
    account_number: str
    account_name: str | None
    active: bool
    relation: Literal["onboarded", "opted_in"]
    onboarding_status: str | None
    onboarded_at: datetime | None


class PartnerAccountPage(BaseModel):
    items: list[PartnerAccount]
    next_cursor: str | None


class StatsCounts(BaseModel):
    onboarded: int = Field(
        default=0, description="Accounts in use (active, on an active stall), not removed"
    )
    pending: int = Field(default=0, description="Of these, pending")
    active: int = Field(default=0, description="Of these, active")
    suspended: int = Field(default=0, description="Of these, suspended")
    removed: int = Field(default=0, description="Onboardings removed, in use or not")
    not_in_use: int = Field(
        default=0,
        description="Onboardings not removed whose account is no longer in use (the stall closed, "
        "the account replaced or the person's data erased)",
    )
    receiving: int = Field(default=0, description="Accounts in use paid within the window")
    stalls_no_way: int = Field(
        default=0,
        description="Active stalls with one of these accounts whose holder checks nothing to see "
        "money arrive (Stall.confirm_by = []): where a sound box or training would help",
    )
    stalls_sound_box: int = Field(
        default=0, description="Active stalls with one of these accounts and a sound box"
    )


class MarketStats(StatsCounts):
    market_id: int
    market_name: str
    market_lat: float | None = Field(
        default=None, description="The market's point (a public place)"
    )
    market_lon: float | None = None


class PartnerStats(BaseModel):
    partner_code: str
    window_days: int
    totals: StatsCounts
    markets: list[MarketStats]


class EventAck(BaseModel):
    id: str
    status: Literal["applied", "duplicate"]
    result: str | None


class UnmatchedPayment(BaseModel):
    id: int
    external_id: str
    amount: int
    occurred_at: datetime
    received_at: datetime
    account_number: str | None
    reference: str | None


class Notification(BaseModel):
    """A verified message a partner sent (own event or native notification); never its payload."""

    id: int
    external_id: str = Field(description="The partner's id of the message (event id, transId…).")
    type: str
    received_at: datetime
    processed_at: datetime | None
    result: str | None = Field(
        description="What it did: created, updated, unchanged, matched, unmatched, "
        "no_onboarding, not_succeeded…"
    )
    matched_account: bool = Field(description="Whether it was matched to a payment account.")


class TakingsDay(BaseModel):
    day: date = Field(description="A Vietnamese calendar day (UTC+7).")
    payments: int = Field(description="Payments partners reported for the stall that day.")
    amount: int = Field(description="Their total, in đồng.")


class StallTakings(BaseModel):
    """What partners reported the stall received, per day (GET /api/stalls/{id}/takings)."""

    stall_id: int
    today: date = Field(description="Today in Vietnam; the last day of the window.")
    as_of: datetime
    holder_erased: bool = Field(description="The holder's data was erased: no amounts are shown.")
    reported_since: datetime | None = Field(
        description="When the first payment any partner reported for the stall was made; null: "
        "no partner has reported one (the stall may still be paid: nobody told us)."
    )
    partners: list[str] = Field(description="Partners that reported payments in the window.")
    days: list[TakingsDay] = Field(
        description="Oldest first, every day of the window since the first report (zeros "
        "included); empty when no partner ever reported a payment for the stall."
    )


class UnmatchedPage(BaseModel):
    items: list[UnmatchedPayment]
    next_cursor: str | None


ImportOutcome = Literal["matched", "created", "unchanged", "error"]


class ImportRowResult(BaseModel):
    line: int
    market: str | None = Field(default=None, description="The row's market, as the file gave it.")
    stall_code: str | None = Field(
        default=None, description="The row's stall code, as the file gave it."
    )
    result: ImportOutcome
    reason: str | None = None
    reason_vi: str | None = Field(default=None, description="The reason in Vietnamese, for people")
    stall_id: int | None = None
    payment_account_id: int | None = None
    status: str | None = None


class ImportResult(BaseModel):
    import_id: int | None
    dry_run: bool
    already_imported: bool
    sha256: str
    counts: dict[str, int]
    rows: list[ImportRowResult]
    ignored_columns: list[str] = Field(
        default_factory=list,
        description="Header names of the file's columns that no field reads (not used).",
    )


class LookupOut(BaseModel):
    status: Literal["found", "not_found", "unavailable", "disabled"]
    account_name: str | None = None
    detail: str | None = None


# ---------------------------------------------------------------- service points (users_want #22)

PointKind = Literal["cash", "counter", "help"]


def _named(value: str) -> str:
    if not value:
        raise fail("invalid_name", "The name is empty.")
    return value


def _or_none(value: str) -> str | None:
    return value or None  # blank (spaces only) is no address, no hours


PointName = Annotated[
    str, Field(max_length=400), free_text(120, "invalid_name"), AfterValidator(_named)
]
PointAddress = Annotated[
    str, Field(max_length=800), free_text(200, "invalid_address"), AfterValidator(_or_none)
]
PointHours = Annotated[
    str, Field(max_length=400), free_text(80, "invalid_hours"), AfterValidator(_or_none)
]


class PointLocation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class ServicePointIn(BaseModel):
    """A partner's service point serving one market: `cash` (put in or take out cash), `counter`
    (a transaction counter: a post office, a branch) or `help` (help with accounts and the app).
    The location is optional: a point without one is listed with its market, not drawn."""

    model_config = ConfigDict(extra="forbid")
    partner_code: PartnerCode
    market_id: IdField
    kind: PointKind
    name: PointName
    address: PointAddress | None = None
    opening_hours: PointHours | None = None
    location: PointLocation | None = None


class ServicePoint(BaseModel):
    id: int
    partner_code: str
    partner_name: str
    support_phone: str | None
    market_id: int
    market_name: str
    kind: PointKind
    name: str
    address: str | None
    opening_hours: str | None
    lat: float | None
    lon: float | None
    created_at: datetime


class ServicePointPage(BaseModel):
    points: list[ServicePoint]
    more: bool = Field(description="True when more points match than `limit`: narrow the area.")
