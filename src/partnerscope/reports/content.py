"""What every report is made of, read from a stored run: plain data (numbers with their
formatted text, chart specs) that the HTML/PDF templates and the Excel workbook lay out, and
that the web app can serve as JSON. Nothing here computes a metric: values come from the run's
files. Each report makes its content in a module of its own (:mod:`.scorecard`, :mod:`.qbr`,
:mod:`.executive`) from the pieces here: the :class:`Report` with its :class:`Stamp`, the
:class:`Writer` of figures, the cohort medians and the charts they share.

Every figure is a :class:`Figure` carrying the metric name and the raw value beside its text,
so a report can be checked against the run (the HTML writes both into ``data-`` attributes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partnerscope import __version__
from partnerscope.errors import PartnerscopeError
from partnerscope.metrics.definition import Direction, Unit
from partnerscope.present import MISSING

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Metric
    from partnerscope.present import Words

if TYPE_CHECKING:
    import numpy as np

    from partnerscope.evaluation.view import RunData


class ReportError(PartnerscopeError, ValueError):
    """A report that cannot be made from this run (a partner or period it does not have)."""


@dataclass(frozen=True)
class Figure:
    """One number of a report: the metric it is, its value in the run and how it is written."""

    metric: str
    value: float | None
    text: str
    #: "good" or "bad" when the figure is judged (against a goal or the previous period)
    judged: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None and not math.isnan(self.value)


@dataclass(frozen=True)
class Stamp:
    """Where a report's figures come from: the run and its date in every page's footer, the
    rest (configuration, definitions, engine and versions) in the report's "About this run"
    section at its end."""

    workspace: str
    run_id: int
    as_of: str
    config_hash: str
    definitions_version: str
    engine: str
    partnerscope: str
    #: the as-of time in words (``Jul 1, 2024, 00:00 UTC``)
    as_of_text: str = ""

    def footer(self) -> str:
        """The page footer's line: the run and the time its data is as of."""
        return f"{self.workspace} · run {self.run_id} · data as of {self.as_of_text or self.as_of}"

    def line(self) -> str:
        """The stamp in one line, as a workbook's summary writes it (a part left empty, as in
        a partner's edition, is left out)."""
        parts = [
            f"run {self.run_id}",
            f"as of {self.as_of} UTC",
            f"config {self.config_hash}" if self.config_hash else "",
            f"definitions {self.definitions_version}" if self.definitions_version else "",
            self.engine,
            f"partnerscope {self.partnerscope}" if self.partnerscope else "",
        ]
        return " · ".join(p for p in parts if p)

    def about(self) -> list[tuple[str, str]]:
        """The "About this run" lines (a part left empty, as in a partner's edition, is left
        out). The configuration's and definitions' fingerprints are no reading matter: the
        report keeps them in attributes (``data-config-hash``, ``data-definitions``) for a
        check against the run, and the run's own page shows them."""
        parts = [
            ("Run", str(self.run_id)),
            ("Data as of", self.as_of_text or self.as_of),
            ("Engine", self.engine),
            ("partnerscope", self.partnerscope),
        ]
        return [(k, v) for k, v in parts if v]


@dataclass
class Report:
    """A report ready to lay out."""

    kind: str
    title: str
    subtitle: str
    stamp: Stamp
    period: str
    partner_id: str | None = None
    sections: dict[str, Any] = field(default_factory=dict)
    #: name → Vega-Lite spec (rendered to SVG for HTML/PDF, embedded as-is by the web)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: how the report writes what its templates write themselves (counts, dates)
    words: Words = field(default_factory=lambda: _default_words())


def _default_words() -> Words:
    from partnerscope.present import Words

    return Words()


def stamp(data: RunData) -> Stamp:
    run = data.run
    kind = run.engine.get("kind", "")
    return Stamp(
        workspace=data.workspace.config.workspace.name,
        run_id=run.run_id,
        as_of=run.as_of,
        config_hash=run.config_hash,
        definitions_version=run.definitions_version,
        engine=f"{kind} {run.engine.get(kind, '')}".strip(),
        partnerscope=__version__,
        # the date in the locale's words, the time on the 24-hour clock the store keeps (UTC)
        as_of_text=f"{data.workspace.words.date(run.as_of_time)}, {run.as_of_time:%H:%M} UTC",
    )


def definitions(w: Writer, names: list[str]) -> list[dict[str, str]]:
    """The "Definitions" appendix: each metric of the report by its label, what it means, and
    its formula in words (the metrics it is made of by their labels)."""
    out = []
    for name in dict.fromkeys(names):
        if name not in w.catalog.metrics:
            continue
        metric = w.catalog[name]
        out.append(
            {
                "label": metric.label,
                "description": _unbroken_end(in_words(w, metric.spec.description)),
                "formula": _unbroken_end(formula_words(w, metric)),
            }
        )
    return out


def _unbroken_end(text: str) -> str:
    """``text`` with its last two words held together (a no-break space): a line never ends
    on a lone word such as "certifications" that reads as a code."""
    head, space, last = text.rpartition(" ")
    return f"{head}\u00a0{last}" if space else text


def in_words(w: Writer, text: str) -> str:
    """``text`` with the catalog metrics it names written by their labels (a description
    may say ``won_revenue / quota``; a reader sees "won revenue / quota"), any other name
    with underscores as words (``closed_at``: "closed at"), and a SQL null as "empty"."""
    import re

    catalog = w.catalog

    def label(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in catalog.metrics:
            return catalog[word].label.lower()
        if word == "null":
            return "empty"
        return word.replace("_", " ").replace(".", " ")

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", label, text)


#: an aggregate's function in words
AGGREGATES = {
    "sum": "sum of",
    "count": "count of",
    "mean": "mean of",
    "median": "median of",
    "count_distinct": "number of distinct",
}


def formula_words(w: Writer, metric: Metric) -> str:
    """A metric's formula in words: a ratio or formula with the metrics it names written by
    their labels (``won revenue ÷ quota``); an aggregate as its function over its entity
    (``sum of amount over opportunities``), without the filter's SQL."""
    import re

    from partnerscope.metrics.definition import Kind

    if metric.kind is Kind.AGGREGATE:
        s = metric.spec
        measure = s.measure or ""
        agg = AGGREGATES.get(str(s.agg), str(s.agg))
        if str(s.agg) == "diversity":
            text = f"1 − Herfindahl index of the shares of {measure} by {s.by} over {s.entity}"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", measure):
            text = f"{agg} {measure} over {s.entity}"
        elif str(s.agg) in ("count", "count_distinct"):
            text = f"number of {s.entity}"
        else:
            text = f"{agg.removesuffix(' of')} over {s.entity}"
        return in_words(w, text)
    return in_words(w, metric.formula_text()).replace(" / ", " ÷ ")


class Writer:
    """Formats a run's values as figures, in the workspace's units and currency."""

    def __init__(self, data: RunData) -> None:
        self.catalog = data.workspace.catalog
        self.currency = data.workspace.config.workspace.base_currency
        self.words: Words = data.workspace.words

    def unit(self, metric: str) -> Unit:
        return self.catalog[metric].spec.unit if metric in self.catalog.metrics else Unit.NUMBER

    def fig(
        self, metric: str, value: Any, *, goal: float | None = None, compact: bool = False
    ) -> Figure:
        """A figure of ``metric`` in its unit (``compact``: money as ``$52.3M``, for a tile)."""
        number = as_number(value)
        judged = ""
        if goal is not None and number is not None:
            judged = "good" if self.better_or_equal(metric, number, goal) else "bad"
        text = self.words.of_metric(metric, number, compact=compact)
        return Figure(metric, number, text, judged)

    def money(self, metric: str, value: Any, *, compact: bool = False) -> Figure:
        """A money figure, compact (``$52.3M``) where a tile or a chart shows it."""
        number = as_number(value)
        return Figure(metric, number, self.words.money(number, compact=compact))

    def better_or_equal(self, metric: str, value: float, other: float) -> bool:
        lower = metric in self.catalog.metrics and (
            self.catalog[metric].spec.direction is Direction.LOWER
        )
        return value <= other if lower else value >= other

    def change(self, metric: str, value: Any, previous: Any) -> Figure:
        """The change from the previous period, judged by the metric's direction."""
        now, before = as_number(value), as_number(previous)
        if now is None or before is None:
            return Figure(metric, None, "")
        delta = now - before
        text = self.words.change(metric, now, before)
        judged = ""
        direction = self.catalog[metric].spec.direction if metric in self.catalog.metrics else None
        if delta and direction in (Direction.HIGHER, Direction.LOWER):
            judged = "good" if (delta > 0) == (direction is Direction.HIGHER) else "bad"
        return Figure(metric, delta, text, judged)


def as_number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def pct_text(value: float | None) -> str:
    """A rank among peers (0–1) in words: ``62nd percentile``."""
    from partnerscope.present import Words

    return Words().percentile(value)


def score_text(value: float | None) -> str:
    """A score (0–100) to one decimal."""
    from partnerscope.present import Words

    return Words().number(value, digits=1)


def alert_row(alert: dict[str, Any], w: Writer | None = None) -> dict[str, Any]:
    """An alert as a report lists it: its kind and metric in words (``kind_text``,
    ``metric_text``) beside the keys, which only go into attributes."""
    keys = ("alert_id", "partner_id", "period", "kind", "metric", "severity", "message", "status")
    row = {k: alert.get(k) for k in keys}
    from partnerscope.present import Words

    words = w.words if w is not None else Words()
    row["kind_text"] = words.alert_kind(str(row["kind"] or ""))
    row["metric_text"] = words.metric(str(row["metric"])) if row["metric"] else MISSING
    row["severity_text"] = str(row["severity"] or "").capitalize()
    row["status_text"] = str(row["status"] or "").replace("_", " ").capitalize()
    return row


def trend_chart(
    w: Writer, rows: list[dict[str, Any]], metric: str, title: str, goals: dict[str, float]
) -> dict[str, Any]:
    """A metric over the periods of ``rows`` (a run's result rows), with its goal line."""
    from partnerscope.reports import charts

    return charts.spec(
        "line",
        [{"period": r["label"], "value": as_number(r.get(metric))} for r in rows],
        title=title,
        unit=w.unit(metric),
        goal=goals.get(metric),
        currency=w.currency,
    )


class CohortMedians:
    """The median of each metric among a partner's scoring cohort, per period (computed once
    per period for every cohort, then looked up)."""

    def __init__(self, data: RunData) -> None:
        self.data = data
        self._by_period: dict[Any, dict[str, dict[str, float | None]]] = {}

    def of(self, start: Any, cohort: str | None) -> dict[str, float | None]:
        if start not in self._by_period:
            self._by_period[start] = self._compute(start)
        return self._by_period[start].get(cohort or "", {})

    def _compute(self, start: Any) -> dict[str, dict[str, float | None]]:
        import numpy as np
        import pyarrow.compute as pc

        cards = self.data.scorecards.table
        cards = cards.filter(pc.equal(cards["period_start"], start))
        cohort_of = dict(
            zip(cards["partner_id"].to_pylist(), cards["cohort"].to_pylist(), strict=True)
        )
        values = self.data.results().table
        values = values.filter(pc.equal(values["period_start"], start))
        keys = np.array([cohort_of.get(k) or "" for k in values["group_key"].to_pylist()])
        out: dict[str, dict[str, float | None]] = {}
        metrics = [m for m in self.data.workspace.catalog if m.name in values.column_names]
        columns = {
            m.name: values[m.name].to_numpy(zero_copy_only=False).astype(float) for m in metrics
        }
        groups = {c: keys == c for c in set(keys)}
        # a partner compared with the whole portfolio has the portfolio's median
        groups["portfolio"] = np.ones(len(keys), dtype=bool)
        for cohort, mask in groups.items():
            out[cohort] = {name: _median(column[mask]) for name, column in columns.items()}
        return out


def _median(values: np.ndarray[Any, Any]) -> float | None:
    import numpy as np

    known = values[~np.isnan(values)]
    return float(np.median(known)) if known.size else None
