"""Errors of teams and activity."""

from core.errors import Conflict, Forbidden, Invalid, NotFound


class TeamNotFound(NotFound):
    code, title = "team_not_found", "Team not found"


class UnknownWard(Invalid):
    code, title = "unknown_ward", "Unknown ward code"


class UnknownUsers(Invalid):
    code, title = "unknown_user", "Unknown or inactive user"


class NotAFieldRole(Invalid):
    code, title = "member_role", "Only volunteers and managers can be team members"


class LeaderNotMember(Invalid):
    code, title = "leader_not_member", "The leader must be one of the members"


class UnknownMarkets(Invalid):
    code, title = "unknown_market", "Unknown market"


class TeamNameTaken(Conflict):
    code, title = "team_name_taken", "Another team of this ward has this name"


class InOtherTeam(Conflict):
    code, title = "user_in_other_team", "A user is already a member of another team"


class OutOfScope(Forbidden):
    code, title = "out_of_scope", "Outside the wards and markets you manage"


class BadPeriod(Invalid):
    code, title = "invalid_period", "Invalid period"


class AssigneeNotEligible(Invalid):
    code, title = "assignee_not_eligible", "This person cannot be asked to visit this market"


class NotAssigner(Forbidden):
    code, title = "not_assigner", "Only team leaders, managers and administrators assign visits"
