"""HTTP routes of consent and data-subject rights: parse, call one service function, return."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from core.auth import FIELD_WORK, CurrentUser, only
from core.db import get_conn
from core.params import Id
from core.state import state_of
from privacy import consent, errors, notices, requests, schemas
from privacy.access import RIGHTS_ROLES

router = APIRouter(prefix="/api", tags=["personal data"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
RIGHTS = only(*sorted(RIGHTS_ROLES))  # data-subject rights


@router.get("/consent-notice", response_model=notices.Notice)
async def current_notice(request: Request) -> notices.Notice:
    """The consent notice to read to a stallholder now (public: it is what they are told)."""
    version = state_of(request.app).settings.notice_version
    notice = notices.get(version, current=version)
    assert notice is not None  # checked at start-up
    return notice


@router.get("/consent-notices/{version}", response_model=notices.Notice)
async def notice_by_version(
    version: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,20}$")], request: Request
) -> notices.Notice:
    """A notice by version: what a recorded consent was given under."""
    notice = notices.get(version, current=state_of(request.app).settings.notice_version)
    if notice is None:
        raise errors.NoticeNotFound(f"No consent notice {version}.")
    return notice


@router.get("/stallholders/{stallholder_id}/consents", response_model=schemas.Consents)
async def get_consents(stallholder_id: Id, conn: Conn, user: CurrentUser) -> schemas.Consents:
    """A stallholder's consent records per purpose, withdrawn ones included."""
    return await consent.get_consents(conn, user=user, holder_id=stallholder_id)


@router.post(
    "/stallholders/{stallholder_id}/consents",
    response_model=schemas.Consents,
    dependencies=FIELD_WORK,
)
async def grant_consent(
    stallholder_id: Id, body: schemas.ConsentGrant, conn: Conn, user: CurrentUser
) -> schemas.Consents:
    """Record the purposes the stallholder ticked (an empty list is refused: none pre-ticked)."""
    return await consent.grant_consent(conn, user=user, holder_id=stallholder_id, body=body)


@router.post(
    "/stallholders/{stallholder_id}/consents/withdraw",
    response_model=schemas.Consents,
    dependencies=FIELD_WORK,
)
async def withdraw_consent(
    stallholder_id: Id,
    body: schemas.ConsentWithdraw,
    request: Request,
    conn: Conn,
    user: CurrentUser,
) -> schemas.Consents:
    """Withdraw consent per purpose; withdrawing `registration` also opens an erase request."""
    return await consent.withdraw_consent(
        conn,
        user=user,
        holder_id=stallholder_id,
        body=body,
        settings=state_of(request.app).settings,
    )


@router.post(
    "/stallholders/{stallholder_id}/export",
    response_model=None,
    responses={
        200: {
            "description": "The export: JSON, or with `format=pdf` a printed page in Vietnamese",
            "content": {"application/json": {}, "application/pdf": {}},
        }
    },
)
async def export(
    stallholder_id: Id,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    format: Annotated[Literal["json", "pdf"], Query()] = "json",
) -> dict[str, Any] | Response:
    """Everything held about the person (admins, and managers of the person's markets): JSON, or
    `format=pdf` for the page in Vietnamese the market board hands the person. A POST: the export
    is recorded as a data-subject request with its deadline, and completed."""
    settings = state_of(request.app).settings
    if format == "pdf":
        pdf = await requests.export_printed(
            conn, user=user, holder_id=stallholder_id, route=request.url.path, settings=settings
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="du-lieu-ca-nhan-{stallholder_id}.pdf"'
            },
        )
    return await requests.export(
        conn, user=user, holder_id=stallholder_id, route=request.url.path, settings=settings
    )


@router.get(
    "/stallholders/{stallholder_id}/access-log",
    response_model=list[schemas.AccessEntry],
    dependencies=RIGHTS,
)
async def access_log(
    stallholder_id: Id, conn: Conn, user: CurrentUser
) -> list[schemas.AccessEntry]:
    """Who read the person's full record, when and why, newest first (admins, and managers of the
    person's markets); unlike an export, no data-subject request is recorded."""
    return await requests.access_history(conn, user=user, holder_id=stallholder_id)


@router.post(
    "/stallholders/{stallholder_id}/erase", response_model=schemas.Erasure, dependencies=RIGHTS
)
async def erase(
    stallholder_id: Id, request: Request, conn: Conn, user: CurrentUser
) -> schemas.Erasure:
    """Anonymise the person (admins, managers): the stall and its history stay; its payment
    accounts are deactivated, so it stops counting as signed, verified or transacting."""
    return await requests.erase(
        conn, user=user, holder_id=stallholder_id, settings=state_of(request.app).settings
    )


@router.get("/data-requests", response_model=list[schemas.DataRequest])
async def data_requests(
    conn: Conn,
    user: CurrentUser,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[schemas.DataRequest]:
    """Export, erase and withdrawal requests with their deadlines, open ones first."""
    return await requests.list_data_requests(conn, user=user, only_open=open_only, limit=limit)
