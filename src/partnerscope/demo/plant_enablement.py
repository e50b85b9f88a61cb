"""The demo's enablement: its certifications already follow the default paths (the generator
names them after the levels, demo/programs.py), so nothing is planted; the lines say what the
data brings and, after the run, what the product found of it (docs/lifecycle.md, "Enablement
paths")."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the data brings of the paths (nothing is planted), one line."""
    from partnerscope.ingest.facts import plural
    from partnerscope.lifecycle.enablement import framework, records

    fw = framework(ws)
    found = records(ws, fw)
    on_paths = [r for r in found if r.is_level]
    if not found:
        return []
    people = len({(r.partner_id, r.person_id) for r in on_paths})
    return [
        f"{plural(len(on_paths), 'certification')} of {people:,} "
        f"{'person' if people == 1 else 'people'} on the "
        f"{len(fw.paths())} paths ({', '.join(p[0].lower() for p in fw.paths().values())}"
        f"), {len(fw.levels)} levels; nothing planted"
    ]


def found(ws: Workspace) -> list[str]:
    """Partners with gaps to their own tier and the certifications expiring soon, after the
    run (judged on its as-of date)."""
    from partnerscope.lifecycle.enablement import all_gaps, default_day, expiring

    on = default_day(ws)
    gaps = all_gaps(ws, on)
    if not gaps:
        return []
    short = sum(1 for g in gaps if g.missing)
    days = ws.config.enablement.expiry_warning_days
    soon = expiring(ws, on, days)
    return [
        f"{short:,} of {len(gaps):,} partners miss a certification their tier requires",
        f"{len(soon):,} certifications expire within {days} days of {ws.words.date(on)} "
        "without a renewal",
    ]
