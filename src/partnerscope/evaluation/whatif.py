"""What if the weights or tier thresholds were different: re-evaluate a stored run under other
settings, and count how many tier placements flip when each weight moves ±10 %."""

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
    partner_id: str
    ruleset: str
    before: str
    after: str
    score_before: float | None
    score_after: float | None


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
    period: str
    changes: list[Change]
    sensitivity: list[Sensitivity]
    partners: int


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
    """Tier changes in the latest period under the settings of ``path`` (None: the
    workspace's own), and the sensitivity of the performance tiers to each weight."""
    from partnerscope.evaluation import tiers
    from partnerscope.evaluation.scorecard import score
    from partnerscope.runs import get_run, read_memberships, read_results

    run = get_run(workspace, run_id)
    results = read_results(workspace, run.run_id)
    memberships = read_memberships(workspace, run.run_id)
    config = workspace.config
    catalog = workspace.catalog
    baseline = evaluate(config, catalog, results, memberships, run_id=run.run_id)
    other = config if path is None else load_overrides(config, path)
    changed = (
        baseline
        if path is None
        else evaluate(other, catalog, results, memberships, run_id=run.run_id)
    )
    panel = baseline.panel
    latest = np.flatnonzero(panel.period == panel.latest)
    changes = _changes(baseline, changed, latest)
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
    return WhatIf(
        run=run,
        period=panel.labels[panel.latest],
        changes=changes,
        sensitivity=sensitivity,
        partners=len(latest),
    )


def _changes(before: Evaluation, after: Evaluation, rows: Any) -> list[Change]:
    out = []
    for ruleset in RULESETS:
        a, b = before.tiers[ruleset], after.tiers[ruleset]
        for row in rows[a.effective[rows] != b.effective[rows]]:
            old, new = before.cards.score[row], after.cards.score[row]
            out.append(
                Change(
                    partner_id=str(before.panel.partner[row]),
                    ruleset=ruleset,
                    before=a.level_names[a.effective[row]],
                    after=b.level_names[b.effective[row]],
                    score_before=None if np.isnan(old) else float(old),
                    score_after=None if np.isnan(new) else float(new),
                )
            )
    return out
