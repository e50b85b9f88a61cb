"""Small hand-written panels for the evaluation tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np

from partnerscope.evaluation.panel import Panel, previous_rows


def series_panel(
    grain: str,
    starts: list[date],
    labels: list[str],
    data: dict[str, dict[str, list[float]]],
    cohort: dict[str, str] | None = None,
    fields: Sequence[str] | None = None,
) -> Panel:
    """Each partner's lists hold its values in its last periods (the latest last); a partner
    with shorter lists joined later. ``fields`` (default: every name in ``data``) are the
    panel's values; the ones a partner lacks are NaN. Cohort keys default to "all"."""
    names = list(fields) if fields is not None else sorted({n for s in data.values() for n in s})
    partner, period, values = [], [], {name: [] for name in names}
    for pid in sorted(data):
        series = data[pid]
        n = max(len(v) for v in series.values())
        for k in range(n):
            partner.append(pid)
            period.append(len(starts) - n + k)
            for name in names:
                column = series.get(name, [math.nan] * n)
                values[name].append(
                    column[k - n + len(column)] if k >= n - len(column) else math.nan
                )
    p = np.array(period, dtype=np.int64)
    ids = np.array(partner, dtype=object)
    keys = np.array([(cohort or {}).get(pid, "all") for pid in partner], dtype=object)
    return Panel(
        grain=grain,
        partner=ids,
        period=p,
        periods=starts,
        labels=labels,
        names={pid: pid for pid in data},
        cohorts={"revenue_band": keys},
        values={k: np.array(v, dtype=np.float64) for k, v in values.items()},
        previous=previous_rows(ids, p),
    )
