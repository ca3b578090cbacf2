"""HTTP routes of the administrative-unit directory: parse, call one service function, return."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from admin_units import schemas, service
from core.auth import CurrentUser
from core.db import get_conn
from core.errors import own_code

router = APIRouter(prefix="/api", tags=["administrative units"])
Conn = Annotated[asyncpg.Connection, Depends(get_conn)]


def _printable(value: str | None) -> str | None:
    if value is not None and any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise PydanticCustomError(
            own_code("invalid_query"), "The search text contains control characters."
        )
    return value


ProvinceCode = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,2}$",
        description="Province code ('48' for Đà Nẵng): its wards, or a search within it.",
    ),
]
SearchText = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Search ward names, ignoring diacritics and case ('hai chau').",
    ),
    AfterValidator(_printable),
]


@router.get("/admin-units", response_model=list[schemas.AdminUnit])
async def list_admin_units(
    conn: Conn,
    user: CurrentUser,
    province: ProvinceCode = None,
    q: SearchText = None,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many search results.")] = (
        service.SEARCH_LIMIT
    ),
) -> list[schemas.AdminUnit]:
    """Administrative units after the July 2025 reform: every province; with `province`, its
    wards and communes; with `q`, the wards whose names match, best matches first."""
    return await service.list_units(conn, province=province, q=q, limit=limit)
