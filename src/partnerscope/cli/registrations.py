"""`partnerscope registrations`: deal registration — submit with conflict detection, approve
(protection window) or reject, won, expiry sweep with warnings, list and show."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.operations.registrations import Conflict, Registration
    from partnerscope.present import Words

registrations_app = typer.Typer(
    no_args_is_help=True,
    help="Deal registration: partners register opportunities, conflicts with other partners' "
    "registrations and direct opportunities are found by account name and domain, the first "
    "valid registration is protected for a window, then won or expired.",
)
app.add_typer(registrations_app, name="registrations")

RegistrationId = Annotated[
    int, typer.Argument(help="The registration's number (see `registrations list`).")
]


def _money(words: Words, registration: Registration) -> str:
    """The deal's amount to the cent with the workspace currency: ``$25,000.00``."""
    return words.money(registration.amount, cents=True)


def _words(ctx: typer.Context) -> Words:
    words: Words = state(ctx).workspace().words
    return words


def _print_conflicts(conflicts: tuple[Conflict, ...]) -> None:
    for conflict in conflicts:
        console.print(f"  [yellow]conflict:[/] {escape(conflict.describe())}")


@registrations_app.command("submit")
def registrations_submit(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner registering the deal.")],
    account: Annotated[str, typer.Option("--account", "-n", help="The customer's name.")],
    amount: Annotated[
        str, typer.Option("--amount", "-a", help="The deal's amount in the base currency.")
    ],
    close: Annotated[
        datetime,
        typer.Option("--close", "-c", formats=["%Y-%m-%d"], help="Expected close date."),
    ],
    domain: Annotated[
        str | None, typer.Option("--domain", "-d", help="The customer's web domain.")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="The customer's country (name or code).")
    ] = None,
    product: Annotated[
        list[str] | None, typer.Option("--product", "-p", help="A product (repeat for more).")
    ] = None,
    by: By = None,
) -> None:
    """Register a deal (its conflicts are recorded and shown)."""
    from partnerscope.operations import registrations

    shown = registrations.submit(
        state(ctx).workspace(),
        partner_id,
        account_name=account,
        amount=amount,
        expected_close=close.date(),
        domain=domain,
        country=country,
        products=product or (),
        by=actor(by),
    )
    found = shown.registration
    console.print(
        f"Submitted {found.ref}: {escape(found.account_name)} for {found.partner_id}, "
        f"{_money(_words(ctx), found)}, expected to close {found.expected_close}."
    )
    _print_conflicts(shown.conflicts)
    if shown.conflicts:
        console.print(
            "It cannot be approved while an earlier conflicting registration is live or a "
            "direct opportunity is open for the account."
        )
    console.print(
        f"Next: `partnerscope registrations approve {found.registration_id}` or `reject`."
    )


@registrations_app.command("approve")
def registrations_approve(
    ctx: typer.Context, registration_id: RegistrationId, by: By = None
) -> None:
    """Approve a registration: it is protected for the configured protection_days."""
    from partnerscope.operations import registrations

    found = registrations.approve(state(ctx).workspace(), registration_id, by=actor(by))
    console.print(f"Approved {found.ref}: protected until {found.protected_until}.")


@registrations_app.command("reject")
def registrations_reject(
    ctx: typer.Context,
    registration_id: RegistrationId,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (the partner is told).")],
    by: By = None,
) -> None:
    """Reject a submitted registration."""
    from partnerscope.operations import registrations

    found = registrations.reject(
        state(ctx).workspace(), registration_id, reason=reason, by=actor(by)
    )
    console.print(f"Rejected {found.ref}: {escape(found.reason or '')}")


@registrations_app.command("won")
def registrations_won(
    ctx: typer.Context,
    registration_id: RegistrationId,
    crm_id: Annotated[
        str | None,
        typer.Option("--crm-id", help="The CRM opportunity that holds the won deal, if any."),
    ] = None,
    by: By = None,
) -> None:
    """Record that a protected registration's deal was won."""
    from partnerscope.operations import registrations

    found = registrations.mark_won(
        state(ctx).workspace(), registration_id, crm_opportunity_id=crm_id, by=actor(by)
    )
    linked = f" (CRM opportunity {escape(crm_id)})" if crm_id else ""
    console.print(f"Won {found.ref}: {_money(_words(ctx), found)}{linked}.")


@registrations_app.command("sweep")
def registrations_sweep(ctx: typer.Context, by: By = None) -> None:
    """Expire registrations whose protection has ended; list those ending soon."""
    from partnerscope.operations import registrations

    workspace = state(ctx).workspace()
    result = registrations.sweep(workspace, by=actor(by))
    for found in result.expired:
        console.print(
            f"Expired {found.ref} ({found.partner_id}, {escape(found.account_name)}): "
            f"protected until {found.protected_until}."
        )
    for item in result.expiring:
        found = item.registration
        console.print(
            f"[yellow]Ends in {item.days_left} day(s):[/] {found.ref} ({found.partner_id}, "
            f"{escape(found.account_name)}), protected until {found.protected_until}."
        )
    days = workspace.config.registration.warning_days
    console.print(
        f"{len(result.expired)} expired, {len(result.expiring)} ending within {days} days"
    )


@registrations_app.command("list")
def registrations_list(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Option(help="Only this partner's.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="Only those in this state: submitted, protected, rejected, won, expired."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The registrations and where each stands."""
    from partnerscope.operations import registrations
    from partnerscope.warehouse import partner_names

    ws = state(ctx).workspace()
    words = ws.words
    found = registrations.registrations(ws, partner=partner, status=status)
    names = partner_names(ws)
    table = Table(
        "#", "partner", "account", "domain", "country", "amount", "close", "status", "until"
    )
    for item in found:
        name = names.get(item.partner_id)
        table.add_row(
            str(item.registration_id),
            escape(f"{name} ({item.partner_id})" if name else item.partner_id),
            escape(item.account_name),
            item.domain or "—",
            item.country or "—",
            _money(words, item),
            str(item.expected_close),
            item.status.value,
            str(item.protected_until or "—"),
        )
    show(table, fmt)
    note(fmt, f"{len(found)} registration(s)")


@registrations_app.command("show")
def registrations_show(ctx: typer.Context, registration_id: RegistrationId) -> None:
    """One registration, where it stands and what it conflicts with."""
    from partnerscope.operations import registrations

    shown = registrations.detail(state(ctx).workspace(), registration_id)
    found = shown.registration
    console.print(f"[bold]{found.ref}[/] of {found.partner_id}: {escape(found.account_name)}")
    console.print(
        f"  domain {found.domain or '—'}, country {found.country or '—'}, "
        f"{_money(_words(ctx), found)}, "
        f"expected close {found.expected_close}, products "
        f"{escape(', '.join(found.products)) or '—'}"
    )
    console.print(f"  It {escape(found.where())}.")
    if found.crm_opportunity_id:
        console.print(f"  CRM opportunity {escape(found.crm_opportunity_id)}")
    _print_conflicts(shown.conflicts)
    for later in shown.later:
        console.print(
            f"  [yellow]later conflicting:[/] {later.ref} of {later.partner_id} "
            f"({escape(later.account_name)}, {later.status.value})"
        )
    if not shown.conflicts and not shown.later:
        console.print("  No conflicts.")
