"""Certification paths and each partner's gaps (being built: docs/lifecycle.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.ingest.facts import Facts
    from partnerscope.workspace import Workspace


def tier_requirements(workspace: Workspace) -> Facts | None:
    """The certifications each program tier requires by ``[enablement]`` as rows of the
    canonical ``certification_requirements`` table; None when the configuration names none."""
    return None
