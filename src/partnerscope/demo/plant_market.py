"""The demo's market (being built: docs/lifecycle.md)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def plant(ws: Workspace, *, today: date, seed: int) -> list[str]:
    """What the demo plants (before its run), one line each."""
    return []


def found(ws: Workspace) -> list[str]:
    """What the product found of it (after the run), one line each."""
    return []
