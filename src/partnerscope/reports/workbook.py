"""The run as an Excel workbook (XlsxWriter): a summary with native charts, then scorecards,
metrics, tiers, alerts, flags and the metric definitions, each a filterable sheet of numbers
(not text) with the unit as the cell format.

Rows are streamed (``constant_memory``): the workbook never holds a sheet, so 20,000 partners ×
every period fit in a few tens of MB. A sheet longer than Excel's 1,048,576 rows continues on a
second sheet of the same name with " (2)".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.metrics.definition import Unit

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.evaluation.view import RunData
    from partnerscope.metrics.definition import Catalog
    from partnerscope.reports.content import Report

#: Excel's last row (1-based), the header included.
MAX_ROWS = 1_048_576

NUMBER_FORMATS = {
    Unit.MONEY: "#,##0",
    Unit.MONEY_PER_DAY: "#,##0",
    Unit.COUNT: "#,##0",
    Unit.SHARE: "0.0%",
    Unit.RATIO: '0.00"×"',
    Unit.DAYS: "0.0",
    Unit.HOURS: "0.00",
    Unit.SCORE: "0.0",
    Unit.RATING: "0.00",
    Unit.NUMBER: "#,##0.00",
}


class _Book:
    """An XlsxWriter workbook with the formats the sheets share."""

    def __init__(self, path: Path, catalog: Catalog) -> None:
        import xlsxwriter

        self.catalog = catalog
        # names and ids are data: XlsxWriter would otherwise write a text starting with '=' as
        # a formula the spreadsheet runs, and a text like 'http://...' as a link
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "default_date_format": "yyyy-mm-dd",
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self.header = self.book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.muted = self.book.add_format({"font_color": "#616e7c"})
        self.formats = {
            unit: self.book.add_format({"num_format": f}) for unit, f in NUMBER_FORMATS.items()
        }

    def unit_format(self, metric: str) -> Any:
        """The cell format of a metric's unit (None for a name that is not a metric)."""
        if metric not in self.catalog.metrics:
            return None
        return self.formats[self.catalog[metric].spec.unit]

    def table(
        self,
        name: str,
        columns: Sequence[tuple[str, Unit | None, int]],
        rows: Iterable[Sequence[Any]],
    ) -> int:
        """A sheet of ``rows`` under a header of (title, unit, width) columns, filterable, its
        header frozen; continued on further sheets past Excel's last row. Returns the rows."""
        count, part = 0, 1
        sheet = self._sheet(name, columns)
        row = 1
        for values in rows:
            if row == MAX_ROWS:
                self._finish(sheet, row, len(columns))
                part += 1
                sheet = self._sheet(f"{name} ({part})", columns)
                row = 1
            sheet.write_row(row, 0, [_cell(v) for v in values])
            row += 1
            count += 1
        self._finish(sheet, row, len(columns))
        return count

    def _sheet(self, name: str, columns: Sequence[tuple[str, Unit | None, int]]) -> Any:
        sheet = self.book.add_worksheet(name)
        for i, (_, unit, width) in enumerate(columns):
            sheet.set_column(i, i, width, self.formats[unit] if unit else None)
        sheet.write_row(0, 0, [title for title, _, _ in columns], self.header)
        sheet.freeze_panes(1, 0)
        return sheet

    @staticmethod
    def _finish(sheet: Any, rows: int, columns: int) -> None:
        sheet.autofilter(0, 0, max(rows - 1, 0), columns - 1)


def _cell(value: Any) -> Any:
    """What a cell holds: NaN and None are empty, dates stay dates, the rest as is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def write_workbook(
    data: RunData,
    path: Path,
    period: str | None = None,
    *,
    partners: Sequence[str] | None = None,
    summary: Report | None = None,
    qbr: Report | None = None,
) -> dict[str, int]:
    """Write the workbook of ``data``'s run for ``period`` (the latest scored by default), for
    every partner or only ``partners``. Returns the rows written per sheet."""
    import pyarrow as pa
    import pyarrow.compute as pc

    start, label = data.pick_period(period)
    catalog = data.workspace.catalog
    wanted = pa.array(partners) if partners is not None else None

    def only(table: pa.Table, key: str = "partner_id") -> pa.Table:
        return table if wanted is None else table.filter(pc.is_in(table[key], wanted))

    def of_period(table: pa.Table, key: str = "partner_id") -> pa.Table:
        return only(table.filter(pc.equal(table["period_start"], start)), key)

    book = _Book(path, catalog)
    written: dict[str, int] = {}
    stamp = summary.stamp if summary else None
    if summary is not None:
        written["Summary"] = _summary_sheet(book, summary)
    if qbr is not None:
        written["QBR"] = _qbr_sheet(book, qbr)

    metrics = [m for m in catalog if not m.group_only]
    members = {r["partner_id"]: r for r in of_period(data.memberships.table).to_pylist()}
    placed = {(t["partner_id"], t["ruleset"]): t for t in of_period(data.tiers.table).to_pylist()}
    cards = of_period(data.scorecards.table).sort_by([("score", "descending")])
    shown = [catalog[m] for m in data.workspace.config.reports.scorecard_metrics]
    values = of_period(data.results().table, "group_key")
    values = values.select(["group_key", *(m.name for m in shown)])
    by_partner = {r["group_key"]: r for r in values.to_pylist()}
    written["Scorecards"] = book.table(
        "Scorecards",
        [
            ("partner_id", None, 10),
            ("name", None, 30),
            ("partner type", None, 12),
            ("region", None, 10),
            ("program tier", None, 12),
            ("cohort", None, 16),
            ("period", None, 11),
            ("score", Unit.SCORE, 8),
            ("cohort percentile", Unit.SHARE, 10),
            ("overall percentile", Unit.SHARE, 10),
            ("evidence coverage", Unit.SHARE, 10),
            ("low evidence", None, 8),
            ("leading", Unit.SCORE, 8),
            ("lagging", Unit.SCORE, 8),
            ("revenue, trailing 12 months", Unit.MONEY, 14),
            ("revenue tier", None, 18),
            ("performance tier", None, 16),
            ("pending", None, 16),
            *((m.label, m.spec.unit, 12) for m in shown),
        ],
        (
            [
                c["partner_id"],
                members.get(c["partner_id"], {}).get("name"),
                members.get(c["partner_id"], {}).get("partner_type"),
                members.get(c["partner_id"], {}).get("region"),
                members.get(c["partner_id"], {}).get("program_tier"),
                c["cohort"],
                c["period"],
                c["score"],
                c["cohort_percentile"],
                c["score_percentile"],
                c["evidence_coverage"],
                "yes" if c["low_evidence"] else "no",
                c["leading_score"],
                c["lagging_score"],
                c["annual_revenue"],
                placed.get((c["partner_id"], "revenue"), {}).get("effective"),
                placed.get((c["partner_id"], "performance"), {}).get("effective"),
                ", ".join(
                    f"{t['ruleset']} → {t['pending']}"
                    for key in ("revenue", "performance")
                    if (t := placed.get((c["partner_id"], key))) and t["pending"]
                ),
                *(by_partner.get(c["partner_id"], {}).get(m.name) for m in shown),
            ]
            for c in cards.to_pylist()
        ),
    )
    written["Metrics"] = book.table(
        "Metrics",
        [
            ("partner_id", None, 10),
            ("period", None, 11),
            ("period start", None, 11),
            ("complete", None, 8),
            *((m.name, m.spec.unit, 12) for m in metrics),
        ],
        _metric_rows(only(data.results().table, "group_key"), metrics),
    )
    written["Tiers"] = book.table(
        "Tiers",
        [
            ("partner_id", None, 10),
            ("period", None, 11),
            ("rules", None, 12),
            ("placed", None, 18),
            ("effective", None, 18),
            ("pending", None, 18),
            ("periods below", Unit.COUNT, 8),
            ("moved", None, 8),
            ("reason", None, 80),
        ],
        (
            [
                t["partner_id"],
                t["period"],
                t["ruleset"],
                t["placed"],
                t["effective"],
                t["pending"],
                t["pending_periods"],
                t["moved"],
                t["reason"],
            ]
            for t in of_period(data.tiers.table).to_pylist()
        ),
    )
    written["Alerts"] = book.table(
        "Alerts",
        [
            ("alert_id", None, 13),
            ("partner_id", None, 10),
            ("period", None, 11),
            ("severity", None, 9),
            ("kind", None, 15),
            ("metric", None, 20),
            ("value", Unit.NUMBER, 12),
            ("reference", Unit.NUMBER, 12),
            ("status", None, 9),
            ("message", None, 90),
        ],
        (
            [
                a["alert_id"],
                a["partner_id"],
                a["period"],
                a["severity"],
                a["kind"],
                a["metric"],
                a["value"],
                a["reference"],
                a["status"],
                a["message"],
            ]
            for a in only(data.alerts.table).to_pylist()
        ),
    )
    written["Flags"] = book.table(
        "Flags",
        [
            ("partner_id", None, 10),
            ("period", None, 11),
            ("flag", None, 14),
            ("criterion", None, 20),
            ("evidence", None, 100),
        ],
        (
            [f["partner_id"], f["period"], f["flag"], f["criterion"], f["evidence"]]
            for f in only(data.flags.table).to_pylist()
        ),
    )
    written["Definitions"] = book.table(
        "Definitions",
        [
            ("metric", None, 26),
            ("label", None, 26),
            ("unit", None, 10),
            ("better", None, 8),
            ("version", Unit.COUNT, 8),
            ("definition", None, 70),
            ("reads", None, 16),
            ("minimum evidence", None, 22),
            ("description", None, 80),
        ],
        (
            [
                m.name,
                m.label,
                m.spec.unit.value,
                m.spec.direction.value,
                m.spec.version,
                m.formula_text(),
                m.entity or ", ".join(m.depends_on),
                (
                    f"{m.evidence_metric or 'rows'} ≥ {m.spec.min_evidence:g}"
                    if m.spec.min_evidence is not None
                    else None
                ),
                m.spec.description,
            ]
            for m in catalog
        ),
    )
    book.book.set_properties(
        {
            "title": summary.title if summary else f"partnerscope run {data.run.run_id}, {label}",
            "subject": stamp.line() if stamp else f"run {data.run.run_id}",
            "author": "partnerscope",
            "comments": f"run {data.run.run_id}; config {data.run.config_hash}; "
            f"definitions {data.run.definitions_version}",
        }
    )
    book.book.close()
    return written


def _metric_rows(table: pa.Table, metrics: Sequence[Any]) -> Iterable[list[Any]]:
    """Each partner × period row of the run's values, column by column into rows (a batch at
    a time, so the whole table is never a list of dicts)."""
    names = ["group_key", "label", "period_start", "complete", *(m.name for m in metrics)]
    table = table.select(names)
    for batch in table.to_batches(max_chunksize=20_000):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        yield from (list(row) for row in zip(*columns, strict=True))


def _summary_sheet(book: _Book, report: Report) -> int:
    """The executive summary's numbers, with native Excel charts of tiers and KPIs."""
    sheet = book.book.add_worksheet("Summary")
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 6, 14)
    sheet.write(0, 0, report.title, book.title)
    sheet.write(1, 0, report.stamp.line(), book.muted)
    row = 3
    sheet.write_row(row, 0, ["measure", report.period, "goal", "change"], book.header)
    for k in report.sections["kpis"]:
        row += 1
        unit = book.unit_format(k["value"].metric)
        sheet.write(row, 0, k["label"])
        sheet.write(row, 1, _cell(k["value"].value), unit)
        sheet.write(row, 2, _cell(k["goal"].value) if k["goal"] else None, unit)
        sheet.write(row, 3, k["change"].text)
    row += 2
    first = row + 1
    sheet.write_row(
        row, 0, ["tier", "rules", "partners", "moved up", "moved down", "pending"], book.header
    )
    for t in report.sections["tiers"]:
        row += 1
        sheet.write_row(
            row, 0, [t["tier"], t["ruleset"], t["partners"], t["up"], t["down"], t["pending"]]
        )
    chart = book.book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "partners",
            "categories": ["Summary", first, 0, row, 0],
            "values": ["Summary", first, 2, row, 2],
            "fill": {"color": "#2563eb"},
        }
    )
    chart.set_title({"name": f"Partners per tier, {report.period}"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    sheet.insert_chart(3, 5, chart, {"x_scale": 1.2, "y_scale": 1.3})
    for movers in ("risers", "decliners"):
        row += 2
        sheet.write_row(row, 0, [movers, "partner_id", "score", "change"], book.header)
        for r in report.sections[movers]:
            row += 1
            sheet.write_row(
                row, 0, [r["name"], r["partner_id"], r["score"].value, r["change"].value]
            )
    return row + 1


def _qbr_sheet(book: _Book, report: Report) -> int:
    """A partner's QBR: plan against actual by month, then each section's table."""
    sheet = book.book.add_worksheet("QBR")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 5, 15)
    sheet.write(0, 0, report.title, book.title)
    sheet.write(1, 0, report.stamp.line(), book.muted)
    row = 3
    sheet.write_row(
        row, 0, ["month", "won", "plan", "won to date", "attainment to date"], book.header
    )
    first = row + 1
    for r in report.sections["plan"]:
        row += 1
        sheet.write(row, 0, r["month"])
        for col, key in enumerate(("actual", "plan", "won_to_date", "to_date"), start=1):
            sheet.write(row, col, _cell(r[key].value), book.unit_format(r[key].metric))
    chart = book.book.add_chart({"type": "column"})
    for col, name in ((1, "won"), (2, "plan")):
        chart.add_series(
            {
                "name": name,
                "categories": ["QBR", first, 0, row, 0],
                "values": ["QBR", first, col, row, col],
            }
        )
    chart.set_title({"name": "Won revenue against plan"})
    sheet.insert_chart(3, 6, chart)
    for section in report.sections["sections"]:
        row += 2
        sheet.write_row(
            row, 0, [section["title"], report.period, "previous", "a year ago", "goal"], book.header
        )
        for r in section["rows"]:
            row += 1
            unit = book.unit_format(r["name"])
            sheet.write(row, 0, r["label"])
            for col, key in enumerate(("value", "previous", "year_ago", "goal"), start=1):
                f = r[key]
                sheet.write(row, col, _cell(f.value) if f else None, unit)
    row += 2
    sheet.write_row(row, 0, ["actions: from", "action"], book.header)
    for a in report.sections["actions"]:
        row += 1
        sheet.write_row(row, 0, [a["source"], a["action"]])
    return row + 1
