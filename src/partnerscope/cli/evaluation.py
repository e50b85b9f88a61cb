"""Commands of the evaluation: scorecard, tiers, alerts and plans."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.evaluation.view import ScorecardView
    from partnerscope.evaluation.whatif import WhatIf
    from partnerscope.present import Words
    from partnerscope.workspace import Workspace

plans_app = typer.Typer(
    help="Improvement plans of partners flagged for improvement: list, update, close.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(plans_app, name="plans")

PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        "-p",
        help="Scorecard period, e.g. FY2026-Q1 (default: the latest of the run).",
    ),
]
RunOption = Annotated[int | None, typer.Option(help="Read this run (default: the latest).")]
SPARKS = "▁▂▃▄▅▆▇█"


def _score(words: Words, value: float | None) -> str:
    """A score (0–100) to one decimal: ``70.9``."""
    return words.of_metric("score", value)


def _names(ws: Workspace) -> dict[str, str]:
    """Every partner's name by id (the id where the warehouse has no name)."""
    from partnerscope.warehouse import partner_names

    return partner_names(ws)


def _partner(names: dict[str, str], partner_id: str) -> str:
    """A partner in a table: its name, the id beside it dimmed."""
    name = names.get(partner_id, partner_id)
    if name == partner_id:
        return escape(partner_id)
    return f"{escape(name)} [dim]{escape(partner_id)}[/]"


def sparkline(values: list[float | None]) -> str:
    """Scores 0–100 as one character each; a gap where there is no score."""
    return "".join(
        " " if v is None or v != v else SPARKS[min(int(v / 100 * len(SPARKS)), len(SPARKS) - 1)]
        for v in values
    )


@app.command("scorecard")
def scorecard_command(
    ctx: typer.Context,
    partner_id: Annotated[
        str | None, typer.Argument(help="A partner's id (default: rank every partner).")
    ] = None,
    period: PeriodOption = None,
    run: RunOption = None,
    limit: Annotated[int, typer.Option(help="Partners listed in the ranking.")] = 20,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A partner's scorecard, explained metric by metric; without a partner, the ranking."""
    from partnerscope.evaluation.view import ranking, scorecard_view

    ws = state(ctx).workspace()
    if partner_id is not None:
        _print_scorecard(ws, scorecard_view(ws, partner_id, period, run))
        return
    words = ws.words
    names = _names(ws)
    manifest, label, rows = ranking(ws, period, run)
    shown = rows[:limit]
    notes = scorecard_notes(shown)
    # one note said of every partner listed goes under the table, once; else each in a column
    common = notes[0] if len(notes) == 1 else None
    columns = [
        "#",
        "partner",
        "Score",
        "evidence",
        "peer group",
        "rank in peer group",
        "revenue tier",
        "performance tier",
    ]
    if len(notes) > 1:
        columns.append("note")
    left_out = sum(1 for r in rows if not _scored(r))
    table = RichTable(
        *columns,
        title=f"Scorecards {label} — run {manifest.run_id}, data as of "
        f"{words.moment(manifest.as_of_time)} (top {len(shown)} of {len(rows)})"
        + (f", {left_out} not scored" if left_out else ""),
        title_justify="left",
    )
    rank = 0
    for row in shown:
        if not _scored(row):
            # left out of scoring: no score, no rank, no tier
            cells = [
                "",
                _partner(names, row["partner_id"]),
                f"[dim]{escape(_not_scored(row))}[/]",
                "—",
                "—",
                "—",
                "—",
                "—",
            ]
        else:
            rank += 1
            evidence = words.share(row["evidence_coverage"], digits=0)
            if row["low_evidence"]:
                evidence = f"[yellow]{evidence} low[/]"
            pending = (
                f" [dim](→ {escape(row['performance_pending'])})[/]"
                if row["performance_pending"]
                else ""
            )
            cells = [
                str(rank),
                _partner(names, row["partner_id"]),
                _score(words, row["score"]),
                evidence,
                escape(words.cohort(row["cohort"])),
                words.percentile(row["cohort_percentile"]),
                escape(row["revenue_tier"] or "—"),
                escape(row["performance_tier"] or "—") + pending,
            ]
        if len(notes) > 1:
            cells.append(escape(row.get("note") or "") if _scored(row) else "")
        table.add_row(*cells)
    show(table, fmt)
    if common:
        note(fmt, f"  {escape(common)}.")
    note(fmt, "  explain one with `partnerscope scorecard PARTNER`")


def _scored(row: dict[str, Any]) -> bool:
    """Whether a scorecard row was scored (a run stored before ``scored`` existed: all were)."""
    scored = row.get("scored")
    return bool(scored) if scored is not None else True


def _not_scored(row: dict[str, Any]) -> str:
    """Why a partner was left out of scoring, in words ("Inactive — not scored")."""
    return str(row.get("note") or "Not scored")


def scorecard_notes(rows: list[dict[str, Any]]) -> list[str]:
    """The distinct notes of the scored rows ("Scored on 3 of 8 measures: …"), in order."""
    seen: list[str] = []
    for row in rows:
        text = row.get("note")
        if _scored(row) and text and text not in seen:
            seen.append(str(text))
    return seen


def _print_scorecard(ws: Workspace, view: ScorecardView) -> None:
    catalog = ws.catalog
    words = ws.words
    card = view.card
    console.print(
        f"[bold]{escape(view.partner_name)}[/] ({escape(view.partner_id)}) — {view.period}; "
        f"run {view.run.run_id}, data as of {words.moment(view.run.as_of_time)}"
    )
    if not _scored(card):
        # left out of scoring: say so instead of a blank score, rank and tiers
        console.print(
            f"  [bold]{escape(_not_scored(card))}[/]: no score, rank or tier in {view.period}"
        )
        for flag in view.flags:
            console.print(
                f"  [red]flag[/] {escape(words.flag(flag['flag']))} "
                f"({escape(words.criterion(flag['criterion']))}): {escape(flag['evidence'])}"
            )
        return
    low = card["low_evidence"]
    console.print(
        f"  score [bold]{_score(words, card['score'])}[/] / 100"
        + (" [yellow](too little evidence to be precise)[/]" if low else "")
        + f", evidence coverage {words.share(card['evidence_coverage'], digits=0)}; "
        f"peers: {escape(words.cohort(card['cohort']))} ({card['cohort_size']} partners), "
        f"{words.percentile(card['cohort_percentile'])} among them, "
        f"{words.percentile(card['score_percentile'])} overall"
    )
    console.print(
        f"  leading {_score(words, card['leading_score'])}, "
        f"lagging {_score(words, card['lagging_score'])}; "
        f"history {sparkline([s for _, s in view.history])} "
        f"({view.history[0][0]} … {view.history[-1][0]})"
    )
    if card.get("note"):
        console.print(f"  [dim]{escape(card['note'])}.[/]")
    for indicator in ("leading", "lagging"):
        table = RichTable(
            "metric",
            "value",
            "scored as",
            "Score",
            "weight",
            "contribution",
            title=f"{indicator.capitalize()} indicators",
            title_justify="left",
        )
        for line in view.lines:
            if line.indicator != indicator:
                continue
            shown = words.of_metric(line.metric, line.value)
            scored = "same"
            if line.own_weight is not None and line.scored_value is not None:
                scored = (
                    f"{words.of_metric(line.metric, line.scored_value)} "
                    f"[dim]({words.share(line.own_weight, digits=0)} own data, peers "
                    f"{words.of_metric(line.metric, line.cohort_rate)})[/]"
                )
            elif line.value is None:
                scored = "[yellow]no evidence[/]"
            table.add_row(
                escape(catalog[line.metric].label),
                shown,
                scored,
                _score(words, line.normalized),
                words.share(line.weight, digits=0),
                _score(words, line.contribution),
            )
        show(table)
    for placement in view.placements:
        text = f"  {placement.ruleset.capitalize()} tier: [bold]{escape(placement.effective)}[/]"
        if placement.moved:
            text += f" ({placement.moved})"
        if placement.pending:
            text += (
                f" [yellow]— downgrade to {escape(placement.pending)} pending "
                f"({placement.pending_periods} period(s) below)[/]"
            )
        console.print(text)
        console.print(f"    [dim]{escape(placement.reason)}[/]")
        if placement.next_tier:
            name, gaps = placement.next_tier
            needs = "; ".join(words.needs(g.metric, g.bound, g.required, g.current) for g in gaps)
            console.print(f"    next: {escape(name)}: {escape(needs)}")
    for flag in view.flags:
        console.print(
            f"  [red]flag[/] {escape(words.flag(flag['flag']))} "
            f"({escape(words.criterion(flag['criterion']))}): {escape(flag['evidence'])}"
        )
    for alert in view.alerts:
        console.print(
            f"  [red]alert[/] {str(alert['severity']).capitalize()}: {escape(alert['message'])}"
        )
    if view.plan is not None:
        plan = view.plan
        console.print(
            f"  improvement plan since {plan.opened_on} (owner {escape(plan.owner or '—')}), "
            f"score {_score(words, plan.baseline_score)} → {_score(words, plan.latest_score)}; "
            f"see `partnerscope plans {escape(view.partner_id)}`"
        )


@app.command("tiers")
def tiers_command(
    ctx: typer.Context,
    period: PeriodOption = None,
    run: RunOption = None,
    what_if: Annotated[
        Path | None,
        typer.Option(
            "--what-if",
            help="A TOML file with other [scorecard] weights or [tiers] rules: list the "
            "partners whose tier would change, and the sensitivity to each weight.",
        ),
    ] = None,
    sensitivity: Annotated[
        bool, typer.Option(help="Show how many placements flip when each weight moves ±10 %.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Tier distribution, moves and pending downgrades; or what would change under other
    weights or thresholds."""
    from partnerscope.evaluation.view import RunData, pick_period

    ws = state(ctx).workspace()
    if what_if is not None or sensitivity:
        _print_what_if(ws, what_if, run)
        return
    data = RunData(ws, run)
    manifest = data.run
    start, label = pick_period(manifest, data.periods, period)
    everyone = data.tiers.table
    rows = [r for r in everyone.to_pylist() if r["period_start"] == start]
    # a partner left out of scoring (inactive, not yet joined) holds no tier
    left_out = sorted({r["partner_id"] for r in rows if not _scored(r)})
    rows = [r for r in rows if _scored(r)]
    tier_notes = data.tier_notes
    # csv/json: one table of every rule set's tiers; on a terminal, one table per rule set
    combined = RichTable("rules", "tier", "partners", "moved up", "moved down", "downgrade pending")
    for ruleset in ("revenue", "performance"):
        rules = getattr(ws.config.tiers, ruleset)
        mine = [r for r in rows if r["ruleset"] == ruleset]
        table = RichTable(
            "tier",
            "partners",
            "moved up",
            "moved down",
            "downgrade pending",
            title=f"{ruleset.capitalize()} tiers {label} — run {manifest.run_id} "
            f"(downgrade after {rules.downgrade_after} periods below)",
            title_justify="left",
        )
        for level in rules.levels:
            here = [r for r in mine if r["effective"] == level.name]
            cells = [
                escape(level.name),
                str(len(here)),
                str(sum(r["moved"] == "up" for r in here)),
                str(sum(r["moved"] == "down" for r in here)),
                str(sum(r["pending"] is not None for r in here)),
            ]
            table.add_row(*cells)
            combined.add_row(ruleset.capitalize(), *cells)
        if fmt is OutputFormat.table:
            show(table, fmt)
        if ruleset in tier_notes:
            note(fmt, f"  [yellow]{escape(tier_notes[ruleset])}.[/]")
    if fmt is not OutputFormat.table:
        show(combined, fmt)
    if left_out:
        names = _names(ws)
        reasons = data.not_scored(start)
        listed = ", ".join(
            f"{names.get(p, p)} ({reasons.get(p, 'not scored')})" for p in left_out[:20]
        )
        more = f" and {len(left_out) - 20} more" if len(left_out) > 20 else ""
        note(
            fmt,
            f"  {len(left_out)} {'partner' if len(left_out) == 1 else 'partners'} not scored "
            f"in {label}, so in no tier: "
            f"{escape(listed)}{more}",
        )
    pending = [r for r in rows if r["pending"] is not None]
    if pending:
        names = _names(ws)
        table = RichTable(
            "partner",
            "rules",
            "tier",
            "would move to",
            "periods below",
            title="Pending downgrades",
            title_justify="left",
        )
        for r in pending[:50]:
            table.add_row(
                _partner(names, r["partner_id"]),
                str(r["ruleset"]).capitalize(),
                escape(r["effective"]),
                escape(r["pending"]),
                str(r["pending_periods"]),
            )
        if fmt is OutputFormat.table:
            show(table)


def _print_what_if(ws: Workspace, path: Path | None, run: int | None) -> None:
    from partnerscope.evaluation.whatif import what_if

    words = ws.words
    with console.status("re-evaluating the run"):
        result = what_if(ws, path, run)
    for said in result.notes:
        console.print(f"[yellow]Note:[/] {escape(said)}")
    if path is not None:
        # another grain judges another period: say which one each side is
        where = (
            f"in {result.period}"
            if result.period == result.period_before
            else f"judging {result.period} instead of {result.period_before}"
        )
        console.print(
            f"Under {escape(str(path))}: {len(result.changes)} tier placement(s) change "
            f"{where} (run {result.run.run_id}, {_scored_count(result)})."
        )
        if result.changes:
            names = _names(ws)
            table = RichTable(
                "partner",
                "rules",
                "now",
                "would be",
                "score now",
                "would score",
                title_justify="left",
            )
            for c in result.changes[:100]:
                table.add_row(
                    _partner(names, c.partner_id),
                    c.ruleset.capitalize(),
                    escape(_would_hold(c.before, c.scored_before)),
                    escape(_would_hold(c.after, c.scored_after)),
                    _score(words, c.score_before),
                    _score(words, c.score_after),
                )
            show(table)
    table = RichTable(
        "metric",
        "weight",
        "flips at −10 %",
        "flips at +10 %",
        title=f"Sensitivity of the performance tiers in {result.period} ({_scored_count(result)})",
        title_justify="left",
    )
    for s in result.sensitivity:
        table.add_row(
            escape(words.metric(s.metric)),
            words.share(s.weight, digits=0),
            str(s.flips_down),
            str(s.flips_up),
        )
    show(table)


def _scored_count(result: WhatIf) -> str:
    """``3 partners scored, 1 not``: only the partners scored hold a tier."""
    scored = f"{result.scored:,} {'partner' if result.scored == 1 else 'partners'} scored"
    left_out = result.partners - result.scored
    return f"{scored}, {left_out:,} not" if left_out else scored


def _would_hold(tier: str | None, scored: bool) -> str:
    """A partner's tier on one side of a what-if, or why it holds none."""
    if tier is None:
        return "not a member then"
    return tier if scored else "not scored"


@app.command("alerts")
def alerts_command(
    ctx: typer.Context,
    run: RunOption = None,
    partner: Annotated[str | None, typer.Option(help="Only this partner's.")] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only alerts first raised by this run.")
    ] = False,
    only_flags: Annotated[
        bool,
        typer.Option("--flags", help="Only the flags (with csv/json: the flags, not the alerts)."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Alerts (thresholds and sudden changes) and flags (exit, improvement, high potential)
    of the latest period. With --format csv or json, the alerts; add --flags for the flags."""
    from partnerscope.evaluation.pipeline import ALERTS, FLAGS
    from partnerscope.evaluation.view import read
    from partnerscope.runs import get_run

    ws = state(ctx).workspace()
    words = ws.words
    names = _names(ws)
    manifest = get_run(ws, run)
    alerts = read(ws, manifest, ALERTS).to_pylist()
    flags = read(ws, manifest, FLAGS).to_pylist()
    if partner is not None:
        alerts = [a for a in alerts if a["partner_id"] == partner]
        flags = [f for f in flags if f["partner_id"] == partner]
    if new:
        alerts = [a for a in alerts if a["status"] == "new"]
    order = {"high": 0, "medium": 1, "low": 2}
    alerts.sort(key=lambda a: (order.get(a["severity"], 3), a["status"] != "new", a["partner_id"]))
    table = RichTable(
        "severity",
        "partner",
        "period",
        "kind",
        "why",
        "since run",
        title=f"Alerts — run {manifest.run_id}, data as of {words.moment(manifest.as_of_time)} "
        f"({len(alerts)})",
        title_justify="left",
    )
    for a in alerts:
        style = "red" if a["severity"] == "high" else "yellow"
        table.add_row(
            f"[{style}]{str(a['severity']).capitalize()}[/]",
            _partner(names, a["partner_id"]),
            a["period"],
            escape(words.alert_kind(str(a["kind"]))),
            escape(a["message"]),
            f"{a['first_seen_run']}" + (" [bold]new[/]" if a["status"] == "new" else ""),
        )
    if not only_flags:
        show(table, fmt)
        if fmt is not OutputFormat.table:
            note(fmt, f"{len(flags)} flags: add --flags to list them as {fmt.value}")
            return
    table = RichTable(
        "flag",
        "partner",
        "criterion",
        "evidence",
        title=f"Flags ({len(flags)})",
        title_justify="left",
    )
    for f in sorted(flags, key=lambda f: (f["flag"], f["partner_id"])):
        table.add_row(
            escape(words.flag(f["flag"])),
            _partner(names, f["partner_id"]),
            escape(words.criterion(f["criterion"])),
            escape(f["evidence"]),
        )
    show(table, fmt)


@plans_app.callback()
def plans_list(
    ctx: typer.Context,
    show_closed: Annotated[bool, typer.Option("--closed", help="Include closed plans.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the improvement plans (open ones by default)."""
    if ctx.invoked_subcommand is not None:
        return
    from partnerscope.evaluation import plans

    ws = state(ctx).workspace()
    words = ws.words
    names = _names(ws)
    book = plans.load(ws.state_dir)
    shown = [p for p in book.plans if show_closed or p.status == "open"]
    today = date.today()
    table = RichTable(
        "partner",
        "status",
        "opened",
        "owner",
        "score then → now",
        "next check-in",
        "still flagged",
        "actions",
        title=f"Improvement plans ({len(shown)})",
        title_justify="left",
    )
    for p in shown:
        nxt = p.next_check_in(today)
        flagged: Any = p.progress[-1].still_flagged if p.progress else True
        table.add_row(
            _partner(names, p.partner_id),
            p.status,
            str(p.opened_on),
            escape(p.owner or "—"),
            f"{_score(words, p.baseline_score)} → {_score(words, p.latest_score)}",
            "—" if nxt is None else str(nxt),
            "yes" if flagged else "no",
            escape("; ".join(p.actions) or "—"),
        )
    show(table, fmt)


@plans_app.command("set")
def plans_set(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner whose open plan to update.")],
    owner: Annotated[str | None, typer.Option(help="Who owns the plan.")] = None,
    action: Annotated[
        list[str] | None, typer.Option("--action", help="Add an action (repeatable).")
    ] = None,
    check_in: Annotated[
        list[str] | None,
        typer.Option("--check-in", help="Add a check-in date, e.g. 2026-02-15 (repeatable)."),
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Replace the plan's notes.")] = None,
    by: By = None,
) -> None:
    """Set the owner or notes, add actions or check-in dates to a partner's open plan (each
    change is written to the audit log)."""
    from partnerscope.evaluation import plans

    ws = state(ctx).workspace()
    plans.update_plan(
        ws,
        partner_id,
        by=actor(by),
        owner=owner,
        add_actions=action or [],
        check_ins=[_date(d) for d in check_in or []],
        notes=notes,
    )
    console.print(f"Updated the improvement plan of {escape(partner_id)}.")


@plans_app.command("close")
def plans_close(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner whose open plan to close.")],
    reason: Annotated[str, typer.Option(help="Why: improved, exited, replaced…")],
    by: By = None,
) -> None:
    """Close a partner's open plan with the reason (written to the audit log)."""
    from partnerscope.evaluation import plans

    ws = state(ctx).workspace()
    plans.close_plan(ws, partner_id, by=actor(by), reason=reason)
    console.print(f"Closed the improvement plan of {escape(partner_id)}.")


def _date(text: str) -> date:
    from partnerscope.evaluation.plans import PlanError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlanError(f"--check-in {text!r} is not a date; write 2026-02-15") from None
