"""Compliance audits: the audit trail behind a partner's compliance_score (the audits and
compliance checks of the 12 months ending at a period's end, with the audits' findings and
their corrective actions), and the open and overdue corrective actions (docs/compliance.md).

What a partner may see of its own audits: the date, the category, the weight, passed or not,
and every finding with its corrective action, owner, due date and closure (it must act on
them). The auditor and the audit's and check's notes are the vendor's internal judgement:
:meth:`Record.for_partner` leaves them out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError
from partnerscope.metrics.calendar import FiscalCalendar, Grain, Period, PeriodError, add_months

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: The audit categories in words (schema ``audits.category``).
CATEGORIES: dict[str, str] = {
    "margin_requirements": "Margin requirements",
    "certification_standards": "Certification standards",
    "marketing_guidelines": "Marketing guidelines",
    "data_security": "Data security",
    "anti_corruption": "Anti-corruption",
}


class ComplianceError(PartnerscopeError, ValueError):
    """A period or partner asked for that does not exist."""


def category_words(category: str) -> str:
    return CATEGORIES.get(category, category.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Finding:
    finding_id: str
    audit_id: str
    partner_id: str
    audited_at: date
    category: str
    severity: str
    finding: str
    corrective_action: str | None
    owner: str | None
    due_at: date | None
    closed_at: date | None

    def open_on(self, day: date) -> bool:
        """Open at the end of ``day``: found by then and not closed by then."""
        return self.audited_at <= day and (self.closed_at is None or self.closed_at > day)

    def overdue_on(self, day: date) -> bool:
        """Open at the end of ``day`` and due before it."""
        return self.open_on(day) and self.due_at is not None and self.due_at < day

    def status(self, day: date) -> str:
        """``overdue``, ``open``, ``closed on time``, ``closed late`` or ``closed`` (no due
        date), as of the end of ``day``."""
        if self.overdue_on(day):
            return "overdue"
        if self.open_on(day) or self.closed_at is None:
            return "open"
        if self.due_at is None:
            return "closed"
        return "closed on time" if self.closed_at <= self.due_at else "closed late"


@dataclass(frozen=True)
class Record:
    """One audit or compliance check that counts in compliance_score."""

    record_id: str
    source: str  # "audit" or "check"
    partner_id: str
    day: date
    category: str
    weight: float
    passed: bool
    auditor: str | None = None
    notes: str | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def what(self) -> str:
        """The category in words (an audit's category; a check's type as written)."""
        return category_words(self.category) if self.source == "audit" else self.category

    def for_partner(self) -> Record:
        """The record as the partner itself sees it: without the auditor and the notes."""
        return replace(self, auditor=None, notes=None)


@dataclass(frozen=True)
class Trail:
    """The records that made a partner's compliance_score for a period."""

    partner_id: str
    partner: str
    period: str
    #: the window's first day and its last day (inclusive)
    first_day: date
    last_day: date
    records: tuple[Record, ...]

    @property
    def weight(self) -> float:
        return sum(r.weight for r in self.records)

    @property
    def passed_weight(self) -> float:
        return sum(r.weight for r in self.records if r.passed)

    @property
    def score(self) -> float | None:
        """100 × Σ weight passed / Σ weight; None without any weight (as the metric)."""
        return 100 * self.passed_weight / self.weight if self.weight else None

    def for_partner(self) -> Trail:
        return replace(self, records=tuple(r.for_partner() for r in self.records))


@dataclass(frozen=True)
class CategoryRate:
    category: str
    audits: int
    passed: int
    partners: int

    @property
    def label(self) -> str:
        return category_words(self.category)

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.audits if self.audits else None


@dataclass
class Overview:
    """Audits by category with their pass rates, and the corrective actions open on a day."""

    period: str
    first_day: date
    last_day: date
    categories: list[CategoryRate] = field(default_factory=list)
    actions: list[Finding] = field(default_factory=list)

    @property
    def overdue(self) -> list[Finding]:
        return [f for f in self.actions if f.overdue_on(self.last_day)]


def period_of(workspace: Workspace, text: str | None) -> Period:
    """The period asked for (``FY2025-Q2``, ``2025-06``, ``FY2025``); by default the last
    complete one at the scorecard's grain before the latest run's as-of date (else today)."""
    calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
    if text:
        try:
            return calendar.parse(text)
        except PeriodError as exc:
            raise ComplianceError(f"--period: {exc}") from None
    from partnerscope.lifecycle.enablement import default_day

    grain = Grain(workspace.config.scorecard.grain)
    return calendar.period_of(default_day(workspace), grain).previous()


def window(period: Period) -> tuple[date, date]:
    """compliance_score's window for a period: the 12 months ending at its end (inclusive)."""
    return add_months(period.end, -12), period.end - timedelta(days=1)


def _findings(workspace: Workspace, partner_ids: list[str] | None) -> list[Finding]:
    from partnerscope.warehouse import read_warehouse

    if not workspace.warehouse_path.is_file():
        return []
    where, params = _partners_clause("f.partner_id", partner_ids)
    rows = read_warehouse(
        workspace,
        "SELECT f.finding_id, f.audit_id, f.partner_id, a.audited_at, a.category, f.severity, "
        "f.finding, f.corrective_action, f.owner, f.due_at, f.closed_at "
        "FROM audit_findings f JOIN audits a ON a.audit_id = f.audit_id "
        f"WHERE (f.closed_at IS NULL OR f.closed_at >= a.audited_at){where} "
        "ORDER BY a.audited_at, f.finding_id",
        params,
    )
    return [Finding(*row) for row in rows]


def _partners_clause(column: str, partner_ids: list[str] | None) -> tuple[str, list[str]]:
    if partner_ids is None:
        return "", []
    if not partner_ids:
        return " AND FALSE", []
    return f" AND {column} IN ({', '.join('?' for _ in partner_ids)})", list(partner_ids)


def records(
    workspace: Workspace, partner_ids: list[str] | None, first_day: date, last_day: date
) -> list[Record]:
    """The audits and checks dated within the days given (inclusive), with the audits'
    findings, oldest first."""
    from partnerscope.warehouse import read_warehouse

    if not workspace.warehouse_path.is_file():
        return []
    where, params = _partners_clause("partner_id", partner_ids)
    rows = read_warehouse(
        workspace,
        "SELECT audit_id, 'audit', partner_id, audited_at, category, weight, passed, auditor, "
        f"notes FROM audits WHERE audited_at BETWEEN ? AND ?{where} "
        "UNION ALL SELECT check_id, 'check', partner_id, checked_at, check_type, weight, passed, "
        f"NULL, notes FROM compliance_checks WHERE checked_at BETWEEN ? AND ?{where} "
        "ORDER BY 4, 1",
        [first_day, last_day, *params, first_day, last_day, *params],
    )
    found: dict[str, list[Finding]] = defaultdict(list)
    for f in _findings(workspace, partner_ids):
        found[f.audit_id].append(f)
    out = []
    for rid, source, pid, day, category, weight, passed, auditor, notes in rows:
        findings = tuple(found.get(rid, ())) if source == "audit" else ()
        out.append(
            Record(
                rid,
                source,
                pid,
                day,
                category,
                float(weight or 0),
                bool(passed),
                auditor,
                notes,
                findings,
            )
        )
    return out


def trail(workspace: Workspace, partner_id: str, period: str | None = None) -> Trail:
    """The audit trail behind a partner's compliance_score for a period."""
    from partnerscope.warehouse import partner_names

    names = partner_names(workspace) if workspace.warehouse_path.is_file() else {}
    if partner_id not in names:
        raise ComplianceError(f"no partner {partner_id!r} in the warehouse")
    chosen = period_of(workspace, period)
    first, last = window(chosen)
    return Trail(
        partner_id,
        names[partner_id],
        chosen.label,
        first,
        last,
        tuple(records(workspace, [partner_id], first, last)),
    )


def overview(
    workspace: Workspace, partner_ids: list[str] | None, period: str | None = None
) -> Overview:
    """The audits of a period's 12-month window by category, and the corrective actions open
    at its end (the partners given; None: every partner)."""
    chosen = period_of(workspace, period)
    first, last = window(chosen)
    seen = records(workspace, partner_ids, first, last)
    by_category: dict[str, list[Record]] = defaultdict(list)
    for r in seen:
        if r.source == "audit":
            by_category[r.category].append(r)
    rates = [
        CategoryRate(c, len(rs), sum(1 for r in rs if r.passed), len({r.partner_id for r in rs}))
        for c, rs in sorted(by_category.items(), key=lambda kv: category_words(kv[0]))
    ]
    actions = [f for f in _findings(workspace, partner_ids) if f.open_on(last)]
    actions.sort(key=lambda f: (not f.overdue_on(last), f.due_at or date.max, f.finding_id))
    return Overview(chosen.label, first, last, rates, actions)


def findings(
    workspace: Workspace,
    partner_ids: list[str] | None,
    *,
    open_only: bool = False,
    on: date | None = None,
) -> list[Finding]:
    """Audit findings (the partners given; None: all), those open at the end of ``on`` only
    when ``open_only``."""
    every = _findings(workspace, partner_ids)
    if not open_only:
        return every
    day = on or date.max
    return [f for f in every if f.open_on(day)]
