"""HTTP routes for sign-in, user administration and the audit log."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Form, Query, Request, Response

from core import audit, network, users
from core.auth import CurrentUser, bearer_token, require_roles
from core.db import get_conn
from core.errors import Invalid
from core.params import MAX_ID, Id, IsoDate, StorableText
from core.state import state_of
from core.types import User

router = APIRouter(prefix="/api", tags=["sign-in and users"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
Admin = Annotated[User, Depends(require_roles("admin"))]


def _client(request: Request) -> str:
    return network.client_address(request, state_of(request.app).trusted_proxies)


@router.post("/auth/token")
async def token(
    request: Request,
    conn: Conn,
    username: Annotated[StorableText, Form(max_length=200)],
    password: Annotated[StorableText, Form(max_length=1024)],
) -> dict[str, str]:
    """Sign in with the OAuth2 password form; returns a bearer token."""
    access = await users.sign_in(
        conn,
        username=username,
        password=password,
        client=_client(request),
        settings=state_of(request.app).settings,
    )
    return {"access_token": access, "token_type": "bearer"}


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, conn: Conn, user: CurrentUser) -> Response:
    """Revoke the token of this request."""
    token_value = bearer_token(request)
    if token_value:
        await users.sign_out(conn, token_value)
    return Response(status_code=204)


@router.get("/users/me", response_model=users.UserOut)
async def me(conn: Conn, user: CurrentUser) -> users.UserOut:
    """The signed-in user with role and scopes."""
    return await users.get_user(conn, user.id)


@router.post("/users/me/password", status_code=204)
async def change_password(
    request: Request, body: users.PasswordChange, conn: Conn, user: CurrentUser
) -> Response:
    """Change one's own password."""
    await users.change_password(
        conn,
        user=user,
        body=body,
        settings=state_of(request.app).settings,
        keep_token=bearer_token(request),
    )
    return Response(status_code=204)


@router.get("/users", response_model=list[users.UserOut])
async def list_users(conn: Conn, admin: Admin) -> list[users.UserOut]:
    """Every user (admins)."""
    return await users.list_users(conn)


@router.post("/users", status_code=201, response_model=users.UserOut)
async def create_user(
    request: Request, body: users.UserCreate, conn: Conn, admin: Admin
) -> users.UserOut:
    """Create a user with display name, phone, role and market/ward/province scopes (admins)."""
    return await users.create_user(
        conn, actor=admin, body=body, settings=state_of(request.app).settings
    )


@router.get("/users/{user_id}", response_model=users.UserOut)
async def get_user(user_id: Id, conn: Conn, admin: Admin) -> users.UserOut:
    """One user (admins)."""
    return await users.get_user(conn, user_id)


@router.patch("/users/{user_id}", response_model=users.UserOut)
async def patch_user(user_id: Id, body: users.UserPatch, conn: Conn, admin: Admin) -> users.UserOut:
    """Change role, display name, phone, scopes, partner or active flag (admins); deactivating
    ends the user's sessions."""
    return await users.update_user(conn, actor=admin, user_id=user_id, patch=body)


@router.post("/users/{user_id}/password-reset", response_model=users.PasswordReset)
async def reset_password(
    request: Request, user_id: Id, conn: Conn, admin: Admin
) -> users.PasswordReset:
    """Give a user a new random password (admins); it is shown only in this answer, and the
    user's sessions end. Hand it over in person; they change it with POST /api/users/me/password."""
    return await users.reset_password(
        conn, actor=admin, user_id=user_id, settings=state_of(request.app).settings
    )


@router.post("/users/{user_id}/api-keys", status_code=201, response_model=users.ApiKeyOut)
async def create_api_key(
    user_id: Id, body: users.ApiKeyCreate, conn: Conn, admin: Admin
) -> users.ApiKeyOut:
    """Create an API key for a machine client; the key is shown only in this response."""
    return await users.create_api_key(conn, actor=admin, user_id=user_id, label=body.label)


@router.get("/users/{user_id}/api-keys", response_model=list[users.ApiKeyOut])
async def list_api_keys(user_id: Id, conn: Conn, admin: Admin) -> list[users.ApiKeyOut]:
    """A user's API keys (prefix and dates only)."""
    return await users.list_api_keys(conn, user_id)


@router.delete("/users/{user_id}/api-keys/{key_id}", status_code=204)
async def revoke_api_key(user_id: Id, key_id: Id, conn: Conn, admin: Admin) -> Response:
    """Revoke an API key."""
    await users.revoke_api_key(conn, actor=admin, user_id=user_id, key_id=key_id)
    return Response(status_code=204)


@router.get("/audit-log", response_model=audit.AuditPage)
async def audit_log(
    conn: Conn,
    admin: Admin,
    entity: Annotated[
        str | None,
        Query(pattern=r"^[a-z_]{1,40}$", description="stall, market, user, stallholder, …"),
    ] = None,
    entity_id: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_:-]{1,80}$")] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_]{1,60}$")] = None,
    actor: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9._@-]{1,64}$", description="A username (any case)."),
    ] = None,
    since: Annotated[IsoDate | None, Query(description="First day (Vietnam), included.")] = None,
    until: Annotated[IsoDate | None, Query(description="Last day (Vietnam), included.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="next_before of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> audit.AuditPage:
    """What was done in the service, newest first (admins): when, by whom, which action on which
    record; not the values (a record's own page shows those to whom may see them, e.g. GET
    /api/stalls/{id}/history). Filters combine; a day range is in Vietnam's time."""
    if since and until and until < since:
        raise Invalid("The last day is before the first.", field="until")
    return await audit.entries(
        conn,
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor=actor.lower() if actor else None,  # usernames are stored lowercased
        since=since,
        until=until,
        before=before,
        limit=limit,
    )
