"""``[[rules]]`` in ``partnerscope.toml``: conditions over a run's results that act — open a
task, nudge the partner, propose an MDF activity — declared like decision signals and evaluated
on every run (docs/notifications.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSettings(_Strict):
    """One ``[[rules]]`` entry."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    #: what it checks, e.g. "lead_sla_attainment < 0.8" (a metric of the catalog, compared)
    when: str
    #: for how many consecutive periods the condition must hold (1: this period)
    periods: Annotated[int, Field(ge=1, le=24)] = 1
    do: Literal["task", "nudge", "mdf"]
    #: the task's title, or the nudge's message to the partner (partner-safe words)
    message: Annotated[str, Field(min_length=1, max_length=500)]
    enabled: bool = True
