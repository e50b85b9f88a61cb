"""The evaluation sections of ``partnerscope.toml``: scorecard, tiers, flags and alerts.

Everything here is data: weights, normalization, tier rules, exit criteria and alert thresholds.
:func:`check` validates the names against the metric catalog, with every problem located.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog

#: Values a scorecard computes besides the catalog's metrics, usable in tier rules and alerts.
#: score: composite 0–100; score_percentile: the score's percentile rank in the whole portfolio
#: in the same period, 0–1; cohort_percentile: the same within the peer cohort;
#: evidence_coverage: share of the weight that had evidence, 0–1;
#: annual_revenue: won revenue over the 12 months ending at the period's end.
DERIVED = ("score", "score_percentile", "cohort_percentile", "evidence_coverage", "annual_revenue")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Method(StrEnum):
    """How a metric's value becomes a 0–100 score within its peer cohort."""

    PERCENTILE = "percentile"
    ROBUST_Z = "robust_z"
    MIN_MAX = "min_max"
    TARGET = "target"


class Cohort(StrEnum):
    """The peers a partner is normalized against."""

    PORTFOLIO = "portfolio"
    PARTNER_TYPE = "partner_type"
    REGION = "region"
    REVENUE_BAND = "revenue_band"
    PROGRAM_TIER = "program_tier"


Share = Annotated[float, Field(ge=0, le=1)]

#: The framework's balance of results (lagging) and the activity that leads to them (leading).
DEFAULT_WEIGHTS: dict[str, float] = {
    "won_revenue": 0.20,
    "quota_attainment": 0.20,
    "win_rate": 0.10,
    "csat": 0.10,
    "open_pipeline": 0.10,
    "lead_sla_rate": 0.10,
    "enablement_completion": 0.10,
    "compliance_score": 0.10,
}


class ScorecardSettings(_Strict):
    grain: Literal["month", "quarter", "year"] = "quarter"
    cohort: Cohort = Cohort.REVENUE_BAND
    method: Method = Method.PERCENTILE
    weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS)
    )
    #: A method per metric where it differs from ``method``.
    methods: dict[str, Method] = Field(default_factory=dict)
    #: Targets of the metrics scored by attainment (method "target").
    targets: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    #: A cohort with fewer partners in a period than this is too small to compare within:
    #: its partners are compared with the whole portfolio instead.
    min_cohort_size: Annotated[int, Field(ge=1)] = 5
    #: Robust z-scores are clipped to ± this many (scaled) MADs; ±clip maps to 0 and 100.
    z_clip: Annotated[float, Field(gt=0)] = 3.0
    #: Shares of counted events pulled toward the cohort's rate when measured on few events
    #: (empirical Bayes). Each must be a ratio of two counts with unit "share".
    shrink: tuple[str, ...] = ("win_rate", "lead_sla_rate", "lead_conversion_rate")
    #: A score whose metrics with evidence carry less than this share of the weight is flagged.
    min_coverage: Share = 0.6
    #: Score partners marked ``inactive`` in the partners file, and partners in the periods
    #: before they joined (``joined_at``). Off: they are left out of the scores, the ranks,
    #: the peer cohorts and the tiers, and shown as "not scored" with the reason.
    score_inactive: bool = False
    #: Metrics shown as leading indicators; every other weighted metric is lagging.
    leading: tuple[str, ...] = (
        "open_pipeline",
        "new_pipeline",
        "pipeline_velocity",
        "lead_sla_rate",
        "median_response_hours",
        "lead_conversion_rate",
        "enablement_completion",
        "certified_people",
        "mdf_spend",
        "mdf_pipeline_ratio",
        "compliance_score",
    )

    @field_validator("weights")
    @classmethod
    def _sum_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("give at least one metric a weight")
        total = sum(value.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"the weights sum to {total:.6g}; make them sum to 1 "
                "(each is the share of the score the metric carries)"
            )
        return value

    @model_validator(mode="after")
    def _targets_given(self) -> ScorecardSettings:
        missing = [m for m in self.weights if self.method_of(m) is Method.TARGET]
        missing = [m for m in missing if m not in self.targets]
        if missing:
            raise ValueError(
                f"scored by target but no target given for {', '.join(missing)}: add them "
                "under [scorecard.targets]"
            )
        return self

    def method_of(self, metric: str) -> Method:
        return self.methods.get(metric, self.method)


class TierLevel(_Strict):
    """One tier: the partner must reach every ``min`` and stay at or under every ``max``.
    Levels are tried from the top; the first whose conditions all hold is the placement, and
    a level without conditions takes everyone left."""

    name: Annotated[str, Field(min_length=1)]
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)


class TierRules(_Strict):
    levels: list[TierLevel]
    #: A downgrade takes effect after this many consecutive periods placed below the current
    #: tier; an upgrade takes effect at once.
    downgrade_after: Annotated[int, Field(ge=1)] = 2

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[TierLevel]) -> list[TierLevel]:
        names = [level.name for level in value]
        if len(set(names)) != len(names):
            raise ValueError("each tier needs its own name")
        if not value or value[-1].min or value[-1].max:
            raise ValueError(
                "the last tier must have no conditions, so that every partner gets a tier"
            )
        return value


def _revenue_tiers() -> TierRules:
    return TierRules(
        levels=[
            TierLevel(name="Tier 1 strategic", min={"annual_revenue": 10_000_000}),
            TierLevel(name="Tier 2 growth", min={"annual_revenue": 2_000_000}),
            TierLevel(name="Tier 3 development", min={"annual_revenue": 500_000}),
            TierLevel(name="Registered"),
        ]
    )


def _performance_tiers() -> TierRules:
    # "≥ 95 % CSAT" on the default 1–5 survey scale: a mean of at least 95 % of 5
    return TierRules(
        levels=[
            TierLevel(
                name="Elite",
                min={"score_percentile": 0.90, "quota_attainment": 1.50, "csat": 4.75},
            ),
            TierLevel(name="Performance", min={"quota_attainment": 0.80, "csat": 4.25}),
            TierLevel(name="Development", min={"quota_attainment": 0.50}),
            TierLevel(name="Under review"),
        ]
    )


Ruleset = Literal["revenue", "performance"]
#: the tier rule sets, each a field of ``TierSettings`` (evaluated in this order)
RULESETS: tuple[str, ...] = ("revenue", "performance")


def _revenue_only() -> list[Ruleset]:
    return ["revenue"]


class TierSettings(_Strict):
    revenue: TierRules = Field(default_factory=_revenue_tiers)
    performance: TierRules = Field(default_factory=_performance_tiers)
    #: the rule sets a partner is shown of itself (its tier and what the next one needs); the
    #: performance tier ranks a partner against its peers, a judgement kept internal by default
    shown_to_partners: list[Ruleset] = Field(default_factory=_revenue_only)


class ExitCriteria(_Strict):
    """The framework's exit criteria; any one of them flags a partner for exit review."""

    #: Consecutive fiscal months with quota_attainment below ``below_quota`` …
    below_quota_months: Annotated[int, Field(ge=1)] = 6
    below_quota: Annotated[float, Field(gt=0)] = 0.5
    #: … scorecard periods, within the last ``csat_window``, with csat under ``csat_below``
    #: ("repeated CSAT issues") …
    csat_below: float = 3.5
    csat_periods: Annotated[int, Field(ge=1)] = 2
    csat_window: Annotated[int, Field(ge=1)] = 4
    #: … or a compliance_score under this in the latest period (a violation).
    compliance_below: Annotated[float, Field(ge=0, le=100)] = 70.0


class ImprovementCriteria(_Strict):
    """Underperformers: flagged for an improvement plan."""

    #: Composite score in the bottom share of its cohort (judged only in a cohort of at least
    #: ``min_cohort`` scored partners: in a smaller one the bottom share is one partner or none) …
    bottom_share: Share = 0.10
    min_cohort: Annotated[int, Field(ge=2)] = 5
    #: … or falling for this many consecutive periods …
    declining_periods: Annotated[int, Field(ge=2)] = 3
    #: … by at least this many points in total; or won revenue over the trailing year falling
    #: for as many periods by at least ``declining_share`` of where it started. Scores are
    #: normalized within the cohort, and the default cohort is the revenue band: a shrinking
    #: partner can keep its percentile within a lower band, so only its revenue shows the decline.
    #: (The trailing year evens out lumpy deals and the season, which per-period revenue has.)
    declining_points: Annotated[float, Field(ge=0)] = 10.0
    declining_share: Annotated[float, Field(gt=0, lt=1)] = 0.5
    #: Days between the check-ins of a plan opened for a flagged partner, and how many.
    check_in_days: Annotated[int, Field(ge=1)] = 30
    check_ins: Annotated[int, Field(ge=1)] = 3


class HighPotential(_Strict):
    """Fast improvement from a low base: flagged for acceleration."""

    #: The score rose by at least ``points`` over the last ``periods`` periods …
    points: Annotated[float, Field(gt=0)] = 30.0
    periods: Annotated[int, Field(ge=1)] = 3
    #: … from a start at or below this percentile of its cohort; or won revenue over the
    #: trailing year rose in each of the last ``periods`` periods to at least 1 + this times its
    #: start (1.0: it doubled). A fast grower moves up the revenue bands, so its percentile
    #: within the band (the default cohort) need not rise: only its revenue shows the growth.
    base_at_most: Share = 0.5
    revenue_growth: Annotated[float, Field(gt=0)] = 1.0
    #: The low base must have held for this many periods up to the start (its percentile at
    #: most ``base_at_most`` in each that has a score): a top partner after one empty quarter
    #: is back to its usual level, not rising from a low base.
    base_periods: Annotated[int, Field(ge=1)] = 2


class FlagSettings(_Strict):
    exit: ExitCriteria = Field(default_factory=ExitCriteria)
    improvement: ImprovementCriteria = Field(default_factory=ImprovementCriteria)
    high_potential: HighPotential = Field(default_factory=HighPotential)


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Threshold(_Strict):
    """Alert when ``metric`` is below ``below`` or above ``above`` in a scorecard period,
    judged only where the period holds at least ``min_evidence`` of ``evidence`` (a count of the
    catalog: one late answer to the only critical case of a quarter is a share of 0 %, not news
    worth an alert)."""

    metric: str
    below: float | None = None
    above: float | None = None
    severity: Severity = Severity.MEDIUM
    evidence: str | None = None
    min_evidence: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below or above")
        if self.min_evidence > 0 and self.evidence is None:
            raise ValueError(
                f"min_evidence = {self.min_evidence} counts nothing: name the count of events "
                'it counts in evidence (e.g. evidence = "critical_cases"), or drop min_evidence'
            )
        return self


def _thresholds() -> list[Threshold]:
    # the service, retention and satisfaction measures (issue 30) alert only where a partner
    # has their data, and only on enough events: critical response below 80 % of at least 5
    # critical cases (one late answer of 4 is 75 %: each case would be an alert); escalations
    # above 5 % of at least 20 cases (below 20 a single escalation is above 5 %); renewals
    # below 90 % of at least 3 contracts due; partner satisfaction below 7 of 10 in its
    # answered surveys
    return [
        Threshold(metric="lead_sla_rate", below=0.8, severity=Severity.HIGH),
        Threshold(metric="compliance_score", below=70, severity=Severity.HIGH),
        Threshold(metric="csat", below=3.0, severity=Severity.MEDIUM),
        Threshold(
            metric="critical_response_rate",
            below=0.8,
            severity=Severity.HIGH,
            evidence="critical_cases_due",
            min_evidence=5,
        ),
        Threshold(
            metric="escalation_rate",
            above=0.05,
            severity=Severity.MEDIUM,
            evidence="support_cases",
            min_evidence=20,
        ),
        Threshold(
            metric="renewal_rate",
            below=0.9,
            severity=Severity.HIGH,
            evidence="contracts_due",
            min_evidence=3,
        ),
        Threshold(metric="partner_satisfaction", below=7.0, severity=Severity.MEDIUM),
    ]


def _anomaly_evidence() -> dict[str, str]:
    return {"critical_response_rate": "critical_cases_due", "customer_churn_rate": "customers_due"}


class AnomalySettings(_Strict):
    """A sudden change: the latest period-on-period change of a metric (or of its average over
    a trailing window), as a robust z-score against the partner's own earlier changes and
    against its cohort's changes. A change is judged only where both sides of it rest on
    enough deals: a partner that buys a few times a year has quarters with nothing in them,
    and an empty quarter is no news."""

    metrics: tuple[str, ...] = (
        "won_revenue",
        "win_rate",
        "new_pipeline",
        "score",
        "critical_response_rate",
        "customer_churn_rate",
    )
    #: |z| at or above this is an anomaly (in the metric's bad direction).
    z: Annotated[float, Field(gt=0)] = 3.5
    #: Earlier changes the partner needs before its own history is judged.
    min_history: Annotated[int, Field(ge=2)] = 4
    #: Partners with a change in the period a cohort needs before a change is judged against it.
    min_cohort: Annotated[int, Field(ge=2)] = 5
    #: The count of events that is a period's evidence (a metric of the catalog), and how many
    #: of them each side of a change needs, in the latest change and in every earlier one the
    #: partner's history is made of. 3 closed deals a quarter: a partner buying one to four
    #: times a year is not judged quarter by quarter (see ``window``).
    evidence: str = "closed_deals"
    min_evidence: Annotated[int, Field(ge=0)] = 3
    #: The count of events that is the evidence of a metric whose events are not deals (a
    #: share of critical cases answered in time rests on critical cases), by metric; each
    #: side of its change needs ``min_evidence`` of them.
    evidence_of: dict[str, str] = Field(default_factory=_anomaly_evidence)
    #: Periods averaged on each side of a change: 1 compares the latest period with the one
    #: before; 2 compares the average of the last two with that of the two before them, and so
    #: on (its evidence is counted over the whole window).
    window: Annotated[int, Field(ge=1)] = 1
    #: A |z| beyond this is more than a few periods of data can measure: the alert says the
    #: value is far from its usual level, and its z is stored as this.
    z_cap: Annotated[float, Field(gt=0)] = 10.0

    @model_validator(mode="after")
    def _cap_above_threshold(self) -> AnomalySettings:
        if self.z_cap < self.z:
            raise ValueError(
                f"z_cap ({self.z_cap:g}) is below z ({self.z:g}): no anomaly could reach it; "
                "make z_cap at least z"
            )
        return self


class AlertSettings(_Strict):
    thresholds: list[Threshold] = Field(default_factory=_thresholds)
    anomalies: AnomalySettings = Field(default_factory=AnomalySettings)


def check(
    catalog: Catalog,
    scorecard: ScorecardSettings,
    tiers: TierSettings,
    alerts: AlertSettings,
) -> list[str]:
    """Problems of names the evaluation sections use: every metric must be in the catalog."""
    from partnerscope.errors import did_you_mean

    metrics = list(catalog.metrics)
    usable = [*metrics, *DERIVED]
    problems: list[str] = []

    def known(where: str, name: str, choices: list[str]) -> None:
        if name not in choices:
            problems.append(f"{where}: no metric {name!r}{did_you_mean(name, choices)}")

    for name in scorecard.weights:
        known(f"scorecard.weights.{name}", name, metrics)
        if name in catalog.metrics and catalog[name].spec.direction.value == "none":
            problems.append(
                f"scorecard.weights.{name}: {name} has no better direction (neither higher "
                "nor lower is better), so it cannot be scored; weight another metric"
            )
    for key in ("methods", "targets"):
        for name in getattr(scorecard, key):
            known(f"scorecard.{key}.{name}", name, metrics)
    for name in scorecard.leading:
        known("scorecard.leading", name, metrics)

    for name in scorecard.shrink:
        known("scorecard.shrink", name, metrics)
        if name in catalog.metrics and catalog.share_of_counts(name) is None:
            problems.append(
                f"scorecard.shrink: {name} is not a share of counted events (a ratio of two "
                "counts with unit share), so it cannot be shrunk toward its cohort"
            )
    for ruleset in ("revenue", "performance"):
        rules: TierRules = getattr(tiers, ruleset)
        for i, level in enumerate(rules.levels):
            for bound in ("min", "max"):
                for name in getattr(level, bound):
                    known(f"tiers.{ruleset}.levels[{i}].{bound}.{name}", name, usable)
    for i, threshold in enumerate(alerts.thresholds):
        known(f"alerts.thresholds[{i}].metric", threshold.metric, usable)
        if threshold.evidence is not None:
            known(f"alerts.thresholds[{i}].evidence", threshold.evidence, metrics)
    for name in alerts.anomalies.metrics:
        known("alerts.anomalies.metrics", name, usable)
    known("alerts.anomalies.evidence", alerts.anomalies.evidence, metrics)
    for name, evidence in alerts.anomalies.evidence_of.items():
        # a metric not among alerts.anomalies.metrics is not judged: its line is unused
        if name in alerts.anomalies.metrics:
            known(f"alerts.anomalies.evidence_of.{name}", evidence, metrics)
    return problems
