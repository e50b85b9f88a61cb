"""Incentive payouts: every rule worked out by hand, both bracket modes at the band edges,
caps, the minimum, rounding, clubs, the ledger's lifecycle (a locked period never changes; a
reversed deal comes back as a clawback in a later quarter) and the exports.

The workspace fixture (fiscal year = calendar year, quarter FY2025-Q2 = April–June 2025):

    P1  quota 100,000   O1 won 120,000.00 (A1)                      → exactly 120 %
    P2  quota 100,000   O2 won 600,000.00 (A2), O3 won 10,000.10 (A3) → 610 %, a large deal
    P3  quota  50,000   O4 won 59,999.99 (A4); 2 certifications in Q2 → just under 120 %
    P4  no quota        O5 won 20,000.00 (A5)                       → no band
"""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from typer.testing import CliRunner

from partnerscope.amounts import cents
from partnerscope.cli import app as cli
from partnerscope.money.payouts import COLUMNS, PayoutError, Payouts, export
from partnerscope.money.rules import (
    ClubPlace,
    Deal,
    Standing,
    club_places,
    earn,
    totals,
)
from partnerscope.settings.money import (
    BonusBands,
    BracketMode,
    Clubs,
    IncentiveSettings,
    Milestones,
)
from tests.conftest import PARTNERS_SOURCE, make_workspace, write_file

Q2 = "FY2025-Q2"
D = Decimal


def rules(**changes) -> IncentiveSettings:
    return IncentiveSettings(**changes)


def amounts(lines, rule=None):
    return [line.amount for line in lines if rule is None or line.rule == rule]


# ------------------------------------------------------------------------------ the bands


@pytest.mark.parametrize(
    ("won", "whole", "marginal"),
    [
        # under 100 %: nothing either way
        ("99999.99", [], []),
        # exactly 100 %: the 5 % band applies to the whole; no bracket has a slice yet
        ("100000.00", ["5000.00"], []),
        # 110 %: 5 % of 110,000 | 5 % of the 10,000 between 100 and 110 %
        ("110000.00", ["5500.00"], ["500.00"]),
        # exactly 120 %: the 10 % band (its min is inclusive) | only the first bracket, full
        ("120000.00", ["12000.00"], ["1000.00"]),
        # 130 %: 10 % of 130,000 | 5 % of 20,000 + 10 % of 10,000
        ("130000.00", ["13000.00"], ["1000.00", "1000.00"]),
        # exactly 140 %: 15 % | 5 % of 20,000 + 10 % of 20,000
        ("140000.00", ["21000.00"], ["1000.00", "2000.00"]),
        # 150 %: 15 % of 150,000 | + 15 % of the 10,000 over 140 %
        ("150000.00", ["22500.00"], ["1000.00", "2000.00", "1500.00"]),
    ],
)
def test_bonus_bands_whole_and_marginal_at_the_edges(won, whole, marginal):
    standing = Standing("P1", D(won), quota=D("100000.00"))
    got_whole = earn(standing, Q2, rules())
    got_marginal = earn(standing, Q2, rules(bands=BonusBands(mode=BracketMode.MARGINAL)))
    assert amounts(got_whole) == [D(a) for a in whole]
    assert amounts(got_marginal) == [D(a) for a in marginal]


def test_the_band_explains_itself():
    (line,) = earn(Standing("P1", D("120000"), quota=D("100000")), Q2, rules())
    assert line.rule == "bonus_bands" and line.base == D("120000") and line.rate == D("0.10")
    assert line.explanation == (
        "quota attainment 120 % (120,000.00 won of 100,000.00) is in the 120 %–140 % band: "
        "10 % of the whole won revenue 120,000.00"
    )
    marginal = earn(
        Standing("P1", D("130000"), quota=D("100000")),
        Q2,
        rules(bands=BonusBands(mode=BracketMode.MARGINAL)),
    )
    assert marginal[1].explanation.endswith(
        "bracket 120 %–140 % pays 10 % of the revenue between 120 % and 130 % of quota, 10,000.00"
    )


def test_amounts_round_to_the_cent_half_away_from_zero():
    assert cents(D("91500.015")) == D("91500.02")
    assert cents(D("-91500.015")) == D("-91500.02")
    assert cents(2.675) == D("2.68")  # read by its repr, not its binary value 2.67499999...
    # 610,000.10 × 15 % = 91,500.015 → 91,500.02
    (line,) = earn(Standing("P2", D("610000.10"), quota=D("100000")), Q2, rules())
    assert line.amount == D("91500.02")


def test_no_quota_no_band_and_the_minimum_revenue():
    assert earn(Standing("P4", D("20000")), Q2, rules()) == []
    assert earn(Standing("P4", D("20000"), quota=D("0")), Q2, rules()) == []
    floor = rules(bands=BonusBands(min_revenue=D("150000")))
    assert earn(Standing("P1", D("149999.99"), quota=D("100000")), Q2, floor) == []


# ------------------------------------------------------------------------------ milestones


def test_milestones_each_rule_by_hand():
    standing = Standing(
        "P2",
        D("0"),
        new_customers=3,
        csat=D("4.75"),
        certifications=2,
        large_deals=(Deal("O2", D("600000.00")), Deal("O9", D("500000.00"))),
    )
    lines = earn(standing, Q2, rules())
    by_rule = {line.rule: line for line in lines}
    assert (
        by_rule["new_customers"].amount == D("3000.00") and by_rule["new_customers"].quantity == 3
    )
    # over 500,000: O2 only (500,000.00 exactly is not over); 2 % of 600,000 = 12,000
    assert amounts(lines, "large_deal") == [D("12000.00")]
    assert "deal O2 won for 600,000.00" in by_rule["large_deal"].explanation
    # CSAT 4.75 of 5 is 95 %: the bonus; 4.74 is not
    assert by_rule["satisfaction"].amount == D("500.00")
    assert not amounts(earn(Standing("P2", D(0), csat=D("4.74")), Q2, rules()))
    assert by_rule["certifications"].amount == D("500.00")
    assert sum(amounts(lines)) == D("16000.00")


def test_caps_and_the_minimum_payout_are_lines_of_their_own():
    capped = rules(
        bands=BonusBands(cap=D("10000")),
        milestones=Milestones(cap=D("1500")),
    )
    standing = Standing("P1", D("150000"), quota=D("100000"), new_customers=2)
    lines = earn(standing, Q2, capped)
    # bands 22,500 capped at 10,000; milestones 2,000 capped at 1,500
    assert [(x.rule, x.kind, x.amount) for x in lines] == [
        ("bonus_bands", "earned", D("22500.00")),
        ("bonus_bands", "cap", D("-12500.00")),
        ("new_customers", "earned", D("2000.00")),
        ("milestones", "cap", D("-500.00")),
    ]
    assert totals(lines) == {"P1": D("11500.00")}
    whole_cap = earn(standing, Q2, rules(partner_cap=D("20000")))
    assert whole_cap[-1].rule == "partner_cap" and whole_cap[-1].amount == D("-4500.00")
    assert totals(whole_cap) == {"P1": D("20000.00")}
    # under the minimum payout: its lines stay, a last line takes the total to zero
    small = earn(Standing("P4", D(0), new_customers=1), Q2, rules(min_payout=D("2500")))
    assert [(x.rule, x.amount) for x in small] == [
        ("new_customers", D("1000.00")),
        ("min_payout", D("-1000.00")),
    ]
    assert totals(small) == {"P4": D("0.00")}


def test_tier_uplift_and_clubs():
    elite = Standing("P1", D("200000.10"), tier="Elite")
    (line,) = earn(elite, Q2, rules())
    # 5 % of 200,000.10 = 10,000.005 → 10,000.01
    assert line.rule == "tier_uplift" and line.amount == D("10000.01")
    assert earn(Standing("P1", D("200000"), tier="Performance"), Q2, rules()) == []
    # 200 ranked partners (P000 best): top 1 % = ranks 1–2, 5 % = 3–10, 10 % = 11–20
    values = {f"P{i:03d}": float(1000 - i) for i in range(200)}
    values["PX"] = None  # no value: not ranked
    values["PZ"] = 0.0  # nothing won: not ranked
    places = club_places(values, Clubs(), "FY2025")
    assert {p.club for pid, p in places.items() if pid in ("P000", "P001")} == {"Elite Partner"}
    assert places["P002"].club == "Chairman's Club" and places["P009"].club == "Chairman's Club"
    assert places["P010"].club == "President's Club" and places["P019"].rank == 20
    assert "P020" not in places and "PX" not in places and "PZ" not in places
    assert len(places) == 20 and places["P019"].ranked == 200
    # ties share the better rank
    # ties share the better rank: of 20, rank 1 ≤ 5 % × 20 is in the Chairman's Club, both
    tied = club_places(
        {"A": 50.0, "B": 50.0, **{f"C{i}": 1.0 + i for i in range(18)}}, Clubs(), "FY2025"
    )
    assert tied["A"].rank == tied["B"].rank == 1
    assert tied["A"].club == tied["B"].club == "Chairman's Club"
    # top 1 % of 50 partners is nobody (rank 1 > 0.5)
    few = club_places({f"P{i}": float(i + 1) for i in range(50)}, Clubs(), "FY2025")
    assert {p.club for p in few.values()} == {"Chairman's Club", "President's Club"}
    place = ClubPlace("President's Club", D(0), D("0.10"), 7, 100, D("5"), "FY2025", "won_revenue")
    (club,) = earn(Standing("P7", D(0), club=place), "FY2025-Q4", rules())
    assert club.amount == D("0.00")
    assert club.explanation == (
        "President's Club: rank 7 of 100 partners by won_revenue in FY2025 (top 10 %); "
        "recognition, no award configured"
    )


def test_money_settings_are_checked_with_located_errors():
    from pydantic import ValidationError

    from partnerscope.config import Config, check_evaluation

    config = Config.model_validate(
        {
            "incentives": {
                "tier_uplift": {"rates": {"Elit": 0.05}},
                "clubs": {"rank_by": "won_revenu"},
            },
            "mdf": {"ruleset": "revnue"},
        }
    )
    assert check_evaluation(config) == [
        "incentives.tier_uplift.rates: no tier 'Elit' in the performance tiers; "
        "did you mean 'Elite'?",
        "mdf.ruleset: no tier ruleset 'revnue'; choose revenue or performance",
        "incentives.clubs.rank_by: no metric 'won_revenu'; did you mean 'won_revenue'?",
    ]
    gap = [{"min": 1, "max": 1.2, "rate": 0.05}, {"min": 1.3, "rate": 0.1}]
    with pytest.raises(ValidationError, match=r"found max 1\.2 then min 1\.3"):
        Config.model_validate({"incentives": {"bands": {"bands": gap}}})


money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    won=money,
    quota=st.one_of(st.none(), money),
    customers=st.integers(0, 50),
    certs=st.integers(0, 20),
    deals=st.lists(money, max_size=5),
    mode=st.sampled_from(list(BracketMode)),
    cap=st.one_of(st.none(), money),
    minimum=money,
)
def test_a_partners_total_is_the_sum_of_its_lines_and_never_negative(
    won, quota, customers, certs, deals, mode, cap, minimum
):
    standing = Standing(
        "P1",
        won,
        quota=quota,
        new_customers=customers,
        certifications=certs,
        large_deals=tuple(Deal(f"O{i}", d) for i, d in enumerate(deals)),
        tier="Elite",
    )
    config = rules(bands=BonusBands(mode=mode), partner_cap=cap, min_payout=minimum)
    lines = earn(standing, Q2, config)
    total = totals(lines).get("P1", D("0.00"))
    assert total == sum((line.amount for line in lines), D("0.00"))
    assert all(line.amount == cents(line.amount) for line in lines)
    assert total >= 0
    if cap is not None:
        assert total <= cap
    assert total == 0 or total >= minimum


# --------------------------------------------------------------------- the ledger, for real

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
updated_at = "updated"

[sources.targets]
entity = "targets"
path = "data/targets.csv"
[sources.targets.columns]
partner_id = "partner"
period_start = "start"
quota = "quota"

[sources.certs]
entity = "certifications"
path = "data/certs.csv"
[sources.certs.columns]
record_id = "id"
partner_id = "partner"
person_id = "person"
certification = "cert"
issued_at = "issued"

[incentives.tier_uplift]
ruleset = "revenue"
rates = { "Tier 3 development" = 0.05 }
"""
)
OPPS = """id,partner,account,status,amount,created,closed,updated
O1,P1,A1,won,120000.00,2025-03-01,2025-04-10,2025-04-10
O2,P2,A2,won,600000.00,2025-03-01,2025-05-15,2025-05-15
O3,P2,A3,won,10000.10,2025-04-01,2025-05-20,2025-05-20
O4,P3,A4,won,59999.99,2025-04-01,2025-06-30,2025-06-30
O5,P4,A5,won,20000.00,2025-04-01,2025-06-01,2025-06-01
"""
TARGETS = """partner,start,quota
P1,2025-04-01,100000
P2,2025-04-01,100000
P3,2025-04-01,50000
P1,2025-07-01,100000
"""
CERTS = """id,partner,person,cert,issued
C1,P3,U1,CERT-A,2025-04-02
C2,P3,U2,CERT-A,2025-06-30
C3,P3,U3,CERT-B,2025-07-01
C4,P1,U4,CERT-A,2025-03-31
"""
JULY = datetime(2025, 7, 1)
OCTOBER = datetime(2025, 10, 1)


@pytest.fixture
def ws(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        CONFIG,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\nP3,Gamma\nP4,Delta\n",
            "data/opps.csv": OPPS,
            "data/targets.csv": TARGETS,
            "data/certs.csv": CERTS,
        },
    )
    ws.ingest()
    ws.run(as_of=JULY)
    return ws


def by_partner(ledger):
    out: dict[str, dict[str, Decimal]] = {}
    for line in ledger.lines:
        rules_ = out.setdefault(line.partner_id, {})
        rules_[line.rule] = rules_.get(line.rule, D(0)) + line.amount
    return out


def test_a_quarters_ledger_from_a_run(ws):
    ledger = Payouts(ws).compute(Q2, by="fin")
    assert ledger.status == "draft" and ledger.run_id == 1
    assert by_partner(ledger) == {
        # exactly 120 %: 10 % of 120,000; one new customer (A1)
        "P1": {"bonus_bands": D("12000.00"), "new_customers": D("1000.00")},
        # 610 %: 15 % of 610,000.10 = 91,500.015 → .02; O2 over 500K: 2 % = 12,000;
        # A2 and A3 new; trailing-year revenue ≥ 500K: Tier 3 development, 5 % uplift
        # of 610,000.10 = 30,500.005 → .01
        "P2": {
            "bonus_bands": D("91500.02"),
            "large_deal": D("12000.00"),
            "new_customers": D("2000.00"),
            "tier_uplift": D("30500.01"),
        },
        # 59,999.99 / 50,000 = 119.99998 %: the 5 % band, 2,999.9995 → 3,000.00;
        # C1 and C2 in Q2 (C3 is 1 July)
        "P3": {
            "bonus_bands": D("3000.00"),
            "new_customers": D("1000.00"),
            "certifications": D("500.00"),
        },
        # no quota: no band
        "P4": {"new_customers": D("1000.00")},
    }
    assert ledger.total == D("154500.03")  # 13,000 + 136,000.03 + 4,500 + 1,000
    assert ledger.total == sum(line.amount for line in ledger.lines)


def test_approval_locks_and_a_reversed_deal_is_clawed_back_later(ws, store_url):
    payouts = Payouts(ws)
    payouts.compute(Q2, by="fin")
    with pytest.raises(PayoutError, match="not over"):
        # a run as of 2025-08-01 has FY2025-Q3 half done: it cannot be approved
        ws.run(as_of=datetime(2025, 8, 1))
        payouts.compute("FY2025-Q3", by="fin")
        payouts.approve("FY2025-Q3", by="boss")
    approved = payouts.approve(Q2, by="boss")
    assert approved.status == "approved" and approved.approved_by == "boss"
    before = payouts.ledger(Q2).lines
    with pytest.raises(PayoutError, match="locked"):
        payouts.compute(Q2, by="fin")
    # the database itself refuses to touch a locked line
    with payouts.engine.connect() as connection, pytest.raises(Exception, match="locked"):
        connection.execute(text("UPDATE payout_lines SET amount = '0.00'"))
    with payouts.engine.connect() as connection, pytest.raises(Exception, match="locked"):
        connection.execute(text("DELETE FROM payout_lines"))
    # O2 is reversed in the CRM: now lost
    write_file(
        ws.root / "data" / "opps2.csv",
        "id,partner,account,status,amount,created,closed,updated\n"
        "O2,P2,A2,lost,600000.00,2025-03-01,2025-05-15,2025-08-20\n",
    )
    ws.ingest()
    with pytest.raises(PayoutError, match="imports newer than run"):
        payouts.compute("FY2025-Q3", by="fin")
    ws.run(as_of=OCTOBER)
    q3 = payouts.compute("FY2025-Q3", by="fin")
    adjustments = [line for line in q3.lines if line.kind == "adjustment"]
    assert {(x.partner_id, x.rule, x.earned_in, x.amount) for x in adjustments} == {
        # 10,000.10 won of 100,000: no band; no large deal; A3 the only new customer; the
        # trailing year under 500K: no uplift
        ("P2", "bonus_bands", Q2, D("-91500.02")),
        ("P2", "large_deal", Q2, D("-12000.00")),
        ("P2", "new_customers", Q2, D("-1000.00")),
        ("P2", "tier_uplift", Q2, D("-30500.01")),
    }
    assert all("clawback" in x.explanation for x in adjustments)
    # Q2 itself never changed
    assert payouts.ledger(Q2).lines == before
    # recomputing Q3 posts the same adjustments once, not twice
    again = payouts.compute("FY2025-Q3", by="fin")
    assert sorted(x.amount for x in again.lines if x.kind == "adjustment") == sorted(
        x.amount for x in adjustments
    )
    paid = payouts.pay(Q2, by="treasury", reference="BATCH-7")
    assert paid.status == "paid" and paid.payment_ref == "BATCH-7"
    with pytest.raises(PayoutError, match="cannot pay FY2025-Q2: it is paid"):
        payouts.pay(Q2, by="treasury", reference="BATCH-8")
    with payouts.engine.connect() as connection:
        actions = connection.execute(
            text(
                "SELECT action, actor FROM audit_log WHERE object_type = 'payout_period' "
                "AND object_id = :p ORDER BY entry_id"
            ),
            {"p": Q2},
        ).all()
    assert [tuple(a) for a in actions] == [
        ("compute", "fin"),
        ("approve", "boss"),
        ("pay", "treasury"),
    ]


MUTATIONS = st.one_of(
    st.tuples(
        st.just("UPDATE payout_lines SET {column} = :value WHERE line_id = :line"),
        st.sampled_from(["amount", "partner_id", "rule", "kind", "explanation", "period"]),
        st.sampled_from(["0.00", "-1.00", "P9", "FY2025-Q3", "x"]),
    ),
    st.tuples(st.just("DELETE FROM payout_lines WHERE line_id = :line"), st.none(), st.none()),
    st.tuples(
        st.just(
            "INSERT INTO payout_lines (period, partner_id, rule, kind, earned_in, amount, "
            "explanation, inputs, run_id, created_at) VALUES ('FY2025-Q2', 'P1', 'bonus', "
            "'earned', 'FY2025-Q2', :value, 'x', '{{}}', 1, '2025-01-01')"
        ),
        st.none(),
        st.sampled_from(["1.00", "99999.99"]),
    ),
    st.tuples(
        st.just("UPDATE payout_periods SET {column} = :value WHERE period = 'FY2025-Q2'"),
        st.sampled_from(["status", "run_id", "period"]),
        st.sampled_from(["draft", "approved", "7", "FY2025-Q3"]),
    ),
    st.tuples(
        st.just("DELETE FROM payout_periods WHERE period = 'FY2025-Q2'"), st.none(), st.none()
    ),
)


def snapshot_of(payouts, period):
    with payouts.engine.connect() as connection:
        lines = connection.execute(
            text("SELECT * FROM payout_lines WHERE period = :p ORDER BY line_id"), {"p": period}
        ).all()
        state = connection.execute(
            text("SELECT * FROM payout_periods WHERE period = :p"), {"p": period}
        ).all()
    return lines, state


@pytest.fixture
def locked(ws, store_url):
    payouts = Payouts(ws)
    payouts.compute(Q2, by="fin")
    payouts.approve(Q2, by="boss")
    return payouts


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=4), line=st.integers(0, 12))
def test_a_locked_period_never_changes(locked, mutations, line):
    """Whatever is attempted on an approved period's lines or state, directly in SQL, is
    refused by the database, and the period reads the same afterwards."""
    before = snapshot_of(locked, Q2)
    ids = [row.line_id for row in before[0]]
    for statement, column, value in mutations:
        sql = statement.format(column=column)
        params = {"value": value, "line": ids[line % len(ids)]}
        if column == "status" and value == "approved":
            continue  # approved → approved changes nothing
        # PostgreSQL refuses text in an integer column before the trigger sees it
        refusal = "locked|invalid input syntax for type integer"
        with locked.engine.connect() as connection, pytest.raises(Exception, match=refusal):
            connection.execute(text(sql), params)
            connection.commit()
    assert snapshot_of(locked, Q2) == before


def test_exports_escape_formulas_and_sum_to_the_ledger(ws, tmp_path):
    import openpyxl

    ledger = Payouts(ws).compute(Q2, by="fin")
    out = export(ledger, tmp_path / "q2.csv")
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(ledger.lines)
    assert sum(D(r["amount"]) for r in rows) == ledger.total
    # the payment file's last column: the currency of every amount
    assert list(rows[0])[-1] == "currency" and {r["currency"] for r in rows} == {"USD"}
    assert list(rows[0])[:-1] == list(COLUMNS[:-1])
    book = export(ledger, tmp_path / "q2.xlsx", names={"P1": "=HYPERLINK(1)"}, words=ws.words)
    sheet = openpyxl.load_workbook(book)["to pay"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert values[0][:4] == ("P1", "=HYPERLINK(1)", 13000.0, "USD")  # a string, not a formula
    assert sheet.cell(row=2, column=2).data_type == "s"
    assert values[-1][1:3] == ("total", float(ledger.total))
    # the total row is the sum of the partners' lines to the cent, each amount in dollars
    assert sum(D(str(v[2])) for v in values[:-1]) == ledger.total == D("154500.03")
    assert sheet.cell(row=2, column=3).number_format == '"$"#,##0.00'
    assert sheet.cell(row=len(values) + 1, column=3).number_format == '"$"#,##0.00'
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["C"].width > len("$154,500.03")
    lines = openpyxl.load_workbook(book)["lines"]
    head = [c.value for c in lines[1]]
    assert head[:4] == ["partner id", "partner", "period", "rule"]
    rules_shown = {r[3] for r in lines.iter_rows(min_row=2, values_only=True)}
    assert "Quarterly bonus" in rules_shown and "bonus_bands" not in rules_shown
    with pytest.raises(PayoutError, match=r"\.csv or an \.xlsx"):
        export(ledger, tmp_path / "q2.txt")


def test_the_payouts_commands(ws, tmp_path):
    runner = CliRunner()
    root = ["-w", str(ws.root)]
    done = runner.invoke(cli, [*root, "payouts", "compute", Q2, "--by", "fin"])
    assert done.exit_code == 0, done.output
    assert "total $154,500.03" in " ".join(done.output.split())
    assert "Acme" in done.output and "bonus_bands" not in done.output
    shown = runner.invoke(cli, [*root, "payouts", "show", Q2, "--partner", "P3"])
    assert "$3,000.00" in shown.output and "3 line(s), total $4,500.00 (draft)" in shown.output
    assert "Gamma (P3)" in shown.output and "Quarterly bonus" in shown.output
    bad = runner.invoke(cli, [*root, "payouts", "compute", "2025-05"])
    assert bad.exit_code != 0 and "payouts are quarterly" in bad.output
    assert "Traceback" not in bad.output
    missing = runner.invoke(cli, [*root, "payouts", "approve", "FY2025-Q1"])
    assert missing.exit_code != 0 and "no ledger for 'FY2025-Q1'" in missing.output
    out = tmp_path / "ledger.xlsx"
    assert runner.invoke(cli, [*root, "payouts", "export", Q2, str(out)]).exit_code == 0
    assert out.exists()


def test_the_demo_computes_the_latest_quarters_ledger(web_world):
    """`partnerscope demo` leaves a draft ledger of its latest complete quarter, exported (each
    whole-base band line is its rate of the partner's won revenue in the run), and an MDF
    reallocation proposal."""
    import pyarrow.compute as pc

    from partnerscope.evaluation.view import RunData
    from partnerscope.money.payouts import latest_complete_quarter
    from partnerscope.workspace import Workspace

    ws = Workspace.open(web_world.root)
    ledger = Payouts(ws).ledger(latest_complete_quarter(RunData(ws)) or "")
    assert ledger.status == "draft" and ledger.lines
    assert (ws.root / "reports" / f"payouts-{ledger.period}.xlsx").exists()
    # and the MDF reallocation proposal for the year after the data
    assert [p.name for p in (ws.root / "reports").glob("mdf-FY*.csv")] == ["mdf-FY2027.csv"]
    results = RunData(ws).results("quarter").table
    won = {
        r["group_key"]: r["won_revenue"]
        for r in results.filter(pc.equal(results["label"], ledger.period)).to_pylist()
    }
    bands = [line for line in ledger.lines if line.rule == "bonus_bands"]
    assert bands
    for line in bands:
        assert line.amount == cents(cents(won[line.partner_id]) * line.rate)
    assert ledger.total == sum(line.amount for line in ledger.lines)
