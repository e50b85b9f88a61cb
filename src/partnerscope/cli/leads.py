"""`partnerscope leads`: route leads to partners, record touches, declines and outcomes, and
re-route the leads whose SLA ran out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, UsageError, actor, app, console, err_console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show
from partnerscope.clock import now_utc

if TYPE_CHECKING:
    from partnerscope.operations.routing.store import Assignment

leads_app = typer.Typer(
    no_args_is_help=True,
    help="Lead routing: value bands, territory or distance, certifications, tiers, capacity "
    "and each partner's SLA; every assignment explained; SLA breaches and declines re-routed.",
)
app.add_typer(leads_app, name="leads")

LeadId = Annotated[str, typer.Argument(help="The lead's id.")]
Partner = Annotated[str, typer.Option("--partner", "-p", help="The partner the lead is with.")]
Now = Annotated[
    str | None,
    typer.Option(help="The time to act at, e.g. 2026-03-02T14:00 (UTC; default: now)."),
]
OUT_COLUMNS = ("lead_id", "attempt", "assignee", "band", "rule", "status", "sla_due_at", "reason")


def moment(text: str | None, option: str = "--now") -> datetime:
    """A time given on the command line as naive UTC (UTC unless it carries an offset)."""
    if text is None:
        return now_utc(whole_seconds=True)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a time; write 2026-03-02T14:00 (UTC unless it carries "
            "an offset such as +02:00)"
        ) from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


@leads_app.command("route")
def leads_route(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV, XLSX or Parquet file of leads.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the assignments of this batch to a CSV file.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="The seed of weighted draws (default: [routing] seed).")
    ] = None,
    now: Now = None,
    by: By = None,
) -> None:
    """Route every lead of FILE not routed before (a file can be routed again safely).

    Rows that cannot be routed are listed with their row, column and how to fix them; the
    other rows are routed."""
    from partnerscope.cli.progress import progress_bar
    from partnerscope.operations.routing.service import route_file

    ws = state(ctx).workspace()
    with progress_bar(console) as bar:
        task = bar.add_task(f"routing {escape(file.name)}", total=None)
        batch = route_file(
            ws,
            file,
            now=moment(now),
            by=actor(by),
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    for problem in batch.problems[:50]:
        err_console.print(f"[yellow]skipped[/] {escape(str(problem))}", soft_wrap=True)
    if len(batch.problems) > 50:
        err_console.print(f"… and {len(batch.problems) - 50:,} more rows skipped")
    table = Table("rule", "leads", title=f"{len(batch.assignments):,} leads routed")
    for rule, count in sorted(batch.counts().items()):
        table.add_row(rule, f"{count:,}")
    show(table)
    source = f"run {batch.run_id}" if batch.run_id else "no run yet: no tiers, scores or SLA rates"
    console.print(
        f"{len(batch.already_routed):,} already routed (left as they are), "
        f"{len(batch.problems):,} rows skipped; partner facts from {source}"
    )
    if out is not None:
        write_assignments(out, batch.assignments)
        console.print(f"wrote {escape(str(out))}")


def write_assignments(path: Path, found: list[Assignment]) -> None:
    """The assignments as CSV (formula-safe text): who, why, and who else was eligible."""
    from partnerscope.cells import CsvWriter, csv_cell

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = CsvWriter(fh)
        writer.writerow([*OUT_COLUMNS, "eligible", "eligible_count", "excluded"])
        for a in found:
            excluded = "; ".join(f"{k} {v}" for k, v in a.eligible.get("excluded", {}).items())
            writer.writerow(
                csv_cell(v)
                for v in (
                    a.lead_id,
                    a.attempt,
                    a.partner_id or a.queue,
                    a.band,
                    a.rule,
                    a.status.value,
                    a.sla_due_at.isoformat(sep=" ") if a.sla_due_at else None,
                    a.explained(),
                    " ".join(a.eligible.get("ids", [])),
                    a.eligible.get("count", 0),
                    excluded,
                )
            )


def _to(names: dict[str, str], partner_id: str | None, assignee: str) -> str:
    """Where a lead went: the partner by name with its id dimmed, or the queue."""
    if partner_id is None or names.get(partner_id, partner_id) == partner_id:
        return escape(assignee)
    return f"{escape(names[partner_id])} [dim]{escape(partner_id)}[/]"


@leads_app.command("list")
def leads_list(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Option("--partner", "-p", help="Only its leads.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only assignments in this status (assigned, touched, breached, ...)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Assignments, newest first, each with the reason it went where it did."""
    from partnerscope.operations.routing.service import assignments
    from partnerscope.warehouse import partner_names

    ws = state(ctx).workspace()
    found = assignments(ws, partner_id=partner, status=status, limit=limit)
    names = partner_names(ws)
    table = Table("lead", "try", "to", "band", "status", "assigned", "SLA due", "reason")
    for a in found:
        table.add_row(
            escape(a.lead_id),
            str(a.attempt),
            _to(names, a.partner_id, a.assignee),
            a.band,
            a.status.value,
            f"{a.assigned_at:%Y-%m-%d %H:%M}",
            f"{a.sla_due_at:%Y-%m-%d %H:%M}" if a.sla_due_at else "",
            escape(a.explained()),
        )
    show(table, fmt)
    note(fmt, f"{len(found)} assignment(s) shown")


@leads_app.command("show")
def leads_show(ctx: typer.Context, lead: LeadId) -> None:
    """Every routing of one lead: where it went, why, who else was eligible and who not."""
    from partnerscope.operations.routing.engine import Exclusion
    from partnerscope.operations.routing.service import lead_history
    from partnerscope.warehouse import partner_names

    ws = state(ctx).workspace()
    names = partner_names(ws)
    for a in lead_history(ws, lead):
        console.print(
            f"[bold]attempt {a.attempt}[/]: {_to(names, a.partner_id, a.assignee)} "
            f"({a.band}, {a.rule}), "
            f"{a.status.value}, assigned {a.assigned_at:%Y-%m-%d %H:%M} UTC"
            + (f", SLA due {a.sla_due_at:%Y-%m-%d %H:%M}" if a.sla_due_at else "")
            + (f", first touch {a.first_touch_at:%Y-%m-%d %H:%M}" if a.first_touch_at else "")
        )
        console.print(f"  why: {escape(a.explained())}", soft_wrap=True)
        ids = a.eligible.get("ids", [])
        count = a.eligible.get("count", 0)
        more = f" and {count - len(ids):,} more" if count > len(ids) else ""
        console.print(f"  eligible ({count:,}): {escape(', '.join(ids)) or '-'}{more}")
        for key, n in a.eligible.get("excluded", {}).items():
            console.print(f"  excluded: {n:,} {Exclusion(key).label}")
        if a.closed_reason:
            console.print(f"  closed: {escape(a.closed_reason)}")


@leads_app.command("touch")
def leads_touch(
    ctx: typer.Context,
    lead: LeadId,
    partner: Partner,
    at: Annotated[
        str | None, typer.Option(help="When the partner first contacted the lead (UTC).")
    ] = None,
    now: Now = None,
    by: By = None,
) -> None:
    """Record the partner's first contact with the lead."""
    from partnerscope.operations.routing.service import record_touch

    when = moment(now)
    found = record_touch(
        state(ctx).workspace(),
        lead,
        partner,
        now=when,
        by=actor(by),
        at=None if at is None else moment(at, "--at"),
    )
    touched, due = found.first_touch_at, found.sla_due_at
    late = touched is not None and due is not None and touched > due
    when_text = "after the SLA (it counts as a breach)" if late else "within the SLA"
    console.print(f"{escape(lead)} touched by {escape(partner)}, {when_text}")


@leads_app.command("decline")
def leads_decline(
    ctx: typer.Context,
    lead: LeadId,
    partner: Partner,
    reason: Annotated[str, typer.Option(help="Why the partner declines.")],
    now: Now = None,
    by: By = None,
) -> None:
    """The partner declines the lead: it goes to the next eligible partner, never back."""
    from partnerscope.operations.routing.service import record_decline

    _, new = record_decline(
        state(ctx).workspace(), lead, partner, reason=reason, now=moment(now), by=actor(by)
    )
    console.print(f"{escape(lead)} declined by {escape(partner)}; now with {escape(new.assignee)}")
    console.print(f"  why: {escape(new.explained())}", soft_wrap=True)


@leads_app.command("close")
def leads_close(
    ctx: typer.Context,
    lead: LeadId,
    partner: Partner,
    converted: Annotated[
        bool,
        typer.Option(
            "--converted/--lost", help="It became an opportunity, or it was closed without one."
        ),
    ],
    reason: Annotated[str | None, typer.Option(help="A note on the outcome.")] = None,
    now: Now = None,
    by: By = None,
) -> None:
    """Close the partner's lead (frees a place of its capacity)."""
    from partnerscope.operations.routing.service import record_outcome

    found = record_outcome(
        state(ctx).workspace(),
        lead,
        partner,
        converted=converted,
        reason=reason,
        now=moment(now),
        by=actor(by),
    )
    console.print(f"{escape(lead)} {found.status.value} by {escape(partner)}")


@leads_app.command("sla")
def leads_sla(
    ctx: typer.Context, now: Now = None, by: By = None, fmt: FormatOption = OutputFormat.table
) -> None:
    """Flag the leads not first-touched within the SLA as breached and re-route them."""
    from partnerscope.operations.routing.service import check_sla

    pairs = check_sla(state(ctx).workspace(), now=moment(now), by=actor(by))
    table = Table("lead", "breached by", "due", "now with", title=f"{len(pairs)} SLA breach(es)")
    for old, new in pairs:
        table.add_row(
            escape(old.lead_id),
            escape(old.assignee),
            f"{old.sla_due_at:%Y-%m-%d %H:%M}" if old.sla_due_at else "",
            escape(new.assignee),
        )
    show(table, fmt)
