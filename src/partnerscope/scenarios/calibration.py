"""The base inputs of the scenario model, measured from a run over its last 12 complete months.

A run's memberships list every partner in every month (a dense grid), so membership alone never
shows a partner arriving or leaving. A partner counts as *present* in a month when it has a
membership row and any activity (a deal won, lost or open, new pipeline, a lead) in the 12 months
ending then; its first present month is when it was recruited, and a partner present a year ago
and not now has left. docs/scenarios.md lists every input with its source.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError
from partnerscope.scenarios.inputs import ASSUMED, Input, Inputs, Source, make_input

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from partnerscope.workspace import Workspace

WINDOW = 12
#: The tier name of partners without a program tier.
NO_TIER = "untiered"
#: Compliance assumed when the run has no compliance checks, 0–100.
ASSUMED_COMPLIANCE = 90.0
#: Recruits' compliance relative to today's partners' when no recruit has a score.
RECRUIT_COMPLIANCE_SHARE = 0.85
#: fewer recruits than this say too little about how recruits comply: it is assumed instead
MIN_RECRUITS = 5
_ACTIVITY = ("won_deals", "lost_deals", "open_deals", "leads_assigned", "new_pipeline")


class CalibrationError(PartnerscopeError, ValueError):
    """The run has too little to measure the base inputs from."""


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _label(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


def _rows(table: pa.Table, level: str, columns: list[str]) -> dict[str, list[Any]]:
    import pyarrow.compute as pc

    mask = pc.and_(pc.equal(table["level"], level), pc.equal(table["grain"], "month"))
    rows: dict[str, list[Any]] = (
        table.filter(mask).select(["group_key", "period_start", *columns]).to_pydict()
    )
    return rows


def calibrate(
    results: pa.Table,
    memberships: pa.Table,
    gross_margin: float | None,
    *,
    run_id: int | None = None,
) -> Inputs:
    """Every input of the model from a run's results and memberships (month grain), each with
    its source and a note of where it comes from; ``gross_margin`` from the configuration."""
    import numpy as np
    import pyarrow.compute as pc

    month_rows = results.filter(pc.equal(results["grain"], "month"))
    complete = month_rows.filter(month_rows["complete"])["period_start"].to_pylist()
    if not complete:
        raise CalibrationError(
            "the run has no complete month to calibrate from; run again after a month has closed"
        )
    last = _month_index(max(complete))
    first = min(_month_index(d) for d in month_rows["period_start"].to_pylist())
    # the last 12 complete months, or fewer when the run is shorter
    window = range(max(last - WINDOW + 1, first), last + 1)
    run = f", run {run_id}" if run_id is not None else ""
    span = f"{len(window)} months to {_label(last)}{run}"
    out: dict[str, Input] = {}

    def put(name: str, value: float, source: Source, note: str) -> None:
        out[name] = make_input(name, float(value), source, note)

    # the portfolio: every partner, direct deals left out
    sums = _window_sums(
        _rows(
            month_rows,
            "portfolio",
            [
                "won_deals",
                "lost_deals",
                "won_revenue",
                "mdf_spend",
                "incentive_payouts",
                "other_partner_costs",
            ],
        ),
        window,
    )
    if sums is None:
        raise CalibrationError("the run has no portfolio rows by month; run the full catalog")
    closed = sums["won_deals"] + sums["lost_deals"]
    ratios = {
        "win_rate": (sums["won_deals"], closed, "won / closed deals of the portfolio"),
        "deal_size": (sums["won_revenue"], sums["won_deals"], "won revenue / won deals"),
        "incentive_rate": (
            sums["incentive_payouts"],
            sums["won_revenue"],
            "incentive payouts / won revenue of the portfolio",
        ),
    }
    for name, (top, bottom, what) in ratios.items():
        if bottom > 0:
            put(name, top / bottom, "measured", f"{what}, {span}")
        else:
            put(name, 0.0, "assumed", f"undefined in the run ({what}: nothing to divide by)")
    put("mdf_spend", sums["mdf_spend"] / len(window), "measured", f"monthly mean, {span}")

    # partners: presence, tiers, recruits and leavers
    panel = _Panel.build(month_rows, memberships, last)
    deals = panel.value("won_deals") + panel.value("lost_deals")
    in_window = panel.months_in(window)
    productivity: dict[str, float] = {}
    for tier in panel.tiers_at_end():
        of_tier = panel.present & (panel.tier == tier)
        months = float(of_tier[:, in_window].sum())
        active = int(of_tier[:, panel.end].sum())
        put(
            f"active_partners.{tier}",
            active,
            "measured",
            f"partners present in {_label(last)}{run}",
        )
        productivity[tier] = float(deals[:, in_window][of_tier[:, in_window]].sum()) / months
        put(
            f"productivity.{tier}",
            productivity[tier],
            "measured",
            f"closed deals / partner-months of {tier}, {span}",
        )
    if productivity:
        lowest = min(productivity, key=lambda t: productivity[t])
        put(
            "recruit_productivity",
            productivity[lowest],
            "measured",
            f"productivity of the least productive tier, {lowest}, {span}",
        )
    else:
        put("recruit_productivity", 0.0, "assumed", "no partner present at the end of the run")
    total_months = float(panel.present[:, in_window].sum())
    if total_months > 0:
        note = f"other partner costs / partner-months, {span}"
        put("cost_per_partner", sums["other_partner_costs"] / total_months, "measured", note)
    else:
        put("cost_per_partner", 0.0, "assumed", "no partner present in the window")

    recruits = panel.recruits(window)
    eligible = [m for m in window if m >= panel.first + WINDOW]
    if eligible:
        put(
            "recruitment_velocity",
            int(recruits.sum()) / len(eligible),
            "measured",
            f"partners first present in the {len(eligible)} months to {_label(last)} / "
            f"{len(eligible)}{run}",
        )
    else:
        put(
            "recruitment_velocity",
            0.0,
            "assumed",
            "the run covers fewer than 13 months, too few to tell recruits from partners "
            "there from the start; set it in the spec",
        )
    churn = panel.churn()
    if churn is None:
        put(
            "churn",
            ASSUMED["churn"],
            "assumed",
            "no partner present 12 months before the end of the run",
        )
    else:
        annual, present = churn
        put(
            "churn",
            1.0 - (1.0 - annual) ** (1 / 12),
            "measured",
            f"{annual:.1%} of the {present} partners present in {_label(last - 12)} gone by "
            f"{_label(last)}, as a monthly rate{run}",
        )

    # coverage and control: today's state
    company = _at(_rows(month_rows, "company", ["coverage"]), "coverage", last)
    coverage = company if company is not None else 0.0
    put(
        "coverage_start",
        coverage,
        "measured" if company is not None else "assumed",
        f"coverage of the company in {_label(last)}{run}" if company is not None else "no coverage",
    )
    control_rows = _rows(month_rows, "portfolio", ["control_index"])
    control = next(
        (
            (m, v)
            for m in reversed(window)
            if (v := _at(control_rows, "control_index", m)) is not None
        ),
        None,
    )
    if control is None:
        existing = ASSUMED_COMPLIANCE
        put("compliance_existing", existing, "assumed", "no compliance checks in the run")
    else:
        existing = control[1]
        note = f"control index of the portfolio in {_label(control[0])}{run}"
        put("compliance_existing", existing, "measured", note)
    weights = np.where(recruits, panel.value("won_revenue")[:, in_window].sum(axis=1), 0.0)
    scores = panel.value("compliance_score", fill=np.nan)[:, panel.end]
    known = (weights > 0) & np.isfinite(scores)
    if known.sum() >= MIN_RECRUITS:
        put(
            "compliance_recruits",
            float(np.average(scores[known], weights=weights[known])),
            "measured",
            f"compliance score in {_label(last)} of the {int(known.sum())} recruits with "
            f"revenue, weighted by their revenue, {span}",
        )
    else:
        put(
            "compliance_recruits",
            RECRUIT_COMPLIANCE_SHARE * existing,
            "assumed",
            f"{RECRUIT_COMPLIANCE_SHARE:g} × compliance_existing ({int(known.sum())} recruits "
            f"with revenue and a compliance score, under {MIN_RECRUITS})",
        )

    if gross_margin is not None:
        put("gross_margin", gross_margin, "config", "economics.gross_margin")
    else:
        put("gross_margin", ASSUMED["gross_margin"], "assumed", "economics.gross_margin unset")
    for name in ("ramp_months", "mdf_elasticity", "program_cost", "one_off_cost"):
        put(name, ASSUMED[name], "assumed", "default")
    return Inputs(out)


def calibrate_run(workspace: Workspace, run_id: int | None = None) -> Inputs:
    """:func:`calibrate` on a run of the workspace (the latest by default)."""
    from partnerscope.runs import get_run, read_memberships, read_results

    run = get_run(workspace, run_id)
    return calibrate(
        read_results(workspace, run.run_id),
        read_memberships(workspace, run.run_id),
        workspace.config.economics.gross_margin,
        run_id=run.run_id,
    )


def _window_sums(rows: dict[str, list[Any]], window: range) -> dict[str, float] | None:
    months = [_month_index(d) for d in rows["period_start"]]
    if not months:
        return None
    return {
        name: float(sum(v or 0.0 for v, m in zip(values, months, strict=True) if m in window))
        for name, values in rows.items()
        if name not in ("group_key", "period_start")
    }


def _at(rows: dict[str, list[Any]], column: str, month: int) -> float | None:
    for day, value in zip(rows["period_start"], rows[column], strict=True):
        if _month_index(day) == month and value is not None:
            return float(value)
    return None


class _Panel:
    """Partner × month arrays from the first month of the run to ``end``."""

    def __init__(
        self,
        partners: list[str],
        first: int,
        columns: dict[str, npt.NDArray[np.float64]],
        tier: npt.NDArray[np.object_],
        member: npt.NDArray[np.bool_],
    ) -> None:
        import numpy as np

        self.partners = partners
        self.first = first
        self.columns = columns
        self.tier = tier
        self.end = tier.shape[1] - 1
        active = sum((np.nan_to_num(columns[c]) != 0 for c in _ACTIVITY), np.zeros(tier.shape))
        running = np.cumsum(active, axis=1)
        trailing = running.copy()
        trailing[:, WINDOW:] -= running[:, :-WINDOW]
        self.present = member & (trailing > 0)

    @classmethod
    def build(cls, month_rows: pa.Table, memberships: pa.Table, last: int) -> _Panel:
        import numpy as np
        import pyarrow.compute as pc

        rows = _rows(month_rows, "partner", [*_ACTIVITY, "won_revenue", "compliance_score"])
        if not rows["group_key"]:
            raise CalibrationError("the run has no partner rows by month; run the full catalog")
        months = [_month_index(d) for d in rows["period_start"]]
        first = min(months)
        partners = sorted(set(rows["group_key"]))
        where = {p: i for i, p in enumerate(partners)}
        shape = (len(partners), last - first + 1)
        columns = {}
        for name in [*_ACTIVITY, "won_revenue", "compliance_score"]:
            values = np.full(shape, np.nan)
            for p, m, v in zip(rows["group_key"], months, rows[name], strict=True):
                if m <= last and v is not None:
                    values[where[p], m - first] = v
            columns[name] = values
        tier = np.full(shape, None, dtype=object)
        member = np.zeros(shape, dtype=bool)
        monthly = memberships.filter(pc.equal(memberships["grain"], "month")).to_pydict()
        for p, day, t in zip(
            monthly["partner_id"], monthly["period_start"], monthly["program_tier"], strict=True
        ):
            m = _month_index(day)
            if p in where and first <= m <= last:
                tier[where[p], m - first] = t if t is not None else NO_TIER
                member[where[p], m - first] = True
        return cls(partners, first, columns, tier, member)

    def value(self, name: str, fill: float = 0.0) -> npt.NDArray[np.float64]:
        import numpy as np

        return np.where(np.isnan(self.columns[name]), fill, self.columns[name])

    def months_in(self, window: range) -> list[int]:
        return [m - self.first for m in window if self.first <= m <= self.first + self.end]

    def tiers_at_end(self) -> list[str]:
        return sorted({str(t) for t in self.tier[self.present[:, self.end], self.end]})

    def recruits(self, window: range) -> npt.NDArray[np.bool_]:
        """Partners first present in a month of ``window`` at least 12 months into the run
        (earlier, a first appearance may be a partner that was there before the data)."""
        import numpy as np

        ever = self.present.any(axis=1)
        first_present = np.where(ever, self.present.argmax(axis=1) + self.first, -1)
        eligible = [m for m in window if m >= self.first + WINDOW]
        return np.isin(first_present, eligible)

    def churn(self) -> tuple[float, int] | None:
        """(share of the partners present 12 months before the end gone by the end, their
        count), or None when there were none or the run is shorter."""
        if self.end < WINDOW:
            return None
        before = self.present[:, self.end - WINDOW]
        count = int(before.sum())
        if count == 0:
            return None
        gone = before & ~self.present[:, self.end]
        return float(gone.sum()) / count, count
