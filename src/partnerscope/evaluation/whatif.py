"""What if the weights or tier thresholds were different: re-evaluate a stored run under other
settings, and count how many tier placements flip when each weight moves ±10 %.

A what-if is the evaluation a run would make with the same settings: the [scorecard] and
[tiers] sections only read a run's metric values (they are no part of ``metrics_hash``), so
evaluating the run's stored values under them is what ``partnerscope run`` would do. Its
placements are matched partner by partner, in the latest period of each evaluation's own
grain: another ``grain`` judges another period (the latest finished month or year). A partner
left out of scoring (inactive, not yet joined) holds no tier: a what-if counts the partners
scored, and says which side did not score a partner (``score_inactive`` changes that).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from partnerscope.errors import ConfigError
from partnerscope.evaluation.pipeline import Evaluation, evaluate
from partnerscope.settings.evaluation import RULESETS

if TYPE_CHECKING:
    from pathlib import Path

    from partnerscope.config import Config
    from partnerscope.runs import RunManifest
    from partnerscope.workspace import Workspace

#: Sections a what-if file may change.
WHAT_IF_SECTIONS = ("scorecard", "tiers")


@dataclass(frozen=True)
class Change:
    """A partner's placement by one rule set now and under the what-if settings; None where
    the partner has no row in that evaluation's latest period (it was not a member then). A
    side that left the partner out of scoring (``scored_before``/``scored_after`` False) holds
    the lowest tier only as a placeholder: the partner is in no tier there."""

    partner_id: str
    ruleset: str
    before: str | None
    after: str | None
    score_before: float | None
    score_after: float | None
    scored_before: bool = True
    scored_after: bool = True

    @property
    def changed(self) -> bool:
        # scored on one side only: in a tier there, in none on the other
        return self.before != self.after or self.scored_before != self.scored_after


@dataclass(frozen=True)
class Sensitivity:
    metric: str
    weight: float
    #: placements (performance tier, latest period) that differ with the weight × 0.9 / × 1.1
    flips_down: int
    flips_up: int


@dataclass(frozen=True)
class WhatIf:
    run: RunManifest
    #: the latest period judged under the what-if settings (of their grain)
    period: str
    #: the latest period judged now (of the workspace's grain)
    period_before: str
    #: every partner and rule set of either latest period, changed or not
    outcomes: list[Change]
    sensitivity: list[Sensitivity]
    #: partners in the latest period under the what-if settings
    partners: int
    #: of them, the partners scored (the others, inactive or not yet joined, hold no tier)
    scored: int
    #: what the user should know before trusting the comparison, in sentences
    notes: tuple[str, ...] = ()

    @property
    def changes(self) -> list[Change]:
        return [c for c in self.outcomes if c.changed]


def load_overrides(config: Config, path: Path) -> Config:
    """The workspace's config with the [scorecard] and [tiers] of ``path`` laid over it."""
    from pydantic import ValidationError

    from partnerscope.config import Config, check_evaluation, describe_validation_error

    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(where, ["no such file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, [f"TOML syntax: {exc}"]) from None
    unknown = sorted(set(raw) - set(WHAT_IF_SECTIONS))
    if unknown:
        raise ConfigError(
            where,
            [f"[{k}]: a what-if file may only change [scorecard] and [tiers]" for k in unknown],
        )
    merged = config.model_dump(mode="json")
    for section, values in raw.items():
        merged[section] = _merge(merged[section], values)
    try:
        changed = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(where, describe_validation_error(exc)) from None
    problems = check_evaluation(changed)
    if problems:
        raise ConfigError(where, problems)
    return changed


def _merge(base: Any, override: Any) -> Any:
    """Tables merge key by key; anything else (weights excepted) replaces the base value."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            # a new set of weights replaces the old one whole: they must sum to 1 together
            out[key] = value if key == "weights" else _merge(base.get(key), value)
        return out
    return override


def what_if(workspace: Workspace, path: Path | None, run_id: int | None = None) -> WhatIf:
    """Each partner's tier in the run's latest period as stored and under the settings of
    ``path`` (None: the workspace's own), and the sensitivity of the performance tiers to
    each weight."""
    from partnerscope.evaluation import tiers
    from partnerscope.evaluation.scorecard import score
    from partnerscope.runs import get_run, read_memberships, read_results

    run = get_run(workspace, run_id)
    results = read_results(workspace, run.run_id)
    memberships = read_memberships(workspace, run.run_id)
    config = workspace.config
    catalog = workspace.catalog
    other = config if path is None else load_overrides(config, path)
    # what `partnerscope run` would make of the run's metric values under these settings
    changed = evaluate(other, catalog, results, memberships, run_id=run.run_id)
    period_before, stored = _stored(workspace, run)
    # each evaluation's own latest period: another grain judges another period, and its
    # partners sit in other rows
    panel = changed.panel
    latest = panel.rows_of(panel.latest)
    outcomes = _outcomes(stored, _placed(changed))
    sensitivity = []
    weights = other.scorecard.weights
    performance = other.tiers.performance
    before = changed.tiers["performance"].effective[latest]
    for metric, weight in weights.items():
        flips = []
        for factor in (0.9, 1.1):
            moved = dict(weights)
            moved[metric] = weight * factor
            total = sum(moved.values())
            moved = {k: v / total for k, v in moved.items()}
            cards = score(panel, catalog, other.scorecard, moved)
            placed = tiers.evaluate(panel, cards.fields(), performance, "performance")
            flips.append(int((placed.effective[latest] != before).sum()))
        sensitivity.append(Sensitivity(metric, weight, flips[0], flips[1]))
    notes = []
    if (run.metrics_hash and run.metrics_hash != config.metrics_hash()) or (
        run.definitions_version != catalog.version
    ):
        # the what-if re-evaluates the run's metric values; a run now would compute others
        notes.append(
            f"Run {run.run_id} computed its metric values under other sources, metric "
            "definitions or economics than partnerscope.toml holds now: a run now would "
            "compute other values. Run `partnerscope run` first to see the current settings' "
            "what-if."
        )
    return WhatIf(
        notes=tuple(notes),
        run=run,
        period=_label(changed),
        period_before=period_before,
        outcomes=outcomes,
        sensitivity=sensitivity,
        partners=len(latest),
        scored=int(changed.cards.scored[latest].sum()),
    )


def _label(evaluation: Evaluation) -> str:
    panel = evaluation.panel
    return panel.labels[panel.latest] if panel.periods else "—"


#: each partner's tier by rule set, score and whether it was scored, in one period
Placed = dict[tuple[str, str], tuple[str, float | None, bool]]


def _placed(evaluation: Evaluation) -> Placed:
    """Each partner's tier and score in the evaluation's latest period."""
    panel = evaluation.panel
    out: Placed = {}
    if not panel.periods:
        return out
    for ruleset in RULESETS:
        placements = evaluation.tiers[ruleset]
        for row in panel.rows_of(panel.latest):
            score = evaluation.cards.score[row]
            out[str(panel.partner[row]), ruleset] = (
                placements.level_names[placements.effective[row]],
                None if np.isnan(score) else float(score),
                bool(evaluation.cards.scored[row]),
            )
    return out


def _stored(workspace: Workspace, run: RunManifest) -> tuple[str, Placed]:
    """The run's own placements and scores in its latest period, as `partnerscope tiers` shows
    them: the run may have been evaluated under other settings than the workspace's now."""
    import pyarrow.compute as pc

    from partnerscope.evaluation.pipeline import SCORECARDS, TIERS
    from partnerscope.evaluation.view import read

    tiers = read(workspace, run, TIERS)
    if tiers.num_rows == 0:
        return "—", {}
    cards = read(workspace, run, SCORECARDS)
    latest = pc.max(tiers["period_start"])
    rows = tiers.filter(pc.equal(tiers["period_start"], latest)).to_pylist()
    cards = cards.filter(pc.equal(cards["period_start"], latest))
    scores = dict(zip(cards["partner_id"].to_pylist(), cards["score"].to_pylist(), strict=True))
    placed: Placed = {
        (r["partner_id"], r["ruleset"]): (
            r["effective"],
            scores.get(r["partner_id"]),
            # a run stored before partners could be left out of scoring scored them all
            r.get("scored") is not False,
        )
        for r in rows
    }
    return str(rows[0]["period"]), placed


def _outcomes(before: Placed, after: Placed) -> list[Change]:
    """Placements matched by partner: the two evaluations' rows need not line up."""
    out = []
    for ruleset in RULESETS:
        partners = {p for p, r in before.keys() | after.keys() if r == ruleset}
        for partner_id in sorted(partners):
            tier_before, score_before, scored_before = before.get(
                (partner_id, ruleset), (None, None, True)
            )
            tier_after, score_after, scored_after = after.get(
                (partner_id, ruleset), (None, None, True)
            )
            out.append(
                Change(
                    partner_id=partner_id,
                    ruleset=ruleset,
                    before=tier_before,
                    after=tier_after,
                    score_before=score_before,
                    score_after=score_after,
                    scored_before=scored_before,
                    scored_after=scored_after,
                )
            )
    return out
