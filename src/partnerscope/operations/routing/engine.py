"""The routing rules, without a database: which partners may take a lead, which one does,
and why.

A lead's band comes from its value; the partners eligible for it are the active partners in
its territory (or within ``max_distance_km``) holding every certification its product requires,
whose measured lead_sla_rate is not below the minimum, who have not declined or breached this
lead before and hold fewer open leads than the capacity; for the top band they must also be top
partners (with none, the lead falls back to the middle band's choice among the qualified). Each
partner left out is counted under the first of these reasons it fails.

The static part of eligibility (territory, certification, SLA minimum, top) is worked out once
per (location, product) and reused for every lead of the batch sharing it; only capacity and
declines are looked at per lead. :class:`Router` keeps the open-lead counts and round-robin
cursors of one batch, so the same facts, settings, state and leads in the same order give the
same decisions.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from partnerscope.geo import centroid, distance_km
from partnerscope.settings.routing import Choice, Geography, RoutingSettings, Territory

if TYPE_CHECKING:
    from partnerscope.operations.routing.facts import PartnerFacts

KM_PER_DEGREE = 111.2


class Band(StrEnum):
    TOP = "top"
    MIDDLE = "middle"
    SELF_SERVICE = "self_service"


class Exclusion(StrEnum):
    """Why a partner was not eligible for a lead, in the order they are checked."""

    TERRITORY = "outside_territory"
    CERTIFICATION = "no_certification"
    SLA = "sla_below_minimum"
    NOT_TOP = "not_top"
    DECLINED = "declined_or_breached"
    CAPACITY = "over_capacity"

    @property
    def label(self) -> str:
        return EXCLUSION_LABELS[self]


EXCLUSION_LABELS = {
    Exclusion.TERRITORY: "outside the territory or too far",
    Exclusion.CERTIFICATION: "without the certification",
    Exclusion.SLA: "with an SLA rate below the minimum",
    Exclusion.NOT_TOP: "not top partners",
    Exclusion.DECLINED: "declined or breached this lead",
    Exclusion.CAPACITY: "at capacity",
}


@dataclass(frozen=True)
class Lead:
    """What routing reads of a lead: value in the base currency, country as an ISO code,
    optional region and coordinates, product."""

    lead_id: str
    value: float | None
    country: str | None = None
    product: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Decision:
    """One assignment: to ``partner_id``, or to the self-service ``queue`` when it is None."""

    lead_id: str
    attempt: int
    band: Band
    partner_id: str | None
    queue: str | None
    rule: str
    #: why this partner, in full (names how it was chosen among the others)
    reason: str
    eligible: tuple[str, ...]
    eligible_count: int
    excluded: dict[str, int] = field(default_factory=dict)
    distance_km: float | None = None
    #: why this partner, as the partner itself is told: only what concerns it
    partner_reason: str | None = None


@dataclass(frozen=True)
class _Group:
    """The partners a (location, product) leaves after the static rules."""

    key: str
    candidates: Any  # IntArray, sorted partner indices
    top: Any  # IntArray, the top partners among them
    counts: dict[Exclusion, int]
    not_top: int
    distance: dict[int, float] | None  # partner index → km, in distance mode


class Router:
    """Routes leads one at a time against fixed partner facts, keeping the batch's state."""

    def __init__(
        self,
        facts: PartnerFacts,
        settings: RoutingSettings,
        *,
        open_leads: dict[str, int] | None = None,
        cursors: dict[str, str] | None = None,
    ) -> None:
        import numpy as np

        self.facts = facts
        self.settings = settings
        self.index = {pid: i for i, pid in enumerate(facts.ids)}
        n = len(facts)
        self.open = np.zeros(n, dtype=np.int64)
        for pid, count in (open_leads or {}).items():
            if pid in self.index:
                self.open[self.index[pid]] = count
        self.cursors: dict[str, str] = dict(cursors or {})
        top = settings.top
        tier_top = np.array([t in top.tiers for t in facts.top_tier], dtype=bool)
        share = top.score_share
        by_score = (
            np.nan_to_num(facts.score_percentile, nan=-1.0) >= 1 - share
            if share > 0
            else np.zeros(n, dtype=bool)
        )
        self.tier_top = tier_top
        self.is_top = tier_top | by_score
        minimum = settings.min_sla_rate
        self.sla_ok = (
            np.ones(n, dtype=bool)
            if minimum is None
            else np.isnan(facts.sla_rate) | (np.nan_to_num(facts.sla_rate) >= minimum)
        )
        self.weight = self._weights()
        # best score first, ties (and no score) by partner id
        order = np.lexsort((np.arange(n), -np.nan_to_num(facts.score, nan=-np.inf)))
        self.rank = np.empty(n, dtype=np.int64)
        self.rank[order] = np.arange(n)
        codes = sorted({c for c in facts.country if c is not None})
        self._country_code = {c: i for i, c in enumerate(codes)}
        self._countries = np.array(
            [self._country_code.get(c, -1) if c else -1 for c in facts.country], dtype=np.int64
        )
        self._regions = np.array([r or "" for r in facts.region], dtype=object)
        self._region_of = self._country_regions()
        self._explicit = {
            self.index[pid]: frozenset(_codes(countries))
            for pid, countries in settings.territories.items()
            if pid in self.index
        }
        self._lat_order = np.argsort(facts.latitude, kind="stable")
        self._lat_sorted = facts.latitude[self._lat_order]
        self._certified: dict[str | None, Any] = {}
        self._groups: dict[tuple[str, str | None], _Group] = {}

    # ------------------------------------------------------------------ static eligibility

    def _weights(self) -> Any:
        import numpy as np

        rule, n = self.settings.weights, len(self.facts)
        if rule.by == "tier":
            return np.array(
                [rule.tiers.get(t, 1.0) if t else rule.default for t in self.facts.weight_tier]
            )
        if rule.by == "score":
            # a score of 0 still gets a sliver, so that every eligible partner can be drawn
            return np.where(
                np.isnan(self.facts.score), rule.default, np.maximum(self.facts.score, 0.01)
            )
        return np.ones(n)

    def _country_regions(self) -> dict[str, str]:
        """Each country's region: the one most of its partners are in."""
        votes: dict[str, Counter[str]] = {}
        for country, region in zip(self.facts.country, self.facts.region, strict=True):
            if country and region:
                votes.setdefault(country, Counter())[region] += 1
        return {c: max(sorted(v), key=v.__getitem__) for c, v in votes.items()}

    def _certified_for(self, product: str | None) -> Any:
        import numpy as np

        if product not in self._certified:
            needed = frozenset(self.settings.products.get(product or "", ()))
            self._certified[product] = np.array(
                [needed <= held for held in self.facts.certifications], dtype=bool
            )
        return self._certified[product]

    def _in_territory(self, lead: Lead) -> Any:
        import numpy as np

        code = self._country_code.get(lead.country or "", -2)
        if self.settings.territory is Territory.REGION:
            region = lead.region or self._region_of.get(lead.country or "")
            mask = self._regions == region if region else np.zeros(len(self.facts), dtype=bool)
        else:
            mask = self._countries == code
        for i, countries in self._explicit.items():
            mask[i] = lead.country in countries
        return mask

    def _near(self, lat: float, lon: float) -> tuple[Any, dict[int, float]]:
        import numpy as np

        limit = self.settings.max_distance_km
        span = limit / KM_PER_DEGREE + 0.01
        lo = int(np.searchsorted(self._lat_sorted, lat - span, "left"))
        hi = int(np.searchsorted(self._lat_sorted, lat + span, "right"))
        window = self._lat_order[lo:hi]
        km = distance_km(lat, lon, self.facts.latitude[window], self.facts.longitude[window])
        close = km <= limit
        mask = np.zeros(len(self.facts), dtype=bool)
        mask[window[close]] = True
        return mask, dict(zip(window[close].tolist(), km[close].tolist(), strict=True))

    def location(self, lead: Lead) -> tuple[str, tuple[float, float] | None]:
        """The key leads sharing eligibility share, and the point distances are measured from."""
        if self.settings.geography is Geography.DISTANCE:
            if lead.latitude is not None and lead.longitude is not None:
                return f"@{lead.latitude:.4f},{lead.longitude:.4f}", (lead.latitude, lead.longitude)
            return lead.country or "", centroid(lead.country)
        if self.settings.territory is Territory.REGION:
            return f"{lead.country or ''}/{lead.region or ''}", None
        return lead.country or "", None

    def group(self, lead: Lead) -> _Group:
        key, point = self.location(lead)
        cached = self._groups.get((key, lead.product))
        if cached is not None:
            return cached
        distance: dict[int, float] | None = None
        if self.settings.geography is Geography.DISTANCE:
            if point is None:
                import numpy as np

                geo, distance = np.zeros(len(self.facts), dtype=bool), {}
            else:
                geo, distance = self._near(*point)
        else:
            geo = self._in_territory(lead)
        certified = self._certified_for(lead.product)
        qualified = geo & certified & self.sla_ok
        candidates = qualified.nonzero()[0]
        top = candidates[self.is_top[candidates]]
        found = _Group(
            key=key,
            candidates=candidates,
            top=top,
            counts={
                Exclusion.TERRITORY: int((~geo).sum()),
                Exclusion.CERTIFICATION: int((geo & ~certified).sum()),
                Exclusion.SLA: int((geo & certified & ~self.sla_ok).sum()),
            },
            not_top=len(candidates) - len(top),
            distance=distance,
        )
        # a lead with its own coordinates rarely shares them: keep only the country groups
        if not key.startswith("@"):
            self._groups[(key, lead.product)] = found
        return found

    # ------------------------------------------------------------------ routing one lead

    def band(self, value: float | None) -> Band:
        bands = self.settings.bands
        if value is None or value < bands.round_robin_min:
            return Band.SELF_SERVICE
        return Band.TOP if value >= bands.top_min else Band.MIDDLE

    def route(
        self, lead: Lead, *, attempt: int = 1, excluded: frozenset[str] = frozenset()
    ) -> Decision:
        """Route one lead; ``excluded``: partners that declined or breached it before."""
        import numpy as np

        band = self.band(lead.value)
        bands = self.settings.bands
        if band is Band.SELF_SERVICE:
            value = (
                "no estimated value" if lead.value is None else f"estimated value {lead.value:,.0f}"
            )
            return self._queue(
                lead,
                attempt,
                band,
                "self_service",
                f"{value} is below {bands.round_robin_min:,.0f}",
                np.empty(0, np.int64),
                {},
            )
        group = self.group(lead)
        counts = dict(group.counts)
        pool, choice, rule = group.candidates, bands.middle_choice, "middle"
        if band is Band.TOP:
            pool, choice, rule = group.top, bands.top_choice, "top"
            counts[Exclusion.NOT_TOP] = group.not_top
        eligible, dynamic = self._available(pool, excluded)
        counts.update(dynamic)
        if band is Band.TOP and not len(eligible):
            # no top partner can take it: the qualified partners of the middle band may
            counts.pop(Exclusion.NOT_TOP)
            eligible, dynamic = self._available(group.candidates, excluded)
            counts.update(dynamic)
            choice, rule = bands.middle_choice, "top_fallback"
        if not len(eligible):
            return self._queue(
                lead, attempt, band, "no_eligible_partner", "no eligible partner", eligible, counts
            )
        chosen = self._choose(
            choice, eligible, lead, attempt, f"{band}|{group.key}|{lead.product or ''}"
        )
        km = None if group.distance is None else group.distance.get(chosen)
        reason, partner_reason = self._explain(chosen, lead, band, rule, choice, eligible, km)
        self.open[chosen] += 1
        return Decision(
            lead_id=lead.lead_id,
            attempt=attempt,
            band=band,
            partner_id=self.facts.ids[chosen],
            queue=None,
            rule=f"{rule}_{choice.value}",
            reason=reason,
            partner_reason=partner_reason,
            eligible=self._kept(eligible),
            eligible_count=len(eligible),
            excluded={k.value: v for k, v in counts.items() if v},
            distance_km=None if km is None else round(km, 1),
        )

    def _available(self, pool: Any, excluded: frozenset[str]) -> tuple[Any, dict[Exclusion, int]]:
        import numpy as np

        declined = 0
        if excluded:
            gone = [self.index[p] for p in excluded if p in self.index]
            keep = ~np.isin(pool, gone)
            declined = int(len(pool) - keep.sum())
            pool = pool[keep]
        free = self.open[pool] < self.settings.capacity
        return pool[free], {
            Exclusion.DECLINED: declined,
            Exclusion.CAPACITY: int(len(pool) - free.sum()),
        }

    def _choose(self, choice: Choice, eligible: Any, lead: Lead, attempt: int, pool: str) -> int:
        import numpy as np

        match choice:
            case Choice.BEST:
                return int(eligible[np.argmin(self.rank[eligible])])
            case Choice.ROUND_ROBIN:
                last = self.cursors.get(pool)
                after = 0 if last is None else bisect.bisect_right(self.facts.ids, last)
                at = int(np.searchsorted(eligible, after, "left"))
                chosen = int(eligible[at if at < len(eligible) else 0])
                self.cursors[pool] = self.facts.ids[chosen]
                return chosen
            case Choice.WEIGHTED:
                total = np.cumsum(self.weight[eligible])
                draw = _uniform(self.settings.seed, lead.lead_id, attempt) * total[-1]
                at = min(int(np.searchsorted(total, draw, "right")), len(eligible) - 1)
                return int(eligible[at])

    def _kept(self, eligible: Any) -> tuple[str, ...]:
        ids = self.facts.ids
        return tuple(ids[i] for i in eligible[: self.settings.keep_eligible].tolist())

    def _queue(
        self,
        lead: Lead,
        attempt: int,
        band: Band,
        rule: str,
        why: str,
        eligible: Any,
        counts: dict[Exclusion, int],
    ) -> Decision:
        queue = self.settings.self_service_queue
        excluded = {k.value: v for k, v in counts.items() if v}
        detail = "; ".join(f"{v:,} {Exclusion(k).label}" for k, v in excluded.items())
        return Decision(
            lead_id=lead.lead_id,
            attempt=attempt,
            band=band,
            partner_id=None,
            queue=queue,
            rule=rule,
            reason=f"{queue}: {why}" + (f" ({detail})" if detail else ""),
            eligible=(),
            eligible_count=0,
            excluded=excluded,
        )

    def _explain(
        self,
        chosen: int,
        lead: Lead,
        band: Band,
        rule: str,
        choice: Choice,
        eligible: Any,
        km: float | None,
    ) -> tuple[str, str]:
        """(the explanation in full, what the chosen partner itself is told: the facts about
        it that qualified it, without its rank among the others or how it was picked)."""
        facts, settings = self.facts, self.settings
        tier = facts.top_tier[chosen]
        qualified = []
        needed = settings.products.get(lead.product or "", ())
        if needed:
            qualified.append(f"certified for {lead.product} ({', '.join(needed)})")
        if km is not None:
            qualified.append(f"{km:,.0f} km")
        elif settings.territory is Territory.REGION and chosen not in self._explicit:
            qualified.append(f"covers region {facts.region[chosen]}")
        else:
            qualified.append(f"covers {lead.country}")
        qualified.append(f"{int(self.open[chosen])}/{settings.capacity} open leads")
        rate = facts.sla_rate[chosen]
        qualified.append(
            "SLA rate not measured" if rate != rate else f"SLA rate {rate * 100:.0f} %"
        )
        ranked = []
        if rule == "top":
            ranked.append(
                f"top partner ({tier} tier)"
                if self.tier_top[chosen]
                else f"top partner (score in the top {settings.top.score_share:.0%})"
            )
        elif tier:
            ranked.append(f"{tier} tier")
        # (not its tier: which rule set routing reads may be one a partner is not shown)
        told = ", ".join(qualified)
        count = len(eligible)
        plural = "s" if count != 1 else ""
        among = f"{count:,} eligible {'top ' if rule == 'top' else ''}partner{plural}"
        match choice:
            case Choice.BEST:
                score = facts.score[chosen]
                how = (
                    f"best score ({score:.1f})"
                    if score == score
                    else "best by partner id (no scores)"
                )
            case Choice.ROUND_ROBIN:
                how = "next in the round robin"
            case Choice.WEIGHTED:
                total = float(self.weight[eligible].sum())
                how = f"weighted draw (weight {self.weight[chosen]:g} of {total:g})"
        lead_in = "no top partner was eligible, so " if rule == "top_fallback" else ""
        about = ", ".join([*ranked, *qualified])
        return f"{facts.ids[chosen]}: {about}; {lead_in}{how} among {among}", told


def _codes(countries: tuple[str, ...]) -> list[str | None]:
    from partnerscope.geo import country_code

    return [country_code(c) for c in countries]


def _uniform(seed: int, lead_id: str, attempt: int) -> float:
    """A number in [0, 1) fixed by the seed, the lead and the attempt: a lead draws the same
    partner whatever else is in its batch."""
    digest = hashlib.blake2b(f"{seed}\x1f{lead_id}\x1f{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
