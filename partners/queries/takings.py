"""SQL of a stall's takings: the payments partners reported for it, summed per Vietnamese day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

# Days are Vietnamese calendar days (UTC+7, no daylight saving), as in coverage snapshots; one
# moment (`now`) gives both today and the end of the window, so they never straddle midnight.
# A payment dated after now (a partner's clock ahead) counts once its time has come.
# The same transfer reported by two partners (a gateway such as payOS and the receiving bank)
# into the same account is counted once: of payments into one account with the same amount within
# two minutes from different partners, the first. Payments into different accounts, or reported by
# the same partner (its ids keep them apart), are always counted.
_TAKINGS = """
WITH t AS (
    SELECT clock_timestamp() AS now
), bounds AS (
    SELECT now, (now AT TIME ZONE INTERVAL '07:00')::date AS today FROM t
), counted AS (
    SELECT e.occurred_at, e.amount, e.partner_code
    FROM payment_event e, bounds b
    WHERE e.stall_id = $1 AND e.matched AND e.occurred_at <= b.now
      AND e.occurred_at >= (b.today - ($2::int - 1))::timestamp AT TIME ZONE INTERVAL '07:00'
      AND NOT EXISTS (
          SELECT 1 FROM payment_event o
          WHERE o.stall_id = e.stall_id AND o.matched
            AND o.payment_account_id = e.payment_account_id
            AND o.partner_code <> e.partner_code AND o.amount = e.amount
            AND o.occurred_at BETWEEN e.occurred_at - interval '2 minutes'
                                  AND e.occurred_at + interval '2 minutes'
            AND (o.occurred_at, o.id) < (e.occurred_at, e.id))
)
SELECT b.today, b.now AS as_of,
       (SELECT min(occurred_at) FROM payment_event
        WHERE stall_id = $1 AND matched AND occurred_at <= b.now) AS reported_since,
       (SELECT coalesce(array_agg(DISTINCT partner_code ORDER BY partner_code), '{}')
        FROM counted) AS partners,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(d.day, d.payments, d.amount) ORDER BY d.day),
                        '[]')
        FROM (SELECT (occurred_at AT TIME ZONE INTERVAL '07:00')::date AS day,
                     count(*) AS payments, sum(amount) AS amount
              FROM counted GROUP BY 1) d) AS by_day
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
    """Payments reported for the stall in the `days` days ending now, summed per day; and when
    the first payment a partner reported for it was made."""
    row = await conn.fetchrow(_TAKINGS, stall_id, days)
    assert row is not None
    return Takings(
        today=row["today"],
        as_of=row["as_of"],
        reported_since=row["reported_since"],
        partners=list(row["partners"]),
        by_day={date.fromisoformat(day): (int(n), int(amount)) for day, n, amount in row["by_day"]},
    )
