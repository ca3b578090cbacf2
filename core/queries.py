"""SQL for users, tokens and the audit log (the cross-cutting tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core.types import ScopeFacts, User

_USER_COLS = "id, username, role, active, password_hash"


def _user(row: asyncpg.Record | None) -> User | None:
    return User(**dict(row)) if row else None


# The scope facts of the user `u` in a query: used by the sign-in lookups and market_scope.
_SCOPE_FACTS = """
       EXISTS (SELECT 1 FROM user_market WHERE user_id = u.id)
           OR EXISTS (SELECT 1 FROM user_ward WHERE user_id = u.id)
           OR EXISTS (SELECT 1 FROM user_province WHERE user_id = u.id) AS has_scope_rows,
       ARRAY(SELECT market_id FROM user_market WHERE user_id = u.id
             UNION
             SELECT m.id FROM market m JOIN user_ward w
               ON w.ward_scheme = m.ward_scheme AND w.ward_code = m.ward_code
             WHERE w.user_id = u.id
             UNION
             SELECT m.id FROM market m JOIN user_province p ON p.province_code = m.province_code
             WHERE p.user_id = u.id
             ORDER BY 1) AS market_ids"""


def works_in_market(user: str, market: str) -> str:
    """An SQL condition: the user (an id expression) has a scope row covering the market (a table
    alias of `market`): the market itself, its ward or its province. The same rule as
    _SCOPE_FACTS's market_ids, asked of one market (tests/core/test_access.py compares them)."""
    return f"""(EXISTS (SELECT 1 FROM user_market um WHERE um.user_id = {user}
                       AND um.market_id = {market}.id)
        OR EXISTS (SELECT 1 FROM user_ward uw WHERE uw.user_id = {user}
                   AND uw.ward_scheme = {market}.ward_scheme AND uw.ward_code = {market}.ward_code)
        OR EXISTS (SELECT 1 FROM user_province up WHERE up.user_id = {user}
                   AND up.province_code = {market}.province_code))"""


def _signed_in_user(row: asyncpg.Record | None) -> User | None:
    if row is None:
        return None
    facts = ScopeFacts(has_scope_rows=row["has_scope_rows"], market_ids=tuple(row["market_ids"]))
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        active=row["active"],
        scope_facts=facts,
    )


async def scope_facts(conn: asyncpg.Connection, user_id: int) -> ScopeFacts:
    """A user's scope rows and the markets they cover."""
    row = await conn.fetchrow(f"SELECT {_SCOPE_FACTS} FROM (SELECT $1::bigint AS id) u", user_id)
    return ScopeFacts(has_scope_rows=row["has_scope_rows"], market_ids=tuple(row["market_ids"]))


async def user_by_name(conn: asyncpg.Connection, username: str) -> User | None:
    """The user with this (lower-case) username."""
    row = await conn.fetchrow(f"SELECT {_USER_COLS} FROM app_user WHERE username = $1", username)
    return _user(row)


async def user_by_id(conn: asyncpg.Connection, user_id: int) -> User | None:
    """The user with this id."""
    row = await conn.fetchrow(f"SELECT {_USER_COLS} FROM app_user WHERE id = $1", user_id)
    return _user(row)


async def insert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password_hash: str,
    role: str,
    active: bool = True,
    partner_code: str | None = None,
) -> User:
    """Create a user; raises UniqueViolationError (app_user_username_key) on a taken name."""
    row = await conn.fetchrow(
        "INSERT INTO app_user (username, password_hash, role, active, partner_code) "
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {_USER_COLS}",
        username,
        password_hash,
        role,
        active,
        partner_code,
    )
    user = _user(row)
    assert user is not None
    return user


async def insert_token(
    conn: asyncpg.Connection, *, token_hash: bytes, user_id: int, expires_at: datetime
) -> None:
    """Store a new bearer token's hash."""
    await conn.execute(
        "INSERT INTO auth_token (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        user_id,
        expires_at,
    )


# A live token of an active user: the one rule, for the sign-in lookup and SESSION_STILL_VALID.
_LIVE_TOKEN = """auth_token t JOIN app_user u ON u.id = t.user_id
    WHERE t.token_hash = $token_hash AND t.revoked_at IS NULL
      AND t.expires_at > clock_timestamp() AND u.active"""

_USER_BY_TOKEN = (
    f"SELECT u.id, u.username, u.role, u.active, (SELECT n FROM access_epoch) AS access_epoch, "
    f"{_SCOPE_FACTS} FROM {_LIVE_TOKEN}"
).replace("$token_hash", "$1")

# Part of a statement that writes on behalf of a session read earlier from a worker's memory
# (core.sessions): true when no such session is given ($session_token NULL: read in this request),
# or when its token is still live, its user active and who may do what unchanged since it was read
# (access_epoch, raised by every change to the rows of _SCOPE_FACTS: migration 0016).
SESSION_STILL_VALID = f"""($session_token::bytea IS NULL OR EXISTS (
    SELECT 1 FROM {_LIVE_TOKEN.replace("$token_hash", "$session_token")}
      AND u.id = $actor_id AND (SELECT n FROM access_epoch) = $session_epoch))"""


async def session_by_token(conn: asyncpg.Connection, token_hash: bytes) -> tuple[User, int] | None:
    """The active user owning a live (unexpired, unrevoked) token, with their scope facts, and the
    access epoch they were read at (SESSION_STILL_VALID).

    One round trip answers both "who is this" and "where may they work" for the request.
    """
    row = await conn.fetchrow(_USER_BY_TOKEN, token_hash)
    user = _signed_in_user(row)
    return None if user is None or row is None else (user, row["access_epoch"])


async def user_by_token(conn: asyncpg.Connection, token_hash: bytes) -> User | None:
    """The active user owning a live token, with their scope facts (session_by_token)."""
    session = await session_by_token(conn, token_hash)
    return session[0] if session else None


async def revoke_token(conn: asyncpg.Connection, token_hash: bytes) -> None:
    """Revoke one token."""
    await conn.execute(
        "UPDATE auth_token SET revoked_at = clock_timestamp() WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash,
    )


async def revoke_user_tokens(
    conn: asyncpg.Connection, user_id: int, *, keep: bytes | None = None
) -> None:
    """Revoke every live token of a user (except the one whose hash is `keep`)."""
    await conn.execute(
        "UPDATE auth_token SET revoked_at = clock_timestamp() "
        "WHERE user_id = $1 AND revoked_at IS NULL AND token_hash IS DISTINCT FROM $2",
        user_id,
        keep,
    )


async def insert_audit(
    conn: asyncpg.Connection,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: Any,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit entry (who, what, before and after)."""
    await conn.execute(
        "INSERT INTO audit_log (actor_id, action, entity, entity_id, before, after) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        actor_id,
        action,
        entity,
        None if entity_id is None else str(entity_id),
        before,
        after,
    )


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str | None  # display name, else username; None: the system (or a seeded row)
    actor_username: str | None
    action: str
    entity: str
    entity_id: str | None
    entity_label: str | None
    status_from: str | None
    status_to: str | None


# How the audit log names core's own records (a user by the name people see).
AUDIT_NAMES = {
    "user": "(SELECT coalesce(nullif(display_name, ''), username) FROM app_user WHERE id = {id})"
}


def _label_case(labels: dict[str, str]) -> str:
    """CASE over a.entity naming the record with each package's registered expression; only for
    a numeric id (other ids name nothing)."""
    if not labels:
        return "NULL::text"
    whens = "\n".join(
        f"WHEN '{entity}' THEN ({expr.format(id='a.entity_id::bigint')})"
        for entity, expr in sorted(labels.items())
    )
    return f"""CASE WHEN a.entity_id ~ '^[0-9]{{1,18}}$' THEN CASE a.entity
                {whens}
                END END"""


# A status change (an onboarding's, a stall's ...) names its two statuses: codes of a fixed list,
# never personal data; an edit that kept the status names none. Anything else in before/after
# stays on the record's own page.
_STATUS_OF = """CASE WHEN jsonb_typeof(a.before -> 'status') = 'string'
                      AND jsonb_typeof(a.after -> 'status') = 'string'
                      AND a.before ->> 'status' ~ '^[a-z_]{{1,40}}$'
                      AND a.after ->> 'status' ~ '^[a-z_]{{1,40}}$'
                      AND a.before ->> 'status' <> a.after ->> 'status'
                 THEN a.{side} ->> 'status'
                 -- A user locked or unlocked: the log said only "Sửa".
                 WHEN a.entity = 'user' AND jsonb_typeof(a.before -> 'active') = 'boolean'
                      AND jsonb_typeof(a.after -> 'active') = 'boolean'
                      AND a.before -> 'active' <> a.after -> 'active'
                 THEN CASE WHEN (a.{side} ->> 'active')::boolean THEN 'active' ELSE 'inactive' END
            END"""


async def audit_entries(
    conn: asyncpg.Connection,
    *,
    entity: str | None,
    entity_id: str | None,
    action: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    before_id: int | None,
    limit: int,
    labels: dict[str, str],
) -> list[AuditRow]:
    """Audit entries newest first (by time, then id: audit_log_at_idx), after the entry
    `before_id` in that order, filtered; what was done, not the before/after values (those hold
    masked personal data: each record's own page shows them to those who may see it)."""
    rows = await conn.fetch(
        f"""SELECT a.id, a.at, coalesce(nullif(u.display_name, ''), u.username) AS actor,
                  u.username AS actor_username, a.action, a.entity, a.entity_id,
                  {_label_case(labels)} AS entity_label,
                  {_STATUS_OF.format(side="before")} AS status_from,
                  {_STATUS_OF.format(side="after")} AS status_to
           FROM audit_log a LEFT JOIN app_user u ON u.id = a.actor_id
           WHERE ($1::text IS NULL OR a.entity = $1)
             AND ($2::text IS NULL OR a.entity_id = $2)
             AND ($3::text IS NULL OR a.action = $3)
             AND ($4::text IS NULL
                  OR a.actor_id = (SELECT id FROM app_user WHERE username = $4))
             AND ($5::timestamptz IS NULL OR a.at >= $5)
             AND ($6::timestamptz IS NULL OR a.at < $6)
             AND ($7::bigint IS NULL
                  OR (a.at, a.id) < (SELECT b.at, b.id FROM audit_log b WHERE b.id = $7))
           ORDER BY a.at DESC, a.id DESC LIMIT $8""",
        entity,
        entity_id,
        action,
        actor,
        since,
        until,
        before_id,
        limit,
    )
    return [AuditRow(**dict(r)) for r in rows]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor_id: int | None
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    at: datetime


async def audit_for(conn: asyncpg.Connection, entity: str, entity_id: Any) -> list[AuditEntry]:
    """Audit entries for one entity, oldest first."""
    rows = await conn.fetch(
        "SELECT id, actor_id, action, entity, entity_id, before, after, at FROM audit_log "
        "WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        entity,
        str(entity_id),
    )
    return [AuditEntry(**dict(r)) for r in rows]


# ---------------------------------------------------------------- scopes, API keys, sign-in throttling


@dataclass(frozen=True)
class UserDetail:
    id: int
    username: str
    role: str
    active: bool
    partner_code: str | None
    market_ids: list[int]
    ward_codes: list[str]
    province_codes: list[str]
    display_name: str | None
    phone: str | None
    created_at: datetime
    leads_team: bool


_USER_DETAIL = """
SELECT u.id, u.username, u.role, u.active, u.partner_code, u.created_at, u.display_name, u.phone,
       EXISTS (SELECT 1 FROM team WHERE leader_id = u.id) AS leads_team,
       coalesce((SELECT array_agg(market_id ORDER BY market_id) FROM user_market
                 WHERE user_id = u.id AND team_id IS NULL), '{}') AS market_ids,
       coalesce((SELECT array_agg(ward_code ORDER BY ward_code) FROM user_ward WHERE user_id = u.id), '{}')
           AS ward_codes,
       coalesce((SELECT array_agg(province_code ORDER BY province_code) FROM user_province
                 WHERE user_id = u.id), '{}') AS province_codes
FROM app_user u
"""


async def user_detail(conn: asyncpg.Connection, user_id: int) -> UserDetail | None:
    """A user with their scopes."""
    row = await conn.fetchrow(_USER_DETAIL + " WHERE u.id = $1", user_id)
    return UserDetail(**dict(row)) if row else None


async def list_user_details(conn: asyncpg.Connection) -> list[UserDetail]:
    """Every user with their scopes."""
    rows = await conn.fetch(_USER_DETAIL + " ORDER BY u.username")
    return [UserDetail(**dict(r)) for r in rows]


async def update_user(
    conn: asyncpg.Connection, *, user_id: int, role: str, active: bool, partner_code: str | None
) -> None:
    """Write a user's role, active flag and partner."""
    await conn.execute(
        "UPDATE app_user SET role = $2, active = $3, partner_code = $4, updated_at = clock_timestamp() "
        "WHERE id = $1",
        user_id,
        role,
        active,
        partner_code,
    )


async def partner_registered(conn: asyncpg.Connection, code: str) -> bool:
    """Whether the partner registry (table partner) has this code."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM partner WHERE code = $1)", code))


async def set_contact(
    conn: asyncpg.Connection, *, user_id: int, display_name: str | None, phone: str | None
) -> None:
    """Write who a user is: display name and phone (E.164)."""
    await conn.execute(
        "UPDATE app_user SET display_name = $2, phone = $3, updated_at = clock_timestamp() "
        "WHERE id = $1",
        user_id,
        display_name,
        phone,
    )


async def set_password(conn: asyncpg.Connection, *, user_id: int, password_hash: str) -> None:
    """Replace a user's password hash."""
    await conn.execute(
        "UPDATE app_user SET password_hash = $2, updated_at = clock_timestamp() WHERE id = $1",
        user_id,
        password_hash,
    )


async def set_scopes(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    market_ids: list[int],
    ward_codes: list[str],
    province_codes: list[str] | None = None,
) -> None:
    """Replace a user's market, ward and province scopes (None leaves the provinces as they are;
    the markets their team gives them stay)."""
    await conn.execute("DELETE FROM user_market WHERE user_id = $1 AND team_id IS NULL", user_id)
    await conn.execute("DELETE FROM user_ward WHERE user_id = $1", user_id)
    if province_codes is not None:
        await conn.execute("DELETE FROM user_province WHERE user_id = $1", user_id)
        await conn.execute(
            "INSERT INTO user_province (user_id, province_code) SELECT $1, unnest($2::text[])",
            user_id,
            province_codes,
        )
    await conn.execute(
        "INSERT INTO user_market (user_id, market_id) SELECT $1, unnest($2::bigint[])",
        user_id,
        market_ids,
    )
    await conn.execute(
        "INSERT INTO user_ward (user_id, ward_code) SELECT $1, unnest($2::text[])",
        user_id,
        ward_codes,
    )


async def missing_markets(conn: asyncpg.Connection, ids: list[int]) -> list[int]:
    """Which of these market ids do not exist."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM market WHERE id = x)",
        ids,
    )
    return [int(r["x"]) for r in rows]


async def missing_wards(conn: asyncpg.Connection, codes: list[str]) -> list[str]:
    """Which of these (current-scheme) ward codes are unknown."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::text[]) x WHERE NOT EXISTS "
        "(SELECT 1 FROM admin_unit WHERE scheme = '2025-07' AND code = x)",
        codes,
    )
    return [str(r["x"]) for r in rows]


async def missing_provinces(conn: asyncpg.Connection, codes: list[str]) -> list[str]:
    """Which of these (current-scheme) province codes are unknown."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::text[]) x WHERE NOT EXISTS "
        "(SELECT 1 FROM admin_unit WHERE scheme = '2025-07' AND level = 'province' AND code = x)",
        codes,
    )
    return [str(r["x"]) for r in rows]


async def insert_api_key(
    conn: asyncpg.Connection, *, user_id: int, prefix: str, key_hash: bytes, label: str | None
) -> int:
    """Store an API key's hash; returns its id."""
    return int(
        await conn.fetchval(
            "INSERT INTO api_key (user_id, prefix, key_hash, label) VALUES ($1, $2, $3, $4) RETURNING id",
            user_id,
            prefix,
            key_hash,
            label,
        )
    )


async def user_by_api_key(conn: asyncpg.Connection, key_hash: bytes) -> User | None:
    """The active user owning an unrevoked API key."""
    row = await conn.fetchrow(
        f"""SELECT u.id, u.username, u.role, u.active, {_SCOPE_FACTS}
           FROM api_key k JOIN app_user u ON u.id = k.user_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.active""",
        key_hash,
    )
    return _signed_in_user(row)


async def revoke_api_key(conn: asyncpg.Connection, *, user_id: int, key_id: int) -> bool:
    """Revoke one API key of a user; False when there is no such live key."""
    done = await conn.fetchval(
        "UPDATE api_key SET revoked_at = clock_timestamp() WHERE id = $1 AND user_id = $2 "
        "AND revoked_at IS NULL RETURNING id",
        key_id,
        user_id,
    )
    return done is not None


async def revoke_user_api_keys(conn: asyncpg.Connection, user_id: int) -> list[int]:
    """Revoke every live API key of a user; the ids revoked."""
    rows = await conn.fetch(
        "UPDATE api_key SET revoked_at = clock_timestamp() WHERE user_id = $1 AND revoked_at IS NULL "
        "RETURNING id",
        user_id,
    )
    return sorted(int(r["id"]) for r in rows)


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    prefix: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


async def list_api_keys(conn: asyncpg.Connection, user_id: int) -> list[ApiKeyInfo]:
    """A user's API keys (never the keys themselves)."""
    rows = await conn.fetch(
        "SELECT id, prefix, label, created_at, revoked_at FROM api_key WHERE user_id = $1 ORDER BY id",
        user_id,
    )
    return [ApiKeyInfo(**dict(r)) for r in rows]


@dataclass(frozen=True)
class LoginAttempt:
    number: int  # this attempt's number in the current window (earlier failures + 1)
    locked_for: float  # seconds the key stays locked; 0 when it is not locked


async def claim_login_attempt(
    conn: asyncpg.Connection, *, attempt_key: str, window_seconds: int
) -> LoginAttempt:
    """Count an attempt before the password is checked, atomically (parallel guesses are counted too).

    A locked key is not counted again; an expired lock, or a first failure older than the window,
    starts a new window.
    """
    row = await conn.fetchrow(
        """INSERT INTO login_attempt AS a (attempt_key, failures) VALUES ($1, 1)
           ON CONFLICT (attempt_key) DO UPDATE SET
               failures = CASE
                   WHEN a.locked_until > clock_timestamp() THEN a.failures
                   WHEN a.locked_until IS NOT NULL
                        OR a.first_failed_at < clock_timestamp() - make_interval(secs => $2) THEN 1
                   ELSE a.failures + 1 END,
               first_failed_at = CASE
                   WHEN a.locked_until > clock_timestamp() THEN a.first_failed_at
                   WHEN a.locked_until IS NOT NULL
                        OR a.first_failed_at < clock_timestamp() - make_interval(secs => $2)
                       THEN clock_timestamp()
                   ELSE a.first_failed_at END,
               locked_until = CASE WHEN a.locked_until > clock_timestamp() THEN a.locked_until END
           RETURNING failures,
                     coalesce(greatest(0, extract(epoch FROM locked_until - clock_timestamp())), 0) AS wait""",
        attempt_key,
        float(window_seconds),
    )
    return LoginAttempt(number=int(row["failures"]), locked_for=float(row["wait"]))


async def lock_login(conn: asyncpg.Connection, *, attempt_key: str, lock_seconds: int) -> None:
    """Lock a (username, address) key for lock_seconds (bounded: the lock expires by itself)."""
    await conn.execute(
        "UPDATE login_attempt SET locked_until = clock_timestamp() + make_interval(secs => $2) "
        "WHERE attempt_key = $1 AND (locked_until IS NULL OR locked_until <= clock_timestamp())",
        attempt_key,
        float(lock_seconds),
    )


async def clear_login_failures(conn: asyncpg.Connection, attempt_key: str) -> None:
    """Forget failures after a successful sign-in."""
    await conn.execute("DELETE FROM login_attempt WHERE attempt_key = $1", attempt_key)


async def insert_access_many(
    conn: asyncpg.Connection, *, actor_id: int, stallholder_ids: list[int], route: str, reason: str
) -> None:
    """Record that a user read these people's data (one row each, one statement)."""
    await conn.execute(
        """INSERT INTO access_log (actor_id, stallholder_id, route, reason)
           SELECT $1, x, $3, $4 FROM unnest($2::bigint[]) AS x""",
        actor_id,
        stallholder_ids,
        route,
        reason,
    )


async def insert_access(
    conn: asyncpg.Connection, *, actor_id: int, stallholder_id: int, route: str, reason: str
) -> None:
    """Record that a user read a person's full record."""
    await conn.execute(
        "INSERT INTO access_log (actor_id, stallholder_id, route, reason) VALUES ($1, $2, $3, $4)",
        actor_id,
        stallholder_id,
        route,
        reason,
    )
