"""HTTP routes of consent and data-subject rights: parse, call one service function, return."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from core.auth import CurrentUser
from core.db import get_conn
from core.params import Id
from merchants import privacy

router = APIRouter(prefix="/api", tags=["personal data"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]


@router.get("/stallholders/{stallholder_id}/consents", response_model=privacy.Consents)
async def get_consents(stallholder_id: Id, conn: Conn, user: CurrentUser) -> privacy.Consents:
    """A stallholder's consent records per purpose, withdrawn ones included."""
    return await privacy.get_consents(conn, user=user, holder_id=stallholder_id)


@router.post("/stallholders/{stallholder_id}/consents", response_model=privacy.Consents)
async def grant_consent(
    stallholder_id: Id, body: privacy.ConsentGrant, conn: Conn, user: CurrentUser
) -> privacy.Consents:
    """Record the purposes the stallholder ticked (an empty list is refused: none pre-ticked)."""
    return await privacy.grant_consent(conn, user=user, holder_id=stallholder_id, body=body)


@router.post("/stallholders/{stallholder_id}/consents/withdraw", response_model=privacy.Consents)
async def withdraw_consent(
    stallholder_id: Id,
    body: privacy.ConsentWithdraw,
    request: Request,
    conn: Conn,
    user: CurrentUser,
) -> privacy.Consents:
    """Withdraw consent per purpose; withdrawing `registration` also opens an erase request."""
    return await privacy.withdraw_consent(
        conn, user=user, holder_id=stallholder_id, body=body, settings=request.app.state.settings
    )


@router.get("/stallholders/{stallholder_id}/export")
async def export(
    stallholder_id: Id, request: Request, conn: Conn, user: CurrentUser
) -> dict[str, Any]:
    """Everything held about the person, as JSON (admins, and managers of the person's markets)."""
    return await privacy.export(
        conn,
        user=user,
        holder_id=stallholder_id,
        route=request.url.path,
        settings=request.app.state.settings,
    )


@router.post("/stallholders/{stallholder_id}/erase", response_model=privacy.Erasure)
async def erase(
    stallholder_id: Id, request: Request, conn: Conn, user: CurrentUser
) -> privacy.Erasure:
    """Anonymise the person; the stall, its status and coverage counts stay (admins, managers)."""
    return await privacy.erase(
        conn, user=user, holder_id=stallholder_id, settings=request.app.state.settings
    )


@router.get("/data-requests", response_model=list[privacy.DataRequest])
async def data_requests(
    conn: Conn,
    user: CurrentUser,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[privacy.DataRequest]:
    """Export, erase and withdrawal requests with their deadlines, open ones first."""
    return await privacy.list_data_requests(conn, user=user, only_open=open_only, limit=limit)
