"""Commands of the decision record: `decide new/edit/cite/compare/commit/review` and
`decisions list/show/history/due/export`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from partnerscope.decisions.record import DecisionRecord
    from partnerscope.decisions.service import Decisions
    from partnerscope.present import Words

decide_app = typer.Typer(
    help="Frame, compare, commit and review a decision (the framework's decision record).",
    no_args_is_help=True,
)
decisions_app = typer.Typer(
    help="Decision records: list, show, history, reviews and signals due, export.",
    no_args_is_help=True,
)
app.add_typer(decide_app, name="decide")
app.add_typer(decisions_app, name="decisions")

#: The framework's standard options, offered when a decision is framed interactively.
STANDARD_OPTIONS = "A=Keep the current approach; B=Pilot in phases; C=Redesign end to end"

Id = Annotated[int, typer.Argument(help="The decision's number (DEC-0001 is 1).")]
Texts = Annotated[list[str] | None, typer.Option()]


class DecisionInputError(PartnerscopeError, ValueError):
    """An option, date or choice given on the command line cannot be read."""


def _service(ctx: typer.Context) -> Decisions:
    from partnerscope.decisions.service import Decisions

    return Decisions(state(ctx).workspace())


@decide_app.command("new")
def decide_new(
    ctx: typer.Context,
    title: Annotated[
        str | None, typer.Option("--title", "-t", help="What is decided, in one sentence.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Who owns the decision.")] = None,
    horizon: Annotated[int | None, typer.Option(help="Time horizon in months.")] = None,
    scope: Annotated[str | None, typer.Option(help="Which partners, regions, programs.")] = None,
    background: Annotated[str | None, typer.Option(help="Why it is decided now.")] = None,
    objective: Annotated[str | None, typer.Option(help="What success looks like.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="A decision file (TOML: [frame], [compare], [[cite]])."),
    ] = None,
    by: By = None,
) -> None:
    """Frame a new decision (asks for each field when neither --title nor --file is given)."""
    options: list[str] = []
    if title is None and file is None:
        title = typer.prompt("Decision (what is decided)")
        owner = owner or typer.prompt("Owner", default="", show_default=False) or None
        horizon = horizon or typer.prompt("Time horizon in months", default=12, type=int)
        scope = scope or typer.prompt("Scope", default="", show_default=False)
        background = background or typer.prompt("Background", default="", show_default=False)
        objective = objective or typer.prompt("Objective", default="", show_default=False)
        answer = typer.prompt("Options to compare (KEY=label; …)", default=STANDARD_OPTIONS)
        options = [part.strip() for part in answer.split(";") if part.strip()]
    service = _service(ctx)
    who = actor(by)
    frame = {
        "decision": title,
        "owner": owner,
        "horizon_months": horizon,
        "scope": scope,
        "background": background,
        "objective": objective,
    }
    record = service.new(frame, by=who, file=file)
    if options:
        record = service.edit(record.decision_id, patch=_options_patch(record, options), by=who)
    console.print(f"Created [bold]{record.ref}[/]: {escape(record.title)} (draft).")
    console.print(
        f"Next: cite evidence (`partnerscope decide cite {record.decision_id} METRIC`), "
        f"add options, `decide compare {record.decision_id}`, then `decide commit`."
    )


@decide_app.command("edit")
def decide_edit(
    ctx: typer.Context,
    decision_id: Id,
    title: Annotated[str | None, typer.Option("--title", "-t", help="The decision.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who owns the decision.")] = None,
    horizon: Annotated[int | None, typer.Option(help="Time horizon in months.")] = None,
    scope: Annotated[str | None, typer.Option(help="Scope.")] = None,
    background: Annotated[str | None, typer.Option(help="Background.")] = None,
    objective: Annotated[str | None, typer.Option(help="Objective.")] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="Add or rename an option: 'B=Pilot in phases: description'."),
    ] = None,
    remove_option: Annotated[
        list[str] | None, typer.Option("--remove-option", help="Remove an option by its key.")
    ] = None,
    constraint: Annotated[list[str] | None, typer.Option(help="Add a constraint.")] = None,
    trade_off: Annotated[list[str] | None, typer.Option(help="Add a trade-off.")] = None,
    risk: Annotated[
        list[str] | None, typer.Option(help="Add a risk: 'risk => mitigation'.")
    ] = None,
    fact: Annotated[list[str] | None, typer.Option(help="Add a fact.")] = None,
    assumption: Annotated[list[str] | None, typer.Option(help="Add an assumption.")] = None,
    question: Annotated[list[str] | None, typer.Option(help="Add an open question.")] = None,
    success_metric: Annotated[
        list[str] | None, typer.Option(help="Add a success metric from the catalog.")
    ] = None,
    criterion: Annotated[
        list[str] | None,
        typer.Option(
            help="Set the decision criteria: OUTCOME[@p10|p50|p90|mean]=WEIGHT, repeated, "
            "weights summing to 1 (outcomes: revenue, margin, coverage, control, partners).",
        ),
    ] = None,
    key_assumption: Annotated[
        list[str] | None,
        typer.Option(help="Set the key assumptions: modelled inputs to find break-evens for."),
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="A decision file.")] = None,
    by: By = None,
) -> None:
    """Change a decision's Frame or Compare sections; every change is kept in its history."""
    from partnerscope.decisions.service import merge

    service = _service(ctx)
    record = service.store.get(decision_id)
    frame = {
        k: v
        for k, v in {
            "decision": title,
            "owner": owner,
            "horizon_months": horizon,
            "scope": scope,
            "background": background,
            "objective": objective,
        }.items()
        if v is not None
    }
    patch: dict[str, Any] = {"frame": frame} if frame else {}
    if option or remove_option:
        patch = merge(patch, _options_patch(record, option or [], remove_option or []))
    if criterion:
        patch = merge(patch, {"compare": {"scenario": {"criteria": _criteria(criterion)}}})
    if key_assumption:
        patch = merge(patch, {"compare": {"scenario": {"key_assumptions": list(key_assumption)}}})
    lists = {
        "compare.constraints": constraint,
        "compare.trade_offs": trade_off,
        "compare.facts": fact,
        "compare.assumptions": assumption,
        "compare.open_questions": question,
        "compare.success_metrics": success_metric,
        "compare.risks": [_risk(text) for text in risk or []],
    }
    append = {path: items for path, items in lists.items() if items}
    updated = service.edit(decision_id, patch=patch, append=append, file=file, by=actor(by))
    console.print(f"Updated {updated.ref} (version {updated.version}).")


@decide_app.command("cite")
def decide_cite(
    ctx: typer.Context,
    decision_id: Id,
    metric: Annotated[str, typer.Argument(help="A catalog metric, e.g. win_rate.")],
    scope: Annotated[
        str,
        typer.Option(help="portfolio, company, or LEVEL=GROUP such as program_tier=Gold."),
    ] = "portfolio",
    grain: Annotated[
        str | None, typer.Option(help="month, quarter or year (default: the scorecard grain).")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="e.g. FY2026-Q3 (default: the latest complete one).")
    ] = None,
    run: Annotated[int | None, typer.Option(help="Cite this run (default: the latest).")] = None,
    note: Annotated[str, typer.Option(help="What the value shows.")] = "",
    forecast: Annotated[
        bool,
        typer.Option(
            "--forecast",
            help="Cite the run's forecast of won_revenue for a coming period (default: the "
            "next one), with its 80% interval, its method and its backtest.",
        ),
    ] = False,
    by: By = None,
) -> None:
    """Cite a measured metric value of a named run as evidence; the record keeps the number.
    With --forecast, the run's forecast of won revenue and how good it was in the backtest."""
    service = _service(ctx)
    evidence = service.cite(
        decision_id,
        metric,
        scope=scope,
        grain=grain,
        period=period,
        run_id=run,
        note=note,
        by=actor(by),
        **({"forecast": True} if forecast else {}),
    )
    words = service.workspace.words
    console.print(
        f"Cited {escape(words.metric(evidence.metric))} = "
        f"{words.of_metric(evidence.metric, evidence.value)} ({escape(evidence.where())})."
    )
    if evidence.forecast is not None:
        console.print(escape(evidence.forecast_text(words)))
    weakness = evidence.weakness(words)
    if weakness:
        console.print(f"[yellow]Weak evidence:[/] {escape(weakness)}")


@decide_app.command("compare")
def decide_compare(
    ctx: typer.Context,
    decision_id: Id,
    run: Annotated[int | None, typer.Option(help="Calibrate from this run.")] = None,
    trials: Annotated[int | None, typer.Option(help="Monte Carlo trials.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    by: By = None,
) -> None:
    """Model every option with the scenario model and keep the result in the record."""
    from partnerscope.cli.scenario import print_result

    service = _service(ctx)
    with console.status("Modelling the options…"):
        record, result = service.compare(
            decision_id, run_id=run, trials=trials, seed=seed, by=actor(by)
        )
    print_result(result, service.workspace.words)
    console.print(f"Kept in {record.ref} (version {record.version}).")


@decide_app.command("commit")
def decide_commit(
    ctx: typer.Context,
    decision_id: Id,
    option: Annotated[str, typer.Option("--option", "-o", help="The selected option's key.")],
    rationale: Annotated[str, typer.Option(help="Why this option.")],
    owner: Annotated[
        str | None, typer.Option(help="Who owns carrying it out (default: the Frame's owner).")
    ] = None,
    timeline: Annotated[str, typer.Option(help="Milestones and dates.")] = "",
    first_review: Annotated[
        str | None, typer.Option(help="Initial review date (default: in 30 days).")
    ] = None,
    every: Annotated[int, typer.Option(help="Months between operating reviews.")] = 3,
    post_review: Annotated[
        str | None, typer.Option(help="Post-review date (default: at the end of the horizon).")
    ] = None,
    signal: Annotated[
        list[str] | None,
        typer.Option(
            help="A reversal signal, e.g. 'program_tier=Gold win_rate < 0.25 for 2 quarters'."
        ),
    ] = None,
    stop: Annotated[list[str] | None, typer.Option(help="A stop condition, same form.")] = None,
    on: Annotated[str | None, typer.Option(help="The commit date (default: today).")] = None,
    by: By = None,
) -> None:
    """Commit to an option; refused without an owner, measured evidence or a real choice."""
    service = _service(ctx)
    record = service.commit(
        decision_id,
        option=option,
        rationale=rationale,
        owner=owner,
        timeline=timeline,
        first_review=_date(first_review, "--first-review"),
        every_months=every,
        post_review=_date(post_review, "--post-review"),
        signals=list(signal or []),
        stops=list(stop or []),
        today=_date(on, "--on"),
        by=actor(by),
    )
    assert record.commit is not None
    plan = record.commit.review
    console.print(
        f"Committed {record.ref} to option {record.commit.option}. Reviews: initial "
        f"{plan.first}, every {plan.every_months} month(s), post-review {plan.post}."
    )
    _print_weak_evidence(record, service.workspace.words)


@decide_app.command("review")
def decide_review(
    ctx: typer.Context,
    decision_id: Id,
    outcome: Annotated[
        str | None, typer.Option(help="continue, adapt or stop (asked when not given).")
    ] = None,
    why: Annotated[str | None, typer.Option(help="Why (asked when not given).")] = None,
    on: Annotated[str | None, typer.Option(help="The review date (default: today).")] = None,
    by: By = None,
) -> None:
    """Record the conclusion of the next scheduled review: continue, adapt or stop, and why."""
    from partnerscope.decisions.record import Outcome

    service = _service(ctx)
    outcome = outcome or typer.prompt("Outcome (continue, adapt, stop)")
    try:
        chosen = Outcome(outcome.strip().lower())
    except ValueError:
        raise DecisionInputError(f"--outcome {outcome}: use continue, adapt or stop") from None
    why = why or typer.prompt("Why")
    record, review = service.review(
        decision_id, outcome=chosen, why=why, on=_date(on, "--on"), by=actor(by)
    )
    console.print(
        f"Recorded the {review.kind.value} review of {record.ref} ({review.scheduled}): "
        f"{review.outcome.value}. Status: {record.status.value}."
    )


@decisions_app.command("list")
def decisions_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="Only draft, committed, stopped or closed.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every decision with its status, owner and next review."""
    from partnerscope.decisions import cadence
    from partnerscope.decisions.record import Status

    service = _service(ctx)
    try:
        wanted = Status(status) if status else None
    except ValueError:
        raise DecisionInputError(
            f"--status {status}: use draft, committed, stopped or closed"
        ) from None
    records = service.store.records(wanted)
    table = RichTable(
        "decision",
        "title",
        "status",
        "owner",
        "option",
        "next review",
        title=f"Decisions ({len(records)})",
        title_justify="left",
    )
    for record in records:
        nxt = cadence.next_review(record)
        table.add_row(
            record.ref,
            escape(record.title),
            record.status.value,
            escape(record.owner or "—"),
            record.commit.option if record.commit else "—",
            nxt.label() if nxt else "—",
        )
    show(table, fmt)


@decisions_app.command("show")
def decisions_show(ctx: typer.Context, decision_id: Id) -> None:
    """The whole record, in the template's order."""
    from rich.markdown import Markdown

    from partnerscope.decisions.export import to_markdown

    service = _service(ctx)
    record = service.store.get(decision_id)
    ws = service.workspace
    console.print(
        Markdown(to_markdown(record, ws.catalog, words=ws.words, grain=ws.config.scorecard.grain))
    )


@decisions_app.command("history")
def decisions_history(
    ctx: typer.Context, decision_id: Id, fmt: FormatOption = OutputFormat.table
) -> None:
    """Who changed what, and when."""
    service = _service(ctx)
    table = RichTable("version", "action", "by", "at (UTC)", "changed", title_justify="left")
    for change in service.store.history(decision_id):
        fields = [c["field"] for c in change.changes]
        shown = ", ".join(fields[:6]) + (f" (+{len(fields) - 6} more)" if len(fields) > 6 else "")
        table.add_row(
            str(change.version),
            change.action,
            escape(change.changed_by),
            f"{change.changed_at:%Y-%m-%d %H:%M:%S}",
            escape(shown),
        )
    show(table, fmt)


@decisions_app.command("due")
def decisions_due(
    ctx: typer.Context,
    on: Annotated[str | None, typer.Option(help="Check as of this date (default: today).")] = None,
    run: Annotated[int | None, typer.Option(help="Check this run (default: the latest).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Reversal signals that fire on the latest run and reviews that are due (with csv/json,
    these as data and the signals not firing on stderr)."""
    service = _service(ctx)
    alerts, states = service.check(today=_date(on, "--on") or date.today(), run_id=run)
    table = RichTable("decision", "kind", "what", title="Due", title_justify="left")
    for alert in alerts:
        table.add_row(
            f"DEC-{alert.decision_id:04d}", alert.kind.replace("_", " "), escape(alert.message)
        )
    if fmt is not OutputFormat.table:
        show(table, fmt)  # an empty list too: what a script reads
    if not states and not alerts:
        note(fmt, "No committed decision has a signal firing or a review due.")
        return
    if alerts and fmt is OutputFormat.table:
        show(table)
    quiet = [s for s in states if s.check is not None and not s.check.fired]
    if quiet:
        watch = RichTable(
            "decision", "signal", "latest values", title="Signals not firing", title_justify="left"
        )
        for s in quiet:
            assert s.check is not None
            watch.add_row(f"DEC-{s.decision_id:04d}", escape(s.condition), escape(s.check.detail))
        note(fmt, watch)
    if not alerts:
        note(fmt, "Nothing due.")


@decisions_app.command("export")
def decisions_export(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write to (default: WORKSPACE/decisions).")
    ] = None,
) -> None:
    """Write each decision as Markdown and the review dates as an iCalendar file."""
    service = _service(ctx)
    paths = service.export(out)
    for path in paths:
        console.print(f"Wrote {escape(str(path))}", soft_wrap=True)


def _options_patch(
    record: DecisionRecord,
    add: list[str],
    remove: Sequence[str] = (),
) -> dict[str, Any]:
    options = {o.key: o.model_dump(mode="json") for o in record.compare.options}
    for key in remove:
        if key not in options:
            raise DecisionInputError(
                f"--remove-option {key}: no such option ({', '.join(options) or 'none'})"
            )
        del options[key]
    for text in add:
        key, equals, rest = text.partition("=")
        label, _, description = rest.partition(":")
        if not equals or not key.strip() or not label.strip():
            raise DecisionInputError(
                f"--option {text!r}: write KEY=label or KEY=label: description, "
                "e.g. 'B=Pilot in phases: two regions first'"
            )
        entry = options.get(key.strip(), {"key": key.strip(), "overrides": {}})
        options[key.strip()] = {
            **entry,
            "label": label.strip(),
            "description": description.strip() or entry.get("description", ""),
        }
    return {"compare": {"scenario": {"options": list(options.values())}}}


def _criteria(texts: list[str]) -> list[dict[str, Any]]:
    criteria = []
    for text in texts:
        name, equals, weight = text.partition("=")
        outcome, _, statistic = name.strip().partition("@")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not equals or value < 0:
            raise DecisionInputError(
                f"--criterion {text!r}: write OUTCOME=WEIGHT or OUTCOME@p10=WEIGHT, e.g. margin=0.5"
            )
        criteria.append(
            {
                "name": name.strip(),
                "weight": value,
                "outcome": outcome,
                "statistic": statistic or "p50",
            }
        )
    return criteria


def _risk(text: str) -> dict[str, str]:
    risk, _, mitigation = text.partition("=>")
    return {"risk": risk.strip(), "mitigation": mitigation.strip()}


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DecisionInputError(f"{option} {text!r} is not a date; write 2026-02-15") from None


def _print_weak_evidence(record: DecisionRecord, words: Words) -> None:
    for evidence in record.compare.evidence:
        weakness = evidence.weakness(words)
        if weakness:
            console.print(
                f"[yellow]Weak evidence:[/] {escape(words.metric(evidence.metric))} "
                f"({escape(evidence.where())}): "
                f"{escape(weakness)}"
            )
