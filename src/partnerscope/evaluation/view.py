"""A stored run's evaluation, read for people: one partner's scorecard, the ranking, tiers,
flags and alerts. Read from the run's files (never recomputed), so the CLI, reports and the web
show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError
from partnerscope.evaluation.pipeline import ALERTS, FLAGS, SCORE_LINES, SCORECARDS, TIERS
from partnerscope.metrics.definition import did_you_mean
from partnerscope.runs import RunManifest, get_run, run_folder

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.evaluation.plans import Plan
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


def pick_period(run: RunManifest, table: pa.Table, text: str | None) -> tuple[Any, str]:
    """(period_start, label) of the scorecard period named, or of the latest, among the
    periods of ``table`` (a run's scorecards or tiers)."""
    periods = table.group_by(["period_start", "period"]).aggregate([])
    pairs = sorted(
        zip(periods["period_start"].to_pylist(), periods["period"].to_pylist(), strict=True)
    )
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


def scorecard_view(
    workspace: Workspace, partner_id: str, period: str | None = None, run_id: int | None = None
) -> ScorecardView:
    import numpy as np
    import pyarrow.parquet as pq

    from partnerscope.evaluation import plans
    from partnerscope.evaluation.tiers import next_tier_gaps
    from partnerscope.metrics.engine import RESULTS

    run = get_run(workspace, run_id)
    cards = read(workspace, run, SCORECARDS)
    start, label = pick_period(run, cards, period)
    mine = rows_where(cards, partner_id=partner_id)
    if mine.num_rows == 0:
        ids = sorted(set(cards["partner_id"].to_pylist()))
        raise EvaluationNotFoundError(
            f"no partner {partner_id!r} in run {run.run_id}{did_you_mean(partner_id, ids)}"
        )
    history = list(zip(mine["period"].to_pylist(), mine["score"].to_pylist(), strict=True))
    row = rows_where(mine, period_start=start).to_pylist()
    if not row:
        raise EvaluationNotFoundError(f"partner {partner_id!r} was not a member in {label}")
    card = row[0]
    lines = [
        Line(**{k: v for k, v in line.items() if k in Line.__dataclass_fields__})
        for line in rows_where(
            read(workspace, run, SCORE_LINES), partner_id=partner_id, period_start=start
        ).to_pylist()
    ]
    # only the partner's row of the period: the row groups of everyone else are skipped
    values = pq.read_table(
        run_folder(workspace, run.run_id) / RESULTS,
        filters=[
            ("level", "=", "partner"),
            ("group_key", "=", partner_id),
            ("grain", "=", workspace.config.scorecard.grain),
            ("period_start", "=", start),
        ],
    ).to_pylist()
    # the one row's values by name, as the tier rules read them
    fields = {
        k: np.array([np.nan if v is None else float(v)])
        for source in (values[0] if values else {}, card)
        for k, v in source.items()
        if v is None or (isinstance(v, int | float | Decimal) and not isinstance(v, bool))
    }
    placements = []
    tiers = rows_where(read(workspace, run, TIERS), partner_id=partner_id, period_start=start)
    for tier in tiers.to_pylist():
        rules = getattr(workspace.config.tiers, tier["ruleset"])
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
                next_tier=next_tier_gaps(rules, fields, 0, level),
            )
        )
    flags = rows_where(read(workspace, run, FLAGS), partner_id=partner_id).to_pylist()
    alerts = rows_where(read(workspace, run, ALERTS), partner_id=partner_id).to_pylist()
    return ScorecardView(
        run=run,
        partner_id=partner_id,
        partner_name=_partner_name(workspace, run, partner_id),
        period=label,
        card=card,
        lines=lines,
        placements=placements,
        flags=flags,
        alerts=alerts,
        history=history,
        plan=plans.load(workspace.state_dir).open_plan(partner_id),
    )


def _partner_name(workspace: Workspace, run: RunManifest, partner_id: str) -> str:
    import pyarrow.parquet as pq

    from partnerscope.metrics.engine import MEMBERSHIPS

    members = pq.read_table(
        run_folder(workspace, run.run_id) / MEMBERSHIPS, columns=["partner_id", "name"]
    )
    names = rows_where(members, partner_id=partner_id)["name"].to_pylist()
    return str(names[0]) if names and names[0] else partner_id


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
