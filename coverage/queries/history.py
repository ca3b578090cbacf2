"""SQL of the daily numbers per area (coverage_area_day): written by the job, read by the series."""

from __future__ import annotations

from datetime import date

import asyncpg

from coverage.queries.counts import STATUS_NAMES, STATUSES, Counts, SnapshotRow, Status

# Each area's sums of a day: every market's last snapshot on or before the day, in the area the
# market is in now (the area it was in that day, once the day is over and no longer rewritten);
# archived markets are left out, as coverage.queries.reads leaves them out of every read.
_WRITE = """
INSERT INTO coverage_area_day (kind, key, day, markets, active_stalls, qr_issued, qr_verified,
                               transacting, fees_cashless, not_started, in_progress, cashless,
                               lapsed)
SELECT CASE WHEN GROUPING(m.province_code) = 0 THEN 'province'
            WHEN GROUPING(m.ward_code) = 0 THEN 'ward' ELSE 'all' END,
       coalesce(CASE WHEN GROUPING(m.province_code) = 0 THEN m.province_code
                     WHEN GROUPING(m.ward_code) = 0 THEN m.ward_code END, ''),
       d.day, count(*), sum(x.active_stalls), sum(x.qr_issued), sum(x.qr_verified),
       sum(x.transacting), sum(x.fees_cashless),
       count(*) FILTER (WHERE x.status = 'not_started'),
       count(*) FILTER (WHERE x.status = 'in_progress'),
       count(*) FILTER (WHERE x.status = 'cashless'),
       count(*) FILTER (WHERE x.status = 'lapsed')
FROM unnest($1::date[]) AS d (day)
CROSS JOIN market m
JOIN LATERAL (SELECT s.active_stalls, s.qr_issued, s.qr_verified, s.transacting,
                     s.fees_cashless, s.status
              FROM coverage_snapshot s WHERE s.market_id = m.id AND s.day <= d.day
              ORDER BY s.day DESC LIMIT 1) x ON true
WHERE m.archived_at IS NULL
GROUP BY GROUPING SETS ((d.day), (d.day, m.province_code), (d.day, m.ward_code))
"""


async def write_area_days(conn: asyncpg.Connection, days: list[date]) -> None:
    """(Re)write the areas' numbers of these days from the markets' snapshots (in the caller's
    transaction: readers see the old rows or the new ones)."""
    await conn.execute("DELETE FROM coverage_area_day WHERE day = any($1::date[])", days)
    await conn.execute(_WRITE, days)


async def last_area_day(conn: asyncpg.Connection) -> date | None:
    """The latest day with the country's numbers written."""
    value: date | None = await conn.fetchval(
        "SELECT max(day) FROM coverage_area_day WHERE kind = 'all' AND key = ''"
    )
    return value


async def area_series(
    conn: asyncpg.Connection, kind: str, key: str, start: date, end: date
) -> list[SnapshotRow]:
    """An area's numbers from start to end, one row a day (the last written day carried forward);
    days before its first written day are left out."""
    rows = await conn.fetch(
        """SELECT d.day::date AS day, a.markets, a.active_stalls, a.qr_issued, a.qr_verified,
                  a.transacting, a.fees_cashless, a.not_started, a.in_progress, a.cashless,
                  a.lapsed
           FROM generate_series($3::date, $4::date, '1 day') AS d (day)
           JOIN LATERAL (SELECT * FROM coverage_area_day x
                         WHERE x.kind = $1 AND x.key = $2 AND x.day <= d.day
                         ORDER BY x.day DESC LIMIT 1) a ON true
           ORDER BY d.day""",
        kind,
        key,
        start,
        end,
    )
    return snapshot_rows(rows)


def snapshot_rows(rows: list[asyncpg.Record]) -> list[SnapshotRow]:
    """Daily rows (day, markets, the five counts, markets per status) as SnapshotRows; a day of
    one market carries that market's status."""
    out = []
    for r in rows:
        statuses = {s: int(r[s]) for s in STATUSES}
        single: list[Status] = [s for s in STATUS_NAMES if statuses[s]] if r["markets"] == 1 else []
        out.append(
            SnapshotRow(
                day=r["day"],
                counts=Counts.of(r),
                status=single[0] if single else None,
                markets=int(r["markets"]),
                statuses=statuses,
            )
        )
    return out
