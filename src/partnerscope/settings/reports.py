"""The ``[reports]`` section of ``partnerscope.toml``: which metrics a scorecard shows, the
portfolio goals the executive summary measures against, and how long trends reach back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog

#: The framework's portfolio goals: 60 % of revenue through partners, 85 % of partners at quota,
#: MDF returning 200 % and 5 : 1 pipeline to spend (METRICS.md); and its strategic objectives
#: of partner satisfaction 9.0 out of 10, 95 % of the target territories covered and 90 % of
#: customers satisfied (issue 30; the executive summary's tiles).
DEFAULT_GOALS: dict[str, float] = {
    "channel_revenue_share": 0.60,
    "share_partners_at_quota": 0.85,
    "mdf_roi": 2.0,
    "mdf_pipeline_ratio": 5.0,
    "partner_satisfaction": 9.0,
    "market_coverage": 0.95,
    "customer_satisfaction": 0.90,
    # the framework's service standards and renewal target, the goals of a QBR's service and
    # retention sections: 80 % of cases resolved at first contact, under 5 % escalated, 95 % of
    # contracts renewed (the 4-hour response and 24-hour resolution targets are in the
    # metrics' definitions: critical_response_rate, standard_resolution_rate)
    "first_contact_resolution_rate": 0.80,
    "escalation_rate": 0.05,
    "renewal_rate": 0.95,
}

#: Shown on every scorecard after the weighted metrics, in this order.
DEFAULT_SCORECARD_METRICS = (
    "won_revenue",
    "quota_attainment",
    "revenue_growth_yoy",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "open_pipeline",
    "pipeline_velocity",
    "new_customers",
    "lead_sla_rate",
    "lead_conversion_rate",
    "mdf_spend",
    "mdf_roi",
    "enablement_completion",
    "compliance_score",
    "csat",
    "nps",
)

#: Listed metrics a scorecard leaves out where the partner has no value of them in any period
#: of its trend (no support cases, subscriptions, surveys or product families loaded for it):
#: a row of dashes says nothing to a partner that sells no subscriptions. None of them is
#: listed by default (a busy partner's scorecard must still print on two pages): a workspace
#: lists those it wants in ``scorecard_metrics``, and weights them as it likes.
SHOWN_WITH_DATA = frozenset(
    {
        "customer_satisfaction",
        "critical_response_rate",
        "first_contact_resolution_rate",
        "escalation_rate",
        "renewal_rate",
        "net_revenue_retention",
        "customer_churn_rate",
        "portfolio_coverage",
        "product_diversity",
        "partner_satisfaction",
    }
)


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Metrics every scorecard lists (the weighted ones come first in any case).
    scorecard_metrics: tuple[str, ...] = DEFAULT_SCORECARD_METRICS
    #: Portfolio goals by metric, drawn as target lines in the executive summary.
    goals: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_GOALS))
    #: How many periods the trend charts and sparklines show.
    trend_periods: Annotated[int, Field(ge=2, le=40)] = 8
    #: How many risers and decliners the executive summary lists.
    movers: Annotated[int, Field(ge=1, le=100)] = 10


def check(catalog: Catalog, reports: ReportSettings) -> list[str]:
    """Problems of the metric names the ``[reports]`` section uses."""
    from partnerscope.errors import did_you_mean

    names = list(catalog.metrics)
    problems = []
    for where, used in (
        ("reports.scorecard_metrics", list(reports.scorecard_metrics)),
        ("reports.goals", list(reports.goals)),
    ):
        for name in used:
            if name not in catalog.metrics:
                problems.append(f"{where}: no metric {name!r}{did_you_mean(name, names)}")
    return problems
