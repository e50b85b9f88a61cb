"""``[[rules]]``: conditions over a run's results that act (docs/notifications.md, "Rules that
act").

A rule's ``when`` reads like a decision signal's condition (:mod:`partnerscope.decisions.
signals`): ``[SCOPE] METRIC OP NUMBER [for N quarters]``, checked partner by partner — a
partner matches when its value holds the comparison in each of its last N complete periods
(``for N periods``, or the rule's ``periods``, counts periods of the scorecard grain). The
scope narrows which partners are checked: ``portfolio`` (the default: every partner),
``partner=P0042`` or a group (``tier=Gold``, ``region="North America"``). ``when =
"next_tier_enablement_gap"`` matches the partners lacking a certification their next tier
requires (:mod:`partnerscope.lifecycle.enablement`).

What a match does (``do``):

- ``task``: a task on the partner for its manager (:mod:`partnerscope.notify.tasks`), titled by
  the rule's ``message``, and a "task" notification to the partner's managers;
- ``nudge``: a "nudge" notification to the partner's own users only, with the rule's message
  (partner-safe words: nothing internal);
- ``mdf``: a proposed MDF activity. MDF requests have no draft state (a request is submitted,
  then decided), so the proposal is a task titled "Propose an MDF activity: <message>" for the
  partner's manager, who submits the request if they agree.

Each rule acts once per partner and period (``rule_actions``, in the same transaction as the
action): evaluating the same run again, or a new run of the same period, acts on nothing new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, clock, outbox
from partnerscope.appdb.tables import rule_actions
from partnerscope.errors import ConfigError
from partnerscope.settings.rules import BUILTINS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.decisions.signals import Condition
    from partnerscope.evaluation.view import RunData
    from partnerscope.settings.rules import RuleSettings
    from partnerscope.workspace import Workspace

#: the actor the audit log names for what a rule did
ACTOR = "rules"
GAP = "next_tier_enablement_gap"
_PERIODS = re.compile(r"\s+for\s+(\d+)\s+periods?\s*$", re.IGNORECASE)
_FOR = re.compile(r"\s+for\s+\d+\s+[a-z]+\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    """A partner a rule matched in a period, and why, in words."""

    partner_id: str
    #: the label of the (last) period the condition held in, e.g. "FY2026-Q4"
    period: str
    why: str
    #: what a nudge may add for the partner's own users (partner-safe), if anything
    told: str | None = None


def condition(workspace: Workspace, rule: RuleSettings) -> Condition | None:
    """The rule's condition read as a decision signal's (None for a built-in); a mistake is a
    :class:`ConfigError` naming the rule."""
    from partnerscope.decisions.signals import SignalError, parse

    text = rule.when.strip()
    if text in BUILTINS:
        return None
    grain = workspace.config.scorecard.grain
    counted = _PERIODS.search(text)
    written = _FOR.search(text)
    if written is not None and rule.periods != 1:
        raise ConfigError(
            str(workspace.config_path),
            [
                f"rules ({rule.name}): say for how many periods once, either in `when` "
                f"({written[0].strip()!r}) or as periods = {rule.periods}"
            ],
        )
    if counted is not None:
        text = f"{text[: counted.start()]} for {counted[1]} {grain}s"
    elif written is None:
        text = f"{text} for {rule.periods} {grain}s"
    try:
        found = parse(text, workspace.catalog, default_grain=grain)
    except SignalError as exc:
        raise ConfigError(
            str(workspace.config_path), [f"rules ({rule.name}).when: {exc}"]
        ) from None
    if found.level == "company":
        raise ConfigError(
            str(workspace.config_path),
            [
                f"rules ({rule.name}).when: a rule is checked partner by partner; its scope "
                "is portfolio (every partner), partner=ID or a group such as tier=Gold"
            ],
        )
    return found


def matches(
    workspace: Workspace, data: RunData, rule: RuleSettings, found: Condition | None
) -> list[Match]:
    """The partners ``rule`` matches in run ``data``."""
    if found is None:
        return _gaps(workspace, data)
    import pyarrow.compute as pc

    from partnerscope.decisions.signals import OPERATORS

    table = data.results(found.grain).table
    table = table.filter(table["complete"]).select(
        ["group_key", "period_start", "label", found.metric]
    )
    table = table.sort_by([("group_key", "ascending"), ("period_start", "ascending")])
    if found.level == "partner":
        table = table.filter(pc.equal(table["group_key"], found.group))
    series: dict[str, list[tuple[str, float | None]]] = {}
    for row in table.to_pylist():
        series.setdefault(row["group_key"], []).append((row["label"], row[found.metric]))
    members = _members(data, found.level, found.group)
    compare = OPERATORS[found.op]
    words = workspace.words
    out = []
    for partner_id, values in series.items():
        if members is not None and partner_id not in members:
            continue
        last = values[-found.periods :]
        if len(last) < found.periods:
            continue
        if all(v is not None and compare(v, found.threshold) for _, v in last):
            shown = ", ".join(f"{label} {words.of_metric(found.metric, v)}" for label, v in last)
            out.append(Match(partner_id, last[-1][0], f"{words.metric(found.metric)}: {shown}"))
    return out


def _members(data: RunData, level: str, group: str) -> set[str] | None:
    """The partners of a group (their latest membership); None: every partner."""
    if level in ("portfolio", "partner"):
        return None
    table = data.memberships.table
    latest: dict[str, Any] = {}
    for row in table.select(["partner_id", "period_start", level]).to_pylist():
        before = latest.get(row["partner_id"])
        if before is None or row["period_start"] >= before[0]:
            latest[row["partner_id"]] = (row["period_start"], row[level])
    return {p for p, (_, value) in latest.items() if str(value) == group}


def _gaps(workspace: Workspace, data: RunData) -> list[Match]:
    from partnerscope.lifecycle.enablement import all_gaps

    period = data.periods[-1][1] if data.periods else data.run.last_month
    out = []
    for gaps in all_gaps(workspace):
        if gaps.next_tier and gaps.next_missing:
            needed = ", ".join(g.describe() for g in gaps.next_missing)
            why = f"{gaps.next_tier} needs {needed}"
            told = f"{gaps.next_tier} asks for what your team does not hold yet: {needed}."
            out.append(Match(gaps.partner_id, period, why, told))
    return out


# ------------------------------------------------------------------------------------ acting


def evaluate(workspace: Workspace, run_id: int | None = None, now: datetime | None = None) -> int:
    """Evaluate the rules on run ``run_id`` (default: the latest) and act, once per rule,
    partner and period; the number of actions taken. A rule that cannot be read is skipped:
    the others act, then a :class:`ConfigError` names every such rule."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.runs import RunNotFoundError

    rules = [r for r in workspace.config.rules if r.enabled]
    if not rules:
        return 0
    try:
        data = RunData(workspace, run_id)
    except RunNotFoundError:
        return 0
    moment = now or clock.now_utc()
    names = _names(workspace, data)
    managers = _ManagerBook.read(workspace, data)
    done = 0
    problems: list[str] = []
    for rule in rules:
        try:
            found = condition(workspace, rule)
        except ConfigError as exc:
            problems += exc.problems  # the other rules still act; this one is told below
            continue
        done += _act(
            workspace,
            rule,
            matches(workspace, data, rule, found),
            data.run.run_id,
            names,
            managers,
            moment,
        )
    if problems:
        raise ConfigError(str(workspace.config_path), problems)
    return done


@dataclass
class _ManagerBook:
    """Each partner's managers (user names), for the task's owner and its notification."""

    #: each active partner manager's partners (None: every partner)
    sees: dict[str, frozenset[str] | None]

    @classmethod
    def read(cls, workspace: Workspace, data: RunData) -> _ManagerBook:
        from partnerscope.accounts import Accounts, Role, visible_partners

        managers = data.managers
        return cls(
            {
                u.name: visible_partners(u, managers)
                for u in Accounts.open(workspace).everyone()
                if u.active and u.role is Role.PARTNER_MANAGER
            }
        )

    def of(self, partner_id: str) -> list[str]:
        return [name for name, seen in self.sees.items() if seen is None or partner_id in seen]


def _names(workspace: Workspace, data: RunData) -> dict[str, str]:
    """Each partner's name as the run knows it."""
    table = data.memberships.table.select(["partner_id", "name"])
    return {p: str(n) for p, n in zip(*table.to_pydict().values(), strict=True) if n}


def _act(
    workspace: Workspace,
    rule: RuleSettings,
    found: list[Match],
    run_id: int,
    names: dict[str, str],
    managers: _ManagerBook,
    now: datetime,
) -> int:
    """Act on the matches the rule has not acted on yet for their partner and period, in one
    transaction; how many."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    if not found:
        return 0
    done = 0
    try:
        with appdb.connect(workspace).begin() as connection:
            seen = {
                (r.partner_id, r.period)
                for r in connection.execute(
                    select(rule_actions.c.partner_id, rule_actions.c.period).where(
                        rule_actions.c.rule == rule.name
                    )
                )
            }
            for match in found:
                if (match.partner_id, match.period) in seen:
                    continue
                made = _do(connection, workspace, rule, match, names, managers, now)
                connection.execute(
                    rule_actions.insert().values(
                        rule=rule.name,
                        partner_id=match.partner_id,
                        period=match.period,
                        action=rule.do,
                        object_id=made,
                        run_id=run_id,
                        created_at=now,
                    )
                )
                seen.add((match.partner_id, match.period))
                done += 1
    except IntegrityError:
        return 0  # another process evaluated the same run at the same moment, and acted
    return done


def _do(
    connection: Connection,
    workspace: Workspace,
    rule: RuleSettings,
    match: Match,
    names: dict[str, str],
    managers: _ManagerBook,
    now: datetime,
) -> str | None:
    """The action itself, in the caller's transaction; what it made (a task's or a
    notification's id)."""
    from partnerscope.notify import tasks

    partner = names.get(match.partner_id, match.partner_id)
    key = f"rule:{rule.name}:{match.partner_id}:{match.period}"
    if rule.do == "nudge":
        made = outbox.enqueue(
            connection,
            key=key,
            kind="nudge",
            title=f"A suggestion for {partner}",
            lines=[rule.message, *([match.told] if match.told else [])],
            audience="partner",
            partner_id=match.partner_id,
            roles=(),
            object_type="partner",
            object_id=match.partner_id,
            now=now,
        )
        return None if made is None else str(made)
    owners = managers.of(match.partner_id)
    title = rule.message if rule.do == "task" else f"Propose an MDF activity: {rule.message}"
    detail = f"Opened by the rule {rule.name} for {match.period}: {match.why}."
    task_id = tasks.open_task(
        connection,
        partner_id=match.partner_id,
        title=title,
        detail=detail,
        owner=owners[0] if len(owners) == 1 else None,
        source=f"rule:{rule.name}",
        actor=ACTOR,
        now=now,
    )
    outbox.enqueue(
        connection,
        key=key,
        kind="task",
        title=f"New task on {partner}: {title}",
        lines=[detail],
        facts=[("Partner", partner), ("Period", match.period)],
        audience="staff",
        partner_id=match.partner_id,
        roles=("partner_manager",),
        link=f"/tasks?partner={match.partner_id}",
        object_type="task",
        object_id=str(task_id),
        now=now,
    )
    return str(task_id)
