"""What each ``[[schedules]]`` entry sends (owner: schedules): the notifications a firing
writes, read from the latest run, the payout ledgers, the warehouse and the tasks before the
firing's transaction (:func:`partnerscope.notify.schedules.run_due` writes them in it).

- ``scorecards``: one per partner scored in the latest period, to its users (audience
  "partner"), its scorecard's partner edition attached;
- ``manager_digest``: to each partner manager, their partners' week: new alerts, deals won,
  open tasks — sentences with names and money (staff only);
- ``executive_summary``: one, to the roles and addresses, the executive summary attached;
- ``payout_statements``: per partner of each ledger approved since the last firing, its
  statement attached (once per ledger and partner).

A partner's notification holds only what its users may read: its own name, period, date and
money, never a score judgement, alert or another partner.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from partnerscope.notify.schedules import Fired, utc
from partnerscope.settings.schedules import ScheduleSettings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.evaluation.view import RunData
    from partnerscope.present import Words
    from partnerscope.workspace import Workspace

#: one notification to write, in the firing's transaction (its id, or None: written before)
Write = Callable[["Connection"], "int | None"]


def _enqueue(**values: Any) -> Write:
    from partnerscope.outbox import enqueue

    return lambda connection: enqueue(connection, **values)


def _key(schedule: ScheduleSettings, fire_at: datetime, who: str) -> str:
    return f"schedule:{schedule.name}:{fire_at:%Y%m%dT%H%M}:{who}"


def _run(workspace: Workspace, done: Fired) -> RunData | None:
    from partnerscope.evaluation.view import RunData
    from partnerscope.runs import latest_run

    run = latest_run(workspace)
    if run is None:
        done.notes.append("no run yet, nothing to send (compute one with `partnerscope run`)")
        return None
    return RunData(workspace, run.run_id)


def _partners(
    workspace: Workspace, schedule: ScheduleSettings, known: Iterable[str], done: Fired
) -> list[str]:
    """The partners a schedule is for, among ``known``; ids it names that are not there are
    noted (a typo, a partner gone)."""
    known = list(known)
    if schedule.every_partner:
        return known
    present = set(known)
    missing = [p for p in schedule.partners if p not in present]
    if missing:
        done.notes.append(
            f"partner{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} not in the latest run (left out)"
        )
    return [p for p in schedule.partners if p in present]


def _partner_users(workspace: Workspace) -> set[str]:
    """Partners with an active partner user (someone to receive what is theirs)."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.appdb.tables import users

    with appdb.connect(workspace).connect() as connection:
        rows = connection.execute(
            select(users.c.partner_id).where(
                users.c.role == "partner_user", users.c.active, users.c.partner_id.is_not(None)
            )
        ).all()
    return {str(pid) for (pid,) in rows}


def _readers(workspace: Workspace, schedule: ScheduleSettings) -> set[str] | None:
    """When only a partner's own users receive a schedule's copies (it names no role and no
    address): the partners that have an active user, the others getting nothing. None: every
    partner's copy has a reader."""
    return None if schedule.roles or schedule.addresses else _partner_users(workspace)


# ------------------------------------------------------------------------------ what each sends


def _scorecards(
    workspace: Workspace,
    schedule: ScheduleSettings,
    fire_at: datetime,
    previous: datetime | None,
    done: Fired,
) -> list[Write]:
    """One notification per partner scored in the latest period: its scorecard's partner
    edition attached, to its users (and to the schedule's roles and addresses)."""
    import pyarrow.compute as pc

    data = _run(workspace, done)
    if data is None:
        return []
    words = workspace.words
    start, label = data.pick_period(None)
    cards = data.scorecards.table
    scored = cards.filter(pc.equal(cards["period_start"], start))["partner_id"].to_pylist()
    partners = _partners(workspace, schedule, scored, done)
    readers = _readers(workspace, schedule)
    if readers is not None:
        left = [p for p in partners if p not in readers]
        if left:
            done.notes.append(
                f"{len(left):,} partner{'s have' if len(left) != 1 else ' has'} no user to "
                "send it to"
            )
        partners = [p for p in partners if p in readers]
    as_of = words.date(data.run.as_of_time)
    writes = []
    for pid in partners:
        name = data.partner_name(pid)
        writes.append(
            _enqueue(
                key=_key(schedule, fire_at, pid),
                kind="report",
                title=f"{name}: your scorecard for {label}",
                lines=[
                    f"Your scorecard for {label} is attached: your score, your tier and what "
                    "the next tier needs, and each measure with its trend.",
                    f"Its figures are from the data as of {as_of}.",
                ],
                facts=[("Partner", name), ("Period", label), ("Data as of", as_of)],
                audience="partner",
                partner_id=pid,
                roles=list(schedule.roles),
                addresses=list(schedule.addresses),
                link=f"/partners/{pid}",
                attachment={
                    "report": "scorecard",
                    "partner": pid,
                    "run": data.run.run_id,
                    "period": label,
                },
                object_type="schedule",
                object_id=schedule.name,
                now=fire_at,
            )
        )
    return writes


def _executive(
    workspace: Workspace,
    schedule: ScheduleSettings,
    fire_at: datetime,
    previous: datetime | None,
    done: Fired,
) -> list[Write]:
    """One notification: the executive summary attached, to the roles and addresses."""
    data = _run(workspace, done)
    if data is None:
        return []
    words = workspace.words
    _, label = data.pick_period(None)
    as_of = words.date(data.run.as_of_time)
    return [
        _enqueue(
            key=_key(schedule, fire_at, "all"),
            kind="report",
            title=f"Executive summary for {label}",
            lines=[
                f"The executive summary of {label} is attached: the channel against its "
                "goals, tiers and their moves, risers and decliners, alerts and decisions.",
                f"Its figures are from the data as of {as_of}.",
            ],
            facts=[("Period", label), ("Data as of", as_of)],
            audience="staff",
            # the schedule's roles (the kind has none by default); "only" would drop them
            roles=list(schedule.roles),
            addresses=list(schedule.addresses),
            link="/",
            attachment={"report": "executive", "run": data.run.run_id, "period": label},
            object_type="schedule",
            object_id=schedule.name,
            now=fire_at,
        )
    ]


def _payout_statements(
    workspace: Workspace,
    schedule: ScheduleSettings,
    fire_at: datetime,
    previous: datetime | None,
    done: Fired,
) -> list[Write]:
    """Per partner of each ledger approved since the last firing: its statement attached.
    Keyed by ledger and partner, so a statement goes once however the firings fall."""
    from partnerscope.money.payouts import LOCKED, Payouts

    payouts = Payouts(workspace)
    ledgers = [
        ledger
        for ledger in payouts.periods()
        if ledger.status in LOCKED
        and ledger.approved_at is not None
        and ledger.approved_at <= fire_at
        and (previous is None or ledger.approved_at > previous)
    ]
    words = workspace.words
    writes: list[Write] = []
    names: dict[str, str] = {}
    readers = _readers(workspace, schedule) if ledgers else None
    for summary in ledgers:
        ledger = payouts.ledger(summary.period)
        totals = ledger.partner_totals()
        if not names:
            names = _names(workspace, ledger.run_id)
        partners = [
            p
            for p in _partners(workspace, schedule, totals, done)
            if readers is None or p in readers
        ]
        approved = words.date(ledger.approved_at)
        for pid in partners:
            name = names.get(pid, pid)
            total = words.money(totals[pid], cents=True)
            writes.append(
                _enqueue(
                    key=f"schedule:{schedule.name}:{ledger.period}:{pid}",
                    kind="report",
                    title=f"{name}: your payout statement for {ledger.period}",
                    lines=[
                        f"Your payout for {ledger.period} comes to {total}; the statement "
                        "attached lists each line and why.",
                        f"The ledger was approved on {approved}.",
                    ],
                    facts=[("Quarter", ledger.period), ("Total", total), ("Approved", approved)],
                    audience="partner",
                    partner_id=pid,
                    roles=list(schedule.roles),
                    addresses=list(schedule.addresses),
                    link=f"/payouts/{ledger.period}",
                    attachment={
                        "report": "payout_statement",
                        "partner": pid,
                        "period": ledger.period,
                    },
                    object_type="schedule",
                    object_id=schedule.name,
                    now=fire_at,
                )
            )
    return writes


def _names(workspace: Workspace, run_id: int) -> dict[str, str]:
    """Partner names of a run (none: the ids are shown)."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.runs import RunNotFoundError

    try:
        data = RunData(workspace, run_id)
        table = data.memberships.table
    except RunNotFoundError:
        return {}
    return {
        str(pid): str(name)
        for pid, name in zip(
            table["partner_id"].to_pylist(), table["name"].to_pylist(), strict=True
        )
        if name
    }


#: how many of each kind a digest names before "and N more"
DIGEST_NAMED = 8


def _manager_digest(
    workspace: Workspace,
    schedule: ScheduleSettings,
    fire_at: datetime,
    previous: datetime | None,
    done: Fired,
) -> list[Write]:
    """To each partner manager (each user of the schedule's roles): their partners' week —
    new alerts of the latest run, deals won in the week to the data's date, open tasks."""
    from partnerscope.accounts import Accounts, Role, visible_partners

    data = _run(workspace, done)
    if data is None:
        return []
    roles = set(schedule.roles or ("partner_manager",))
    readers = [
        u
        for u in Accounts.open(workspace).everyone()
        if u.active and u.role is not Role.PARTNER_USER and u.role.value in roles
    ]
    if not readers:
        done.notes.append(f"no active user with the role {' or '.join(sorted(roles))}")
        return []
    words = workspace.words
    names = _names(workspace, data.run.run_id)
    managers = data.managers
    # the week to the data's date (a run's data stops at its as-of time, not at the firing)
    end = min(fire_at, utc(data.run.as_of_time))
    begin = end - timedelta(days=7)
    alerts = _new_alerts(data)
    won = _won_deals(workspace, begin, end)
    tasks = _open_tasks(workspace)
    everyone = sorted(set(managers) | set(data.scorecards.spans))
    # each manager's partners grouped once (not the whole portfolio walked per reader);
    # visible_partners still decides on the partners of the reader's name
    by_manager: dict[str | None, dict[str, str | None]] = defaultdict(dict)
    for partner, name in managers.items():
        by_manager[name][partner] = name
    writes = []
    for user in readers:
        visible = visible_partners(user, by_manager.get(user.manages, {}))
        mine = sorted(everyone if visible is None else visible)
        if not mine:
            continue
        if schedule.partners and not schedule.every_partner:
            mine = [p for p in mine if p in schedule.partners]
        title, lines, facts = _digest_text(words, names, mine, alerts, won, tasks, words.date(end))
        writes.append(
            _enqueue(
                key=_key(schedule, fire_at, user.name),
                kind="report",
                title=title,
                lines=lines,
                facts=facts,
                audience="staff",
                users=[user.name],
                only=True,
                link="/partners",
                object_type="schedule",
                object_id=schedule.name,
                now=fire_at,
            )
        )
    return writes


def _new_alerts(data: RunData) -> dict[str, list[str]]:
    """Partner → the messages of its alerts new in the latest run."""
    table = data.alerts.table
    out: dict[str, list[str]] = defaultdict(list)
    for pid, status, message in zip(
        table["partner_id"].to_pylist(),
        table["status"].to_pylist(),
        table["message"].to_pylist(),
        strict=True,
    ):
        if status == "new":
            out[str(pid)].append(str(message))
    return out


def _won_deals(workspace: Workspace, begin: datetime, end: datetime) -> dict[str, list[float]]:
    """Partner → the amounts of its deals won in [begin, end)."""
    out: dict[str, list[float]] = defaultdict(list)
    with workspace.warehouse(read_only=True) as warehouse:
        rows = warehouse.con.execute(
            "SELECT partner_id, amount FROM opportunities WHERE status = 'won' "
            "AND partner_id IS NOT NULL AND closed_at >= ? AND closed_at < ?",
            [begin, end],
        ).fetchall()
    for pid, amount in rows:
        out[str(pid)].append(float(amount or 0.0))
    return out


def _open_tasks(workspace: Workspace) -> dict[str, list[tuple[str, Any]]]:
    """Partner → its open tasks (title, due date)."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.appdb.tables import tasks

    with appdb.connect(workspace).connect() as connection:
        rows = connection.execute(
            select(tasks.c.partner_id, tasks.c.title, tasks.c.due)
            .where(tasks.c.closed_at.is_(None))
            .order_by(tasks.c.due, tasks.c.task_id)
        ).all()
    out: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for pid, title, due_on in rows:
        out[str(pid)].append((str(title), due_on))
    return out


def _digest_text(
    words: Words,
    names: dict[str, str],
    mine: list[str],
    alerts: dict[str, list[str]],
    won: dict[str, list[float]],
    tasks: dict[str, list[tuple[str, Any]]],
    week_to: str,
) -> tuple[str, list[str], list[tuple[str, str]]]:
    """A manager's digest: its title, sentences and facts."""

    def name(pid: str) -> str:
        return names.get(pid, pid)

    def plural(n: int, one: str, many: str) -> str:
        return f"{n:,} {one if n == 1 else many}"

    new = [(p, m) for p in mine for m in alerts.get(p, ())]
    deals = {p: won[p] for p in mine if won.get(p)}
    deal_count = sum(len(v) for v in deals.values())
    deal_total = sum(sum(v) for v in deals.values())
    open_tasks = [(p, t, d) for p in mine for t, d in tasks.get(p, ())]
    lines = [
        f"Your {plural(len(mine), 'partner', 'partners')} in the week to {week_to}: "
        f"{plural(len(new), 'new alert', 'new alerts')}, "
        f"{plural(deal_count, 'deal won', 'deals won')}"
        + (f" worth {words.money(deal_total)}" if deal_count else "")
        + f", {plural(len(open_tasks), 'open task', 'open tasks')}."
    ]
    for pid, message in new[:DIGEST_NAMED]:
        lines.append(f"New alert on {name(pid)}: {message.rstrip('.')}.")
    if len(new) > DIGEST_NAMED:
        lines.append(f"… and {plural(len(new) - DIGEST_NAMED, 'more alert', 'more alerts')}.")
    ranked = sorted(deals.items(), key=lambda item: (-sum(item[1]), item[0]))
    for pid, amounts in ranked[:DIGEST_NAMED]:
        lines.append(
            f"{name(pid)} won {plural(len(amounts), 'deal', 'deals')} worth "
            f"{words.money(sum(amounts))}."
        )
    if len(ranked) > DIGEST_NAMED:
        lines.append(
            f"… and {plural(len(ranked) - DIGEST_NAMED, 'more partner', 'more partners')} "
            "with deals won."
        )
    for pid, task, due_on in open_tasks[:DIGEST_NAMED]:
        when = f" (due {words.date(due_on)})" if due_on else ""
        lines.append(f"Open task for {name(pid)}: {task.rstrip('.')}{when}.")
    if len(open_tasks) > DIGEST_NAMED:
        lines.append(f"… and {plural(len(open_tasks) - DIGEST_NAMED, 'more task', 'more tasks')}.")
    facts = [
        ("Partners", f"{len(mine):,}"),
        ("New alerts", f"{len(new):,}"),
        ("Deals won", f"{deal_count:,}" + (f" ({words.money(deal_total)})" if deal_count else "")),
        ("Open tasks", f"{len(open_tasks):,}"),
    ]
    title = (
        f"Your partners this week: {plural(len(new), 'new alert', 'new alerts')}, "
        f"{plural(deal_count, 'deal won', 'deals won')}, "
        f"{plural(len(open_tasks), 'open task', 'open tasks')}"
    )
    return title, lines, facts


WRITERS: dict[
    str, Callable[[Workspace, ScheduleSettings, datetime, datetime | None, Fired], list[Write]]
] = {
    "scorecards": _scorecards,
    "manager_digest": _manager_digest,
    "executive_summary": _executive,
    "payout_statements": _payout_statements,
}
