"""A proposal for next fiscal year's MDF budgets that moves money toward the partners (and the
activity types) whose MDF returned the most.

The rule (:func:`allocate`), for the partners with MDF spend in the evidence year (the year of
the current budgets) and a current budget:

1. Each partner's return multiple is what a dollar of its MDF brought back: attributed won
   revenue / spend = 1 + ROI. The data holds one level of spend per partner, so the measured
   average return stands in for the marginal return of the next dollar.
2. Its weight is its current budget × that multiple. The pool (the sum of their current
   budgets) is shared in proportion to the weights, each partner held within ``min_share`` and
   ``max_share`` of its current budget (bounds rounded inward to the cent): the amounts are
   ``clamp(λ × weight, minimum, maximum)`` with the one λ that makes them add up to the pool,
   i.e. whatever a bound holds back is shared among the others in proportion to their weights.
   A partner without attributed revenue (multiple 0) gets its minimum. Should the partners
   with a return all reach their maximum before the pool is used up, the rest goes to the
   others in proportion to their current budgets.
3. Amounts are rounded half up to the cent; the few cents the rounding gains or loses go on
   the largest proposed budget (the next largest when a bound holds it), so the total is kept
   exactly.

Partners without spend in the evidence year keep their budget (there is no measured return to
move it by), so the proposal's total equals the current total to the cent. The same rule,
applied to the activity types' shares of the spend, proposes the activity mix. Everything is
exact (fractions, then cents) and ordered by id: the same inputs give the same proposal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING

from partnerscope.amounts import CENT, ZERO, cents, money, percent

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from partnerscope.money.mdf.returns import Return
    from partnerscope.workspace import Workspace


class Bound(StrEnum):
    MINIMUM = "minimum"
    MAXIMUM = "maximum"


@dataclass(frozen=True)
class Allocation:
    amount: Decimal
    minimum: Decimal
    maximum: Decimal
    #: the bound that held the amount (None: the weights alone set it, or it was kept)
    bound: Bound | None


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _inward(value: Fraction, rounding: str) -> Fraction:
    """``value`` rounded to a whole cent toward the inside of the bounds it is one of."""
    return Fraction(_decimal(value).quantize(CENT, rounding=rounding))


def _fill(
    pool: Fraction,
    weights: Mapping[str, Fraction],
    low: Mapping[str, Fraction],
    high: Mapping[str, Fraction],
) -> dict[str, Fraction]:
    """``clamp(λ × weight, low, high)`` for the smallest λ whose amounts add up to ``pool``
    (or, when even all at ``high`` do not reach it, every weighted one at its ``high``)."""
    level = sum(low.values(), Fraction(0))
    events: list[tuple[Fraction, Fraction]] = []
    for key, weight in weights.items():
        if weight > 0:
            events.append((low[key] / weight, weight))
            events.append((high[key] / weight, -weight))
    events.sort(key=lambda event: event[0])
    slope, at, scale = Fraction(0), Fraction(0), None
    if level >= pool:
        scale = Fraction(0)
    else:
        for point, change in events:
            reach = level + slope * (point - at)
            if slope > 0 and reach >= pool:
                scale = at + (pool - level) / slope
                break
            level, at = reach, point
            slope += change
    if scale is None:
        scale = at
    return {key: min(high[key], max(low[key], scale * w)) for key, w in weights.items()}


def _to_cents(
    exact: Mapping[str, Fraction],
    total: Decimal,
    low: Mapping[str, Fraction],
    high: Mapping[str, Fraction],
) -> dict[str, Decimal]:
    """Each amount rounded half up to the cent; what that gains or loses against ``total`` goes
    on the largest amounts that have room within their bounds."""
    rounded = {key: cents(_decimal(value)) for key, value in exact.items()}
    rest = total - sum(rounded.values(), ZERO)
    for key in sorted(rounded, key=lambda k: (-rounded[k], k)):
        if not rest:
            break
        # room up to the maximum when cents are missing, down to the minimum when in excess
        room = _decimal(high[key]) - rounded[key] if rest > 0 else rounded[key] - _decimal(low[key])
        step = min(abs(rest), max(room, ZERO).quantize(CENT, rounding=ROUND_FLOOR))
        step = step if rest > 0 else -step
        rounded[key] += step
        rest -= step
    if rest and rounded:  # only when the bounds leave no room at all: keep the total anyway
        rounded[min(rounded, key=lambda k: (-rounded[k], k))] += rest
    return rounded


def allocate(
    budgets: Mapping[str, Decimal],
    multiples: Mapping[str, Fraction],
    *,
    min_share: Decimal,
    max_share: Decimal,
) -> dict[str, Allocation]:
    """Next period's budgets by the rule of this module's docstring. ``budgets``: every
    current budget (cents); ``multiples``: attributed revenue / spend of the partners with
    spend (the others keep their budget)."""
    bounds: dict[str, tuple[Fraction, Fraction]] = {}
    for key, amount in budgets.items():
        current = Fraction(amount)
        bounds[key] = (
            _inward(current * Fraction(min_share), ROUND_CEILING),
            _inward(current * Fraction(max_share), ROUND_FLOOR),
        )
    moving = sorted(k for k in budgets if k in multiples and budgets[k] > 0)
    out = {
        key: Allocation(
            amount, cents(_decimal(bounds[key][0])), cents(_decimal(bounds[key][1])), None
        )
        for key, amount in sorted(budgets.items())
        if key not in moving
    }
    if not moving:
        return out
    low = {k: bounds[k][0] for k in moving}
    high = {k: bounds[k][1] for k in moving}
    weights = {k: Fraction(budgets[k]) * Fraction(multiples[k]) for k in moving}
    pool = sum((Fraction(budgets[k]) for k in moving), Fraction(0))
    exact = _fill(pool, weights, low, high)
    short = pool - sum(exact.values(), Fraction(0))
    if short > 0:  # the returning partners are all at their maximum
        idle = [k for k in moving if weights[k] == 0]
        kept = sum((exact[k] for k in moving if weights[k] > 0), Fraction(0))
        exact.update(
            _fill(
                pool - kept,
                {k: Fraction(budgets[k]) for k in idle},
                {k: low[k] for k in idle},
                {k: high[k] for k in idle},
            )
        )
    total = sum((budgets[k] for k in moving), ZERO)
    amounts = _to_cents(exact, total, low, high)
    for key in moving:
        held = None
        if exact[key] == low[key] and low[key] < budgets[key]:
            held = Bound.MINIMUM
        elif exact[key] == high[key] and high[key] > budgets[key]:
            held = Bound.MAXIMUM
        out[key] = Allocation(
            amounts[key], cents(_decimal(low[key])), cents(_decimal(high[key])), held
        )
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------ the proposal


@dataclass(frozen=True)
class ProposalLine:
    partner_id: str
    name: str
    tier: str | None
    current: Decimal
    proposed: Decimal
    minimum: Decimal
    maximum: Decimal
    spend: Decimal
    attributed_revenue: Decimal
    pipeline: Decimal
    roi: Decimal | None
    pipeline_ratio: Decimal | None
    bound: Bound | None
    explanation: str

    @property
    def change(self) -> Decimal:
        return self.proposed - self.current


@dataclass(frozen=True)
class MixLine:
    activity_type: str
    spend: Decimal
    roi: Decimal | None
    current: Decimal
    proposed: Decimal
    bound: Bound | None
    explanation: str


@dataclass(frozen=True)
class Reallocation:
    #: the year whose budgets are reallocated (and whose MDF is the evidence), and the next
    from_year: str
    to_year: str
    total: Decimal
    #: the budgets of the partners with spend: the amount the rule moves between them
    pool: Decimal
    lines: list[ProposalLine]
    mix: list[MixLine]
    rule: str

    def write_csv(self, path: Path) -> Path:
        """The proposal, one partner a line, for a spreadsheet."""
        from partnerscope.atomic import replacing
        from partnerscope.cells import CsvWriter, csv_cell

        header = [
            "partner_id",
            "name",
            "tier",
            f"budget_{self.from_year}",
            f"proposed_{self.to_year}",
            "change",
            "minimum",
            "maximum",
            "held_by",
            f"spend_{self.from_year}",
            "attributed_revenue",
            "pipeline",
            "roi",
            "pipeline_ratio",
            "explanation",
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as temp, temp.open("w", newline="", encoding="utf-8") as out:
            writer = CsvWriter(out)
            writer.writerow(header)
            for line in self.lines:
                row = [
                    line.partner_id,
                    line.name,
                    line.tier,
                    line.current,
                    line.proposed,
                    line.change,
                    line.minimum,
                    line.maximum,
                    line.bound.value if line.bound else None,
                    line.spend,
                    line.attributed_revenue,
                    line.pipeline,
                    None if line.roi is None else round(line.roi, 4),
                    None if line.pipeline_ratio is None else round(line.pipeline_ratio, 4),
                    line.explanation,
                ]
                writer.writerow([csv_cell(value) for value in row])
        return path


def _multiple(measured: Return) -> Fraction:
    return Fraction(measured.attributed_revenue) / Fraction(measured.spend)


def _ratio(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.1f} : 1"


def _change(current: Decimal, proposed: Decimal) -> str:
    change = proposed - current
    if not change:
        return f"kept at {money(proposed)}"
    verb = "raised" if change > 0 else "lowered"
    share = f" ({change / current * 100:+.1f} %)" if current else ""
    return f"{verb} by {money(abs(change))} to {money(proposed)}{share}"


def _explain(
    workspace: Workspace,
    year: str,
    current: Decimal,
    measured: Return | None,
    allocation: Allocation,
    average: Fraction | None,
) -> str:
    settings = workspace.config.mdf
    if measured is None or not measured.spend:
        return (
            f"no MDF spend paid in {year}: kept at its budget of {money(current)} (no measured "
            "return to move it by)"
        )
    if not current:
        return (
            f"{money(measured.spend)} paid in {year} without a {year} budget: nothing to "
            "reallocate (give it one with `partnerscope mdf budget set`)"
        )
    roi = measured.roi
    assert roi is not None
    verdict = "meets" if roi >= settings.roi_target else "is below"
    versus = f" against {_decimal(average):,.2f} on average" if average is not None else ""
    text = (
        f"ROI {percent(roi)} {verdict} the {percent(settings.roi_target)} target "
        f"({money(measured.attributed_revenue)} won on {money(measured.spend)} paid in {year}: "
        f"{_decimal(_multiple(measured)):,.2f} per dollar{versus}; pipeline "
        f"{_ratio(measured.pipeline_ratio)} against {_ratio(settings.pipeline_ratio_target)}): "
        f"{_change(current, allocation.amount)}"
    )
    match allocation.bound:
        case Bound.MINIMUM:
            text += f", held at its minimum ({percent(settings.min_share)} of its budget)"
        case Bound.MAXIMUM:
            text += f", held at its maximum ({percent(settings.max_share)} of its budget)"
        case None:
            pass
    return text


def average_multiple(
    budgets: Mapping[str, Decimal], multiples: Mapping[str, Fraction]
) -> Fraction | None:
    """The budget-weighted mean return multiple of the partners the rule moves: a partner
    whose multiple is above it gains (unless a bound holds it), below it loses."""
    moving = [k for k in multiples if budgets.get(k, ZERO) > 0]
    pool = sum((Fraction(budgets[k]) for k in moving), Fraction(0))
    if not pool:
        return None
    return sum((Fraction(budgets[k]) * multiples[k] for k in moving), Fraction(0)) / pool


def _mix(workspace: Workspace, types: list[Return], total: Decimal, year: str) -> list[MixLine]:
    """The activity types' shares of next year's total: their shares of this year's spend,
    moved by the same rule."""
    settings = workspace.config.mdf
    spent = [t for t in types if t.spend > 0]
    all_spend = sum((t.spend for t in spent), ZERO)
    if not spent or not total:
        return []
    exact = {t.key: Fraction(total) * Fraction(t.spend) / Fraction(all_spend) for t in spent}
    anywhere = {key: Fraction(0) for key in exact}, {key: Fraction(total) for key in exact}
    current = _to_cents(exact, total, *anywhere)
    found = allocate(
        current,
        {t.key: _multiple(t) for t in spent},
        min_share=settings.min_share,
        max_share=settings.max_share,
    )
    lines = []
    for measured in spent:
        allocation = found[measured.key]
        now, proposed = current[measured.key], allocation.amount
        lines.append(
            MixLine(
                activity_type=measured.key,
                spend=measured.spend,
                roi=measured.roi,
                current=now,
                proposed=proposed,
                bound=allocation.bound,
                explanation=(
                    f"{percent(measured.spend / all_spend)} of the {year} spend at ROI "
                    f"{percent(measured.roi)} → {percent(proposed / total)} of the budget "
                    f"({money(proposed)})"
                    + (f", held at its {allocation.bound.value}" if allocation.bound else "")
                ),
            )
        )
    return lines


def propose_reallocation(
    workspace: Workspace, year: str | int | None = None, *, now: datetime | None = None
) -> Reallocation:
    """Budgets for the fiscal year ``year`` (default: the one after the latest run's last
    month's), reallocated from the budgets and the measured MDF returns of the year before."""
    from partnerscope import appdb
    from partnerscope.clock import local_date, now_utc
    from partnerscope.metrics.calendar import FiscalCalendar, Grain, Period, add_months
    from partnerscope.money.mdf.budgets import compute_budgets
    from partnerscope.money.mdf.common import fiscal_year
    from partnerscope.money.mdf.returns import evidence_month, measure_types, measure_window
    from partnerscope.warehouse import partner_names

    settings = workspace.config.mdf
    start_month = workspace.config.workspace.fiscal_year_start_month
    if year is None:
        evidence = FiscalCalendar(start_month).period_of(evidence_month(workspace), Grain.YEAR)
        target = Period(Grain.YEAR, evidence.end, start_month)
    else:
        today = local_date(now or now_utc(), workspace.config.workspace.timezone)
        target = fiscal_year(workspace, year, today)
        evidence = Period(Grain.YEAR, add_months(target.start, -12), start_month)
    names = partner_names(workspace)
    with appdb.connect(workspace).connect() as connection:
        budgets = {b.partner_id: b for b in compute_budgets(workspace, connection, evidence, names)}
    measured = {r.key: r for r in measure_window(workspace, evidence)}
    current = {pid: b.amount for pid, b in budgets.items()}
    multiples = {pid: _multiple(r) for pid, r in measured.items() if r.spend > 0}
    found = allocate(current, multiples, min_share=settings.min_share, max_share=settings.max_share)
    average = average_multiple(current, multiples)
    lines = []
    for pid in sorted(
        {*(p for p, a in current.items() if a), *(p for p, r in measured.items() if r.spend)}
    ):
        allocation = found.get(pid, Allocation(ZERO, ZERO, ZERO, None))
        result = measured.get(pid)
        budget = current.get(pid, ZERO)
        lines.append(
            ProposalLine(
                partner_id=pid,
                name=names.get(pid, pid),
                tier=budgets[pid].tier if pid in budgets else None,
                current=budget,
                proposed=allocation.amount,
                minimum=allocation.minimum,
                maximum=allocation.maximum,
                spend=result.spend if result else ZERO,
                attributed_revenue=result.attributed_revenue if result else ZERO,
                pipeline=result.pipeline if result else ZERO,
                roi=result.roi if result else None,
                pipeline_ratio=result.pipeline_ratio if result else None,
                bound=allocation.bound,
                explanation=_explain(
                    workspace, evidence.label, budget, result, allocation, average
                ),
            )
        )
    total = sum(current.values(), ZERO)
    pool = sum((line.current for line in lines if line.spend and line.current), ZERO)
    mean = "" if average is None else f" ({_decimal(average):,.2f} on average)"
    rule = (
        f"Each partner with MDF spend in {evidence.label} is weighted by its budget × (1 + ROI), "
        f"the revenue each dollar brought back{mean}; their budgets ({money(pool)}) are shared in "
        f"proportion to the weights, each held within {percent(settings.min_share)}–"
        f"{percent(settings.max_share)} of its budget and what a bound holds back shared among "
        "the others; partners without spend keep their budget. Amounts are rounded half up to "
        "the cent, the difference put on the largest budget, so the total "
        f"({money(total)}) is kept exactly."
    )
    return Reallocation(
        from_year=evidence.label,
        to_year=target.label,
        total=total,
        pool=pool,
        lines=lines,
        mix=_mix(workspace, measure_types(workspace, evidence), total, evidence.label),
        rule=rule,
    )
