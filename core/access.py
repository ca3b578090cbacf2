"""Who may see and change what: roles and market/ward scopes (scopes are data, set by admins)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from core import queries
from core.errors import Forbidden
from core.types import User

# Roles that may read personal data of stallholders (names, full phone numbers).
PERSONAL_DATA_ROLES = frozenset({"admin", "manager", "volunteer"})
# Roles that may register and edit stalls.
WRITE_ROLES = frozenset({"admin", "manager", "volunteer"})
# Roles that see markets and coverage numbers.
READ_ROLES = frozenset({"admin", "manager", "volunteer", "viewer"})


async def market_scope(conn: asyncpg.Connection, user: User) -> list[int] | None:
    """Ids of the markets a user works in; None means every market (admins, city-wide viewers).

    The facts come with the sign-in lookup of this request (core.auth.current_user), so a scope
    check costs no round trip; a User made elsewhere asks the database.
    """
    if user.role == "admin":
        return None
    facts = user.scope_facts or await queries.scope_facts(conn, user.id)
    if user.role == "viewer" and not facts.has_scope_rows:
        return None
    return list(facts.market_ids)


def works_in_market_sql(user: str, market: str) -> str:
    """An SQL condition for other domains' queries: the user (an SQL id expression) has the market
    (a table alias of `market`) in their scope rows (what market_scope lists for field roles)."""
    return queries.works_in_market(user, market)


async def can_see_market(conn: asyncpg.Connection, user: User, market_id: int) -> bool:
    """Whether the market is in the user's scope (existence is checked by the caller)."""
    if user.role not in READ_ROLES:
        return False
    scope = await market_scope(conn, user)
    return scope is None or market_id in scope


async def require_market_write(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    """403 unless the user may register and edit stalls in this market."""
    await require_record_write(
        conn, user, market_id, Forbidden("This market is not assigned to you.")
    )


async def require_record_write(
    conn: asyncpg.Connection, user: User, market_id: int, hidden: Exception
) -> None:
    """403 unless the role may write; `hidden` unless this market is in the caller's scope. For a
    record (a stall, its accounts, its person) `hidden` is the record's own not-found, as a read
    answers (a 403 told the caller that a record they may not see exists); for a market itself,
    require_market_write's 403."""
    require_write_role(user)
    scope = await market_scope(conn, user)
    if scope is not None and market_id not in scope:
        raise hidden


def sees_personal_data(user: User) -> bool:
    """Whether a role may see stallholders' personal data."""
    return user.role in PERSONAL_DATA_ROLES


def require_personal_data_role(user: User) -> None:
    """403 unless the role may read personal data; checked before any lookup (reveals nothing)."""
    if user.role not in PERSONAL_DATA_ROLES:
        raise Forbidden("Your role does not give access to stallholders' personal data.")


def require_write_role(user: User) -> None:
    """403 unless the role may register and edit stalls (before any lookup)."""
    if user.role not in WRITE_ROLES:
        raise Forbidden("Your role cannot register or edit stalls.")


async def log_access_many(
    conn: asyncpg.Connection, *, user: User, stallholder_ids: Iterable[int | None], route: str,
    reason: str,
) -> None:  # fmt: skip
    """Record that a user read several people's data at once (a market's signs): one row per
    person, as log_access writes for one."""
    ids = sorted({i for i in stallholder_ids if i is not None})
    if ids:
        await queries.insert_access_many(
            conn, actor_id=user.id, stallholder_ids=ids, route=route, reason=reason
        )


async def log_access(
    conn: asyncpg.Connection, *, user: User, stallholder_id: int | None, route: str, reason: str
) -> None:
    """Record that a user read a person's full record."""
    if stallholder_id is None:
        return
    await queries.insert_access(
        conn, actor_id=user.id, stallholder_id=stallholder_id, route=route, reason=reason
    )
