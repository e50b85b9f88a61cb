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

    def has(self, key: str) -> bool:
        return any(t.key == key for t in self.tasks)

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
            "application_id": application_id,
            "tasks": len(rows),
        },
    )


def plan(workspace: Workspace, partner_id: str) -> Plan:
    """The partner's plan as stored (see :func:`refresh` for the data-closed tasks)."""
    with appdb.connect(workspace).connect() as connection:
        return _plan_or_fail(connection, partner_id)


def _one_line(value: str | None, what: str, hint: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise OnboardingError(f"{what}: {hint}")
    if len(text) > MAX_EVIDENCE:
        raise OnboardingError(f"{what}: at most {MAX_EVIDENCE} characters (got {len(text)})")
    return text


def _open_task(connection: Connection, partner_id: str, key: str) -> tuple[Plan, Task]:
    found = _plan(connection, partner_id)
    if found is None:
        raise PlanNotFoundError(
            f"{partner_id} has no onboarding plan; start one with `partnerscope onboarding "
            f"start {partner_id}`"
        )
    task = found.task(key)
    if not task.is_open:
        when = task.completed_at.date().isoformat() if task.completed_at else "earlier"
        who = "the data" if task.closed_by_data else (task.completed_by or "someone")
        raise OnboardingError(
            f"task: {key!r} of {partner_id} is already {task.status.value} ({when}, by {who})"
        )
    return found, task


def _close(
    connection: Connection,
    task: Task,
    *,
    status: TaskStatus,
    evidence: str,
    by: str,
    at: datetime,
    by_data: bool,
    action: str,
    quiet: bool = False,
) -> bool:
    table = onboarding_tasks
    done = connection.execute(
        table.update()
        .where(table.c.partner_id == task.partner_id)
        .where(table.c.task == task.key)
        .where(table.c.status == TaskStatus.OPEN.value)
        .values(
            status=status.value,
            evidence=evidence,
            closed_by_data=by_data,
            completed_at=at,
            completed_by=by,
        )
    )
    if done.rowcount != 1:  # someone closed it meanwhile: neither closes it twice
        if quiet:
            return False
        raise OnboardingError(
            f"task: {task.key!r} of {task.partner_id} was changed meanwhile; look again"
        )
    audit.record(
        connection,
        actor=by,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=task.partner_id,
        detail={"task": task.key, "title": task.title, "evidence": evidence},
    )
    return True


def complete(
    workspace: Workspace,
    partner_id: str,
    task: str,
    *,
    evidence: str,
    by: str,
    owner: str | None = None,
    now: datetime | None = None,
) -> Task:
    """Mark ``task`` done with its evidence. Refused when the evidence is empty, the task is
    not open, or one of its prerequisites is still open. ``owner``: only a task of that owner
    (a partner user completes the partner's own tasks)."""
    text = _one_line(
        evidence, "evidence", "say what shows the task is done (a link, a file, a sentence)"
    )
    moment = now or now_utc()
    with appdb.connect(workspace).begin() as connection:
        found, open_task = _open_task(connection, partner_id, task)
        if owner is not None and open_task.owner.strip().lower() != owner:
            raise OnboardingError(
                f"task: {task!r} is for the {open_task.owner} to complete, not the {owner}"
            )
        waiting = [found.task(r) for r in open_task.requires if found.has(r)]
        still = [r for r in waiting if r.is_open]
        if still:
            named = ", ".join(f"{r.key!r} ({r.title})" for r in still)
            raise OnboardingError(
                f"task: {task!r} requires {named}, still open: complete or skip "
                f"{'it' if len(still) == 1 else 'them'} first"
            )
        _close(
            connection,
            open_task,
            status=TaskStatus.DONE,
            evidence=text,
            by=by,
            at=moment,
            by_data=False,
            action="complete",
        )
        return _plan_or_fail(connection, partner_id).task(task)


def skip(
    workspace: Workspace,
    partner_id: str,
    task: str,
    *,
    reason: str,
    by: str,
    now: datetime | None = None,
) -> Task:
    """Skip ``task`` (it does not apply to this partner) with the reason; what requires it may
    then be completed."""
    text = _one_line(reason, "reason", "say why the task does not apply to this partner")
    moment = now or now_utc()
    with appdb.connect(workspace).begin() as connection:
        _, open_task = _open_task(connection, partner_id, task)
        _close(
            connection,
            open_task,
            status=TaskStatus.SKIPPED,
            evidence=text,
            by=by,
            at=moment,
            by_data=False,
            action="skip",
        )
        return _plan_or_fail(connection, partner_id).task(task)


def _plan_or_fail(connection: Connection, partner_id: str) -> Plan:
    found = _plan(connection, partner_id)
    if found is None:
        raise PlanNotFoundError(
            f"{partner_id} has no onboarding plan; start one with `partnerscope onboarding "
            f"start {partner_id}`"
        )
    return found


def judged_on(workspace: Workspace) -> date:
    """The day plans are judged on by default: the day of the data, the latest run's as-of
    date, else today (a hand completion is stamped with the clock all the same)."""
    from partnerscope import clock
    from partnerscope.runs import latest_run

    run = latest_run(workspace)
    if run is None:
        return clock.today(workspace)
    return date.fromisoformat(str(run.as_of)[:10])


# ------------------------------------------------------------------------ closed by data

DATA_ACTOR = "partnerscope (data)"


@dataclass(frozen=True)
class Event:
    """The first time the data shows an outcome met: when, and the record that shows it."""

    on: date
    evidence: str


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def first_events(
    workspace: Workspace, partner_ids: list[str] | None, today: date
) -> dict[str, dict[str, Event]]:
    """partner → outcome → the first event on or before ``today`` that meets it. Outcomes:
    ``certification:<name>`` (lower-cased name) and ``certification:any`` (the first
    certification record), ``registered_deal`` (the first deal registration in the app that was
    not rejected, or the first partner-sourced opportunity created: whichever came first),
    ``won_deal`` (the first won opportunity) and ``business_plan`` (the first business plan)."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import business_plans, deal_registrations
    from partnerscope.lifecycle.enablement import framework
    from partnerscope.warehouse import read_warehouse

    levels = framework(workspace)

    events: dict[str, dict[str, Event]] = {}

    def note(pid: str, outcome: str, event: Event) -> None:
        held = events.setdefault(pid, {})
        if outcome not in held or event.on < held[outcome].on:
            held[outcome] = event

    where = ""
    params: list[Any] = []
    if partner_ids is not None:
        if not partner_ids:
            return {}
        where = f" AND partner_id IN ({', '.join('?' for _ in partner_ids)})"
        params = list(partner_ids)
    if not workspace.warehouse_path.is_file():  # nothing ingested yet
        certs: list[Any] = []
        opps: list[Any] = []
    else:
        certs = read_warehouse(
            workspace,
            "SELECT partner_id, record_id, person_id, certification, issued_at FROM certifications "
            f"WHERE issued_at <= ?{where} ORDER BY issued_at, record_id",
            [today, *params],
        )
        opps = read_warehouse(
            workspace,
            "SELECT partner_id, opportunity_id, name, status, attribution, created_at, closed_at "
            f"FROM opportunities WHERE partner_id IS NOT NULL{where} ORDER BY created_at",
            params,
        )
    for pid, record, person, name, issued in certs:
        event = Event(
            _day(issued),
            f"certification record {record}: {name}, held by {person} since "
            f"{_day(issued).isoformat()}",
        )
        note(pid, "certification:any", event)
        note(pid, "certification:" + str(name).strip().lower(), event)
        # a name that stands for a level of [enablement] (an alias) meets the level's outcome
        level = levels.level(str(name))
        if level is not None:
            note(pid, "certification:" + level.strip().lower(), event)
    for pid, oid, name, status, attribution, created, closed in opps:
        label = f"opportunity {oid}" + (f" ({name})" if name else "")
        if attribution == "sourced" and _day(created) <= today:
            note(
                pid,
                "registered_deal",
                Event(_day(created), f"{label}, sourced by the partner, created {_day(created)}"),
            )
        if status == "won" and closed is not None and _day(closed) <= today:
            note(pid, "won_deal", Event(_day(closed), f"{label} won on {_day(closed)}"))
    with appdb.connect(workspace).connect() as connection:
        regs = select(
            deal_registrations.c.partner_id,
            deal_registrations.c.registration_id,
            deal_registrations.c.account_name,
            deal_registrations.c.submitted_at,
        ).where(deal_registrations.c.status != "rejected")
        plans = select(
            business_plans.c.partner_id,
            business_plans.c.fiscal_year,
            business_plans.c.updated_at,
        )
        if partner_ids is not None:
            regs = regs.where(deal_registrations.c.partner_id.in_(partner_ids))
            plans = plans.where(business_plans.c.partner_id.in_(partner_ids))
        for pid, rid, account, at in connection.execute(regs):
            if _day(at) <= today:
                note(
                    pid,
                    "registered_deal",
                    Event(_day(at), f"deal registration #{rid} ({account}), submitted {_day(at)}"),
                )
        for pid, year, at in connection.execute(plans):
            if _day(at) <= today:
                note(pid, "business_plan", Event(_day(at), f"joint business plan FY{year}"))
    return events


def _met(events: dict[str, Event], outcome: str) -> Event | None:
    if outcome.startswith("certification:"):
        return events.get(outcome.lower())
    return events.get(outcome)


def refresh(workspace: Workspace, today: date, partner_id: str | None = None) -> int:
    """Close the open tasks whose outcome the data shows met on or before ``today`` (each
    with the record as its evidence, on the day of the record), for every plan or one
    partner's. Returns how many were closed."""
    from sqlalchemy import select

    table = onboarding_tasks
    query = (
        select(table)
        .where(table.c.status == TaskStatus.OPEN.value)
        .where(table.c.outcome.is_not(None))
    )
    if partner_id is not None:
        query = query.where(table.c.partner_id == partner_id)
    engine = appdb.connect(workspace)
    with engine.connect() as connection:
        waiting = [Task.from_row(row) for row in connection.execute(query)]
    if not waiting:
        return 0
    events = first_events(workspace, sorted({t.partner_id for t in waiting}), today)
    closed = 0
    with engine.begin() as connection:
        for task in waiting:
            event = _met(events.get(task.partner_id, {}), task.outcome or "")
            if event is None:
                continue
            # two readers refreshing at once: the second finds it closed and moves on
            closed += _close(
                connection,
                task,
                status=TaskStatus.DONE,
                evidence=event.evidence,
                by=DATA_ACTOR,
                at=datetime.combine(event.on, datetime.min.time()),
                by_data=True,
                action="closed_by_data",
                quiet=True,
            )
    return closed


# ------------------------------------------------------------------------------ status


class PhaseState(StrEnum):
    DONE = "done on schedule"
    LATE = "done late"
    ON_SCHEDULE = "on schedule"
    BEHIND = "behind"

    @property
    def on_schedule(self) -> bool:
        return self in (PhaseState.DONE, PhaseState.ON_SCHEDULE)


@dataclass(frozen=True)
class PhaseStatus:
    name: str
    due_on: date
    tasks: tuple[Task, ...]
    state: PhaseState

    @property
    def closed(self) -> int:
        return sum(1 for t in self.tasks if not t.is_open)

    @property
    def judged(self) -> bool:
        """Its schedule is settled: all its tasks are closed, or its last day has passed, or
        a task of it is overdue."""
        return self.state is not PhaseState.ON_SCHEDULE


@dataclass(frozen=True)
class PlanStatus:
    plan: Plan
    today: date
    phases: tuple[PhaseStatus, ...]
    overdue: tuple[Task, ...]
    last_activity: date
    stall_days: int

    @property
    def total(self) -> int:
        return len(self.plan.tasks)

    @property
    def done(self) -> int:
        """Tasks done or skipped."""
        return sum(1 for t in self.plan.tasks if not t.is_open)

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def current_phase(self) -> str | None:
        """The first phase with an open task (None: every task is closed)."""
        for phase in self.phases:
            if any(t.is_open for t in phase.tasks):
                return phase.name
        return None

    @property
    def idle_days(self) -> int:
        return (self.today - self.last_activity).days

    @property
    def stalled(self) -> bool:
        """Open tasks, and none closed for ``stall_days`` days (or since the start)."""
        return (
            self.current_phase is not None
            and self.plan.started_on <= self.today
            and self.idle_days >= self.stall_days
        )

    @property
    def finished(self) -> bool:
        return self.current_phase is None


def status_of(found: Plan, today: date, *, stall_days: int, phases: tuple[str, ...]) -> PlanStatus:
    """The plan on ``today``: its phases (in the template's order, then any other a plan
    started from an older template has, by due date), overdue tasks and activity."""
    names = [p for p in phases if any(t.phase == p for t in found.tasks)]
    names += sorted(
        {t.phase for t in found.tasks} - set(names),
        key=lambda p: min(t.due_on for t in found.tasks if t.phase == p),
    )
    states = []
    for name in names:
        tasks = tuple(t for t in found.tasks if t.phase == name)
        due = max(t.due_on for t in tasks)
        if all(not t.is_open for t in tasks):
            late = any(t.completed_at is not None and t.completed_at.date() > due for t in tasks)
            state = PhaseState.LATE if late else PhaseState.DONE
        elif today > due or any(t.overdue(today) for t in tasks):
            state = PhaseState.BEHIND
        else:
            state = PhaseState.ON_SCHEDULE
        states.append(PhaseStatus(name, due, tasks, state))
    closed = [t.completed_at.date() for t in found.tasks if t.completed_at is not None]
    last = max([found.started_on, *closed])
    return PlanStatus(
        plan=found,
        today=today,
        phases=tuple(states),
        overdue=tuple(t for t in found.tasks if t.overdue(today)),
        last_activity=last,
        stall_days=stall_days,
    )


def plans(workspace: Workspace) -> list[Plan]:
    """Every plan, by partner id."""
    from sqlalchemy import select

    with appdb.connect(workspace).connect() as connection:
        rows = connection.execute(
            select(onboarding_tasks).order_by(onboarding_tasks.c.partner_id)
        ).all()
        heads = connection.execute(
            select(onboarding_plans).order_by(onboarding_plans.c.partner_id)
        ).all()
    by_partner: dict[str, list[Task]] = {}
    for row in rows:
        by_partner.setdefault(row._mapping["partner_id"], []).append(Task.from_row(row))
    return [
        Plan(
            partner_id=m["partner_id"],
            started_on=m["started_on"],
            template=m["template"],
            application_id=m["application_id"],
            created_by=m["created_by"],
            created_at=m["created_at"],
            tasks=_ordered(by_partner.get(m["partner_id"], [])),
        )
        for m in (h._mapping for h in heads)
    ]


def statuses(
    workspace: Workspace, today: date, *, partner_ids: set[str] | None = None, fresh: bool = True
) -> list[PlanStatus]:
    """Every plan's status on ``today`` (``partner_ids``: only those), the data-closed tasks
    closed first (``fresh``); stalled and overdue first, then by partner id."""
    if fresh:
        refresh(workspace, today)
    settings = workspace.config.onboarding
    found = [
        status_of(p, today, stall_days=settings.stall_days, phases=settings.phases)
        for p in plans(workspace)
        if partner_ids is None or p.partner_id in partner_ids
    ]
    return sorted(found, key=lambda s: (not s.stalled, not s.overdue, s.plan.partner_id))


def status(workspace: Workspace, partner_id: str, today: date) -> PlanStatus:
    """One partner's plan on ``today``, its data-closed tasks closed first."""
    refresh(workspace, today, partner_id)
    settings = workspace.config.onboarding
    return status_of(
        plan(workspace, partner_id),
        today,
        stall_days=settings.stall_days,
        phases=settings.phases,
    )
