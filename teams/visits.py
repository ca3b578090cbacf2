"""A team's printable return-visit list: the flagged stalls of its markets."""

from __future__ import annotations

import asyncpg

from core import access
from core.types import User
from coverage import reads
from teams import roster, schemas


async def team_return_visits(
    conn: asyncpg.Connection, *, user: User, team_id: int
) -> schemas.TeamReturnVisits:
    """The stalls to visit again in the team's markets (those the caller may see)."""
    team = await roster.get_team(conn, user=user, team_id=team_id)
    scope = await access.market_scope(conn, user)
    market_ids = [m.id for m in team.markets if scope is None or m.id in scope]
    markets = await reads.return_visits(conn, market_ids) if market_ids else []
    return schemas.TeamReturnVisits(team_id=team.id, team_name=team.name, markets=markets)
