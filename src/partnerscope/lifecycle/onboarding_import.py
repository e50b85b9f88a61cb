"""Import the onboarding task completions a team already keeps in a spreadsheet (CSV or XLSX,
read as the ingest reads its sources): one row per task closed, with the partner, the task's
key, the day, the evidence (or the reason it was skipped) and optionally who closed it.

All or nothing: every bad row is told with its file, row and column, and then nothing is
stored. A task the plan has closed already (by hand, by the data, or by an earlier import of
the same file) is left as it is: importing a file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from partnerscope import appdb
from partnerscope.errors import did_you_mean
from partnerscope.lifecycle.onboarding import (
    OnboardingError,
    Plan,
    TaskStatus,
    _close,
    _one_line,
    plans,
)
from partnerscope.lifecycle.sheets import ImportRefusedError, RowProblem, Sheet, read_sheet

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from partnerscope.workspace import Workspace

#: canonical column → the names a file may give it (case, spaces and dashes aside)
COLUMNS = {
    "partner_id": ("partner_id", "partner", "partner id"),
    "task": ("task", "task_key", "key"),
    "date": ("date", "completed_on", "done_on", "completed_at", "closed_on"),
    "evidence": ("evidence", "notes", "reason"),
    "status": ("status", "state"),
    "by": ("by", "completed_by", "closed_by"),
}
REQUIRED = ("partner_id", "task", "date", "evidence")


@dataclass(frozen=True)
class Imported:
    rows: int
    closed: int
    unchanged: int

    def summary(self) -> str:
        rows = f"{self.rows:,} row{'' if self.rows == 1 else 's'}"
        closed = f"{self.closed} task{'' if self.closed == 1 else 's'} closed"
        return f"{rows}: {closed}, {self.unchanged} closed already (left as they were)"


@dataclass(frozen=True)
class _Row:
    number: int
    plan: Plan
    task: str
    status: TaskStatus
    on: date
    evidence: str
    by: str


def _day(text: str) -> date:
    head = text.strip()[:10]
    return date.fromisoformat(head)


def import_completions(
    workspace: Workspace, path: Path, *, by: str, today: date | None = None
) -> Imported:
    """Close the tasks the file lists (see the module's docstring)."""
    from partnerscope import clock

    today = today or clock.today(workspace)
    sheet = read_sheet(
        path,
        COLUMNS,
        required=REQUIRED,
        layout="an onboarding file has one row per task closed with partner_id, task, date "
        "and evidence (optional: status done or skipped, by)",
    )
    problems = sheet.problems
    stored = {p.partner_id: p for p in plans(workspace)}
    rows: list[_Row] = []
    for number, cells in sheet.rows:

        def problem(
            column: str, message: str, cells: dict[str, str] = cells, number: int = number
        ) -> None:
            problems.append(sheet.problem(number, column, cells, message))

        row = _row(cells, number, stored, today, by, problem)
        if row is not None:
            rows.append(row)
    _check_prerequisites(rows, sheet, problems)
    if problems:
        raise ImportRefusedError(problems)
    closed = 0
    seen: set[tuple[str, str]] = set()
    with appdb.connect(workspace).begin() as connection:
        for row in sorted(rows, key=lambda r: (r.on, r.number)):
            task = row.plan.task(row.task)
            if not task.is_open or (row.plan.partner_id, row.task) in seen:
                continue
            seen.add((row.plan.partner_id, row.task))
            _close(
                connection,
                task,
                status=row.status,
                evidence=row.evidence,
                by=row.by,
                at=datetime.combine(row.on, time(12)),
                by_data=False,
                action="import_" + ("complete" if row.status is TaskStatus.DONE else "skip"),
            )
            closed += 1
    return Imported(len(sheet.rows), closed, len(rows) - closed)


def _row(
    cells: dict[str, str],
    number: int,
    stored: dict[str, Plan],
    today: date,
    by: str,
    tell: Callable[[str, str], None],
) -> _Row | None:
    bad = False
    for column in REQUIRED:
        if not cells.get(column):
            tell(column, f"{column} is required")
            bad = True
    if bad:
        return None
    partner = cells["partner_id"]
    plan = stored.get(partner)
    if plan is None:
        tell(
            "partner_id",
            f"{partner} has no onboarding plan; start it first (`partnerscope onboarding "
            f"start {partner}`){did_you_mean(partner, stored)}",
        )
        return None
    if not plan.has(cells["task"]):
        hint = did_you_mean(cells["task"], [t.key for t in plan.tasks])
        tell("task", f"no task {cells['task']!r} in {partner}'s plan{hint}")
        return None
    status = TaskStatus.DONE
    if cells.get("status"):
        given = cells["status"].lower()
        if given not in ("done", "skipped"):
            tell("status", "status is 'done' or 'skipped' (empty: done)")
            return None
        status = TaskStatus(given)
    try:
        on = _day(cells["date"])
    except ValueError:
        tell("date", "a date as YYYY-MM-DD")
        return None
    if on > today:
        tell("date", f"{on} is after today ({today}): a task is closed on a day that has been")
        return None
    if on < plan.started_on:
        tell("date", f"{on} is before the plan started ({plan.started_on})")
        return None
    try:
        evidence = _one_line(cells["evidence"], "evidence", "say what shows it is done")
    except OnboardingError as exc:
        tell("evidence", str(exc).removeprefix("evidence: "))
        return None
    return _Row(number, plan, cells["task"], status, on, evidence, cells.get("by") or by)


def _check_prerequisites(rows: list[_Row], sheet: Sheet, problems: list[RowProblem]) -> None:
    """A task done by the file needs each prerequisite closed already or by the file."""
    closing = {(r.plan.partner_id, r.task) for r in rows}
    for row in rows:
        task = row.plan.task(row.task)
        if not task.is_open or row.status is TaskStatus.SKIPPED:
            continue
        still = [
            r
            for r in task.requires
            if row.plan.has(r)
            and row.plan.task(r).is_open
            and (row.plan.partner_id, r) not in closing
        ]
        if still:
            problems.append(
                sheet.problem(
                    row.number,
                    "task",
                    {"task": row.task},
                    f"requires {', '.join(repr(r) for r in still)}, still open and not in the "
                    "file: close it first or add its row",
                )
            )
