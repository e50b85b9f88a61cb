"""`partnerscope applications`: applications to join the program — invitation links, add and
import, the assessment (owner, scores with evidence, weighted score, market-map suggestion),
approve (the applicant becomes a partner and starts onboarding) or reject with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

if TYPE_CHECKING:
    from partnerscope.lifecycle.applications import Assessment

applications_app = typer.Typer(
    no_args_is_help=True,
    help="Applications to join the program: invitation links, add and import, the "
    "qualification (scores with evidence, weighted in [qualification]), approve with the "
    "initial program tier (the applicant becomes a partner and starts onboarding) or reject.",
)
app.add_typer(applications_app, name="applications")

ApplicationId = Annotated[
    int, typer.Argument(help="The application's number (see `applications list`).", min=1)
]


def _read_one(path: Path) -> dict[str, Any]:
    """One application's fields from a JSON or TOML file."""
    import json
    import tomllib

    from partnerscope.errors import DataFileError

    if not path.is_file():
        raise DataFileError(f"{path}: file not found")
    try:
        if path.suffix.lower() == ".json":
            found = json.loads(path.read_text(encoding="utf-8"))
        else:
            found = tomllib.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(
            f"{path}: not a JSON or TOML document ({exc}); write one application's fields, "
            'e.g. company = "Nordlicht IT"'
        ) from None
    if not isinstance(found, dict):
        raise DataFileError(f"{path}: expected one application's fields as an object")
    return {str(k): v if v is None else str(v) for k, v in found.items()}


@applications_app.command("invite")
def applications_invite(
    ctx: typer.Context,
    company: Annotated[
        str | None, typer.Option("--company", help="Who the link is for (shown on the form).")
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Their contact's email.")] = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", help="Days the link is valid (default [qualification] invite_days)."
        ),
    ] = None,
    by: By = None,
) -> None:
    """A link to the application form for a prospective partner (one application, expires)."""
    from partnerscope.lifecycle import applications

    made = applications.invite(
        state(ctx).workspace(), by=actor(by), company=company, email=email, days=days
    )
    console.print(
        f"Invitation link{' for ' + escape(made.company) if made.company else ''} (one "
        f"application, valid until {made.expires_at:%Y-%m-%d %H:%M} UTC): {made.link}",
        soft_wrap=True,
    )
    console.print("Put the web app's address before it (where `partnerscope serve` answers).")
    console.print("Only its hash is kept: copy it now, it cannot be shown again.")


@applications_app.command("add")
def applications_add(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option("--company", help="The company.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="The contact's name.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="The contact's email.")] = None,
    website: Annotated[str | None, typer.Option("--website", help="Their website.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Their country.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Their sales region.")] = None,
    vertical: Annotated[
        str | None, typer.Option("--vertical", help="The industry they serve.")
    ] = None,
    partner_type: Annotated[
        str | None,
        typer.Option("--partner-type", help="var, si, distributor, oem, msp, retailer, ..."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="What they do.")] = None,
    employees: Annotated[str | None, typer.Option("--employees", help="Headcount.")] = None,
    certifications: Annotated[
        str | None, typer.Option("--certifications", help="Certifications they hold.")
    ] = None,
    references: Annotated[
        str | None, typer.Option("--references", help="References they give.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from", help="A JSON or TOML file of the fields (the flags given override it)."
        ),
    ] = None,
    by: By = None,
) -> None:
    """Add an application (e.g. one received by email)."""
    from partnerscope.lifecycle import applications

    raw = _read_one(from_file) if from_file is not None else {}
    flags = {
        "company": company,
        "contact_name": contact,
        "contact_email": email,
        "website": website,
        "country": country,
        "region": region,
        "vertical": vertical,
        "partner_type": partner_type,
        "description": description,
        "employees": employees,
        "certifications": certifications,
        "references": references,
    }
    raw.update({k: v for k, v in flags.items() if v is not None})
    made = applications.submit(
        state(ctx).workspace(), raw, by=actor(by), source=applications.Source.CLI
    )
    console.print(f"Added {made.ref}: {escape(made.company)}.")
    console.print(
        f"Next: `partnerscope applications own {made.application_id} --owner NAME` and "
        f"`partnerscope applications score {made.application_id} CRITERION SCORE --evidence TEXT`."
    )


@applications_app.command("import")
def applications_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV or XLSX file, one application a row (columns company, contact_name, "
            "contact_email, country, vertical, partner_type, ... and optionally application_id)."
        ),
    ],
    by: By = None,
) -> None:
    """Import the applications a team keeps in a spreadsheet: every row or none; a row
    imported before is left as it is."""
    from partnerscope.lifecycle import applications

    done = applications.import_file(state(ctx).workspace(), file, by=actor(by))
    console.print(str(done))


def _score_text(found: float | None, scale: int) -> str:
    return "—" if found is None else f"{found:.2f} of {scale}"


@applications_app.command("list")
def applications_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="submitted, approved or rejected.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The applications, newest first, with their weighted score and owner."""
    from partnerscope.errors import PartnerscopeError
    from partnerscope.lifecycle import applications

    ws = state(ctx).workspace()
    wanted = None
    if status:
        try:
            wanted = applications.Status(status.strip().lower())
        except ValueError:
            raise PartnerscopeError(
                f"--status: {status!r} is not a status; use submitted, approved or rejected"
            ) from None
    table = Table(title="Applications")
    for header in ("#", "Company", "Country", "Vertical", "Status", "Score", "Missing", "Owner"):
        table.add_column(header)
    for found in applications.listing(ws, wanted, owner):
        judged = applications.assessment(ws, found.application_id, suggest=False)
        table.add_row(
            str(found.application_id),
            escape(found.company),
            escape(found.country or ""),
            escape(found.vertical or ""),
            found.status.value,
            _score_text(judged.weighted, judged.scale),
            escape("; ".join(judged.missing)),
            escape(found.owner or ""),
        )
    show(table, fmt)


def _print(judged: Assessment) -> None:
    found = judged.application
    console.print(f"[bold]{found.ref}: {escape(found.company)}[/] — {escape(found.where())}")
    console.print(
        f"  {escape(found.contact_name)} <{escape(found.contact_email)}>, "
        f"{escape(found.country or '?')}, {escape(found.vertical or '?')}, "
        f"{escape(found.partner_type or '?')}; owner: {escape(found.owner or 'none')}"
    )
    if found.reason:
        console.print(f"  reason: {escape(found.reason)}")
    table = Table(title="Assessment")
    for header in ("Criterion", "Weight", "Required", "Score", "Evidence", "By"):
        table.add_column(header)
    for s in judged.scores:
        table.add_row(
            escape(s.label),
            f"{s.weight:g}",
            "yes" if s.required else "",
            "—" if s.score is None else f"{s.score:g}",
            escape(s.evidence or ""),
            escape(s.scored_by or ""),
        )
    console.print(table)
    console.print(f"Weighted score: {_score_text(judged.weighted, judged.scale)}")
    console.print(f"Recommendation: {escape(judged.recommendation)}")
    if judged.missing:
        console.print(f"Missing before approval: {escape('; '.join(judged.missing))}")
    if judged.suggestion:
        console.print(f"Market map suggests for market fit: {escape(judged.suggestion)}")


@applications_app.command("show")
def applications_show(ctx: typer.Context, application_id: ApplicationId) -> None:
    """One application with its assessment."""
    from partnerscope.lifecycle import applications

    _print(applications.assessment(state(ctx).workspace(), application_id))


@applications_app.command("own")
def applications_own(
    ctx: typer.Context,
    application_id: ApplicationId,
    owner: Annotated[str, typer.Option("--owner", help="The staff member who owns it.")],
    by: By = None,
) -> None:
    """Set the staff member who owns the assessment (needed before a decision)."""
    from partnerscope.lifecycle import applications

    found = applications.set_owner(state(ctx).workspace(), application_id, owner, by=actor(by))
    console.print(f"{found.ref} is owned by {escape(found.owner or '')}.")


@applications_app.command("score")
def applications_score(
    ctx: typer.Context,
    application_id: ApplicationId,
    criterion: Annotated[str, typer.Argument(help="A criterion of [qualification.criteria].")],
    score: Annotated[str, typer.Argument(help="A whole number from 1 to [qualification] scale.")],
    evidence: Annotated[str, typer.Option("--evidence", "-e", help="What the score rests on.")],
    by: By = None,
) -> None:
    """Score one criterion with its evidence (again: replaces the score)."""
    from partnerscope.lifecycle import applications

    judged = applications.score(
        state(ctx).workspace(), application_id, criterion, score, evidence, by=actor(by)
    )
    console.print(
        f"Scored. Weighted score: {_score_text(judged.weighted, judged.scale)}; "
        f"{escape(judged.recommendation)}."
    )


@applications_app.command("approve")
def applications_approve(
    ctx: typer.Context,
    application_id: ApplicationId,
    tier: Annotated[str, typer.Option("--tier", help="The initial program tier.")],
    partner_id: Annotated[
        str | None,
        typer.Option("--partner-id", help="The new partner's id (default: the next free one)."),
    ] = None,
    manager: Annotated[
        str | None,
        typer.Option("--manager", help="Its partner manager (default: the owner)."),
    ] = None,
    by: By = None,
) -> None:
    """Approve: the applicant becomes a partner at the tier and its onboarding starts today."""
    from partnerscope.lifecycle import applications

    found = applications.approve(
        state(ctx).workspace(),
        application_id,
        by=actor(by),
        program_tier=tier,
        partner_id=partner_id,
        partner_manager=manager,
    )
    console.print(
        f"Approved {found.ref}: {escape(found.company)} is partner {found.partner_id} "
        f"({escape(found.program_tier or '')}); its onboarding started. The next "
        "`partnerscope run` adds it to the partners."
    )


@applications_app.command("reject")
def applications_reject(
    ctx: typer.Context,
    application_id: ApplicationId,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept with the decision).")],
    by: By = None,
) -> None:
    """Reject an application with the reason."""
    from partnerscope.lifecycle import applications

    found = applications.reject(state(ctx).workspace(), application_id, by=actor(by), reason=reason)
    console.print(f"Rejected {found.ref}: {escape(found.company)}.")
