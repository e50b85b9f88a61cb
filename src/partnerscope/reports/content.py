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
from partnerscope.metrics.format import MISSING, format_value

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
    """Where a report's figures come from: printed on every report."""

    workspace: str
    run_id: int
    as_of: str
    config_hash: str
    definitions_version: str
    engine: str
    partnerscope: str

    def line(self) -> str:
        """The stamp in one line (a part left empty, as in a partner's edition, is left out)."""
        parts = [
            f"run {self.run_id}",
            f"as of {self.as_of} UTC",
            f"config {self.config_hash}" if self.config_hash else "",
            f"definitions {self.definitions_version}" if self.definitions_version else "",
            self.engine,
            f"partnerscope {self.partnerscope}" if self.partnerscope else "",
        ]
        return " · ".join(p for p in parts if p)


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
    )


class Writer:
    """Formats a run's values as figures, in the workspace's units and currency."""

    def __init__(self, data: RunData) -> None:
        self.catalog = data.workspace.catalog
        self.currency = data.workspace.config.workspace.base_currency

    def unit(self, metric: str) -> Unit:
        return self.catalog[metric].spec.unit if metric in self.catalog.metrics else Unit.NUMBER

    def fig(self, metric: str, value: Any, *, goal: float | None = None) -> Figure:
        number = as_number(value)
        judged = ""
        if goal is not None and number is not None:
            judged = "good" if self.better_or_equal(metric, number, goal) else "bad"
        return Figure(
            metric, number, format_value(number, self.unit(metric), self.currency), judged
        )

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
        unit = self.unit(metric)
        if unit is Unit.SHARE:
            text = f"{100 * delta:+.1f} pt"
        elif before != 0:
            text = f"{100 * delta / abs(before):+.0f} %"
        else:
            text = "new" if delta else "="
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
    return MISSING if value is None or value != value else f"{100 * value:.0f} %"


def score_text(value: float | None) -> str:
    return MISSING if value is None or value != value else f"{value:.1f}"


def alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    keys = ("alert_id", "partner_id", "period", "kind", "metric", "severity", "message", "status")
    return {k: alert.get(k) for k in keys}


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
