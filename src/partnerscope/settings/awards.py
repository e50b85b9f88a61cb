"""The ``[awards]`` section of ``partnerscope.toml``: the program's recognition awards as rules
over the measures, each giving a ranked, explained shortlist per fiscal year for people to
decide on (docs/awards.md).

A rule ranks the eligible partners by ``rank_by`` (metric → weight; ``score`` is the
scorecard's composite averaged over the fiscal year's scored periods). With one measure the
order is its value's (the better direction first); with several, the weighted mean of each
measure's percentile among the eligible partners. A partner is eligible with a value for every
ranking measure, every ``require`` met, and, with ``joined_within_years``, having joined the
program within that many years before the fiscal year's end (with ``min_tenure_years``, at
least that many years before it).

``[awards.rules.NAME]`` adds a rule, or changes the fields it sets of the built-in rule of that
name (``enabled = false`` turns one off).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: the scorecard's composite in ``rank_by`` (not a catalog metric)
SCORE = "score"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Strict):
    """A measure's fiscal-year value that a nominee must reach."""

    metric: str = Field(min_length=1)
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> Requirement:
        if self.at_least is None and self.at_most is None:
            raise ValueError(f"requirement on {self.metric}: give at_least or at_most")
        return self


class AwardRule(_Strict):
    label: str = Field(min_length=1)
    #: what the award recognizes, in a sentence (shown above its shortlist)
    description: str = ""
    enabled: bool = True
    #: metric → weight (> 0); ``score``: the scorecard's composite
    rank_by: Annotated[dict[str, Annotated[float, Field(gt=0)]], Field(min_length=1)]
    require: tuple[Requirement, ...] = ()
    #: only partners that joined the program within this many years before the year's end
    joined_within_years: Annotated[int | None, Field(ge=1, le=50)] = None
    #: only partners in the program at least this many years before the year's end (a
    #: partner without a joining date counts as long-standing)
    min_tenure_years: Annotated[int | None, Field(ge=1, le=50)] = None


def _rule(**fields: Any) -> AwardRule:
    return AwardRule.model_validate(fields)


#: The framework's awards.
DEFAULT_RULES: dict[str, AwardRule] = {
    "partner_of_the_year": _rule(
        label="Partner of the Year",
        description="The best overall performance of the year: the scorecard's score, "
        "averaged over the year's scored periods, among partners with real business.",
        rank_by={SCORE: 1.0},
        require=[{"metric": "won_deals", "at_least": 5}],
    ),
    "innovation": _rule(
        label="Innovation Award",
        description="New ground: new customers won and product families sold.",
        rank_by={"new_customers": 1.0, "product_families_sold": 1.0},
        require=[{"metric": "new_customers", "at_least": 1}],
    ),
    "customer_success": _rule(
        label="Customer Success Award",
        description="Customers served best: satisfaction, renewals and fast first-contact "
        "resolution of support cases.",
        rank_by={
            "customer_satisfaction": 1.0,
            "renewal_rate": 1.0,
            "first_contact_resolution_rate": 1.0,
        },
        require=[
            {"metric": "csat_responses", "at_least": 10},
            {"metric": "contracts_due", "at_least": 3},
            {"metric": "resolved_cases", "at_least": 10},
        ],
    ),
    "growth": _rule(
        label="Growth Award",
        description="The fastest growth of won revenue over the year before, on enough "
        "deals to mean it, by partners in the program for the whole year before.",
        rank_by={"revenue_growth_yoy": 1.0},
        require=[{"metric": "won_deals", "at_least": 5}],
        min_tenure_years=2,
    ),
    "emerging_partner": _rule(
        label="Emerging Partner Award",
        description="The strongest start: partners that joined within the last two years, "
        "by won revenue.",
        rank_by={"won_revenue": 1.0},
        require=[{"metric": "won_deals", "at_least": 1}],
        joined_within_years=2,
    ),
}


class AwardSettings(_Strict):
    """``[awards]``: the recognition awards and how long their shortlists are."""

    #: nominees per award
    shortlist: Annotated[int, Field(ge=1, le=50)] = 5
    #: the awards by key: the built-in ones, with the workspace's own added or replacing them
    rules: dict[str, AwardRule] = Field(default_factory=lambda: dict(DEFAULT_RULES))

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("rules"), dict):
            rules: dict[str, Any] = dict(DEFAULT_RULES)
            for key, given in data["rules"].items():
                base = DEFAULT_RULES.get(key)
                if base is not None and isinstance(given, dict):
                    given = {**base.model_dump(), **given}
                rules[key] = given
            return {**data, "rules": rules}
        return data

    def enabled(self) -> dict[str, AwardRule]:
        return {key: rule for key, rule in self.rules.items() if rule.enabled}


def check(metrics: Collection[str], awards: AwardSettings) -> list[str]:
    """Problems of the enabled awards: every measure a rule names is in the catalog (or
    ``score``)."""
    from partnerscope.errors import did_you_mean

    problems = []
    for key, rule in awards.enabled().items():
        for metric in [*rule.rank_by, *(r.metric for r in rule.require)]:
            if metric != SCORE and metric not in metrics:
                problems.append(
                    f"awards.rules.{key}: no metric {metric!r}{did_you_mean(metric, metrics)} "
                    "(`partnerscope metrics list` shows them)"
                )
    return problems
