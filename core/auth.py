"""Passwords (argon2), opaque bearer tokens, and the current-user dependency."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request

from core import queries
from core.db import get_conn
from core.errors import Forbidden, Unauthorized
from core.types import User

ROLES = ("admin", "manager", "volunteer", "partner", "viewer")
API_KEY_PREFIX = "cs_"  # API keys look like cs_<prefix>_<secret>; bearer tokens never do
_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check of a password against its hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> bytes:
    """What we store for a token: its SHA-256 (tokens are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).digest()


async def issue_token(conn: asyncpg.Connection, user: User, ttl_hours: float) -> str:
    """Create a bearer token for a user."""
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=ttl_hours)
    await queries.insert_token(
        conn, token_hash=token_hash(token), user_id=user.id, expires_at=expires
    )
    return token


def bearer_token(request: Request) -> str | None:
    """The bearer token (or X-API-Key) of a request, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    api_key = request.headers.get("x-api-key", "").strip()
    return api_key or None


async def current_user(
    request: Request, conn: Annotated[asyncpg.Connection, Depends(get_conn)]
) -> User:
    """The signed-in user; 401 when the token is missing, unknown, expired or revoked.

    Looked up on every request (revocation is immediate, workers share nothing), together with
    the user's market scope, which lives on this User object for this request only.
    """
    token = bearer_token(request)
    if not token:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")
    user = await queries.user_by_token(conn, token_hash(token))
    if user is None and token.startswith(API_KEY_PREFIX):
        user = await queries.user_by_api_key(conn, token_hash(token))
    if user is None:
        raise Unauthorized("The token is invalid, expired or revoked; sign in again.")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, User]]:
    """Dependency factory: the current user, if their role is one of `roles`."""

    async def _dep(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return user

    return _dep


def only(*roles: str) -> list[Any]:
    """`dependencies=only(...)` on a route: the role is checked before the body is validated, so a
    role that may never call the route gets 403 whatever it sends (scopes are the services' job)."""
    return [Depends(require_roles(*roles))]


# Roles that register and edit stalls and do field work (access.WRITE_ROLES).
FIELD_WORK_ROLES = ("admin", "manager", "volunteer")
FIELD_WORK = only(*FIELD_WORK_ROLES)


async def field_worker(
    request: Request, conn: Annotated[asyncpg.Connection, Depends(get_conn)]
) -> User:
    """current_user with the FIELD_WORK check, as one dependency (FieldWorker)."""
    user = await current_user(request, conn)
    if user.role not in FIELD_WORK_ROLES:
        raise Forbidden(f"This needs one of the roles: {', '.join(FIELD_WORK_ROLES)}.")
    return user


# The same check as a route's user parameter: one dependency where FIELD_WORK and CurrentUser
# are three (on a hot route, each dependency FastAPI solves per request costs about a tenth of a
# millisecond); it too runs before the body is validated.
FieldWorker = Annotated[User, Depends(field_worker)]
