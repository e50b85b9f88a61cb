"""Facts partnerscope keeps itself, as files the ingest loader loads like any export: what a
run posts to the warehouse before it computes (approved payout ledgers, MDF requests, routed
leads, registered deals), so that the metrics read them without a manual step.

Each module gives its facts as a :class:`Facts` (one file of one canonical entity) from a
producer function kept next to its data; the pipeline (:func:`partnerscope.pipeline.post`)
writes and loads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.config import SourceConfig
    from partnerscope.workspace import Workspace


@dataclass(frozen=True)
class Facts:
    """One file of facts to post."""

    source: str
    entity: str
    path: Path
    columns: tuple[str, ...]
    content: str
    #: what it holds, in words: "12 incentive costs of 2 approved ledgers"
    described: str
    #: how many rows it holds (none and no file yet: nothing to post)
    rows: int
    #: the file holds every row it stands for: a row posted from it before and gone from it
    #: is removed from the warehouse
    complete: bool = False

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()

    def source_config(self) -> SourceConfig:
        from partnerscope.config import SourceConfig

        return SourceConfig(
            entity=self.entity,
            path=str(self.path),
            format="csv",
            encoding="utf-8",
            delimiter=",",
            # every cell is written by partnerscope: an activity named "N/A" stays a name
            null_values=(),
            typed_null_values=(),
            columns={c: c for c in self.columns},
        )


#: gives a module's facts of one kind (None: the module has none of that kind at all)
Producer = Callable[["Workspace"], "Facts | None"]


def folder(workspace: Workspace, module: str) -> Path:
    """Where ``module``'s posted files are kept: ``state/<module>/``."""
    return workspace.state_dir / module


def plural(count: int, noun: str) -> str:
    """``1 MDF request``, ``2 MDF requests``."""
    return f"{count:,} {noun}{'s' * (count != 1)}"


def cell(value: Any) -> str:
    """A value of a canonical row as written to a posted file: times in UTC with their offset
    (a naive time is UTC), booleans as true/false, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="seconds") + "+00:00"
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        from partnerscope.amounts import text

        return text(value)
    return str(value)
