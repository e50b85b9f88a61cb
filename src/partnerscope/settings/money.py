"""The money sections of ``partnerscope.toml``: ``[incentives]`` and ``[mdf]``.

Defaults are the framework's: quarterly bonus bands on quota attainment (100–120 % → 5 %,
120–140 % → 10 %, ≥ 140 % → 15 % of the period's won revenue), milestones ($1,000 per new
customer, 2 % of each won deal over $500K, $500 at ≥ 95 % CSAT, $250 per certification),
clubs from the annual ranking (top 10 % President's Club, 5 % Chairman's Club, 1 % Elite
Partner), a 5 % margin uplift for Elite partners; MDF budgets of $500K / $100K / $25K a year by
revenue tier, with targets of 200 % ROI and 5 : 1 pipeline to spend; MDF requests filed against
the current or the next fiscal year.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog
    from partnerscope.settings.evaluation import TierSettings

Money = Annotated[Decimal, Field(ge=0)]
Rate = Annotated[Decimal, Field(ge=0, le=10)]
#: the most fiscal years before or after the current one that ``[mdf]`` may open for requests
MAX_OPEN_YEARS = 10


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BracketMode(StrEnum):
    """How bonus bands apply. ``whole``: the rate of the band the attainment reaches applies to
    the whole base. ``marginal``: each band's rate applies only to the slice of revenue whose
    attainment falls in that band (quota × the band's width reached), like tax brackets."""

    WHOLE = "whole"
    MARGINAL = "marginal"


class Band(_Strict):
    """Attainment from ``min`` (inclusive) up to ``max`` (exclusive; none: no upper bound)."""

    min: Annotated[Decimal, Field(ge=0)]
    max: Annotated[Decimal, Field(gt=0)] | None = None
    rate: Rate


class BonusBands(_Strict):
    enabled: bool = True
    mode: BracketMode = BracketMode.WHOLE
    bands: list[Band] = Field(
        default_factory=lambda: [
            Band(min=Decimal("1.00"), max=Decimal("1.20"), rate=Decimal("0.05")),
            Band(min=Decimal("1.20"), max=Decimal("1.40"), rate=Decimal("0.10")),
            Band(min=Decimal("1.40"), rate=Decimal("0.15")),
        ]
    )
    #: Most one partner can earn from the bands in one period (none: no cap).
    cap: Money | None = None
    #: The bands pay nothing unless the period's won revenue reaches this.
    min_revenue: Money = Decimal(0)

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band]) -> list[Band]:
        for before, after in itertools.pairwise(bands):
            if before.max is None or before.max != after.min:
                raise ValueError(
                    "bands must follow each other without gaps: each band's max is the next "
                    f"band's min (found max {before.max} then min {after.min})"
                )
        for band in bands:
            if band.max is not None and band.max <= band.min:
                raise ValueError(f"a band's max must be above its min ({band.min}–{band.max})")
        return bands


class Milestones(_Strict):
    enabled: bool = True
    #: per account whose first won deal with the partner closed in the period
    per_new_customer: Money = Decimal(1000)
    #: of each won deal whose amount is over ``large_deal_over``
    large_deal_rate: Rate = Decimal("0.02")
    large_deal_over: Money = Decimal(500_000)
    #: once, when the period's CSAT (1–5) is at least ``satisfaction_min`` (95 % of 5)
    satisfaction_bonus: Money = Decimal(500)
    satisfaction_min: Annotated[Decimal, Field(ge=1, le=5)] = Decimal("4.75")
    #: per certification obtained (issued) in the period by the partner's people
    per_certification: Money = Decimal(250)
    #: Most one partner can earn from milestones in one period (none: no cap).
    cap: Money | None = None


class Club(_Strict):
    name: Annotated[str, Field(min_length=1)]
    #: the share of ranked partners at the top who are members
    top: Annotated[Decimal, Field(gt=0, le=1)]
    #: paid once for the year (0: recognition only, shown in the ledger at 0.00)
    award: Money = Decimal(0)


class Clubs(_Strict):
    """Clubs from the annual ranking by ``rank_by`` (a metric at year grain; partners without a
    value or with 0 are not ranked). A partner belongs to its most exclusive club only; lines
    are posted in the fiscal year's last quarter."""

    enabled: bool = True
    rank_by: str = "won_revenue"
    clubs: list[Club] = Field(
        default_factory=lambda: [
            Club(name="Elite Partner", top=Decimal("0.01")),
            Club(name="Chairman's Club", top=Decimal("0.05")),
            Club(name="President's Club", top=Decimal("0.10")),
        ]
    )

    @field_validator("clubs")
    @classmethod
    def _exclusive_first(cls, clubs: list[Club]) -> list[Club]:
        return sorted(clubs, key=lambda c: c.top)


class TierUplift(_Strict):
    """Extra margin for partners in a tier: ``rates`` maps a tier name of ``ruleset`` to the
    share of the period's won revenue paid on top."""

    enabled: bool = True
    ruleset: str = "performance"
    rates: dict[str, Rate] = Field(default_factory=lambda: {"Elite": Decimal("0.05")})


class IncentiveSettings(_Strict):
    """``[incentives]``: the rules a quarter's payout ledger is computed with."""

    bands: BonusBands = Field(default_factory=BonusBands)
    milestones: Milestones = Field(default_factory=Milestones)
    clubs: Clubs = Field(default_factory=Clubs)
    tier_uplift: TierUplift = Field(default_factory=TierUplift)
    #: Most one partner can be paid in one period, all rules together (none: no cap).
    partner_cap: Money | None = None
    #: A partner whose period total is under this is paid nothing that period (its lines stay
    #: in the ledger, followed by a line taking the total to zero).
    min_payout: Money = Decimal(0)
    #: A partner user sees its total in a draft ledger on its own page, as an estimate that
    #: may change before finance approves it (off: a partner sees approved ledgers only).
    show_estimates: bool = False


class MdfSettings(_Strict):
    """``[mdf]``: budgets, the workflow's deadlines and the return targets."""

    #: the tier ruleset whose effective tier (at the end of the previous fiscal year, else the
    #: latest) sets a partner's default annual budget
    ruleset: str = "revenue"
    budgets: dict[str, Money] = Field(
        default_factory=lambda: {
            "Tier 1 strategic": Decimal(500_000),
            "Tier 2 growth": Decimal(100_000),
            "Tier 3 development": Decimal(25_000),
        }
    )
    #: days after approval within which a claim must be made
    claim_days: Annotated[int, Field(ge=1)] = 90
    #: the fiscal years new requests may be filed against, counted from the current one: how
    #: many years before it (0: none) and after it (1: the next year too)
    request_years_back: Annotated[int, Field(strict=True)] = 0
    request_years_ahead: Annotated[int, Field(strict=True)] = 1
    roi_target: Decimal = Decimal("2.0")
    pipeline_ratio_target: Decimal = Decimal("5.0")
    #: bounds of the reallocation proposal, as shares of a partner's current budget
    min_share: Annotated[Decimal, Field(ge=0, le=1)] = Decimal("0.5")
    max_share: Annotated[Decimal, Field(ge=1)] = Decimal("2.0")

    @field_validator("request_years_back", "request_years_ahead")
    @classmethod
    def _open_years(cls, value: int, info: ValidationInfo) -> int:
        if not 0 <= value <= MAX_OPEN_YEARS:
            which = "before" if info.field_name == "request_years_back" else "after"
            raise ValueError(
                f"give how many fiscal years {which} the current one take MDF requests: "
                f"a count from 0 to {MAX_OPEN_YEARS}, not a year"
            )
        return value

    @model_validator(mode="after")
    def _bounds(self) -> MdfSettings:
        if self.min_share > self.max_share:
            raise ValueError("min_share must not be above max_share")
        return self


def check(
    catalog: Catalog, tiers: TierSettings, incentives: IncentiveSettings, mdf: MdfSettings
) -> list[str]:
    """Problems of the names ``[incentives]`` and ``[mdf]`` use: tier rulesets, the tier names
    given for them, and the metric the clubs rank by."""
    from partnerscope.errors import did_you_mean
    from partnerscope.settings.evaluation import RULESETS

    problems: list[str] = []
    rulesets = list(RULESETS)

    def tier_names(section: str, key: str, ruleset: str, names: list[str]) -> None:
        where = f"{section}.{key}"
        if ruleset not in rulesets:
            problems.append(
                f"{section}.ruleset: no tier ruleset {ruleset!r}; choose {' or '.join(rulesets)}"
            )
            return
        levels = [level.name for level in getattr(tiers, ruleset).levels]
        for name in names:
            if name not in levels:
                problems.append(
                    f"{where}: no tier {name!r} in the {ruleset} tiers{did_you_mean(name, levels)}"
                )

    # the default names (Elite; the revenue tiers') are only checked when given: with tiers of
    # your own, a default that names none of them simply never applies
    uplift = incentives.tier_uplift
    rates = list(uplift.rates) if "rates" in uplift.model_fields_set else []
    tier_names("incentives.tier_uplift", "rates", uplift.ruleset, rates)
    budgets = list(mdf.budgets) if "budgets" in mdf.model_fields_set else []
    tier_names("mdf", "budgets", mdf.ruleset, budgets)
    metrics = list(catalog.metrics)
    if incentives.clubs.rank_by not in metrics:
        name = incentives.clubs.rank_by
        problems.append(
            f"incentives.clubs.rank_by: no metric {name!r}{did_you_mean(name, metrics)}"
        )
    return problems
