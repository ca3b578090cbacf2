"""A stall's takings as partners reported them (users_want #25, "end-of-day totals"): how many
payments and how much money reached the stall's accounts each day, from the payment notifications
partners send (partners.payments). Nothing else is counted: cash, and payments no partner reported,
are not in these numbers, and a stall no partner ever reported a payment for has no days at all
(not a row of zeros). One transfer reported by two partners into the same account (a gateway and
the bank) counts once (partners/queries/takings.py).

The amounts are the stallholder's personal data: merchants.stalls.stall_takings_for reads them
like the stall record (scope, access log, nothing once the holder's data was erased).
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from partners import schemas
from partners.queries import takings as takings_q

MAX_DAYS = 31


async def stall_takings(
    conn: asyncpg.Connection, *, stall_id: int, days: int, erased: bool = False
) -> schemas.StallTakings:
    """The last `days` days (today so far included) of reported payments; `erased`: the holder's
    data was erased, and only the dates are answered."""
    found = await takings_q.stall_takings(conn, stall_id=stall_id, days=days)
    shown: list[schemas.TakingsDay] = []
    if found.reported_since is not None and not erased:
        day = max(
            found.today - timedelta(days=days - 1),
            (found.reported_since + timedelta(hours=7)).date(),  # its Vietnamese day
        )
        day = min(day, found.today)  # (reported_since is never after now; this only guards)
        while day <= found.today:
            payments, amount = found.by_day.get(day, (0, 0))
            shown.append(schemas.TakingsDay(day=day, payments=payments, amount=amount))
            day += timedelta(days=1)
    return schemas.StallTakings(
        stall_id=stall_id,
        today=found.today,
        as_of=found.as_of,
        holder_erased=erased,
        reported_since=None if erased else found.reported_since,
        partners=[] if erased else found.partners,
        days=shown,
    )
