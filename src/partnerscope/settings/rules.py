"""``[[rules]]`` in ``partnerscope.toml``: conditions over a run's results that act — open a
task, nudge the partner, propose an MDF activity — declared like decision signals and evaluated
on every run (docs/notifications.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from partnerscope.errors import did_you_mean

if TYPE_CHECKING:
    from partnerscope.metrics.definition import Catalog


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSettings(_Strict):
    """One ``[[rules]]`` entry."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    #: what it checks, e.g. "lead_sla_rate < 0.8" (a metric of the catalog compared, as a
    #: decision signal reads: an optional scope first, "for 2 quarters" after), or a built-in
    #: condition (:data:`BUILTINS`)
    when: Annotated[str, Field(min_length=1, max_length=300)]
    #: for how many consecutive periods the condition must hold (1: this period)
    periods: Annotated[int, Field(ge=1, le=24)] = 1
    do: Literal["task", "nudge", "mdf"]
    #: the task's title, or the nudge's message to the partner (partner-safe words)
    message: Annotated[str, Field(min_length=1, max_length=500)]
    enabled: bool = True


#: conditions that are no metric comparison, computed by partnerscope itself
BUILTINS = {
    "next_tier_enablement_gap": "the partner lacks certifications its next tier requires",
}
EXAMPLE = "lead_sla_rate < 0.8 for 2 quarters"
_METRIC = re.compile(r"([a-z_][a-z0-9_]*)\s*(?:<=|>=|==|!=|<|>|=)\s*[-+.\d]", re.IGNORECASE)


def check(catalog: Catalog, rules: Sequence[RuleSettings]) -> list[str]:
    """Problems of the rules' names and of the metrics their conditions compare (the full
    reading of a condition is :mod:`partnerscope.notify.rules`')."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        where = f"rules.{i} ({rule.name})"
        if rule.name in seen:
            problems.append(f"{where}.name: two rules are named {rule.name!r}; rename one")
        seen.add(rule.name)
        if rule.when.strip() in BUILTINS:
            continue
        found = _METRIC.search(rule.when)
        if found is None:
            problems.append(
                f"{where}.when: cannot read {rule.when!r}; write METRIC OP NUMBER "
                f"[for N quarters], e.g. {EXAMPLE!r}, or one of {', '.join(BUILTINS)}"
            )
        elif found[1] not in catalog:
            problems.append(
                f"{where}.when: no metric {found[1]!r}"
                f"{did_you_mean(found[1], [m.name for m in catalog])} "
                "(`partnerscope metrics list` shows them)"
            )
    return problems
