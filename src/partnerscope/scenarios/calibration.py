"""The base inputs of the scenario model, measured from a run over its last 12 complete months.

A run's memberships list every partner in every month (a dense grid), so membership alone never
shows a partner arriving or leaving. A partner counts as *present* in a month when it has a
membership row and any activity (a deal won, lost or open, new pipeline, a lead) in the 12 months
ending then; its first present month is when it was recruited, and a partner present a year ago
and not now has left. docs/scenarios.md lists every input with its source.

With ``from_forecast`` the revenue per won deal also carries the next year's growth of the
run's portfolio forecast (its next four quarters over the last four complete ones), so that the
model starts from the revenue the forecast expects instead of the last year's; where the run
has no forecast, or its method showed no skill in the backtest, the history is used and the
input's note says why (:func:`forecast_growth`).
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


class Growth:
    """The next year's revenue growth of a run's portfolio forecast, or why it is not used."""

    def __init__(self, factor: float | None, note: str) -> None:
        #: next-year revenue / last year's (None: the history is used, ``note`` says why)
        self.factor = factor
        self.note = note


#: Quarters of forecast (and of actuals before it) the growth is taken over: a year.
GROWTH_QUARTERS = 4


def forecast_growth(
    forecast: list[dict[str, Any]] | None,
    results: pa.Table,
    *,
    run_id: int | None = None,
    backtest: dict[str, Any] | None = None,
) -> Growth:
    """The portfolio forecast's revenue over its next four quarters against the actual revenue
    of the four complete quarters before them (``forecast``: the run's portfolio rows by
    quarter in step order, None when the run has none). No growth, with the reason, when the
    run has no forecast, its method showed no measured skill, or the actuals are missing."""
    import pyarrow.compute as pc

    run = f"run {run_id}" if run_id is not None else "the run"
    fallback = "so the last 12 months are used"
    if forecast is None:
        return Growth(None, f"{run} has no forecast (made before predictions), {fallback}")
    rows = [r for r in forecast if r["forecast"] is not None][:GROWTH_QUARTERS]
    if not rows:
        why = next((r["note"] for r in forecast if r.get("note")), None) or "too little history"
        return Growth(None, f"{run} has no portfolio forecast ({why}), {fallback}")
    method = rows[0]["method"]
    if not rows[0]["skill"]:
        return Growth(
            None,
            f"the portfolio forecast of {run} has no measured skill (it is the {method}, the "
            f"better baseline in the backtest), {fallback}",
        )
    quarters = results.filter(
        pc.and_(
            pc.and_(pc.equal(results["level"], "portfolio"), pc.equal(results["grain"], "quarter")),
            results["complete"],
        )
    ).sort_by("period_start")
    before = [
        r
        for r in quarters.select(["period_start", "label", "won_revenue"]).to_pylist()
        if r["period_start"] < rows[0]["period_start"]
    ][-len(rows) :]
    actual = sum(r["won_revenue"] or 0.0 for r in before)
    if len(before) < len(rows) or actual <= 0:
        return Growth(
            None,
            f"{run} has fewer than {len(rows)} complete quarters with revenue before its "
            f"forecast, {fallback}",
        )
    expected = sum(r["forecast"] for r in rows)
    factor = expected / actual
    backtest = backtest or {}
    mase, base = rows[0]["mase"], rows[0]["mase_baseline"]
    cases = f" over {int(backtest['n'])} cases" if backtest.get("n") else ""
    error = (
        f"backtest MASE {mase:.2f} against {base:.2f} for the better baseline{cases}"
        if mase is not None and base is not None
        else f"backtest{cases}"
    )
    return Growth(
        factor,
        f"× {factor:.4f}, the revenue growth of the forecast ({factor - 1:+.1%}): "
        f"{expected:,.0f} in {rows[0]['label']}–{rows[-1]['label']} against {actual:,.0f} in "
        f"{before[0]['label']}–{before[-1]['label']} (forecast, {run}, method {method}; "
        f"{error})",
    )


def calibrate(
    results: pa.Table,
    memberships: pa.Table,
    gross_margin: float | None,
    *,
    run_id: int | None = None,
    growth: Growth | None = None,
) -> Inputs:
    """Every input of the model from a run's results and memberships (month grain), each with
    its source and a note of where it comes from; ``gross_margin`` from the configuration;
    ``growth`` (:func:`forecast_growth`): the revenue per won deal grown by the forecast."""
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
        if bottom > 0 and name == "deal_size" and growth is not None:
            if growth.factor is None:
                put(name, top / bottom, "measured", f"{what}, {span}; {growth.note}")
            else:
                value = top / bottom * growth.factor
                put(name, value, "forecast", f"{what}, {span}, {growth.note}")
        elif bottom > 0:
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


def calibrate_run(
    workspace: Workspace, run_id: int | None = None, *, from_forecast: bool = False
) -> Inputs:
    """:func:`calibrate` on a run of the workspace (the latest by default); ``from_forecast``:
    with the next year's revenue growth of the run's portfolio forecast."""
    from partnerscope.predict.outlook import backtest_section, series_forecast
    from partnerscope.runs import get_run, read_memberships, read_results, run_folder

    run = get_run(workspace, run_id)
    results = read_results(workspace, run.run_id)
    growth = None
    if from_forecast:
        folder = run_folder(workspace, run.run_id)
        growth = forecast_growth(
            series_forecast(folder, "portfolio", "all", "quarter"),
            results,
            run_id=run.run_id,
            backtest=backtest_section(folder, "portfolio"),
        )
    return calibrate(
        results,
        read_memberships(workspace, run.run_id),
        workspace.config.economics.gross_margin,
        run_id=run.run_id,
        growth=growth,
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
