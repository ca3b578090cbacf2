"""Who sees and manages which team: admins all; managers those of their wards and markets; a
volunteer their own team."""

from __future__ import annotations

import asyncpg

from core.errors import Forbidden
from core.types import User
from teams import errors, queries

MANAGING_ROLES = frozenset({"admin", "manager"})


async def visible_team_ids(conn: asyncpg.Connection, user: User) -> list[int] | None:
    """Teams the user may read; None means every team."""
    if user.role == "admin":
        return None
    if user.role == "manager":
        managed = await queries.managed_scope(conn, user.id)
        return await queries.teams_in(
            conn, market_ids=managed.market_ids, ward_codes=managed.ward_codes
        )
    if user.role == "volunteer":
        mine = await queries.current_team(conn, user.id)
        return [mine[0]] if mine else []
    raise Forbidden("Your role does not work in teams.")


async def managed(conn: asyncpg.Connection, user: User) -> queries.ManagedScope | None:
    """What a manager manages; None for admins (everything); 403 for other roles."""
    if user.role == "admin":
        return None
    if user.role != "manager":
        raise Forbidden("Only administrators and managers manage teams.")
    return await queries.managed_scope(conn, user.id)


def require_ward(scope: queries.ManagedScope | None, ward_code: str) -> None:
    """403 unless the manager manages this ward."""
    if scope is not None and ward_code not in scope.ward_codes:
        raise errors.OutOfScope(
            f"Ward {ward_code} is not one you manage.", field="ward_code", ward_code=ward_code
        )


def require_markets(scope: queries.ManagedScope | None, market_ids: set[int]) -> None:
    """403 unless the manager manages every one of these markets."""
    if scope is None:
        return
    outside = sorted(market_ids - set(scope.market_ids))
    if outside:
        raise errors.OutOfScope(
            f"Markets {outside} are not ones you manage.", field="market_ids", market_ids=outside
        )


def manages_team(scope: queries.ManagedScope | None, place: queries.TeamPlace) -> bool:
    """Whether the manager (None: an admin) manages this team: its ward or one of its markets."""
    if scope is None:
        return True
    return place.ward_code in scope.ward_codes or bool(
        set(place.market_ids) & set(scope.market_ids)
    )
