"""Shared parameter types: database ids are positive int64, so no client value can overflow a query."""

import re
from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import BeforeValidator, Field

MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# A calendar day as YYYY-MM-DD only (pydantic would otherwise read "0" as 1970-01-01).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
