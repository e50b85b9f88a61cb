"""Scenarios: the decisions' comparisons (each option's P10–P50–P90 outcomes, the
recommendation and its break-even) with their charts, and a scenario spec run on the served
run, bounded to :data:`MAX_TRIALS` trials and :data:`MAX_OPTIONS` options, with nothing
stored."""

from __future__ import annotations

import tomllib
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from partnerscope.errors import PartnerscopeError
from partnerscope.web.params import Seed
from partnerscope.web.render import page
from partnerscope.web.routes.decisions import (
    DEFAULT_TRIALS,
    MAX_OPTIONS,
    MAX_TRIALS,
    Reader,
    StrictIn,
    Trials,
    chart_of,
    problems,
    service,
)
from partnerscope.web.security import Ctx

pages = APIRouter()
api = APIRouter(tags=["decisions"])

MAX_SPEC_CHARS = 20_000


class ScenarioRunIn(StrictIn):
    """A scenario spec (as TOML text, or as the spec's JSON) run on the served run."""

    spec_toml: Annotated[str | None, Field(max_length=MAX_SPEC_CHARS)] = None
    spec: dict[str, Any] | None = None
    trials: Trials = DEFAULT_TRIALS
    seed: Seed | None = None
    horizon_months: Annotated[int | None, Field(ge=1, le=120)] = None


class ScenarioOut(BaseModel):
    """A comparison's summary (bands, scores, recommendation, break-even) and its chart."""

    decision_id: int | None
    ref: str | None
    title: str
    run_id: int | None
    summary: dict[str, Any]
    chart: dict[str, Any]


def comparisons(ctx: Ctx) -> list[ScenarioOut]:
    """The decisions' scenario comparisons, newest decision first."""
    out = []
    for record in reversed(service(ctx).store.records()):
        result = record.compare.result
        if not result:
            continue
        out.append(
            ScenarioOut(
                decision_id=record.decision_id,
                ref=record.ref,
                title=record.title,
                run_id=result.get("run_id"),
                summary=result,
                chart=chart_of(result),
            )
        )
    return out


def run_scenario(ctx: Ctx, given: ScenarioRunIn) -> ScenarioOut:
    """Run a spec (the default one-option spec when none is given) on the served run; nothing
    is stored. The trials count given here replaces the spec's, so a request stays bounded."""
    from partnerscope.scenarios.analysis import calibrate_run, simulate
    from partnerscope.scenarios.spec import ScenarioSpecError, parse_spec

    data = ctx.data
    document: dict[str, Any] = {}
    if given.spec is not None and given.spec_toml:
        raise ScenarioSpecError("the request", ["give spec or spec_toml, not both"])
    if given.spec is not None:
        document = dict(given.spec)
    elif given.spec_toml and given.spec_toml.strip():
        try:
            document = tomllib.loads(given.spec_toml)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioSpecError("the scenario spec", [f"not valid TOML: {exc}"]) from None
    document["trials"] = given.trials
    if given.seed is not None:
        document["seed"] = given.seed
    if given.horizon_months is not None:
        document["horizon_months"] = given.horizon_months
    spec = parse_spec(document, where="the scenario spec")
    if len(spec.options) > MAX_OPTIONS:
        raise ScenarioSpecError(
            "the scenario spec",
            [f"options: {len(spec.options)} options; the web app runs at most {MAX_OPTIONS}"],
        )
    result = simulate(spec, calibrate_run(ctx.workspace, data.run.run_id))
    summary = {"run_id": data.run.run_id, **result.summary()}
    return ScenarioOut(
        decision_id=None,
        ref=None,
        title=f"Scenario on run {data.run.run_id}",
        run_id=data.run.run_id,
        summary=summary,
        chart=chart_of(summary),
    )


@api.get("/scenarios", response_model=list[ScenarioOut])
def scenarios_api(ctx: Reader) -> list[ScenarioOut]:
    """The decisions' scenario comparisons with their Vega-Lite charts."""
    return comparisons(ctx)


@api.post("/scenarios/run", response_model=ScenarioOut)
def scenario_run_api(ctx: Reader, given: ScenarioRunIn) -> ScenarioOut:
    """Run a scenario spec on the served run (at most 5,000 trials; nothing is stored)."""
    return run_scenario(ctx, given)


def _scenarios_page(
    request: Request,
    ctx: Ctx,
    *,
    ran: ScenarioOut | None = None,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        ctx,
        "scenarios.html.j2",
        status=status,
        title="Scenarios",
        subtitle="Each option's P10–P50–P90 outcomes over the horizon, the recommendation and "
        "where it would change",
        comparisons=comparisons(ctx),
        ran=ran,
        values=values or {"trials": DEFAULT_TRIALS, "spec_toml": "", "seed": "", "horizon": ""},
        errors=errors or [],
        max_trials=MAX_TRIALS,
    )


@pages.get("/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, ctx: Reader) -> HTMLResponse:
    return _scenarios_page(request, ctx)


@pages.post("/scenarios/run", response_class=HTMLResponse)
def scenario_run_submit(
    request: Request,
    ctx: Reader,
    spec_toml: Annotated[str, Form(max_length=MAX_SPEC_CHARS)] = "",
    trials: Annotated[int, Form(ge=1, le=MAX_TRIALS)] = DEFAULT_TRIALS,
    seed: Annotated[Seed | None, Form()] = None,
    horizon: Annotated[int | None, Form(ge=1, le=120)] = None,
) -> HTMLResponse:
    """Run a spec and show its result on the page (a run changes nothing, so no redirect)."""
    values = {
        "spec_toml": spec_toml,
        "trials": trials,
        "seed": "" if seed is None else seed,
        "horizon": horizon or "",
    }
    given = ScenarioRunIn(spec_toml=spec_toml, trials=trials, seed=seed, horizon_months=horizon)
    try:
        ran = run_scenario(ctx, given)
    except HTTPException:
        raise
    except PartnerscopeError as exc:
        return _scenarios_page(request, ctx, values=values, errors=problems(exc), status=400)
    return _scenarios_page(request, ctx, ran=ran, values=values)
