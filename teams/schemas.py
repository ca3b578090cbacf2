"""Request and response shapes of teams and field activity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.params import IdField
from core.types import Strict, fail, free_text
from coverage import schemas as coverage_schemas


def _not_empty(value: str) -> str:
    if not value:
        raise fail("invalid_team_name", "A team needs a name.")
    return value


TeamName = Annotated[
    str,
    Field(max_length=400, examples=["Tổ Công nghệ số cộng đồng Phường Hải Châu 1"]),
    free_text(100, "invalid_team_name"),
    AfterValidator(_not_empty),
]
WardCode = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,6}$", description="Ward code of the post-2025 directory ('20242')."),
]
Ids = Annotated[list[IdField], Field(max_length=500)]


class TeamCreate(Strict):
    name: TeamName
    ward_code: WardCode
    leader_id: IdField | None = Field(default=None, description="A member: the team's leader.")
    member_ids: Ids = Field(default_factory=list, description="Users (volunteers, managers).")
    market_ids: Ids = Field(default_factory=list, description="Markets the team works in.")


class TeamPatch(Strict):
    """Any of the fields; member_ids and market_ids replace the lists (memberships keep history)."""

    name: TeamName | None = None
    ward_code: WardCode | None = None
    leader_id: IdField | None = None
    member_ids: Ids | None = None
    market_ids: Ids | None = None


class TeamMember(BaseModel):
    id: int
    username: str
    display_name: str | None = Field(default=None, description="The name people see, when set.")
    role: str
    joined_at: datetime
    is_leader: bool


class PastMember(BaseModel):
    id: int
    username: str
    display_name: str | None = None
    joined_at: datetime
    left_at: datetime


class TeamMarket(BaseModel):
    id: int
    name: str


class Team(BaseModel):
    id: int
    name: str
    ward_code: str
    ward_name: str | None
    leader_id: int | None
    members: list[TeamMember]
    past_members: list[PastMember] = Field(description="Memberships that ended, newest first.")
    markets: list[TeamMarket]
    created_at: datetime
    updated_at: datetime


class Candidate(BaseModel):
    """A user who may join a team, and the team they are in now (if any)."""

    id: int
    username: str
    display_name: str | None = None
    role: str
    team_id: int | None
    team_name: str | None


# ---------------------------------------------------------------- activity

ActivityGroup = Literal["day", "user", "team", "market", "ward"]


class ActivityCounts(BaseModel):
    """Field actions in a period, one count per kind (teams.kinds maps audit actions to kinds)."""

    registrations: int = Field(default=0, description="Stalls registered.")
    edits: int = Field(default=0, description="Stall records edited.")
    accounts: int = Field(default=0, description="Payment accounts added or corrected.")
    consents: int = Field(
        default=0, description="Consents recorded or withdrawn after a registration."
    )
    prints: int = Field(default=0, description="Sign prints confirmed.")
    deliveries: int = Field(default=0, description="Signs put up at the stall.")
    verifications: int = Field(default=0, description="Codes verified (match or mismatch).")
    return_visits: int = Field(
        default=0,
        description="Wrong codes found: failed code checks (the stall is flagged for a return "
        "visit), not counting a failed check right after another of the same stall (the same "
        "wrong sign scanned again); not visits (see `visits`).",
    )
    codes_fixed: int = Field(
        default=0,
        description="Wrong codes fixed: a passing code check right after a failed one of the "
        "same stall.",
    )
    visits: int = Field(
        default=0, description="Visits recorded at stalls (absent, not now, blocked, trained...)."
    )
    support: int = Field(
        default=0, description="Support package records saved at stalls (users_want #21)."
    )
    assignments: int = Field(
        default=0, description="Return visits of stalls given to someone (team leaders, managers)."
    )
    total: int = Field(
        default=0,
        description="The actions: all of the above but return_visits and codes_fixed (each is a "
        "code check, already counted in verifications).",
    )


class ActivityRow(ActivityCounts):
    key: str | None = Field(
        description="The day (YYYY-MM-DD), user id, team id, market id or ward code; "
        "null for actions outside any team (team) or market (market, ward)."
    )
    label: str | None = Field(
        description="Day, username, team, market or ward name; null where the role may not see "
        "people's names (user grouping for viewers) or for a null key."
    )


class Activity(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    group_by: ActivityGroup
    from_: date = Field(alias="from")
    to: date
    names_hidden: bool = Field(description="True when volunteers' names are left out.")
    rows: list[ActivityRow]
    total: ActivityCounts


class TeamReturnVisits(BaseModel):
    team_id: int
    team_name: str
    markets: list[coverage_schemas.MarketReturnVisits]


# ---------------------------------------------------------------- return visits assigned to a person


class AssignmentIn(Strict):
    """Whom to ask to visit the stall again; null takes the request back."""

    user_id: int | None = Field(
        ge=1, le=2**63 - 1,
        description="An active volunteer or manager whose scope covers the stall's market (a team "
        "leader asks the members of their team); GET /api/markets/{id}/assignees lists them",
    )  # fmt: skip


class Assignment(BaseModel):
    """Who is asked to visit a stall again (none: `user_id` null)."""

    stall_id: int
    user_id: int | None
    name: str | None = Field(description="Display name (else username) of that person")
    assigned_by: str | None = Field(description="Display name (else username) of who asked")
    assigned_at: datetime | None
    visited_since: bool = Field(
        description="Someone was at the stall since it was assigned: a visit was recorded, or "
        "its sign was checked or handed over (by anyone)"
    )
    works_here: bool | None = Field(
        None,
        description="The person could still be asked to visit this market (active, a field "
        "role, working in it); false once they were deactivated or left it: reassign the stall. "
        "Null when nobody is asked",
    )


class Assignee(BaseModel):
    """Someone who may be asked to visit a market's stalls."""

    id: int
    username: str
    name: str
    role: str


class MyAssignment(BaseModel):
    """A stall the signed-in person is asked to visit again."""

    stall_id: int
    stall_code: str
    zone: str | None
    market_id: int
    market_name: str
    assigned_by: str
    assigned_at: datetime
    visited_since: bool
