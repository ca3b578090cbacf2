"""HTTP routes of partners: registry, onboardings, signed events, notifications, imports, lookups.

Notification endpoints authenticate by signature, not by user; they read the raw body or raw query
string and hand it to the service untouched, then answer the way each partner expects.
"""

from __future__ import annotations

import time
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from core.auth import CurrentUser, only, require_roles
from core.db import get_conn
from core.errors import problem
from core.params import MAX_ID, Id, Province, Ward
from core.state import state_of
from core.types import User
from partners import events, imports, lookup, native, onboarding, points, registry, schemas, stats
from qr.types import AccountNumber, Bin

router = APIRouter(prefix="/api", tags=["partners"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
Admin = Annotated[User, Depends(require_roles("admin"))]
Fieldworker = Annotated[User, Depends(require_roles("admin", "manager", "volunteer"))]
ONBOARDERS = only("admin", "manager", "volunteer", "partner")
IMPORTERS = only("admin", "partner")
POINT_KEEPERS = only(*points.WRITERS)
Code = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=40)]

_VNPAY_REPLIES = {
    "applied": ("00", "Confirm Success"),
    "duplicate": ("02", "Order already confirmed"),
    "conflict": ("04", "Invalid amount"),
    "bad_signature": ("97", "Invalid Checksum"),
}


def _window(request: Request) -> int:
    return int(state_of(request.app).settings.transacting_window_days)


# ---------------------------------------------------------------- native notification formats


@router.post("/partners/momo/ipn", status_code=204, response_class=Response)
async def momo_ipn(request: Request, conn: Conn) -> Response:
    """MoMo AIO v2 IPN: 204 when verified and recorded (or already recorded)."""
    credentials = await native.native_enabled(conn, "momo")
    outcome = await native.receive_native(
        conn,
        scheme="momo",
        raw=await request.body(),
        credentials=credentials,
        window_days=_window(request),
    )
    if outcome.status == "bad_signature":
        return problem(401, "invalid_signature", "The signature does not match")
    if outcome.status == "conflict":
        return problem(
            409, "event_conflict", "This transId was already received with a different amount"
        )
    return Response(status_code=204)


@router.get("/partners/vnpay/ipn")
async def vnpay_ipn(request: Request, conn: Conn) -> dict[str, str]:
    """VNPay IPN (GET, vnp_* query).

    RspCode 00 recorded, 02 already confirmed, 04 replay with changed amount, 97 bad checksum.
    """
    credentials = await native.native_enabled(conn, "vnpay")
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    outcome = await native.receive_native(
        conn, scheme="vnpay", raw=raw_query, credentials=credentials, window_days=_window(request)
    )
    code, message = _VNPAY_REPLIES[outcome.status]
    return {"RspCode": code, "Message": message}


@router.post("/partners/zalopay/callback")
async def zalopay_callback(request: Request, conn: Conn) -> dict[str, int | str]:
    """ZaloPay callback: return_code 1 when recorded (or already), -1 bad MAC or changed replay."""
    credentials = await native.native_enabled(conn, "zalopay")
    outcome = await native.receive_native(
        conn,
        scheme="zalopay",
        raw=await request.body(),
        credentials=credentials,
        window_days=_window(request),
    )
    if outcome.status == "bad_signature":
        return {"return_code": -1, "return_message": "mac not equal"}
    if outcome.status == "conflict":
        return {
            "return_code": -1,
            "return_message": "zp_trans_id already received with other content",
        }
    return {"return_code": 1, "return_message": "success"}


@router.post("/partners/payos/webhook")
async def payos_webhook(request: Request, conn: Conn) -> JSONResponse:
    """payOS webhook: 200 {"success": true} when recorded; 401/409 with success false otherwise."""
    credentials = await native.native_enabled(conn, "payos")
    outcome = await native.receive_native(
        conn,
        scheme="payos",
        raw=await request.body(),
        credentials=credentials,
        window_days=_window(request),
    )
    if outcome.status == "bad_signature":
        return problem(401, "invalid_signature", "The signature does not match", success=False)
    if outcome.status == "conflict":
        return problem(
            409,
            "event_conflict",
            "This reference was already received with other content",
            success=False,
        )
    return JSONResponse({"success": True})


# ---------------------------------------------------------------- registry


@router.get("/partners", response_model=list[schemas.Partner])
async def list_partners(conn: Conn, user: CurrentUser) -> list[schemas.Partner]:
    """Every partner: banks, wallets, gateways, aggregators. Which credentials are set (field
    names only) and own_api_enabled are for administrators and the partner itself (null for
    others); a partner user reads its own entry only."""
    return await registry.partners_for(conn, user)


@router.get("/partners/{code}", response_model=schemas.Partner)
async def get_partner(code: Code, conn: Conn, user: CurrentUser) -> schemas.Partner:
    """One partner (as GET /api/partners shows it to the caller); partner_not_found for a partner
    user asking for another partner."""
    return await registry.partner_for(conn, user, code)


@router.put("/partners/{code}/credentials", response_model=schemas.Partner)
async def set_credentials(
    code: Code, body: schemas.CredentialsIn, conn: Conn, user: Admin
) -> schemas.Partner:
    """Replace a partner's credentials (admins). Values are never returned; `{}` clears them."""
    return await registry.set_credentials(conn, user=user, code=code, values=body.root)


@router.put("/partners/{code}/support", response_model=schemas.Partner)
async def set_support(
    code: Code, body: schemas.SupportIn, conn: Conn, user: Admin
) -> schemas.Partner:
    """Record the partner's support number for stallholders (admins); `null` when none is known.
    The stall page shows it next to the accounts the partner set up."""
    return await registry.set_support_phone(conn, user=user, code=code, phone=body.support_phone)


# ---------------------------------------------------------------- our own signed API


@router.post("/partners/{code}/events", status_code=202, response_model=schemas.EventAck)
async def partner_event(
    code: Code,
    request: Request,
    conn: Conn,
    x_signature: Annotated[str | None, Header(alias="X-Signature", max_length=1024)] = None,
) -> schemas.EventAck:
    """A signed partner event (`X-Signature: t=<unix>,v1=<hex>`); each event id is applied once."""
    return await events.receive_own_event(
        conn,
        code=code,
        raw_body=await request.body(),
        signature=x_signature,
        now=time.time(),
        window_days=_window(request),
    )


# ---------------------------------------------------------------- onboardings


@router.post(
    "/stalls/{stall_id}/onboardings",
    status_code=201,
    response_model=schemas.Onboarding,
    dependencies=ONBOARDERS,
)
async def save_onboarding(
    stall_id: Id, body: schemas.OnboardingIn, conn: Conn, user: CurrentUser, response: Response
) -> schemas.Onboarding:
    """Record which partner onboarded an account (201), or move its status (200)."""
    saved, created = await onboarding.save_onboarding(conn, user=user, stall_id=stall_id, body=body)
    if not created:
        response.status_code = 200
    return saved


@router.get("/stalls/{stall_id}/onboardings", response_model=list[schemas.Onboarding])
async def stall_onboardings(
    stall_id: Id, conn: Conn, user: CurrentUser
) -> list[schemas.Onboarding]:
    """A stall's onboardings with their full status history."""
    return await onboarding.stall_onboardings(conn, user=user, stall_id=stall_id)


# ---------------------------------------------------------------- partner views and imports


@router.get("/partners/{code}/stats", response_model=schemas.PartnerStats)
async def partner_stats(
    code: Code,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    market_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> schemas.PartnerStats:
    """A partner's onboarded, active and recently paid accounts by market (caller's scope)."""
    return await stats.partner_stats(
        conn,
        user=user,
        code=code,
        market_id=market_id,
        window_days=state_of(request.app).settings.transacting_window_days,
    )


@router.get(
    "/partners/{code}/stats.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
            "description": "An Excel workbook.",
        }
    },
)
async def partner_stats_xlsx(
    code: Code,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    market_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """The partner's stats as an Excel workbook (Vietnamese headers, one row per market and a
    total), with the same scope as the JSON."""
    body = await stats.partner_stats_xlsx(
        conn,
        user=user,
        code=code,
        market_id=market_id,
        window_days=state_of(request.app).settings.transacting_window_days,
    )
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="doi-tac-{code.upper()}-thong-ke.xlsx"'
        },
    )


@router.get("/partners/{code}/accounts", response_model=schemas.PartnerAccountPage)
async def partner_accounts(
    code: Code,
    conn: Conn,
    user: CurrentUser,
    limit: Limit = 100,
    cursor: Cursor = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> schemas.PartnerAccountPage:
    """Payment accounts the partner onboarded or that opted in to it (partner users: their own).
    `q`: a stall code or market name holding it (any case), or an exact account number."""
    return await stats.partner_accounts(conn, user=user, code=code, limit=limit, cursor=cursor, q=q)


@router.get("/partners/{code}/unmatched", response_model=schemas.UnmatchedPage)
async def unmatched_payments(
    code: Code, conn: Conn, user: Admin, limit: Limit = 100, cursor: Cursor = None
) -> schemas.UnmatchedPage:
    """Verified payments that matched no stall, kept for review (admins)."""
    return await stats.unmatched_payments(conn, code=code, limit=limit, cursor=cursor)


@router.get("/partners/{code}/notifications", response_model=list[schemas.Notification])
async def recent_notifications(
    code: Code, conn: Conn, user: Admin, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[schemas.Notification]:
    """The partner's latest verified notifications and signed events, newest first (admins):
    what arrived, when, and what it did. Payloads are never shown."""
    return await stats.recent_notifications(conn, code=code, limit=limit)


@router.post(
    "/partners/{code}/imports", response_model=schemas.ImportResult, dependencies=IMPORTERS
)
async def import_report(
    code: Code,
    conn: Conn,
    user: CurrentUser,
    file: Annotated[
        UploadFile,
        File(description="The report: .xlsx (first sheet) or CSV in UTF-8 (BOM optional)"),
    ],
    dry_run: bool = False,
) -> schemas.ImportResult:
    """Reconcile a partner's onboarding report (Excel or CSV); `dry_run=true` reports without
    writing. An Excel file that cannot be read is refused with core.spreadsheet's code
    (invalid_xlsx, too_many_rows, ...) and `detail_vi`; a broken CSV with malformed_csv and its
    line."""
    data = await file.read()
    return await imports.import_report(
        conn, user=user, code=code, data=data, filename=file.filename, dry_run=dry_run
    )


# ---------------------------------------------------------------- service points (users_want #22)


@router.get(
    "/service-points",
    response_model=schemas.ServicePointPage,
    responses={404: {"description": "market_not_found (market_id out of the caller's scope)."}},
)
async def list_service_points(
    conn: Conn,
    user: CurrentUser,
    market_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    province: Province = None,
    ward: Ward = None,
    partner: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> schemas.ServicePointPage:
    """Partners' service points of a market or an area (`province`, `ward`), of one `partner`
    or all, within the caller's scope; a partner's staff see their own partner's points only."""
    return await points.list_points(
        conn, user=user, market_id=market_id, province=province, ward=ward,
        partner=partner.upper() if partner else None, limit=limit,
    )  # fmt: skip


@router.post(
    "/service-points",
    status_code=201,
    response_model=schemas.ServicePoint,
    dependencies=POINT_KEEPERS,
    responses={422: {"description": "unknown_partner, unknown_market or a field's own code."}},
)
async def add_service_point(
    body: schemas.ServicePointIn, conn: Conn, user: CurrentUser
) -> schemas.ServicePoint:
    """Record a partner's service point serving a market (admins; managers in their markets;
    a partner's staff for their own partner, in the markets its page lists)."""
    return await points.add_point(conn, user=user, body=body)


@router.delete(
    "/service-points/{point_id}",
    status_code=204,
    response_class=Response,
    dependencies=POINT_KEEPERS,
    responses={404: {"description": "service_point_not_found."}},
)
async def remove_service_point(point_id: Id, conn: Conn, user: CurrentUser) -> Response:
    """Take a service point off the map and the lists (the audit log keeps it)."""
    await points.remove_point(conn, user=user, point_id=point_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- account-name lookup


@router.get("/lookup", response_model=schemas.LookupOut)
async def account_lookup(
    request: Request,
    user: Fieldworker,
    bin: Annotated[Bin, Query()],
    account_number: Annotated[AccountNumber, Query()],
) -> schemas.LookupOut:
    """The bank's name for an account (status `disabled` when no lookup provider is configured)."""
    provider = lookup.lookup_provider(state_of(request.app))
    return await lookup.lookup_account(provider, bin=bin, account_number=account_number)
