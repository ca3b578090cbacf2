"""Sign-in, tokens, users, scopes and API keys: the use cases behind /api/auth and /api/users."""

from __future__ import annotations

import asyncio
import math
import re
import secrets
from datetime import datetime
from typing import Annotated, Literal

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from core import queries
from core.auth import API_KEY_PREFIX, ROLES, hash_password, issue_token, token_hash, verify_password
from core.errors import (
    AppError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from core.params import IdField
from core.settings import Settings
from core.types import Phone, User, fail, free_text

_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def _username(value: str) -> str:
    if not _USERNAME.fullmatch(value):
        raise fail(
            "invalid_username",
            "A username is 1-64 letters without diacritics, digits and . _ @ - (e.g. lan.hc).",
        )
    return value


Username = Annotated[
    str,
    Field(description="1-64 letters without diacritics, digits and . _ @ -."),
    AfterValidator(_username),
]
Role = Literal["admin", "manager", "volunteer", "partner", "viewer"]
WardCodes = list[Annotated[str, Field(pattern=r"^[0-9]{1,6}$")]]
ProvinceCodes = list[Annotated[str, Field(pattern=r"^[0-9]{1,2}$")]]


def _said(value: str) -> str:
    if not value:
        raise fail("invalid_display_name", "A display name is 1-100 characters.")
    return value


# Who the person (or, for a partner user, the system) is: "Nguyễn Thị Lan", "MB — kết nối API".
DisplayName = Annotated[
    str, Field(max_length=400), free_text(100, "invalid_display_name"), AfterValidator(_said)
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: str = Field(max_length=1024)
    role: Role
    display_name: DisplayName | None = None
    phone: Phone | None = Field(default=None, description="A Vietnamese phone number.")
    market_ids: list[IdField] = Field(default_factory=list, max_length=1000)
    ward_codes: WardCodes = Field(default_factory=list, max_length=200)
    province_codes: ProvinceCodes = Field(
        default_factory=list,
        max_length=34,
        description="Whole provinces (managers and viewers only): every market in them.",
    )
    partner_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] | None = None


class UserPatch(BaseModel):
    """Fields to change; absent ones stay (display_name and phone may be set to null)."""

    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    active: StrictBool | None = None
    display_name: DisplayName | None = None
    phone: Phone | None = None
    market_ids: list[IdField] | None = Field(default=None, max_length=1000)
    ward_codes: WardCodes | None = Field(default=None, max_length=200)
    province_codes: ProvinceCodes | None = Field(default=None, max_length=34)
    partner_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    display_name: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. +84905123456.")
    partner_code: str | None
    market_ids: list[int]
    ward_codes: list[str]
    province_codes: list[str] = Field(default_factory=list)
    created_at: datetime
    leads_team: bool = Field(
        default=False, description="Leads a community team (teams): their role stays the same."
    )


class PasswordReset(BaseModel):
    """A new password, shown only in this answer: hand it to the person, who changes it."""

    user_id: int
    password: str


def _label(value: str) -> str | None:
    """A key's label as shown in the list: trimmed; blank is no label (it showed as an empty one)."""
    return value.strip() or None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, Field(max_length=100), AfterValidator(_label)] | None = None


class ApiKeyOut(BaseModel):
    id: int
    prefix: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = None


class WeakPassword(Invalid):
    code, title = "weak_password", "Password too short"


class WrongPassword(Invalid):
    code, title = "wrong_password", "The current password is wrong"


class InvalidCredentials(Unauthorized):
    code, title = "invalid_credentials", "Wrong username or password"


class AccountDisabled(Forbidden):
    code, title = "account_disabled", "This account is deactivated"


class UsernameTaken(Conflict):
    code, title = "username_taken", "This username is taken"


class PartnerCodeRequired(Invalid):
    code, title = "partner_code_required", "A partner user needs a partner_code"


class UnknownPartner(Invalid):
    code, title = "unknown_partner", "Unknown partner code"


class PartnerCodeNotAllowed(Invalid):
    code, title = "partner_code_not_allowed", "Only partner users act for a partner"


class ProvinceScopeNotAllowed(Invalid):
    code, title = "province_scope_not_allowed", "Only managers and viewers cover whole provinces"


class ApiKeyNotAllowed(Invalid):
    code, title = "api_key_not_allowed", "API keys are for machine clients only"


# Roles that may hold long-lived API keys: machine clients that never see personal data.
API_KEY_ROLES = frozenset({"partner", "viewer"})
# Roles that may be scoped to a whole province (a city official, a provincial statistician).
PROVINCE_SCOPE_ROLES = frozenset({"manager", "viewer"})


async def _checked_partner_code(
    conn: asyncpg.Connection, role: str, partner_code: str | None
) -> str | None:
    """The partner code to store for a user: a partner user's names a registered partner (stored
    upper case, as the registry spells it); no other role carries one."""
    if role != "partner":
        if partner_code:
            raise PartnerCodeNotAllowed(
                f"Only partner users carry a partner_code, not {role} users.", field="partner_code"
            )
        return None
    if not partner_code:
        raise PartnerCodeRequired(
            "A partner user needs the partner_code it acts for.", field="partner_code"
        )
    code = partner_code.upper()
    if not await queries.partner_registered(conn, code):
        raise UnknownPartner(
            f"Unknown partner code {code}; GET /api/partners lists the codes.", field="partner_code"
        )
    return code


def check_password_rules(password: str, settings: Settings, *, field: str = "password") -> None:
    """Minimum length from settings, spaces not counted (ten spaces are no password); any length up
    to 1024 is accepted (no upper bound below 64)."""
    if len("".join(password.split())) < settings.password_min_length:
        raise WeakPassword(
            f"A password needs at least {settings.password_min_length} characters.",
            field=field,
            min_length=settings.password_min_length,
        )


# Failures count per (username, client address) until a sign-in succeeds or a quiet day passes.
_FAILURE_WINDOW_SECONDS = 24 * 3600


def _too_many(seconds: float) -> TooManyRequests:
    wait = max(1, math.ceil(seconds))
    return TooManyRequests(
        "Too many failed sign-ins. Wait a few minutes and try again.",
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


async def _claim_attempt(
    conn: asyncpg.Connection, attempt_key: str, settings: Settings
) -> queries.LoginAttempt:
    """Count a password attempt before the password is checked (parallel guesses cannot slip past
    the limit): 429 while the key is locked, and each failure past login_slowdown_after costs more
    time (bounded, so real users only wait briefly)."""
    attempt = await queries.claim_login_attempt(
        conn, attempt_key=attempt_key, window_seconds=_FAILURE_WINDOW_SECONDS
    )
    if attempt.locked_for > 0:
        raise _too_many(attempt.locked_for)
    if attempt.number > settings.login_max_failures:
        # Only reachable by guesses running in parallel with the one that hit the limit.
        await queries.lock_login(
            conn, attempt_key=attempt_key, lock_seconds=settings.login_lock_seconds
        )
        raise _too_many(settings.login_lock_seconds)
    earlier_failures = attempt.number - 1
    if earlier_failures >= settings.login_slowdown_after:
        await asyncio.sleep(
            min(0.25 * 2 ** (earlier_failures - settings.login_slowdown_after), 2.0)
        )
    return attempt


async def _count_failure(
    conn: asyncpg.Connection, attempt_key: str, attempt: queries.LoginAttempt, settings: Settings
) -> None:
    """A wrong password: the attempt that reaches login_max_failures locks the key (429)."""
    if attempt.number >= settings.login_max_failures:
        await queries.lock_login(
            conn, attempt_key=attempt_key, lock_seconds=settings.login_lock_seconds
        )
        raise _too_many(settings.login_lock_seconds)


async def sign_in(
    conn: asyncpg.Connection, *, username: str, password: str, client: str, settings: Settings
) -> str:
    """Check a password and issue a token; repeated failures are slowed, then locked for a while.

    The attempt is counted before the password is checked, so parallel guesses cannot slip past
    the limit; the lock is per (username, address) and expires, so nobody can lock a user out
    from everywhere, or for ever.
    """
    name = username.strip().lower()
    attempt_key = f"{name}|{client}"
    attempt = await _claim_attempt(conn, attempt_key, settings)
    user = await queries.user_by_name(conn, name) if len(name) <= 64 else None
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else "", password)
    if ok and user is not None and not user.active:
        # The right password of a deactivated account: say so (a wrong one still tells nothing).
        await queries.clear_login_failures(conn, attempt_key)
        raise AccountDisabled("This account is deactivated: ask an administrator to reactivate it.")
    if not ok or user is None:
        await _count_failure(conn, attempt_key, attempt, settings)
        raise InvalidCredentials("Wrong username or password.")
    await queries.clear_login_failures(conn, attempt_key)
    return await issue_token(conn, user, settings.token_ttl_hours)


async def sign_out(conn: asyncpg.Connection, token: str) -> None:
    """Revoke the token used for this request."""
    await queries.revoke_token(conn, token_hash(token))


def _province_codes(codes: list[str]) -> list[str]:
    """Province codes as the directory writes them ('1' -> '01'), distinct, sorted."""
    return sorted({c.zfill(2) for c in codes})


async def _validate_scopes(
    conn: asyncpg.Connection,
    market_ids: list[int],
    ward_codes: list[str],
    province_codes: list[str],
    *,
    role: str,
) -> None:
    missing = await queries.missing_markets(conn, market_ids)
    if missing:
        raise Invalid(f"Unknown market ids: {missing}.", field="market_ids")
    missing_w = await queries.missing_wards(conn, ward_codes)
    if missing_w:
        raise Invalid(f"Unknown ward codes: {missing_w}.", field="ward_codes")
    if province_codes and role not in PROVINCE_SCOPE_ROLES:
        raise ProvinceScopeNotAllowed(
            f"A {role} works in markets or wards; only managers and viewers cover whole provinces.",
            field="province_codes",
        )
    missing_p = await queries.missing_provinces(conn, province_codes)
    if missing_p:
        raise Invalid(f"Unknown province codes: {missing_p}.", field="province_codes")


async def create_user(
    conn: asyncpg.Connection, *, actor: User, body: UserCreate, settings: Settings
) -> UserOut:
    """Create a user with role and scopes (admins)."""
    check_password_rules(body.password, settings)
    partner_code = await _checked_partner_code(conn, body.role, body.partner_code)
    pw_hash = await asyncio.to_thread(hash_password, body.password)
    try:
        async with conn.transaction():
            provinces = _province_codes(body.province_codes)
            await _validate_scopes(
                conn, body.market_ids, body.ward_codes, provinces, role=body.role
            )
            user = await queries.insert_user(
                conn, username=body.username.lower(), password_hash=pw_hash, role=body.role
            )
            await queries.set_contact(
                conn, user_id=user.id, display_name=body.display_name, phone=body.phone
            )
            await queries.update_user(
                conn, user_id=user.id, role=body.role, active=True, partner_code=partner_code
            )
            await queries.set_scopes(
                conn,
                user_id=user.id,
                market_ids=sorted(set(body.market_ids)),
                ward_codes=sorted(set(body.ward_codes)),
                province_codes=provinces,
            )
            out = await _detail(conn, user.id)
            await queries.insert_audit(
                conn,
                actor_id=actor.id,
                action="create",
                entity="user",
                entity_id=user.id,
                after=out.model_dump(mode="json"),
            )
            return out
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "app_user_username_key":
            raise UsernameTaken(
                f"The username {body.username!r} is taken.", field="username"
            ) from None
        raise


async def _detail(conn: asyncpg.Connection, user_id: int) -> UserOut:
    detail = await queries.user_detail(conn, user_id)
    if detail is None:
        raise NotFound(f"No user with id {user_id}.")
    return UserOut(**detail.__dict__)


async def get_user(conn: asyncpg.Connection, user_id: int) -> UserOut:
    """One user with scopes."""
    return await _detail(conn, user_id)


async def list_users(conn: asyncpg.Connection) -> list[UserOut]:
    """Every user with scopes."""
    return [UserOut(**d.__dict__) for d in await queries.list_user_details(conn)]


async def update_user(
    conn: asyncpg.Connection, *, actor: User, user_id: int, patch: UserPatch
) -> UserOut:
    """Change role, scopes, partner or active flag; deactivating revokes every token."""
    async with conn.transaction():
        before = await _detail(conn, user_id)
        market_ids = (
            before.market_ids if patch.market_ids is None else sorted(set(patch.market_ids))
        )
        ward_codes = (
            before.ward_codes if patch.ward_codes is None else sorted(set(patch.ward_codes))
        )
        province_codes = (
            before.province_codes
            if patch.province_codes is None
            else _province_codes(patch.province_codes)
        )
        active = before.active if patch.active is None else patch.active
        fields = patch.model_dump(exclude_unset=True)
        role = patch.role or before.role
        await _validate_scopes(conn, market_ids, ward_codes, province_codes, role=role)
        if "partner_code" in fields:
            partner_code = patch.partner_code
        else:  # leaving the partner role drops the code: only partner users carry one
            partner_code = before.partner_code if role == "partner" else None
        partner_code = await _checked_partner_code(conn, role, partner_code)
        other_partner = (partner_code or "") != (before.partner_code or "").upper()
        await queries.update_user(
            conn, user_id=user_id, role=role, active=active, partner_code=partner_code
        )
        await queries.set_scopes(
            conn,
            user_id=user_id,
            market_ids=market_ids,
            ward_codes=ward_codes,
            province_codes=province_codes,
        )
        await queries.set_contact(
            conn,
            user_id=user_id,
            display_name=patch.display_name if "display_name" in fields else before.display_name,
            phone=patch.phone if "phone" in fields else before.phone,
        )
        if not active or role != before.role or other_partner:
            # Sessions end at once; API keys stop working too (they need an active user),
            # and a role change revokes keys the new role may not hold. Keys made for one
            # partner never act for another.
            await queries.revoke_user_tokens(conn, user_id)
            if (role != before.role and role not in API_KEY_ROLES) or other_partner:
                # Each key revoked is in the log, as one revoked by hand is (it went unsaid).
                for key_id in await queries.revoke_user_api_keys(conn, user_id):
                    await _key_revoked(
                        conn, actor=actor, user_id=user_id, key_id=key_id, reason="role_changed"
                    )
        after = await _detail(conn, user_id)
        await queries.insert_audit(
            conn,
            actor_id=actor.id,
            action="update",
            entity="user",
            entity_id=user_id,
            before=before.model_dump(mode="json"),
            after=after.model_dump(mode="json"),
        )
        return after


async def change_password(
    conn: asyncpg.Connection,
    *,
    user: User,
    body: PasswordChange,
    settings: Settings,
    keep_token: str | None,
) -> None:
    """Change one's own password (needs the current one; wrong ones are throttled like sign-ins:
    429 too_many_attempts); other sessions are signed out."""
    # Guessing the current password from a session left open is throttled as sign-ins are, per
    # user (the key cannot be a sign-in's: usernames hold no '#' or space).
    attempt_key = f"#password user:{user.id}"
    attempt = await _claim_attempt(conn, attempt_key, settings)
    full = await queries.user_by_id(conn, user.id)
    if full is None or not await asyncio.to_thread(
        verify_password, full.password_hash, body.current_password
    ):
        await _count_failure(conn, attempt_key, attempt, settings)
        raise WrongPassword("The current password is wrong.", field="current_password")
    await queries.clear_login_failures(conn, attempt_key)
    check_password_rules(body.new_password, settings, field="new_password")
    pw_hash = await asyncio.to_thread(hash_password, body.new_password)
    async with conn.transaction():
        await queries.set_password(conn, user_id=user.id, password_hash=pw_hash)
        await queries.revoke_user_tokens(
            conn, user.id, keep=token_hash(keep_token) if keep_token else None
        )
        await queries.insert_audit(
            conn, actor_id=user.id, action="change_password", entity="user", entity_id=user.id
        )


# Easy to read out and type: no 0/o, 1/l/i.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_password(settings: Settings) -> str:
    """A random password in groups of four ('k7mq-2xpa-h9rt'), at least the minimum length."""
    groups = max(3, math.ceil(settings.password_min_length / 4))
    return "-".join(
        "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(groups)
    )


async def reset_password(
    conn: asyncpg.Connection, *, actor: User, user_id: int, settings: Settings
) -> PasswordReset:
    """Give a user a new random password (admins), shown once; their sessions end."""
    if await queries.user_by_id(conn, user_id) is None:
        raise NotFound(f"No user with id {user_id}.")
    password = new_password(settings)
    pw_hash = await asyncio.to_thread(hash_password, password)
    async with conn.transaction():
        await queries.set_password(conn, user_id=user_id, password_hash=pw_hash)
        await queries.revoke_user_tokens(conn, user_id)
        await queries.insert_audit(
            conn, actor_id=actor.id, action="reset_password", entity="user", entity_id=user_id
        )
    return PasswordReset(user_id=user_id, password=password)


async def create_api_key(
    conn: asyncpg.Connection, *, actor: User, user_id: int, label: str | None
) -> ApiKeyOut:
    """A new API key for a (partner) user; the key is returned once and stored only as a hash."""
    target = await queries.user_by_id(conn, user_id)
    if target is None:
        raise NotFound(f"No user with id {user_id}.")
    if target.role not in API_KEY_ROLES:
        # A leaked long-lived key of a role that reads personal data would be the worst case.
        raise ApiKeyNotAllowed(
            f"API keys are for machine clients (roles {', '.join(sorted(API_KEY_ROLES))}), "
            f"not for {target.role} users."
        )
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    async with conn.transaction():
        key_id = await queries.insert_api_key(
            conn, user_id=user_id, prefix=prefix, key_hash=token_hash(key), label=label
        )
        await queries.insert_audit(
            conn,
            actor_id=actor.id,
            action="create_api_key",
            entity="user",
            entity_id=user_id,
            after={"api_key_id": key_id, "prefix": prefix},
        )
    info = next(k for k in await queries.list_api_keys(conn, user_id) if k.id == key_id)
    return ApiKeyOut(**info.__dict__, key=key)


async def revoke_api_key(
    conn: asyncpg.Connection, *, actor: User, user_id: int, key_id: int
) -> None:
    """Revoke an API key."""
    async with conn.transaction():
        if not await queries.revoke_api_key(conn, user_id=user_id, key_id=key_id):
            raise NotFound("No such live API key.")
        await _key_revoked(conn, actor=actor, user_id=user_id, key_id=key_id)


async def _key_revoked(
    conn: asyncpg.Connection, *, actor: User, user_id: int, key_id: int, reason: str | None = None
) -> None:
    """The audit entry of a revoked key (by hand, or with the `reason` a role change gives)."""
    await queries.insert_audit(
        conn,
        actor_id=actor.id,
        action="revoke_api_key",
        entity="user",
        entity_id=user_id,
        after={"api_key_id": key_id} | ({"reason": reason} if reason else {}),
    )


async def list_api_keys(conn: asyncpg.Connection, user_id: int) -> list[ApiKeyOut]:
    """A user's API keys without the secrets."""
    return [ApiKeyOut(**k.__dict__) for k in await queries.list_api_keys(conn, user_id)]


async def ensure_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    partner_code: str | None = None,
) -> tuple[User, bool]:
    """Create a user if the name is free (start-up bootstrap; a partner user with its partner's
    code); returns (user, created)."""
    existing = await queries.user_by_name(conn, username.lower())
    if existing is not None:
        return existing, False
    if role not in ROLES:
        raise AppError(f"unknown role {role}")
    pw_hash = await asyncio.to_thread(hash_password, password)
    try:
        return await queries.insert_user(
            conn,
            username=username.lower(),
            password_hash=pw_hash,
            role=role,
            partner_code=partner_code,
        ), True
    except asyncpg.UniqueViolationError:
        user = await queries.user_by_name(conn, username.lower())
        assert user is not None
        return user, False


async def assign_scopes(
    conn: asyncpg.Connection, *, user_id: int, market_ids: list[int], ward_codes: list[str]
) -> None:
    """Replace a user's market and ward scopes (start-up tools such as the demo data set)."""
    async with conn.transaction():
        await queries.set_scopes(
            conn, user_id=user_id, market_ids=market_ids, ward_codes=ward_codes
        )


async def find_user(conn: asyncpg.Connection, username: str) -> User | None:
    """A user by name (command-line tools), active or not."""
    return await queries.user_by_name(conn, username.lower())
