"""`partnerscope business-plans`: joint business plans per partner and fiscal year — create,
edit, quarterly milestones on catalog metrics, agree, import from a spreadsheet, and each
milestone's status against the latest run (met, missed, on track, at risk, upcoming)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import By, actor, app, console, state
from partnerscope.cli.output import FormatOption, OutputFormat, show

if TYPE_CHECKING:
    from partnerscope.lifecycle.business_plans import Plan

plans_app = typer.Typer(
    no_args_is_help=True,
    help="Joint business plans: per partner and fiscal year, target markets and products, "
    "each side's commitments and co-investment, and quarterly milestones on the partner's "
    "metrics that every run tracks (met, missed, on track, at risk).",
)
app.add_typer(plans_app, name="business-plans")
milestone_app = typer.Typer(no_args_is_help=True, help="A plan's quarterly milestones.")
plans_app.add_typer(milestone_app, name="milestone")

PartnerId = Annotated[str, typer.Argument(help="The partner's id.")]
Year = Annotated[
    str | None,
    typer.Option(
        "--year", "-y", help="The plan's fiscal year (2026 or FY2026; default: the current one)."
    ),
]
Quarter = Annotated[
    str, typer.Option("--quarter", "-q", help="The fiscal quarter: 1-4, Q2 or FY2026-Q2.")
]
Metric = Annotated[
    str,
    typer.Option(
        "--metric", "-m", help="The measure: a catalog metric (key or label, e.g. won_revenue)."
    ),
]
Markets = Annotated[
    list[str] | None, typer.Option("--market", help="A target market (repeat for more).")
]
Products = Annotated[
    list[str] | None, typer.Option("--product", help="A target product (repeat for more).")
]
VendorCommitment = Annotated[
    list[str] | None,
    typer.Option("--vendor-commitment", help="What the vendor commits to (repeat for more)."),
]
PartnerCommitment = Annotated[
    list[str] | None,
    typer.Option("--partner-commitment", help="What the partner commits to (repeat for more)."),
]
Mdf = Annotated[str | None, typer.Option("--mdf", help="MDF co-investment in the base currency.")]
Presales = Annotated[str | None, typer.Option("--presales-days", help="Presales support in days.")]
Note = Annotated[
    str | None,
    typer.Option(
        "--internal-note", help="The vendor's note on the plan (never shown to the partner)."
    ),
]
VendorOwner = Annotated[str | None, typer.Option("--vendor-owner", help="The vendor's owner.")]
PartnerOwner = Annotated[str | None, typer.Option("--partner-owner", help="The partner's owner.")]


def _content(
    markets: list[str] | None,
    products: list[str] | None,
    vendor: list[str] | None,
    partner: list[str] | None,
    mdf: str | None,
    presales: str | None,
    note: str | None,
) -> dict[str, object]:
    given = {
        "target_markets": markets,
        "target_products": products,
        "vendor_commitments": vendor,
        "partner_commitments": partner,
        "mdf_amount": mdf,
        "presales_days": presales,
        "internal_note": note,
    }
    return {k: v for k, v in given.items() if v is not None}


def _changed(ctx: typer.Context, plan: Plan) -> None:
    from partnerscope.lifecycle import business_plans as bp

    versions = bp.history(state(ctx).workspace(), plan.partner_id, plan.fiscal_year)
    latest = versions[0]
    console.print(
        f"{escape(plan.partner_id)} FY{plan.fiscal_year} version {latest.version} "
        f"({plan.status}): {escape(latest.change)}"
    )


@plans_app.command("create")
def plans_create(
    ctx: typer.Context,
    partner_id: PartnerId,
    year: Annotated[str, typer.Option("--year", "-y", help="The fiscal year (2026 or FY2026).")],
    market: Markets = None,
    product: Products = None,
    vendor_commitment: VendorCommitment = None,
    partner_commitment: PartnerCommitment = None,
    mdf: Mdf = None,
    presales_days: Presales = None,
    internal_note: Note = None,
    vendor_owner: VendorOwner = None,
    partner_owner: PartnerOwner = None,
    by: By = None,
) -> None:
    """Create a partner's plan for a fiscal year (a draft)."""
    from partnerscope.lifecycle import business_plans as bp

    plan = bp.create(
        state(ctx).workspace(),
        partner_id,
        year,
        by=actor(by),
        vendor_owner=vendor_owner,
        partner_owner=partner_owner,
        content=_content(
            market,
            product,
            vendor_commitment,
            partner_commitment,
            mdf,
            presales_days,
            internal_note,
        ),
    )
    _changed(ctx, plan)
    console.print(
        f"Next: `partnerscope business-plans milestone add {partner_id} --year "
        f"{plan.fiscal_year} --quarter 1 --metric won_revenue --target 100000`"
    )


@plans_app.command("edit")
def plans_edit(
    ctx: typer.Context,
    partner_id: PartnerId,
    year: Year = None,
    market: Markets = None,
    product: Products = None,
    vendor_commitment: VendorCommitment = None,
    partner_commitment: PartnerCommitment = None,
    mdf: Mdf = None,
    presales_days: Presales = None,
    internal_note: Note = None,
    vendor_owner: VendorOwner = None,
    partner_owner: PartnerOwner = None,
    by: By = None,
) -> None:
    """Change a plan's fields (a list given replaces the plan's list)."""
    from partnerscope.lifecycle import business_plans as bp

    owners = {
        k: v
        for k, v in (("vendor_owner", vendor_owner), ("partner_owner", partner_owner))
        if v is not None
    }
    plan = bp.edit(
        state(ctx).workspace(),
        partner_id,
        year,
        by=actor(by),
        owners=owners,
        content=_content(
            market,
            product,
            vendor_commitment,
            partner_commitment,
            mdf,
            presales_days,
            internal_note,
        ),
    )
    _changed(ctx, plan)


@milestone_app.command("add")
def milestone_add(
    ctx: typer.Context,
    partner_id: PartnerId,
    quarter: Quarter,
    metric: Metric,
    target: Annotated[
        str, typer.Option("--target", "-t", help="The target: 120000, 120k, $120,000 or 30%.")
    ],
    year: Year = None,
    owner: Annotated[str | None, typer.Option(help="Who owns the milestone.")] = None,
    note: Annotated[str | None, typer.Option(help="A note (shown to the partner).")] = None,
    by: By = None,
) -> None:
    """Add a quarterly milestone to a plan."""
    from partnerscope.lifecycle import business_plans as bp

    plan = bp.set_milestone(
        state(ctx).workspace(),
        partner_id,
        year,
        quarter=quarter,
        metric=metric,
        target=target,
        owner=owner,
        note=note,
        by=actor(by),
        adding=True,
    )
    _changed(ctx, plan)


@milestone_app.command("set")
def milestone_set(
    ctx: typer.Context,
    partner_id: PartnerId,
    quarter: Quarter,
    metric: Metric,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The new target.")] = None,
    year: Year = None,
    owner: Annotated[str | None, typer.Option(help="Who owns the milestone.")] = None,
    note: Annotated[str | None, typer.Option(help="A note (shown to the partner).")] = None,
    by: By = None,
) -> None:
    """Change a milestone's target, owner or note."""
    from partnerscope.lifecycle import business_plans as bp

    plan = bp.set_milestone(
        state(ctx).workspace(),
        partner_id,
        year,
        quarter=quarter,
        metric=metric,
        target=target,
        owner=owner,
        note=note,
        by=actor(by),
        adding=False,
    )
    _changed(ctx, plan)


@milestone_app.command("remove")
def milestone_remove(
    ctx: typer.Context,
    partner_id: PartnerId,
    quarter: Quarter,
    metric: Metric,
    year: Year = None,
    by: By = None,
) -> None:
    """Remove a milestone from a plan."""
    from partnerscope.lifecycle import business_plans as bp

    plan = bp.remove_milestone(
        state(ctx).workspace(), partner_id, year, quarter=quarter, metric=metric, by=actor(by)
    )
    _changed(ctx, plan)


@plans_app.command("agree")
def plans_agree(
    ctx: typer.Context, partner_id: PartnerId, year: Year = None, by: By = None
) -> None:
    """Mark a plan agreed by both sides (a later change makes it a draft again)."""
    from partnerscope.lifecycle import business_plans as bp

    plan = bp.agree(state(ctx).workspace(), partner_id, year, by=actor(by))
    _changed(ctx, plan)


@plans_app.command("show")
def plans_show(
    ctx: typer.Context,
    partner_id: PartnerId,
    year: Year = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A plan: its content and each milestone with its status and the measured value."""
    from partnerscope.lifecycle import business_plans as bp

    ws = state(ctx).workspace()
    words = ws.words
    found = bp.plan_status(ws, partner_id, bp.check_year(year) if year else None)
    plan = found.plan
    if fmt is OutputFormat.table:
        console.print(
            f"[bold]{escape(found.partner_name)} ({plan.partner_id}) — joint business plan "
            f"FY{plan.fiscal_year}[/], version {plan.version}, {plan.status}"
        )
        for key, label in bp.LISTS.items():
            items = plan.content.get(key) or []
            if items:
                console.print(f"{label}: {escape('; '.join(items))}")
        if plan.content.get("mdf_amount") is not None:
            console.print(f"MDF co-investment: {words.money(plan.content['mdf_amount'])}")
        if plan.content.get("presales_days") is not None:
            console.print(f"Presales days: {words.number(plan.content['presales_days'])}")
        for key, label in bp.OWNERS.items():
            if getattr(plan, key):
                console.print(f"{label}: {escape(getattr(plan, key))}")
        if plan.content.get(bp.INTERNAL_NOTE):
            console.print(f"Internal note: {escape(plan.content[bp.INTERNAL_NOTE])}")
        if found.run_id is not None and found.as_of is not None:
            console.print(f"Tracked against run {found.run_id} (as of {words.date(found.as_of)})")
        else:
            console.print("No run yet: every milestone is upcoming until `partnerscope run`")
    table = Table("quarter", "measure", "target", "actual", "status", "owner", "note")
    for tracked in found.milestones:
        m = tracked.milestone
        table.add_row(
            tracked.period,
            words.metric(m.metric),
            words.of_metric(m.metric, m.target),
            words.of_metric(m.metric, tracked.actual) if tracked.actual is not None else "",
            tracked.status_words,
            escape(m.owner or ""),
            escape(m.note or ""),
        )
    show(table, fmt)


@plans_app.command("list")
def plans_list(
    ctx: typer.Context,
    year: Year = None,
    partner: Annotated[str | None, typer.Option(help="Only this partner's plans.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every plan, those with missed and at-risk milestones first."""
    from partnerscope.lifecycle import business_plans as bp

    ws = state(ctx).workspace()
    chosen = bp.plans(ws, partner)
    if year:
        wanted = bp.check_year(year)
        chosen = [p for p in chosen if p.fiscal_year == wanted]
    table = Table(
        "partner",
        "name",
        "year",
        "status",
        "version",
        "milestones",
        "met",
        "missed",
        "at risk",
        "on track",
        "upcoming",
    )
    for found in bp.statuses(ws, chosen):
        plan = found.plan
        table.add_row(
            plan.partner_id,
            escape(found.partner_name),
            f"FY{plan.fiscal_year}",
            plan.status,
            str(plan.version),
            str(len(found.milestones)),
            str(found.count(bp.MET)),
            str(found.count(bp.MISSED)),
            str(found.count(bp.AT_RISK)),
            str(found.count(bp.ON_TRACK)),
            str(found.count(bp.UPCOMING)),
        )
    show(table, fmt)


@plans_app.command("history")
def plans_history(
    ctx: typer.Context,
    partner_id: PartnerId,
    year: Year = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Who changed what in a plan, newest first."""
    from partnerscope.lifecycle import business_plans as bp

    ws = state(ctx).workspace()
    table = Table("version", "when", "by", "change")
    for version in bp.history(ws, partner_id, bp.check_year(year) if year else None):
        table.add_row(
            str(version.version),
            ws.words.moment(version.changed_at),
            escape(version.changed_by),
            escape(version.change),
        )
    show(table, fmt)


@plans_app.command("import")
def plans_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or XLSX, one row per milestone: partner_id, fiscal_year, quarter, "
            "metric, target (owner, note and the plan's fields optional)."
        ),
    ],
    by: By = None,
) -> None:
    """Import plans and milestones from a spreadsheet: all rows or none; again changes
    nothing."""
    from partnerscope.lifecycle import business_plans as bp

    done = bp.import_file(state(ctx).workspace(), file, by=actor(by))
    console.print(f"Imported {escape(file.name)}: {done.summary()}")
