"""A stored run's evaluation, read for people: one partner's scorecard, the ranking, tiers,
flags and alerts. Read from the run's files (never recomputed), so the CLI, reports and the web
show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.evaluation.pipeline import ALERTS, FLAGS, SCORE_LINES, SCORECARDS, TIERS
from partnerscope.runs import MANAGERS, STAGES, RunManifest, get_run, run_folder
from partnerscope.settings.evaluation import RULESETS

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from partnerscope.evaluation.plans import Plan, PlanBook
    from partnerscope.evaluation.tiers import Gap
    from partnerscope.workspace import Workspace


class EvaluationNotFoundError(PartnerscopeError, LookupError):
    """A run without an evaluation, or a partner or period it does not have."""


def read(workspace: Workspace, run: RunManifest, name: str) -> pa.Table:
    import pyarrow.parquet as pq

    path = run_folder(workspace, run.run_id) / name
    if not path.is_file():
        raise EvaluationNotFoundError(
            f"run {run.run_id} has no scorecards (it was computed before partnerscope "
            "evaluated runs); run `partnerscope run` again"
        )
    return pq.read_table(path)


def rows_where(table: pa.Table, **equal: Any) -> pa.Table:
    import pyarrow.compute as pc

    for column, value in equal.items():
        table = table.filter(pc.equal(table[column], value))
    return table


def pick_period(
    run: RunManifest, periods: pa.Table | list[tuple[Any, str]], text: str | None
) -> tuple[Any, str]:
    """(period_start, label) of the scorecard period named, or of the latest, among
    ``periods``: a run's scorecards or tiers, or their (period_start, label) pairs."""
    pairs = periods if isinstance(periods, list) else _periods(periods)
    if not pairs:
        raise EvaluationNotFoundError(f"run {run.run_id} scored no partner")
    if text is None:
        return pairs[-1]
    wanted = text.upper().removeprefix("FY")
    for start, label in pairs:
        if label.upper().removeprefix("FY") == wanted:
            return start, label
    labels = [label for _, label in pairs]
    raise EvaluationNotFoundError(
        f"--period {text}: run {run.run_id} has scorecards for {labels[0]} to {labels[-1]}"
        f"{did_you_mean(text, labels)}"
    )


def _periods(table: pa.Table) -> list[tuple[Any, str]]:
    periods = table.group_by(["period_start", "period"]).aggregate([])
    return sorted(
        zip(periods["period_start"].to_pylist(), periods["period"].to_pylist(), strict=True)
    )


@dataclass(frozen=True)
class Line:
    metric: str
    indicator: str
    method: str
    value: float | None
    scored_value: float | None
    cohort_rate: float | None
    own_weight: float | None
    normalized: float | None
    weight: float
    contribution: float | None


@dataclass(frozen=True)
class Placement:
    ruleset: str
    placed: str
    effective: str
    pending: str | None
    pending_periods: int
    moved: str | None
    reason: str
    #: the tier above and the conditions the partner still misses (None at the top)
    next_tier: tuple[str, list[Gap]] | None


@dataclass(frozen=True)
class ScorecardView:
    run: RunManifest
    partner_id: str
    partner_name: str
    period: str
    card: dict[str, Any]
    lines: list[Line]
    placements: list[Placement]
    flags: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    #: (period label, score) of every period, oldest first
    history: list[tuple[str, float | None]]
    plan: Plan | None


class Indexed:
    """A table sorted by one key column, each key's rows found in O(1): a run's rows of one
    partner, without filtering the whole table again for every partner."""

    def __init__(self, table: pa.Table, key: str, order: str | None = "period_start") -> None:
        import pyarrow.compute as pc

        sort = [(key, "ascending")]
        if order is not None and order in table.column_names:
            sort.append((order, "ascending"))
        self.table = table.take(pc.sort_indices(table, sort_keys=sort))
        self.order = order if order is not None and order in table.column_names else None
        self.spans: dict[Any, tuple[int, int]] = {}
        for i, value in enumerate(self.table[key].to_pylist()):
            first, _ = self.spans.get(value, (i, i))
            self.spans[value] = (first, i + 1)

    def __contains__(self, key: object) -> bool:
        return key in self.spans

    @cached_property
    def _ordered(self) -> np.ndarray[Any, Any]:
        """The order column (sorted within each key) as numpy, to find one period's rows."""
        assert self.order is not None
        ordered: np.ndarray[Any, Any] = self.table[self.order].to_numpy()
        return ordered

    def of(self, key: Any, at: Any = None) -> pa.Table:
        """The key's rows; with ``at``, only those whose order column (the period) is ``at``."""
        first, end = self.spans.get(key, (0, 0))
        if at is not None and end > first:
            import numpy as np

            span = self._ordered[first:end]
            value = np.asarray(at, dtype=span.dtype)
            first, end = (
                first + int(np.searchsorted(span, value, "left")),
                first + int(np.searchsorted(span, value, "right")),
            )
        return self.table.slice(first, end - first)

    def rows(self, key: Any, at: Any = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.of(key, at).to_pylist()
        return rows


class RunData:
    """One stored run's files, each read once and indexed by partner, for the CLI, the reports
    and the web: whoever looks at many partners reads the run once."""

    def __init__(
        self, workspace: Workspace, run_id: int | None = None, plans: PlanBook | None = None
    ) -> None:
        """``plans``: the improvement plans to show with the run (default: the workspace's,
        read when first needed)."""
        from partnerscope.metrics.calendar import FiscalCalendar

        self.workspace = workspace
        self._plans = plans
        self.run = get_run(workspace, run_id)
        self.folder = run_folder(workspace, self.run.run_id)
        self.grain = workspace.config.scorecard.grain
        self.calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
        self._results: dict[str, Indexed] = {}

    @cached_property
    def scorecards(self) -> Indexed:
        return Indexed(read(self.workspace, self.run, SCORECARDS), "partner_id")

    @cached_property
    def lines(self) -> Indexed:
        return Indexed(read(self.workspace, self.run, SCORE_LINES), "partner_id")

    @cached_property
    def tiers(self) -> Indexed:
        return Indexed(read(self.workspace, self.run, TIERS), "partner_id")

    @cached_property
    def flags(self) -> Indexed:
        return Indexed(read(self.workspace, self.run, FLAGS), "partner_id")

    @cached_property
    def alerts(self) -> Indexed:
        return Indexed(read(self.workspace, self.run, ALERTS), "partner_id")

    @cached_property
    def memberships(self) -> Indexed:
        import pyarrow.parquet as pq

        from partnerscope.runs import MEMBERSHIPS

        table = pq.read_table(self.folder / MEMBERSHIPS, filters=[("grain", "=", self.grain)])
        return Indexed(table, "partner_id")

    @cached_property
    def open_plans(self) -> dict[str, Plan]:
        """Each partner's open improvement plan."""
        from partnerscope.evaluation import plans

        book = self._plans if self._plans is not None else plans.load(self.workspace.state_dir)
        return {p.partner_id: p for p in book.plans if p.status == "open"}

    @cached_property
    def managers(self) -> dict[str, str | None]:
        """Each partner's ``partner_manager`` when the run was made (none in older runs)."""
        import pyarrow.parquet as pq

        path = self.folder / MANAGERS
        if not path.exists():
            return {}
        table = pq.read_table(path)
        return dict(
            zip(
                table["partner_id"].to_pylist(),
                table["partner_manager"].to_pylist(),
                strict=True,
            )
        )

    @cached_property
    def stages(self) -> dict[str, list[tuple[str, str, int, Decimal]]]:
        """Each partner's (stage, status, deals, amount) when the run was made (none in older
        runs)."""
        import pyarrow.parquet as pq

        path = self.folder / STAGES
        out: dict[str, list[tuple[str, str, int, Decimal]]] = {}
        if path.exists():
            for r in pq.read_table(path).to_pylist():
                row = (str(r["stage"]), str(r["status"]), int(r["deals"]), Decimal(r["amount"]))
                out.setdefault(r["partner_id"], []).append(row)
        return out

    def results(self, grain: str | None = None) -> Indexed:
        """Every partner's metric values at ``grain`` (the scorecard's by default)."""
        import pyarrow.parquet as pq

        from partnerscope.runs import RESULTS

        grain = grain or self.grain
        if grain not in self._results:
            table = pq.read_table(
                self.folder / RESULTS, filters=[("level", "=", "partner"), ("grain", "=", grain)]
            )
            self._results[grain] = Indexed(table, "group_key")
        return self._results[grain]

    def group_results(self, level: str, grain: str | None = None) -> pa.Table:
        """The values of a group level (portfolio, company, a cohort) at ``grain``."""
        import pyarrow.parquet as pq

        from partnerscope.runs import RESULTS

        return pq.read_table(
            self.folder / RESULTS,
            filters=[("level", "=", level), ("grain", "=", grain or self.grain)],
        ).sort_by("period_start")

    @cached_property
    def periods(self) -> list[tuple[Any, str]]:
        """(period_start, label) of every scored period, oldest first."""
        return _periods(self.scorecards.table)

    @cached_property
    def periods_with_data(self) -> list[tuple[Any, str]]:
        """The scored periods with data, oldest first: those in which partners closed a deal.
        A period before the first deal, or after the last one of an old export, is left out
        (its scorecards rest on nothing that happened in it); when no period has data, the
        latest is kept."""
        starts = self.closing_periods()
        return [p for p in self.periods if p[0] in starts] or self.periods[-1:]

    def closing_periods(self, grain: str | None = None) -> set[Any]:
        """The starts of the periods at ``grain`` (the scorecard's by default) in which
        partners closed deals."""
        import pyarrow.compute as pc

        portfolio = self.group_results("portfolio", grain)
        closed = portfolio.filter(pc.greater(pc.fill_null(portfolio["closed_deals"], 0), 0))
        return set(closed["period_start"].to_pylist())

    def not_scored(self, start: Any) -> dict[str, str]:
        """The partners left out of scoring in the period starting ``start`` (inactive, not yet
        in the program), each with why in words ("Inactive — not scored"), by partner id; empty
        for a run stored before partners were left out."""
        import pyarrow.compute as pc

        cards = self.scorecards.table
        if "scored" not in cards.column_names:
            return {}
        cards = cards.filter(pc.equal(cards["period_start"], start))
        left_out = cards.filter(pc.invert(pc.field("scored"))).select(["partner_id", "note"])
        return {
            str(r["partner_id"]): str(r["note"] or "Not scored")
            for r in sorted(left_out.to_pylist(), key=lambda r: str(r["partner_id"]))
        }

    @cached_property
    def tier_notes(self) -> dict[str, str]:
        """Per rule set whose levels a measure without data keeps out of reach, the sentence
        that says so ("Elite, Performance and Development need Quota attainment, which has no
        data in this workspace: no partner can reach them")."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from partnerscope.evaluation.tiers import unreachable

        fields = {}
        for table in (self.results().table, self.scorecards.table):
            for name in table.column_names:
                kind = table.schema.field(name).type
                if (
                    pa.types.is_floating(kind)
                    or pa.types.is_integer(kind)
                    or (pa.types.is_decimal(kind))
                ):
                    column = pc.cast(table[name], pa.float64()).to_numpy(zero_copy_only=False)
                    fields[name] = np.asarray(column, dtype=np.float64)
        notes = {}
        for ruleset in RULESETS:
            rules = getattr(self.workspace.config.tiers, ruleset)
            note = unreachable(rules, fields, self.workspace.words)
            if note:
                notes[ruleset] = note
        return notes

    def pick_period(self, text: str | None) -> tuple[Any, str]:
        """The period named, or the latest with data (:attr:`periods_with_data`)."""
        if text is None and self.periods:
            return self.periods_with_data[-1]
        return pick_period(self.run, self.periods, text)

    def partner_name(self, partner_id: str) -> str:
        names = self.memberships.of(partner_id)["name"].to_pylist()
        return str(names[-1]) if names and names[-1] else partner_id

    def check_partner(self, partner_id: str) -> None:
        if partner_id not in self.scorecards:
            ids = sorted(self.scorecards.spans)
            raise EvaluationNotFoundError(
                f"no partner {partner_id!r} in run {self.run.run_id}{did_you_mean(partner_id, ids)}"
            )

    def scorecard(self, partner_id: str, period: str | None = None) -> ScorecardView:
        import numpy as np

        from partnerscope.evaluation.tiers import next_tier_gaps

        start, label = self.pick_period(period)
        self.check_partner(partner_id)
        mine = self.scorecards.rows(partner_id)
        history = [(r["period"], r["score"]) for r in mine]
        row = [r for r in mine if r["period_start"] == start]
        if not row:
            raise EvaluationNotFoundError(f"partner {partner_id!r} was not a member in {label}")
        card = row[0]
        lines = [
            Line(**{k: v for k, v in line.items() if k in Line.__dataclass_fields__})
            for line in self.lines.rows(partner_id, at=start)
        ]
        values = self.results().rows(partner_id, at=start)
        # the one row's values by name, as the tier rules read them
        fields = {
            k: np.array([np.nan if v is None else float(v)])
            for source in (values[0] if values else {}, card)
            for k, v in source.items()
            if v is None or (isinstance(v, int | float | Decimal) and not isinstance(v, bool))
        }
        placements = []
        for tier in self.tiers.rows(partner_id, at=start):
            rules = getattr(self.workspace.config.tiers, tier["ruleset"])
            names = [level.name for level in rules.levels]
            level = names.index(tier["effective"]) if tier["effective"] in names else 0
            placements.append(
                Placement(
                    ruleset=tier["ruleset"],
                    placed=tier["placed"],
                    effective=tier["effective"],
                    pending=tier["pending"],
                    pending_periods=tier["pending_periods"],
                    moved=tier["moved"],
                    reason=tier["reason"],
                    # a partner left out of scoring has no next tier to work toward
                    next_tier=next_tier_gaps(rules, fields, 0, level)
                    if tier.get("scored", True)
                    else None,
                )
            )
        return ScorecardView(
            run=self.run,
            partner_id=partner_id,
            partner_name=self.partner_name(partner_id),
            period=label,
            card=card,
            lines=lines,
            placements=placements,
            flags=self.flags.rows(partner_id),
            alerts=self.alerts.rows(partner_id),
            history=history,
            plan=self.open_plans.get(partner_id),
        )


def scorecard_view(
    workspace: Workspace, partner_id: str, period: str | None = None, run_id: int | None = None
) -> ScorecardView:
    """One partner's scorecard in a period (the latest by default), explained."""
    return RunData(workspace, run_id).scorecard(partner_id, period)


def ranking(
    workspace: Workspace, period: str | None = None, run_id: int | None = None
) -> tuple[RunManifest, str, list[dict[str, Any]]]:
    """Every partner's scorecard row in a period with its tiers, best score first."""
    run = get_run(workspace, run_id)
    cards = read(workspace, run, SCORECARDS)
    start, label = pick_period(run, cards, period)
    cards = rows_where(cards, period_start=start)
    tiers = rows_where(read(workspace, run, TIERS), period_start=start).to_pylist()
    placed = {(t["partner_id"], t["ruleset"]): t for t in tiers}
    rows = []
    for card in cards.to_pylist():
        for ruleset in ("revenue", "performance"):
            tier = placed.get((card["partner_id"], ruleset))
            card[f"{ruleset}_tier"] = tier["effective"] if tier else None
            card[f"{ruleset}_pending"] = tier["pending"] if tier else None
        rows.append(card)
    rows.sort(key=lambda r: (r["score"] is None or r["score"] != r["score"], -(r["score"] or 0)))
    return run, label, rows
