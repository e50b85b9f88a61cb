"""The run store: each computation of the catalog, kept as an immutable snapshot.

A run folder ``state/runs/NNNNNN/`` holds ``manifest.json`` (run id, as-of time, config hash,
definition version, input fingerprints, engine, timings) and the results as Parquet, so that
reports and the web app read a finished run without touching the warehouse while new data is
loaded. A run is written to a hidden folder and renamed into place when complete
(:func:`new_run`): an interrupted run leaves no run behind.

Making a run (posting facts, computing, evaluating, checking decisions) is the pipeline's
(:mod:`partnerscope.pipeline`); this module only stores and reads what it made.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.workspace import Workspace

MANIFEST = "manifest.json"
#: Each partner's partner_manager when the run was made.
MANAGERS = "managers.parquet"
#: Each partner's opportunities by stage and status when the run was made (the partner page's
#: pipeline: the web reads the run, never the warehouse a new run may be writing).
STAGES = "stages.parquet"
#: Every metric value per group and period, and each partner's groups (the metric engine's).
RESULTS, MEMBERSHIPS = "results.parquet", "memberships.parquet"


class RunNotFoundError(PartnerscopeError, LookupError):
    """No run with that id, or no run yet."""


@dataclass(frozen=True)
class RunManifest:
    run_id: int
    started_at: str
    finished_at: str
    seconds: float
    as_of: str
    mode: str
    reason: str
    recomputed_from: str | None
    config_hash: str
    definitions_version: str
    engine: dict[str, str]
    inputs: dict[str, Any]
    first_month: str | None
    last_month: str
    rows: int
    digest: str
    metrics: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Config.metrics_hash: the configuration the metric values depend on
    metrics_hash: str = ""
    #: counts of the evaluation (scorecards, tiers, flags, alerts), see partnerscope.evaluation
    evaluation: dict[str, Any] = field(default_factory=dict)
    #: what the run found on the committed decisions (signals fired, reviews due)
    decisions: dict[str, Any] = field(default_factory=dict)
    #: the facts of partnerscope's own the run posted to the warehouse before computing
    #: (partnerscope.pipeline.Posted; empty when they had not changed)
    posted: dict[str, Any] = field(default_factory=dict)
    #: the predictions' backtest summary (partnerscope.predict.run.backtest_summary) and their
    #: seconds; empty with [predict] enabled = false or in runs made before predictions
    predictions: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of_time(self) -> datetime:
        return datetime.fromisoformat(self.as_of)


def runs_dir(workspace: Workspace) -> Path:
    return workspace.state_dir / "runs"


def list_runs(workspace: Workspace) -> list[RunManifest]:
    """Finished runs, oldest first."""
    root = runs_dir(workspace)
    if not root.is_dir():
        return []
    manifests = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        manifests.append(_read_manifest(folder))
    return manifests


def get_run(workspace: Workspace, run_id: int | None = None) -> RunManifest:
    """The run with that id, or the latest."""
    runs = list_runs(workspace)
    if not runs:
        raise RunNotFoundError(
            f"{workspace.root}: no run yet; compute the metrics with `partnerscope run`"
        )
    if run_id is None:
        return runs[-1]
    for run in runs:
        if run.run_id == run_id:
            return run
    raise RunNotFoundError(
        f"no run {run_id}; runs are {', '.join(str(r.run_id) for r in runs)} "
        "(see `partnerscope runs`)"
    )


def run_folder(workspace: Workspace, run_id: int) -> Path:
    return runs_dir(workspace) / f"{run_id:06d}"


def read_results(workspace: Workspace, run_id: int | None = None) -> pa.Table:
    """Every metric value of a run (the latest by default)."""
    import pyarrow.parquet as pq

    run = get_run(workspace, run_id)
    return pq.read_table(run_folder(workspace, run.run_id) / RESULTS)


def read_memberships(workspace: Workspace, run_id: int | None = None) -> pa.Table:
    """Each partner's groups per grain and period in a run (the latest by default)."""
    import pyarrow.parquet as pq

    run = get_run(workspace, run_id)
    return pq.read_table(run_folder(workspace, run.run_id) / MEMBERSHIPS)


def _read_manifest(folder: Path) -> RunManifest:
    return RunManifest(**json.loads((folder / MANIFEST).read_text(encoding="utf-8")))


def latest_run(workspace: Workspace) -> RunManifest | None:
    """The newest finished run, or None before the first."""
    runs = list_runs(workspace)
    return runs[-1] if runs else None


@dataclass(frozen=True)
class NewRun:
    """A run being written: its id, and the hidden folder its files go to until it is stored."""

    run_id: int
    folder: Path
    #: where it is renamed to once complete
    final: Path

    def store(self, manifest: RunManifest) -> None:
        """Write the manifest and rename the folder into place: from now on the run exists."""
        (self.folder / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2), "utf-8")
        self.folder.rename(self.final)


@contextmanager
def new_run(workspace: Workspace) -> Iterator[NewRun]:
    """The next run's id and a fresh hidden folder for its files, removed if the block fails
    before :meth:`NewRun.store` (call it holding the workspace's run lock)."""
    runs = list_runs(workspace)
    run_id = runs[-1].run_id + 1 if runs else 1
    final = run_folder(workspace, run_id)
    temp = final.with_name(f".tmp-{final.name}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        yield NewRun(run_id, temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
