"""``[routing]`` in ``partnerscope.toml``: how leads are routed to partners.

Defaults are the framework's: leads worth ≥ $100K go to top partners, $25K–$100K round-robin
among qualified partners, < $25K to the self-service queue; a partner's territory is its own
country; at most 25 open leads per partner; first touch within the workspace's SLA (2 hours).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from partnerscope.settings.evaluation import TierSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(StrEnum):
    """How one partner is picked among the eligible. ``best``: the highest score (ties: the
    lower partner id). ``round_robin``: the next partner id after the last one this pool got,
    wrapping around; the cursor is kept in the app database, so the rotation continues across
    batches. ``weighted``: a seeded draw with the partners' weights (``[routing.weights]``)."""

    BEST = "best"
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"


class Geography(StrEnum):
    """``territory``: the lead's country must be in the partner's territory. ``distance``: the
    great-circle distance between the lead and the partner must be at most ``max_distance_km``
    (each located by its coordinates, else its country's centroid)."""

    TERRITORY = "territory"
    DISTANCE = "distance"


class Territory(StrEnum):
    """A partner's territory when ``[routing.territories]`` does not list it: its own country,
    or every country of its region."""

    COUNTRY = "country"
    REGION = "region"


Money = Annotated[float, Field(ge=0)]


class Bands(_Strict):
    """Value bands in the base currency: ``top_min`` and above goes to top partners,
    ``round_robin_min`` up to ``top_min`` round-robin among qualified partners, below
    ``round_robin_min`` to the self-service queue. Each minimum is inclusive."""

    top_min: Money = 100_000.0
    round_robin_min: Money = 25_000.0
    top_choice: Choice = Choice.BEST
    middle_choice: Choice = Choice.ROUND_ROBIN

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.round_robin_min > self.top_min:
            raise ValueError(
                f"round_robin_min ({self.round_robin_min:,.0f}) must not be above top_min "
                f"({self.top_min:,.0f})"
            )
        return self


class TopPartners(_Strict):
    """Who counts as a top partner in the latest run: a partner whose effective tier of
    ``ruleset`` is one of ``tiers``, or whose score is in the top ``score_share`` of the
    portfolio (score_percentile ≥ 1 − score_share). Without a run no partner is top."""

    ruleset: str = "performance"
    tiers: tuple[str, ...] = ("Elite",)
    score_share: Annotated[float, Field(ge=0, le=1)] = 0.2


class Weights(_Strict):
    """Weights of the ``weighted`` choice: ``by = "tier"`` takes ``tiers`` (a tier of
    ``ruleset`` → weight; unlisted tiers weigh 1), ``by = "score"`` the latest score (0–100;
    a partner without a score weighs ``default``), ``by = "equal"`` 1 each."""

    by: str = "equal"
    ruleset: str = "performance"
    tiers: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    default: Annotated[float, Field(gt=0)] = 1.0

    @model_validator(mode="after")
    def _known(self) -> Weights:
        if self.by not in ("equal", "tier", "score"):
            raise ValueError(f'by must be "equal", "tier" or "score" (got {self.by!r})')
        return self


class RoutingSettings(_Strict):
    """``[routing]``: the rules every lead batch is routed with (docs/routing.md)."""

    bands: Bands = Field(default_factory=Bands)
    top: TopPartners = Field(default_factory=TopPartners)
    #: product (as in the lead's ``product``) → certifications the partner must all hold
    products: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    geography: Geography = Geography.TERRITORY
    territory: Territory = Territory.COUNTRY
    #: partner id → the countries (ISO codes or names) it covers, instead of ``territory``
    territories: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    max_distance_km: Annotated[float, Field(gt=0)] = 500.0
    #: most open (assigned or touched, not yet closed) leads a partner may hold
    capacity: Annotated[int, Field(ge=1)] = 25
    #: hours within which a lead must be first touched (default: ``workspace.sla_hours``)
    sla_hours: Annotated[float, Field(gt=0)] | None = None
    #: partners whose measured lead_sla_rate is below this are not eligible (unset: no minimum;
    #: a partner without a measured rate is always eligible)
    min_sla_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    weights: Weights = Field(default_factory=Weights)
    seed: int = 0
    self_service_queue: Annotated[str, Field(min_length=1)] = "self-service"
    #: how many eligible partner ids an assignment keeps (all are counted)
    keep_eligible: Annotated[int, Field(ge=0)] = 10
    #: column of the lead file → canonical name, for files whose header differs
    columns: dict[str, str] = Field(default_factory=dict)


def check(tiers: TierSettings, routing: RoutingSettings) -> list[str]:
    """Problems of the names ``[routing]`` uses: tier rulesets and the tier names given for
    them (a default tier name such as "Elite" is not checked: a workspace that names its tiers
    otherwise and never routes leads must not be refused)."""
    from partnerscope.errors import did_you_mean
    from partnerscope.settings.evaluation import RULESETS

    problems: list[str] = []
    rulesets = list(RULESETS)

    def given(section: TopPartners | Weights) -> list[str]:
        return list(section.tiers) if "tiers" in section.model_fields_set else []

    for key, ruleset, names in (
        ("routing.top", routing.top.ruleset, given(routing.top)),
        ("routing.weights", routing.weights.ruleset, given(routing.weights)),
    ):
        if ruleset not in rulesets:
            problems.append(
                f"{key}.ruleset: no tier ruleset {ruleset!r}; choose {' or '.join(rulesets)}"
            )
            continue
        levels = [level.name for level in getattr(tiers, ruleset).levels]
        problems.extend(
            f"{key}.tiers: no tier {name!r} in the {ruleset} tiers{did_you_mean(name, levels)}"
            for name in names
            if name not in levels
        )
    if routing.weights.tiers and routing.weights.by != "tier":
        problems.append(
            f'routing.weights.tiers: only used with by = "tier" (by is {routing.weights.by!r})'
        )
    return problems
