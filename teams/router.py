"""HTTP routes of teams and field activity: parse, call one service function, return."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from core.auth import FIELD_WORK, CurrentUser, only
from core.db import get_conn
from core.params import Id, IsoDate
from teams import activity, assignments, roster, schemas, visits

router = APIRouter(prefix="/api", tags=["teams and activity"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]
# Roles are checked before the body is read (core.auth.only); scopes are the services' job.
MANAGING = only("admin", "manager")
From = Annotated[
    IsoDate | None,
    Query(alias="from", description="First day, YYYY-MM-DD (Asia/Ho_Chi_Minh); default Monday."),
]
To = Annotated[IsoDate | None, Query(description="Last day, inclusive; default today.")]
GroupBy = Annotated[schemas.ActivityGroup, Query(description="One row per day, user, team...")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/teams", status_code=201, response_model=schemas.Team, dependencies=MANAGING)
async def create_team(body: schemas.TeamCreate, conn: Conn, user: CurrentUser) -> schemas.Team:
    """Create a team of a ward with members, leader and markets (admins; managers for their
    wards and markets). Members work in the team's markets from now on."""
    return await roster.create_team(conn, user=user, body=body)


@router.get("/teams", response_model=list[schemas.Team], dependencies=FIELD_WORK)
async def list_teams(conn: Conn, user: CurrentUser) -> list[schemas.Team]:
    """Teams the caller may see: all (admins), their wards' and markets' (managers), their own
    (volunteers)."""
    return await roster.list_teams(conn, user=user)


@router.get("/teams/candidates", response_model=list[schemas.Candidate], dependencies=MANAGING)
async def team_candidates(
    conn: Conn,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=64, pattern=r"^[\w.@ '-]*$")] = None,
) -> list[schemas.Candidate]:
    """Active volunteers and managers whose username or name contains `q` (compared without
    case or Vietnamese marks: "tuan" finds "Đỗ Minh Tuấn"), with their current team."""
    return await roster.candidates(conn, user=user, query=q)


@router.get("/teams/{team_id}", response_model=schemas.Team, dependencies=FIELD_WORK)
async def get_team(team_id: Id, conn: Conn, user: CurrentUser) -> schemas.Team:
    """One team with its members, past members and markets."""
    return await roster.get_team(conn, user=user, team_id=team_id)


@router.patch("/teams/{team_id}", response_model=schemas.Team, dependencies=MANAGING)
async def update_team(
    team_id: Id, body: schemas.TeamPatch, conn: Conn, user: CurrentUser
) -> schemas.Team:
    """Change any of name, ward, leader, members, markets. Members who leave end their
    membership (kept as history) and lose the team's markets at once."""
    return await roster.update_team(conn, user=user, team_id=team_id, patch=body)


@router.get(
    "/teams/{team_id}/return-visits",
    response_model=schemas.TeamReturnVisits,
    dependencies=FIELD_WORK,
)
async def team_return_visits(
    team_id: Id, conn: Conn, user: CurrentUser
) -> schemas.TeamReturnVisits:
    """The stalls to visit again in the team's markets (stall, reason, since when)."""
    return await visits.team_return_visits(conn, user=user, team_id=team_id)


@router.get("/activity", response_model=schemas.Activity)
async def get_activity(
    conn: Conn, user: CurrentUser, from_: From = None, to: To = None, group_by: GroupBy = "day"
) -> schemas.Activity:
    """Field actions in a period (inclusive days, Asia/Ho_Chi_Minh), counted per kind, one row
    per day, user, team (at the time of the action), market or ward. Scoped: managers see their
    markets, volunteers themselves (team leaders their team too); names of people only for roles
    that may see them."""
    return await activity.activity(conn, user=user, start=from_, end=to, group_by=group_by)


@router.get(
    "/activity.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM."}},
)
async def activity_csv(
    conn: Conn, user: CurrentUser, from_: From = None, to: To = None, group_by: GroupBy = "day"
) -> StreamingResponse:
    """The activity rows as CSV (the JSON field names as columns)."""
    result = await activity.activity(conn, user=user, start=from_, end=to, group_by=group_by)
    name = activity.export_name(result, "csv")
    return StreamingResponse(
        activity.csv_bytes(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/activity.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "Excel, Vietnamese headers."}},
)
async def activity_xlsx(
    conn: Conn, user: CurrentUser, from_: From = None, to: To = None, group_by: GroupBy = "day"
) -> Response:
    """The activity rows as an Excel sheet with Vietnamese headers."""
    result = await activity.activity(conn, user=user, start=from_, end=to, group_by=group_by)
    name = activity.export_name(result, "xlsx")
    return Response(
        activity.xlsx_bytes(result),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.put(
    "/stalls/{stall_id}/assignment", response_model=schemas.Assignment, dependencies=FIELD_WORK
)
async def put_stall_assignment(
    stall_id: Id, body: schemas.AssignmentIn, conn: Conn, user: CurrentUser
) -> schemas.Assignment:
    """Ask someone who works in the stall's market to visit it again (`user_id`), or nobody
    (`null`). Team leaders (for the members of their team, and only what nobody or a member holds),
    managers and administrators of the market; the same person again changes nothing unless the
    stall was visited since (then they are asked again from now). Audited (assign, unassign)."""
    return await assignments.set_assignment(conn, user=user, stall_id=stall_id, body=body)


@router.get(
    "/stalls/{stall_id}/assignment", response_model=schemas.Assignment, dependencies=FIELD_WORK
)
async def get_stall_assignment(stall_id: Id, conn: Conn, user: CurrentUser) -> schemas.Assignment:
    """Who is asked to visit this stall again (`user_id` null: nobody), whether it was visited
    since and whether that person still works in the market (field roles, the stall in scope)."""
    return await assignments.stall_assignment(conn, user=user, stall_id=stall_id)


@router.get(
    "/markets/{market_id}/assignees",
    response_model=list[schemas.Assignee],
    dependencies=FIELD_WORK,
)
async def market_assignees(market_id: Id, conn: Conn, user: CurrentUser) -> list[schemas.Assignee]:
    """Whom the caller may ask to visit this market's stalls (for the picker)."""
    return await assignments.assignees(conn, user=user, market_id=market_id)


@router.get(
    "/markets/{market_id}/assignments",
    response_model=list[schemas.Assignment],
    dependencies=FIELD_WORK,
)
async def market_assignments(
    market_id: Id, conn: Conn, user: CurrentUser
) -> list[schemas.Assignment]:
    """Who is asked to visit which of the market's stalls again, in stall-code order, and whether
    it was visited since."""
    return await assignments.market_assignments(conn, user=user, market_id=market_id)


@router.get("/assignments/mine", response_model=list[schemas.MyAssignment], dependencies=FIELD_WORK)
async def my_assignments(conn: Conn, user: CurrentUser) -> list[schemas.MyAssignment]:
    """The stalls the signed-in person is asked to visit again, in the markets they work in: the
    ones not visited since (first), and those visited since that were asked in the last 14 days."""
    return await assignments.my_assignments(conn, user=user)
