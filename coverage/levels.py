"""The rules of coverage, pure: a stall's levels from its facts, a market's status from its numbers."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction

from coverage import schemas as s
from coverage.queries import stalls as stalls_q
from coverage.queries.counts import Counts

VN_TZ = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time
FLAG_LEVELS = ("registered", "qr_issued", "qr_verified", "transacting", "fees_cashless")


def local_day(at: datetime) -> date:
    """The calendar day in Vietnam of a moment."""
    return at.astimezone(VN_TZ).date()


def levels_of(
    state: stalls_q.StallState, window_start: datetime
) -> tuple[bool, bool, bool, bool, bool]:
    """(active, qr_issued, qr_verified, transacting, fees_cashless) of a stall from its facts."""
    if state.status != "active":
        return (False, False, False, False, False)
    verified = state.verified_account_ok
    issued = state.sign_issued_at is not None or state.sign_delivered_at is not None or verified
    transacting = state.last_payment_at is not None and state.last_payment_at >= window_start
    return (True, issued, verified, transacting, state.fees_cashless)


def vector(flags: tuple[bool, ...]) -> Counts:
    """A stall's contribution to the counters."""
    return Counts(*(int(f) for f in flags))


def highest_level(flags: tuple[bool, bool, bool, bool, bool]) -> s.TileLevel:
    """The highest level a stall reached (fees_cashless is a separate flag)."""
    active, issued, verified, transacting, _ = flags
    if not active:
        return "inactive"
    if transacting:
        return "transacting"
    if verified:
        return "qr_verified"
    if issued:
        return "qr_issued"
    return "registered"


def thresholds_met(counts: Counts, thresholds: dict[str, float]) -> bool:
    """Whether every threshold is met (exact arithmetic: 9 of 10 meets 0.9)."""
    if counts.active_stalls == 0:
        return False
    return all(
        Fraction(getattr(counts, level), counts.active_stalls) >= Fraction(str(t))
        for level, t in thresholds.items()
    )


def evaluate_status(counts: Counts, thresholds: dict[str, float], previous: str | None) -> s.Status:
    """cashless when every threshold is met; lapsed once cashless and no longer;
    not_started without active stalls or without any sign issued; in_progress otherwise."""
    if thresholds_met(counts, thresholds):
        return "cashless"
    if previous in ("cashless", "lapsed"):
        return "lapsed"
    if counts.active_stalls == 0 or counts.qr_issued == 0:
        return "not_started"
    return "in_progress"


@functools.cache
def new_stall_levels() -> tuple[bool, bool, bool, bool, bool]:
    """The levels of a stall being registered: active, with no sign, check or payment yet."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    fresh = stalls_q.StallState(
        stall_id=0, market_id=0, stall_code="", status="active", zone="", sign_issued_at=None,
        sign_delivered_at=None, verified_at=None, verified_method=None, verified_account_ok=False,
        last_payment_at=None, fees_cashless=False, needs_revisit=False, revisit_reason=None,
        partners=[], counted=(False, False, False, False, False), counted_zone="",
        counted_partners=[], now=epoch,
    )  # fmt: skip
    return levels_of(fresh, epoch)
