"""A run holds only what each step needs (issue 30: the full catalog at scale 1 within 4 GB).

The opportunities the deal scores read go to a file while the warehouse is open and come back
only for the deals; the forecasts and the risk read only their metrics' columns of the results.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from partnerscope.pipeline import OPPORTUNITIES
from partnerscope.predict import deals
from partnerscope.predict.panel import ROW_KEYS, complete
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


def test_a_run_scores_the_deals_and_leaves_no_snapshot_behind(tmp_path):
    """The run scores the open deal from the snapshot file and removes the file: it is not part
    of the stored run."""
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
    manifest = ws.run(as_of=MAY)
    folder = run_folder(ws, manifest.run_id)
    assert not (folder / OPPORTUNITIES).exists()
    scored = pq.read_table(folder / "deals.parquet")
    assert scored["opportunity_id"].to_pylist() == ["O3"]
    assert scored["created_at"].to_pylist() == [datetime(2024, 2, 1)]
