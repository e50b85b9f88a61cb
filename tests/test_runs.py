"""Runs are snapshots: reproducible, incremental only where that gives the same answer."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow.compute as pc
import pytest

from partnerscope.metrics.engine import ALL_LEVELS as LEVELS
from partnerscope.metrics.engine import compute_metrics
from partnerscope.pipeline import data_end
from partnerscope.runs import get_run, list_runs, read_results, runs_dir
from tests.conftest import PARTNERS_SOURCE, make_workspace, write_file

CONFIG = (
    PARTNERS_SOURCE
    + """
[sources.opps]
entity = "opportunities"
path = "data/opps*.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"

[sources.leads]
entity = "leads"
path = "data/leads.csv"
[sources.leads.columns]
lead_id = "id"
partner_id = "partner"
assigned_at = "assigned"
first_touch_at = "touched"
"""
)
OPPS = (
    "id,partner,account,status,amount,created,closed\n"
    "O1,P1,A1,won,100,2024-01-05,2024-02-10\n"
    "O2,P1,A2,lost,50,2024-01-20,2024-03-02\n"
    "O3,P2,A1,open,70,2024-02-01,\n"
    "O4,P2,A3,won,30,2024-03-15,2024-04-01\n"
)
LEADS = (
    "id,partner,assigned,touched\n"
    "L1,P1,2024-01-02 09:00,2024-01-02 10:00\n"
    "L2,P2,2024-03-30 09:00,\n"
    "L3,P2,2024-04-02 09:00,2024-04-02 09:30\n"
)
KEYS = [(k, "ascending") for k in ("level", "group_key", "grain", "period_start")]
MAY = datetime(2024, 5, 1)
JULY = datetime(2024, 7, 1)


@pytest.fixture
def ws(tmp_path):
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
    return ws


def value(ws, metric, group, label, run_id=None):
    table = read_results(ws, run_id)
    mask = pc.and_(
        pc.and_(pc.equal(table["level"], "partner"), pc.equal(table["group_key"], group)),
        pc.equal(table["label"], label),
    )
    rows = table.filter(mask)[metric].to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_the_same_inputs_and_config_give_identical_results(ws):
    first = ws.run(as_of=MAY)
    again = ws.run(as_of=MAY, full=True)
    assert first.digest == again.digest
    assert read_results(ws, 1).equals(read_results(ws, 2))
    assert first.mode == "full" and first.reason == "first run"
    assert first.config_hash == ws.config.config_hash()
    assert first.definitions_version == ws.catalog.version
    assert first.engine["kind"] == "duckdb"
    fingerprints = {f["file"]: f["fingerprint"] for f in first.inputs["files"]["opportunities"]}
    assert list(fingerprints) == ["data/opps.csv"]
    assert len(fingerprints["data/opps.csv"]) == 64
    assert first.inputs["rows"]["opportunities"] == 4
    # values a person can check: P1 won 100 of 150 closed in FY2024-Q1 (Jan-Mar)
    assert value(ws, "win_rate", "P1", "FY2024-Q1") == pytest.approx(0.5)
    assert value(ws, "won_revenue", "P1", "FY2024-Q1") == 100.0
    # O3 (70, open) and O4 (30, closed 1 April: still open at the end of March)
    assert value(ws, "open_pipeline", "P2", "FY2024-Q1") == 100.0


def test_appending_a_month_recomputes_only_from_it_and_equals_a_full_run(ws):
    ws.run(as_of=MAY)
    write_file(
        ws.root / "data/opps2.csv",
        "id,partner,account,status,amount,created,closed\n"
        "O5,P1,A4,won,40,2024-05-03,2024-06-10\n"
        "O6,P2,A1,lost,10,2024-06-01,2024-06-20\n",
    )
    ws.ingest()
    incremental = ws.run(as_of=JULY)
    assert incremental.mode == "incremental"
    # the previous run's last month (April, read as "so far") onward is recomputed
    assert incremental.recomputed_from == "2024-04-01"
    assert value(ws, "won_revenue", "P1", "FY2024-Q2") == 40.0
    full = ws.run(as_of=JULY, full=True)
    assert incremental.digest == full.digest


@pytest.mark.parametrize(
    ("first_as_of", "recomputed"),
    [
        (datetime(2024, 6, 1), "2024-05 (medians and distinct counts from 2024-06)"),
        (datetime(2024, 5, 15), "2024-05"),
    ],
    ids=["after-a-whole-month", "inside-a-month"],
)
def test_medians_recompute_from_the_new_data(ws, first_as_of, recomputed):
    ws.run(as_of=first_as_of)
    # a lead P1 answers in 4 hours, in June
    write_file(ws.root / "data/leads.csv", LEADS + "L4,P1,2024-06-04 09:00,2024-06-04 13:00\n")
    ws.ingest()
    incremental = ws.run(as_of=JULY)
    # the sums from May: the later as-of time can make May's untouched leads due (SLA rule).
    # Median response times do not read the as-of time: they are recomputed from the new
    # lead's month, or from May when the first run read May so far
    assert incremental.reason == f"recomputed from {recomputed}; earlier months kept from run 1"
    assert value(ws, "median_response_hours", "P1", "FY2024-Q2") == 4.0
    assert value(ws, "median_response_hours", "P2", "FY2024-Q2") == 0.5  # L3, kept
    assert incremental.digest == ws.run(as_of=JULY, full=True).digest


def test_a_changed_old_deal_recomputes_from_its_month(ws):
    ws.run(as_of=MAY)
    ws.run(as_of=JULY)
    # O3 (created February, open) is won in June: the old version's February counts too
    write_file(
        ws.root / "data/opps.csv",
        OPPS.replace("O3,P2,A1,open,70,2024-02-01,", "O3,P2,A1,won,70,2024-02-01,2024-06-05"),
    )
    ws.ingest()
    incremental = ws.run(as_of=JULY)
    assert incremental.mode == "incremental"
    assert incremental.recomputed_from == "2024-02-01"
    assert value(ws, "open_pipeline", "P2", "FY2024-Q1") == 100.0  # O3 still open on 31 March
    assert value(ws, "won_revenue", "P2", "FY2024-Q2") == 100.0  # O4 30 + O3 70
    assert incremental.digest == ws.run(as_of=JULY, full=True).digest


def test_what_reaches_every_period_forces_a_full_run(ws):
    ws.run(as_of=MAY)
    write_file(ws.root / "data/partners.csv", "id,name\nP1,Acme Corp\nP2,Beta\n")
    ws.ingest()
    assert ws.run(as_of=MAY).reason == "partners changed"
    assert ws.run(as_of=datetime(2024, 4, 1)).reason == (
        "the as-of time is earlier than the previous run's"
    )
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(config + "\n[workspace]\nsla_hours = 4\n", encoding="utf-8")
    ws.__dict__.pop("config")
    ws.__dict__.pop("catalog", None)
    assert ws.run(as_of=MAY).reason == "the configuration changed"


def test_older_runs_stay_readable_and_are_listed(ws):
    ws.run(as_of=MAY)
    write_file(
        ws.root / "data/opps2.csv",
        "id,partner,account,status,amount,created,closed\nO9,P1,A9,won,5,2024-02-01,2024-02-02\n",
    )
    ws.ingest()
    ws.run(as_of=MAY)
    assert [r.run_id for r in list_runs(ws)] == [1, 2]
    assert value(ws, "won_revenue", "P1", "FY2024-Q1", run_id=1) == 100.0
    assert value(ws, "won_revenue", "P1", "FY2024-Q1", run_id=2) == 105.0
    assert get_run(ws).run_id == 2


def test_an_interrupted_run_leaves_no_run_behind(ws):
    ws.run(as_of=MAY)

    def interrupt(text, done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ws.run(as_of=JULY, progress=interrupt)
    assert [r.run_id for r in list_runs(ws)] == [1]
    assert sorted(p.name for p in runs_dir(ws).iterdir()) == ["000001"]
    assert ws.run(as_of=JULY).run_id == 2


def test_data_far_before_the_as_of_time_is_left_out_with_a_note(ws):
    manifest = ws.run(as_of=datetime(2040, 1, 1))
    assert manifest.first_month == "2029-12-01"
    assert manifest.notes == [
        "data from 2024-01 is older than 10 years before the as-of time; periods start at "
        "2029-12 (check for mistyped years, or set --as-of)"
    ]


@pytest.mark.parametrize("fiscal_start", [1, 2])
def test_quarters_alone_equal_the_quarters_of_a_run(tmp_path, fiscal_start):
    """Asked for quarters only, parts are summed per quarter, not per month (faster); the
    complete quarters must come out the same, for calendar-aligned and shifted fiscal years."""
    ws = make_workspace(
        tmp_path,
        f"[workspace]\nfiscal_year_start_month = {fiscal_start}\n" + CONFIG,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": OPPS,
            "data/leads.csv": LEADS,
        },
    )
    ws.ingest()
    ws.run(as_of=JULY)
    run = read_results(ws).filter(
        pc.and_(pc.equal(read_results(ws)["grain"], "quarter"), read_results(ws)["complete"])
    )
    with ws.warehouse(read_only=True) as wh:
        alone = compute_metrics(
            wh.con, ws.config, [m.name for m in ws.catalog], ("quarter",), LEVELS, as_of=JULY
        )
    alone = alone.filter(alone["complete"])
    assert alone.num_rows == run.num_rows > 0
    expected = run.sort_by(KEYS).to_pylist()
    got = alone.select(run.column_names).sort_by(KEYS).to_pylist()
    differences = {
        (row["level"], row["group_key"], row["label"], column): (row[column], other[column])
        for row, other in zip(expected, got, strict=True)
        for column in run.column_names
        if row[column] != other[column]
        and not (row[column] != row[column] and other[column] != other[column])
    }
    assert differences == {}


def test_an_unbounded_as_of_window_recomputes_everything_once_the_as_of_time_moves(tmp_path):
    ws = make_workspace(
        tmp_path,
        CONFIG
        + """
[metrics.waiting_longer_than_answered]
label = "Leads waiting longer than their answer took"
unit = "count"
entity = "leads"
agg = "count"
filter = "hours_between(assigned_at, as_of) >= hours_between(assigned_at, first_touch_at)"
time = "assigned_at"
""",
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": OPPS,
            "data/leads.csv": LEADS,
        },
    )
    ws.ingest()
    ws.run(as_of=MAY)
    # the same as-of time: nothing the window reaches has moved
    assert ws.run(as_of=MAY).mode == "incremental"
    assert ws.run(as_of=JULY).reason == "a metric's as-of window has no bound"


def test_data_end_is_the_latest_event_up_to_now_in_the_reporting_time_zone(tmp_path):
    # the workspace reports in Tokyo (UTC+9) and reads its files' times there. O5 is created in
    # 2030, after "now" (6 Dec 2026): it does not move the end of the data. The latest event is
    # lead L3's first touch, 2 April 2024 09:30 in Tokyo; the end of its month there, 1 May
    # 00:00 in Tokyo, is 30 April 15:00 UTC
    config = CONFIG.replace(
        "[sources.opps]", '[workspace]\ntimezone = "Asia/Tokyo"\n\n[sources.opps]'
    )
    files = {
        "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
        "data/opps.csv": OPPS + "O5,P1,A1,open,10,2030-01-01,\n",
        "data/leads.csv": LEADS,
    }
    ws = make_workspace(tmp_path, config, files)
    ws.ingest()
    end = data_end(ws, now=datetime(2026, 12, 6))
    assert end is not None
    assert end.last_day == date(2024, 4, 2)
    assert end.as_of == datetime(2024, 4, 30, 15, 0)
    assert end.stale(datetime(2026, 12, 6)) and not end.stale(datetime(2024, 5, 1))
    # "now" inside the data's last month: the as-of is now, not a time ahead of it
    assert data_end(ws, now=datetime(2024, 4, 20)).as_of == datetime(2024, 4, 20)
