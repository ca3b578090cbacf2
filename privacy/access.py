"""Who reaches a person's data: the roles that collect consent or act on rights, and market scope."""

from __future__ import annotations

import asyncpg

from core import access
from core.errors import Forbidden
from core.types import User
from privacy import queries
from privacy.errors import StallholderNotFound

# Who may read and record consent (volunteers collect it), and who acts on data-subject rights.
CONSENT_ROLES = frozenset({"admin", "manager", "volunteer"})
RIGHTS_ROLES = frozenset({"admin", "manager"})


async def holder_in_scope(
    conn: asyncpg.Connection,
    user: User,
    holder_id: int,
    *,
    roles: frozenset[str],
    write: bool,
    for_update: bool = False,
) -> queries.HolderRow:
    """The person, if the caller's role and market scope reach them.

    Role first (403, reveals nothing); then existence (404); then scope: a person with no stall
    in the caller's markets is 404 for reads and writes alike (their existence is not revealed);
    a write to one with some stalls elsewhere is 403. A person is in scope when all their stalls
    are.
    """
    if user.role not in roles:
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}.")
    holder = await queries.get_holder(conn, holder_id, for_update=for_update)
    if holder is None:
        raise StallholderNotFound(f"No stallholder with id {holder_id}.")
    scope = await access.market_scope(conn, user)
    if scope is not None:
        markets = await queries.holder_market_ids(conn, holder_id)
        if not any(m in scope for m in markets):
            raise StallholderNotFound(f"No stallholder with id {holder_id}.")
        if write and not all(m in scope for m in markets):
            raise Forbidden("Some of this stallholder's stalls are in markets not assigned to you.")
    return holder
