"""Applications to join the program and their qualification (being built: docs/lifecycle.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.ingest.facts import Facts
    from partnerscope.workspace import Workspace


def joined_partners(workspace: Workspace) -> Facts | None:
    """The approved applicants as rows of the canonical ``partners`` table (posted by
    :func:`partnerscope.pipeline.post`); None while there are none."""
    return None
