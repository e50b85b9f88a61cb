"""Each new partner's onboarding plan: the ``[onboarding]`` template's tasks copied with their due
dates when the plan starts, completed by hand with evidence, skipped with a reason, or closed by
the data when their outcome is met (docs/lifecycle.md, "Onboarding").

Due dates: week 1 is the plan's first seven days, from ``started_on``; a task of week ``w`` is
due on its last day, ``started_on + (7 × w − 1)`` days (week 1 of a plan started on a Monday ends
on the Sunday; week 12 ends on day 84). A task is overdue from the day after its due date while
it is open. A plan is stalled when it has open tasks and no task was done (nor skipped) for
``[onboarding] stall_days`` days: counted from the last task closed, else from the start.

Every change writes its audit entry (object type ``onboarding_plan``, the partner's id) in the
same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit
from partnerscope.appdb.tables import onboarding_plans, onboarding_tasks
from partnerscope.clock import now_utc
from partnerscope.errors import PartnerscopeError, did_you_mean

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.settings.onboarding import OnboardingSettings
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "onboarding_plan"
MAX_EVIDENCE = 2000


class OnboardingError(PartnerscopeError, ValueError):
    """A change of an onboarding plan that is refused (the message says why and what to do)."""


class PlanNotFoundError(PartnerscopeError, LookupError):
    """The partner has no onboarding plan (or a task key that is not in its plan)."""


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


def due_on(started_on: date, due_week: int) -> date:
    """The last day of week ``due_week`` of a plan started on ``started_on``."""
    return started_on + timedelta(days=7 * due_week - 1)


def week_of(started_on: date, day: date) -> int:
    """The plan's week ``day`` falls in (1 = the first seven days; 0 before the start)."""
    if day < started_on:
        return 0
    return (day - started_on).days // 7 + 1


@dataclass(frozen=True)
class Task:
    partner_id: str
    key: str
    phase: str
    title: str
    owner: str
    due_on: date
    outcome: str | None
    requires: tuple[str, ...]
    status: TaskStatus
    evidence: str | None
    closed_by_data: bool
    completed_at: datetime | None
    completed_by: str | None

    @classmethod
    def from_row(cls, row: Any) -> Task:
        m = row._mapping
        return cls(
            partner_id=m["partner_id"],
            key=m["task"],
            phase=m["phase"],
            title=m["title"],
            owner=m["owner"],
            due_on=m["due_on"],
            outcome=m["outcome"],
            requires=tuple(m["requires"] or ()),
            status=TaskStatus(m["status"]),
            evidence=m["evidence"],
            closed_by_data=bool(m["closed_by_data"]),
            completed_at=m["completed_at"],
            completed_by=m["completed_by"],
        )

    @property
    def is_open(self) -> bool:
        return self.status is TaskStatus.OPEN

    def overdue(self, today: date) -> bool:
        """Open after its due date."""
        return self.is_open and self.due_on < today

    @property
    def for_partner(self) -> bool:
        """The partner's own task (a partner user may complete it)."""
        return self.owner.strip().lower() == "partner"


@dataclass(frozen=True)
class Plan:
    partner_id: str
    started_on: date
    template: str
    application_id: int | None
    created_by: str
    created_at: datetime
    tasks: tuple[Task, ...] = field(default=())

    def task(self, key: str) -> Task:
        for task in self.tasks:
            if task.key == key:
                return task
        raise PlanNotFoundError(
            f"no task {key!r} in {self.partner_id}'s onboarding plan"
            f"{did_you_mean(key, [t.key for t in self.tasks])}; `partnerscope onboarding show "
            f"{self.partner_id}` lists its tasks"
        )


# -------------------------------------------------------------------------------- store


def _plan(connection: Connection, partner_id: str) -> Plan | None:
    from sqlalchemy import select

    row = connection.execute(
        select(onboarding_plans).where(onboarding_plans.c.partner_id == partner_id)
    ).first()
    if row is None:
        return None
    tasks = connection.execute(
        select(onboarding_tasks)
        .where(onboarding_tasks.c.partner_id == partner_id)
        .order_by(onboarding_tasks.c.due_on)
    )
    m = row._mapping
    return Plan(
        partner_id=m["partner_id"],
        started_on=m["started_on"],
        template=m["template"],
        application_id=m["application_id"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        tasks=_ordered(Task.from_row(t) for t in tasks),
    )


def _ordered(tasks: Any) -> tuple[Task, ...]:
    """By due date; on one day, a prerequisite before what requires it, then by key."""
    listed = list(tasks)
    requires = {t.key: t.requires for t in listed}
    depth: dict[str, int] = {}

    def deep(key: str, seen: frozenset[str] = frozenset()) -> int:
        if key not in depth:
            before = [r for r in requires.get(key, ()) if r in requires and r not in seen]
            depth[key] = 1 + max((deep(r, seen | {key}) for r in before), default=-1)
        return depth[key]

    return tuple(sorted(listed, key=lambda t: (t.due_on, deep(t.key), t.key)))


def _template_rows(
    settings: OnboardingSettings, partner_id: str, started_on: date
) -> list[dict[str, Any]]:
    return [
        {
            "partner_id": partner_id,
            "task": key,
            "phase": task.phase,
            "title": task.title,
            "owner": task.owner,
            "due_on": due_on(started_on, task.due_week),
            "outcome": task.outcome,
            "requires": list(task.requires),
            "status": TaskStatus.OPEN.value,
            "evidence": None,
            "closed_by_data": False,
            "completed_at": None,
            "completed_by": None,
        }
        for key, task in settings.tasks.items()
    ]


# ---------------------------------------------------------------------------- changes


def start_plan(
    workspace: Workspace,
    partner_id: str,
    *,
    started_on: date,
    by: str,
    application_id: int | None = None,
    connection: Connection | None = None,
) -> None:
    """Start ``partner_id``'s onboarding on ``started_on`` from the ``[onboarding]`` template
    (week 1 begins that day). With ``connection``, inside the caller's transaction (an approved
    application starts its onboarding in the same one). Refused if the partner has a plan."""
    partner_id = (partner_id or "").strip()
    if not partner_id:
        raise OnboardingError("partner: give the partner's id")
    if application_id is None:
        _check_partner(workspace, partner_id)
    settings = workspace.config.onboarding
    if connection is None:
        with appdb.connect(workspace).begin() as own:
            _start(own, settings, partner_id, started_on, by, application_id)
    else:
        _start(connection, settings, partner_id, started_on, by, application_id)


def _check_partner(workspace: Workspace, partner_id: str) -> None:
    from partnerscope.warehouse import partner_names

    names = partner_names(workspace)
    if partner_id not in names:
        raise OnboardingError(
            f"partner: no partner {partner_id!r} in the warehouse (load it with `partnerscope "
            f"ingest` or check the id){did_you_mean(partner_id, names)}"
        )


def _start(
    connection: Connection,
    settings: OnboardingSettings,
    partner_id: str,
    started_on: date,
    by: str,
    application_id: int | None,
) -> None:
    existing = _plan(connection, partner_id)
    if existing is not None:
        raise OnboardingError(
            f"partner: {partner_id} already has an onboarding plan, started on "
            f"{existing.started_on.isoformat()}; `partnerscope onboarding show {partner_id}` "
            "shows it"
        )
    template = settings.template_hash()
    connection.execute(
        onboarding_plans.insert().values(
            partner_id=partner_id,
            started_on=started_on,
            template=template,
            application_id=application_id,
            created_by=by,
            created_at=now_utc(),
        )
    )
    rows = _template_rows(settings, partner_id, started_on)
    connection.execute(onboarding_tasks.insert(), rows)
    audit.record(
        connection,
        actor=by,
        action="start",
        object_type=OBJECT_TYPE,
        object_id=partner_id,
        detail={
            "started_on": started_on.isoformat(),
            "template": template,
            "application_id": application_id,
            "tasks": len(rows),
        },
    )


def plan(workspace: Workspace, partner_id: str) -> Plan:
    """The partner's plan as stored (see :func:`refresh` for the data-closed tasks)."""
    with appdb.connect(workspace).connect() as connection:
        found = _plan(connection, partner_id)
    if found is None:
        raise PlanNotFoundError(
            f"{partner_id} has no onboarding plan; start one with `partnerscope onboarding "
            f"start {partner_id}`"
        )
    return found
