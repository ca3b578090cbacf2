"""Shapes of consent and data-subject rights, with the consent purposes and notice versions."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from core.types import Strict, fail
from privacy import notices

PURPOSES = ("registration", "qr_sign", "coverage_reporting")
PARTNER_PURPOSE_PREFIX = "share_partner:"
_PARTNER_PURPOSE = re.compile(r"^share_partner:[A-Za-z0-9_-]{1,32}$")


def _purpose(value: str) -> str:
    if value in PURPOSES:
        return value
    if _PARTNER_PURPOSE.fullmatch(value):
        # The code as the partner registry spells it (upper case); that the partner is
        # registered is checked against the registry where consent is recorded (consent.py).
        return PARTNER_PURPOSE_PREFIX + value.removeprefix(PARTNER_PURPOSE_PREFIX).upper()
    raise fail(
        "invalid_purpose",
        f"Unknown purpose {value[:40]!r}; use {', '.join(PURPOSES)} or share_partner:<CODE>.",
    )


def _notice_version(value: str) -> str:
    if not notices.known(value):
        raise fail(
            "unknown_notice_version",
            "This consent notice version is not one we published; reload the app to get the "
            "current notice and read it to the stallholder.",
        )
    return value


Purpose = Annotated[str, Field(max_length=64), AfterValidator(_purpose)]
NoticeVersion = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9._-]{1,20}$"), AfterValidator(_notice_version)
]


class ConsentIn(Strict):
    notice_version: NoticeVersion
    purposes: list[Purpose] = Field(max_length=20)


class ConsentGrant(Strict):
    notice_version: NoticeVersion
    purposes: list[Purpose] = Field(max_length=20)
    channel: Literal["tablet", "paper"] = "tablet"


class ConsentWithdraw(Strict):
    purposes: list[Purpose] = Field(max_length=20)


class Consent(BaseModel):
    purpose: str
    notice_version: str
    channel: str
    collected_by: str | None
    granted_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None


class RequestStall(BaseModel):
    """A stall of the person a request is about (who it is, without their name)."""

    id: int
    stall_code: str
    market_id: int
    market_name: str


class DataRequest(BaseModel):
    id: int
    stallholder_id: int
    kind: str
    requested_by: str | None
    requested_at: datetime
    due_at: datetime
    completed_at: datetime | None
    stalls: list[RequestStall] = Field(
        default_factory=list, description="The person's stalls: code and market."
    )


class Consents(BaseModel):
    stallholder_id: int
    active_purposes: list[str]
    consents: list[Consent]
    changed: list[str] = Field(
        default_factory=list, description="Purposes this request granted or withdrew"
    )
    erase_request: DataRequest | None = Field(
        default=None,
        description="Opened when `registration` is withdrawn: the person leaves the programme",
    )


class Erasure(BaseModel):
    stallholder_id: int
    erased_at: datetime
    already_erased: bool
    stall_ids: list[int]
    accounts_deactivated: int
    data_request: DataRequest | None


class AccessEntry(BaseModel):
    """One read of a person's full record: who, when, through which route and why."""

    actor: str | None
    route: str
    reason: str | None
    at: datetime
