"""`partnerscope mdf`: market development funds — budgets, the request → approval → claim →
payment workflow, returns and the reallocation proposal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from decimal import Decimal

    from partnerscope.money.mdf import MdfRequest, Return
    from partnerscope.present import Words
    from partnerscope.workspace import Workspace

mdf_app = typer.Typer(
    no_args_is_help=True,
    help="Market development funds: budgets per tier and partner, requests through approval, "
    "claim and payment, returns (ROI, pipeline to spend) and a reallocation proposal.",
)
budget_app = typer.Typer(no_args_is_help=True, help="Set a partner's MDF budget for a year.")
app.add_typer(mdf_app, name="mdf")
mdf_app.add_typer(budget_app, name="budget")

RequestId = Annotated[int, typer.Argument(help="The request's number (see `mdf list`).")]
Year = Annotated[
    str | None,
    typer.Option("--year", "-y", help="A fiscal year, e.g. FY2026 (default: the current one)."),
]


def _names(ws: Workspace) -> dict[str, str]:
    from partnerscope.warehouse import partner_names

    return partner_names(ws)


def _partner(names: dict[str, str], partner_id: str) -> str:
    """A partner in a table: its name, the id beside it dimmed."""
    name = names.get(partner_id, partner_id)
    if not partner_id or name == partner_id:
        return escape(partner_id)
    return f"{escape(name)} [dim]{escape(partner_id)}[/]"


def _words(ctx: typer.Context) -> Words:
    """The workspace's way of writing money and ratios."""
    words: Words = state(ctx).workspace().words
    return words


def _money(w: Words, amount: Decimal | None) -> str:
    """An amount to the cent with its currency: ``$5,000.00``."""
    return w.money(amount, cents=True)


def _left(ctx: typer.Context, found: MdfRequest) -> str:
    from partnerscope.money import mdf

    w = _words(ctx)
    budget = mdf.budget(state(ctx).workspace(), found.partner_id, found.fiscal_year)
    return (
        f"{found.partner_id} has {_money(w, budget.left)} left of its {found.fiscal_year} budget "
        f"of {_money(w, budget.amount)}"
    )


# ------------------------------------------------------------------------------- budgets


@mdf_app.command("budgets")
def mdf_budgets(
    ctx: typer.Context,
    year: Year = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Also list partners without a budget or spend.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Each partner's budget for a fiscal year and what is left of it.

    The budget is the partner's override (`mdf budget set`) or its tier's default; what is left
    is the budget less what the workflow has committed and the imported MDF spend of the year."""
    from partnerscope.amounts import ZERO
    from partnerscope.money import mdf

    ws = state(ctx).workspace()
    w = ws.words
    names = _names(ws)
    found = mdf.budgets(ws, year)
    shown = [b for b in found if everyone or b.amount or b.committed or b.imported_spend]
    label = found[0].fiscal_year if found else (year or "")
    table = Table(
        "partner",
        "tier",
        "budget",
        "set by",
        "committed",
        "imported spend",
        "left",
        title=f"MDF budgets {label}",
    )
    for b in shown:
        source = (
            f"override ({escape(b.set_by or '')}: {escape(b.reason or '')})"
            if b.source == "override"
            else f"tier ({b.tier_period})"
            if b.tier
            else "no tier"
        )
        table.add_row(
            _partner(names, b.partner_id),
            escape(b.tier or "—"),
            _money(w, b.amount),
            source,
            _money(w, b.committed),
            _money(w, b.imported_spend),
            _money(w, b.left),
        )
    show(table, fmt)
    total = sum((b.amount for b in found), ZERO)
    left = sum((b.left for b in found), ZERO)
    note(
        fmt,
        f"{len(shown)} of {len(found)} partners listed; budgets {_money(w, total)}, "
        f"left {_money(w, left)}",
    )


@budget_app.command("set")
def mdf_budget_set(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id.")],
    amount: Annotated[str, typer.Argument(help="The annual budget, e.g. 40000 or 40,000.00.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it differs from its tier.")],
    year: Year = None,
    by: By = None,
) -> None:
    """Give a partner a budget for a fiscal year instead of its tier's default."""
    from partnerscope.money import mdf

    ws = state(ctx).workspace()
    w = _words(ctx)
    found = mdf.set_budget(ws, partner_id, year, amount, reason=reason, by=actor(by))
    console.print(
        f"{partner_id}'s {found.fiscal_year} MDF budget is now {_money(w, found.amount)}; "
        f"{_money(w, found.left)} left."
    )


# ------------------------------------------------------------------------------ workflow


@mdf_app.command("request")
def mdf_request(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner asking for funds.")],
    activity_type: Annotated[
        str,
        typer.Option(
            "--type", "-t", help="event, digital, content, training, telemarketing or other."
        ),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="What the money is for.")],
    amount: Annotated[str, typer.Option("--amount", "-a", help="The amount requested.")],
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            "-y",
            help="The fiscal year whose budget it draws on, e.g. FY2027 (default: the current "
            "one); one of the years open for requests.",
        ),
    ] = None,
    by: By = None,
) -> None:
    """Submit a request for funds against a partner's budget.

    Requests can be filed for the current and the next fiscal year; `\\[mdf] request_years_back`
    and `request_years_ahead` open other years."""
    from partnerscope.money import mdf

    w = _words(ctx)
    found = mdf.submit(
        state(ctx).workspace(),
        partner_id,
        activity_type=activity_type,
        name=name,
        amount=amount,
        year=year,
        by=actor(by),
    )
    console.print(
        f"Submitted {found.ref}: {escape(found.name)} ({found.activity_type}), "
        f"{_money(w, found.requested_amount)} requested; {_left(ctx, found)}."
    )
    console.print(f"Next: `partnerscope mdf approve {found.request_id}` or `mdf reject`.")


@mdf_app.command("approve")
def mdf_approve(
    ctx: typer.Context,
    request_id: RequestId,
    amount: Annotated[
        str | None, typer.Option("--amount", "-a", help="Approve less than requested.")
    ] = None,
    by: By = None,
) -> None:
    """Approve a request (refused beyond the amount requested or the budget left)."""
    from partnerscope.money import mdf

    w = _words(ctx)
    found = mdf.approve(state(ctx).workspace(), request_id, amount=amount, by=actor(by))
    assert found.deadline is not None
    console.print(
        f"Approved {found.ref} for {_money(w, found.approved_amount)}; claim it by "
        f"{found.deadline.isoformat()}. {_left(ctx, found)}."
    )


@mdf_app.command("reject")
def mdf_reject(
    ctx: typer.Context,
    request_id: RequestId,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (the partner is told).")],
    by: By = None,
) -> None:
    """Reject a request awaiting approval."""
    from partnerscope.money import mdf

    found = mdf.reject(state(ctx).workspace(), request_id, reason=reason, by=actor(by))
    console.print(f"Rejected {found.ref}: {escape(found.reason or '')}")


@mdf_app.command("claim")
def mdf_claim(
    ctx: typer.Context,
    request_id: RequestId,
    amount: Annotated[str, typer.Option("--amount", "-a", help="The amount spent.")],
    proof: Annotated[
        str, typer.Option("--proof", "-p", help="Invoice number or link to the proof of spend.")
    ],
    by: By = None,
) -> None:
    """Claim an approved request: at most the approved amount, by its deadline, with proof."""
    from partnerscope.money import mdf

    w = _words(ctx)
    found = mdf.claim(state(ctx).workspace(), request_id, amount=amount, proof=proof, by=actor(by))
    proof_ref = escape(found.proof_ref or "")
    console.print(f"Claimed {found.ref}: {_money(w, found.claimed_amount)} (proof {proof_ref})")
    console.print(f"Next: `partnerscope mdf pay {found.request_id}` once it is paid.")


@mdf_app.command("pay")
def mdf_pay(ctx: typer.Context, request_id: RequestId, by: By = None) -> None:
    """Record the payment of a claimed request (the claimed amount)."""
    from partnerscope.money import mdf

    w = _words(ctx)
    found = mdf.pay(state(ctx).workspace(), request_id, by=actor(by))
    console.print(f"Paid {found.ref}: {_money(w, found.paid_amount)}. {_left(ctx, found)}.")


@mdf_app.command("list")
def mdf_list(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Option(help="Only this partner's requests.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only requests in this state: requested, approved, rejected, ..."),
    ] = None,
    year: Annotated[str | None, typer.Option("--year", "-y", help="Only this fiscal year.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The MDF requests and where each stands."""
    from partnerscope.money import mdf

    ws = state(ctx).workspace()
    w = ws.words
    names = _names(ws)
    found = mdf.requests(ws, partner=partner, year=year, status=status)
    table = Table(
        "#",
        "partner",
        "year",
        "type",
        "name",
        "status",
        "requested",
        "approved",
        "claim by",
        "claimed",
        "paid",
    )
    for item in found:
        table.add_row(
            str(item.request_id),
            _partner(names, item.partner_id),
            item.fiscal_year,
            item.activity_type.value,
            escape(item.name),
            item.status.value,
            _money(w, item.requested_amount),
            _money(w, item.approved_amount),
            item.deadline.isoformat() if item.deadline else "—",
            _money(w, item.claimed_amount),
            _money(w, item.paid_amount),
        )
    show(table, fmt)
    note(fmt, f"{len(found)} request(s)")


@mdf_app.command("export-activities")
def mdf_export_activities(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The CSV file to write.")],
) -> None:
    """Write the requests as rows of the mdf_activities table (each run posts them itself)."""
    from partnerscope.money import mdf

    count = mdf.export_activities(state(ctx).workspace(), out)
    console.print(
        f"Wrote {count} request(s) to {escape(str(out))}: the rows `partnerscope run` posts to "
        "mdf_activities itself (no ingest needed; docs/mdf.md)."
    )


# ----------------------------------------------------------------------------- analysis


def _ratio_cell(w: Words, metric: str, value: Decimal | None, met: bool | None) -> str:
    """A return as its metric writes it (``5.9×``), marked against its target."""
    if value is None:
        return "—"
    return f"{w.of_metric(metric, value)} {'✓' if met else '✗'}"


def _return_row(w: Words, row: Return) -> list[str]:
    return [
        _money(w, row.spend),
        _money(w, row.attributed_revenue),
        _ratio_cell(w, "mdf_roi", row.roi, row.roi_met),
        _money(w, row.pipeline),
        _ratio_cell(w, "mdf_pipeline_ratio", row.pipeline_ratio, row.pipeline_met),
    ]


@mdf_app.command("returns")
def mdf_returns(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help="One line per partner, activity or type.")
    ] = "partner",
    first: Annotated[
        str | None,
        typer.Option(
            "--from", help="First period: FY2026, FY2026-Q1 or 2025-10 (default: the run's year)."
        ),
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last period (default: the first).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """MDF ROI and pipeline to spend against the targets, as the metrics define them."""
    from partnerscope.money import mdf

    ws = state(ctx).workspace()
    w = ws.words
    found = mdf.returns(ws, by, first, last)
    keys = {"activity": ["activity", "partner", "type"], "partner": ["partner"], "type": ["type"]}
    names = _names(ws) if found.by.value in ("partner", "activity") else {}
    roi, pipeline = w.metric("mdf_roi"), w.metric("mdf_pipeline_ratio")
    table = Table(
        *keys[found.by.value],
        "spend",
        "attributed revenue",
        roi,
        "pipeline",
        pipeline,
        title=f"MDF returns {found.window} (goals: {roi} "
        f"{w.of_metric('mdf_roi', found.roi_target)}, {pipeline} "
        f"{w.of_metric('mdf_pipeline_ratio', found.pipeline_ratio_target)})",
    )
    for row in found.rows:
        by_partner = found.by.value == "partner"
        head = [_partner(names, row.key) if by_partner else escape(row.key)]
        if found.by.value == "activity":
            head += [_partner(names, row.partner_id or ""), row.activity_type or ""]
        table.add_row(*head, *_return_row(w, row))
    pad = [""] * (len(keys[found.by.value]) - 1)
    table.add_row("all", *pad, *_return_row(w, found.total), style="bold")
    show(table, fmt)


@mdf_app.command("reallocate")
def mdf_reallocate(
    ctx: typer.Context,
    year: Annotated[
        str | None,
        typer.Option(
            "--year",
            "-y",
            help="The fiscal year to propose budgets for (default: the one after the run's).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the proposal to this CSV.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print each partner's line in words.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Propose next year's budgets, moved toward the best measured returns.

    Budget moves toward the partners and activity types whose MDF returned the most, each
    partner within mdf.min_share and mdf.max_share of its budget; the total is kept to the cent.
    See docs/mdf.md for the rule."""
    from partnerscope.money import mdf

    w = _words(ctx)
    found = mdf.propose_reallocation(state(ctx).workspace(), year)
    table = Table(
        "partner",
        "name",
        f"budget {found.from_year}",
        f"proposed {found.to_year}",
        "change",
        w.metric("mdf_roi"),
        w.metric("mdf_pipeline_ratio"),
        "held at",
        title=f"MDF reallocation {found.from_year} → {found.to_year}",
    )
    for line in found.lines:
        table.add_row(
            line.partner_id,
            escape(line.name),
            _money(w, line.current),
            _money(w, line.proposed),
            ("+" if line.change > 0 else "") + _money(w, line.change),
            w.of_metric("mdf_roi", line.roi),
            w.of_metric("mdf_pipeline_ratio", line.pipeline_ratio),
            line.bound.value if line.bound else "",
        )
    show(table, fmt)
    if explain:
        for line in found.lines:
            note(fmt, f"{line.partner_id}: {escape(line.explanation)}", soft_wrap=True)
    if found.mix:
        mix = Table(
            "activity type",
            f"spend {found.from_year}",
            w.metric("mdf_roi"),
            "budget now",
            "proposed",
            title="Proposed activity mix",
        )
        for item in found.mix:
            mix.add_row(
                item.activity_type,
                _money(w, item.spend),
                w.of_metric("mdf_roi", item.roi),
                f"{_money(w, item.current)} ({w.share(item.current / found.total, digits=0)})",
                f"{_money(w, item.proposed)} ({w.share(item.proposed / found.total, digits=0)})",
            )
        note(fmt, mix)
    note(fmt, escape(found.rule))
    if out is not None:
        found.write_csv(out)
        note(fmt, f"Proposal written to {escape(str(out))}")
