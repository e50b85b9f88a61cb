"""`partnerscope payouts`: a quarter's incentive ledger, computed, approved, paid and exported."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.money.payouts import Ledger, Payouts
    from partnerscope.present import Words

payouts_app = typer.Typer(
    no_args_is_help=True,
    help="Incentive payouts: a quarter's ledger, explained line by line, through draft → "
    "approved (locked) → paid, exported for payment.",
)
app.add_typer(payouts_app, name="payouts")

Quarter = Annotated[str, typer.Argument(help="A fiscal quarter, e.g. FY2026-Q3.")]


def _service(ctx: typer.Context) -> Payouts:
    from partnerscope.money.payouts import Payouts

    return Payouts(state(ctx).workspace())


@payouts_app.command("compute")
def payouts_compute(
    ctx: typer.Context,
    quarter: Quarter,
    run: Annotated[
        int | None, typer.Option(help="The run to compute from (default: latest).")
    ] = None,
    by: By = None,
) -> None:
    """Compute (or recompute) a quarter's draft ledger from a run, with the adjustments that
    earlier approved quarters now need."""
    service = _service(ctx)
    with console.status(f"computing the {quarter} ledger"):
        ledger = service.compute(quarter, by=actor(by), run_id=run)
    _summary(ledger, service.workspace.words, _names(service, ledger))


@payouts_app.command("show")
def payouts_show(
    ctx: typer.Context,
    quarter: Quarter,
    partner: Annotated[str | None, typer.Option(help="Only this partner's lines.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A ledger's lines, each explained (all partners' totals unless --partner)."""
    service = _service(ctx)
    ledger = service.ledger(quarter)
    words = service.workspace.words
    if partner is None:
        _summary(ledger, words, _names(service, ledger), top=None, fmt=fmt)
        return
    name = _names(service, ledger).get(partner, partner)
    table = Table(
        "rule",
        "kind",
        "earned in",
        "amount",
        "why",
        title=f"{escape(name)} ({escape(partner)}) in {quarter}",
    )
    mine = [line for line in ledger.lines if line.partner_id == partner]
    for line in mine:
        table.add_row(
            words.rule(line.rule),
            line.kind.capitalize(),
            line.earned_in,
            words.money(line.amount, cents=True),
            escape(line.explanation),
        )
    show(table, fmt)
    total = sum(line.amount for line in mine)
    note(fmt, f"{len(mine)} line(s), total {words.money(total, cents=True)} ({ledger.status})")


@payouts_app.command("list")
def payouts_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Every ledger and where it stands."""
    table = Table("quarter", "status", "run", "computed", "approved", "paid", "reference")
    for ledger in _service(ctx).periods():
        table.add_row(
            ledger.period,
            ledger.status,
            str(ledger.run_id),
            f"{ledger.computed_at:%Y-%m-%d %H:%M} {escape(ledger.computed_by)}",
            f"{ledger.approved_at:%Y-%m-%d} {escape(ledger.approved_by or '')}"
            if ledger.approved_at
            else "",
            f"{ledger.paid_at:%Y-%m-%d} {escape(ledger.paid_by or '')}" if ledger.paid_at else "",
            escape(ledger.payment_ref or ""),
        )
    show(table, fmt)


@payouts_app.command("approve")
def payouts_approve(ctx: typer.Context, quarter: Quarter, by: By = None) -> None:
    """Approve a draft: its lines are locked from now on."""
    service = _service(ctx)
    ledger = service.approve(quarter, by=actor(by))
    total = service.workspace.words.money(ledger.total, cents=True)
    console.print(f"{quarter} approved: {total} over {len(ledger.lines)} lines, locked")


@payouts_app.command("pay")
def payouts_pay(
    ctx: typer.Context,
    quarter: Quarter,
    reference: Annotated[str, typer.Option(help="The payment's reference, e.g. a batch id.")],
    by: By = None,
) -> None:
    """Record that an approved ledger was paid."""
    service = _service(ctx)
    ledger = service.pay(quarter, by=actor(by), reference=reference)
    total = service.workspace.words.money(ledger.total, cents=True)
    console.print(f"{quarter} paid ({escape(reference)}): {total}")


@payouts_app.command("export")
def payouts_export(
    ctx: typer.Context,
    quarter: Quarter,
    out: Annotated[Path, typer.Argument(help="A .csv (every line) or .xlsx (totals and lines).")],
) -> None:
    """Write a ledger for payment (the CSV's last column, currency, is the ISO code of every
    amount)."""
    from partnerscope.money.payouts import export

    service = _service(ctx)
    ledger = service.ledger(quarter)
    words = service.workspace.words
    export(ledger, out, names=_names(service, ledger), words=words)
    console.print(
        f"wrote {escape(str(out))}: {len(ledger.lines)} lines, "
        f"{words.money(ledger.total, cents=True)}"
    )


def _names(service: Payouts, ledger: Ledger) -> dict[str, str]:
    """The names of the ledger's partners, as its run knows them."""
    from partnerscope.evaluation.view import RunData

    data = RunData(service.workspace, ledger.run_id)
    return {pid: data.partner_name(pid) for pid in ledger.partner_totals()}


def _summary(
    ledger: Ledger,
    words: Words,
    names: dict[str, str],
    top: int | None = 15,
    fmt: OutputFormat = OutputFormat.table,
) -> None:
    totals = sorted(ledger.partner_totals().items(), key=lambda item: -item[1])
    table = Table(
        "partner",
        "id",
        "lines",
        "amount",
        title=f"{ledger.period}: {ledger.status}, run {ledger.run_id}",
        caption=None if top is None or len(totals) <= top else f"the top {top} of {len(totals)}",
    )
    counts = Counter(line.partner_id for line in ledger.lines)
    for pid, total in totals[:top]:
        name = names.get(pid, pid)
        table.add_row(
            escape(name), f"[dim]{escape(pid)}[/]", str(counts[pid]), words.money(total, cents=True)
        )
    show(table, fmt)
    rules = Counter(words.rule(line.rule) for line in ledger.lines)
    adjustments = sum(1 for line in ledger.lines if line.kind == "adjustment")
    note(
        fmt,
        f"{len(ledger.lines)} lines ({', '.join(f'{r} {n}' for r, n in sorted(rules.items()))}; "
        f"{adjustments} adjustment(s)), {len(totals)} partners, total "
        f"{words.money(ledger.total, cents=True)}",
    )
