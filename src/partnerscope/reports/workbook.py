"""The run as an Excel workbook (XlsxWriter): a summary with native charts, then scorecards,
metrics, tiers, alerts, flags and the metric definitions, each a filterable sheet of numbers
(not text) with the unit as the cell format: money in the workspace currency (``"$"#,##0``),
shares and ranks as percentages, scores to one decimal, changes as signed numbers. Every sheet
of partners starts with the partner's id and name, both frozen with the header; columns are as
wide as their content; metrics, partner types, flags and alert kinds are named in words, the
Definitions sheet's formulas too. Charts sit to the right of every table, covering no cell.

Rows are streamed (``constant_memory``): the workbook never holds a sheet, so 20,000 partners ×
every period fit in a few tens of MB. A sheet longer than Excel's 1,048,576 rows continues on a
second sheet of the same name with " (2)".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.metrics.definition import Unit

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.evaluation.view import RunData
    from partnerscope.metrics.definition import Catalog
    from partnerscope.present import Words
    from partnerscope.reports.content import Figure, Report

#: Excel's last row (1-based), the header included.
MAX_ROWS = 1_048_576
#: the widest a column is made to fit its content (long texts wrap past it)
MAX_WIDTH = 80

#: the number format of each unit (money's, in the workspace currency, is made by the book)
NUMBER_FORMATS: dict[Unit | str, str] = {
    Unit.COUNT: "#,##0",
    Unit.SHARE: "0.0%",
    Unit.RATIO: '0.0"×"',
    Unit.DAYS: '0.0" days"',
    Unit.HOURS: '0.0" h"',
    Unit.SCORE: "0.0",
    Unit.RATING: "0.00",
    Unit.NUMBER: "#,##0.00",
    #: a rank among peers, 0–1
    "percentile": "0%",
    #: a change of a score, in points of the score
    "score change": "+0.0;-0.0;0.0",
    #: a change of a share, in percentage points (the cell holds the points)
    "points": '+0.0" pts";-0.0" pts";0.0" pts"',
    #: a change relative to the value before (the cell holds the fraction)
    "relative": "+0%;-0%;0%",
}
#: characters a unit's format adds to a number's digits (the widest case)
EXTRA = {
    Unit.SHARE: 3,
    Unit.RATIO: 3,
    Unit.DAYS: 7,
    Unit.HOURS: 4,
    Unit.SCORE: 2,
    Unit.RATING: 3,
    Unit.NUMBER: 4,
    "percentile": 2,
    "score change": 3,
    "points": 7,
    "relative": 3,
}

Kind = Unit | str | None


class Cell:
    """A value with a format of its own (a column of values in different units)."""

    __slots__ = ("kind", "value")

    def __init__(self, value: Any, kind: Kind) -> None:
        self.value = value
        self.kind = kind


class _Book:
    """An XlsxWriter workbook with the formats the sheets share."""

    def __init__(self, path: Path, catalog: Catalog, words: Words) -> None:
        import xlsxwriter

        self.catalog = catalog
        self.words = words
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
        money = words.excel_money()
        #: characters the currency adds to an amount's digits (and a minus sign)
        self.money_extra = len(money.replace("#,##0", "").replace('"', "")) + 1
        formats: dict[Unit | str, str] = {
            **NUMBER_FORMATS,
            Unit.MONEY: money,
            Unit.MONEY_PER_DAY: money,
        }
        self.formats: dict[Unit | str, Any] = {
            unit: self.book.add_format({"num_format": f}) for unit, f in formats.items()
        }
        self.number_formats = formats

    def unit(self, metric: str | None) -> Unit | None:
        """A metric's unit (None for a name that is not a metric)."""
        if metric is None or metric not in self.catalog.metrics:
            return None
        return self.catalog[metric].spec.unit

    def unit_format(self, metric: str | None) -> Any:
        """The cell format of a metric's unit (None for a name that is not a metric)."""
        unit = self.unit(metric)
        return None if unit is None else self.formats[unit]

    def shown(self, value: Any, kind: Kind) -> int:
        """About how many characters ``value`` takes when shown in ``kind``'s format (never
        fewer): the width a column needs for it."""
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int | float):
            text = str(value)
            return max((len(line) for line in text.splitlines()), default=0)
        if isinstance(value, float) and not math.isfinite(value):
            return 0
        number = abs(float(value))
        if kind in (Unit.SHARE, "percentile", "relative"):
            number *= 100
        digits = len(f"{number:,.0f}")
        if kind in (Unit.MONEY, Unit.MONEY_PER_DAY):
            return digits + self.money_extra
        return digits + EXTRA.get(kind or Unit.NUMBER, 4) + 1

    def table(
        self,
        name: str,
        columns: Sequence[tuple[str, Kind, int]],
        rows: Iterable[Sequence[Any]],
        *,
        frozen: int = 0,
    ) -> int:
        """A sheet of ``rows`` under a header of (title, unit, least width) columns,
        filterable, its header and first ``frozen`` columns frozen, each column as wide as its
        content; continued on further sheets past Excel's last row. Returns the rows."""
        count, part = 0, 1
        widths = [max(least, *(len(w) + 2 for w in title.split())) for title, _, least in columns]
        kinds = [kind for _, kind, _ in columns]
        largest = [-1.0] * len(columns)
        sheet = self._sheet(name, columns, frozen)
        row = 1
        for values in rows:
            if row == MAX_ROWS:
                self._finish(sheet, row, columns, widths)
                part += 1
                sheet = self._sheet(f"{name} ({part})", columns, frozen)
                row = 1
            for col, value in enumerate(values):
                if isinstance(value, Cell):
                    shown = self.shown(value.value, value.kind)
                    fmt = self.formats[value.kind] if value.kind else None
                    sheet.write(row, col, _cell(value.value), fmt)
                else:
                    sheet.write(row, col, _cell(value))
                    # measured only when it may be wider than the column (most cells are not):
                    # a text longer than the width, a number larger than any before it
                    kind = type(value)
                    if kind is str:
                        if len(value) + 2 <= widths[col]:
                            continue
                    elif kind is float or kind is int:
                        if not abs(value) > largest[col]:
                            continue
                        largest[col] = abs(value)
                    shown = self.shown(value, kinds[col])
                if shown + 2 > widths[col]:
                    widths[col] = min(shown + 2, MAX_WIDTH)
            row += 1
            count += 1
        self._finish(sheet, row, columns, widths)
        return count

    def _sheet(self, name: str, columns: Sequence[tuple[str, Kind, int]], frozen: int) -> Any:
        sheet = self.book.add_worksheet(name)
        for i, (_, unit, width) in enumerate(columns):
            sheet.set_column(i, i, width, self.formats[unit] if unit else None)
        sheet.write_row(0, 0, [title for title, _, _ in columns], self.header)
        sheet.freeze_panes(1, frozen)
        return sheet

    def _finish(
        self,
        sheet: Any,
        rows: int,
        columns: Sequence[tuple[str, Kind, int]],
        widths: Sequence[int],
    ) -> None:
        for i, (_, unit, _) in enumerate(columns):
            sheet.set_column(i, i, widths[i], self.formats[unit] if unit else None)
        sheet.autofilter(0, 0, max(rows - 1, 0), len(columns) - 1)


class _Widths:
    """The widths a free-form sheet's columns need, noted as cells are written."""

    def __init__(self, book: _Book, sheet: Any, least: int = 8) -> None:
        self.book, self.sheet, self.least = book, sheet, least
        self.widths: dict[int, int] = {}

    def write(self, row: int, col: int, value: Any, kind: Kind = None, fmt: Any = None) -> None:
        if fmt is None and kind is not None:
            fmt = self.book.formats[kind]
        self.sheet.write(row, col, _cell(value), fmt)
        self.note(col, self.book.shown(value, kind))

    def row(self, row: int, values: Sequence[Any], fmt: Any = None) -> None:
        for col, value in enumerate(values):
            self.write(row, col, value, fmt=fmt)

    def note(self, col: int, shown: int) -> None:
        self.widths[col] = max(self.widths.get(col, self.least), min(shown + 2, MAX_WIDTH))

    def set(self, skip: Sequence[int] = ()) -> None:
        """Set the widths (``skip``: columns whose texts may run over the next, empty cells)."""
        for col, width in self.widths.items():
            if col not in skip:
                self.sheet.set_column(col, col, width)


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
    words = data.workspace.words
    wanted = pa.array(partners) if partners is not None else None

    def only(table: pa.Table, key: str = "partner_id") -> pa.Table:
        return table if wanted is None else table.filter(pc.is_in(table[key], wanted))

    def of_period(table: pa.Table, key: str = "partner_id") -> pa.Table:
        return only(table.filter(pc.equal(table["period_start"], start)), key)

    book = _Book(path, catalog, words)
    written: dict[str, int] = {}
    stamp = summary.stamp if summary else None
    if summary is not None:
        written["Summary"] = _summary_sheet(book, summary)
    if qbr is not None:
        written["QBR"] = _qbr_sheet(book, qbr)

    metrics = [m for m in catalog if not m.group_only]
    members = {r["partner_id"]: r for r in of_period(data.memberships.table).to_pylist()}
    names = _names(only(data.memberships.table))
    placed = {(t["partner_id"], t["ruleset"]): t for t in of_period(data.tiers.table).to_pylist()}
    cards = of_period(data.scorecards.table).sort_by([("score", "descending")])
    shown = [catalog[m] for m in data.workspace.config.reports.scorecard_metrics]
    values = of_period(data.results().table, "group_key")
    values = values.select(["group_key", *(m.name for m in shown)])
    by_partner = {r["group_key"]: r for r in values.to_pylist()}
    written["Scorecards"] = book.table(
        "Scorecards",
        [
            ("partner id", None, 10),
            ("partner", None, 20),
            ("partner type", None, 12),
            ("region", None, 10),
            ("program tier", None, 12),
            ("peer group", None, 16),
            ("period", None, 11),
            ("Score", Unit.SCORE, 8),
            ("percentile in peer group", "percentile", 11),
            ("percentile overall", "percentile", 11),
            ("evidence coverage", Unit.SHARE, 10),
            ("low evidence", None, 8),
            ("leading", Unit.SCORE, 8),
            ("lagging", Unit.SCORE, 8),
            ("revenue, trailing 12 months", Unit.MONEY, 14),
            ("revenue tier", None, 12),
            ("performance tier", None, 12),
            ("pending", None, 12),
            *((m.label, m.spec.unit, 12) for m in shown),
        ],
        (
            [
                c["partner_id"],
                names.get(c["partner_id"], c["partner_id"]),
                words.partner_type(members.get(c["partner_id"], {}).get("partner_type")),
                members.get(c["partner_id"], {}).get("region"),
                members.get(c["partner_id"], {}).get("program_tier"),
                words.cohort(c["cohort"]),
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
                    f"{str(t['ruleset']).capitalize()} → {t['pending']}"
                    for key in ("revenue", "performance")
                    if (t := placed.get((c["partner_id"], key))) and t["pending"]
                ),
                *(by_partner.get(c["partner_id"], {}).get(m.name) for m in shown),
            ]
            for c in cards.to_pylist()
        ),
        frozen=2,
    )
    written["Metrics"] = book.table(
        "Metrics",
        [
            ("partner id", None, 10),
            ("partner", None, 20),
            ("period", None, 11),
            ("period start", None, 11),
            ("complete", None, 8),
            *((m.label, m.spec.unit, 12) for m in metrics),
        ],
        _metric_rows(only(data.results().table, "group_key"), metrics, names),
        frozen=2,
    )
    written["Tiers"] = book.table(
        "Tiers",
        [
            ("partner id", None, 10),
            ("partner", None, 20),
            ("period", None, 11),
            ("rules", None, 12),
            ("placed", None, 12),
            ("effective", None, 12),
            ("pending", None, 12),
            ("periods below", Unit.COUNT, 8),
            ("moved", None, 8),
            ("reason", None, 40),
        ],
        (
            [
                t["partner_id"],
                names.get(t["partner_id"], t["partner_id"]),
                t["period"],
                str(t["ruleset"]).capitalize(),
                t["placed"],
                t["effective"],
                t["pending"],
                t["pending_periods"],
                t["moved"],
                t["reason"],
            ]
            for t in of_period(data.tiers.table).to_pylist()
        ),
        frozen=2,
    )
    written["Alerts"] = book.table(
        "Alerts",
        [
            ("partner id", None, 10),
            ("partner", None, 20),
            ("period", None, 11),
            ("severity", None, 9),
            ("kind", None, 15),
            ("metric", None, 20),
            ("value", None, 12),
            ("compared with", None, 12),
            ("status", None, 9),
            ("message", None, 40),
            ("alert id", None, 13),
        ],
        (
            [
                a["partner_id"],
                names.get(a["partner_id"], a["partner_id"]),
                a["period"],
                str(a["severity"] or "").capitalize(),
                words.alert_kind(str(a["kind"] or "")),
                words.metric(str(a["metric"])) if a["metric"] else None,
                Cell(a["value"], words.unit(a["metric"]) if a["metric"] else Unit.NUMBER),
                Cell(a["reference"], words.unit(a["metric"]) if a["metric"] else Unit.NUMBER),
                str(a["status"] or "").replace("_", " ").capitalize(),
                a["message"],
                a["alert_id"],
            ]
            for a in only(data.alerts.table).to_pylist()
        ),
        frozen=2,
    )
    written["Flags"] = book.table(
        "Flags",
        [
            ("partner id", None, 10),
            ("partner", None, 20),
            ("period", None, 11),
            ("flag", None, 14),
            ("criterion", None, 20),
            ("evidence", None, 40),
        ],
        (
            [
                f["partner_id"],
                names.get(f["partner_id"], f["partner_id"]),
                f["period"],
                words.flag(str(f["flag"])),
                words.criterion(str(f["criterion"])),
                f["evidence"],
            ]
            for f in only(data.flags.table).to_pylist()
        ),
        frozen=2,
    )
    written["Definitions"] = _definitions(book, data)
    book.book.set_properties(
        {
            "title": summary.title if summary else f"partnerscope run {data.run.run_id}, {label}",
            "subject": stamp.footer() if stamp else f"run {data.run.run_id}",
            "author": "partnerscope",
            "comments": f"partnerscope run {data.run.run_id}, {label}",
        }
    )
    book.book.close()
    return written


def _definitions(book: _Book, data: RunData) -> int:
    """The catalog by label: each metric's formula, what it reads and its minimum evidence
    with the metrics they name written by their labels (as the reports' Definitions
    appendix writes them), never a key."""
    from partnerscope.reports.content import Writer, formula_words

    catalog = data.workspace.catalog
    w = Writer(data)

    def label(name: str) -> str:
        return catalog[name].label.lower() if name in catalog.metrics else name

    def in_words(text: str | None) -> str | None:
        """A description with the metrics it names by their labels."""
        if not text:
            return text
        text = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: label(m.group(0)), text)
        return re.sub(r"\bnull\b", "empty", text)

    return book.table(
        "Definitions",
        [
            ("metric", None, 20),
            ("unit", None, 10),
            ("better", None, 8),
            ("version", Unit.COUNT, 8),
            ("definition", None, 30),
            ("reads", None, 16),
            ("minimum evidence", None, 16),
            ("description", None, 40),
        ],
        (
            [
                m.label,
                m.spec.unit.value.replace("_", " ").capitalize(),
                {"higher": "Higher", "lower": "Lower"}.get(m.spec.direction.value, "—"),
                m.spec.version,
                in_words(formula_words(w, m)),
                (m.entity or "").replace("_", " ").capitalize()
                or ", ".join(catalog[d].label if d in catalog.metrics else d for d in m.depends_on),
                (
                    f"{label(m.evidence_metric) if m.evidence_metric else 'rows'} "
                    f"≥ {m.spec.min_evidence:g}"
                    if m.spec.min_evidence is not None
                    else None
                ),
                in_words(m.spec.description),
            ]
            for m in catalog
        ),
        frozen=1,
    )


def _names(memberships: pa.Table) -> dict[str, str]:
    """Each partner's latest name, by id (the id where it has none)."""
    ids = memberships["partner_id"].to_pylist()
    names = memberships["name"].to_pylist()
    return {pid: name or pid for pid, name in zip(ids, names, strict=True)}


def _metric_rows(
    table: pa.Table, metrics: Sequence[Any], names: dict[str, str]
) -> Iterable[list[Any]]:
    """Each partner × period row of the run's values, column by column into rows (a batch at
    a time, so the whole table is never a list of dicts)."""
    columns = ["group_key", "label", "period_start", "complete", *(m.name for m in metrics)]
    table = table.select(columns)
    for batch in table.to_batches(max_chunksize=20_000):
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for pid, label, start, complete, *rest in zip(*values, strict=True):
            yield [pid, names.get(pid, pid), label, start, "yes" if complete else "no", *rest]


def _change(book: _Book, figure: Figure | None, before: float | None = None) -> Cell:
    """A change as a number in a format saying what it is: points for a share, a score's
    points for a score, else relative to the value before (empty from nothing)."""
    if figure is None or figure.value is None:
        return Cell(None, None)
    unit = book.unit(figure.metric)
    if figure.metric == "score_change" or unit is Unit.SCORE:
        return Cell(figure.value, "score change")
    if unit is Unit.SHARE:
        return Cell(100 * figure.value, "points")
    if before is None or before == 0:
        return Cell(None, None)
    return Cell(figure.value / abs(before), "relative")


def _summary_sheet(book: _Book, report: Report) -> int:
    """The executive summary's numbers, with a native Excel chart of the tiers to the right
    of every table (so it covers none)."""
    sheet = book.book.add_worksheet("Summary")
    cells = _Widths(book, sheet)
    sheet.write(0, 0, report.title, book.title)
    sheet.write(1, 0, report.stamp.footer(), book.muted)
    row = 3
    cells.row(row, ["measure", report.period, "goal", "change", "note"], book.header)
    # the strategic objectives first (with "No data yet" and what would fill it in the note),
    # then the other figures
    objectives = report.sections.get("objectives", [])
    named = {o["name"] for o in objectives}
    for k in [*objectives, *(k for k in report.sections["kpis"] if k["name"] not in named)]:
        row += 1
        value: Figure = k["value"]
        unit = book.unit(value.metric)
        cells.write(row, 0, k["label"])
        if k.get("note"):
            cells.write(row, 4, k["note"])
        cells.write(row, 1, value.value, unit)
        cells.write(row, 2, k["goal"].value if k["goal"] else None, unit)
        before = None
        change = k["change"]
        if change is not None and change.value is not None and value.value is not None:
            before = value.value - change.value
        moved = _change(book, change, before)
        cells.write(row, 3, moved.value, moved.kind)
    row += 2
    first = row + 1
    cells.row(row, ["tier", "rules", "partners", "moved up", "moved down", "pending"], book.header)
    for t in report.sections["tiers"]:
        row += 1
        cells.row(
            row,
            [
                t["tier"],
                str(t["ruleset"]).capitalize(),
                t["partners"],
                t["up"],
                t["down"],
                t["pending"],
            ],
        )
    last = row
    for movers in ("risers", "decliners"):
        row += 2
        cells.row(row, [movers, "partner id", "Score", "change"], book.header)
        for r in report.sections[movers]:
            row += 1
            cells.write(row, 0, r["name"])
            cells.write(row, 1, r["partner_id"])
            cells.write(row, 2, r["score"].value, Unit.SCORE)
            moved = _change(book, r["change"])
            cells.write(row, 3, moved.value, moved.kind)
    cells.set()
    chart = book.book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "partners",
            "categories": ["Summary", first, 0, last, 0],
            "values": ["Summary", first, 2, last, 2],
            "fill": {"color": "#2563eb"},
        }
    )
    chart.set_title({"name": f"Partners per tier, {report.period}"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    # one empty column between the widest table and the chart
    sheet.insert_chart(3, max(cells.widths) + 2, chart, {"x_scale": 1.2, "y_scale": 1.3})
    return row + 1


def _qbr_sheet(book: _Book, report: Report) -> int:
    """A partner's QBR: plan against actual by month, then each section's table, with a chart
    of the plan to the right of every table."""
    sheet = book.book.add_worksheet("QBR")
    cells = _Widths(book, sheet)
    sheet.write(0, 0, report.title, book.title)
    sheet.write(1, 0, report.stamp.footer(), book.muted)
    row = 3
    cells.row(row, ["month", "won", "plan", "won to date", "attainment to date"], book.header)
    first = row + 1
    for r in report.sections["plan"]:
        row += 1
        cells.write(row, 0, r["month"])
        for col, key in enumerate(("actual", "plan", "won_to_date", "to_date"), start=1):
            cells.write(row, col, r[key].value, book.unit(r[key].metric))
    last = row
    # the service-quality and retention tables (where the partner has their data) have no
    # year-ago column: left empty
    for section in [*report.sections["sections"], *report.sections.get("measures", [])]:
        row += 2
        cells.row(
            row, [section["title"], report.period, "previous", "a year ago", "goal"], book.header
        )
        for r in section["rows"]:
            row += 1
            unit = book.unit(r["name"])
            cells.write(row, 0, r["label"])
            for col, key in enumerate(("value", "previous", "year_ago", "goal"), start=1):
                f = r.get(key)
                cells.write(row, col, f.value if f else None, unit)
    row += 2
    cells.row(row, ["actions: from", "action"], book.header)
    for a in report.sections["actions"]:
        row += 1
        cells.row(row, [a["source"], a["action"]])
    cells.set()
    chart = book.book.add_chart({"type": "column"})
    for col, name in ((1, "won"), (2, "plan")):
        chart.add_series(
            {
                "name": name,
                "categories": ["QBR", first, 0, last, 0],
                "values": ["QBR", first, col, last, col],
            }
        )
    chart.set_title({"name": "Won revenue against plan"})
    sheet.insert_chart(3, max(cells.widths) + 2, chart)
    return row + 1
