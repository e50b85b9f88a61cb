"""The decision record: the framework's template, Frame → Compare → Commit, plus its reviews.

A record is one validated document. *Frame* says what is decided, by whom, over what horizon;
*Compare* holds the options (a scenario spec: each option is a set of overrides of the modelled
inputs), the evidence (metric values cited from a named run, so the record keeps the numbers it
was decided on), and facts, assumptions and open questions kept apart; *Commit* holds the choice,
the review plan and the reversal signals; reviews append what each review concluded.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from partnerscope.scenarios.spec import Criterion, Option, ScenarioSpec

if TYPE_CHECKING:
    from partnerscope.present import Words


class Status(StrEnum):
    DRAFT = "draft"
    COMMITTED = "committed"
    STOPPED = "stopped"
    CLOSED = "closed"


class ReviewKind(StrEnum):
    INITIAL = "initial"
    OPERATING = "operating"
    POST = "post"


class Outcome(StrEnum):
    CONTINUE = "continue"
    ADAPT = "adapt"
    STOP = "stop"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Frame(_Model):
    decision: str = Field(min_length=1)
    owner: str | None = None
    horizon_months: int = Field(default=12, ge=1, le=120)
    scope: str = ""
    background: str = ""
    objective: str = ""


class ForecastCited(_Model):
    """What an Evidence citing a forecast keeps beside the value: the interval, the method and
    how good the method was in the run's backtest when it was cited."""

    #: periods after the run's last complete one (1: the next)
    step: int
    method: str
    lo_80: float | None = None
    hi_80: float | None = None
    #: the method beat the better baseline by predict.skill_margin in the backtest
    skill: bool
    #: the series' backtest MASE of the method and of the better baseline
    mase: float | None = None
    mase_baseline: float | None = None
    #: cases scored in the run's forecast backtest, and the share of actuals its 80% intervals
    #: held
    backtest_n: int = 0
    coverage_80: float | None = None
    note: str | None = None


class Evidence(_Model):
    """A metric value cited from a run, with what the catalog asks as its minimum evidence; or
    a forecast cited from a run (``forecast`` set), with its backtest."""

    metric: str
    level: str
    group: str
    grain: str
    period: str
    value: float | None
    run_id: int
    definitions_version: str
    evidence_metric: str | None = None
    evidence_value: float | None = None
    min_evidence: float | None = None
    note: str = ""
    forecast: ForecastCited | None = None

    @property
    def sufficient(self) -> bool:
        """A measured value that reaches the catalog's minimum evidence; a forecast whose
        method showed skill in the backtest."""
        if self.value is None:
            return False
        if self.forecast is not None:
            return self.forecast.skill
        if self.min_evidence is None or self.evidence_metric is None:
            return True
        return self.evidence_value is not None and self.evidence_value >= self.min_evidence

    def weakness(self, words: Words | None = None) -> str | None:
        """Why the value is not enough to decide on (None: it is), in ``words`` when given."""
        if self.sufficient:
            return None
        if self.forecast is not None and self.value is not None:
            return (
                f"a forecast with no measured skill: it is the {self.forecast.method}, the "
                "better baseline in the backtest"
            )
        if self.min_evidence is not None and self.evidence_metric is not None:
            if words is not None:
                metric = self.evidence_metric
                return (
                    f"{words.metric(metric)} is {words.of_metric(metric, self.evidence_value)}, "
                    f"under the minimum evidence of {words.of_metric(metric, self.min_evidence)}"
                )
            return (
                f"{self.evidence_metric} = {_plain(self.evidence_value)}, under the minimum "
                f"evidence of {_plain(self.min_evidence)}"
            )
        return "no value (undefined for lack of data)"

    @property
    def scope(self) -> str:
        return (
            self.level if self.level in ("portfolio", "company") else f"{self.level} {self.group}"
        )

    def where(self) -> str:
        kind = " forecast" if self.forecast is not None else ""
        return f"{self.scope}, {self.period}{kind}, run {self.run_id}"

    def forecast_text(self, words: Words) -> str:
        """The cited forecast and its backtest in words ("" for a measured value): ``Forecast
        by AutoETS, 1 quarter ahead: $1.2M (80% interval $1.0M to $1.4M). Backtest: error
        (MASE) 0.71 against 0.81 for the better baseline, 12.0% lower, over 16 cases; 80%
        intervals held 81.2% of the actuals.`` A forecast without skill ends with its note
        (why the baseline is the forecast).``"""
        f = self.forecast
        if f is None:
            return ""

        def money(value: float | None) -> str:
            return words.of_metric(self.metric, value)

        ahead = f"{f.step} {self.grain}{'' if f.step == 1 else 's'} ahead"
        band = (
            f" (80% interval {money(f.lo_80)} to {money(f.hi_80)})"
            if f.lo_80 is not None and f.hi_80 is not None
            else ""
        )
        head = f"Forecast by {f.method}, {ahead}: {money(self.value)}{band}."
        # the backtest is of the quarterly forecasts: a monthly one is cited with those
        quarterly = "" if self.grain == "quarter" else " of the quarterly forecasts"
        cases = f", over {f.backtest_n:,} cases{quarterly}" if f.backtest_n else ""
        if not f.skill:
            error = f"error (MASE) {words.number(f.mase, digits=2)}" if f.mase is not None else ""
        elif f.mase is not None and f.mase_baseline is not None and f.mase_baseline > 0:
            gain = 1.0 - f.mase / f.mase_baseline
            error = (
                f"error (MASE) {words.number(f.mase, digits=2)} against "
                f"{words.number(f.mase_baseline, digits=2)} for the better baseline, "
                f"{words.share(gain)} lower"
            )
        else:
            error = ""
        error = error or "no error measured"
        held = (
            f"; 80% intervals held {words.share(f.coverage_80)} of the actuals"
            if f.coverage_80 is not None
            else ""
        )
        said = f.note or ("" if f.skill else "no measured skill: the forecast is this baseline")
        tail = f" {said[:1].upper()}{said[1:]}{'' if said.endswith('.') else '.'}" if said else ""
        return f"{head} Backtest: {error}{cases}{held}.{tail}"


class Risk(_Model):
    risk: str
    mitigation: str = ""


class Signal(_Model):
    """A condition on catalog metrics (see :mod:`partnerscope.decisions.signals`)."""

    condition: str
    kind: Literal["reversal", "stop"] = "reversal"


class Compare(_Model):
    #: the options (A, the current approach, by default), the criteria and the modelled inputs
    scenario: ScenarioSpec = Field(default_factory=ScenarioSpec)
    constraints: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    trade_offs: list[str] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    success_metrics: list[str] = Field(default_factory=list)
    #: the scenario model's summary from `decide compare` (run, seed, bands, break-even)
    result: dict[str, Any] | None = None

    @property
    def options(self) -> list[Option]:
        return self.scenario.options

    @property
    def criteria(self) -> list[Criterion]:
        return self.scenario.criteria


class ReviewPlan(_Model):
    first: date
    every_months: int = Field(default=3, ge=1, le=24)
    post: date

    @model_validator(mode="after")
    def _ordered(self) -> ReviewPlan:
        if self.post < self.first:
            raise ValueError(f"the post-review ({self.post}) is before the first review")
        return self


class Commit(_Model):
    option: str
    rationale: str = Field(min_length=1)
    owner: str
    timeline: str = ""
    committed_on: date
    committed_by: str
    review: ReviewPlan
    signals: list[Signal] = Field(default_factory=list)


class Review(_Model):
    scheduled: date
    kind: ReviewKind
    held_on: date
    outcome: Outcome
    why: str = Field(min_length=1)
    by: str
    run_id: int | None = None


class DecisionRecord(_Model):
    decision_id: int
    status: Status = Status.DRAFT
    frame: Frame
    compare: Compare = Field(default_factory=Compare)
    commit: Commit | None = None
    reviews: list[Review] = Field(default_factory=list)
    created_at: datetime
    created_by: str
    #: how many times the record was stored; a change to an older version is refused
    version: int = 1

    @property
    def ref(self) -> str:
        return f"DEC-{self.decision_id:04d}"

    @property
    def title(self) -> str:
        return self.frame.decision

    @property
    def owner(self) -> str | None:
        return self.commit.owner if self.commit else self.frame.owner

    def option(self, key: str) -> Option | None:
        return next((o for o in self.compare.options if o.key == key), None)


def scope_label(level: str, group: str) -> str:
    """``portfolio``, ``company`` or ``program_tier Gold``."""
    return level if level in ("portfolio", "company") else f"{level} {group}"


def _plain(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"
