"""Passwords (argon2), opaque bearer tokens, and the current-user dependency."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request

from core import queries
from core.db import get_conn, request_conn
from core.errors import AppError, Forbidden, Unauthorized
from core.sessions import Session, SessionChanged, SessionCheck
from core.state import state_of
from core.types import User

T = TypeVar("T")

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


def _invalid_token() -> Unauthorized:
    return Unauthorized("The token is invalid, expired or revoked; sign in again.")


def _not_field_work() -> Forbidden:
    return Forbidden(f"This needs one of the roles: {', '.join(FIELD_WORK_ROLES)}.")


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
        raise _invalid_token()
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
    """current_user with the FIELD_WORK check, as one dependency (where FIELD_WORK and CurrentUser
    are three: on a hot route each dependency FastAPI solves costs about a tenth of a millisecond);
    it too runs before the body is validated."""
    user = await current_user(request, conn)
    if user.role not in FIELD_WORK_ROLES:
        raise _not_field_work()
    return user


def _field_session(found: tuple[User, int] | None) -> tuple[User, int]:
    """A session read from the database, if it may do field work: else 401 or 403."""
    if found is None:
        raise _invalid_token()
    if found[0].role not in FIELD_WORK_ROLES:
        raise _not_field_work()
    return found


async def _fresh_field_session(request: Request, conn: asyncpg.Connection) -> tuple[Session, int]:
    """field_worker read from the database, kept in the worker's memory for the next registration;
    with the access epoch it was read at."""
    token = bearer_token(request)
    if token and not token.startswith(API_KEY_PREFIX):
        hashed = token_hash(token)
        user, epoch = _field_session(await queries.session_by_token(conn, hashed))
        request.state.user = user
        state_of(request.app).sessions.put(hashed, user, epoch)
        return Session(user, None), epoch
    return Session(await field_worker(request, conn), None), 0  # no token, or an API key


async def registering_worker(request: Request) -> Session:
    """field_worker for registration, from the worker's memory when it read this session before
    (core.sessions): the statement that writes checks it again (Session.check). A request refused
    before the route runs (a body that fails validation) has it confirmed first (confirm_session),
    so it gets the 401 or 403 a fresh lookup gives; the route does the same for its own refusals
    (as_session). It takes no connection unless it reads the session (the route takes its own:
    core.db.request_conn)."""
    token = bearer_token(request)
    if token and not token.startswith(API_KEY_PREFIX):
        hashed = token_hash(token)
        known = state_of(request.app).sessions.get(hashed)
        if known is not None and known[0].role in FIELD_WORK_ROLES:
            user, epoch = known
            request.state.user = user
            request.state.session_to_confirm = hashed
            return Session(user, SessionCheck(hashed, epoch))
    async with request_conn(request) as conn:
        session, _ = await _fresh_field_session(request, conn)
    return session


async def as_session(
    request: Request,
    conn: asyncpg.Connection,
    session: Session,
    action: Callable[[User, SessionCheck | None], Awaitable[T]],
) -> T:
    """`action` as the session's user. A session from memory only ever lets it through: when the
    action is refused (an AppError) or its statement finds the session changed (SessionChanged),
    the session is read from the database (401/403 from there) and, if anything of it changed
    since it was kept, the action runs again as the fresh user; otherwise the refusal stands."""
    request.state.session_to_confirm = None  # the action's own refusals are decided here
    try:
        return await action(session.user, session.check)
    except (AppError, SessionChanged) as exc:
        if session.check is None:
            raise
        state_of(request.app).sessions.drop(session.check.token_hash)
        fresh, epoch = await _fresh_field_session(request, conn)
        if epoch == session.check.epoch and not isinstance(exc, SessionChanged):
            raise
        return await action(fresh.user, None)


async def confirm_session(request: Request) -> None:
    """Before a refusal the route did not decide is answered (a body that fails validation): a
    session taken from memory is read again, and a revoked token gets its 401 (a role that lost
    field work its 403), as it would have, had the session been read from the database first."""
    hashed = getattr(request.state, "session_to_confirm", None)
    if hashed is None:
        return
    request.state.session_to_confirm = None
    state_of(request.app).sessions.drop(hashed)
    async with request_conn(request) as conn:
        _field_session(await queries.session_by_token(conn, hashed))


RegisteringWorker = Annotated[Session, Depends(registering_worker)]
