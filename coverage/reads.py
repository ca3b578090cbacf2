"""What dashboards and the map read: a market's numbers, rollups, GeoJSON, stall tiles, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg

from core import access
from core.errors import Forbidden, Invalid
from core.types import User
from coverage import schemas as s
from coverage.levels import highest_level, local_day
from coverage.queries import counters as q
from coverage.queries import reads
from coverage.queries.counters import Counts
from coverage.scope import readable_market
from coverage.shapes import group_out, levels_out, progress_out, share


async def market_coverage_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, window_days: int
) -> s.MarketCoverage:
    """A market's numbers, status, progress toward the rule and per-zone numbers."""
    await readable_market(conn, user, market_id)
    counters = await reads.market_counters(conn, market_id)
    assert counters is not None
    rule = await q.current_rule(conn)
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


async def coverage_rollup_for(
    conn: asyncpg.Connection, *, user: User, group_by: s.GroupBy
) -> s.CoverageRollup:
    """Numbers rolled up by market, ward, legacy district, province or partner, within scope.

    Areas are summed from their markets' counters (every market in scope), partners from their
    per-market counters. Partner users see their own partner group only.
    """
    rule = await q.current_rule(conn)
    if user.role == "partner":
        code = await reads.partner_code_of(conn, user.id)
        if group_by != "partner":
            raise Forbidden("Partner accounts see the partner grouping only: use group_by=partner.")
        groups = await reads.partner_groups(conn, None, only_key=code) if code else []
    elif user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    else:
        scope = await access.market_scope(conn, user)
        if group_by == "market":
            groups = await reads.market_groups(conn, scope)
        elif group_by == "partner":
            groups = await reads.partner_groups(conn, scope)
        else:
            groups = await reads.area_groups(conn, group_by, scope)
    total = None
    if group_by != "partner":
        counts = sum((g.counts for g in groups), Counts())
        statuses = {st: sum((g.statuses or {}).get(st, 0) for g in groups) for st in q.STATUSES}
        total = group_out(
            q.GroupRow(
                key="",
                name=None,
                markets=sum(g.markets or 0 for g in groups),
                counts=counts,
                statuses=statuses,
            )
        )
    return s.CoverageRollup(
        group_by=group_by,
        groups=[group_out(g) for g in groups],
        total=total,
        rule_version=rule.version,
        thresholds=rule.thresholds,
    )


async def markets_geojson_for(conn: asyncpg.Connection, *, user: User) -> s.MarketFeatureCollection:
    """Markets in scope as GeoJSON points with flat properties (status, counts, shares)."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    rows = await reads.market_groups(conn, await access.market_scope(conn, user))
    features = []
    for g in rows:
        c = g.counts
        features.append(
            s.MarketFeature(
                id=int(g.key),
                geometry=s.Point(coordinates=(g.lon, g.lat))
                if g.lat is not None and g.lon is not None
                else None,
                properties=s.MarketProperties(
                    id=int(g.key),
                    name=g.name or "",
                    ward_code=g.ward_code,
                    ward=g.ward_name,
                    legacy_district=g.legacy_district,
                    status=g.status or "not_started",
                    active_stalls=c.active_stalls,
                    qr_issued=c.qr_issued,
                    qr_verified=c.qr_verified,
                    transacting=c.transacting,
                    fees_cashless=c.fees_cashless,
                    qr_issued_share=share(c.qr_issued, c.active_stalls),
                    qr_verified_share=share(c.qr_verified, c.active_stalls),
                    transacting_share=share(c.transacting, c.active_stalls),
                    fees_cashless_share=share(c.fees_cashless, c.active_stalls),
                ),
            )
        )
    return s.MarketFeatureCollection(features=features)


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
) -> s.CoverageHistory:
    """Daily series from snapshots (last value carried forward); today from the live counters."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
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
    rows = await reads.snapshot_series(conn, ids, start, min(end, today - timedelta(days=1)))
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
        markets, counts, statuses = await reads.sum_market_counters(conn, ids)
        single = [st for st in q.STATUS_NAMES if statuses[st]]
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
        {"market_id": market_id, "from": start, "to": end, "points": points}
    )


async def ranking_for(
    conn: asyncpg.Connection, *, user: User, ward_code: str | None, status: s.Status | None
) -> s.Ranking:
    """Markets in scope ranked by how close they are to the rule, with what each still needs.

    One read of every market's counters: markets that miss the rule come first, fewest stalls
    needed first (ties: the larger share of the hardest level first); then markets without
    active stalls (everything is still to do); then markets that meet it.
    """
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    rule = await q.current_rule(conn)
    groups = await reads.market_groups(conn, await access.market_scope(conn, user))
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
