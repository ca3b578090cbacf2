"""The numbers coverage keeps and the rows they are read in: levels, statuses, Counts, a
market's counters, and the shapes of the reads (groups, tiles, history, snapshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import asyncpg

LEVELS = ("qr_issued", "qr_verified", "transacting", "fees_cashless")
COUNT_FIELDS = ("active_stalls", *LEVELS)
STATUSES = ("not_started", "in_progress", "cashless", "lapsed")
Status = Literal["not_started", "in_progress", "cashless", "lapsed"]
Reason = Literal["stall_change", "daily", "rule_change"]
STATUS_NAMES: tuple[Status, ...] = ("not_started", "in_progress", "cashless", "lapsed")


@dataclass(frozen=True)
class Counts:
    """Active stalls and how many of them reached each level."""

    active_stalls: int = 0
    qr_issued: int = 0
    qr_verified: int = 0
    transacting: int = 0
    fees_cashless: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def __sub__(self, other: Counts) -> Counts:
        return Counts(*(a - b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int, int]:
        return (
            self.active_stalls,
            self.qr_issued,
            self.qr_verified,
            self.transacting,
            self.fees_cashless,
        )

    def is_zero(self) -> bool:
        return not any(self.astuple())

    @classmethod
    def of(cls, row: Any) -> Counts:
        return cls(*(int(row[f] or 0) for f in COUNT_FIELDS))


def status_tuple(status: str | None, sign: int = 1) -> tuple[int, int, int, int]:
    return tuple(sign * int(status == s) for s in STATUSES)  # type: ignore[return-value]


@dataclass(frozen=True)
class MarketCounters:
    market_id: int
    counts: Counts
    status: Status
    status_since: datetime
    rule_version: int | None


@dataclass(frozen=True)
class GroupRow:
    key: str
    name: str | None
    markets: int | None
    counts: Counts
    statuses: dict[str, int] | None
    status: Status | None = None
    lat: float | None = None
    lon: float | None = None
    ward_code: str | None = None
    ward_name: str | None = None
    legacy_district: str | None = None
    province_code: str | None = None


@dataclass(frozen=True)
class Tile:
    id: int
    stall_code: str
    zone: str
    status: str
    counted: tuple[bool, bool, bool, bool, bool]
    needs_revisit: bool
    revisit_reason: str | None
    sign_reprint_needed: bool = False


@dataclass(frozen=True)
class HistoryRow:
    status: Status
    previous_status: Status | None
    rule_version: int
    reason: Reason
    counts: Counts
    changed_at: datetime


@dataclass(frozen=True)
class SnapshotRow:
    day: date
    counts: Counts
    status: Status | None
    markets: int = 1
    statuses: dict[str, int] = field(default_factory=dict)


def counters_from_row(row: asyncpg.Record) -> MarketCounters:
    return MarketCounters(
        market_id=row["market_id"],
        counts=Counts.of(row),
        status=row["status"],
        status_since=row["status_since"],
        rule_version=row["rule_version"],
    )


SUM_COUNTS = """sum(active_stalls) AS active_stalls, sum(qr_issued) AS qr_issued,
       sum(qr_verified) AS qr_verified, sum(transacting) AS transacting,
       sum(fees_cashless) AS fees_cashless"""
