"""`partnerscope coverage`: market coverage (the target territories without an active,
certified partner, and the partners nearest to them) and channel conflict (partner
opportunities overlapping another party's on one customer) — docs/coverage.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import UsageError, app, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

coverage_app = typer.Typer(
    no_args_is_help=True,
    help="Market coverage gaps and channel conflicts (docs/coverage.md).",
)
app.add_typer(coverage_app, name="coverage")


def _day(value: datetime | None, default: date) -> date:
    return default if value is None else value.date()


@coverage_app.command("gaps")
def gaps(
    ctx: typer.Context,
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            formats=["%Y-%m-%d"],
            help="Coverage at the end of this day (YYYY-MM-DD); default today.",
            show_default=False,
        ),
    ] = None,
    nearest: Annotated[
        int, typer.Option("--nearest", min=0, max=20, help="Nearest partners listed per gap.")
    ] = 3,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The target territories without an active partner holding a valid certification, with
    the active partners nearest to each (certified or not), and market coverage against its
    95 % goal."""
    from partnerscope.clock import today
    from partnerscope.lifecycle.coverage import (
        GOAL,
        distance_words,
        read_coverage,
    )

    ws = state(ctx).workspace()
    words = ws.words
    found = read_coverage(ws, _day(at, today(ws)), nearest=nearest)
    table = Table(
        "territory",
        "country",
        "region",
        "vertical",
        "nearest partners",
        title=f"Target territories without coverage on {found.at.isoformat()}",
    )
    for gap in found.gaps:
        near = "; ".join(
            f"{n.name} ({distance_words(n)}{'' if n.certified else ', not certified'})"
            for n in gap.nearest
        )
        table.add_row(
            escape(gap.name),
            escape(gap.country),
            escape(gap.region or "—"),
            escape(gap.vertical or "all"),
            escape(near or "—"),
        )
    show(table, fmt)
    share = "—" if found.share is None else words.share(found.share, digits=0)
    note(
        fmt,
        f"Market coverage {share} ({found.covered} of {found.target} target territories); "
        f"goal {words.share(GOAL, digits=0)}.",
    )


@coverage_app.command("conflicts")
def conflicts(
    ctx: typer.Context,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d"],
            help="Partner opportunities created from this day (default: a year before --until).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            formats=["%Y-%m-%d"],
            help="…and before this day (default: tomorrow, so today's count).",
            show_default=False,
        ),
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Only this partner's opportunities (its id).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Channel conflicts: each partner opportunity open at the same time as another party's
    (direct sales or another partner) on the same customer (one account identity), with the
    revenue at stake."""
    from partnerscope.clock import today
    from partnerscope.lifecycle.coverage import (
        party_words,
        read_conflicts,
        revenue_at_stake,
        window_words,
    )
    from partnerscope.warehouse import check_partner, partner_names

    ws = state(ctx).workspace()
    words = ws.words
    if partner is not None:
        check_partner(partner_names(ws), partner, lambda _check, message: UsageError(message))
    end = _day(until, today(ws) + timedelta(days=1))
    start = _day(since, end - timedelta(days=365))
    found = read_conflicts(
        ws,
        since=datetime.combine(start, datetime.min.time()),
        until=datetime.combine(end, datetime.min.time()),
        partners=None if partner is None else [partner],
    )
    last = end - timedelta(days=1)
    table = Table(
        "account",
        "partner",
        "opportunity",
        "open",
        "amount",
        "other party",
        "their opportunity",
        "their window",
        "conflict",
        title=f"Channel conflicts: partner opportunities created {start} – {last}",
    )
    for c in found:
        table.add_row(
            escape(c.mine.account_name or c.mine.account_id),
            escape(party_words(c.mine)),
            escape(c.mine.opportunity_id),
            window_words(c.mine),
            "—" if c.mine.amount is None else words.money(c.mine.amount),
            escape(party_words(c.other)),
            escape(c.other.opportunity_id),
            window_words(c.other),
            c.kind,
        )
    show(table, fmt)
    opportunities = len({c.mine.opportunity_id for c in found})
    note(
        fmt,
        f"{opportunities:,} partner {'opportunity' if opportunities == 1 else 'opportunities'} "
        "in conflict; revenue at stake "
        f"{words.money(revenue_at_stake(found))}.",
    )


@coverage_app.command("identities")
def identities(ctx: typer.Context) -> None:
    """Rebuild the account identities the channel conflict reads (which account records are
    one customer) from the accounts in the warehouse, e.g. after the matching rules changed."""
    from partnerscope.ingest.facts import plural
    from partnerscope.operations.identity import rebuild

    written, customers = rebuild(state(ctx).workspace())
    typer.echo(
        f"{plural(written, 'account record')} resolved to {plural(customers, 'customer')}; "
        "the next run recomputes the channel conflict of every period with them."
    )
