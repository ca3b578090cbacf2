"""SQL of a stall's takings: the payments partners reported for it, summed per Vietnamese day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

# Days are Vietnamese calendar days (UTC+7, no daylight saving), as in coverage snapshots.
_TAKINGS = """
WITH bounds AS (
    SELECT (clock_timestamp() AT TIME ZONE INTERVAL '07:00')::date AS today
)
SELECT b.today, clock_timestamp() AS as_of,
       (SELECT min(occurred_at) FROM payment_event WHERE stall_id = $1 AND matched)
           AS reported_since,
       (SELECT coalesce(array_agg(DISTINCT e.partner_code ORDER BY e.partner_code), '{}')
        FROM payment_event e
        WHERE e.stall_id = $1 AND e.matched
          AND e.occurred_at >= (b.today - ($2::int - 1))::timestamp AT TIME ZONE INTERVAL '07:00'
          AND e.occurred_at < (b.today + 1)::timestamp AT TIME ZONE INTERVAL '07:00')
           AS partners,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(d.day, d.payments, d.amount) ORDER BY d.day),
                        '[]')
        FROM (SELECT (e.occurred_at AT TIME ZONE INTERVAL '07:00')::date AS day,
                     count(*) AS payments, sum(e.amount) AS amount
              FROM payment_event e
              WHERE e.stall_id = $1 AND e.matched
                AND e.occurred_at
                    >= (b.today - ($2::int - 1))::timestamp AT TIME ZONE INTERVAL '07:00'
                AND e.occurred_at < (b.today + 1)::timestamp AT TIME ZONE INTERVAL '07:00'
              GROUP BY 1) d) AS by_day
FROM bounds b
"""


@dataclass(frozen=True)
class Takings:
    today: date
    as_of: datetime
    reported_since: datetime | None
    partners: list[str]
    by_day: dict[date, tuple[int, int]]  # day -> (payments, amount in đồng)


async def stall_takings(conn: asyncpg.Connection, *, stall_id: int, days: int) -> Takings:
    """Payments reported for the stall in the `days` days ending today, summed per day; and when
    a partner first reported one for it."""
    row = await conn.fetchrow(_TAKINGS, stall_id, days)
    assert row is not None
    return Takings(
        today=row["today"],
        as_of=row["as_of"],
        reported_since=row["reported_since"],
        partners=list(row["partners"]),
        by_day={date.fromisoformat(day): (int(n), int(amount)) for day, n, amount in row["by_day"]},
    )
