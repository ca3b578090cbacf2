"""Request and response shapes of coverage: levels, market status, rollups, history, map data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, model_validator

from core.types import fail

Level = Literal["qr_issued", "qr_verified", "transacting", "fees_cashless"]
FilterLevel = Literal["registered", "qr_issued", "qr_verified", "transacting", "fees_cashless"]
TileLevel = Literal["inactive", "registered", "qr_issued", "qr_verified", "transacting"]
Status = Literal["not_started", "in_progress", "cashless", "lapsed"]
GroupBy = Literal["market", "ward", "legacy_district", "province", "partner"]
Share = Annotated[StrictFloat, Field(ge=0, le=1)]  # strict: `false` is not a share
# A rule's threshold: above 0 (a level at 0 % is always met: leave it out of the rule instead).
Threshold = Annotated[StrictFloat, Field(gt=0, le=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LevelCount(BaseModel):
    """How many active stalls reached a level, and their share of active stalls (0 when none)."""

    count: int
    share: float


class Levels(BaseModel):
    """A stall counts once per level, however many codes it shows. Levels are independent facts:
    `qr_issued` = a sign was printed or delivered (or the code was verified); `qr_verified` = the
    printed code was scan-verified against a stored active account, or the account name matched
    the bank's; `transacting` = at least one payment received in the last N days;
    `fees_cashless` = the stall pays its market fees cashless."""

    qr_issued: LevelCount
    qr_verified: LevelCount
    transacting: LevelCount
    fees_cashless: LevelCount


class ZoneCoverage(BaseModel):
    zone: str = Field(description="Zone name; empty for stalls without a zone.")
    active_stalls: int
    levels: Levels


class RuleProgress(BaseModel):
    """Progress toward one threshold of the rule in force (for progress bars)."""

    level: Level
    threshold: float
    count: int
    share: float
    met: bool
    stalls_needed: int = Field(
        description="More stalls needed at this level to meet the threshold."
    )


class StatusCounts(BaseModel):
    not_started: int = 0
    in_progress: int = 0
    cashless: int = 0
    lapsed: int = 0


class MarketCoverage(BaseModel):
    market_id: int
    name: str
    active_stalls: int = Field(
        description="Active stalls: the denominator (vacant and closed excluded)."
    )
    levels: Levels
    status: Status
    status_since: datetime
    rule_version: int = Field(description="Version of the programme rule in force.")
    thresholds: dict[str, float]
    progress: list[RuleProgress]
    zones: list[ZoneCoverage]
    transacting_window_days: int


class AreaRef(BaseModel):
    """A province or ward of the national directory (2025)."""

    code: str
    name: str


class GroupCoverage(BaseModel):
    key: str = Field(
        description="Market id, ward code, legacy district name, province code or partner code."
    )
    name: str | None
    markets: int | None = Field(description="Markets in the group (null for partner groups).")
    active_stalls: int
    levels: Levels
    statuses: StatusCounts | None = Field(
        description="Markets per status (null for partner groups)."
    )
    status: Status | None = Field(
        default=None, description="The market's status (group_by=market only)."
    )
    lat: float | None = Field(
        default=None,
        description="Where to draw the group: a market's point; the mean point of an area's "
        "markets (null without coordinates, and for partner groups).",
    )
    lon: float | None = Field(default=None, description="See lat.")
    province_code: str | None = Field(
        default=None, description="The province of a market, ward or province group."
    )
    ward_code: str | None = Field(default=None, description="The ward of a market group.")


class CoverageRollup(BaseModel):
    group_by: GroupBy
    province: AreaRef | None = Field(
        default=None, description="The province the groups were limited to, if any."
    )
    ward: AreaRef | None = Field(
        default=None, description="The ward the groups were limited to, if any."
    )
    groups: list[GroupCoverage]
    total: GroupCoverage | None = Field(
        description="All groups together (null for partner groups: a stall may count for several)."
    )
    rule_version: int
    thresholds: dict[str, float]


class HistoryPoint(BaseModel):
    date: date
    markets: int
    active_stalls: int
    levels: Levels
    status: Status | None = Field(
        description="The market's status that day (single-market series)."
    )
    statuses: StatusCounts
    live: bool = Field(
        default=False, description="True for today's point read from the live counters."
    )


class CoverageHistory(BaseModel):
    market_id: int | None
    province: AreaRef | None = Field(default=None, description="The province of the series.")
    ward: AreaRef | None = Field(default=None, description="The ward of the series.")
    from_: date = Field(alias="from")
    to: date
    points: list[HistoryPoint]

    model_config = ConfigDict(populate_by_name=True)


class StatusChange(BaseModel):
    status: Status
    previous_status: Status | None
    rule_version: int
    reason: Literal["stall_change", "daily", "rule_change"]
    changed_at: datetime
    active_stalls: int
    levels: Levels


class RuleIn(Strict):
    thresholds: Annotated[dict[Level, Threshold], Field(min_length=1)] = Field(
        description="Minimum share of active stalls per level, above 0 and at most 1 (a level "
        "at 0 would always be met: leave it out); cashless when all are met.",
        examples=[{"qr_verified": 0.9, "transacting": 0.3}],
    )
    effective_from: date | None = Field(
        default=None,
        description="The day (in Vietnam) the version applies from: today or absent applies it "
        "at once; a later day schedules it (the hourly coverage job applies it when the day "
        "comes). A day in the past is refused (422 effective_date_past), and one more than two "
        "years ahead (422 effective_date_too_far: a year typed wrong).",
    )


RuleState = Literal["in_force", "scheduled", "superseded", "withdrawn"]


class Rule(BaseModel):
    version: int
    thresholds: dict[str, float]
    created_at: datetime
    created_by: str | None
    effective_from: datetime = Field(description="When the version applies (or applied) from.")
    applied_at: datetime | None = Field(
        description="When every market was re-evaluated under it; null while scheduled."
    )
    state: RuleState = Field(
        description="in_force: the rule now (the version applied last); scheduled: waiting for "
        "its day; superseded: applied once, replaced since; withdrawn: scheduled, then withdrawn "
        "before its day (never applied)."
    )
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None


class StatusChangePreview(BaseModel):
    """A market whose status the rule would change, with the numbers that decide it."""

    market_id: int
    name: str
    from_: Status = Field(alias="from")
    to: Status
    active_stalls: int
    levels: Levels

    model_config = ConfigDict(populate_by_name=True)


class RulePreview(BaseModel):
    """What saving this rule would do to markets' statuses, from today's numbers (nothing written)."""

    thresholds: dict[str, float]
    effective_from: date | None
    markets: int = Field(description="Markets evaluated (every market with stalls counted).")
    changes: list[StatusChangePreview]


class StallLevels(BaseModel):
    registered: bool = Field(description="The stall is active (counts in the denominator).")
    qr_issued: bool
    qr_verified: bool
    transacting: bool
    fees_cashless: bool


class StallCoverage(BaseModel):
    """One stall's field progress; no personal data."""

    stall_id: int
    market_id: int
    stall_code: str
    zone: str
    status: str
    level: TileLevel = Field(
        description="Highest level reached (inactive for vacant/closed stalls)."
    )
    levels: StallLevels
    sign_issued_at: datetime | None
    sign_delivered_at: datetime | None
    sign_printed_at: datetime | None = Field(
        default=None,
        description="The latest print of the stall's sign confirmed in the app. A sign delivered "
        "after it is delivered: delivering it again changes nothing.",
    )
    verified_at: datetime | None
    verified_method: Literal["scan", "name_match"] | None
    last_payment_at: datetime | None
    needs_revisit: bool
    revisit_reason: str | None = Field(
        description="qr_mismatch, qr_invalid, no_account, account_suspended or account_removed "
        "(the partner holding the account on the sign suspended or removed it)."
    )
    sign_reprint_needed: bool = Field(
        default=False,
        description="The sign at the stall shows an account corrected or deactivated since.",
    )
    sign_reprint_reason: (
        Literal["account_corrected", "account_deactivated", "sign_details_changed"] | None
    ) = None
    sign_reprint_flagged_at: datetime | None = None


class VerifyIn(Strict):
    payload: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="What the camera read from the sign.",
    )
    payloads: list[Annotated[str, Field(min_length=1, max_length=2000)]] | None = Field(
        default=None,
        min_length=1,
        max_length=8,
        description="Every code the camera saw in one frame (instead of `payload`): another "
        "payment code beside the sign fails the check, as in a photo.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> VerifyIn:
        if (self.payload is None) == (self.payloads is None):
            raise fail("payload_required", "Send either payload or payloads.")
        return self

    def read(self) -> list[str]:
        """The codes read, each once, in the order read."""
        return list(dict.fromkeys(self.payloads or [self.payload or ""]))


class VerifyResult(StallCoverage):
    matched_account_id: int
    codes_read: int = Field(description="How many QR codes were read (1 for a payload).")


class FeesCashlessIn(Strict):
    value: StrictBool


class Tile(BaseModel):
    id: int
    stall_code: str
    status: str
    level: TileLevel
    fees_cashless: bool
    needs_revisit: bool
    revisit_reason: str | None
    sign_reprint_needed: bool = False


class ZoneTiles(BaseModel):
    zone: str
    active_stalls: int
    levels: Levels
    stalls: list[Tile]


class MarketTiles(BaseModel):
    market_id: int
    zones: list[ZoneTiles]


class Point(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float] = Field(description="[lon, lat]")


class MarketProperties(BaseModel):
    id: int
    name: str
    ward_code: str | None
    ward: str | None
    legacy_district: str | None
    status: Status
    active_stalls: int
    qr_issued: int
    qr_verified: int
    transacting: int
    fees_cashless: int
    qr_issued_share: float
    qr_verified_share: float
    transacting_share: float
    fees_cashless_share: float


class MarketFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: Point | None
    properties: MarketProperties


class MarketFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[MarketFeature]


class MarketRank(BaseModel):
    """A market's place on the way to the rule: how many more stalls each level still needs."""

    rank: int = Field(description="1 = closest to the rule among markets that have not met it.")
    market_id: int
    name: str
    ward_code: str | None
    ward_name: str | None
    status: Status
    active_stalls: int
    progress: list[RuleProgress]
    stalls_needed: int = Field(description="Sum of stalls_needed over the rule's levels.")
    rule_met: bool = Field(description="Every threshold of the rule is met now.")


class Ranking(BaseModel):
    rule_version: int
    thresholds: dict[str, float]
    markets: list[MarketRank] = Field(
        description="Markets that still miss the rule, fewest stalls needed first; then markets "
        "without active stalls; then markets that meet it."
    )


class ReturnVisit(BaseModel):
    """A stall flagged for a return visit (its sign's code did not check out)."""

    stall_id: int
    stall_code: str
    zone: str
    reason: str | None = Field(
        description="qr_mismatch, qr_invalid, no_account, account_suspended or account_removed."
    )
    since: datetime | None = Field(description="When the stall was flagged.")


class MarketReturnVisits(BaseModel):
    market_id: int
    name: str
    ward_name: str | None
    visits: list[ReturnVisit]
