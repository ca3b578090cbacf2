"""HTTP routes of coverage: stall levels, programme rule, status, rollups, map data, exports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from core.auth import FIELD_WORK, CurrentUser, require_roles
from core.db import get_conn
from core.params import Id, IsoDate, OptionalQueryId, Province, Ward
from core.state import state_of
from core.types import User
from coverage import exports, reads, report, rule, stalls
from coverage import schemas as s
from coverage import verify as verification

router = APIRouter(prefix="/api", tags=["coverage"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
WardCode = Annotated[str | None, Query(pattern=r"^[0-9]{1,6}$")]
OptionalId = OptionalQueryId


def _window(request: Request) -> int:
    return int(state_of(request.app).settings.transacting_window_days)


# ---------------------------------------------------------------- programme rule


@router.get("/programme/rule", response_model=s.Rule)
async def get_rule(conn: Conn, user: CurrentUser) -> s.Rule:
    """The programme rule in force: thresholds on level shares that make a market cashless."""
    return await rule.get_rule(conn)


@router.put("/programme/rule", response_model=s.Rule)
async def put_rule(
    body: s.RuleIn, conn: Conn, user: Annotated[User, Depends(require_roles("admin"))]
) -> s.Rule:
    """Store a new rule version (admins). For today (or without `effective_from`) every market's
    status is re-evaluated under it at once; for a later day it is scheduled, and the hourly
    coverage job applies it when the day comes."""
    return await rule.set_rule(conn, user=user, body=body)


@router.post("/programme/rule/preview", response_model=s.RulePreview)
async def preview_rule(
    body: s.RuleIn, conn: Conn, user: Annotated[User, Depends(require_roles("admin"))]
) -> s.RulePreview:
    """What PUT /api/programme/rule with this body would do (admins): the markets whose status
    would change, from and to, with their numbers, from today's counters. Writes nothing."""
    return await rule.preview_rule(conn, body=body)


@router.get("/programme/rule/versions", response_model=list[s.Rule])
async def rule_versions(conn: Conn, user: CurrentUser) -> list[s.Rule]:
    """Every version of the programme rule, newest first, with its state (in force, scheduled,
    superseded, withdrawn)."""
    return await rule.rule_history(conn)


@router.post(
    "/programme/rule/versions/{rule_version}/withdraw",
    response_model=s.Rule,
    responses={
        404: {"description": "rule_version_not_found."},
        409: {"description": "rule_version_applied: it was applied, save a new version instead."},
    },
)
async def withdraw_rule_version(
    rule_version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    conn: Conn,
    user: Annotated[User, Depends(require_roles("admin"))],
) -> s.Rule:
    """Withdraw a version scheduled for a later day (admins): it stays in the history as
    withdrawn and is never applied; the rule in force stays. Sending it again changes nothing."""
    return await rule.withdraw_rule(conn, user=user, version=rule_version)


# ---------------------------------------------------------------- stall levels


@router.get("/stalls/{stall_id}/coverage", response_model=s.StallCoverage)
async def stall_coverage(stall_id: Id, conn: Conn, user: CurrentUser) -> s.StallCoverage:
    """A stall's levels and field progress (no personal data)."""
    return await stalls.stall_coverage_for(conn, user=user, stall_id=stall_id)


@router.post(
    "/stalls/{stall_id}/sign-delivered", response_model=s.StallCoverage, dependencies=FIELD_WORK
)
async def sign_delivered(
    stall_id: Id, conn: Conn, user: CurrentUser, request: Request
) -> s.StallCoverage:
    """Mark the stall's printed sign as put up at the stall (reaches `qr_issued`)."""
    return await stalls.sign_delivered_for(
        conn, user=user, stall_id=stall_id, window_days=_window(request)
    )


@router.post(
    "/stalls/{stall_id}/verify",
    response_model=s.VerifyResult,
    dependencies=FIELD_WORK,
    responses={
        422: {
            "description": "qr_mismatch: the code does not name a stored active account; "
            "the stall is flagged for a return visit, and a valid VietQR of another account "
            "(reason qr_mismatch) ends an earlier verification."
        }
    },
)
async def verify(
    stall_id: Id, body: s.VerifyIn, conn: Conn, user: CurrentUser, request: Request
) -> s.VerifyResult:
    """Check what the camera read from the sign against the stall's stored accounts: one code
    (`payload`), or every code of one frame (`payloads`: a second payment code fails the check)."""
    return await verification.verify_for(
        conn, user=user, stall_id=stall_id, payloads=body.read(), window_days=_window(request)
    )


@router.post(
    "/stalls/{stall_id}/verify-image",
    response_model=s.VerifyResult,
    dependencies=FIELD_WORK,
    responses={
        422: {
            "description": "no_qr_found, bad_image, or qr_mismatch (stall flagged; another "
            "account's VietQR ends an earlier verification)."
        }
    },
)
async def verify_image(
    stall_id: Id,
    conn: Conn,
    user: CurrentUser,
    request: Request,
    image: Annotated[UploadFile, File()],
) -> s.VerifyResult:
    """Read the QR codes in a photo of the sign and verify them like /verify."""
    data = await image.read()
    return await verification.verify_image_for(
        conn, user=user, stall_id=stall_id, image=data, window_days=_window(request)
    )


@router.post(
    "/stalls/{stall_id}/fees-cashless", response_model=s.StallCoverage, dependencies=FIELD_WORK
)
async def fees_cashless(
    stall_id: Id, body: s.FeesCashlessIn, conn: Conn, user: CurrentUser, request: Request
) -> s.StallCoverage:
    """Set whether the stall pays its market fees cashless."""
    return await stalls.fees_cashless_for(
        conn, user=user, stall_id=stall_id, value=body.value, window_days=_window(request)
    )


# ---------------------------------------------------------------- market numbers


@router.get("/markets/{market_id}/coverage", response_model=s.MarketCoverage)
async def market_coverage(
    market_id: Id, conn: Conn, user: CurrentUser, request: Request
) -> s.MarketCoverage:
    """A market's levels (counts and shares of active stalls), status, progress and zones."""
    return await reads.market_coverage_for(
        conn, user=user, market_id=market_id, window_days=_window(request)
    )


@router.get("/markets/{market_id}/stall-tiles", response_model=s.MarketTiles)
async def stall_tiles(market_id: Id, conn: Conn, user: CurrentUser) -> s.MarketTiles:
    """Every stall of a market per zone with its highest level, for the market page grid."""
    return await reads.stall_tiles_for(conn, user=user, market_id=market_id)


@router.get("/markets/{market_id}/status-history", response_model=list[s.StatusChange])
async def status_history(
    market_id: Id, conn: Conn, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[s.StatusChange]:
    """Every status change of a market with the numbers and rule version that caused it."""
    return await reads.status_history_for(conn, user=user, market_id=market_id, limit=limit)


@router.get(
    "/markets/{market_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "One-page A4 report."}},
)
async def market_report(market_id: Id, conn: Conn, user: CurrentUser, request: Request) -> Response:
    """One printable page: numbers, status, coverage over time, stalls still to visit."""
    pdf = await report.report_pdf_for(
        conn, user=user, market_id=market_id, window_days=_window(request)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="market-{market_id}-report.pdf"'},
    )


# ---------------------------------------------------------------- rollups, history, map


@router.get(
    "/coverage",
    response_model=s.CoverageRollup,
    responses={404: {"description": "province_not_found or ward_not_found."}},
)
async def coverage_rollup(
    conn: Conn,
    user: CurrentUser,
    group_by: s.GroupBy = "market",
    province: Province = None,
    ward: Ward = None,
) -> Response:
    """Numbers rolled up by market, ward (2025), legacy district (pre-2025) or province, or by
    partner (stalls with at least one active account whose partner_code is that partner), within
    the caller's scope; `province` and `ward` limit them to an area (country -> province -> ward
    -> market). Areas come with the mean point of their markets (`lat`, `lon`)."""
    body = await reads.coverage_rollup_for(
        conn, user=user, group_by=group_by, province=province, ward=ward
    )
    # Serialised by the service (response_model documents it; FastAPI would validate it again).
    return Response(body, media_type="application/json")


@router.get(
    "/coverage/history",
    response_model=s.CoverageHistory,
    responses={404: {"description": "market_not_found, province_not_found or ward_not_found."}},
)
async def coverage_history(
    conn: Conn,
    user: CurrentUser,
    market_id: OptionalId = None,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: IsoDate | None = None,
    province: Province = None,
    ward: Ward = None,
) -> s.CoverageHistory:
    """Daily series (default: last 90 days) for one market, or every market in scope (in a
    province or ward); days without a snapshot carry the last value forward; today's point comes
    from the live counters."""
    return await reads.history_for(
        conn, user=user, market_id=market_id, start=from_, end=to, province=province, ward=ward
    )


@router.get(
    "/coverage/ranking",
    response_model=s.Ranking,
    responses={404: {"description": "province_not_found."}},
)
async def coverage_ranking(
    conn: Conn,
    user: CurrentUser,
    ward_code: WardCode = None,
    status: Annotated[s.Status | None, Query(description="Only markets with this status.")] = None,
    province: Province = None,
) -> s.Ranking:
    """Markets in scope ranked by how close they are to the rule, each with the stalls still
    needed per level (`progress[].stalls_needed`): where to go next; `province` and `ward_code`
    limit them to an area."""
    return await reads.ranking_for(
        conn, user=user, ward_code=ward_code, status=status, province=province
    )


@router.get("/markets/{market_id}/return-visits", response_model=s.MarketReturnVisits)
async def market_return_visits(
    market_id: Id, conn: Conn, user: CurrentUser
) -> s.MarketReturnVisits:
    """The market's stalls flagged for a return visit: stall, reason, since when (no personal
    data), for the printable list of the next visit."""
    return await reads.return_visits_for(conn, user=user, market_id=market_id)


@router.get(
    "/coverage/markets.geojson",
    response_model=s.MarketFeatureCollection,
    responses={
        200: {"content": {"application/geo+json": {}}},
        404: {"description": "province_not_found or ward_not_found."},
    },
)
async def markets_geojson(
    conn: Conn, user: CurrentUser, province: Province = None, ward: Ward = None
) -> Response:
    """Markets in scope (in a province or ward) as a GeoJSON FeatureCollection of points with flat
    properties."""
    body = await reads.markets_geojson_for(conn, user=user, province=province, ward=ward)
    return Response(body, media_type="application/geo+json")


# ---------------------------------------------------------------- exports


ExportLevel = Annotated[
    s.FilterLevel | None, Query(description="Only stalls that reached this level.")
]


async def _export(
    conn: Conn,
    user: CurrentUser,
    request: Request,
    market_id: OptionalId = None,
    ward_code: WardCode = None,
    level: ExportLevel = None,
    needs_revisit: bool | None = None,
    province: Province = None,
    without_ward: Annotated[
        bool, Query(description="Only markets whose ward is not recorded (with `province`: of it).")
    ] = False,
) -> tuple[Any, list[str]]:
    """The export filters shared by the CSV and GeoJSON routes: (records, columns) in scope."""
    f, personal = await exports.export_scope(
        conn,
        user=user,
        market_id=market_id,
        ward_code=ward_code,
        level=level,
        needs_revisit=needs_revisit,
        province=province,
        without_ward=without_ward,
    )
    if personal:
        await exports.log_export(conn, f, user=user, route=request.url.path)
    columns = exports.EXPORT_COLUMNS + (exports.PERSONAL_COLUMNS if personal else [])
    return exports.export_records(conn, f, personal=personal), columns


@router.get(
    "/exports/stalls.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM (opens in Excel)."}
    },
)
async def export_csv(
    export: Annotated[tuple[Any, list[str]], Depends(_export)],
    sep: Annotated[
        Literal[",", ";"],
        Query(description="Field separator: ';' for spreadsheets set to the Vietnamese locale."),
    ] = ",",
) -> StreamingResponse:
    """Stalls in scope as CSV, the machine format (English column names, ISO 8601 UTC times,
    true/false, E.164 phones); holder_name and phone only for roles that may see personal data
    (each export of them is logged per stallholder). For people, stalls.xlsx."""
    records, columns = export
    return StreamingResponse(
        exports.csv_stream(records, columns, sep=sep),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="stalls.csv"'},
    )


@router.get(
    "/exports/stalls.xlsx",
    response_class=Response,
    responses={200: {"content": {exports.XLSX: {}}, "description": "An Excel workbook."}},
)
async def export_xlsx(
    export: Annotated[tuple[Any, list[str]], Depends(_export)],
) -> Response:
    """Stalls in scope as an Excel workbook, for people: the CSV's rows and filters with
    Vietnamese headers, ICT times, Có/Không, statuses and levels in Vietnamese, phones as text;
    personal columns and the access log as for the CSV."""
    records, columns = export
    return Response(
        await exports.stalls_xlsx(records, columns),
        media_type=exports.XLSX,
        headers={"Content-Disposition": 'attachment; filename="sap.xlsx"'},
    )


@router.get(
    "/exports/markets.xlsx",
    response_class=Response,
    responses={200: {"content": {exports.XLSX: {}}, "description": "An Excel workbook."}},
)
async def export_markets_xlsx(
    conn: Conn, user: CurrentUser, province: Province = None, ward: Ward = None
) -> Response:
    """Every market in scope, one row each (only those of a `province` or a `ward`, as the
    dashboard's area): status and since when, rule version, active stalls and the count and
    share of each level (no personal data). An area with no market of the caller's gives a
    workbook with the header row only."""
    return Response(
        await exports.markets_xlsx_for(conn, user=user, province=province, ward=ward),
        media_type=exports.XLSX,
        headers={"Content-Disposition": 'attachment; filename="cho.xlsx"'},
    )


@router.get(
    "/exports/stalls.geojson",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def export_geojson(
    export: Annotated[tuple[Any, list[str]], Depends(_export)],
) -> StreamingResponse:
    """Stalls in scope as a GeoJSON FeatureCollection (the stall's point, else its market's;
    `location_source` says which), flat properties as in the CSV."""
    records, columns = export
    return StreamingResponse(
        exports.geojson_stream(records, columns),
        media_type="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="stalls.geojson"'},
    )
