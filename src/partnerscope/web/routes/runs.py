"""Runs: every finished run, newest first, and each run's manifest (what it read, with each
input file's fingerprint, how it ran, its evaluation counts and notes); for analysts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from partnerscope.web.render import page
from partnerscope.web.run_index import json_safe
from partnerscope.web.security import ANALYSTS, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["portfolio"])


class RunOut(BaseModel):
    run_id: int
    served: bool
    started_at: str
    finished_at: str
    as_of: str
    mode: str
    reason: str
    seconds: float
    rows: int
    config_hash: str
    metrics_hash: str
    definitions_version: str
    engine: dict[str, str]
    first_month: str | None
    last_month: str
    #: the scorecard period, partners and partners scored, alerts raised (from the evaluation)
    period: str | None
    partners: int | None
    scored: int | None
    #: of those scored, how many on too little evidence (all of them: the period had no data)
    low_evidence: int | None
    alerts: int | None


class InputFile(BaseModel):
    source: str
    file: str
    fingerprint: str
    import_id: int | None


class RunDetail(RunOut):
    recomputed_from: str | None
    digest: str
    metrics: list[str]
    notes: list[str]
    input_rows: dict[str, int]
    inputs: list[InputFile]
    evaluation: dict[str, Any]
    decisions: dict[str, Any]


def _run_out(run: Any, served: int | None) -> dict[str, Any]:
    evaluation = run.evaluation or {}
    alerts = evaluation.get("alerts")
    return {
        "run_id": run.run_id,
        "served": run.run_id == served,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "as_of": run.as_of,
        "mode": run.mode,
        "reason": run.reason,
        "seconds": run.seconds,
        "rows": run.rows,
        "config_hash": run.config_hash,
        "metrics_hash": run.metrics_hash,
        "definitions_version": run.definitions_version,
        "engine": {str(k): str(v) for k, v in run.engine.items()},
        "first_month": run.first_month,
        "last_month": run.last_month,
        "period": evaluation.get("period"),
        "partners": evaluation.get("partners"),
        "scored": evaluation.get("scored"),
        "low_evidence": evaluation.get("low_evidence"),
        "alerts": sum(alerts.values()) if isinstance(alerts, dict) else None,
    }


def runs_view(ctx: Ctx) -> list[RunOut]:
    """Every finished run, newest first."""
    from partnerscope.runs import list_runs

    served = ctx.served.run_id if ctx.served is not None else None
    return [RunOut(**_run_out(r, served)) for r in reversed(list_runs(ctx.workspace))]


def run_detail(ctx: Ctx, run_id: int) -> RunDetail:
    """One run's manifest: what it read (each input file's fingerprint), how, and its notes."""
    from partnerscope.runs import RunNotFoundError, get_run

    try:
        run = get_run(ctx.workspace, run_id)
    except RunNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    inputs = run.inputs or {}
    files = []
    for source, listed in sorted((inputs.get("files") or {}).items()):
        for f in listed or []:
            files.append(
                InputFile(
                    source=source,
                    file=str(f.get("file", "")),
                    fingerprint=str(f.get("fingerprint", "")),
                    import_id=f.get("import_id"),
                )
            )
    served = ctx.served.run_id if ctx.served is not None else None
    return RunDetail(
        **_run_out(run, served),
        recomputed_from=run.recomputed_from,
        digest=run.digest,
        metrics=list(run.metrics),
        notes=list(run.notes),
        input_rows={str(k): int(v) for k, v in (inputs.get("rows") or {}).items()},
        inputs=files,
        evaluation=json_safe(run.evaluation),
        decisions=json_safe(run.decisions),
    )


RunId = Annotated[int, Path(ge=1, le=999_999)]


@api.get("/runs", response_model=list[RunOut])
def runs_api(ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))]) -> list[RunOut]:
    """Every finished run, newest first."""
    return runs_view(ctx)


@api.get("/runs/{run_id}", response_model=RunDetail)
def run_api(ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], run_id: RunId) -> RunDetail:
    """One run's manifest: inputs and their fingerprints, timings, evaluation counts, notes."""
    return run_detail(ctx, run_id)


@pages.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))]) -> HTMLResponse:
    runs = runs_view(ctx)
    return page(
        request,
        ctx,
        "runs.html.j2",
        title="Runs",
        subtitle=f"{len(runs)} runs",
        runs=runs,
        configurations=_configurations(runs),
        moment=_moment(ctx),
    )


def _configurations(runs: list[RunOut]) -> dict[str, int]:
    """Each configuration (by its hash) numbered in the order runs first used it: what a page
    shows instead of the hash."""
    numbers: dict[str, int] = {}
    for r in sorted(runs, key=lambda r: r.run_id):
        numbers.setdefault(r.config_hash, len(numbers) + 1)
    return numbers


def _moment(ctx: Ctx) -> Any:
    """A stored ISO time (``2026-12-06T20:25:49+00:00``) written as the workspace writes
    times."""
    from datetime import UTC, datetime

    words = ctx.workspace.words

    def write(text: str | None) -> str:
        if not text:
            return "—"
        at = datetime.fromisoformat(text)
        if at.tzinfo is not None:
            at = at.astimezone(UTC).replace(tzinfo=None)
        return words.moment(at)

    return write


@pages.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], run_id: RunId
) -> HTMLResponse:
    from partnerscope.evaluation.overrides import tier_names

    run = run_detail(ctx, run_id)
    words = ctx.workspace.words
    return page(
        request,
        ctx,
        "runs.html.j2",
        title=f"Run {run.run_id}",
        subtitle=f"as of {words.date(run.as_of)} · {run.mode} run · {run.reason}",
        run=run,
        configurations=_configurations(runs_view(ctx)),
        moment=_moment(ctx),
        #: each ruleset's tiers, top first (the order the run's counts are shown in)
        tier_order=tier_names(ctx.workspace.config.tiers),
    )
