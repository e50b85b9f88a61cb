"""Derived entities of compliance: checks and audits together, and audit findings dated by
their audit (docs/compliance.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.metrics.entity import Entity, Tables, columns_of
from partnerscope.schema import ColumnType

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: The columns compliance_score reads, common to compliance checks and audits.
RECORD_COLUMNS: dict[str, ColumnType] = {
    "record_id": ColumnType.STRING,
    "partner_id": ColumnType.STRING,
    "source": ColumnType.STRING,
    "checked_at": ColumnType.DATE,
    "check_type": ColumnType.STRING,
    "weight": ColumnType.NUMBER,
    "passed": ColumnType.BOOLEAN,
}


def _compliance_records(tables: Tables) -> ir.Table:
    import ibis

    checks, audits = tables("compliance_checks"), tables("audits")
    from_checks = checks.select(
        record_id=checks.check_id,
        partner_id=checks.partner_id,
        source=ibis.literal("check"),
        checked_at=checks.checked_at,
        check_type=checks.check_type,
        weight=checks.weight.cast("float64"),
        passed=checks.passed,
    )
    from_audits = audits.select(
        record_id=audits.audit_id,
        partner_id=audits.partner_id,
        source=ibis.literal("audit"),
        checked_at=audits.audited_at,
        check_type=audits.category,
        weight=audits.weight.cast("float64"),
        passed=audits.passed,
    )
    return from_checks.union(from_audits, distinct=False)


def _dated_findings(tables: Tables) -> ir.Table:
    """Findings with their audit's date and category; a finding closed before its audit took
    place (a data error) is left out."""
    findings, audits = tables("audit_findings"), tables("audits")
    dated = audits.select("audit_id", "audited_at", "category")
    joined = findings.join(dated, "audit_id")
    kept = joined.filter(joined.closed_at.isnull() | (joined.closed_at >= joined.audited_at))
    return kept.select(*findings.columns, "audited_at", "category")


def _overdue_findings(tables: Tables) -> ir.Table:
    """Findings whose corrective action was (or still is) past its due date: open on the day
    after due_at. ``overdue_from`` is that day; one closed on or before its due date never was."""
    import ibis

    findings = _dated_findings(tables)
    late = findings.filter(
        findings.due_at.notnull()
        & (findings.closed_at.isnull() | (findings.closed_at > findings.due_at))
    )
    return late.mutate(overdue_from=(late.due_at + ibis.interval(days=1)).cast("date"))


_FINDING_COLUMNS = columns_of("audit_findings") | {
    "audited_at": ColumnType.DATE,
    "category": ColumnType.STRING,
}

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "compliance_records",
        "Compliance checks and audits together, one row each: what compliance_score reads "
        "(source is 'check' or 'audit'; check_type is an audit's category).",
        RECORD_COLUMNS,
        True,
        _compliance_records,
    ),
    Entity(
        "dated_audit_findings",
        "Audit findings with their audit's date (audited_at) and category; findings closed "
        "before their audit are left out.",
        _FINDING_COLUMNS,
        True,
        _dated_findings,
    ),
    Entity(
        "overdue_audit_findings",
        "Audit findings whose corrective action went past its due date unclosed; overdue_from "
        "is the day after due_at.",
        _FINDING_COLUMNS | {"overdue_from": ColumnType.DATE},
        True,
        _overdue_findings,
    ),
)
