"""The SQL the engine sends for a few key metrics, snapshot-tested.

The snapshots are written by `pytest --snapshot-update`, never by hand; a diff in review shows
exactly how a change alters what the warehouse is asked.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from partnerscope.config import Config, WorkspaceSettings
from partnerscope.metrics.definition import load_catalog
from partnerscope.metrics.engine import metric_sql

AS_OF = datetime(2026, 7, 1, 9, 30)


@pytest.mark.parametrize(
    "name", ["win_rate", "open_pipeline", "lead_sla_rate", "median_response_hours", "coverage"]
)
def test_sql_of_key_metrics(name, snapshot_sql):
    statements = metric_sql(Config(), load_catalog(), name, as_of=AS_OF)
    snapshot_sql(f"metrics/{name}.duckdb.sql", ";\n\n".join(statements) + ";\n")


def test_a_reporting_time_zone_converts_timestamps_before_months_are_taken(snapshot_sql):
    config = Config(workspace=WorkspaceSettings(timezone="America/New_York"))
    (sql,) = metric_sql(config, load_catalog(), "won_deals", as_of=AS_OF)
    assert re.search(
        r"TIMEZONE\('America/New_York', CAST\(\"t\d+\"\.\"closed_at\" AS TIMESTAMPTZ\)\)", sql
    )
    snapshot_sql("metrics/won_deals.new_york.duckdb.sql", sql + ";\n")
