"""The tables the models read, cut from a run's results.

A run's results hold every metric per level × group × grain × period; a period is *complete*
when it ended by the run's as-of time. The models only ever read complete periods: a quarter
cut off by the data's end would read as a collapse. Each series starts at its first period with
revenue (the periods before a partner's first sale are not part of its history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    import pyarrow as pa

#: The levels forecast: each partner, each partner group, the portfolio (all partners) and the
#: company (partners and direct deals: the channel share's denominator).
FORECAST_LEVELS = (
    "partner",
    "partner_type",
    "region",
    "program_tier",
    "revenue_band",
    "portfolio",
    "company",
)
TARGET = "won_revenue"


def complete(
    results: pa.Table, *, level: str, grain: str, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """The complete periods of one level and grain, sorted by group and period;
    ``period_start``/``period_end`` as datetime64. Every metric a column, or only ``metrics``
    (those of them in the results): the partners by month are most of a run's results, and a
    copy of their hundred-odd columns would be a second gigabyte at scale."""
    import pandas as pd
    import pyarrow.compute as pc

    from partnerscope.metrics.evaluate import ROW_KEYS

    if metrics is not None:
        wanted = dict.fromkeys([*ROW_KEYS, *metrics])
        results = results.select([c for c in wanted if c in results.column_names])
    mask = pc.and_(
        pc.and_(pc.equal(results["level"], level), pc.equal(results["grain"], grain)),
        results["complete"],
    )
    frame = results.filter(mask).to_pandas()
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.sort_values(["group_key", "period_start"], kind="stable").reset_index(drop=True)


def series(
    results: pa.Table, *, grain: str, levels: tuple[str, ...] = FORECAST_LEVELS
) -> pd.DataFrame:
    """Won revenue per series in the long format forecasting libraries read: ``unique_id``
    (``level/group_key``), ``ds`` (the period's start), ``y``, with ``level`` and ``group_key``
    beside them; each series from its first period with revenue, complete periods only."""
    import pandas as pd

    frames = []
    for level in levels:
        frame = complete(results, level=level, grain=grain, metrics=[TARGET])
        if frame.empty:
            continue
        started = (frame[TARGET] > 0).groupby(frame["group_key"], sort=False).cummax()
        frame = frame[started]
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": level + "/" + frame["group_key"],
                    "ds": frame["period_start"],
                    "y": frame[TARGET].astype("float64"),
                    "level": level,
                    "group_key": frame["group_key"],
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {"unique_id": [], "ds": pd.to_datetime([]), "y": [], "level": [], "group_key": []}
        )
    return pd.concat(frames, ignore_index=True)
