"""The framework's "do not use" list, as guards on committing a decision.

A decision is not committed without an owner, on assumptions alone (no measured metric cited,
or none of the cited metrics with the catalog's minimum evidence), or without a real choice
(fewer than two options). Every reason is given at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.decisions.record import DecisionRecord
from partnerscope.decisions.signals import SignalError, parse
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog


class CommitRefusedError(PartnerscopeError, ValueError):
    """Committing would break one of the guards; carries every reason."""

    def __init__(self, ref: str, reasons: list[str]) -> None:
        self.reasons = reasons
        lines = [f"{ref} cannot be committed:", *(f"  - {reason}" for reason in reasons)]
        super().__init__("\n".join(lines))


def commit_problems(
    record: DecisionRecord,
    *,
    option: str,
    owner: str | None,
    signals: list[str],
    catalog: Catalog,
    grain: str,
) -> list[str]:
    """Why committing ``option`` would be refused (empty: it may be committed)."""
    problems = []
    if not (owner or record.frame.owner):
        problems.append(
            "no owner: name the person accountable for it with --owner (a decision nobody owns "
            "is not reviewed)"
        )
    options = record.compare.options
    if len(options) < 2:
        listed = ", ".join(o.key for o in options) or "none"
        problems.append(
            f"no real choice: {len(options)} option(s) ({listed}); compare at least two, the "
            f"current approach being one (`partnerscope decide edit {record.decision_id} "
            "--option 'A=Keep the current approach'`)"
        )
    if options and record.option(option) is None:
        problems.append(
            f"no option {option!r}; the options are {', '.join(o.key for o in options)}"
        )
    evidence = record.compare.evidence
    if not evidence:
        problems.append(
            "the evidence is only assumptions: no measured metric is cited; cite one with "
            f"`partnerscope decide cite {record.decision_id} METRIC`"
        )
    elif not any(item.sufficient for item in evidence):
        weak = "; ".join(f"{e.metric} ({e.where()}): {e.weakness()}" for e in evidence)
        problems.append(
            "the evidence is only assumptions: none of the cited metrics has the minimum "
            f"evidence ({weak}); cite a measured value with enough data"
        )
    for text in signals:
        try:
            parse(text, catalog, default_grain=grain)
        except SignalError as exc:
            problems.append(str(exc))
    return problems
