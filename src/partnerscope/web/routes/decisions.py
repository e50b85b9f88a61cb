"""Decision records: the list, framing a new one (its Frame, options and criteria), and a
record's page (with the forms of its next steps, and a refused step's reasons next to its
form), its history and the alerts the served run raised.

The steps on a framed record are in :mod:`.decision_steps`, the scenario model in
:mod:`.scenarios`. Each change is one service function, called by both the page route (an
HTML form that redirects, 303, to the decision's page) and its JSON twin under ``/api/v1``;
the changes go through :class:`partnerscope.decisions.service.Decisions` (:func:`service`), so
the web and the CLI store the same records, history and audit entries. Only analysts and
admins read or change decisions and scenarios: a decision discusses partners the reader may
not be allowed to see.

Every parameter is bounded (lengths, counts, numbers), so a request stays small and quick: a
comparison or a scenario run is capped at :data:`MAX_TRIALS` trials and :data:`MAX_OPTIONS`
options.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.decisions.record import Outcome, Status
from partnerscope.errors import PartnerscopeError
from partnerscope.web.render import located, page
from partnerscope.web.security import ANALYSTS, Ctx, allow

if TYPE_CHECKING:
    from partnerscope.decisions.record import DecisionRecord
    from partnerscope.decisions.service import Decisions

pages = APIRouter()
api = APIRouter(tags=["decisions"])

#: Trials of a comparison or a scenario run requested over the web (the CLI has no cap).
MAX_TRIALS = 5000
DEFAULT_TRIALS = 1000
MAX_OPTIONS = 8
#: Options offered when a decision is framed (the framework's standard three).
STANDARD_OPTIONS = "A=Keep the current approach\nB=Pilot in phases\nC=Redesign end to end"
OUTCOMES = ("revenue", "margin", "coverage", "control", "partners")
STATISTICS = ("p10", "p50", "p90", "mean")
GRAINS = ("month", "quarter", "year")

Reader = Annotated[Ctx, Depends(allow(*ANALYSTS))]
DecisionId = Annotated[int, Path(ge=1, le=1_000_000_000, description="DEC-0001 is 1")]
Short = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=4000)]
Line = Annotated[str, Field(min_length=1, max_length=400)]
OptionKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
MetricName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}$")]
Trials = Annotated[int, Field(ge=1, le=MAX_TRIALS)]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(StrictIn):
    key: OptionKey
    label: Short = ""
    description: Text = ""


class CriterionIn(StrictIn):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    weight: Annotated[float, Field(ge=0, le=1)]
    outcome: Literal["revenue", "margin", "coverage", "control", "partners"]
    statistic: Literal["p10", "p50", "p90", "mean"] = "p50"


class FrameIn(StrictIn):
    """A new decision: its Frame, and the options and criteria to compare (the framework's
    standard criteria when none are given)."""

    decision: Annotated[str, Field(min_length=1, max_length=300)]
    owner: Annotated[str | None, Field(max_length=120)] = None
    horizon_months: Annotated[int, Field(ge=1, le=120)] = 12
    scope: Text = ""
    background: Text = ""
    objective: Text = ""
    options: Annotated[list[OptionIn], Field(max_length=MAX_OPTIONS)] = Field(default_factory=list)
    criteria: Annotated[list[CriterionIn], Field(max_length=10)] = Field(default_factory=list)
    success_metrics: Annotated[list[MetricName], Field(max_length=20)] = Field(default_factory=list)
    constraints: Annotated[list[Line], Field(max_length=20)] = Field(default_factory=list)
    facts: Annotated[list[Line], Field(max_length=20)] = Field(default_factory=list)
    assumptions: Annotated[list[Line], Field(max_length=20)] = Field(default_factory=list)
    open_questions: Annotated[list[Line], Field(max_length=20)] = Field(default_factory=list)


class AttentionOut(BaseModel):
    """Why a decision needs looking at now, as a badge and a sentence: a reversal signal fired
    or a stop condition met on the served run, a signal that cannot be checked, a review due
    today or overdue."""

    kind: Literal["signal_fired", "stop_met", "signal_unreadable", "review_overdue", "review_due"]
    badge: str
    sentence: str


class DecisionSummary(BaseModel):
    decision_id: int
    ref: str
    title: str
    status: Status
    owner: str | None
    option: str | None
    next_review: str | None
    next_review_on: date | None
    version: int
    attention: list[AttentionOut] = Field(default_factory=list)


class ChangeOut(BaseModel):
    version: int
    action: str
    changed_by: str
    changed_at: str
    fields: list[str]


class AlertOut(BaseModel):
    run_id: int
    kind: str
    message: str
    due_on: date | None


class DecisionOut(BaseModel):
    """A whole record (the template's sections), with what the page derives from it."""

    summary: DecisionSummary
    record: dict[str, Any]
    weak_evidence: list[str]
    alerts: list[AlertOut]


def service(ctx: Ctx) -> Decisions:
    from partnerscope.decisions.service import Decisions

    return Decisions(ctx.workspace)


def summary_of(
    record: DecisionRecord, attention: list[AttentionOut] | None = None
) -> DecisionSummary:
    from partnerscope.decisions import cadence

    nxt = cadence.next_review(record)
    return DecisionSummary(
        attention=attention or [],
        decision_id=record.decision_id,
        ref=record.ref,
        title=record.title,
        status=record.status,
        owner=record.owner,
        option=record.commit.option if record.commit else None,
        next_review=nxt.label() if nxt else None,
        next_review_on=nxt.on if nxt else None,
        version=record.version,
    )


def list_decisions(ctx: Ctx, status: Status | None) -> list[DecisionSummary]:
    records = service(ctx).store.records(status)
    needs = attention(ctx, records)
    return [summary_of(r, needs.get(r.decision_id)) for r in records]


def condition_words(ctx: Ctx, text: str) -> str | None:
    """A signal's condition in words (:func:`partnerscope.decisions.signals.in_words`)."""
    from partnerscope.decisions.signals import in_words

    ws = ctx.workspace
    return in_words(
        text, ws.words, ws.catalog, grain=ws.config.scorecard.grain, name=ctx.partner_names()
    )


def attention(ctx: Ctx, records: list[DecisionRecord]) -> dict[int, list[AttentionOut]]:
    """What needs looking at per decision: the signals the served run found fired (or could not
    check) on it, and its reviews due today or overdue."""
    from sqlalchemy import select

    from partnerscope import clock
    from partnerscope.appdb.tables import decision_alerts
    from partnerscope.decisions import cadence

    words = ctx.workspace.words
    today = clock.today(ctx.workspace)
    out: dict[int, list[AttentionOut]] = {}
    by_id = {r.decision_id: r for r in records}
    if ctx.served is not None and by_id:
        t = decision_alerts.c
        query = (
            select(t.decision_id, t.alert_id, t.kind)
            .where(t.run_id == ctx.served.run_id, t.kind != "review_due")
            .order_by(t.decision_id, t.alert_id)
        )
        with service(ctx).store.engine.connect() as con:
            rows = con.execute(query).all()
        for row in rows:
            record = by_id.get(row.decision_id)
            if record is None or record.commit is None:
                continue
            _, _, index = row.alert_id.rpartition(":")
            signals = record.commit.signals
            signal = signals[int(index)] if index.isdigit() and int(index) < len(signals) else None
            said = condition_words(ctx, signal.condition) if signal else None
            stop = signal is not None and signal.kind == "stop"
            if row.kind == "signal_fired":
                what = said or "one of its conditions"
                out.setdefault(record.decision_id, []).append(
                    AttentionOut(
                        kind="stop_met",
                        badge="Stop condition met",
                        sentence=f"Stop condition met: {what}. Review the decision and decide "
                        "whether to stop it.",
                    )
                    if stop
                    else AttentionOut(
                        kind="signal_fired",
                        badge="Reversal signal fired",
                        sentence=f"Reversal signal fired: {what}. Review the decision: continue, "
                        "adapt or stop.",
                    )
                )
            elif row.kind == "signal_unreadable":
                out.setdefault(record.decision_id, []).append(
                    AttentionOut(
                        kind="signal_unreadable",
                        badge="Signal not checked",
                        sentence=f"A {'stop condition' if stop else 'reversal signal'} of this "
                        "decision could not be checked on the latest run: a metric or group it "
                        "names is no longer in the data.",
                    )
                )
    for record in records:
        for due in cadence.due(record, today):
            late = (today - due.on).days
            kind = due.kind.value
            if late > 0:
                days = "1 day" if late == 1 else f"{words.number(late)} days"
                item = AttentionOut(
                    kind="review_overdue",
                    badge="Review overdue",
                    sentence=f"The {kind} review was due on {words.date(due.on)}, {days} ago, "
                    "and has not been recorded.",
                )
            else:
                item = AttentionOut(
                    kind="review_due",
                    badge="Review due",
                    sentence=f"The {kind} review is due today ({words.date(due.on)}).",
                )
            out.setdefault(record.decision_id, []).append(item)
    return out


def alerts_of(ctx: Ctx, decision_id: int) -> list[AlertOut]:
    """The decision's alerts (signals fired, reviews due) raised by the served run."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import decision_alerts

    if ctx.served is None:
        return []
    t = decision_alerts.c
    query = (
        select(t.run_id, t.kind, t.message, t.due_on)
        .where(t.decision_id == decision_id, t.run_id == ctx.served.run_id)
        .order_by(t.alert_id)
    )
    with service(ctx).store.engine.connect() as con:
        return [AlertOut(**row._mapping) for row in con.execute(query)]


def detail(ctx: Ctx, decision_id: int) -> DecisionOut:
    record = service(ctx).store.get(decision_id)
    words = ctx.workspace.words
    return DecisionOut(
        summary=summary_of(record, attention(ctx, [record]).get(decision_id)),
        record=record.model_dump(mode="json"),
        weak_evidence=[
            f"{words.metric(e.metric)} ({e.where()}): {weakness}"
            for e in record.compare.evidence
            if (weakness := e.weakness(words))
        ],
        alerts=alerts_of(ctx, decision_id),
    )


#: what a section of a decision record is called on its page
_SECTIONS = {
    "frame": "the frame",
    "compare.options": "the options",
    "compare.scenario": "the options",
    "compare.criteria": "the criteria",
    "compare.evidence": "the evidence",
    "compare.result": "the comparison",
    "compare.facts": "the facts",
    "compare.assumptions": "the assumptions",
    "compare.open_questions": "the open questions",
    "compare.constraints": "the constraints",
    "compare.risks": "the risks",
    "compare.trade_offs": "the trade-offs",
    "compare.success_metrics": "the success metrics",
    "commit": "the commitment",
    "reviews": "the reviews",
    "status": "the status",
    "title": "the title",
    "owner": "the owner",
}


def changed_parts(fields: list[str]) -> str:
    """The parts of the record a change touched, in words: ``the evidence, the status``."""
    import re

    parts: dict[str, None] = {}
    for field in fields:
        head = re.split(r"\[", field, maxsplit=1)[0].split(".")
        key = ".".join(head[:2])
        said = _SECTIONS.get(key) or _SECTIONS.get(head[0])
        parts[said or f"the {head[-1].replace('_', ' ')}"] = None
    return ", ".join(parts) or "—"


def history(ctx: Ctx, decision_id: int) -> list[ChangeOut]:
    return [
        ChangeOut(
            version=c.version,
            action=c.action,
            changed_by=c.changed_by,
            changed_at=f"{c.changed_at:%Y-%m-%d %H:%M:%S}",
            fields=[item["field"] for item in c.changes],
        )
        for c in service(ctx).store.history(decision_id)
    ]


def frame(ctx: Ctx, given: FrameIn) -> DecisionRecord:
    """Create a decision; its options and criteria are checked first, so a bad option or
    criterion stores nothing."""
    from partnerscope.decisions.service import merge
    from partnerscope.errors import did_you_mean
    from partnerscope.scenarios.spec import ScenarioSpecError, parse_spec

    scenario: dict[str, Any] = {}
    if given.options:
        scenario["options"] = [o.model_dump() | {"overrides": {}} for o in given.options]
    if given.criteria:
        scenario["criteria"] = [c.model_dump() for c in given.criteria]
    if scenario:
        parse_spec(scenario, where="options and criteria")
    catalog = ctx.workspace.catalog
    unknown = [
        f"success metric {name!r}: no such metric{did_you_mean(name, [m.name for m in catalog])}"
        for name in given.success_metrics
        if name not in catalog
    ]
    if unknown:
        raise ScenarioSpecError("the decision", unknown)
    decisions = service(ctx)
    by = ctx.user.name
    record = decisions.new(
        given.model_dump(
            include={"decision", "owner", "horizon_months", "scope", "background", "objective"}
        ),
        by=by,
    )
    compare: dict[str, Any] = {"scenario": scenario} if scenario else {}
    lists = ("success_metrics", "constraints", "facts", "assumptions", "open_questions")
    for name in lists:
        if getattr(given, name):
            compare = merge(compare, {name: list(getattr(given, name))})
    if compare:
        record = decisions.edit(record.decision_id, patch={"compare": compare}, by=by)
    return record


def chart_of(summary: dict[str, Any]) -> dict[str, Any]:
    from partnerscope.scenarios.chart import bands_spec

    return bands_spec(summary)


@api.get("/decisions", response_model=list[DecisionSummary])
def decisions_api(
    ctx: Reader,
    status: Annotated[Status | None, Query(description="only decisions in this status")] = None,
) -> list[DecisionSummary]:
    """Every decision with its status, owner, chosen option and next review."""
    return list_decisions(ctx, status)


@api.post("/decisions", response_model=DecisionOut, status_code=201)
def frame_api(ctx: Reader, given: FrameIn) -> DecisionOut:
    """Frame a new decision (a draft): what is decided, owner, horizon, options, criteria."""
    return detail(ctx, frame(ctx, given).decision_id)


@api.get("/decisions/{decision_id}", response_model=DecisionOut)
def decision_api(ctx: Reader, decision_id: DecisionId) -> DecisionOut:
    """The whole record: frame, compare (options, evidence, result), commit, reviews."""
    return detail(ctx, decision_id)


@api.get("/decisions/{decision_id}/history", response_model=list[ChangeOut])
def history_api(ctx: Reader, decision_id: DecisionId) -> list[ChangeOut]:
    """Who changed which fields of the record, and when."""
    return history(ctx, decision_id)


def to_record(decision_id: int) -> RedirectResponse:
    return RedirectResponse(f"/decisions/{decision_id}", status_code=303)


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _options(text: str) -> list[OptionIn]:
    """``KEY=label: description`` lines (the CLI's --option form)."""
    from pydantic import ValidationError

    out = []
    for number, line in enumerate(text_lines(text), 1):
        key, equals, rest = line.partition("=")
        label, _, description = rest.partition(":")
        try:
            if not equals:
                raise ValueError
            out.append(
                OptionIn(key=key.strip(), label=label.strip(), description=description.strip())
            )
        except (ValueError, ValidationError):
            raise _FormError(
                "options",
                f"line {number} {line!r}: write KEY=label or KEY=label: description, e.g. "
                "'B=Pilot in phases: two regions first' (a key is letters, digits, _ . -)",
            ) from None
    return out


def _criteria(text: str) -> list[CriterionIn]:
    """``OUTCOME[@statistic]=WEIGHT`` lines (the CLI's --criterion form)."""
    from pydantic import ValidationError

    out = []
    for number, line in enumerate(text_lines(text), 1):
        name, _, weight = line.partition("=")
        outcome, _, statistic = name.strip().partition("@")
        try:
            out.append(
                CriterionIn.model_validate(
                    {
                        "name": name.strip(),
                        "weight": float(weight),
                        "outcome": outcome.strip(),
                        "statistic": statistic.strip() or "p50",
                    }
                )
            )
        except (ValueError, ValidationError):
            raise _FormError(
                "criteria",
                f"line {number} {line!r}: write OUTCOME=WEIGHT or OUTCOME@p10=WEIGHT with an "
                f"outcome of {', '.join(OUTCOMES)}, a statistic of {', '.join(STATISTICS)} and "
                "a weight 0–1, e.g. margin=0.5",
            ) from None
    return out


class _FormError(PartnerscopeError, ValueError):
    """A form field that cannot be read; shown next to the form."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def problems(exc: Exception) -> list[str]:
    """Every reason an error carries, one line each."""
    from partnerscope.decisions.guards import CommitRefusedError
    from partnerscope.errors import ConfigError
    from partnerscope.scenarios.spec import ScenarioSpecError

    if isinstance(exc, CommitRefusedError):
        lines = list(exc.reasons)
    elif isinstance(exc, ScenarioSpecError):
        lines = [f"{exc.where}: {p}" for p in exc.problems]
    elif isinstance(exc, ConfigError):
        lines = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
    else:
        lines = [str(exc)]
    return [for_the_web(line) for line in lines]


#: what a command a reason names is on the decision's page
_ON_THE_PAGE = {
    "cite": "the “Cite as evidence” form",
    "compare": "“Model the options”",
    "review": "the review form",
    "edit": "a new draft with the options to compare",
    "commit": "the commit form",
}


def for_the_web(line: str) -> str:
    """A reason the service words for the command line, with its commands and options said as
    the page's forms and fields."""
    import re

    def command(found: re.Match[str]) -> str:
        return _ON_THE_PAGE.get(found.group(1), "the forms on this page")

    line = re.sub(r"`partnerscope decide (\w+)[^`]*`", command, line)
    line = re.sub(r"`partnerscope metrics list` shows them", "the metric list shows them", line)
    line = re.sub(r"`partnerscope decisions list` shows them", "the decision list shows them", line)
    return line.replace("with --owner", "in the Owner field").replace("with --why", "in Why")


@pages.get("/decisions", response_class=HTMLResponse)
def decisions_page(
    request: Request,
    ctx: Reader,
    status: Annotated[
        str | None, Query(max_length=16, description="draft, committed, stopped or closed")
    ] = None,
) -> HTMLResponse:
    """The list; the filter form's "all" sends an empty status."""
    try:
        wanted = Status(status) if status else None
    except ValueError:
        raise HTTPException(
            422, f"status {status!r}: use draft, committed, stopped or closed (or none for all)"
        ) from None
    return page(
        request,
        ctx,
        "decisions.html.j2",
        title="Decisions",
        subtitle="Frame → Compare → Commit, then reviews on the schedule set at commit",
        decisions=list_decisions(ctx, wanted),
        chosen=wanted.value if wanted else "",
        statuses=[s.value for s in Status],
    )


def _frame_form(
    request: Request, ctx: Ctx, values: dict[str, Any], errors: list[str], status: int = 200
) -> HTMLResponse:
    return page(
        request,
        ctx,
        "decision_new.html.j2",
        status=status,
        title="Frame a decision",
        subtitle="What is decided, by whom, over what horizon, and the options to compare",
        values=values,
        errors=errors,
        metrics=[m.name for m in ctx.workspace.catalog],
    )


@pages.get("/decisions/new", response_class=HTMLResponse)
def frame_page(request: Request, ctx: Reader) -> HTMLResponse:
    values = {
        "options": STANDARD_OPTIONS,
        "criteria": "margin=0.5\nrevenue=0.3\ncontrol=0.2",
        "horizon_months": 12,
    }
    return _frame_form(request, ctx, values, [])


@pages.post("/decisions/new", response_class=HTMLResponse, response_model=None)
def frame_submit(
    request: Request,
    ctx: Reader,
    decision: Annotated[str, Form(max_length=300)] = "",
    owner: Annotated[str, Form(max_length=120)] = "",
    horizon_months: Annotated[int, Form(ge=1, le=120)] = 12,
    scope: Annotated[str, Form(max_length=4000)] = "",
    background: Annotated[str, Form(max_length=4000)] = "",
    objective: Annotated[str, Form(max_length=4000)] = "",
    options: Annotated[str, Form(max_length=4000)] = "",
    criteria: Annotated[str, Form(max_length=2000)] = "",
    success_metrics: Annotated[str, Form(max_length=2000)] = "",
    facts: Annotated[str, Form(max_length=8000)] = "",
    assumptions: Annotated[str, Form(max_length=8000)] = "",
    open_questions: Annotated[str, Form(max_length=8000)] = "",
    constraints: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    from pydantic import ValidationError

    values = {
        "decision": decision,
        "owner": owner,
        "horizon_months": horizon_months,
        "scope": scope,
        "background": background,
        "objective": objective,
        "options": options,
        "criteria": criteria,
        "success_metrics": success_metrics,
        "facts": facts,
        "assumptions": assumptions,
        "open_questions": open_questions,
        "constraints": constraints,
    }
    try:
        given = FrameIn(
            decision=decision.strip(),
            owner=owner.strip() or None,
            horizon_months=horizon_months,
            scope=scope,
            background=background,
            objective=objective,
            options=_options(options),
            criteria=_criteria(criteria),
            success_metrics=text_lines(success_metrics.replace(",", "\n")),
            facts=text_lines(facts),
            assumptions=text_lines(assumptions),
            open_questions=text_lines(open_questions),
            constraints=text_lines(constraints),
        )
        record = frame(ctx, given)
    except ValidationError as exc:
        errors = located(exc.errors())
        return _frame_form(request, ctx, values, errors, 422)
    except PartnerscopeError as exc:
        return _frame_form(request, ctx, values, problems(exc), 400)
    return to_record(record.decision_id)


def record_page(
    request: Request,
    ctx: Ctx,
    decision_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The record, its forms for the next steps, and the errors of a refused step next to
    its form."""
    from partnerscope.decisions import cadence

    decisions = service(ctx)
    record = decisions.store.get(decision_id)
    result = record.compare.result
    return page(
        request,
        ctx,
        "decision.html.j2",
        status=status,
        title=f"{record.ref}: {record.title}",
        subtitle=f"{record.status.value.capitalize()} · version {record.version} · created "
        f"{ctx.workspace.words.date(record.created_at)} by {record.created_by}",
        record=record,
        summary=summary_of(record, attention(ctx, [record]).get(decision_id)),
        conditions={
            signal.condition: condition_words(ctx, signal.condition)
            for signal in (record.commit.signals if record.commit else [])
        },
        schedule=cadence.schedule(record.commit.review) if record.commit else [],
        outstanding=cadence.outstanding(record) if record.commit else [],
        history=history(ctx, decision_id),
        changed_parts=changed_parts,
        alerts=alerts_of(ctx, decision_id),
        result=result,
        chart=chart_of(result) if result else None,
        errors=errors or {},
        values=values or {},
        metrics=[m.name for m in ctx.workspace.catalog],
        grains=GRAINS,
        outcomes=[o.value for o in Outcome],
        max_trials=MAX_TRIALS,
        default_trials=DEFAULT_TRIALS,
    )


@pages.get("/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(request: Request, ctx: Reader, decision_id: DecisionId) -> HTMLResponse:
    return record_page(request, ctx, decision_id)
