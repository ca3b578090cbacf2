"""HTTP routes of markets and stalls: parse, call one service function, return a schema."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from core import access, auth
from core.auth import FIELD_WORK, CurrentUser, RegisteringWorker, only, require_roles
from core.db import get_conn, request_conn
from core.errors import Invalid, PreconditionRequired
from core.params import MAX_ID, Id, Province, Ward, plain_id, written_plainly
from core.sessions import Session, SessionCheck
from core.state import WindowDays, state_of
from core.types import User
from coverage.schemas import StallCoverage
from merchants import (
    accounts,
    errors,
    history,
    imports,
    markets,
    registration,
    schemas,
    signs,
    stalls,
    support,
    visits,
)
from partners import lookup, takings
from partners import schemas as partner_schemas
from qr import service as qr_service

router = APIRouter(prefix="/api", tags=["markets and stalls"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")


def _required_key(value: str | None, what: str) -> str:
    """The Idempotency-Key a write that must happen once needs (made once per `what` on the
    device)."""
    if value is None:
        raise errors.IdempotencyKeyMissing(
            f"Send an Idempotency-Key header (a UUID made once per {what} on the device)."
        )
    if not _KEY.fullmatch(value):
        raise Invalid(
            "Idempotency-Key must be 8-200 letters, digits or . _ : -.", field="Idempotency-Key"
        )
    return value


def _etag(version: int) -> str:
    return f'"{version}"'


def _parse_if_match(value: str | None, what: str = "stall") -> int:
    if value is None:
        raise PreconditionRequired(f"Send If-Match with the {what} version you edited.")
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(f'If-Match must be the {what}\'s version, e.g. "3".', field="If-Match")
    return int(raw)


def _optional_if_match(value: str | None) -> int | None:
    return None if value is None else _parse_if_match(value)


@router.post("/markets", status_code=201, response_model=schemas.Market)
async def create_market(
    body: schemas.MarketCreate,
    conn: Conn,
    user: Annotated[User, Depends(require_roles("admin"))],
) -> schemas.Market:
    """Create a market (admins)."""
    return await markets.create_market(conn, user=user, body=body)


@router.get("/markets", response_model=list[schemas.Market])
async def list_markets(
    conn: Conn, user: CurrentUser, request: Request, include_archived: bool = False
) -> list[schemas.Market]:
    """Markets the caller may see. Archived markets only with include_archived=true."""
    return await markets.list_markets(conn, user=user, include_archived=include_archived)


@router.get("/markets/{market_id}", response_model=schemas.Market)
async def get_market(
    market_id: Id, conn: Conn, user: CurrentUser, response: Response
) -> schemas.Market:
    """One market, archived or not (`archived` says which); ETag carries its version."""
    market = await markets.get_market_for(conn, user=user, market_id=market_id)
    response.headers["ETag"] = _etag(market.version)
    return market


@router.get("/markets/{market_id}/confirm-by", response_model=schemas.ConfirmByCounts)
async def market_confirm_by(
    market_id: Id, conn: Conn, user: CurrentUser
) -> schemas.ConfirmByCounts:
    """How the holders of the market's active stalls learn that a payment arrived (bank app,
    sound box, SMS, none; not asked yet), counted when read."""
    return await markets.confirm_by_counts_for(conn, user=user, market_id=market_id)


# Markets are corrected by admins, and by managers for the markets in their scope (services).
MARKET_WORK = only("admin", "manager")


@router.patch("/markets/{market_id}", response_model=schemas.Market, dependencies=MARKET_WORK)
async def patch_market(
    market_id: Id,
    body: schemas.MarketPatch,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> schemas.Market:
    """Correct a market (admins; managers for their markets): name, address, ward, coordinates,
    zones. If-Match must carry the version you read (stale -> 412 version_conflict).

    Zones: `zone_renames` ([{"from": "A", "to": "Khu A"}]) rename zones, on the market's stalls
    too; then `zones`, if sent, is the new list of current zones: a current zone left out is
    retired (it takes no new stalls, its stalls keep it until moved), a retired zone listed again
    comes back, a new name is added.
    """
    version = _parse_if_match(if_match, "market")
    market = await markets.update_market(
        conn, user=user, market_id=market_id, expected_version=version, patch=body
    )
    response.headers["ETag"] = _etag(market.version)
    return market


@router.post(
    "/markets/{market_id}/archive", response_model=schemas.Market, dependencies=MARKET_WORK
)
async def archive_market(
    market_id: Id, body: schemas.ReasonIn, conn: Conn, user: CurrentUser
) -> schemas.Market:
    """Archive a market (admins; managers for their markets): it leaves lists, dashboards, the map
    and rollups and takes no new stalls (409 market_archived); its records and history stay and
    it is still read by id."""
    return await markets.set_archived(
        conn, user=user, market_id=market_id, archived=True, reason=body.reason
    )


@router.post(
    "/markets/{market_id}/unarchive", response_model=schemas.Market, dependencies=MARKET_WORK
)
async def unarchive_market(
    market_id: Id, body: schemas.ReasonIn, conn: Conn, user: CurrentUser
) -> schemas.Market:
    """Bring an archived market back (admins; managers for their markets)."""
    return await markets.set_archived(
        conn, user=user, market_id=market_id, archived=False, reason=body.reason
    )


async def register_stall(
    market_id: Id,
    body: schemas.StallCreate,
    request: Request,
    session: RegisteringWorker,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Register a stall. Retries with the same Idempotency-Key return the same stall."""
    # The connection is taken here rather than as a dependency (Conn), and the settings read here
    # (not WindowDays): FastAPI's dependencies cost more than the rest on the hottest route.
    async with request_conn(request) as conn:
        stall, replayed = await _register(request, conn, session, market_id, body, idempotency_key)
    headers = {"ETag": _etag(stall.version), "Location": f"/api/stalls/{stall.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    # The service built a validated Stall: serialise it once, without FastAPI validating it again.
    return Response(
        stall.model_dump_json(), status_code=201, media_type="application/json", headers=headers
    )


class _RegistrationRoute(APIRoute):
    """The registration route, with a direct path for the request a tablet sends.

    FastAPI's handler reads the content type, parses the JSON, solves the route's parameters and
    dependencies one by one and validates the body through a generic field: on the hottest route
    that machinery costs more than everything else in Python. When the request is the ordinary one
    (a JSON body that is a valid StallCreate, a plain market id, no overridden dependency), the
    direct path validates the same body with the same model and calls the same endpoint with the
    same session. Anything else (bad JSON, a failing field, another content type, an odd id) goes
    through FastAPI's own handler, so every refusal is exactly the one FastAPI gives. The
    OpenAPI document comes from the endpoint's signature as before.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if auth.registering_worker in request.app.dependency_overrides:
                return await standard(request)
            market_id = plain_id(request.path_params.get("market_id"))
            body = _plain_body(request, await request.body()) if market_id else None
            if market_id is None or body is None:
                return await standard(request)
            session = await auth.registering_worker(request)
            key = request.headers.get("idempotency-key")
            return await register_stall(market_id, body, request, session, key)

        return handler


def _plain_body(request: Request, raw: bytes) -> schemas.StallCreate | None:
    """The body as FastAPI would validate it (json.loads, then the model in Python mode), when it
    is a JSON object that passes; None otherwise (FastAPI's handler then gives its refusal)."""
    kind = request.headers.get("content-type", "")
    if kind.split(";", 1)[0].strip().lower() != "application/json" or not raw:
        return None
    try:
        return schemas.StallCreate.model_validate(json.loads(raw))
    except (ValueError, RecursionError):  # JSONDecodeError, pydantic's ValidationError
        return None


# Its own router, included before every other (main.py): the hottest route is matched first.
registration_router = APIRouter(prefix="/api", tags=["markets and stalls"])
registration_router.add_api_route(
    "/markets/{market_id}/stalls",
    register_stall,
    methods=["POST"],
    status_code=201,
    response_model=schemas.Stall,
    route_class_override=_RegistrationRoute,
)


async def _register(
    request: Request,
    conn: asyncpg.Connection,
    session: Session,
    market_id: int,
    body: schemas.StallCreate,
    idempotency_key: str | None,
) -> tuple[schemas.Stall, bool]:
    """register_stall_for with the route's checks, as the session's user (core.auth.as_session)."""
    state = state_of(request.app)

    async def register(user: User, check: SessionCheck | None) -> tuple[schemas.Stall, bool]:
        return await registration.register_stall_for(
            conn,
            user=user,
            market_id=market_id,
            idempotency_key=_required_key(idempotency_key, "registration"),
            body=body,
            lookup=lookup.lookup_provider(state),
            window_days=state.settings.transacting_window_days,
            session=check,
        )

    return await auth.as_session(request, conn, session, register)


@router.get("/markets/{market_id}/also-accepts", response_model=schemas.AlsoAcceptsCounts)
async def market_also_accepts(
    market_id: Id, conn: Conn, user: CurrentUser
) -> schemas.AlsoAcceptsCounts:
    """Other ways the market's active stalls take payment besides their VietQR signs (card,
    foreign QR, transfer to a phone number; the sign only; not asked yet), counted when read."""
    return await markets.also_accepts_counts_for(conn, user=user, market_id=market_id)


@router.get("/support-package", response_model=schemas.AreaSupportCounts)
async def area_support(
    conn: Conn,
    user: CurrentUser,
    province: Province = None,
    ward: Ward = None,
) -> schemas.AreaSupportCounts:
    """The support package over the caller's markets in an area (the country, a `province`, a
    `ward`): households consulted, and per item offered, received, declined."""
    return await support.area_support_for(conn, user=user, province=province, ward=ward)


@router.get("/markets/{market_id}/support", response_model=schemas.SupportCounts)
async def market_support(market_id: Id, conn: Conn, user: CurrentUser) -> schemas.SupportCounts:
    """The digital-transformation support package at the market's active stalls: how many
    households were consulted, and per item how many were offered it, received it or declined
    it; counted when read."""
    return await support.market_support_for(conn, user=user, market_id=market_id)


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
    return await stalls.list_stalls_for(
        conn, user=user, market_id=market_id, q=q, limit=limit, cursor=cursor
    )


@router.get("/stalls/{stall_id}", response_model=schemas.Stall)
async def get_stall(
    stall_id: Id, conn: Conn, user: CurrentUser, request: Request, response: Response
) -> schemas.Stall:
    """One stall with its holder and payment accounts."""
    stall = await stalls.read_stall(conn, user=user, stall_id=stall_id, route=request.url.path)
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.get("/stalls/{stall_id}/history", response_model=list[schemas.HistoryEntry])
async def stall_history(
    stall_id: Id,
    conn: Conn,
    user: CurrentUser,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[schemas.HistoryEntry]:
    """What was done to the stall, newest first: registration, edits and imports with the fields
    they changed, accounts added, corrected, stopped and used again with their reasons, prints,
    deliveries and code checks; who did each. Phone and account numbers are masked as the audit
    log keeps them; the read is logged like the stall's own."""
    return await history.stall_history_for(
        conn, user=user, stall_id=stall_id, route=request.url.path, limit=limit
    )


@router.post(
    "/stalls/{stall_id}/visits",
    status_code=201,
    response_model=schemas.Visit,
    dependencies=FIELD_WORK,
    responses={200: {"description": "A retry: the visit already recorded with this key"}},
)
async def record_visit(
    stall_id: Id,
    body: schemas.VisitIn,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> schemas.Visit:
    """Record a visit to the stall that did not end in a registration or a finished stall (nobody
    there, not now, come back on a day, a document missing), or what was done besides (trained,
    to follow up). Send an Idempotency-Key made once per visit on the device: a retry answers the
    visit already recorded (200, Idempotent-Replayed)."""
    visit, replayed = await visits.record_visit_for(
        conn,
        user=user,
        stall_id=stall_id,
        body=body,
        idempotency_key=_required_key(idempotency_key, "visit"),
    )
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return visit


@router.get(
    "/markets/{market_id}/appointments",
    response_model=schemas.MarketAppointments,
    dependencies=FIELD_WORK,
)
async def market_appointments(
    market_id: Id, conn: Conn, user: CurrentUser
) -> schemas.MarketAppointments:
    """The days agreed to come back to the market's stalls where work is left (from a week ago
    on), earliest first: stall, zone, day and what the last visit found; no names or notes. For
    the printed list of the next visit."""
    return await visits.appointments_for(conn, user=user, market_id=market_id)


@router.get("/stalls/{stall_id}/visits", response_model=list[schemas.Visit])
async def stall_visits(
    stall_id: Id,
    conn: Conn,
    user: CurrentUser,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[schemas.Visit]:
    """The stall's recorded visits, latest first, with who made each; the read is logged like the
    stall's own (a note may be about the stallholder)."""
    return await visits.stall_visits_for(
        conn, user=user, stall_id=stall_id, route=request.url.path, limit=limit
    )


@router.patch("/stalls/{stall_id}", response_model=schemas.Stall, dependencies=FIELD_WORK)
async def patch_stall(
    stall_id: Id,
    body: schemas.StallPatch,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    window_days: WindowDays,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> schemas.Stall:
    """Edit a stall; If-Match must carry the version you read (stale -> 412 version_conflict)."""
    version = _parse_if_match(if_match)
    stall = await stalls.update_stall_for(
        conn,
        user=user,
        stall_id=stall_id,
        expected_version=version,
        patch=body,
        window_days=window_days,
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.get("/stalls/{stall_id}/takings", response_model=partner_schemas.StallTakings)
async def stall_takings(
    stall_id: Id,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=takings.MAX_DAYS)] = 7,
) -> partner_schemas.StallTakings:
    """What partners reported the stall received, per Vietnamese day, over the last `days` days
    (today so far included): how many payments and their total in đồng. Only payments a partner
    notified us of are counted; a stall no partner ever reported a payment for has no days.
    Personal data: read like the stall record, and logged."""
    return await stalls.stall_takings_for(
        conn, user=user, stall_id=stall_id, days=days, route=request.url.path
    )


@router.get(
    "/stalls/{stall_id}/support",
    response_model=schemas.StallSupport,
    responses={404: {"description": "stall_not_found (also out of scope)."}},
)
async def get_stall_support(stall_id: Id, conn: Conn, user: CurrentUser) -> schemas.StallSupport:
    """What the household at the stall was consulted about, received or declined, item by item
    of the support package (sales software, digital signature, e-invoices, .biz.vn domain,
    e-payment account, e-commerce)."""
    return await support.stall_support_for(conn, user=user, stall_id=stall_id)


@router.post(
    "/stalls/{stall_id}/support",
    response_model=schemas.StallSupport,
    dependencies=FIELD_WORK,
    responses={404: {"description": "stall_not_found."}},
)
async def record_stall_support(
    stall_id: Id, body: schemas.SupportIn, conn: Conn, user: CurrentUser
) -> schemas.StallSupport:
    """Record what was done about some items (`null` takes a record back); items not named stay
    as they are, and the same body sent again changes nothing (safe to retry)."""
    return await support.record_support(conn, user=user, stall_id=stall_id, body=body)


@router.post(
    "/stalls/{stall_id}/payment-accounts",
    status_code=201,
    response_model=schemas.Stall,
    dependencies=FIELD_WORK,
)
async def add_payment_account(
    stall_id: Id,
    body: schemas.PaymentAccountAdd,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    request: Request,
    window_days: WindowDays,
) -> schemas.Stall:
    """Add a payment account to a stall."""
    stall = await accounts.add_payment_account_for(
        conn,
        user=user,
        stall_id=stall_id,
        account=body,
        lookup=lookup.lookup_provider(state_of(request.app)),
        window_days=window_days,
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.patch(
    "/stalls/{stall_id}/payment-accounts/{account_id}",
    response_model=schemas.Stall,
    dependencies=FIELD_WORK,
)
async def correct_payment_account(
    stall_id: Id,
    account_id: Id,
    body: schemas.PaymentAccountPatch,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    request: Request,
    window_days: WindowDays,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> schemas.Stall:
    """Correct a wrongly typed account, with a reason. The old values stay in the audit log; a
    verification of the account no longer holds; a sign showing it is flagged for reprint
    (GET /api/stalls/{id}/coverage: sign_reprint_needed). If-Match (the stall's version) is
    optional."""
    stall = await accounts.correct_payment_account_for(
        conn,
        user=user,
        stall_id=stall_id,
        account_id=account_id,
        patch=body,
        window_days=window_days,
        expected_version=_optional_if_match(if_match),
        lookup=lookup.lookup_provider(state_of(request.app)),
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.post(
    "/stalls/{stall_id}/payment-accounts/{account_id}/deactivate",
    response_model=schemas.Stall,
    dependencies=FIELD_WORK,
)
async def deactivate_payment_account(
    stall_id: Id,
    account_id: Id,
    body: schemas.ReasonIn,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    window_days: WindowDays,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> schemas.Stall:
    """Stop showing an account on the stall, with a reason (the account and its history stay)."""
    stall = await accounts.set_payment_account_active_for(
        conn,
        user=user,
        stall_id=stall_id,
        account_id=account_id,
        active=False,
        reason=body.reason,
        window_days=window_days,
        expected_version=_optional_if_match(if_match),
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall


@router.post(
    "/stalls/{stall_id}/payment-accounts/{account_id}/reactivate",
    response_model=schemas.Stall,
    dependencies=FIELD_WORK,
)
async def reactivate_payment_account(
    stall_id: Id,
    account_id: Id,
    body: schemas.ReasonIn,
    conn: Conn,
    user: CurrentUser,
    response: Response,
    window_days: WindowDays,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> schemas.Stall:
    """Show a deactivated account on the stall again, with a reason (stopped by mistake, or used
    again). Its code must be verified at the stall again. An account of a person whose data was
    erased stays stopped (409 stallholder_erased)."""
    stall = await accounts.set_payment_account_active_for(
        conn,
        user=user,
        stall_id=stall_id,
        account_id=account_id,
        active=True,
        reason=body.reason,
        window_days=window_days,
        expected_version=_optional_if_match(if_match),
    )
    response.headers["ETag"] = _etag(stall.version)
    return stall


# ---------------------------------------------------------------- signs and QR images of stalls

signs_router = APIRouter(prefix="/api", tags=["VietQR and signs"])
# Printing is field work: other roles are refused before anything else is looked at.
FieldUser = Annotated[User, Depends(require_roles(*sorted(access.WRITE_ROLES)))]
AccountId = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="default: the first"),
    BeforeValidator(written_plainly),
]
Scale = Annotated[int, Query(ge=1, le=40, description="pixels per module")]


async def _stall_payload(
    stall_id: Id, conn: Conn, user: CurrentUser, request: Request, account_id: AccountId = None
) -> str:
    """The payload of the stall's chosen (or first) account, after the scope and consent checks."""
    return await signs.stall_qr(
        conn, user=user, stall_id=stall_id, account_id=account_id, route=request.url.path
    )


StallPayload = Annotated[str, Depends(_stall_payload)]


@signs_router.get(
    "/stalls/{stall_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def stall_qr_png(text: StallPayload, scale: Scale = 10) -> Response:
    """The stall's VietQR as PNG (quiet zone 4 modules, error correction H)."""
    return _image(qr_service.qr_png(text, scale), "image/png")


@signs_router.get(
    "/stalls/{stall_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def stall_qr_svg(text: StallPayload, scale: Scale = 10) -> Response:
    """The stall's VietQR as SVG (quiet zone 4 modules, error correction H)."""
    return _image(qr_service.qr_svg(text, scale).encode(), "image/svg+xml")


def _image(body: bytes, media_type: str) -> Response:
    # A sign names a person and shows their account: never kept in a cache (a corrected account
    # shows at once).
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})


def _pdf(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@signs_router.get(
    "/stalls/{stall_id}/sign.pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}},
            "headers": {
                "Sign-Shortened": {
                    "description": "The texts the sign shows only in part, comma-separated",
                    "schema": {"type": "string"},
                },
                "Sign-Digest": {
                    "description": "A digest of the payment code the sign carries: send it "
                    "back as `sign_digest` when confirming the print",
                    "schema": {"type": "string"},
                },
            },
        }
    },
)
async def stall_sign(
    stall_id: Id,
    conn: Conn,
    user: CurrentUser,
    request: Request,
    account_id: AccountId = None,
    size: Literal["A6", "A5"] = "A6",
) -> Response:
    """The stall's printable sign (A6 by default, A5 option). Opening it records nothing: confirm
    the print with POST /api/stalls/{stall_id}/sign-printed once it came out of the printer.

    A text too long for the sign even at its smallest size is cut short there with "…"; the
    `Sign-Shortened` header names those texts (`market_name`, `stall_code`, `holder_name`,
    `goods`), so that the app can say so; it is absent when the sign shows everything."""
    file = await signs.stall_sign_pdf(
        conn, user=user, stall_id=stall_id, account_id=account_id, size=size, route=request.url.path
    )
    response = _pdf(file.pdf, f"bien-vietqr-{stall_id}.pdf")
    response.headers["Sign-Digest"] = file.digest
    if file.shortened:
        response.headers["Sign-Shortened"] = ", ".join(file.shortened)
    return response


@signs_router.post("/stalls/{stall_id}/sign-printed", response_model=StallCoverage)
async def sign_printed(
    stall_id: Id,
    conn: Conn,
    user: FieldUser,
    request: Request,
    window_days: WindowDays,
    account_id: AccountId = None,
    body: schemas.SignPrintedIn | None = None,
) -> StallCoverage:
    """The stall's sign came out of the printer: the print of its (chosen or first) account is
    recorded and the stall reaches `qr_issued`. With `sign_digest` (the printed PDF's
    `Sign-Digest`), a sign whose account changed since it was opened is refused (409
    `sign_changed`): that sheet pays the old account."""
    return await signs.confirm_stall_print(
        conn,
        user=user,
        stall_id=stall_id,
        account_id=account_id,
        route=request.url.path,
        window_days=window_days,
        printed_digest=body.sign_digest if body else None,
    )


@signs_router.get(
    "/markets/{market_id}/signs.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def market_signs(
    market_id: Id,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    zone: Annotated[str | None, Query(max_length=schemas.ZONE_MAX)] = None,
    only_unprinted: bool = False,
    size: Literal["A6", "A5"] = "A6",
) -> Response:
    """Every active stall's sign, several per A4 page with cut marks, in stall-code order: a
    preview that records nothing. To print, create a print job and confirm it."""
    pdf = await signs.market_signs_pdf(
        conn, user=user, market_id=market_id, zone=zone, only_unprinted=only_unprinted, size=size,
        route=request.url.path,
    )  # fmt: skip
    return _pdf(pdf, f"bien-vietqr-cho-{market_id}.pdf")


@signs_router.post(
    "/markets/{market_id}/print-jobs", status_code=201, response_model=schemas.PrintJob
)
async def create_print_job(
    market_id: Id, body: schemas.PrintJobIn, conn: Conn, user: FieldUser
) -> schemas.PrintJob:
    """A batch of the market's signs to print (all, a zone, or those never printed): the stalls
    and their exact payloads are frozen, so the PDF and the confirmation are about the same signs."""
    return await signs.create_print_job(conn, user=user, market_id=market_id, body=body)


@signs_router.get("/print-jobs/{job_id}", response_model=schemas.PrintJob)
async def get_print_job(job_id: Id, conn: Conn, user: FieldUser) -> schemas.PrintJob:
    """A print job and which of its signs were confirmed printed."""
    return await signs.get_print_job(conn, user=user, job_id=job_id)


@signs_router.get(
    "/print-jobs/{job_id}/signs.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def print_job_signs(job_id: Id, request: Request, conn: Conn, user: FieldUser) -> Response:
    """The job's signs, several per A4 page with cut marks. Records no print; each holder's access
    log shows the read."""
    pdf = await signs.print_job_pdf(conn, user=user, job_id=job_id, route=request.url.path)
    return _pdf(pdf, f"bien-vietqr-in-{job_id}.pdf")


@signs_router.post("/print-jobs/{job_id}/confirm", response_model=schemas.PrintJob)
async def confirm_print_job(
    job_id: Id,
    body: schemas.PrintConfirmIn,
    conn: Conn,
    user: FieldUser,
    window_days: WindowDays,
) -> schemas.PrintJob:
    """These signs of the job (all if `stall_ids` is absent) came out of the printer: their prints
    are recorded and the stalls reach `qr_issued`. Confirming again changes nothing."""
    return await signs.confirm_print_job(
        conn, user=user, job_id=job_id, body=body, window_days=window_days
    )


# ---------------------------------------------------------------- stall list imports

# Included before `router`, so /api/stalls/import-template.xlsx is not taken for a stall id.
imports_router = APIRouter(prefix="/api", tags=["stall list imports"])
ImportUser = Annotated[User, Depends(require_roles(*sorted(imports.IMPORT_ROLES)))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The stall list: .xlsx (first sheet) or .csv (UTF-8, "
                            "BOM optional, ',' or ';'); first row: the headers.",
                        },
                        "list_date": {
                            "type": "string",
                            "description": "Date of the board's list: YYYY-MM-DD or DD/MM/YYYY.",
                        },
                    },
                }
            }
        },
    }
}


async def _import_access(market_id: Id, conn: Conn, user: ImportUser) -> User:
    """Administrators, and managers of this market; checked before the file is read."""
    await imports.require_import_access(conn, user, market_id)
    return user


@imports_router.post(
    "/markets/{market_id}/stalls/import",
    response_model=schemas.StallImportResult,
    openapi_extra=_IMPORT_BODY,
)
async def import_stalls(
    market_id: Id,
    request: Request,
    conn: Conn,
    user: Annotated[User, Depends(_import_access)],
    dry_run: bool = False,
) -> schemas.StallImportResult:
    """Import a market board's stall list (.xlsx or .csv, Vietnamese or English headers: Mã sạp,
    Khu, Họ tên, Số điện thoại, Mặt hàng, Ngân hàng, Số tài khoản, Tên chủ tài khoản). Every row
    is answered (created, updated, unchanged, error with line, column and a Vietnamese reason);
    `dry_run=true` writes nothing. Imported stallholders have not consented: their stalls wait
    for a volunteer's visit. Administrators and the market's managers."""
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise errors.ImportFileMissing("Send the stall list as the multipart field 'file'.")
    list_date = form.get("list_date")
    return await imports.import_stall_list(
        conn,
        user=user,
        market_id=market_id,
        data=await upload.read(),
        filename=upload.filename,
        list_date=imports.parse_list_date(list_date if isinstance(list_date, str) else None),
        dry_run=dry_run,
    )


@imports_router.get(
    "/stalls/import-template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def import_template(user: CurrentUser) -> Response:
    """A stall list to fill in: the Vietnamese headers, one example row, and a sheet with the
    banks (short name, code, BIN) the "Ngân hàng" column accepts."""
    return Response(
        imports.template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="mau-danh-sach-sap.xlsx"'},
    )
