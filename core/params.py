"""Shared parameter types: database ids are positive int64, so no client value can overflow a query;
dates stay in a range where day arithmetic cannot overflow; text is storable in PostgreSQL."""

import re
from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from core.errors import own_code
from core.text import unstorable

MAX_ID = 2**63 - 1


def plain_id(raw: object) -> int | None:
    """A path segment as Id reads it, when it is written plainly (ASCII digits, no leading zero or
    sign, 1..MAX_ID); None for anything else, which only FastAPI's own validation may judge."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or raw[0] == "0":
        return None
    if len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def written_plainly(raw: object) -> object:
    # An id in text is digits only: "+5", " 5", "007" and "1_000" are not another way to write 5
    # (each would be one more address, or cache key, for the same record). Out-of-range digits are
    # left to ge/le, which say so.
    if isinstance(raw, str) and not (raw.isascii() and raw.isdigit() and raw[0] != "0"):
        raise PydanticCustomError(own_code("invalid_id"), "an id is written as digits: 1, 2, 3…")
    return raw


Id = Annotated[int, Path(ge=1, le=MAX_ID), BeforeValidator(written_plainly)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(written_plainly)]
# An optional id in a query string.
OptionalQueryId = Annotated[int | None, Query(ge=1, le=MAX_ID), BeforeValidator(written_plainly)]


# An area of the national directory (2025) a list or a count is limited to: a province, a ward.
Province = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{1,3}$", description="Only markets of this province ('48')."),
]
Ward = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{1,6}$", description="Only markets of this ward ('20242')."),
]
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


def _plausible(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            own_code("date_out_of_range"),
            "a date between {first} and {last}",
            {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return day


# A calendar day as YYYY-MM-DD only (pydantic would otherwise read "0" as 1970-01-01), in years
# 1900-2999: year 1 or 9999 is a typo, and "90 days before" year 1 does not exist.
IsoDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_plausible)]


def _storable(text: str) -> str:
    if unstorable(text):
        raise PydanticCustomError(
            own_code("invalid_text"), "NUL characters and unpaired surrogates are not allowed"
        )
    return text


# Text PostgreSQL can store (no NUL, no lone surrogate), for inputs the text guard middleware does
# not see (multipart form fields).
StorableText = Annotated[str, AfterValidator(_storable)]
