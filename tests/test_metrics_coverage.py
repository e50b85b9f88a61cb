"""Market coverage and channel conflict on a fixture worked out by hand (docs/coverage.md).

Period: FY2025-Q2 (2025-04-01 … 2025-06-30, UTC), computed as of 2025-07-01.

Territories (target unless said): T-DE Germany, T-DE-FIN Germany/Finance, T-FR France, T-ES Spain,
T-IT Italy, T-US United States (not a target) → 5 target territories.

    P1 Acme     GERMANY (spelt otherwise than T-DE)  active    lists none → T-DE (not T-DE-FIN)
                certification C1 from 2024-01-01, no expiry
    P2 Beta     France   active    lists T-FR and T-DE-FIN; C2 expires 2025-05-15 (mid-period)
    P3 Gamma    Italy    inactive  lists none → T-IT, certified, but inactive: covers nothing
    P4 Delta    Spain    active    lists none → T-ES, no certification: covers nothing

Covered at the end of Q2: T-DE (P1) = 1 of 5 → 20 %; at the end of April also T-FR and T-DE-FIN
(P2 still certified) = 3 of 5 → 60 %.

Opportunities (accounts A1 "Contoso GmbH" and A2 "Contoso" are one customer only for an identity
engine that joins them; the stub keeps each its own):

    O1 P1 A1 04-01 → open          1000   overlaps O2 (direct)               conflicted
    O2 —  A1 05-01 → 05-20 lost     500   direct: never counted
    O3 P1 A3 04-10 → 04-30 won     2000   overlaps O4 (P2)                   conflicted
    O4 P2 A3 04-20 → open          3000   overlaps O3 (P1)                   conflicted
    O5 P2 A4 04-05 → 04-15 lost     700   O6 opens the moment O5 closes: no overlap
    O6 —  A4 04-15 → open            —    direct
    O7 P1 A4 06-01 → open           400   overlaps O6 (direct)               conflicted
    O8 P2 A2 05-10 → open           900   (A1 = A2: overlaps O1 and O2)
    O9 P1 A1 06-01 → 06-10 won      100   overlaps O1 of its own partner only (A1 = A2: O8)
    O10 P2 —  04-01 → open          800   no account: never in conflict
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from partnerscope.metrics.engine import ALL_LEVELS, compute_metrics
from partnerscope.metrics.entities_market import IDENTITY_TABLE, rebuild_account_identities
from partnerscope.workspace import Workspace
from tests import test_engine_parity
from tests.conftest import make_workspace
from tests.test_engine_parity import ENGINES, Opener, assert_same
from tests.test_metrics_fixture import GRAINS, check, csv_file, index, source

#: the parity suite's fixture opening PostgreSQL or Spark on a copy of the warehouse
engine = test_engine_parity.engine
AS_OF = datetime(2025, 7, 1)
Q2 = "FY2025-Q2"
METRICS = [
    "target_territories",
    "covered_territories",
    "market_coverage",
    "partner_opportunities_created",
    "conflicted_opportunities",
    "channel_conflict_rate",
    "revenue_at_stake",
]

TABLES: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name,region,country,status,latitude,longitude",
        """
        P1,Acme,EMEA,GERMANY,active,52.52,13.40
        P2,Beta,EMEA,France,active,48.86,2.35
        P3,Gamma,EMEA,Italy,inactive,41.90,12.50
        P4,Delta,EMEA,Spain,active,40.42,-3.70
        """,
    ),
    "territories": (
        "territories",
        "territory_id,name,country,region,vertical,is_target",
        """
        T-DE,Germany,Germany,EMEA,,true
        T-DE-FIN,Germany finance,Germany,EMEA,Finance,true
        T-FR,France,France,EMEA,,true
        T-ES,Spain,Spain,EMEA,,true
        T-IT,Italy,Italy,EMEA,,true
        T-US,United States,United States,AMER,,false
        """,
    ),
    "partner_territories": (
        "partner_territories",
        "partner_id,territory_id",
        "P2,T-FR\nP2,T-DE-FIN",
    ),
    "certs": (
        "certifications",
        "record_id,partner_id,person_id,certification,issued_at,expires_at",
        """
        C1,P1,U1,CERT-A,2024-01-01,
        C2,P2,U2,CERT-A,2024-01-01,2025-05-15
        C3,P3,U3,CERT-A,2024-01-01,
        """,
    ),
    "accounts": (
        "accounts",
        "account_id,name,domain,country",
        """
        A1,Contoso GmbH,contoso.de,DE
        A2,Contoso,contoso.de,DE
        A3,Fabrikam,fabrikam.com,US
        A4,Northwind,northwind.com,US
        """,
    ),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,account_id,status,amount,created_at,closed_at",
        """
        O1,P1,sourced,A1,open,1000,2025-04-01T00:00:00,
        O2,,,A1,lost,500,2025-05-01T00:00:00,2025-05-20T00:00:00
        O3,P1,sourced,A3,won,2000,2025-04-10T00:00:00,2025-04-30T00:00:00
        O4,P2,sourced,A3,open,3000,2025-04-20T00:00:00,
        O5,P2,sourced,A4,lost,700,2025-04-05T00:00:00,2025-04-15T00:00:00
        O6,,,A4,open,,2025-04-15T00:00:00,
        O7,P1,influenced,A4,open,400,2025-06-01T00:00:00,
        O8,P2,sourced,A2,open,900,2025-05-10T00:00:00,
        O9,P1,sourced,A1,won,100,2025-06-01T00:00:00,2025-06-10T00:00:00
        O10,P2,sourced,,open,800,2025-04-01T00:00:00,
        """,
    ),
}


def fixture_workspace(root: Path, more_opportunities: str = "") -> Workspace:
    """The fixture ingested, with the identities the engine resolves; ``more_opportunities``:
    CSV rows added to the opportunities."""
    config = "".join(source(n, e, h) for n, (e, h, _) in TABLES.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in TABLES.items()}
    files["data/opps.csv"] += more_opportunities
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    with ws.warehouse() as wh, wh.transaction():
        rebuild_account_identities(wh.con)
    return ws


def separate(ws: Workspace) -> None:
    """The identities of an engine that keeps each account record its own customer."""
    with ws.warehouse() as wh, wh.transaction():
        wh.con.execute(f"UPDATE {IDENTITY_TABLE} SET identity_id = account_id")


def join_contoso(ws: Workspace) -> None:
    """What an identity engine that takes A1 and A2 for one customer writes."""
    separate(ws)
    with ws.warehouse() as wh, wh.transaction():
        wh.con.execute(f"UPDATE {IDENTITY_TABLE} SET identity_id = 'A1' WHERE account_id = 'A2'")


def results(ws: Workspace, grains: tuple[str, ...] = ("month", "quarter")) -> dict[Any, Any]:
    with ws.warehouse(read_only=True) as wh:
        return index(compute_metrics(wh.con, ws.config, METRICS, grains, ALL_LEVELS, as_of=AS_OF))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    found = fixture_workspace(tmp_path_factory.mktemp("coverage") / "ws")
    separate(found)
    return found


@pytest.fixture(scope="module")
def rows(ws: Workspace) -> dict[Any, Any]:
    return results(ws)


def test_market_coverage_of_the_portfolio(rows: dict[Any, Any]) -> None:
    # end of Q2: T-DE only (P2's certification lapsed 05-15; P3 inactive; P4 uncertified)
    check(
        rows,
        "portfolio",
        "all",
        Q2,
        {"target_territories": 5.0, "covered_territories": 1.0, "market_coverage": 0.2},
    )
    # end of April: T-DE (P1), T-FR and T-DE-FIN (P2 listed them and was still certified)
    april = {"covered_territories": 3.0, "market_coverage": 0.6}
    check(rows, "portfolio", "all", "2025-04", april)
    check(rows, "region", "EMEA", "2025-04", april)


def test_market_coverage_of_each_partner(rows: dict[Any, Any]) -> None:
    check(rows, "partner", "P1", Q2, {"covered_territories": 1.0, "market_coverage": 0.2})
    check(rows, "partner", "P2", Q2, {"covered_territories": 0.0, "market_coverage": 0.0})
    check(rows, "partner", "P2", "2025-04", {"market_coverage": 0.4})  # 2 / 5
    check(rows, "partner", "P3", Q2, {"market_coverage": 0.0})  # inactive
    check(rows, "partner", "P4", Q2, {"market_coverage": 0.0})  # no certification


def test_channel_conflict_with_each_account_its_own_customer(rows: dict[Any, Any]) -> None:
    # created in Q2 with a partner: O1 O3 O4 O5 O7 O8 O9 O10 = 8; conflicted O1 O3 O4 O7
    check(
        rows,
        "portfolio",
        "all",
        Q2,
        {
            "partner_opportunities_created": 8.0,
            "conflicted_opportunities": 4.0,
            "channel_conflict_rate": 0.5,
            "revenue_at_stake": 6400.0,  # 1000 + 2000 + 3000 + 400
        },
    )
    # P1: O1 O3 O7 of O1 O3 O7 O9; 1000 + 2000 + 400
    check(
        rows,
        "partner",
        "P1",
        Q2,
        {
            "conflicted_opportunities": 3.0,
            "channel_conflict_rate": 0.75,
            "revenue_at_stake": 3400.0,
        },
    )
    # P2: O4 of O4 O5 O8 O10
    check(
        rows,
        "partner",
        "P2",
        Q2,
        {
            "conflicted_opportunities": 1.0,
            "channel_conflict_rate": 0.25,
            "revenue_at_stake": 3000.0,
        },
    )
    # April: O1 O3 O4 conflicted of O1 O3 O4 O5 O10 (O7 O8 O9 are later)
    check(rows, "portfolio", "all", "2025-04", {"conflicted_opportunities": 3.0})
    check(rows, "portfolio", "all", "2025-06", {"conflicted_opportunities": 1.0})  # O7


def test_two_records_of_one_customer_conflict(tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws")
    join_contoso(ws)
    got = results(ws, ("quarter",))
    # O8 (P2 on A2) now overlaps O1 (P1) and O2 (direct); O9 (P1) overlaps O8
    check(
        got,
        "portfolio",
        "all",
        Q2,
        {
            "conflicted_opportunities": 6.0,
            "channel_conflict_rate": 0.75,  # 6 / 8
            "revenue_at_stake": 7400.0,  # 6400 + 900 + 100
        },
    )
    check(got, "partner", "P1", Q2, {"conflicted_opportunities": 4.0, "revenue_at_stake": 3500.0})
    check(got, "partner", "P2", Q2, {"conflicted_opportunities": 2.0, "revenue_at_stake": 3900.0})


def test_the_identities_table_holds_what_resolve_says(tmp_path: Path) -> None:
    from partnerscope.identity import AccountRecord, resolve

    ws = fixture_workspace(tmp_path / "ws")
    with ws.warehouse(read_only=True) as wh:
        stored = dict(
            wh.con.execute(f"SELECT account_id, identity_id FROM {IDENTITY_TABLE}").fetchall()
        )
        records = [
            AccountRecord(a, n, d, c)
            for a, n, d, c in wh.con.execute(
                "SELECT account_id, name, domain, country FROM accounts"
            ).fetchall()
        ]
    assert stored == resolve(records)
    assert set(stored) == {"A1", "A2", "A3", "A4"}


def test_the_metric_follows_the_identity_engine(tmp_path: Path) -> None:
    # the stored identities as the engine resolves them (without separate/join_contoso)
    ws = fixture_workspace(tmp_path / "ws")
    with ws.warehouse(read_only=True) as wh:
        joined = wh.con.execute(
            f"SELECT identity_id = 'A1' FROM {IDENTITY_TABLE} WHERE account_id = 'A2'"
        ).fetchall() == [(True,)]
    got = results(ws, ("quarter",))
    expected = 6.0 if joined else 4.0
    check(got, "portfolio", "all", Q2, {"conflicted_opportunities": expected})


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_same_on_every_engine(engine: Opener, tmp_path: Path) -> None:
    import ibis

    from partnerscope.metrics.engine import compute

    ws = fixture_workspace(tmp_path / "ws")
    join_contoso(ws)
    run = {"as_of": AS_OF, "metrics": METRICS, "grains": GRAINS, "levels": ALL_LEVELS}
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, **run)
        with engine(wh.con) as backend:
            got = compute(backend, ws.config, ws.catalog, **run)
    assert expected.results is not None and got.results is not None
    assert_same(expected.results, got.results)
    # the engine read the identities: the joined customer's conflicts are there
    conflicted = index(got.results)[("portfolio", "all", Q2)]["conflicted_opportunities"]
    assert conflicted == 6.0


def test_the_gap_list_agrees_with_the_metric(ws: Workspace) -> None:
    from partnerscope.lifecycle.coverage import coverage_at, coverage_trend

    with ws.warehouse(read_only=True) as wh:
        june = coverage_at(wh.con, date(2025, 6, 30))
        april = coverage_at(wh.con, date(2025, 4, 30))
        mine = coverage_at(wh.con, date(2025, 6, 30), candidates={"P2"})
        trend = coverage_trend(wh.con, [date(2025, 4, 30), date(2025, 6, 30)])
    assert (june.target, june.covered, june.share) == (5, 1, 0.2)
    # by region, country: France, Germany (finance), Italy, Spain
    assert [g.territory_id for g in june.gaps] == ["T-FR", "T-DE-FIN", "T-IT", "T-ES"]
    spain = june.gaps[-1]
    # active partners only (P3 is inactive), nearest first: Madrid, Paris, Berlin
    assert [n.partner_id for n in spain.nearest] == ["P4", "P2", "P1"]
    assert [n.certified for n in spain.nearest] == [False, False, True]
    assert spain.nearest[0].distance_km is not None and spain.nearest[0].distance_km < 300
    assert (april.covered, [g.territory_id for g in april.gaps]) == (3, ["T-IT", "T-ES"])
    assert {n.partner_id for g in mine.gaps for n in g.nearest} == {"P2"}
    # the trend (one query for every date) counts as each date alone does, without partners
    assert [(c.at, c.covered, c.target) for c in trend] == [
        (date(2025, 4, 30), 3, 5),
        (date(2025, 6, 30), 1, 5),
    ]
    assert [g.territory_id for g in trend[1].gaps] == [g.territory_id for g in june.gaps]
    assert all(g.nearest == () for c in trend for g in c.gaps)
