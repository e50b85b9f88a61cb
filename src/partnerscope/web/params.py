"""Bounded parameter types the routes share: every number and date a caller sends has both
ends, and every text a longest length, so an absurd value is a 422 naming the field, never a
server error (tests/test_web.py::test_every_numeric_parameter_has_an_upper_bound walks every
route)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import Field

RunId = Annotated[int, Field(ge=1, le=1_000_000_000)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]
#: how far into a list a page starts
Offset = Annotated[int, Field(ge=0, le=10_000_000)]
#: a day or a moment a caller gives: within the years a calendar, a review schedule or a time
#: zone conversion computed from it can hold
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
Moment = Annotated[datetime, Field(ge=datetime(2000, 1, 1), le=datetime(2100, 12, 31))]

#: the period a page or a list shows (query parameter)
Period = Annotated[
    str | None,
    Query(max_length=32, description="e.g. FY2026-Q1 (default: the latest scored period)"),
]
#: a list's filter by a value as shown (a region, a metric, an actor, ...)
FilterText = Annotated[str | None, Query(max_length=64)]
#: a list's page, and how many rows a page holds
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PerPage = Annotated[int, Query(ge=1, le=200)]
