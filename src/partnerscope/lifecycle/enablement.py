"""Certification paths and each partner's gaps (docs/lifecycle.md, "Enablement paths")."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from partnerscope.ingest.facts import Facts
    from partnerscope.workspace import Workspace


def certifications_held(workspace: Workspace, partner_id: str, on: date) -> set[str]:
    """The names of the certifications someone at the partner validly holds on ``on``, from the
    warehouse's ``certifications``: issued on or before that day and not expired on it.

    A certification whose ``expires_at`` is that very day is no longer held on it (the same
    rule as the metric ``certified_people``: held while ``expires_at`` is after the day). The
    names are the workspace's own; an empty set when the warehouse has none yet."""
    from partnerscope.warehouse import read_warehouse

    if not workspace.warehouse_path.is_file():
        return set()
    rows = read_warehouse(
        workspace,
        "SELECT DISTINCT certification FROM certifications WHERE partner_id = ? "
        "AND issued_at <= ? AND (expires_at IS NULL OR expires_at > ?)",
        [partner_id, on, on],
    )
    return {str(r[0]) for r in rows}


def tier_requirements(workspace: Workspace) -> Facts | None:
    """The certifications each program tier requires by ``[enablement]`` as rows of the
    canonical ``certification_requirements`` table; None when the configuration names none."""
    return None
