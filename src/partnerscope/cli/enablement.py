"""`partnerscope enablement`: the certification paths as configured, each partner's gaps
against its tier and the next one, and the certifications expiring soon."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from partnerscope.cli.app import app, state
from partnerscope.cli.output import FormatOption, OutputFormat, note, show

if TYPE_CHECKING:
    from partnerscope.lifecycle.enablement import Gap

enablement_app = typer.Typer(
    no_args_is_help=True,
    help="Enablement paths: the certification levels of the sales and technical paths, each "
    "partner's gaps against its program tier and the next one, and expiring certifications.",
)
app.add_typer(enablement_app, name="enablement")

OnOption = Annotated[
    datetime | None,
    typer.Option(
        "--on",
        formats=["%Y-%m-%d"],
        help="The day to judge (default: the latest run's as-of date, else today).",
    ),
]


def _day(on: datetime | None) -> date | None:
    return on.date() if on else None


def _names(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names) if names else "—"


@enablement_app.command("paths")
def enablement_paths(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """The certification levels of each path, as configured in [enablement]."""
    from partnerscope.lifecycle.enablement import framework, requirements, tier_order

    ws = state(ctx).workspace()
    fw = framework(ws)
    required = requirements(ws, fw)
    order = tier_order(fw, required)
    tiers = {level: [t for t in order if level in required.get(t, [])] for level in fw.levels}
    table = Table("path", "rank", "level", "requires", "valid for", "renewal window", "tiers")
    for label, levels in fw.paths().values():
        for level in levels:
            months = level.validity_months
            table.add_row(
                escape(label),
                str(level.rank),
                escape(level.name),
                escape(_names(level.requires)),
                f"{months} months" if months else "never lapses",
                f"{level.renewal_window_days} days before expiry",
                escape(_names(tiers[level.name])),
            )
    show(table, fmt)
    if order:
        note(fmt, "Tier order, lowest first: " + escape(" → ".join(order)))


@enablement_app.command("gaps")
def enablement_gaps(
    ctx: typer.Context,
    partner_id: Annotated[
        str | None, typer.Argument(help="One partner's paths and gaps (default: every partner).")
    ] = None,
    on: OnOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Each partner's gaps: the certifications its tier requires that nobody at it holds, what
    the next tier needs besides, and the highest level held on each path."""
    from partnerscope.lifecycle.enablement import all_gaps, partner_gaps

    ws = state(ctx).workspace()
    if partner_id is not None:
        one = partner_gaps(ws, partner_id, _day(on))
        tier, upper = one.tier or "its tier", one.next_tier or "the next tier"
        table = Table(
            "path", "level", "people holding it", "status", f"{tier} requires", f"{upper} requires"
        )
        missing = {g.name for g in one.missing}
        beyond = {g.name for g in one.next_missing}
        for path in one.paths:
            for level in path.levels:
                if level.held:
                    status = "held"
                elif level.needs:
                    status = f"needs {_names(level.needs)} first"
                else:
                    status = "not held"
                required = level.name in one.required
                table.add_row(
                    escape(path.label),
                    escape(level.name),
                    str(level.people),
                    escape(status),
                    ("missing" if level.name in missing else "yes") if required else "—",
                    "missing"
                    if level.name in beyond
                    else ("yes" if level.name in one.next_required else "—"),
                )
        show(table, fmt)
        words = ws.words
        note(fmt, f"{escape(one.partner)} ({one.partner_id}), on {words.date(one.on)}:")
        note(fmt, "  " + escape(_tier_line(one.tier, one.required, one.missing)))
        if one.next_tier:
            more = (
                _names([g.describe() for g in one.next_missing])
                if one.next_missing
                else "nothing more"
            )
            note(fmt, f"  For {escape(one.next_tier)}: {escape(more)}")
        for e in one.expiring:
            note(
                fmt,
                f"  Expiring: {escape(e.person_id)}'s {escape(e.name)} on {words.date(e.expires)}",
            )
        for e in one.lapsed:
            note(
                fmt,
                f"  Lapsed, not renewed: {escape(e.person_id)}'s {escape(e.name)} "
                f"on {words.date(e.expires)}",
            )
        return
    found = all_gaps(ws, _day(on))
    table = Table(
        "partner",
        "tier",
        "held of required",
        "missing for its tier",
        "next tier",
        "next tier also needs",
        "expiring",
    )
    for g in found:
        table.add_row(
            escape(f"{g.partner} ({g.partner_id})"),
            escape(g.tier or "—"),
            f"{g.held_required} of {len(g.required)}" if g.required else "none required",
            escape(_names([x.describe() for x in g.missing])),
            escape(g.next_tier or "—"),
            escape(_names([x.describe() for x in g.next_missing])) if g.next_tier else "—",
            str(len(g.expiring)),
        )
    show(table, fmt)
    short = sum(1 for g in found if g.missing)
    day = found[0].on if found else None
    on_day = f" on {ws.words.date(day)}" if day else ""
    note(
        fmt, f"{short} of {len(found)} partner(s) miss a certification their tier requires{on_day}"
    )


def _tier_line(tier: str | None, required: tuple[str, ...], missing: tuple[Gap, ...]) -> str:
    if not tier:
        return "No program tier in the data: nothing is required."
    if not required:
        return f"{tier} requires no certification."
    if not missing:
        return f"{tier}: all {len(required)} required certifications are held."
    gaps = [g.describe() for g in missing]
    return f"{tier}: {len(required) - len(gaps)} of {len(required)} held; missing {_names(gaps)}."


@enablement_app.command("expiring")
def enablement_expiring(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", help="Within this many days (default: [enablement] expiry_warning_days)."
        ),
    ] = None,
    partner: Annotated[str | None, typer.Option(help="Only this partner's.")] = None,
    on: OnOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The certifications expiring soon and not renewed yet, soonest first."""
    from partnerscope.lifecycle.enablement import default_day, expiring, partner_gaps

    ws = state(ctx).workspace()
    day = _day(on) or default_day(ws)
    if partner is not None:
        partner_gaps(ws, partner, day)  # refuses an unknown partner
    found = expiring(ws, day, days, [partner] if partner else None)
    words = ws.words
    table = Table("partner", "person", "certification", "expires", "in days")
    for e in found:
        table.add_row(
            escape(f"{e.partner} ({e.partner_id})"),
            escape(e.person_id),
            escape(e.name),
            words.date(e.expires),
            str(e.days),
        )
    show(table, fmt)
    window = days or ws.config.enablement.expiry_warning_days
    note(fmt, f"{len(found)} certification(s) expiring within {window} days of {words.date(day)}")
