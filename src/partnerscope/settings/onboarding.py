"""The ``[onboarding]`` section of ``partnerscope.toml``: the onboarding template (phases and
tasks with owners, due weeks, prerequisites and the outcomes that close them).

The defaults are the framework's: four phases over twelve weeks (qualification and assessment,
foundation setup, enablement and training, launch and support). A workspace that writes
``[onboarding.tasks.<key>]`` tables replaces the whole default task list with its own. A plan
keeps the tasks it was started with: changing the template changes the plans started after.

Task outcomes closed by the data (docs/lifecycle.md, "Onboarding"):

- ``certification:any`` — someone at the partner holds a valid certification;
- ``certification:<name>`` — someone holds that certification (as named in the data);
- ``registered_deal`` — the partner registered a deal (a deal registration in the app, or a
  partner-sourced opportunity in the data);
- ``won_deal`` — the partner won a deal;
- ``business_plan`` — a joint business plan exists for the partner;
- no outcome — the task is completed by hand, with its evidence.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from partnerscope.errors import did_you_mean
from partnerscope.settings.graph import find_cycle

#: the outcomes the data closes (besides ``certification:<name>``)
OUTCOMES = ("registered_deal", "won_deal", "business_plan")
CERTIFICATION = "certification:"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_outcome(value: str | None) -> str | None:
    """An outcome of the vocabulary above, or None (closed by hand)."""
    if value is None:
        return None
    text = value.strip()
    if text in OUTCOMES:
        return text
    if text.startswith(CERTIFICATION) and text[len(CERTIFICATION) :].strip():
        return CERTIFICATION + text[len(CERTIFICATION) :].strip()
    raise ValueError(
        f"unknown outcome {value!r}: use 'certification:any', 'certification:<name>', "
        "'registered_deal', 'won_deal' or 'business_plan', or leave it out for a task "
        "completed by hand"
    )


class TaskTemplate(_Strict):
    """One task of the template: ``[onboarding.tasks.<key>]``."""

    #: what is to be done, as shown to the partner manager and the partner
    title: Annotated[str, Field(min_length=1, max_length=200)]
    #: one of ``phases``
    phase: str
    #: who does it: a role ("partner manager", "partner", "channel operations") or a person
    owner: Annotated[str, Field(min_length=1, max_length=100)] = "partner manager"
    #: the week (1 = the plan's first seven days) by whose last day it is due
    due_week: Annotated[int, Field(ge=1, le=52)]
    #: keys of the tasks that must be done (or skipped) before this one is completed by hand
    requires: tuple[str, ...] = ()
    #: what in the data closes it (see the module's docstring); unset: completed by hand
    outcome: str | None = None

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str | None) -> str | None:
        return check_outcome(value)


def _task(
    title: str,
    phase: str,
    owner: str,
    week: int,
    requires: tuple[str, ...] = (),
    outcome: str | None = None,
) -> TaskTemplate:
    return TaskTemplate(
        title=title, phase=phase, owner=owner, due_week=week, requires=requires, outcome=outcome
    )


QUALIFICATION = "Qualification and assessment"
FOUNDATION = "Foundation setup"
ENABLEMENT = "Enablement and training"
LAUNCH = "Launch and support"
PM, PARTNER, OPS = "partner manager", "partner", "channel operations"

#: the framework's twelve weeks
DEFAULT_TASKS: dict[str, TaskTemplate] = {
    # weeks 1–2: agree, assess
    "kickoff": _task("Kickoff call with the partner's leadership", QUALIFICATION, PM, 1),
    "agreement": _task("Partner agreement signed", QUALIFICATION, PARTNER, 1, ("kickoff",)),
    "assessment": _task(
        "Capability and market assessment reviewed", QUALIFICATION, PM, 2, ("kickoff",)
    ),
    # weeks 3–4: access, systems, the plan
    "portal": _task("Portal access and partner profile set up", FOUNDATION, OPS, 3, ("agreement",)),
    "systems": _task(
        "Deal registration and CRM access configured", FOUNDATION, OPS, 4, ("portal",)
    ),
    "business_plan": _task(
        "Joint business plan agreed", FOUNDATION, PM, 4, ("assessment",), "business_plan"
    ),
    # weeks 5–8: training and the first certifications
    "sales_training": _task(
        "Sales team completes the product training", ENABLEMENT, PARTNER, 6, ("portal",)
    ),
    "demo_environment": _task(
        "Demo environment and sales tools in place", ENABLEMENT, OPS, 7, ("systems",)
    ),
    "basic_certifications": _task(
        "Basic certifications", ENABLEMENT, PARTNER, 8, ("sales_training",), "certification:any"
    ),
    # weeks 9–12: the first deals and the review
    "launch_plan": _task(
        "Launch plan and first target accounts agreed", LAUNCH, PM, 9, ("business_plan",)
    ),
    "first_registered_deal": _task(
        "First deal registered", LAUNCH, PARTNER, 10, ("systems",), "registered_deal"
    ),
    "first_won_deal": _task(
        "First deal won", LAUNCH, PARTNER, 12, ("first_registered_deal",), "won_deal"
    ),
    "review": _task("90-day onboarding review", LAUNCH, PM, 12, ("launch_plan",)),
}


class OnboardingSettings(_Strict):
    """``[onboarding]``: the template every new partner's plan is copied from, and when a plan
    counts as stalled (docs/lifecycle.md)."""

    #: the phases in their order; each task names one
    phases: tuple[str, ...] = (QUALIFICATION, FOUNDATION, ENABLEMENT, LAUNCH)
    #: the plan's length in weeks: no task is due after it
    weeks: Annotated[int, Field(ge=1, le=52)] = 12
    #: a plan with open tasks and no task done for this many days is stalled
    stall_days: Annotated[int, Field(ge=1)] = 21
    #: task key → task (``[onboarding.tasks.<key>]``); writing any replaces them all
    tasks: dict[str, TaskTemplate] = Field(default_factory=lambda: dict(DEFAULT_TASKS))

    @field_validator("phases")
    @classmethod
    def _phases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = [p.strip() for p in value]
        if not names or any(not p for p in names):
            raise ValueError("list at least one phase, each with a name")
        twice = sorted({p for p in names if names.count(p) > 1})
        if twice:
            raise ValueError(f"phase {twice[0]!r} is listed twice")
        if any(len(p) > 64 for p in names):
            raise ValueError("a phase's name is at most 64 characters")
        return tuple(names)

    @field_validator("tasks")
    @classmethod
    def _tasks(
        cls, value: dict[str, TaskTemplate], info: ValidationInfo
    ) -> dict[str, TaskTemplate]:
        problems: list[str] = []
        if not value:
            problems.append("the template has no task: write at least one [onboarding.tasks.<key>]")
        phases = info.data.get("phases") or ()
        weeks = info.data.get("weeks") or 12
        for key, task in value.items():
            if not _KEY.match(key):
                problems.append(
                    f"{key}: a task key is lower-case letters, digits, '_' or '-' (at most 64)"
                )
            if phases and task.phase not in phases:
                known = ", ".join(repr(p) for p in phases)
                problems.append(
                    f"{key}.phase: unknown phase {task.phase!r}; the phases are {known}"
                )
            if task.due_week > weeks:
                problems.append(
                    f"{key}.due_week: week {task.due_week} is after the plan's {weeks} weeks"
                )
            for other in task.requires:
                if other not in value:
                    problems.append(
                        f"{key}.requires: no task {other!r}{did_you_mean(other, value)}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        cycle = find_cycle({k: t.requires for k, t in value.items()})
        if cycle:
            raise ValueError(
                "a cycle of prerequisites: " + " → ".join(cycle) + " (remove one of them)"
            )
        return value

    def template_hash(self) -> str:
        """What a plan stores of the template it was started with."""
        data = {
            "phases": list(self.phases),
            "weeks": self.weeks,
            "tasks": {k: t.model_dump(mode="json") for k, t in self.tasks.items()},
        }
        blob = json.dumps(data, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
