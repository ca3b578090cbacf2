"""What dashboards and the map read: a market's numbers, rollups, GeoJSON, stall tiles, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg

from admin_units import service as admin_units
from admin_units.errors import ProvinceNotFound
from core import access
from core.errors import Forbidden, Invalid
from core.types import User
from coverage import schemas as s
from coverage.errors import WardNotFound, WardNotInProvince
from coverage.levels import highest_level, local_day
from coverage.queries import history as history_q
from coverage.queries import reads
from coverage.queries import rule as rule_q
from coverage.queries.counts import STATUS_NAMES, Counts, GroupRow
from coverage.scope import readable_market
from coverage.shapes import group_dict, levels_out, progress_out, to_json


async def market_coverage_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, window_days: int
) -> s.MarketCoverage:
    """A market's numbers, status, progress toward the rule and per-zone numbers."""
    await readable_market(conn, user, market_id)
    counters = await reads.market_counters(conn, market_id)
    assert counters is not None
    rule = await rule_q.current_rule(conn)
    header = await reads.market_header(conn, market_id)
    assert header is not None
    zones = dict(await reads.zone_counters(conn, market_id))
    declared = await reads.market_zones(conn, market_id)
    names = [z for z in declared if z] + sorted(z for z in zones if z not in declared)
    zone_list = [
        s.ZoneCoverage(
            zone=z,
            active_stalls=zones.get(z, Counts()).active_stalls,
            levels=levels_out(zones.get(z, Counts())),
        )
        for z in names
        if z in zones or z in declared
    ]
    return s.MarketCoverage(
        market_id=market_id,
        name=header["name"],
        active_stalls=counters.counts.active_stalls,
        levels=levels_out(counters.counts),
        status=counters.status,
        status_since=counters.status_since,
        rule_version=rule.version,
        thresholds=rule.thresholds,
        progress=progress_out(counters.counts, rule.thresholds),
        zones=zone_list,
        transacting_window_days=window_days,
    )


@dataclass(frozen=True)
class AreaFilter:
    """The area a drill-down read is limited to (checked against the directory)."""

    area: reads.Area
    province: s.AreaRef | None
    ward: s.AreaRef | None


async def area_filter(
    conn: asyncpg.Connection, *, province: str | None, ward: str | None
) -> AreaFilter:
    """A province and/or ward of the national directory: 404 for a code it does not have, 422
    for a ward outside the province given with it."""
    province_ref = ward_ref = None
    province_code = admin_units.province_code(province) if province is not None else None
    ward_code = admin_units.ward_code(ward) if ward is not None else None
    if province_code is not None:
        unit = await admin_units.get_unit(conn, province_code)
        if unit is None or unit.level != "province":
            raise ProvinceNotFound(f"No province has the code {province}.", field="province")
        province_ref = s.AreaRef(code=unit.code, name=unit.name)
    if ward_code is not None:
        unit = await admin_units.get_unit(conn, ward_code)
        if unit is None or unit.level != "ward":
            raise WardNotFound(f"No ward has the code {ward}.", field="ward")
        if province_code is not None and unit.province_code != province_code:
            raise WardNotInProvince(f"Ward {ward} is not in province {province}.", field="ward")
        ward_ref = s.AreaRef(code=unit.code, name=unit.name)
    return AreaFilter(reads.Area(province_code, ward_code), province_ref, ward_ref)


async def coverage_rollup_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    group_by: s.GroupBy,
    province: str | None = None,
    ward: str | None = None,
) -> bytes:
    """Numbers rolled up by market, ward, legacy district, province or partner, within scope and
    an area (a province, a ward: the drill-down country -> province -> ward -> market), as the
    JSON of a CoverageRollup (one group per market at national scale: built as plain values).

    Areas are summed from their markets' counters (every market in scope), partners from their
    per-market counters. Partner users see their own partner group only.
    """
    rule = await rule_q.current_rule(conn)
    where = await area_filter(conn, province=province, ward=ward)
    area = where.area
    partners: list[GroupRow] = []
    built: reads.GroupsJson | None = None
    if user.role == "partner":
        code = await reads.partner_code_of(conn, user.id)
        if group_by != "partner":
            raise Forbidden("Partner accounts see the partner grouping only: use group_by=partner.")
        partners = await reads.partner_groups(conn, None, only_key=code, area=area) if code else []
    elif user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    else:
        scope = await access.market_scope(conn, user)
        if group_by == "market":
            built = await reads.market_groups_json(conn, scope, area)
        elif group_by == "partner":
            partners = await reads.partner_groups(conn, scope, area=area)
        else:
            built = await reads.area_groups_json(conn, group_by, scope, area)
    head = {
        "group_by": group_by,
        "province": where.province.model_dump() if where.province else None,
        "ward": where.ward.model_dump() if where.ward else None,
    }
    tail = {"rule_version": rule.version, "thresholds": rule.thresholds}
    if built is None:  # partner groups: a few, and no total (a stall may count for several)
        return to_json(head | {"groups": [group_dict(g) for g in partners], "total": None} | tail)
    # The groups' JSON array comes from the database as it is; the rest is put around it.
    return (
        to_json(head)[:-1]
        + b',"groups":'
        + built.json.encode()
        + b',"total":'
        + to_json(group_dict(built.total))
        + b","
        + to_json(tail)[1:]
    )


async def markets_geojson_for(
    conn: asyncpg.Connection, *, user: User, province: str | None = None, ward: str | None = None
) -> bytes:
    """Markets in scope (and in an area) as the JSON of a GeoJSON FeatureCollection of points
    with flat properties (status, counts, shares): a MarketFeatureCollection."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    where = await area_filter(conn, province=province, ward=ward)
    scope = await access.market_scope(conn, user)
    features = await reads.market_features_json(conn, scope, where.area)
    return b'{"type":"FeatureCollection","features":' + features.encode() + b"}"


async def stall_tiles_for(conn: asyncpg.Connection, *, user: User, market_id: int) -> s.MarketTiles:
    """A market's stalls per zone with their highest level (no personal data)."""
    await readable_market(conn, user, market_id)
    tiles = await reads.stall_tiles(conn, market_id)
    zones = dict(await reads.zone_counters(conn, market_id))
    declared = await reads.market_zones(conn, market_id)
    by_zone: dict[str, list[s.Tile]] = {}
    for t in tiles:
        by_zone.setdefault(t.zone, []).append(
            s.Tile(
                id=t.id,
                stall_code=t.stall_code,
                status=t.status,
                level=highest_level(t.counted),
                fees_cashless=t.counted[4],
                needs_revisit=t.needs_revisit,
                revisit_reason=t.revisit_reason,
                sign_reprint_needed=t.sign_reprint_needed,
            )
        )
    order = [z for z in declared if z in by_zone] + sorted(z for z in by_zone if z not in declared)
    return s.MarketTiles(
        market_id=market_id,
        zones=[
            s.ZoneTiles(
                zone=z,
                active_stalls=zones.get(z, Counts()).active_stalls,
                levels=levels_out(zones.get(z, Counts())),
                stalls=by_zone[z],
            )
            for z in order
        ],
    )


async def status_history_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, limit: int
) -> list[s.StatusChange]:
    """A market's status changes, newest first."""
    await readable_market(conn, user, market_id)
    return [
        s.StatusChange(
            status=h.status,
            previous_status=h.previous_status,
            rule_version=h.rule_version,
            reason=h.reason,
            changed_at=h.changed_at,
            active_stalls=h.counts.active_stalls,
            levels=levels_out(h.counts),
        )
        for h in await reads.status_history(conn, market_id, limit)
    ]


MAX_HISTORY_DAYS = 1100


async def history_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int | None,
    start: date | None,
    end: date | None,
    province: str | None = None,
    ward: str | None = None,
) -> s.CoverageHistory:
    """Daily series from snapshots (last value carried forward); today from the live counters.

    One market's series (or a few markets': a scoped caller's) reads their snapshots; a whole
    area's (the country, a province, a ward) reads its daily numbers (coverage_area_day), one row
    a day whatever the number of markets.
    """
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    if market_id is not None and (province is not None or ward is not None):
        raise Invalid("Ask for one market or for an area, not both.", field="market_id")
    where = await area_filter(conn, province=province, ward=ward)
    if market_id is not None:
        await readable_market(conn, user, market_id)
        ids: list[int] | None = [market_id]
    else:
        ids = await access.market_scope(conn, user)
    today = local_day(datetime.now(UTC))
    end = end or today
    start = start or end - timedelta(days=90)
    if start > end:
        raise Invalid("'from' must not be after 'to'.", field="from")
    if (end - start).days > MAX_HISTORY_DAYS:
        raise Invalid(f"Ask for at most {MAX_HISTORY_DAYS} days at a time.", field="from")
    past_end = min(end, today - timedelta(days=1))
    if ids is None:
        kind, key = (
            ("ward", where.area.ward)
            if where.area.ward
            else ("province", where.area.province)
            if where.area.province
            else ("all", "")
        )
        rows = await history_q.area_series(conn, kind, key or "", start, past_end)
    else:
        rows = await reads.snapshot_series(conn, ids, start, past_end, where.area)
    points = [
        s.HistoryPoint(
            date=r.day,
            markets=r.markets,
            active_stalls=r.counts.active_stalls,
            levels=levels_out(r.counts),
            status=r.status if market_id is not None else None,
            statuses=s.StatusCounts(**r.statuses),
        )
        for r in rows
    ]
    if start <= today <= end:
        markets, counts, statuses = await reads.sum_market_counters(conn, ids, where.area)
        single = [st for st in STATUS_NAMES if statuses[st]]
        points.append(
            s.HistoryPoint(
                date=today,
                markets=markets,
                active_stalls=counts.active_stalls,
                levels=levels_out(counts),
                status=single[0] if market_id is not None and single else None,
                statuses=s.StatusCounts(**statuses),
                live=True,
            )
        )
    return s.CoverageHistory.model_validate(
        {
            "market_id": market_id,
            "province": where.province,
            "ward": where.ward,
            "from": start,
            "to": end,
            "points": points,
        }
    )


async def ranking_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    ward_code: str | None,
    status: s.Status | None,
    province: str | None = None,
) -> s.Ranking:
    """Markets in scope ranked by how close they are to the rule, with what each still needs.

    One read of every market's counters: markets that miss the rule come first, fewest stalls
    needed first (ties: the larger share of the hardest level first); then markets without
    active stalls (everything is still to do); then markets that meet it.
    """
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    rule = await rule_q.current_rule(conn)
    where = await area_filter(conn, province=province, ward=None)
    groups = await reads.market_groups(conn, await access.market_scope(conn, user), where.area)
    ranked = []
    for g in groups:
        if ward_code is not None and g.ward_code != ward_code:
            continue
        if status is not None and g.status != status:
            continue
        progress = progress_out(g.counts, rule.thresholds)
        met = g.counts.active_stalls > 0 and all(p.met for p in progress)
        needed = sum(p.stalls_needed for p in progress)
        worst = min((p.share / p.threshold for p in progress if p.threshold > 0), default=1.0)
        tier = 2 if met else (1 if g.counts.active_stalls == 0 else 0)
        ranked.append(((tier, needed, -worst, g.name or "", int(g.key)), g, progress, needed, met))
    ranked.sort(key=lambda r: r[0])
    return s.Ranking(
        rule_version=rule.version,
        thresholds=rule.thresholds,
        markets=[
            s.MarketRank(
                rank=n,
                market_id=int(g.key),
                name=g.name or "",
                ward_code=g.ward_code,
                ward_name=g.ward_name,
                status=g.status or "not_started",
                active_stalls=g.counts.active_stalls,
                progress=progress,
                stalls_needed=needed,
                rule_met=met,
            )
            for n, (_, g, progress, needed, met) in enumerate(ranked, start=1)
        ],
    )


async def return_visits(
    conn: asyncpg.Connection, market_ids: list[int]
) -> list[s.MarketReturnVisits]:
    """The stalls to visit again in each of these markets (the caller checked the scope)."""
    out: dict[int, s.MarketReturnVisits] = {}
    for r in await reads.return_visits(conn, market_ids):
        market = out.setdefault(
            r.market_id,
            s.MarketReturnVisits(
                market_id=r.market_id, name=r.market_name, ward_name=r.ward_name, visits=[]
            ),
        )
        if r.stall_id is not None:
            market.visits.append(
                s.ReturnVisit(
                    stall_id=r.stall_id,
                    stall_code=r.stall_code or "",
                    zone=r.zone or "",
                    reason=r.reason,
                    since=r.since,
                )
            )
    return list(out.values())


async def return_visits_for(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> s.MarketReturnVisits:
    """A market's stalls flagged for a return visit (stall, reason, since when), in scope."""
    await readable_market(conn, user, market_id)
    return (await return_visits(conn, [market_id]))[0]
