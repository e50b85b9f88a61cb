"""Notifications for what a run found and for what time brings (owner: events).

The events people act on are told where they happen, in their own transaction (a payout
approved, an approval requested, a registration decided: see the ``outbox.enqueue`` calls in
``money``, ``operations`` and ``lifecycle``). Two kinds of event have no such moment:

- what a **run** found: its new alerts and the decision signals it saw fire (and the reviews it
  found due). :func:`after_run` tells them once the run has landed; ``partnerscope run`` and the
  demo call it. It takes every run not yet told (a process that died between a run and this
  call is caught up by the next one), and the notifications' keys name the alert or signal, so
  telling a run again tells nobody twice.
- what **time** brings: a decision's review date, a registration's protection about to end, a
  lead not accepted within its SLA, an onboarding task past its due date. :func:`sweep` looks
  (the scheduler's tick calls it; it is cheap and idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, clock, outbox

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.decisions.record import DecisionRecord
    from partnerscope.present import Words
    from partnerscope.runs import RunManifest
    from partnerscope.workspace import Workspace

#: the file a run's folder holds once its notifications were written
MARKER = "notified"
#: the file a run's folder holds once telling it began (a failure leaves it to the next call)
BEGUN = "notifying"


# ------------------------------------------------------------------------------- a run


def pending_runs(workspace: Workspace) -> list[RunManifest]:
    """The runs not yet told, oldest first: every run after the newest one told. On a workspace
    that never told a run, the latest run and those an earlier call began but did not finish
    (the runs before are history: a workspace does not tell its whole past at once)."""
    from partnerscope.runs import list_runs, run_folder

    runs = list_runs(workspace)
    folders = {r.run_id: run_folder(workspace, r.run_id) for r in runs}
    told = [r.run_id for r in runs if (folders[r.run_id] / MARKER).exists()]
    if told:
        return [r for r in runs if r.run_id > max(told)]
    begun = [r for r in runs[:-1] if (folders[r.run_id] / BEGUN).exists()]
    return begun + runs[-1:]


def after_run(workspace: Workspace, run_id: int | None = None, now: datetime | None = None) -> int:
    """Notify the new alerts and fired decision signals of run ``run_id`` (default: every run
    not yet told, see :func:`pending_runs`), then evaluate the ``[[rules]]`` on it; the number
    of notifications written. Idempotent."""
    from partnerscope.notify import rules
    from partnerscope.runs import get_run, run_folder

    moment = now or clock.now_utc()
    runs = [get_run(workspace, run_id)] if run_id is not None else pending_runs(workspace)
    for run in runs:
        (run_folder(workspace, run.run_id) / BEGUN).touch()
    written = 0
    for run in runs:
        written += _tell_run(workspace, run, moment)
        written += rules.evaluate(workspace, run.run_id, moment)  # one notification an action
        (run_folder(workspace, run.run_id) / MARKER).write_text(
            moment.isoformat(), encoding="utf-8"
        )
    return written


def _tell_run(workspace: Workspace, run: RunManifest, now: datetime) -> int:
    """One transaction for what a run found: its alerts, its decisions' signals and reviews."""
    from partnerscope.evaluation.view import EvaluationNotFoundError, RunData

    data = RunData(workspace, run.run_id)
    try:
        alerts = _latest(data.alerts.table.to_pylist())
    except EvaluationNotFoundError:  # a run of an older version, which evaluated nothing
        alerts = []
    owners = _alert_owners(workspace, [a["alert_id"] for a in alerts])
    found = _decision_alerts(workspace, run)
    records = _records(workspace) if found else {}
    words = workspace.words
    written = 0
    with appdb.connect(workspace).begin() as connection:
        for alert in alerts:
            written += _tell_alert(connection, words, data, alert, owners, now) is not None
        users = _user_names(connection)
        for row in found:
            record = records.get(int(row["decision_id"]))
            if record is None:
                continue
            if row["kind"] == "signal_fired":
                written += (
                    _tell_signal(connection, workspace, record, row, run, users, now) is not None
                )
            elif row["kind"] == "review_due" and row["due_on"] is not None:
                written += (
                    _tell_review(connection, words, record, row["due_on"], users, now) is not None
                )
    return written


def _latest(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts of the run's latest period (the table holds the earlier periods' too: they
    were news when their period was the latest)."""
    starts = [a["period_start"] for a in alerts if a["period_start"] is not None]
    if not starts:
        return []
    latest = max(starts)
    return [a for a in alerts if a["period_start"] == latest]


def _alert_owners(workspace: Workspace, ids: list[str]) -> dict[str, str]:
    from partnerscope.operations import alert_work

    if not ids:
        return {}
    return {k: v.owner for k, v in alert_work.states(workspace, ids).items() if v.owner}


def _tell_alert(
    connection: Connection,
    words: Words,
    data: Any,
    alert: dict[str, Any],
    owners: dict[str, str],
    now: datetime,
) -> int | None:
    """A staff notification of one alert, to the partner's managers and the alert's owner;
    the key names the alert (its id holds the partner, kind, metric and period), so an alert
    that stays from run to run is told once."""
    pid = str(alert["partner_id"])
    name = data.partner_name(pid)
    what = words.alert_kind(str(alert["kind"] or ""))
    metric = words.metric(str(alert["metric"])) if alert["metric"] else None
    title = f"{name}: {what}" + (f" on {metric}" if metric else "")
    severity = str(alert["severity"] or "").capitalize()
    owner = owners.get(str(alert["alert_id"]))
    facts = [("Partner", name), ("Period", str(alert["period"] or ""))]
    if severity:
        facts.append(("Severity", severity))
    return outbox.enqueue(
        connection,
        key=f"alert:{alert['alert_id']}",
        kind="alert",
        title=title,
        lines=[f"{name}: {alert['message']}."] if alert["message"] else [],
        facts=facts,
        partner_id=pid,
        users=[owner] if owner else (),
        link=f"/partners/{pid}",
        object_type="alert",
        object_id=str(alert["alert_id"]),
        now=now,
    )


def _decision_alerts(workspace: Workspace, run: RunManifest) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    from partnerscope.decisions.check import DECISION_ALERTS
    from partnerscope.runs import run_folder

    path = run_folder(workspace, run.run_id) / DECISION_ALERTS
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def _records(workspace: Workspace) -> dict[int, DecisionRecord]:
    from partnerscope.decisions.store import DecisionStore

    return {r.decision_id: r for r in DecisionStore.open(workspace).records()}


def _user_names(connection: Connection) -> set[str]:
    from sqlalchemy import select

    from partnerscope.appdb.tables import users

    return set(connection.execute(select(users.c.name).where(users.c.active)).scalars())


def _owner(record: DecisionRecord, users: set[str]) -> list[str]:
    """The decision's owner, when the owner is a user of the app."""
    return [record.owner] if record.owner and record.owner in users else []


def _tell_signal(
    connection: Connection,
    workspace: Workspace,
    record: DecisionRecord,
    row: dict[str, Any],
    run: RunManifest,
    users: set[str],
    now: datetime,
) -> int | None:
    """A fired signal, in words ("Win rate below 60.0% in each of the last 2 complete quarters,
    across the portfolio"), told once per signal and month of data (a signal that keeps firing
    is told again when a new month shows it still does)."""
    from partnerscope.decisions.signals import in_words

    assert record.commit is not None  # only a committed decision's signals are checked
    index = int(str(row["alert_id"]).rsplit(":", 1)[-1])
    signal = record.commit.signals[index]
    names = _names(workspace)
    said = in_words(
        signal.condition,
        workspace.words,
        workspace.catalog,
        grain=workspace.config.scorecard.grain,
        name=lambda pid: names.get(pid, pid),
    )
    what = "its stop condition is met" if signal.kind == "stop" else "a reversal signal fired"
    return outbox.enqueue(
        connection,
        key=f"signal:{row['alert_id']}:{run.last_month}",
        kind="signal",
        title=f"{record.ref} {record.title}: {what}",
        lines=[
            f"{what.capitalize()}: {said or signal.condition}.",
            "Review the decision: continue, adapt or stop it.",
        ],
        users=_owner(record, users),
        link=f"/decisions/{record.decision_id}",
        object_type="decision",
        object_id=str(record.decision_id),
        now=now,
    )


def _tell_review(
    connection: Connection,
    words: Words,
    record: DecisionRecord,
    on: date,
    users: set[str],
    now: datetime,
) -> int | None:
    """A scheduled review that has come (the same key whether a run or the sweep finds it)."""
    return outbox.enqueue(
        connection,
        key=f"review_due:{record.ref}:{on.isoformat()}",
        kind="review_due",
        title=f"{record.ref} {record.title}: a review is due",
        lines=[
            f"The review of {record.ref} {record.title} planned for {words.date(on)} is due"
            + (f" (owner {record.owner})." if record.owner else "."),
            "Record it: continue, adapt or stop the decision, and why.",
        ],
        users=_owner(record, users),
        link=f"/decisions/{record.decision_id}",
        object_type="decision",
        object_id=str(record.decision_id),
        now=now,
    )


# ------------------------------------------------------------------------------- time


def sweep(workspace: Workspace, now: datetime | None = None) -> int:
    """Notify what time has brought: reviews due, registrations expiring, lead SLA breaches,
    overdue onboarding tasks and check-ins. Idempotent; the number written.

    What was told before is skipped before anything is written, and the partners' names are
    read from the warehouse only when something is to be told: a tick every minute costs a few
    queries. A warehouse that cannot be read then (another process writing it) fails the sweep,
    which the next tick does again: a name is never replaced by an id for good."""
    moment = now or clock.now_utc()
    today = clock.today(workspace, moment)
    names = _Names(workspace)
    return (
        _reviews(workspace, today, moment)
        + _expiring(workspace, today, moment)
        + _breaches(workspace, names, moment)
        + _onboarding(workspace, names, today, moment)
    )


class _Names:
    """The partners' names, read from the warehouse when first asked for (none before the
    first import)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._names: dict[str, str] | None = None

    def get(self) -> dict[str, str]:
        if self._names is None:
            from partnerscope.warehouse import partner_names

            exists = self.workspace.warehouse_path.exists()
            self._names = partner_names(self.workspace) if exists else {}
        return self._names


def _names(workspace: Workspace) -> dict[str, str]:
    return _Names(workspace).get()


def _told(connection: Connection, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` were written before."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import notifications

    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(notifications.c.key).where(notifications.c.key.in_(chunk))
        found.update(connection.execute(query).scalars())
    return found


def _reviews(workspace: Workspace, today: date, now: datetime) -> int:
    from partnerscope.decisions import cadence

    records = list(_records(workspace).values())
    due = [(r, s.on) for r in records for s in cadence.due(r, today)]
    if not due:
        return 0
    written = 0
    with appdb.connect(workspace).begin() as connection:
        users = _user_names(connection)
        for record, on in due:
            told = _tell_review(connection, workspace.words, record, on, users, now)
            written += told is not None
    return written


def _expiring(workspace: Workspace, today: date, now: datetime) -> int:
    from partnerscope.operations.registrations import notices, registrations

    warning = workspace.config.registration.warning_days
    soon = [
        (r, (r.protected_until - today).days)
        for r in registrations(workspace, status="protected")
        if r.protected_until is not None and 0 <= (r.protected_until - today).days <= warning
    ]
    if not soon:
        return 0
    written = 0
    with appdb.connect(workspace).begin() as connection:
        for found, days_left in soon:
            told = notices.expiring(connection, workspace.words, found, days_left, now=now)
            written += told is not None
    return written


def _breaches(workspace: Workspace, names: _Names, now: datetime) -> int:
    """Assignments still waiting past their SLA (``check_sla`` tells the same, under the same
    keys, when it re-routes them)."""
    from sqlalchemy import select

    from partnerscope.appdb.tables import lead_assignments
    from partnerscope.operations.routing import notices, store

    t = lead_assignments
    written = 0
    with appdb.connect(workspace).begin() as connection:
        late = connection.execute(
            select(t)
            .where(t.c.status == store.Status.ASSIGNED.value, t.c.sla_due_at < now)
            .order_by(t.c.sla_due_at, t.c.lead_id)
        )
        found = [store.assignment(row) for row in late]
        told = _told(connection, (f"sla:{a.assignment_id}:partner" for a in found))
        for assignment in found:
            if f"sla:{assignment.assignment_id}:partner" in told:
                continue
            written += notices.breached(
                connection, workspace.words, assignment, names.get(), now=now
            )
    return written


def _onboarding(workspace: Workspace, names: _Names, today: date, now: datetime) -> int:
    """Each onboarding task (a check-in is one) open past its due date: the partner's managers
    are told, and the partner too when the task is its own."""
    from partnerscope.lifecycle import onboarding

    def key_of(partner_id: str, task: onboarding.Task) -> str:
        return f"onboarding:{partner_id}:{task.key}:{task.due_on.isoformat()}"

    late = [(p, t) for p in onboarding.plans(workspace) for t in p.tasks if t.overdue(today)]
    if not late:
        return 0
    words = workspace.words
    written = 0
    with appdb.connect(workspace).begin() as connection:
        told = _told(connection, (key_of(p.partner_id, t) for p, t in late))
        for plan, task in late:
            key = key_of(plan.partner_id, task)
            if key in told:
                continue
            name = names.get().get(plan.partner_id, plan.partner_id)
            link = f"/onboarding/{plan.partner_id}"
            due = words.date(task.due_on)
            written += (
                outbox.enqueue(
                    connection,
                    key=key,
                    kind="onboarding",
                    title=f"{name}'s onboarding: “{task.title}” is overdue",
                    lines=[
                        f"“{task.title}” in {name}'s onboarding plan was due on {due} and is "
                        f"still open (owner: {task.owner}).",
                    ],
                    partner_id=plan.partner_id,
                    link=link,
                    object_type="onboarding_task",
                    object_id=f"{plan.partner_id}:{task.key}",
                    now=now,
                )
                is not None
            )
            if task.for_partner:
                written += (
                    outbox.enqueue(
                        connection,
                        key=f"{key}:partner",
                        kind="onboarding",
                        title=f"Your onboarding task “{task.title}” is overdue",
                        lines=[
                            f"“{task.title}” was due on {due}.",
                            "Complete it in your onboarding plan.",
                        ],
                        audience="partner",
                        partner_id=plan.partner_id,
                        roles=(),
                        webhooks=(),  # the staff twin goes to the webhooks
                        link=link,
                        object_type="onboarding_task",
                        object_id=f"{plan.partner_id}:{task.key}",
                        now=now,
                    )
                    is not None
                )
    return written
