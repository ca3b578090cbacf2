"""Signed-in sessions a worker keeps in memory, for the one route that writes the most.

Every request is signed in from the database (core.auth.current_user): a revoked token, a
deactivated user or a narrower scope take effect at once. Registration, the field work's hottest
route, may instead take the session a worker read earlier, because the statement that writes checks
it again, atomically (core.queries.SESSION_STILL_VALID): the token still live, the user active, and
nobody's rights changed since (the access epoch). When that check fails the statement writes
nothing and the route signs in from the database and runs again. A session from memory may only
let a request through: every refusal is decided on a fresh lookup (core.auth.confirm_session).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from core import queries
from core.types import User


def still_valid_part() -> str:
    """A statement part, true when the session the route took from memory may still act: no
    session given ($session_token NULL), or its token live, its user ($actor_id) active and the
    access epoch still $session_epoch (core.queries.SESSION_STILL_VALID)."""
    return queries.SESSION_STILL_VALID


@dataclass(frozen=True)
class SessionCheck:
    """What a writing statement checks for a session that was not read in this request."""

    token_hash: bytes
    epoch: int


@dataclass(frozen=True)
class Session:
    """The signed-in user and, when the user came from memory, what the statement must check."""

    user: User
    check: SessionCheck | None


class SessionCache:
    """The sessions read most recently (token hash -> user and access epoch), at most `size`."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[bytes, tuple[User, int]] = OrderedDict()

    def get(self, token_hash: bytes) -> tuple[User, int] | None:
        found = self._items.get(token_hash)
        if found is not None:
            self._items.move_to_end(token_hash)
        return found

    def put(self, token_hash: bytes, user: User, epoch: int) -> None:
        self._items[token_hash] = (user, epoch)
        self._items.move_to_end(token_hash)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def drop(self, token_hash: bytes) -> None:
        self._items.pop(token_hash, None)

    def __len__(self) -> int:
        return len(self._items)


class SessionChanged(Exception):
    """A writing statement found the session from memory changed (revoked, deactivated, or rights
    changed since it was read): it wrote nothing; sign in from the database and run it again."""
