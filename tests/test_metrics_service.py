"""The service-quality and satisfaction metrics (metrics/measures/service.toml, docs/service.md)
on a tiny fixture whose values are worked out by hand, and the same values on PostgreSQL and
Spark.

Main period FY2025-Q2 (2025-04-01 … 2025-06-30, UTC, calendar fiscal year), computed as of
2025-07-01 00:00 UTC. Every case counts in the period it was opened, every partner survey in
the period it was sent, every customer CSAT response in the period it was given.

    P1 Acme   EMEA  cases of every priority, partner surveys, CSAT responses
    P2 Beta   EMEA  one critical and one standard case, one partner survey, CSAT responses
    P3 Gamma  AMER  nothing: counts 0, shares and means null
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import ibis
import pytest

from partnerscope.metrics.definition import BUILTIN_MEASURES, load_catalog
from partnerscope.metrics.engine import ALL_LEVELS, compute, compute_metrics
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.test_engine_parity import ENGINES, Opener, assert_same, engine  # noqa: F401
from tests.test_metrics_fixture import AS_OF, GRAINS, check, csv_file, index, source, value

#: the metrics of measures/service.toml, in their order
SERVICE = list(
    tomllib.loads((BUILTIN_MEASURES / "service.toml").read_text(encoding="utf-8"))["metrics"]
)

TABLES: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name,partner_type,region,program_tier",
        "P1,Acme,var,EMEA,Gold\nP2,Beta,si,EMEA,Silver\nP3,Gamma,var,AMER,Gold",
    ),
    "cases": (
        "support_cases",
        "case_id,partner_id,priority,opened_at,first_response_at,resolved_at,"
        "first_contact_resolution,escalated,csat",
        """
        C1,P1,critical,2025-04-01 09:00,2025-04-01 10:00,2025-04-01 12:00,true,false,5  # 1 h
        C2,P1,critical,2025-04-02 09:00,2025-04-02 13:00,2025-04-03 09:00,false,true,3  # 4 h: in
        C3,P1,critical,2025-04-03 09:00,2025-04-03 15:00,2025-04-04 09:00,false,false,  # 6 h: out
        C4,P1,critical,2025-06-30 22:00,,,false,false,  # 2 h before as-of: left out
        C5,P1,critical,2025-06-30 10:00,,,false,false,  # 14 h unanswered: a miss
        C6,P1,standard,2025-04-10 08:00,2025-04-10 09:00,2025-04-10 20:00,true,false,4  # 12 h
        C7,P1,standard,2025-04-11 08:00,2025-04-11 09:00,2025-04-12 08:00,true,false,4  # 24 h: in
        C8,P1,standard,2025-05-01 08:00,2025-05-01 09:00,2025-05-03 08:00,false,true,2  # 48 h: out
        C9,P1,standard,2025-06-30 12:00,,,false,false,  # open 12 h: left out
        C10,P1,standard,2025-06-20 08:00,2025-06-20 09:00,,false,false,  # open 10 days: a miss
        C11,P1,high,2025-05-05 08:00,2025-05-05 08:10,2025-05-05 09:00,true,false,  # no target
        C12,P1,low,2025-03-31 23:00,,2025-04-01 01:00,true,false,1  # opened in Q1
        D1,P2,critical,2025-05-10 10:00,2025-05-10 10:30,2025-05-10 11:00,true,false,  # 0.5 h
        D2,P2,standard,2025-05-11 10:00,2025-05-11 10:05,2025-05-11 12:00,true,false,5  # 2 h
        """,
    ),
    "partner_surveys": (
        "partner_surveys",
        "response_id,partner_id,sent_at,responded_at,satisfaction,recommend,comment",
        """
        R1,P1,2025-04-01,2025-04-05,9,10,Great support team but the portal is slow
        R2,P1,2025-04-01,2025-04-20,7,6,Margins are too thin and MDF claims take ages
        R3,P1,2025-04-01,,,,
        R4,P1,2025-06-25,2025-06-29,8,9,Good leads; payments arrive late
        R5,P1,2025-03-28,2025-04-02,2,0,Sent in Q1: counts in Q1
        R6,P1,2025-05-01,2025-05-02,,8,Answered the recommendation only
        S1,P2,2025-06-01,2025-06-03,10,10,
        """,
    ),
    "surveys": (
        "surveys",
        "response_id,partner_id,responded_at,kind,score,scale_min,scale_max",
        """
        S1,P1,2025-04-03,csat,4,1,5  # 4: satisfied
        S2,P1,2025-04-04,csat,7.5,0,10  # 1 + 4·0.75 = 4.0: satisfied (the boundary)
        S3,P1,2025-04-05,csat,7,0,10  # 3.8: not satisfied
        S4,P1,2025-04-06,csat,3,1,5  # 3
        S5,P1,2025-05-01,nps,10,0,10  # not a CSAT response
        S6,P2,2025-06-01,csat,2,1,3  # 1 + 4·1/2 = 3
        S7,P2,2025-06-02,csat,5,1,5  # 5: satisfied
        S8,P2,2025-06-03,csat,3,1,3  # 5: satisfied
        """,
    ),
}

#: P1 in FY2025-Q2 (C1 … C11; C12 was opened in Q1, R5 sent in Q1).
P1_Q2: dict[str, float | None] = {
    "support_cases": 11.0,  # C1 … C11
    "critical_cases": 5.0,  # C1 … C5
    "critical_cases_due": 4.0,  # C1 C2 C3 answered + C5 unanswered 14 h; C4 (2 h) left out
    "critical_responses_in_target": 2.0,  # C1 1 h, C2 4 h exactly
    "critical_response_rate": 0.5,  # 2 / 4
    "median_critical_response_hours": 4.0,  # median of 1, 4, 6
    "standard_cases_resolved": 3.0,  # C6 C7 C8
    "standard_cases_due": 4.0,  # C6 C7 C8 + C10 open 10 days; C9 (12 h) left out
    "standard_resolutions_in_target": 2.0,  # C6 12 h, C7 24 h exactly
    "standard_resolution_rate": 0.5,  # 2 / 4
    "median_standard_resolution_hours": 24.0,  # median of 12, 24, 48
    "resolved_cases": 7.0,  # C1 C2 C3 C6 C7 C8 C11
    "first_contact_resolutions": 4.0,  # C1 C6 C7 C11
    "first_contact_resolution_rate": 4 / 7,
    "escalated_cases": 2.0,  # C2 C8
    "escalation_rate": 2 / 11,
    "case_csat": 3.6,  # (5 + 3 + 4 + 4 + 2) / 5
    "partner_surveys_sent": 5.0,  # R1 R2 R3 R4 R6
    "partner_survey_responses": 4.0,  # R1 R2 R4 R6 (R3 unanswered)
    "partner_survey_response_rate": 0.8,  # 4 / 5
    "partner_satisfaction": 8.0,  # (9 + 7 + 8) / 3; R6 gave no satisfaction score
    "partner_nps_responses": 4.0,  # 10, 6, 9, 8
    "partner_nps_promoters": 2.0,  # 10, 9
    "partner_nps_detractors": 1.0,  # 6
    "partner_nps": 25.0,  # 100 × (2 − 1) / 4
    "csat_responses": 4.0,  # S1 … S4
    "satisfied_csat_responses": 2.0,  # S1 (4), S2 (4.0)
    "customer_satisfaction": 0.5,  # 2 / 4
}


def fixture_workspace(root: Path, settings: str = "") -> Workspace:
    config = settings + "".join(source(n, e, h) for n, (e, h, _) in TABLES.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in TABLES.items()}
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    return ws


@pytest.fixture(scope="module")
def service_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return fixture_workspace(tmp_path_factory.mktemp("service") / "ws")


@pytest.fixture(scope="module")
def rows(service_ws: Workspace) -> dict[Any, Any]:
    with service_ws.warehouse(read_only=True) as wh:
        table = compute_metrics(wh.con, service_ws.config, SERVICE, GRAINS, ALL_LEVELS, as_of=AS_OF)
    return index(table)


def test_every_service_metric_has_a_hand_value() -> None:
    assert sorted(P1_Q2) == sorted(SERVICE)
    catalog = load_catalog()
    assert all(catalog[m].builtin and catalog[m].spec.description for m in SERVICE)


def test_partner_quarter_every_metric(rows: dict[Any, Any]) -> None:
    check(rows, "partner", "P1", "FY2025-Q2", P1_Q2)


def test_second_partner(rows: dict[Any, Any]) -> None:
    expected = {
        "support_cases": 2.0,
        "critical_response_rate": 1.0,  # D1 0.5 h
        "median_critical_response_hours": 0.5,
        "standard_resolution_rate": 1.0,  # D2 2 h
        "median_standard_resolution_hours": 2.0,
        "first_contact_resolution_rate": 1.0,
        "escalation_rate": 0.0,
        "case_csat": 5.0,  # D1 has no answer
        "partner_survey_response_rate": 1.0,
        "partner_satisfaction": 10.0,
        "partner_nps": 100.0,
        "customer_satisfaction": 2 / 3,  # S7, S8 of S6 S7 S8
    }
    check(rows, "partner", "P2", "FY2025-Q2", expected)


def test_partner_without_cases_or_surveys(rows: dict[Any, Any]) -> None:
    counts = [m for m in SERVICE if load_catalog()[m].spec.unit == "count"]
    rest = [m for m in SERVICE if m not in counts]
    check(rows, "partner", "P3", "FY2025-Q2", {**dict.fromkeys(counts, 0.0), **dict.fromkeys(rest)})


def test_portfolio_is_recomputed_from_the_cases(rows: dict[Any, Any]) -> None:
    expected = {
        "support_cases": 13.0,
        "critical_response_rate": 3 / 5,  # (2 + 1) / (4 + 1), not the mean of 0.5 and 1
        "median_critical_response_hours": 2.5,  # median of 1, 4, 6, 0.5
        "standard_resolution_rate": 3 / 5,
        "median_standard_resolution_hours": 18.0,  # median of 12, 24, 48, 2
        "first_contact_resolution_rate": 6 / 9,
        "escalation_rate": 2 / 13,
        "case_csat": 23 / 6,  # (18 + 5) / 6
        "partner_survey_response_rate": 5 / 6,
        "partner_satisfaction": 34 / 4,  # (9 + 7 + 8 + 10) / 4
        "partner_nps": 100 * (3 - 1) / 5,
        "customer_satisfaction": 4 / 7,
    }
    check(rows, "portfolio", "all", "FY2025-Q2", expected)


def test_months_and_the_quarter_before(rows: dict[Any, Any]) -> None:
    april = {
        "support_cases": 5.0,  # C1 C2 C3 C6 C7
        "critical_response_rate": 2 / 3,
        "standard_resolution_rate": 1.0,
        "partner_survey_responses": 2.0,  # R1 R2 (R3 unanswered)
        "partner_satisfaction": 8.0,  # (9 + 7) / 2
    }
    check(rows, "partner", "P1", "2025-04", april)
    first_quarter = {
        "support_cases": 1.0,  # C12, opened 03-31 23:00 and resolved in April
        "resolved_cases": 1.0,
        "first_contact_resolution_rate": 1.0,
        "case_csat": 1.0,
        "partner_surveys_sent": 1.0,  # R5, sent 03-28, answered 04-02
        "partner_satisfaction": 2.0,
        "partner_nps": -100.0,
    }
    check(rows, "partner", "P1", "FY2025-Q1", first_quarter)
    year = value(rows, "support_cases", "partner", "P1", "FY2025")
    assert year == 12.0


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_every_service_metric_is_the_same_on_every_engine(engine: Opener, tmp_path: Path) -> None:  # noqa: F811
    ws = fixture_workspace(tmp_path / "ws")
    run = {"as_of": AS_OF, "metrics": SERVICE, "grains": GRAINS, "levels": ALL_LEVELS}
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, **run)
        with engine(wh.con) as backend:
            got = compute(backend, ws.config, ws.catalog, **run)
    assert expected.results is not None and got.results is not None
    assert expected.results.num_rows > 50
    assert_same(expected.results, got.results)
