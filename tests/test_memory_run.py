"""A run holds only what each step needs (issue 30: the full catalog at scale 1 within 4 GB).

The opportunities the deal scores read go to a file while the warehouse is open and come back
only for the deals, scored before the results are read; the forecasts and the risk read only
their metrics' columns of the results, the evaluation's panel one metric column at a time, each
when it is first asked for.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from partnerscope.evaluation.panel import Columns, build_panel
from partnerscope.metrics.evaluate import ROW_KEYS
from partnerscope.pipeline import OPPORTUNITIES
from partnerscope.predict import deals
from partnerscope.predict.panel import complete
from partnerscope.runs import run_folder
from tests.conftest import make_workspace
from tests.test_runs import CONFIG, LEADS, MAY, OPPS


def test_the_snapshot_file_reads_back_as_the_snapshot(tmp_path):
    """The Parquet file DuckDB writes holds the same table as the snapshot taken into memory:
    the same values and types (a column's nullability aside), the deals by id, the open deal's
    account name."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE opportunities AS SELECT * FROM (VALUES "
        "('O2', 'P1', 'sourced', 'A1', 'x', 'won', 'won', 50.5::DECIMAL(18,2), "
        "TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMP '2024-02-01', NULL), "
        "('O1', 'P2', 'sourced', 'A2', 'y', NULL, 'open', NULL, "
        "TIMESTAMP '2024-03-01', NULL, 'M1')) AS t(opportunity_id, partner_id, attribution, "
        "account_id, product, stage, status, amount, created_at, closed_at, mdf_activity_id)"
    )
    con.execute("CREATE TABLE accounts AS SELECT 'A2' AS account_id, 'Osprey' AS name")
    path = tmp_path / "opportunities.parquet"
    deals.write_snapshot(con, path)
    read = pq.read_table(path)
    taken = deals.snapshot(con)
    assert read.to_pydict() == taken.to_pydict()
    assert [f.type for f in read.schema] == [f.type for f in taken.schema]
    assert read.column_names == taken.column_names
    assert read["opportunity_id"].to_pylist() == ["O1", "O2"]
    assert read["account_name"].to_pylist() == ["Osprey", None]
    assert read["amount"].to_pylist() == [None, 50.5]


def test_complete_reads_only_the_metrics_asked_for():
    """With ``metrics`` the frame holds the row's keys and those metrics (one it does not have
    is left out), with the same values as the frame of every column."""
    results = pa.table(
        {
            "level": ["partner", "partner", "partner", "portfolio"],
            "group_key": ["P2", "P1", "P1", "all"],
            "grain": ["quarter", "quarter", "month", "quarter"],
            "period_start": [date(2024, 1, 1)] * 4,
            "period_end": [date(2024, 4, 1), date(2024, 4, 1), date(2024, 2, 1), date(2024, 4, 1)],
            "label": ["FY2024-Q1", "FY2024-Q1", "2024-01", "FY2024-Q1"],
            "complete": [True, True, True, True],
            "won_revenue": [20.0, 10.0, 5.0, 30.0],
            "win_rate": [0.5, 0.25, 0.1, 0.4],
        }
    )
    narrow = complete(results, level="partner", grain="quarter", metrics=["won_revenue", "nps"])
    assert list(narrow.columns) == [*ROW_KEYS, "won_revenue"]
    assert narrow["group_key"].tolist() == ["P1", "P2"]
    assert narrow["won_revenue"].tolist() == [10.0, 20.0]
    every = complete(results, level="partner", grain="quarter")
    assert every[narrow.columns].equals(narrow)
    assert every["win_rate"].tolist() == [0.25, 0.5]


def test_a_run_scores_the_deals_first_and_leaves_no_snapshot_behind(tmp_path):
    """The run scores the open deal from the snapshot file before it reads the results (the
    evaluation comes after the deals, the forecasts after the evaluation) and removes the file:
    it is not part of the stored run."""
    ws = make_workspace(
        tmp_path,
        CONFIG,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": OPPS,
            "data/leads.csv": LEADS,
        },
    )
    ws.ingest()
    said: list[str] = []
    manifest = ws.run(as_of=MAY, progress=lambda text, _done, _total: said.append(text))
    order = [
        said.index(t) for t in ("scoring the open deals", "evaluated", "forecasting won revenue")
    ]
    assert order == sorted(order)
    folder = run_folder(ws, manifest.run_id)
    assert not (folder / OPPORTUNITIES).exists()
    scored = pq.read_table(folder / "deals.parquet")
    assert scored["opportunity_id"].to_pylist() == ["O3"]
    assert scored["created_at"].to_pylist() == [datetime(2024, 2, 1)]


def test_the_panel_takes_each_metric_under_the_rows_mask_aligned_or_joined():
    """The evaluation's panel reads each metric's column of the partner rows it judges (the
    month rows and the incomplete period are left out), whether the memberships line up with
    the results or have to be joined to them (P3 is a member without values)."""
    starts = [date(2025, 1, 1), date(2025, 4, 1)]
    results = pa.table(
        {
            "level": ["partner"] * 5 + ["portfolio"],
            "group_key": ["P1", "P1", "P2", "P2", "P2", "all"],
            "grain": ["quarter", "quarter", "quarter", "quarter", "month", "quarter"],
            "period_start": pa.array([*starts, *starts, starts[0], starts[0]], pa.date32()),
            "period_end": pa.array([date(2025, 4, 1), date(2025, 7, 1)] * 3, pa.date32()),
            "label": ["2025-Q1", "2025-Q2", "2025-Q1", "2025-Q2", "2025-01", "2025-Q1"],
            "complete": [True, True, True, False, True, True],
            "won_revenue": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "win_rate": [0.1, 0.2, None, 0.4, 0.5, 0.6],
        }
    )

    def members(partners: list[str], periods: list[date]) -> pa.Table:
        n = len(partners)
        return pa.table(
            {
                "partner_id": partners,
                "grain": ["quarter"] * n,
                "period_start": pa.array(periods, pa.date32()),
                "name": partners,
                **{
                    k: ["x"] * n for k in ("partner_type", "region", "revenue_band", "program_tier")
                },
            }
        )

    aligned = build_panel(results, members(["P1", "P1", "P2"], [*starts, starts[0]]), "quarter")
    assert aligned.partner.tolist() == ["P1", "P1", "P2"]
    assert aligned.values["won_revenue"].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(aligned.values["win_rate"][2])
    assert aligned.values["win_rate"][:2].tolist() == [0.1, 0.2]
    joined = build_panel(
        results, members(["P1", "P1", "P2", "P3"], [*starts, starts[0], starts[0]]), "quarter"
    )
    assert joined.partner.tolist() == ["P1", "P1", "P2"]
    assert joined.values["won_revenue"].tolist() == [1.0, 2.0, 3.0]
    assert joined.values["win_rate"][:2].tolist() == [0.1, 0.2]


def test_a_panels_metrics_are_read_when_first_asked_for():
    """The panel's columns are converted one by one when asked for, once each: asking whether
    one is there, or listing them, reads none."""
    asked: list[str] = []

    def read(name: str) -> np.ndarray:
        asked.append(name)
        return np.array([float(len(name))])

    columns = Columns(["won_revenue", "nps"], read)
    assert "nps" in columns and "csat" not in columns
    assert list(columns) == ["won_revenue", "nps"] and len(columns) == 2
    assert asked == []
    assert columns["nps"].tolist() == [3.0]
    assert columns["nps"].tolist() == [3.0]
    assert asked == ["nps"]
    assert {k: v.tolist() for k, v in columns.items()} == {"won_revenue": [11.0], "nps": [3.0]}
    assert asked == ["nps", "won_revenue"]
    with pytest.raises(KeyError):
        columns["csat"]
