"""The ``[business_plans]`` section of ``partnerscope.toml``: joint business plans (when a
milestone counts as at risk, and what a missed milestone raises).

A milestone of the quarter in progress is *on track* while the partner's value so far reaches
the target scaled to the elapsed share of the quarter, less ``at_risk_margin``; below that it is
*at risk* (docs/lifecycle.md, "Joint business plans").
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessPlansSettings(_Strict):
    #: The slack given to a milestone of the quarter in progress, as a fraction of its
    #: pro-rated target: with 0.1 a partner 55 days into a 91-day quarter with a $100,000 target
    #: is on track from $100,000 × 55/91 × 0.9 = $54,396. 0 = no slack; below 1.
    at_risk_margin: float = Field(default=0.1, ge=0, lt=1)
    #: A milestone missed in a complete quarter raises an alert (kind "milestone") in the run
    #: that first sees it missed.
    alerts: bool = True
    #: A missed milestone of the current or previous fiscal year is listed with the partner's
    #: open improvement plan (the staff partner hub).
    improvement_plan: bool = True
