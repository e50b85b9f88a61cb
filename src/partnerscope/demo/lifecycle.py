"""The demo's partner lifecycle: each part plants its story in the transactional store before
the demo's run (applicants, onboarding histories, business plans ...) and says afterwards what
the product found of it.

``plant(ws, today=..., seed=...)`` of each part runs after the ingest and before the run (so the
run posts and tracks what was planted) and returns what it planted, one line each;
``found(ws)`` runs after the run and returns what the product found, one line each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

Plant = Callable[..., list[str]]


def parts() -> list[tuple[str, Plant, Callable[[Workspace], list[str]]]]:
    """(title, plant, found) of each part, in the lifecycle's order."""
    from partnerscope.demo import (
        plant_applications,
        plant_business_plans,
        plant_enablement,
        plant_market,
        plant_measures,
        plant_onboarding,
    )

    return [
        ("Market map", plant_market.plant, plant_market.found),
        ("Applications", plant_applications.plant, plant_applications.found),
        ("Onboarding", plant_onboarding.plant, plant_onboarding.found),
        ("Enablement", plant_enablement.plant, plant_enablement.found),
        ("Business plans", plant_business_plans.plant, plant_business_plans.found),
        ("Service, retention, coverage", plant_measures.plant, plant_measures.found),
    ]


def plant(ws: Workspace, *, today: date, seed: int) -> dict[str, list[str]]:
    """Plant every part's story; title → what it planted."""
    return {title: do(ws, today=today, seed=seed) for title, do, _ in parts()}


def found(ws: Workspace) -> dict[str, list[str]]:
    """What the product found of each part's story, after the run; title → lines."""
    return {title: look(ws) for title, _, look in parts()}
