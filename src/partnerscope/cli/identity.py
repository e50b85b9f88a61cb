"""`partnerscope identity`: one account identity — check whether two accounts are the same
customer and why, measure the engine on labelled pairs, and the review queue of the pairs it is
unsure of (docs/account-identity.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.identity import Rules, Verdict
    from partnerscope.identity.measure import Counts

identity_app = typer.Typer(
    no_args_is_help=True,
    help="One account identity: whether two accounts are the same customer (deal registration, "
    "channel conflict and lead de-duplication ask the same question), how well that is told "
    "on labelled pairs, and the review queue of the pairs a person decides.",
)
app.add_typer(identity_app, name="identity")

DECISION_WORDS = {"same": "the same customer", "different": "two customers", "review": "unsure"}


def _rules(ctx: typer.Context) -> Rules:
    """The workspace's ``[identity]`` rules, or the built-in ones outside a workspace."""
    from partnerscope.errors import WorkspaceError
    from partnerscope.identity import DEFAULT_RULES

    try:
        rules: Rules = state(ctx).workspace().config.identity.rules()
    except WorkspaceError:
        return DEFAULT_RULES
    return rules


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _print_verdict(verdict: Verdict) -> None:
    console.print(
        f"[bold]{DECISION_WORDS[verdict.decision.value].capitalize()}[/] "
        f"(score {_percent(verdict.score)})"
    )
    for reason in verdict.reasons:
        console.print(f"  - {escape(reason)}")
    if verdict.decision.value == "review":
        console.print("A person decides pairs like this one: `partnerscope identity review`.")


@identity_app.command("check")
def identity_check(
    ctx: typer.Context,
    name_a: Annotated[str, typer.Argument(help="The first account's name.")],
    name_b: Annotated[str, typer.Argument(help="The second account's name.")],
    domain: Annotated[
        str | None, typer.Option("--domain", help="The first account's web or mail domain.")
    ] = None,
    domain_b: Annotated[
        str | None,
        typer.Option("--domain-b", help="The second account's domain (default: --domain)."),
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="The first account's country (name or code).")
    ] = None,
    country_b: Annotated[
        str | None,
        typer.Option("--country-b", help="The second account's country (default: --country)."),
    ] = None,
) -> None:
    """Whether two accounts are the same customer: the decision, the score and the reasons."""
    from partnerscope.identity import check

    verdict = check(
        name_a,
        name_b,
        domain_a=domain,
        domain_b=domain_b if domain_b is not None else domain,
        country_a=country,
        country_b=country_b if country_b is not None else country,
        rules=_rules(ctx),
    )
    _print_verdict(verdict)


def _counts_row(kind: str, c: Counts) -> list[str]:
    return [
        kind,
        str(c.pairs),
        str(c.tp + c.fn),
        str(c.tp),
        str(c.fp),
        str(c.fn),
        str(c.tn),
        str(c.review_same + c.review_different),
        _percent(c.precision) if c.tp + c.fp else "–",
        _percent(c.recall) if c.tp + c.fn else "–",
    ]


@identity_app.command("measure")
def identity_measure(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV of labelled pairs: name_a, domain_a, country_a, name_b, domain_b, "
            "country_b, same_account (1 or 0), and optionally kind and note."
        ),
    ],
    wrong: Annotated[
        bool, typer.Option("--wrong", help="Also list every pair the engine gets wrong.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Precision and recall on labelled pairs, overall and by kind of pair (a pair left to a
    person counts as not matched)."""
    from partnerscope.identity.measure import kinds_in_order, measure

    found = measure(file, _rules(ctx))
    table = Table(title=f"Account identity on {file.name}")
    for header in (
        "kind",
        "pairs",
        "same",
        "matched",
        "wrongly matched",
        "missed",
        "rightly apart",
        "left to a person",
        "precision",
        "recall",
    ):
        table.add_column(header, justify="left" if header == "kind" else "right")
    for kind in kinds_in_order(found):
        table.add_row(*_counts_row(kind, found.by_kind[kind]))
    table.add_row(*_counts_row("all", found.total), style="bold")
    show(table, fmt)
    total = found.total
    note(
        fmt,
        f"{total.pairs} pairs: precision {_percent(total.precision)}, recall "
        f"{_percent(total.recall)}; {total.review_same + total.review_different} left to a "
        "person (counted as not matched).",
    )
    if wrong:
        for o in found.wrong:
            label = "missed" if o.same else "wrongly matched"
            note(
                fmt,
                f"row {o.row} ({o.kind}, {label}): {escape(o.cells['name_a'])} / "
                f"{escape(o.cells['name_b'])} — {escape('; '.join(o.verdict.reasons))}",
            )


@identity_app.command("review")
def identity_review(
    ctx: typer.Context,
    decided: Annotated[
        bool, typer.Option("--decided", help="Also list the pairs already decided.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The review queue: pairs of accounts the engine is unsure of, for a person to decide
    with `identity decide`."""
    from partnerscope.operations import identity

    found = identity.pairs(state(ctx).workspace(), include_decided=decided)
    table = Table(title="Account pairs for a person to decide")
    for header in ("pair", "account", "other account", "score", "why", "decided"):
        table.add_column(header, justify="right" if header == "score" else "left")
    for p in found:
        table.add_row(
            p.pair_id,
            f"{p.a.name} ({p.a.account_id}{', ' + p.a.country if p.a.country else ''})",
            f"{p.b.name} ({p.b.account_id}{', ' + p.b.country if p.b.country else ''})",
            _percent(p.verdict.score),
            "; ".join(p.verdict.reasons),
            f"{DECISION_WORDS[p.decided.value]} ({p.decided_by})" if p.decided else "",
        )
    show(table, fmt)
    note(
        fmt,
        f"{len(found)} pair(s). Decide one: `partnerscope identity decide PAIR same` or "
        '`... different --reason "..."`.',
    )


@identity_app.command("decide")
def identity_decide(
    ctx: typer.Context,
    pair: Annotated[str, typer.Argument(help="The pair's id (see `identity review`).")],
    decision: Annotated[str, typer.Argument(help="same or different.")],
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="Why (kept in the audit log).")
    ] = None,
    by: By = None,
) -> None:
    """Decide a pair of the review queue: the same customer, or two. Applied on the next
    resolve (channel conflict, registrations)."""
    from partnerscope.operations import identity

    found = identity.decide(state(ctx).workspace(), pair, decision, by=actor(by), reason=reason)
    words = DECISION_WORDS[found.decided.value] if found.decided else ""
    console.print(
        f"Decided pair {found.pair_id}: {escape(found.a.name)} and {escape(found.b.name)} are "
        f"{words}."
    )
