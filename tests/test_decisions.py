"""Decision records on a fixture whose metric values are worked out by hand.

Portfolio win rate by quarter (as of 2024-07-01): 2024-Q1 one won and one lost deal → 0.5;
2024-Q2 one won and two lost → 1/3. win_rate needs 2 closed deals here, so partner P2 in
2024-Q1 (no closed deal) has no value.
"""

from __future__ import annotations

from datetime import date, datetime

import pyarrow.parquet as pq
import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from partnerscope.appdb import connect
from partnerscope.appdb.tables import metadata
from partnerscope.cli import app
from partnerscope.decisions import cadence
from partnerscope.decisions.check import DECISION_ALERTS
from partnerscope.decisions.export import SECTIONS, to_ics, to_markdown
from partnerscope.decisions.guards import CommitRefusedError, commit_problems
from partnerscope.decisions.record import (
    DecisionRecord,
    Frame,
    Outcome,
    ReviewKind,
    ReviewPlan,
    Status,
)
from partnerscope.decisions.service import Decisions
from partnerscope.decisions.signals import SignalError, check, parse
from partnerscope.decisions.store import DecisionConflictError
from partnerscope.runs import get_run, read_results, run_folder
from tests.conftest import PARTNERS_SOURCE, make_workspace
from tests.test_cli import assert_one_error_line, run

CONFIG = (
    PARTNERS_SOURCE
    + """
[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"

[metrics.win_rate]
min_evidence = 2
"""
)
OPPS = (
    "id,partner,account,status,amount,created,closed\n"
    "O1,P1,A1,won,100,2024-01-05,2024-02-10\n"
    "O2,P1,A2,lost,50,2024-01-20,2024-03-02\n"
    "O3,P2,A1,open,70,2024-02-01,\n"
    "O4,P2,A3,won,30,2024-03-15,2024-04-01\n"
    "O5,P1,A4,lost,20,2024-04-02,2024-05-20\n"
    "O6,P2,A5,lost,40,2024-04-03,2024-06-11\n"
)
AS_OF = datetime(2024, 7, 1)
ME = "tester"


def build(root):
    ws = make_workspace(
        root, CONFIG, {"data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n", "data/opps.csv": OPPS}
    )
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        # the first run's decision check writes to a database no test reads
        patch.setenv("PARTNERSCOPE_DATABASE_URL", "sqlite://")
        ws.run(as_of=AS_OF)
    return ws


@pytest.fixture(scope="module")
def fixture_ws(tmp_path_factory):
    """Read by every test but one (which runs again on a workspace of its own)."""
    return build(tmp_path_factory.mktemp("decisions") / "ws")


@pytest.fixture
def ws(fixture_ws, tmp_path, monkeypatch):
    """The fixture workspace (every run of it gives the same values) with a database of its
    own for each test."""
    monkeypatch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("PARTNERSCOPE_USER", ME)
    return fixture_ws


def two_options(service: Decisions, decision_id: int) -> None:
    service.edit(
        decision_id,
        patch={
            "compare": {
                "scenario": {
                    "options": [
                        {"key": "A", "label": "Keep the current approach"},
                        {"key": "B", "label": "Pilot in phases"},
                    ]
                }
            }
        },
        by=ME,
    )


def ready(service: Decisions, *, owner: str | None = "Dana") -> DecisionRecord:
    """A draft that passes every guard (owner, two options, one sufficient citation)."""
    record = service.new({"decision": "Recruit MSPs in EMEA", "owner": owner}, by=ME)
    two_options(service, record.decision_id)
    service.cite(record.decision_id, "win_rate", by=ME, period="2024-Q2")
    return service.store.get(record.decision_id)


# --- guards -----------------------------------------------------------------------------------


def record_with(**changes) -> DecisionRecord:
    base = {
        "decision_id": 1,
        "frame": {"decision": "Recruit MSPs", "owner": "Dana"},
        "compare": {
            "scenario": {
                "options": [{"key": "A", "label": "Keep"}, {"key": "B", "label": "Pilot"}]
            },
            "evidence": [
                {
                    "metric": "win_rate",
                    "level": "portfolio",
                    "group": "all",
                    "grain": "quarter",
                    "period": "FY2024-Q2",
                    "value": 1 / 3,
                    "run_id": 1,
                    "definitions_version": "v",
                    "evidence_metric": "closed_deals",
                    "evidence_value": 3,
                    "min_evidence": 2,
                }
            ],
        },
        "created_at": "2024-07-01T00:00:00",
        "created_by": ME,
    }
    for path, value in changes.items():
        section, key = path.split("__")
        base[section][key] = value
    return DecisionRecord.model_validate(base)


def problems(record: DecisionRecord, ws, owner=None, option="B") -> list[str]:
    return commit_problems(
        record, option=option, owner=owner, signals=[], catalog=ws.catalog, grain="quarter"
    )


def test_a_decision_with_owner_options_and_measured_evidence_passes(ws):
    assert problems(record_with(), ws) == []


def test_no_owner_is_refused(ws):
    record = record_with(frame__owner=None)
    assert [p[:9] for p in problems(record, ws)] == ["no owner:"]
    assert problems(record, ws, owner="Dana") == []  # an owner given at commit is enough


def test_assumptions_only_are_refused(ws):
    (reason,) = problems(record_with(compare__evidence=[]), ws)
    assert reason.startswith("the evidence is only assumptions: no measured metric is cited")


def test_cited_metrics_without_the_minimum_evidence_are_refused(ws):
    weak = (
        record_with()
        .compare.evidence[0]
        .model_copy(update={"value": None, "evidence_value": 0, "period": "FY2024-Q1"})
    )
    (reason,) = problems(record_with(compare__evidence=[weak.model_dump()]), ws)
    assert "none of the cited metrics has the minimum evidence" in reason
    assert "closed_deals = 0, under the minimum evidence of 2" in reason


def test_fewer_than_two_options_is_no_real_choice(ws):
    record = record_with(compare__scenario={"options": [{"key": "A", "label": "Keep"}]})
    (reason,) = problems(record, ws, option="A")
    assert reason.startswith("no real choice: 1 option(s) (A)")


def test_every_reason_is_given_at_once_and_nothing_is_committed(ws):
    service = Decisions(ws)
    record = service.new({"decision": "Exit the Registered tier"}, by=ME)
    with pytest.raises(CommitRefusedError) as refused:
        service.commit(record.decision_id, option="A", rationale="because", owner=None, by=ME)
    assert [r.split(":")[0] for r in refused.value.reasons] == [
        "no owner",
        "no real choice",
        "the evidence is only assumptions",
    ]
    assert service.store.get(record.decision_id).status is Status.DRAFT


# --- evidence ---------------------------------------------------------------------------------


def test_citations_keep_the_run_values(ws):
    service = Decisions(ws)
    record = ready(service)
    (evidence,) = record.compare.evidence
    assert evidence.value == pytest.approx(1 / 3)
    assert (evidence.period, evidence.run_id, evidence.evidence_value) == ("FY2024-Q2", 1, 3)
    weak = service.cite(record.decision_id, "win_rate", scope="partner=P2", period="2024-Q1", by=ME)
    assert weak.value is None
    assert weak.weakness() == "closed_deals = 0, under the minimum evidence of 2"


def test_a_citation_names_what_is_wrong(ws):
    service = Decisions(ws)
    record = service.new({"decision": "x"}, by=ME)
    with pytest.raises(Exception, match=r"no metric .win_rat.*win_rate"):
        service.cite(record.decision_id, "win_rat", by=ME)
    with pytest.raises(Exception, match="no partner 'P3'"):
        service.cite(record.decision_id, "win_rate", scope="partner=P3", by=ME)
    with pytest.raises(Exception, match="--period 2023-Q1: run 1 has quarters FY2024-Q1 to"):
        service.cite(record.decision_id, "win_rate", period="2023-Q1", by=ME)


# --- signals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "fired"),
    [
        ("win_rate < 0.6 for 2 quarters", True),  # 0.5 and 1/3
        ("win_rate < 0.5 for 2 quarters", False),  # 0.5 is not < 0.5
        ("win_rate <= 0.5 for 2 quarters", True),
        ("win_rate < 0.4 for 2 quarters", False),
        ("win_rate < 0.4", True),  # one quarter (the scorecard grain): 2024-Q2 only
        ("win_rate < 40%", True),
        ("portfolio won_revenue >= 130 for 1 quarter", False),  # 2024-Q2 won 30
        ("company won_revenue = 100 for 2 quarters", False),
        ("partner=P1 win_rate < 0.6 for 2 quarters", False),  # P1 has 1 closed deal in Q2
        ("partner=P1 won_revenue > 50 for 1 month", False),  # June 2024: nothing won
        ("partner=P2 won_revenue = 30 for 1 month", False),  # the latest month is June
        ("partner=P2 lost_deals >= 1 for 3 months", False),  # April has none
        ("partner=P2 lost_deals >= 1 for 2 months", False),  # May has none
        ("partner=P2 lost_deals >= 1 for 1 month", True),  # June: O6
        ("company won_revenue = 30 for 1 quarter", True),  # 2024-Q2: O4
        ("win_rate < 0.6 for 3 quarters", False),  # only two complete quarters
        ("win_rate > 0 for 1 year", False),  # no complete year
    ],
)
def test_a_signal_fires_exactly_when_its_condition_holds(ws, condition, fired):
    results = read_results(ws)
    outcome = check(parse(condition, ws.catalog, default_grain="quarter"), results)
    assert outcome.fired is fired, outcome.detail


def test_a_signal_lists_the_values_it_looked_at(ws):
    outcome = check(
        parse("win_rate < 0.6 for 2 quarters", ws.catalog, default_grain="quarter"),
        read_results(ws),
    )
    assert [label for label, _ in outcome.values] == ["FY2024-Q1", "FY2024-Q2"]
    assert [v for _, v in outcome.values] == pytest.approx([0.5, 1 / 3])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("win_rate is low", "cannot read the condition"),
        ("win_rat < 0.2", "no metric 'win_rat'; did you mean 'win_rate'?"),
        ("regoin=EMEA win_rate < 0.2", "did you mean 'region'?"),
        ("partner=P1 share_partners_at_quota < 0.5", "only defined for groups of partners"),
    ],
)
def test_an_unreadable_signal_names_the_problem(ws, text, message):
    with pytest.raises(SignalError, match=message.replace("?", r"\?")):
        parse(text, ws.catalog, default_grain="quarter")


def test_tier_is_short_for_program_tier_and_groups_may_be_quoted(ws):
    condition = parse(
        'tier="Tier 2" win_rate < 0.25 for 2 quarters', ws.catalog, default_grain="month"
    )
    assert (condition.level, condition.group, condition.periods, condition.grain) == (
        "program_tier",
        "Tier 2",
        2,
        "quarter",
    )


# --- review cadence, calendar, Markdown -------------------------------------------------------


def committed(service: Decisions, **commit) -> DecisionRecord:
    record = ready(service)
    options = {
        "option": "B",
        "rationale": "B wins on margin at the same risk",
        "owner": None,
        "first_review": date(2024, 8, 1),
        "every_months": 3,
        "post_review": date(2025, 7, 1),
        "signals": ["win_rate < 0.6 for 2 quarters"],
        "stops": ["won_revenue < 10 for 2 quarters"],
        "today": date(2024, 7, 2),
        "by": ME,
    } | commit
    return service.commit(record.decision_id, **options)


def test_the_review_schedule(ws):
    record = committed(Decisions(ws))
    assert record.commit is not None
    assert [(s.on, s.kind) for s in cadence.schedule(record.commit.review)] == [
        (date(2024, 8, 1), ReviewKind.INITIAL),
        (date(2024, 11, 1), ReviewKind.OPERATING),
        (date(2025, 2, 1), ReviewKind.OPERATING),
        (date(2025, 5, 1), ReviewKind.OPERATING),
        (date(2025, 7, 1), ReviewKind.POST),
    ]


def test_month_ends_clip_to_shorter_months():
    plan = ReviewPlan(first=date(2024, 1, 31), every_months=1, post=date(2024, 4, 1))
    assert [s.on for s in cadence.schedule(plan)] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 1),
    ]


def test_review_dates_are_in_the_calendar_file(ws):
    record = committed(Decisions(ws))
    calendar = Calendar.from_ical(to_ics([record], workspace_name="fixture"))
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert [e.decoded("dtstart") for e in events] == [
        date(2024, 8, 1),
        date(2024, 11, 1),
        date(2025, 2, 1),
        date(2025, 5, 1),
        date(2025, 7, 1),
    ]
    assert str(events[0]["summary"]) == "DEC-0001 initial review: Recruit MSPs in EMEA"
    assert str(events[-1]["summary"]).startswith("DEC-0001 post review")
    assert len({str(e["uid"]) for e in events}) == 5
    # the same record exports the same bytes
    assert to_ics([record], workspace_name="fixture") == to_ics([record], workspace_name="fixture")


def test_the_markdown_export_follows_the_template(ws):
    service = Decisions(ws)
    record = committed(service)
    service.cite(record.decision_id, "win_rate", scope="partner=P2", period="2024-Q1", by=ME)
    text = to_markdown(
        service.store.get(record.decision_id), ws.catalog, words=ws.words, grain="quarter"
    )
    headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("##")]
    assert headings == list(SECTIONS)
    assert "| Win rate | portfolio | FY2024-Q2 | 33.3% | 1 | ok |" in text
    assert "⚠ Closed deals is 0, under the minimum evidence of 2" in text
    assert "**Weak evidence:** 1 of 2 cited values lack the minimum evidence" in text
    assert "- **Selected option:** B (Pilot in phases)" in text
    assert (
        "- Reversal signal: Win rate below 60.0% in each of the last 2 complete quarters, "
        "across the portfolio" in text
    )
    assert "- Stop condition: Won revenue below $10 in each of the last 2 complete quarters" in text
    assert "win_rate" not in text and "closed_deals" not in text


# --- checks on every run, reviews -------------------------------------------------------------


def test_every_run_checks_signals_and_reviews_due(ws, tmp_path):
    ws = build(tmp_path / "own")
    service = Decisions(ws)
    record = committed(service, first_review=date(2024, 6, 15))
    manifest = ws.run(as_of=AS_OF)
    alerts = pq.read_table(run_folder(ws, manifest.run_id) / DECISION_ALERTS).to_pylist()
    assert sorted(a["alert_id"] for a in alerts) == [
        "DEC-0001:review:2024-06-15",
        "DEC-0001:signal:0",
    ]
    assert manifest.decisions == {"committed": 1, "signals_fired": 1, "reviews_due": 1}
    # the stop condition (won_revenue < 10 for 2 quarters) does not hold: 2024-Q2 won 30
    fired = next(a for a in alerts if a["kind"] == "signal_fired")
    assert "reversal signal fired: portfolio: win_rate < 0.6 for 2 quarters" in fired["message"]
    # a later run keeps the run that first raised an alert
    later = ws.run(as_of=AS_OF)
    assert service.store.first_runs(later.run_id) == {
        "DEC-0001:review:2024-06-15": manifest.run_id,
        "DEC-0001:signal:0": manifest.run_id,
    }
    # the review answers the initial review; the next one is not due yet
    service.review(record.decision_id, outcome=Outcome.CONTINUE, why="on plan", by=ME)
    alerts, _ = service.check(today=date(2024, 7, 2))
    assert [a.kind for a in alerts] == ["signal_fired"]


def test_a_stop_review_ends_the_schedule(ws, store_url):
    service = Decisions(ws)
    record = committed(service)
    record, review = service.review(
        record.decision_id, outcome=Outcome.STOP, why="signal fired", on=date(2024, 8, 1), by=ME
    )
    assert (review.kind, record.status) == (ReviewKind.INITIAL, Status.STOPPED)
    assert cadence.due(record, date(2030, 1, 1)) == []
    with pytest.raises(Exception, match="DEC-0001 is stopped"):
        service.review(record.decision_id, outcome=Outcome.CONTINUE, why="x", by=ME)


# --- store ------------------------------------------------------------------------------------


def test_history_says_who_changed_what(ws, store_url):
    service = Decisions(ws)
    record = service.new({"decision": "Recruit MSPs"}, by="alice")
    service.edit(record.decision_id, patch={"frame": {"owner": "Dana"}}, by="bob")
    service.edit(record.decision_id, append={"compare.facts": ["EMEA has 12 MSPs"]}, by="bob")
    history = service.store.history(record.decision_id)
    assert [(h.version, h.action, h.changed_by) for h in history] == [
        (1, "new", "alice"),
        (2, "edit", "bob"),
        (3, "edit", "bob"),
    ]
    assert history[1].changes == [{"field": "frame.owner", "old": None, "new": "Dana"}]
    assert history[2].changes == [
        {"field": "compare.facts[0]", "old": None, "new": "EMEA has 12 MSPs"}
    ]


def test_a_change_to_a_stale_record_is_refused(ws, store_url):
    service = Decisions(ws)
    record = service.new({"decision": "Recruit MSPs"}, by=ME)
    first = service.store.get(record.decision_id)
    second = service.store.get(record.decision_id)
    service.store.update(
        first.model_copy(update={"frame": Frame(decision="A")}), action="edit", by=ME
    )
    with pytest.raises(DecisionConflictError, match="changed by someone else"):
        service.store.update(
            second.model_copy(update={"frame": Frame(decision="B")}), action="edit", by=ME
        )
    assert service.store.get(record.decision_id).title == "A"


def test_the_migrations_create_exactly_the_tables(ws, store_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with connect(ws).connect() as con:
        assert compare_metadata(MigrationContext.configure(con), metadata) == []


def test_get_run_is_unchanged_by_decisions(ws):
    assert get_run(ws).decisions == {"committed": 0, "signals_fired": 0, "reviews_due": 0}


# --- the command line -------------------------------------------------------------------------


def test_the_decision_flow_on_the_command_line(ws, tmp_path):
    w = ["-w", str(ws.root)]
    answers = "\n".join(
        ["Recruit MSPs in EMEA", "", "18", "EMEA", "MSP demand grows", "Coverage +10 pts", ""]
    )
    created = CliRunner().invoke(app, [*w, "decide", "new"], input=answers + "\n")
    assert created.exit_code == 0, created.output
    assert "Created DEC-0001" in created.output
    record = Decisions(ws).store.get(1)
    assert record.frame.horizon_months == 18
    assert [o.key for o in record.compare.options] == ["A", "B", "C"]

    refused = run(*w, "decide", "commit", "1", "-o", "B", "--rationale", "x", ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "no owner" in refused.stderr and "only assumptions" in refused.stderr

    run(
        *w,
        "decide",
        "edit",
        "1",
        "--owner",
        "Dana",
        "--fact",
        "EMEA has 12 MSPs",
        "--risk",
        "Channel conflict => rules of engagement",
        "--success-metric",
        "win_rate",
    )
    cited = run(*w, "decide", "cite", "1", "win_rate", "--period", "2024-Q2").output
    assert "Cited Win rate = 33.3% (portfolio, FY2024-Q2, run 1)" in cited
    out = run(
        *w,
        "decide",
        "commit",
        "1",
        "-o",
        "B",
        "--rationale",
        "Best margin",
        "--first-review",
        "2024-06-30",
        "--signal",
        "win_rate < 0.6 for 2 quarters",
    ).output
    assert "Committed DEC-0001 to option B" in out

    due = run(*w, "decisions", "due", "--on", "2024-07-01").output
    assert "review due" in due and "signal fired" in due
    run(*w, "decide", "review", "1", "--outcome", "adapt", "--why", "slower ramp")
    assert "initial" not in run(*w, "decisions", "due", "--on", "2024-07-01").output

    paths = run(*w, "decisions", "export", "--out", str(tmp_path / "out")).output
    assert "DEC-0001-recruit-msps-in-emea.md" in paths and "reviews.ics" in paths
    shown = run(*w, "decisions", "show", "1").output
    assert "Channel conflict" in shown
    history = run(*w, "decisions", "history", "1").output
    assert "commit" in history and "review" in history


def test_command_line_mistakes_are_one_error_line(ws, tmp_path):
    w = ["-w", str(ws.root)]
    assert_one_error_line(run(*w, "decisions", "show", "7", ok=False), "no decision 7")
    run(*w, "decide", "new", "-t", "Recruit MSPs")
    assert_one_error_line(run(*w, "decide", "edit", "1", "--option", "B", ok=False), "--option 'B'")
    assert_one_error_line(
        run(*w, "decide", "review", "1", "--outcome", "go", "--why", "x", ok=False),
        "--outcome go",
    )
    # a decision file that fails anywhere stores nothing
    broken = tmp_path / "broken.toml"
    broken.write_text(
        '[frame]\ndecision = "Exit resellers"\n[compare]\nfacts = ["x"]\n'
        '[[cite]]\nmetric = "win_rat"\n',
        encoding="utf-8",
    )
    assert_one_error_line(
        run(*w, "decide", "new", "--file", str(broken), ok=False), "no metric 'win_rat'"
    )
    assert [r.decision_id for r in Decisions(ws).store.records()] == [1]
    bad = tmp_path / "decision.toml"
    bad.write_text('[frame]\ndecison = "typo"\n', encoding="utf-8")
    result = run(*w, "decide", "edit", "1", "--file", str(bad), ok=False)
    assert result.exit_code == 1 and "frame.decison: unknown key" in result.stderr
