"""Facts partnerscope keeps itself, in the warehouse: what ``partnerscope run`` posts before it
computes, so that the metrics read them without a manual step.

Each module gives its facts by a producer function kept next to its data (:func:`producers`):

- the money module: approved and paid payout ledgers as ``partner_costs`` and MDF requests as
  ``mdf_activities`` (:mod:`partnerscope.money.posting`);
- lead routing: every assignment to a partner as a ``leads`` row, so that a breached first
  attempt counts against that partner's lead_sla_rate
  (:mod:`partnerscope.operations.routing.rows`);
- deal registration: protected, won and expired registrations as ``opportunities``
  (:mod:`partnerscope.operations.registrations.rows`).

Each kind is written to a CSV file in its module's folder under ``state/`` (``state/money/``,
``state/routing/``, ``state/registrations/``) and loaded by the ingest loader as a source of
partnerscope's own: an import in the ledger with its fingerprint and change date, lineage,
quarantine with reasons and an upsert by key, all kinds in one transaction. A file whose content
is that of its latest import (with nothing quarantined) is not loaded again: unchanged facts
add no import, and the run computes what it computed before. A kind with no fact and no file
yet is not posted at all, so a workspace without such facts runs as it did before.

Rows once posted stay posted, except from a *complete* file (:attr:`Facts.complete`): there a
row the file no longer holds is removed (a registered deal linked to its CRM opportunity, which
is the deal from then on).
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
    from partnerscope.warehouse import Warehouse
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
            columns={c: c for c in self.columns},
        )


#: gives a module's facts of one kind (None: the module has none of that kind at all)
Producer = Callable[["Workspace"], "Facts | None"]


@dataclass(frozen=True)
class Posted:
    """What a run posted (nothing when the facts had not changed)."""

    summary: str
    import_ids: tuple[int, ...]
    quarantined: int


def producers() -> tuple[Producer, ...]:
    """Every module's producers, in the order their files are loaded."""
    from partnerscope.money.posting import incentive_costs, mdf_requests
    from partnerscope.operations.registrations.rows import registered_deals
    from partnerscope.operations.routing.rows import routed_leads

    return (incentive_costs, mdf_requests, routed_leads, registered_deals)


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
        from partnerscope.money.amounts import text

        return text(value)
    return str(value)


def post(workspace: Workspace) -> Posted | None:
    """Post every module's facts that changed since they were last posted; None when nothing
    changed. Call it holding the workspace lock."""
    from partnerscope.atomic import write_bytes
    from partnerscope.ingest.loader import display_path, ingest

    facts = [
        f
        for produce in producers()
        if (f := produce(workspace)) is not None and (f.rows or f.path.is_file())
    ]
    if not facts:
        return None
    with workspace.warehouse(read_only=True) as warehouse:
        changed = [
            f for f in facts if _needs_posting(warehouse, display_path(f.path, workspace.root), f)
        ]
    for fact in facts:
        # the file always holds the latest facts (the lineage of posted rows points into it)
        data = fact.content.encode("utf-8")
        if not fact.path.is_file() or fact.path.read_bytes() != data:
            fact.path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(fact.path, data)
    if not changed:
        return None
    with workspace.warehouse() as warehouse:
        report = ingest(
            warehouse,
            workspace.config,
            workspace.root,
            [(f.source, f.path) for f in changed],
            sources={f.source: f.source_config() for f in changed},
            complete={f.source for f in changed if f.complete},
        )
    parts = []
    for fact, done in zip(changed, report.files, strict=True):
        counts = f"{done.inserted:,} new, {done.updated:,} changed"
        if done.removed:
            counts += f", {done.removed:,} removed"
        part = f"{fact.described} ({counts})"
        if done.quarantined:
            part += (
                f", {done.quarantined:,} not loaded: see `partnerscope quarantine "
                f"--source {fact.source}`"
            )
        parts.append(part)
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return Posted(
        summary="posted " + listed,
        import_ids=tuple(f.import_id for f in report.files),
        quarantined=report.quarantined,
    )


def _needs_posting(warehouse: Warehouse, file: str, fact: Facts) -> bool:
    """Whether the file's content differs from its latest import, or that import left rows
    in the quarantine (tried again: the partner may have been loaded since)."""
    rows = warehouse.con.execute(
        "SELECT fingerprint, quarantined FROM _imports WHERE source = ? AND file = ? "
        "ORDER BY import_id DESC LIMIT 1",
        [fact.source, file],
    ).fetchall()
    return not rows or rows[0][0] != fact.fingerprint or rows[0][1] > 0
