"""A file of leads to route (CSV, XLSX or Parquet, read by the ingest readers), checked row by
row: a row that cannot be routed is reported with its file, row, column and how to fix it, and
the other rows are routed.

Columns (header names are matched without regard to case; ``[routing.columns]`` maps other
names): ``lead_id`` (required), ``estimated_value``, ``currency`` (default: the base currency),
``country`` (ISO code or English name), ``region``, ``latitude`` and ``longitude``,
``product``, ``source``. A lead needs a country or coordinates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.errors import DataFileError
from partnerscope.geo import country_code, known
from partnerscope.operations.routing.engine import Lead
from partnerscope.settings.routing import Geography

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

COLUMNS = (
    "lead_id",
    "estimated_value",
    "currency",
    "country",
    "region",
    "latitude",
    "longitude",
    "product",
    "source",
)


@dataclass(frozen=True)
class LeadRow:
    """A lead as routed and as written back as a canonical ``leads`` row."""

    lead: Lead
    estimated_value: Decimal | None = None
    currency: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}, column {self.column} ({self.value!r}): {self.message}"


def read_leads(
    workspace: Workspace, path: Path, today: date
) -> tuple[list[LeadRow], list[RowProblem]]:
    """The routable leads of ``path`` in file order, and the problems of the other rows."""
    from partnerscope.config import SourceConfig
    from partnerscope.ingest.readers import ROW_COLUMN, read_file

    config = workspace.config
    data = read_file(path, SourceConfig(entity="leads", path=str(path)))
    wanted = {name.lower(): name for name in COLUMNS}
    renames = {k.lower(): v for k, v in config.routing.columns.items()}
    found: dict[str, str] = {}
    for column in data.columns:
        canonical = renames.get(column.lower()) or wanted.get(column.strip().lower())
        if canonical in COLUMNS and canonical not in found:
            found[canonical] = column
    if "lead_id" not in found:
        raise DataFileError(
            f"{path}: no lead_id column (the file has {', '.join(data.columns)}); name the "
            'column lead_id or map it under [routing.columns], e.g. "Lead ID" = "lead_id"'
        )
    name = path.name
    problems = [
        RowProblem(
            name,
            m.row,
            "(row)",
            m.text[:60],
            f"{m.actual} fields where the header has "
            f"{m.expected}; fix the quoting or the delimiter of this line",
        )
        for m in data.malformed
    ]
    columns = {c: data.table[found[c]].to_pylist() for c in found}
    numbers = data.table[ROW_COLUMN].to_pylist()
    cells = (
        (number, {c: _text(columns[c][i]) for c in columns}) for i, number in enumerate(numbers)
    )
    return _parse(workspace, name, cells, found, problems, today), problems


def read_rows(
    workspace: Workspace, rows: Sequence[Mapping[str, Any]], today: date, name: str = "request"
) -> tuple[list[LeadRow], list[RowProblem]]:
    """The routable leads of ``rows`` (each a mapping of the file's column names, e.g. given to
    the API), numbered from 1, and the problems of the other rows."""
    problems: list[RowProblem] = []
    cells = (
        (number, {c: _text(row.get(c)) for c in COLUMNS if c in row})
        for number, row in enumerate(rows, start=1)
    )
    found = {c: c for c in COLUMNS}
    return _parse(workspace, name, cells, found, problems, today), problems


def _parse(
    workspace: Workspace,
    name: str,
    cells: Iterable[tuple[int, dict[str, str | None]]],
    found: dict[str, str],
    problems: list[RowProblem],
    today: date,
) -> list[LeadRow]:
    config = workspace.config
    rates = _fx_rates(workspace, today)
    base = config.workspace.base_currency
    distance = config.routing.geography is Geography.DISTANCE
    leads: list[LeadRow] = []
    seen: dict[str, int] = {}
    for number, cell in cells:
        row = _Row(name, number, found, problems)
        lead = row.parse(cell, seen, rates, base, distance)
        if lead is not None:
            leads.append(lead)
    return leads


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _Row:
    """One row's parsing; each problem is appended and the row is dropped."""

    def __init__(
        self, file: str, number: int, found: dict[str, str], problems: list[RowProblem]
    ) -> None:
        self.file, self.number, self.found, self.problems = file, number, found, problems
        self.ok = True

    def problem(self, column: str, value: str | None, message: str) -> None:
        self.problems.append(
            RowProblem(self.file, self.number, self.found.get(column, column), value or "", message)
        )
        self.ok = False

    def number_of(self, column: str, text: str | None, low: float, high: float) -> float | None:
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            self.problem(column, text, f"write a number from {low:g} to {high:g}")
            return None
        return value

    def parse(
        self,
        cell: dict[str, str | None],
        seen: dict[str, int],
        rates: dict[str, Decimal],
        base: str,
        distance: bool,
    ) -> LeadRow | None:
        lead_id = cell.get("lead_id")
        if lead_id is None:
            self.problem("lead_id", None, "the lead has no id; give every lead a lead_id")
        elif lead_id in seen:
            self.problem("lead_id", lead_id, f"repeats row {seen[lead_id]}; give each lead once")
        else:
            seen[lead_id] = self.number
        amount = self.amount(cell.get("estimated_value"))
        currency = (cell.get("currency") or base).upper()
        value: float | None = None
        if amount is not None:
            rate = Decimal(1) if currency == base else rates.get(currency)
            if rate is None:
                self.problem(
                    "currency",
                    currency,
                    f"no FX rate from {currency} to {base} on or before today; load it into "
                    "fx_rates with `partnerscope ingest`, or give the value in " + base,
                )
            else:
                value = float(amount * rate)
        country = country_code(cell.get("country"))
        lat = self.number_of("latitude", cell.get("latitude"), -90, 90)
        lon = self.number_of("longitude", cell.get("longitude"), -180, 180)
        if (lat is None) != (lon is None) and self.ok:
            self.problem(
                "latitude",
                cell.get("latitude") or cell.get("longitude"),
                "give both latitude and longitude, or neither",
            )
        if country is None and lat is None and self.ok:
            self.problem(
                "country",
                None,
                "give the lead's country (ISO code or name) or its latitude and longitude",
            )
        if distance and lat is None and country is not None and not known(country):
            self.problem(
                "country",
                cell.get("country"),
                "unknown country, so its distance to "
                "partners cannot be measured; use an ISO 3166 code such as DE or "
                "give latitude and longitude",
            )
        if not self.ok or lead_id is None:
            return None
        return LeadRow(
            Lead(
                lead_id=lead_id,
                value=value,
                country=country,
                product=cell.get("product"),
                region=cell.get("region"),
                latitude=lat,
                longitude=lon,
            ),
            estimated_value=amount,
            currency=currency,
            source=cell.get("source"),
        )

    def amount(self, text: str | None) -> Decimal | None:
        if text is None:
            return None
        try:
            amount = Decimal(text.replace(",", "").replace("_", "").replace(" ", ""))
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0:
            self.problem("estimated_value", text, "write an amount of 0 or more, e.g. 25000.00")
            return None
        return amount


def _fx_rates(workspace: Workspace, today: date) -> dict[str, Decimal]:
    """Each currency's latest rate into the base currency on or before ``today``."""
    if not workspace.warehouse_path.exists():
        return {}
    with workspace.warehouse(read_only=True) as warehouse:
        rows = warehouse.con.execute(
            "SELECT currency, arg_max(rate, rate_date) FROM fx_rates WHERE rate_date <= ? "
            "GROUP BY currency",
            [today],
        ).fetchall()
    return {str(c).upper(): Decimal(str(r)) for c, r in rows}
