"""The fiscal calendar: months, quarters and years in the workspace's reporting time zone.

A fiscal year is named after the calendar year in which it ends (with a fiscal year starting in
October, FY2026 runs from 2025-10-01 to 2026-09-30); with the default January start the names are
the calendar years. Months are labelled by their calendar month (``2025-10``), quarters and years
by fiscal name (``FY2026-Q1``, ``FY2026``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    import pyarrow as pa


class Grain(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[self]


class PeriodError(PartnerscopeError, ValueError):
    """A period the user typed that is not one."""


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class Period:
    grain: Grain
    start: date
    fiscal_year_start_month: int

    @property
    def end(self) -> date:
        """The first day after the period."""
        return add_months(self.start, self.grain.months)

    @property
    def fiscal_year(self) -> int:
        # the year in which the fiscal year ends
        offset = (self.start.month - self.fiscal_year_start_month) % 12
        fy_start = add_months(self.start, -offset)
        return add_months(fy_start, 11).year

    @property
    def label(self) -> str:
        match self.grain:
            case Grain.MONTH:
                return f"{self.start:%Y-%m}"
            case Grain.QUARTER:
                offset = (self.start.month - self.fiscal_year_start_month) % 12
                return f"FY{self.fiscal_year}-Q{offset // 3 + 1}"
            case Grain.YEAR:
                return f"FY{self.fiscal_year}"

    def previous(self) -> Period:
        return Period(
            self.grain, add_months(self.start, -self.grain.months), self.fiscal_year_start_month
        )


@dataclass(frozen=True)
class FiscalCalendar:
    fiscal_year_start_month: int = 1

    def period_of(self, day: date, grain: Grain) -> Period:
        month = date(day.year, day.month, 1)
        offset = (month.month - self.fiscal_year_start_month) % grain.months
        return Period(grain, add_months(month, -offset), self.fiscal_year_start_month)

    def parse(self, text: str) -> Period:
        """``2025-10``, ``FY2026-Q1`` (or ``2026-Q1``), ``FY2026`` (or ``2026``)."""
        value = text.strip().upper()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                return Period(Grain.MONTH, date(year, month, 1), self.fiscal_year_start_month)
        if m := re.fullmatch(r"(?:FY)?(\d{4})-?Q([1-4])", value):
            year = int(m[1]) - (self.fiscal_year_start_month != 1)
            fy_start = date(year, self.fiscal_year_start_month, 1)
            return Period(
                Grain.QUARTER,
                add_months(fy_start, 3 * (int(m[2]) - 1)),
                self.fiscal_year_start_month,
            )
        if m := re.fullmatch(r"(?:FY)?(\d{4})", value):
            year = int(m[1]) - (self.fiscal_year_start_month != 1)
            return Period(
                Grain.YEAR,
                date(year, self.fiscal_year_start_month, 1),
                self.fiscal_year_start_month,
            )
        raise PeriodError(
            f"{text!r} is not a period; write a month as 2025-10, a fiscal quarter as FY2026-Q1 "
            "and a fiscal year as FY2026"
        )

    def periods(self, first_month: date, last_month: date, grain: Grain) -> list[Period]:
        period = self.period_of(first_month, grain)
        out = []
        while period.start <= last_month:
            out.append(period)
            period = Period(grain, period.end, self.fiscal_year_start_month)
        return out

    def last_bucket(self, period: Period, last_month: date, base: Grain) -> date:
        """Start of the period's last ``base`` period so far (where values at its end are
        read)."""
        return self.period_of(min(add_months(period.end, -1), last_month), base).start

    def month_map(
        self, first_month: date, last_month: date, grains: list[Grain], base: Grain = Grain.MONTH
    ) -> pa.Table:
        """One row per (grain, month): the period the month falls in and that period's last month
        so far (where values at period end are read). With a coarser ``base``, "months" are the
        starts of its periods (quarters, say) and ``first_month`` and ``last_month`` are too."""
        import pyarrow as pa

        rows: dict[str, list[object]] = {
            k: [] for k in ("grain", "month", "period_start", "last_month")
        }
        for grain in grains:
            for period in self.periods(first_month, last_month, grain):
                month = max(period.start, first_month)
                last = self.last_bucket(period, last_month, base)
                while month <= last:
                    rows["grain"].append(grain.value)
                    rows["month"].append(month)
                    rows["period_start"].append(period.start)
                    rows["last_month"].append(last)
                    month = add_months(month, base.months)
        return pa.table(
            rows,
            schema=pa.schema(
                [
                    ("grain", pa.string()),
                    ("month", pa.date32()),
                    ("period_start", pa.date32()),
                    ("last_month", pa.date32()),
                ]
            ),
        )

    def period_table(
        self,
        first_month: date,
        last_month: date,
        grains: list[Grain],
        as_of: datetime,
        base: Grain = Grain.MONTH,
    ) -> pa.Table:
        """One row per period: its label, end, last month so far and whether it is complete."""
        import pyarrow as pa

        rows: dict[str, list[object]] = {
            k: []
            for k in ("grain", "period_start", "period_end", "last_month", "label", "complete")
        }
        for grain in grains:
            for period in self.periods(first_month, last_month, grain):
                rows["grain"].append(grain.value)
                rows["period_start"].append(period.start)
                rows["period_end"].append(period.end)
                rows["last_month"].append(self.last_bucket(period, last_month, base))
                rows["label"].append(period.label)
                rows["complete"].append(datetime.combine(period.end, time()) <= as_of)
        return pa.table(
            rows,
            schema=pa.schema(
                [
                    ("grain", pa.string()),
                    ("period_start", pa.date32()),
                    ("period_end", pa.date32()),
                    ("last_month", pa.date32()),
                    ("label", pa.string()),
                    ("complete", pa.bool_()),
                ]
            ),
        )
