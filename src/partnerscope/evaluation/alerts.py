"""Alerts for the latest period: a metric past its threshold, or a sudden change.

A sudden change is the latest period-on-period change of a metric (or of its average over a
trailing window), scored as a robust z against the partner's own earlier changes and against
the same period's changes of its peer cohort; only a change in the metric's bad direction
alerts. A change is judged only where both of its sides rest on enough events (closed deals by
default), and a z beyond what a few periods can measure is capped and said in words. Every
alert has an id that stays the same from run to run, so that :func:`dedupe` can tell a new
alert from one already raised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from partnerscope.errors import ConfigError
from partnerscope.evaluation.normalize import MAD_SCALE, MEAN_AD_SCALE
from partnerscope.evaluation.panel import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    Panel,
    Rows,
    group_ids,
    grouped_count,
    grouped_median,
    grouped_sum,
)
from partnerscope.metrics.definition import Unit
from partnerscope.settings.evaluation import Severity

if TYPE_CHECKING:
    from datetime import date

    import pyarrow as pa

    from partnerscope.present import Words
    from partnerscope.settings.evaluation import AlertSettings, AnomalySettings, Threshold
    from partnerscope.settings.predict import PredictSettings

_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}


class AlertKind(StrEnum):
    THRESHOLD = "threshold"
    ANOMALY_OWN = "anomaly_own"
    ANOMALY_COHORT = "anomaly_cohort"


@dataclass(frozen=True)
class _Alert:
    row: int
    kind: AlertKind
    metric: str
    severity: Severity
    value: float
    reference: float
    z: float | None
    message: str


def evaluate_alerts(
    panel: Panel,
    fields: Mapping[str, FloatArray],
    cohort: ObjectArray,
    directions: Mapping[str, str],
    settings: AlertSettings,
    words: Words,
) -> pa.Table:
    """Alerts of the partners in the panel's latest period, each with its message in words
    (``words``: the workspace's labels, units and currency).

    ``fields`` holds one value per panel row for every metric and derived value the settings
    name; ``cohort`` is each row's peer-cohort key; ``directions`` says per metric whether
    "higher" or "lower" is better ("none": it never raises an anomaly).
    """
    from partnerscope.errors import did_you_mean

    names = [t.metric for t in settings.thresholds]
    names += [t.evidence for t in settings.thresholds if t.evidence is not None]
    names += [
        settings.anomalies.evidence_of[m]
        for m in settings.anomalies.metrics
        if m in settings.anomalies.evidence_of
    ]
    missing = sorted(set(names + list(settings.anomalies.metrics)) - set(fields))
    if missing:
        raise ConfigError(
            "[alerts]",
            [
                f"no values of {name!r} are computed for the scorecard{did_you_mean(name, fields)}"
                for name in missing
            ],
        )
    evidence = None
    if settings.anomalies.metrics and settings.anomalies.min_evidence > 0:
        name = settings.anomalies.evidence
        if name not in fields:
            raise ConfigError(
                "[alerts.anomalies]",
                [
                    f"evidence: no values of {name!r} are computed for the scorecard"
                    f"{did_you_mean(name, fields)}; name a count of events, or set "
                    "min_evidence = 0"
                ],
            )
        evidence = np.asarray(fields[name], dtype=np.float64)
    latest = panel.rows_of(panel.latest)
    scored = np.asarray(fields["scored"]) != 0 if "scored" in fields else None
    if scored is not None:
        # a partner the scorecard left out (inactive, not yet joined) raises no alert
        latest = latest[scored[latest]]
        fields = {k: np.where(scored, v, np.nan) for k, v in fields.items()}
    alerts = _thresholds(fields, latest, settings.thresholds, words)
    peers = _Peers.of(panel, cohort, latest)
    for metric in settings.anomalies.metrics:
        direction = directions.get(metric, "none")
        own = settings.anomalies.evidence_of.get(metric)
        counted = evidence
        if own is not None and settings.anomalies.min_evidence > 0:
            # a metric whose events are not deals rests on its own count of events
            counted = np.asarray(fields[own], dtype=np.float64)
        if direction in ("higher", "lower"):
            alerts += _anomalies(
                peers, fields[metric], counted, metric, direction, settings.anomalies, words
            )
    alerts.sort(key=lambda a: a.row)
    return _table(panel, alerts)


def dedupe(current: pa.Table, previous: pa.Table | None, run_id: int) -> pa.Table:
    """``current`` with ``first_seen_run`` and ``status``: an alert already in ``previous`` (the
    table this returned for the previous run) keeps its first run and is "ongoing"."""
    import pyarrow as pa

    seen: dict[str, int] = {}
    if previous is not None:
        seen = dict(
            zip(
                previous["alert_id"].to_pylist(),
                previous["first_seen_run"].to_pylist(),
                strict=True,
            )
        )
    ids = current["alert_id"].to_pylist()
    for name in ("first_seen_run", "status"):
        if name in current.column_names:
            current = current.drop_columns([name])
    first = pa.array([seen.get(i, run_id) for i in ids], pa.int64())
    status = pa.array(["ongoing" if i in seen else "new" for i in ids], pa.string())
    return current.append_column("first_seen_run", first).append_column("status", status)


def alert_id(partner_id: str, kind: str, metric: str, period_start: str) -> str:
    """A short id that is the same for the same alert in every run."""
    text = "\x1f".join((partner_id, kind, metric, period_start))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


# ------------------------------------------------------------------------------------ thresholds


def _thresholds(
    fields: Mapping[str, FloatArray], latest: IntArray, thresholds: list[Threshold], words: Words
) -> list[_Alert]:
    # One alert per partner and metric (its id does not know the bound): where several bounds
    # of a metric are crossed, the most severe one speaks, then the first configured.
    order = sorted(range(len(thresholds)), key=lambda i: -_RANK[thresholds[i].severity])
    alerts: list[_Alert] = []
    done: set[tuple[int, str]] = set()
    for i in order:
        t = thresholds[i]
        values = fields[t.metric][latest]
        if t.below is not None:
            bound, word, hit = t.below, "below", values < t.below
        else:
            assert t.above is not None  # the settings require exactly one bound
            bound, word, hit = t.above, "above", values > t.above
        if t.evidence is not None and t.min_evidence > 0:
            # judged only on enough events in the period (no count: no events)
            counted = np.nan_to_num(np.asarray(fields[t.evidence], dtype=np.float64)[latest])
            hit &= counted >= t.min_evidence
        for j in np.flatnonzero(hit).tolist():
            row = int(latest[j])
            if (row, t.metric) in done:
                continue
            done.add((row, t.metric))
            alerts.append(
                _Alert(
                    row,
                    AlertKind.THRESHOLD,
                    t.metric,
                    t.severity,
                    float(values[j]),
                    float(bound),
                    None,
                    f"{words.metric(t.metric)} is {words.of_metric(t.metric, values[j])}, "
                    f"{word} the threshold of {words.of_metric(t.metric, bound)}",
                )
            )
    return alerts


# ------------------------------------------------------------------------------------- anomalies


@dataclass(frozen=True)
class _Peers:
    """Who a latest change is judged against: the partner's earlier rows, and its cohort."""

    panel: Panel
    cohort: ObjectArray
    latest: IntArray
    #: partner number per row, and whether a row is an earlier one of a partner in ``latest``
    code: IntArray
    n_partners: int
    earlier: BoolArray
    #: cohort number per latest row
    group: IntArray
    n_groups: int
    rows: Rows

    @classmethod
    def of(cls, panel: Panel, cohort: ObjectArray, latest: IntArray) -> _Peers:
        rows = Rows(panel)
        code = rows.code
        n_partners = int(code.max(initial=-1)) + 1
        present = np.zeros(n_partners, dtype=bool)
        present[code[latest]] = True
        earlier = present[code] & (panel.period < panel.latest)
        group, n_groups = group_ids(cohort[latest])
        return cls(panel, cohort, latest, code, n_partners, earlier, group, n_groups, rows)


def _anomalies(
    peers: _Peers,
    values: FloatArray,
    evidence: FloatArray | None,
    metric: str,
    direction: str,
    settings: AnomalySettings,
    words: Words,
) -> list[_Alert]:
    panel, latest = peers.panel, peers.latest
    current, before = _sides(peers.rows, values, evidence, settings)
    change = current - before
    delta = change[latest]
    own = peers.code[latest]
    center, spread, count = robust(
        peers.code[peers.earlier], change[peers.earlier], peers.n_partners
    )
    # the cohort's changes in this period include the partner's own
    c_center, c_spread, c_count = robust(peers.group, delta, peers.n_groups)
    judged = (
        (AlertKind.ANOMALY_OWN, center[own], spread[own], count[own], settings.min_history),
        (
            AlertKind.ANOMALY_COHORT,
            c_center[peers.group],
            c_spread[peers.group],
            c_count[peers.group],
            settings.min_cohort,
        ),
    )
    bad = -1.0 if direction == "higher" else 1.0
    span = f"{panel.grain}s" if settings.window > 1 else panel.grain
    alerts = []
    for kind, mid, scale, n, needed in judged:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (delta - mid) / scale
        hit = (n >= needed) & (scale > 0) & (bad * delta > 0) & (bad * z >= settings.z)
        for i in np.flatnonzero(hit).tolist():
            row = int(latest[i])
            against = (
                f"its own changes over its last {n[i]} {panel.grain}s"
                if kind is AlertKind.ANOMALY_OWN
                else f"the changes of the {n[i]} partners of its peer group "
                f"({words.cohort(peers.cohort[row])}) this {span}"
            )
            changed = _change(
                words, metric, float(delta[i]), float(before[row]), settings.window, panel.grain
            )
            if abs(z[i]) > settings.z_cap:
                # a z of hundreds says the usual spread is tiny, not that the change is
                # measured that precisely: said in words, stored at the cap
                level = "below" if delta[i] < 0 else "above"
                how = (
                    f"{changed}, far {level} its usual level: more than "
                    f"{words.number(settings.z_cap)} times the usual size of {against}"
                )
            else:
                far = "far beyond" if abs(z[i]) >= 2 * settings.z else "well beyond"
                how = f"{changed}, {far} {against}"
            alerts.append(
                _Alert(
                    row,
                    kind,
                    metric,
                    Severity.HIGH if abs(z[i]) >= 2 * settings.z else Severity.MEDIUM,
                    float(current[row]),
                    float(before[row] + mid[i]),
                    float(np.clip(z[i], -settings.z_cap, settings.z_cap)),
                    how,
                )
            )
    return alerts


def _sides(
    rows: Rows, values: FloatArray, evidence: FloatArray | None, settings: AnomalySettings
) -> tuple[FloatArray, FloatArray]:
    """Per panel row, the metric's mean over the ``window`` periods ending with the row's and
    over the ``window`` periods before them; both NaN where the partner lacks one of those
    periods or either side has fewer than ``min_evidence`` events."""
    w = settings.window
    back = rows.lookback(np.arange(len(values)), 2 * w - 1)
    present = back >= 0

    def mean(columns: slice) -> FloatArray:
        taken = np.where(present[:, columns], values[np.maximum(back[:, columns], 0)], np.nan)
        count = (~np.isnan(taken)).sum(axis=1)
        total = np.nansum(taken, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            averaged: FloatArray = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        return averaged

    now, then = slice(0, w), slice(w, 2 * w)
    usable = present.all(axis=1)
    if evidence is not None:
        for side in (now, then):
            counted = np.where(present[:, side], evidence[np.maximum(back[:, side], 0)], 0.0)
            usable &= np.nan_to_num(counted).sum(axis=1) >= settings.min_evidence
    current, before = mean(now), mean(then)
    return np.where(usable, current, np.nan), np.where(usable, before, np.nan)


def robust(
    group: IntArray, values: FloatArray, n_groups: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Per group: the median, the robust spread (MAD × 1.4826, or the mean absolute deviation
    from the median × 1.2533 where the MAD is 0; 0 when both are) and the number of values."""
    center = grouped_median(group, values, n_groups)
    count = grouped_count(group, values, n_groups)
    deviation = np.abs(values - center[group])
    mad = grouped_median(group, deviation, n_groups) * MAD_SCALE
    mean_ad = grouped_sum(group, deviation, n_groups) / np.maximum(count, 1) * MEAN_AD_SCALE
    spread: FloatArray = np.where(mad > 0, mad, mean_ad)
    return center, spread, count


def _change(
    words: Words, metric: str, delta: float, before: float, window: int = 1, grain: str = ""
) -> str:
    """``New pipeline fell $362,863 (−52%) from $702,123``; a share's change in points; over
    a window of periods, ``Won revenue, averaged over the last 2 quarters, fell … from $702,123
    in the 2 before``."""
    word = "fell" if delta < 0 else "rose"
    if words.unit(metric) is Unit.SHARE:
        by = words.points(abs(delta)).removeprefix("+")
    else:
        by = words.of_metric(metric, abs(delta))
        if before:
            by += f" ({words.change(metric, before + delta, before)})"
    if window > 1:
        return (
            f"{words.metric(metric)}, averaged over the last {window} {grain}s, {word} {by} "
            f"from {words.of_metric(metric, before)} in the {window} before"
        )
    return f"{words.metric(metric)} {word} {by} from {words.of_metric(metric, before)}"


def _table(panel: Panel, alerts: list[_Alert]) -> pa.Table:
    import pyarrow as pa

    start = panel.periods[panel.latest] if panel.periods else None
    label = panel.labels[panel.latest] if panel.labels else None
    partners = [str(panel.partner[a.row]) for a in alerts]
    stamp = start.isoformat() if start else ""
    return pa.table(
        {
            "alert_id": [
                alert_id(p, a.kind.value, a.metric, stamp)
                for p, a in zip(partners, alerts, strict=True)
            ],
            "partner_id": partners,
            "period_start": [start] * len(alerts),
            "period": [label] * len(alerts),
            "kind": [a.kind.value for a in alerts],
            "metric": [a.metric for a in alerts],
            "severity": [a.severity.value for a in alerts],
            "value": [a.value for a in alerts],
            "reference": [a.reference for a in alerts],
            "z": [a.z for a in alerts],
            "message": [a.message for a in alerts],
        },
        schema=_schema(),
    )


def _schema() -> pa.Schema:
    """The columns of a run's alerts before :func:`dedupe` adds first_seen_run and status."""
    import pyarrow as pa

    return pa.schema(
        [
            ("alert_id", pa.string()),
            ("partner_id", pa.string()),
            ("period_start", pa.date32()),
            ("period", pa.string()),
            ("kind", pa.string()),
            ("metric", pa.string()),
            ("severity", pa.string()),
            ("value", pa.float64()),
            ("reference", pa.float64()),
            ("z", pa.float64()),
            ("message", pa.string()),
        ]
    )


def risk_alerts(
    risk: pa.Table,
    words: Words,
    settings: PredictSettings,
    *,
    start: date | None,
    label: str | None,
) -> pa.Table:
    """An alert for each partner whose risk of falling short is high or rising (the risk
    table's ``alert``), dated like the evaluation's alerts (``start``, ``label``: its latest
    period). ``value`` is the probability; ``reference`` the high-risk threshold, or for a
    rising risk the previous run's probability."""
    import pyarrow as pa

    from partnerscope.predict.outlook import risk_question

    rows = [r for r in risk.to_pylist() if r["alert"] in ("high", "rising")]
    stamp = start.isoformat() if start else ""
    what = risk_question(settings, words)

    def message(r: dict[str, Any]) -> str:
        chance = words.share(r["probability"], digits=0)
        if r["alert"] == "high":
            return f"{chance} chance of {what}"
        return f"Chance of {what} rose to {chance} from {words.share(r['previous'], digits=0)}"

    return pa.table(
        {
            "alert_id": [alert_id(r["partner_id"], "risk", "", stamp) for r in rows],
            "partner_id": [r["partner_id"] for r in rows],
            "period_start": [start] * len(rows),
            "period": [label] * len(rows),
            "kind": ["risk"] * len(rows),
            "metric": [None] * len(rows),
            "severity": ["high" if r["alert"] == "high" else "medium" for r in rows],
            "value": [r["probability"] for r in rows],
            "reference": [
                settings.high_risk if r["alert"] == "high" else r["previous"] for r in rows
            ],
            "z": [None] * len(rows),
            "message": [message(r) for r in rows],
        },
        schema=_schema(),
    )
