"""Numbers shaped for answers: level counts and shares, progress toward the rule, a stall's levels."""

from __future__ import annotations

from fractions import Fraction
from typing import cast

import orjson

from coverage import schemas as s
from coverage.levels import FLAG_LEVELS, highest_level
from coverage.queries.counts import LEVELS, STATUSES, Counts, GroupRow


def share(count: int, active: int) -> float:
    """count / active to four decimals, rounded down, from the exact fraction (integers only, so
    the SQL that builds large answers, coverage.queries.reads.share_sql, gives the same numbers);
    0 without active stalls. Rounded down so that a share never reads above what it is:
    17,999 of 20,000 is 0.8999, not the 0.9 a rule's target asks for."""
    if not active:
        return 0.0
    return (count * 10000 // active) / 10000


def levels_out(c: Counts) -> s.Levels:
    """Counts and shares of the four levels."""
    return s.Levels(
        **{
            lvl: s.LevelCount(count=getattr(c, lvl), share=share(getattr(c, lvl), c.active_stalls))
            for lvl in LEVELS
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
        sign_printed_at=row["sign_printed_at"],
        verified_at=row["verified_at"],
        verified_method=row["verified_method"],
        last_payment_at=row["last_payment_at"],
        needs_revisit=row["needs_revisit"],
        revisit_reason=row["revisit_reason"],
        sign_reprint_needed=row["sign_reprint_needed"],
        sign_reprint_reason=row["sign_reprint_reason"],
        sign_reprint_flagged_at=row["sign_reprint_flagged_at"],
    )


# ---------------------------------------------------------------- large answers as plain JSON
# A national rollup or map has one group per market (10,000): building a pydantic model per
# group, and validating it, costs far more than the query. These build the same JSON as the
# models (tests/coverage/test_shapes.py compares them) from plain dicts, serialised by orjson.


def levels_dict(c: Counts) -> dict[str, dict[str, int | float]]:
    """levels_out as plain JSON values."""
    active = c.active_stalls
    return {
        "qr_issued": {"count": c.qr_issued, "share": share(c.qr_issued, active)},
        "qr_verified": {"count": c.qr_verified, "share": share(c.qr_verified, active)},
        "transacting": {"count": c.transacting, "share": share(c.transacting, active)},
        "fees_cashless": {"count": c.fees_cashless, "share": share(c.fees_cashless, active)},
    }


def group_dict(g: GroupRow) -> dict[str, object]:
    """A group's GroupCoverage as plain JSON values."""
    return {
        "key": g.key,
        "name": g.name,
        "markets": g.markets,
        "active_stalls": g.counts.active_stalls,
        "levels": levels_dict(g.counts),
        "statuses": {st: g.statuses.get(st, 0) for st in STATUSES}
        if g.statuses is not None
        else None,
        "status": g.status,
        "lat": g.lat,
        "lon": g.lon,
        "province_code": g.province_code,
        "ward_code": g.ward_code,
    }


def feature_dict(g: GroupRow) -> dict[str, object]:
    """A market group as a MarketFeature (GeoJSON point with flat properties), plain JSON."""
    c = g.counts
    market_id = int(g.key)
    active = c.active_stalls
    return {
        "type": "Feature",
        "id": market_id,
        "geometry": {"type": "Point", "coordinates": [g.lon, g.lat]}
        if g.lat is not None and g.lon is not None
        else None,
        "properties": {
            "id": market_id,
            "name": g.name or "",
            "ward_code": g.ward_code,
            "ward": g.ward_name,
            "legacy_district": g.legacy_district,
            "status": g.status or "not_started",
            "active_stalls": active,
            "qr_issued": c.qr_issued,
            "qr_verified": c.qr_verified,
            "transacting": c.transacting,
            "fees_cashless": c.fees_cashless,
            "qr_issued_share": share(c.qr_issued, active),
            "qr_verified_share": share(c.qr_verified, active),
            "transacting_share": share(c.transacting, active),
            "fees_cashless_share": share(c.fees_cashless, active),
        },
    }


def to_json(value: object) -> bytes:
    """JSON bytes of plain values (dicts, lists, str, int, float, None)."""
    return orjson.dumps(value)
