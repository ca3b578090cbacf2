"""HTTP routes of markets and stalls: parse, call one service function, return a schema."""

from __future__ import annotations

import re
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request, Response

from core.auth import CurrentUser, require_roles
from core.db import get_conn
from core.errors import Invalid, PreconditionRequired
from core.params import Id
from core.queries import User
from merchants import errors, schemas, service
from partners import service as partners_service

router = APIRouter(prefix="/api", tags=["markets and stalls"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")


def _etag(version: int) -> str:
    return f'"{version}"'


def _parse_if_match(value: str | None) -> int:
    if value is None:
        raise PreconditionRequired("Send If-Match with the stall version you edited.")
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid('If-Match must be the stall\'s version, e.g. "3".', field="If-Match")
    return int(raw)


@router.post("/markets", status_code=201, response_model=schemas.Market)
async def create_market(
    body: schemas.MarketCreate,
    conn: Conn,
    user: Annotated[User, Depends(require_roles("admin"))],
) -> schemas.Market:
    """Create a market (admins)."""
    return await service.create_market(conn, user=user, body=body)


@router.get("/markets", response_model=list[schemas.Market])
async def list_markets(conn: Conn, user: CurrentUser, request: Request) -> list[schemas.Market]:
    """Markets the caller may see."""
    return await service.list_markets(conn, user=user)


@router.get("/markets/{market_id}", response_model=schemas.Market)
async def get_market(market_id: Id, conn: Conn, user: CurrentUser) -> schemas.Market:
    """One market."""
    return await service.get_market_for(conn, user=user, market_id=market_id)


@router.post("/markets/{market_id}/stalls", status_code=201, response_model=schemas.Stall)
async def register_stall(
    market_id: Id,
    body: schemas.StallCreate,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Register a stall. Retries with the same Idempotency-Key return the same stall."""
    if idempotency_key is None:
        raise errors.IdempotencyKeyMissing(
            "Send an Idempotency-Key header (a UUID made once per registration on the device)."
        )
    if not _KEY.fullmatch(idempotency_key):
        raise Invalid(
            "Idempotency-Key must be 8-200 letters, digits or . _ : -.", field="Idempotency-Key"
        )
    stall, replayed = await service.register_stall_for(
        conn,
        user=user,
        market_id=market_id,
        idempotency_key=idempotency_key,
        body=body,
        hash_key=request.app.state.hash_key,
        lookup=partners_service.lookup_provider(request.app.state),
    )
    headers = {"ETag": _etag(stall.version), "Location": f"/api/stalls/{stall.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    # The service built a validated Stall: serialise it once, without FastAPI validating it again.
    return Response(
        stall.model_dump_json(), status_code=201, media_type="application/json", headers=headers
    )


@router.get("/markets/{market_id}/stalls", response_model=schemas.StallPage)
async def list_stalls(
    market_id: Id,
    conn: Conn,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> schemas.StallPage:
    """Stalls of a market, in stall-code order; `q` ignores diacritics."""
    return await service.list_stalls_for(
        conn, user=user, market_id=market_id, q=q, limit=limit, cursor=cursor
    )


@router.get("/stalls/{stall_id}", response_model=schemas.Stall)
async def get_stall(
    stall_id: Id, conn: Conn, user: CurrentUser, request: Request, response: Response
) -> schemas.Stall:
    """One stall with its holder and payment accounts."""
    stall = await service.read_stall(conn, user=user, stall_id=stall_id, route=request.url.path)
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.patch("/stalls/{stall_id}", response_model=schemas.Stall)
async def patch_stall(
    stall_id: Id,
    body: schemas.StallPatch,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> schemas.Stall:
    """Edit a stall; If-Match must carry the version you read (stale -> 412 version_conflict)."""
    version = _parse_if_match(if_match)
    stall = await service.update_stall_for(
        conn, user=user, stall_id=stall_id, expected_version=version, patch=body
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.post("/stalls/{stall_id}/payment-accounts", status_code=201, response_model=schemas.Stall)
async def add_payment_account(
    stall_id: Id,
    body: schemas.PaymentAccountIn,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    request: Request,
) -> schemas.Stall:
    """Add a payment account to a stall."""
    stall = await service.add_payment_account_for(
        conn,
        user=user,
        stall_id=stall_id,
        account=body,
        lookup=partners_service.lookup_provider(request.app.state),
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall
