"""The steps on a framed decision record: cite evidence, compare the options (Monte Carlo),
commit to one, then review it on the schedule set at commit.

Each step is one service function here, called by both the page route (an HTML form that
redirects, 303, to the decision's page, or shows that page again with every reason next to
the form) and its JSON twin under ``/api/v1``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from partnerscope.decisions.record import Outcome
from partnerscope.errors import PartnerscopeError
from partnerscope.web.params import Day, RunId, Seed
from partnerscope.web.render import located
from partnerscope.web.routes.decisions import (
    DEFAULT_TRIALS,
    MAX_TRIALS,
    DecisionId,
    DecisionOut,
    Line,
    MetricName,
    OptionKey,
    Reader,
    StrictIn,
    Text,
    Trials,
    detail,
    problems,
    record_page,
    service,
    text_lines,
    to_record,
)
from partnerscope.web.security import Ctx

if TYPE_CHECKING:
    from partnerscope.decisions.record import DecisionRecord

pages = APIRouter()
api = APIRouter(tags=["decisions"])


class CiteIn(StrictIn):
    """A metric value of a run to cite as evidence."""

    metric: MetricName
    scope: Annotated[
        str, Field(min_length=1, max_length=100, description="portfolio, company or LEVEL=GROUP")
    ] = "portfolio"
    grain: Literal["month", "quarter", "year"] | None = None
    period: Annotated[str | None, Field(max_length=32, description="e.g. FY2026-Q3")] = None
    run_id: RunId | None = None
    note: Annotated[str, Field(max_length=500)] = ""


class CompareIn(StrictIn):
    trials: Trials = DEFAULT_TRIALS
    seed: Seed | None = None
    run_id: Annotated[RunId | None, Field(description="default: the run the app serves")] = None


class CommitIn(StrictIn):
    option: OptionKey
    rationale: Annotated[str, Field(min_length=1, max_length=4000)]
    owner: Annotated[str | None, Field(max_length=120)] = None
    timeline: Text = ""
    first_review: Day | None = None
    every_months: Annotated[int, Field(ge=1, le=24)] = 3
    post_review: Day | None = None
    signals: Annotated[list[Line], Field(max_length=10)] = Field(default_factory=list)
    stops: Annotated[list[Line], Field(max_length=10)] = Field(default_factory=list)


class ReviewIn(StrictIn):
    outcome: Outcome
    why: Annotated[str, Field(min_length=1, max_length=4000)]


class RefusedOut(BaseModel):
    detail: str
    #: every reason a commit was refused (empty for an invalid request)
    reasons: list[str] = Field(default_factory=list)


def cite(ctx: Ctx, decision_id: int, given: CiteIn) -> DecisionRecord:
    decisions = service(ctx)
    where = given.model_dump(exclude={"metric"})
    decisions.cite(decision_id, given.metric, by=ctx.user.name, **where)
    return decisions.store.get(decision_id)


def compare(ctx: Ctx, decision_id: int, given: CompareIn) -> DecisionRecord:
    """Model the options on the served run (or ``run_id``) with a bounded trials count."""
    run_id = given.run_id if given.run_id is not None else ctx.data.run.run_id
    record, _ = service(ctx).compare(
        decision_id, run_id=run_id, trials=given.trials, seed=given.seed, by=ctx.user.name
    )
    return record


def commit(ctx: Ctx, decision_id: int, given: CommitIn) -> DecisionRecord:
    return service(ctx).commit(
        decision_id,
        option=given.option,
        rationale=given.rationale,
        owner=given.owner or None,
        timeline=given.timeline,
        first_review=given.first_review,
        every_months=given.every_months,
        post_review=given.post_review,
        signals=given.signals,
        stops=given.stops,
        by=ctx.user.name,
    )


def review(ctx: Ctx, decision_id: int, given: ReviewIn) -> DecisionRecord:
    record, _ = service(ctx).review(
        decision_id, outcome=given.outcome, why=given.why, by=ctx.user.name
    )
    return record


@api.post("/decisions/{decision_id}/evidence", response_model=DecisionOut)
def cite_api(ctx: Reader, decision_id: DecisionId, given: CiteIn) -> DecisionOut:
    """Cite a metric value of a run as evidence; the record keeps the number (400 when the
    metric, scope or period is not in the run)."""
    from partnerscope.decisions.evidence import CitationError

    service(ctx).store.get(decision_id)
    try:
        record = cite(ctx, decision_id, given)
    except CitationError as exc:
        raise HTTPException(400, str(exc)) from None
    return detail(ctx, record.decision_id)


@api.post("/decisions/{decision_id}/compare", response_model=DecisionOut)
def compare_api(ctx: Reader, decision_id: DecisionId, given: CompareIn) -> DecisionOut:
    """Model every option (Monte Carlo, at most 5,000 trials) and keep the summary."""
    return detail(ctx, compare(ctx, decision_id, given).decision_id)


@api.post(
    "/decisions/{decision_id}/commit",
    response_model=DecisionOut,
    responses={422: {"model": RefusedOut, "description": "refused, with every reason"}},
)
def commit_api(ctx: Reader, decision_id: DecisionId, given: CommitIn) -> Response | DecisionOut:
    """Commit to an option; refused (422, every reason listed) without an owner, measured
    evidence or a real choice."""
    from partnerscope.decisions.guards import CommitRefusedError

    try:
        record = commit(ctx, decision_id, given)
    except CommitRefusedError as exc:
        refused = RefusedOut(detail=str(exc), reasons=exc.reasons)
        return JSONResponse(refused.model_dump(), status_code=422)
    return detail(ctx, record.decision_id)


@api.post("/decisions/{decision_id}/reviews", response_model=DecisionOut)
def review_api(ctx: Reader, decision_id: DecisionId, given: ReviewIn) -> DecisionOut:
    """Record the conclusion of the next scheduled review: continue, adapt or stop."""
    return detail(ctx, review(ctx, decision_id, given).decision_id)


def _step(
    request: Request,
    ctx: Ctx,
    decision_id: int,
    form: str,
    values: dict[str, Any],
    build: Callable[[], Any],
    act: Callable[[Ctx, int, Any], object],
) -> Response:
    """Run one step of a form: on success redirect to the decision page; on a refusal show the
    page again with every reason next to the form (422: invalid input, 400: refused)."""
    from pydantic import ValidationError

    from partnerscope.decisions.guards import CommitRefusedError
    from partnerscope.decisions.store import DecisionNotFoundError

    try:
        given = build()
    except ValidationError as exc:
        errors = located(exc.errors())
        return record_page(
            request, ctx, decision_id, errors={form: errors}, values=values, status=422
        )
    try:
        act(ctx, decision_id, given)
    except DecisionNotFoundError:
        raise
    except CommitRefusedError as exc:
        return record_page(
            request, ctx, decision_id, errors={form: problems(exc)}, values=values, status=422
        )
    except PartnerscopeError as exc:
        return record_page(
            request, ctx, decision_id, errors={form: problems(exc)}, values=values, status=400
        )
    return to_record(decision_id)


@pages.post("/decisions/{decision_id}/evidence", response_class=HTMLResponse, response_model=None)
def cite_submit(
    request: Request,
    ctx: Reader,
    decision_id: DecisionId,
    metric: Annotated[str, Form(max_length=64)] = "",
    scope: Annotated[str, Form(max_length=100)] = "portfolio",
    grain: Annotated[str, Form(max_length=16)] = "",
    period: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    values = {"metric": metric, "scope": scope, "grain": grain, "period": period, "note": note}
    return _step(
        request,
        ctx,
        decision_id,
        "evidence",
        values,
        lambda: CiteIn.model_validate(
            {
                "metric": metric.strip(),
                "scope": scope.strip() or "portfolio",
                "grain": grain or None,
                "period": period.strip() or None,
                "note": note.strip(),
            }
        ),
        cite,
    )


@pages.post("/decisions/{decision_id}/compare", response_class=HTMLResponse, response_model=None)
def compare_submit(
    request: Request,
    ctx: Reader,
    decision_id: DecisionId,
    trials: Annotated[int, Form(ge=1, le=MAX_TRIALS)] = DEFAULT_TRIALS,
    seed: Annotated[Seed | None, Form()] = None,
) -> Response:
    values = {"trials": trials, "seed": seed}
    return _step(
        request,
        ctx,
        decision_id,
        "compare",
        values,
        lambda: CompareIn(trials=trials, seed=seed),
        compare,
    )


@pages.post("/decisions/{decision_id}/commit", response_class=HTMLResponse, response_model=None)
def commit_submit(
    request: Request,
    ctx: Reader,
    decision_id: DecisionId,
    option: Annotated[str, Form(max_length=32)] = "",
    rationale: Annotated[str, Form(max_length=4000)] = "",
    owner: Annotated[str, Form(max_length=120)] = "",
    timeline: Annotated[str, Form(max_length=4000)] = "",
    first_review: Annotated[date | None, Form()] = None,
    every_months: Annotated[int, Form(ge=1, le=24)] = 3,
    post_review: Annotated[date | None, Form()] = None,
    signals: Annotated[str, Form(max_length=4000)] = "",
    stops: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    values: dict[str, Any] = {
        "option": option,
        "rationale": rationale,
        "owner": owner,
        "timeline": timeline,
        "first_review": first_review,
        "every_months": every_months,
        "post_review": post_review,
        "signals": signals,
        "stops": stops,
    }
    return _step(
        request,
        ctx,
        decision_id,
        "commit",
        values,
        lambda: CommitIn.model_validate(
            values
            | {"signals": text_lines(signals), "stops": text_lines(stops), "owner": owner or None}
        ),
        commit,
    )


@pages.post("/decisions/{decision_id}/reviews", response_class=HTMLResponse, response_model=None)
def review_submit(
    request: Request,
    ctx: Reader,
    decision_id: DecisionId,
    outcome: Annotated[str, Form(max_length=16)] = "",
    why: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    values = {"outcome": outcome, "why": why}
    return _step(
        request,
        ctx,
        decision_id,
        "review",
        values,
        lambda: ReviewIn.model_validate({"outcome": outcome, "why": why.strip()}),
        review,
    )
