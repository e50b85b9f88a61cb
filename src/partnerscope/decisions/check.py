"""What every run checks on the committed decisions: reversal signals and stop conditions on
the run's metric values, and the reviews that are due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from partnerscope.decisions import cadence
from partnerscope.decisions.record import DecisionRecord, Status
from partnerscope.decisions.signals import Check, SignalError, check, parse

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.metrics.definition import Catalog

#: The file a run writes its decision alerts to.
DECISION_ALERTS = "decision_alerts.parquet"

AlertKind = Literal["signal_fired", "signal_unreadable", "review_due"]


@dataclass(frozen=True)
class DecisionAlert:
    alert_id: str
    decision_id: int
    kind: AlertKind
    message: str
    due_on: date | None = None


@dataclass(frozen=True)
class SignalState:
    decision_id: int
    condition: str
    kind: str
    check: Check | None
    error: str | None = None


def check_decisions(
    records: list[DecisionRecord],
    results: pa.Table,
    *,
    today: date,
    catalog: Catalog,
    grain: str,
) -> tuple[list[DecisionAlert], list[SignalState]]:
    """Alerts for the committed decisions, and the state of every signal looked at."""
    alerts: list[DecisionAlert] = []
    states: list[SignalState] = []
    for record in records:
        if record.status is not Status.COMMITTED or record.commit is None:
            continue
        name = f"{record.ref} {record.title}"
        for index, signal in enumerate(record.commit.signals):
            alert_id = f"{record.ref}:signal:{index}"
            try:
                condition = parse(signal.condition, catalog, default_grain=grain)
            except SignalError as exc:
                states.append(
                    SignalState(record.decision_id, signal.condition, signal.kind, None, str(exc))
                )
                alerts.append(
                    DecisionAlert(
                        alert_id,
                        record.decision_id,
                        "signal_unreadable",
                        f"{name}: the {signal.kind} signal cannot be checked: {exc}",
                    )
                )
                continue
            result = check(condition, results)
            states.append(SignalState(record.decision_id, signal.condition, signal.kind, result))
            if result.fired:
                what = "stop condition met" if signal.kind == "stop" else "reversal signal fired"
                alerts.append(
                    DecisionAlert(
                        alert_id,
                        record.decision_id,
                        "signal_fired",
                        f"{name}: {what}: {condition} ({result.detail}); review it with "
                        f"`partnerscope decide review {record.decision_id}`",
                    )
                )
        for scheduled in cadence.due(record, today):
            alerts.append(
                DecisionAlert(
                    f"{record.ref}:review:{scheduled.on.isoformat()}",
                    record.decision_id,
                    "review_due",
                    f"{name}: {scheduled.label()} is due (owner {record.owner})",
                    scheduled.on,
                )
            )
    return alerts, states


def to_table(alerts: list[DecisionAlert]) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "alert_id": pa.array([a.alert_id for a in alerts], pa.string()),
            "decision_id": pa.array([a.decision_id for a in alerts], pa.int64()),
            "kind": pa.array([a.kind for a in alerts], pa.string()),
            "message": pa.array([a.message for a in alerts], pa.string()),
            "due_on": pa.array([a.due_on for a in alerts], pa.date32()),
        }
    )
