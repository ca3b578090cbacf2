"""Numbers shaped for answers: level counts and shares, progress toward the rule, a stall's levels."""

from __future__ import annotations

from fractions import Fraction
from typing import cast

from coverage import schemas as s
from coverage.levels import FLAG_LEVELS, highest_level
from coverage.queries import counters as q
from coverage.queries.counters import Counts


def share(count: int, active: int) -> float:
    return round(count / active, 4) if active else 0.0


def levels_out(c: Counts) -> s.Levels:
    """Counts and shares of the four levels."""
    return s.Levels(
        **{
            lvl: s.LevelCount(count=getattr(c, lvl), share=share(getattr(c, lvl), c.active_stalls))
            for lvl in q.LEVELS
        }
    )


def progress_out(c: Counts, thresholds: dict[str, float]) -> list[s.RuleProgress]:
    """How far each threshold is, in shares and in stalls still needed."""
    out = []
    for level, t in thresholds.items():
        count = getattr(c, level)
        need = Fraction(str(t)) * c.active_stalls
        needed = max(0, -(-need.numerator // need.denominator) - count)
        out.append(
            s.RuleProgress(
                level=cast(s.Level, level),
                threshold=t,
                count=count,
                share=share(count, c.active_stalls),
                met=c.active_stalls > 0 and needed == 0,
                stalls_needed=needed,
            )
        )
    return out


def stall_out(row: dict) -> s.StallCoverage:
    flags = (
        row["counted_active"],
        row["counted_qr_issued"],
        row["counted_qr_verified"],
        row["counted_transacting"],
        row["counted_fees_cashless"],
    )
    return s.StallCoverage(
        stall_id=row["stall_id"],
        market_id=row["market_id"],
        stall_code=row["stall_code"],
        zone=row["zone"],
        status=row["status"],
        level=highest_level(flags),
        levels=s.StallLevels(**dict(zip(FLAG_LEVELS, flags, strict=True))),
        sign_issued_at=row["sign_issued_at"],
        sign_delivered_at=row["sign_delivered_at"],
        verified_at=row["verified_at"],
        verified_method=row["verified_method"],
        last_payment_at=row["last_payment_at"],
        needs_revisit=row["needs_revisit"],
        revisit_reason=row["revisit_reason"],
    )


def group_out(g: q.GroupRow) -> s.GroupCoverage:
    return s.GroupCoverage(
        key=g.key,
        name=g.name,
        markets=g.markets,
        active_stalls=g.counts.active_stalls,
        levels=levels_out(g.counts),
        statuses=s.StatusCounts(**g.statuses) if g.statuses is not None else None,
        status=g.status,
        lat=g.lat,
        lon=g.lon,
        province_code=g.province_code,
        ward_code=g.ward_code,
    )
