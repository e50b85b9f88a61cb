"""`partnerscope awards`: the recognition awards' shortlists per fiscal year, each nominee with
why, and recording the winner people chose as a decision (docs/awards.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

awards_app = typer.Typer(
    no_args_is_help=True,
    help="Recognition awards: the ranked, explained shortlist of each award per fiscal year "
    "([awards] in partnerscope.toml), and the winner people chose, recorded as a decision.",
)
app.add_typer(awards_app, name="awards")

YearOption = Annotated[
    int | None,
    typer.Option(
        "--year",
        min=1900,
        max=2999,
        help="The fiscal year (default: the latest complete one of the run).",
    ),
]
RunOption = Annotated[
    int | None, typer.Option("--run", help="The run whose values are used (default: the latest).")
]


@awards_app.command("shortlist")
def awards_shortlist(
    ctx: typer.Context,
    year: YearOption = None,
    award: Annotated[
        str | None, typer.Option("--award", help="One award's key (default: every award).")
    ] = None,
    run: RunOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Each award's nominees for a fiscal year, best first, with the reasons in words."""
    from partnerscope.decisions.awards import decided, winner_of
    from partnerscope.evaluation.awards import shortlists

    ws = state(ctx).workspace()
    found = shortlists(ws, year, run_id=run, award=award)
    done = decided(ws)
    table = Table("award", "year", "rank", "partner", "partner id", "why", "decided")
    for s in found:
        record = done.get((s.award, s.year))
        won = winner_of(record) if record is not None else None
        if not s.nominees:
            table.add_row(escape(s.label), s.period, "—", "no eligible partner", "", "", "")
        for n in s.nominees:
            decision = ""
            if record is not None:
                decision = f"winner ({record.ref})" if won and won[0] == n.partner_id else ""
            table.add_row(
                escape(s.label),
                s.period,
                str(n.rank),
                escape(n.partner),
                escape(n.partner_id),
                escape(" ".join(n.reasons)),
                decision,
            )
    show(table, fmt)
    if found:
        first = found[0]
        note(
            fmt,
            f"Shortlists for {first.period} from run {first.run_id}. Record a winner with "
            f"`partnerscope awards decide AWARD --year {first.year} --partner ID --reason ...`.",
        )


@awards_app.command("decide")
def awards_decide(
    ctx: typer.Context,
    award: Annotated[str, typer.Argument(help="The award's key, e.g. partner_of_the_year.")],
    year: Annotated[int, typer.Option("--year", min=1900, max=2999, help="The fiscal year.")],
    reason: Annotated[str, typer.Option("--reason", help="Why this partner (kept with it).")],
    partner: Annotated[
        str | None, typer.Option("--partner", help="The winner: a partner on the shortlist.")
    ] = None,
    no_award: Annotated[
        bool, typer.Option("--no-award", help="Give no award this year (instead of --partner).")
    ] = False,
    run: RunOption = None,
    by: By = None,
) -> None:
    """Record the winner people chose as a committed decision: who decided and why."""
    from partnerscope.decisions.awards import AwardDecisionError, decide, winner_of

    if (partner is None) == (not no_award):
        raise AwardDecisionError("give either --partner ID or --no-award")
    ws = state(ctx).workspace()
    record = decide(
        ws, award, year=year, partner_id=partner, reason=reason, by=actor(by), run_id=run
    )
    won = winner_of(record)
    who = f"{escape(won[1])} ({escape(won[0])})" if won else "no award"
    console.print(
        f"{record.ref}: {escape(record.title)} — {who}, decided by "
        f"{escape(record.commit.committed_by if record.commit else actor(by))}."
    )
