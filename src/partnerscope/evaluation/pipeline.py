"""A run's evaluation: scorecards, tiers, flags and alerts from its stored metric values.

Run by every ``partnerscope run`` after the metrics, into the same run folder, so a run's
scores, tiers and alerts are as reproducible and as traceable as its metric values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.evaluation.panel import Panel, build_panel
from partnerscope.evaluation.scorecard import Scorecards, score, to_tables
from partnerscope.present import Words
from partnerscope.settings.evaluation import RULESETS

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.config import Config
    from partnerscope.evaluation.tiers import Placements
    from partnerscope.metrics.definition import Catalog

#: The files an evaluation writes into its run folder.
SCORECARDS, SCORE_LINES, TIERS, FLAGS, ALERTS = (
    "scorecards.parquet",
    "scorecard_metrics.parquet",
    "tiers.parquet",
    "flags.parquet",
    "alerts.parquet",
)


@dataclass(frozen=True)
class Evaluation:
    cards: Scorecards
    tiers: dict[str, Placements]
    flags: pa.Table
    alerts: pa.Table

    @property
    def panel(self) -> Panel:
        return self.cards.panel

    def summary(self) -> dict[str, Any]:
        """Counts for the run's manifest, of the latest period."""
        import numpy as np

        panel = self.panel
        latest = panel.period == panel.latest
        scored = latest & ~np.isnan(self.cards.score)
        tiers: dict[str, dict[str, int]] = {}
        for name, placements in self.tiers.items():
            # a partner left out of scoring holds no tier
            placed = latest if placements.scored is None else latest & placements.scored
            counts = np.bincount(
                placements.effective[placed], minlength=len(placements.level_names)
            )
            tiers[name] = dict(zip(placements.level_names, map(int, counts), strict=True))
        flags = self.flags.column("flag").to_pylist()
        statuses = self.alerts.column("status").to_pylist()
        return {
            "grain": panel.grain,
            "period": panel.labels[panel.latest] if panel.periods else None,
            "partners": int(latest.sum()),
            "scored": int(scored.sum()),
            "low_evidence": int((scored & self.cards.low_evidence).sum()),
            "tiers": tiers,
            "flags": {kind: flags.count(kind) for kind in sorted(set(flags))},
            "alerts": {
                "new": statuses.count("new"),
                "ongoing": statuses.count("ongoing"),
            },
        }


def evaluate(
    config: Config,
    catalog: Catalog,
    results: pa.Table,
    memberships: pa.Table,
    *,
    run_id: int,
    previous_alerts: pa.Table | None = None,
    weights: dict[str, float] | None = None,
) -> Evaluation:
    """Score, place, flag and alert every partner of a run."""
    from partnerscope.evaluation import alerts, flags, tiers

    settings = config.scorecard
    panel = build_panel(results, memberships, settings.grain)
    cards = score(panel, catalog, settings, weights)
    fields = cards.fields()
    words = Words(config.workspace.locale, config.workspace.base_currency, catalog)
    placements = {
        name: tiers.evaluate(panel, fields, getattr(config.tiers, name), name, words)
        for name in RULESETS
    }
    monthly = panel if panel.grain == "month" else build_panel(results, memberships, "month")
    directions = {name: catalog[name].spec.direction.value for name in catalog.metrics}
    directions |= {"score": "higher", "score_percentile": "higher"}
    found = flags.evaluate_flags(panel, fields, monthly, cards.cohort, config.flags, words)
    raised = alerts.evaluate_alerts(panel, fields, cards.cohort, directions, config.alerts, words)
    return Evaluation(
        cards=cards,
        tiers=placements,
        flags=found,
        alerts=alerts.dedupe(raised, previous_alerts, run_id),
    )


def write(evaluation: Evaluation, folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from partnerscope.evaluation.tiers import to_table

    scorecards, lines = to_tables(evaluation.cards)
    pq.write_table(scorecards, folder / SCORECARDS)
    pq.write_table(lines, folder / SCORE_LINES)
    tier_tables = [to_table(evaluation.panel, p) for p in evaluation.tiers.values()]
    pq.write_table(pa.concat_tables(tier_tables), folder / TIERS)
    pq.write_table(evaluation.flags, folder / FLAGS)
    pq.write_table(evaluation.alerts, folder / ALERTS)
