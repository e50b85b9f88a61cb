"""MDF: budgets, the workflow and each of its refusals, returns and the reallocation proposal,
on a tiny workspace whose figures are worked out by hand below.

Fiscal years start in July (FY2025 = 2024-07-01 … 2025-06-30), the reporting time zone is New
York, and the run is as of 2025-07-01 00:00 New York (04:00 UTC): its last month is 2025-06,
so FY2025 is the evidence year and FY2026 the year proposed.

Revenue tiers (won revenue over the 12 months ending at each quarter's end):

    P1 Acme   O1 2,500,000 won 2024-03 → Tier 2 growth from FY2024-Q3 (budget 100,000);
              FY2025: O4 2,400,000 + O10 90,000 + O13 20,000 + O16 50,000 → still Tier 2
    P2 Beta   O2 600,000 (2024-03), O5 600,000 (2024-08) → Tier 3 development (25,000)
    P3 Gamma  nothing won → Registered (no budget)
    P4 Delta  O3 700,000 (2024-03), O6 700,000 (2024-09) → Tier 3 development (25,000)

MDF activities and the opportunities linked to them, in FY2025:

    M1 P1 event     paid 20,000 on 2024-09-15; O10 won 90,000 (created 2024-10-01, closed
                    2025-03-01), O11 open 30,000 (created 2024-11-01), O12 lost 20,000 (created
                    2025-01-05): spend 20,000, attributed 90,000, pipeline 140,000
                    → ROI (90,000 − 20,000) / 20,000 = 3.5, pipeline ratio 7
    M2 P1 digital   paid 10,000 on 2025-02-10; O13 won 20,000 (created 2025-02-20, closed
                    2025-06-30 22:00 New York = 07-01 02:00 UTC: still FY2025), O14 won 15,000
                    (created 2025-06-01, closed 2025-07-15 in FY2026: pipeline only)
                    → spend 10,000, attributed 20,000, pipeline 35,000: ROI 1, ratio 3.5
    M3 P2 event     paid 5,000 on 2024-12-01; O15 won 10,000; O16 is P1's deal linked to M3,
                    another partner's activity: attributed to nobody
                    → spend 5,000, attributed 10,000, pipeline 10,000: ROI 1, ratio 2
    M4 P4 training  paid 8,000 on 2025-03-01, nothing linked → ROI −1, ratio 0
    M5 P3 content   approved, never paid: no spend
    M6 P1 content   paid 4,000 on 2025-07-10 (FY2026): imported spend against P1's FY2026 budget
    MDF-REQ-99      paid 3,000 on 2025-08-01 (FY2026): a workflow request exported and loaded
                    again, so left out of the budget left (the workflow counts it already)
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.cli import app
from partnerscope.cli.app import console
from partnerscope.money import mdf
from partnerscope.money.mdf import ActivityType, MdfError, MdfNotFoundError, MdfRefusedError
from partnerscope.schema import TABLES
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, query
from tests.test_metrics_fixture import csv_file, source

#: one worker builds the fixture workspace once for the module
pytestmark = pytest.mark.xdist_group("mdf")

AS_OF = datetime(2025, 7, 1, 4)  # midnight in New York
#: 2025-08-01 08:00 in New York: FY2026
NOW = datetime(2025, 8, 1, 12)

FIXTURE: dict[str, tuple[str, str, str]] = {
    "partners": ("partners", "partner_id,name", "P1,Acme\nP2,Beta\nP3,Gamma\nP4,Delta"),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,status,amount,created_at,closed_at,mdf_activity_id",
        """
        O1,P1,sourced,won,2500000,2023-09-01,2024-03-15,
        O2,P2,sourced,won,600000,2023-09-01,2024-03-20,
        O3,P4,sourced,won,700000,2023-09-01,2024-03-25,
        O4,P1,sourced,won,2400000,2024-08-01,2024-10-01,
        O5,P2,sourced,won,600000,2024-06-01,2024-08-01,
        O6,P4,sourced,won,700000,2024-07-15,2024-09-01,
        O10,P1,sourced,won,90000,2024-10-01,2025-03-01,M1
        O11,P1,sourced,open,30000,2024-11-01,,M1
        O12,P1,sourced,lost,20000,2025-01-05,2025-04-01,M1
        O13,P1,sourced,won,20000,2025-02-20,2025-06-30 22:00,M2
        O14,P1,sourced,won,15000,2025-06-01,2025-07-15,M2
        O15,P2,sourced,won,10000,2024-12-05,2025-02-01,M3
        O16,P1,sourced,won,50000,2024-12-10,2025-02-15,M3
        """,
    ),
    "mdf": (
        "mdf_activities",
        "activity_id,partner_id,activity_type,name,status,paid_amount,paid_at",
        """
        M1,P1,event,Summit,paid,20000,2024-09-15
        M2,P1,digital,Ads,paid,10000,2025-02-10
        M3,P2,event,Roadshow,paid,5000,2024-12-01
        M4,P4,training,Bootcamp,paid,8000,2025-03-01
        M5,P3,content,Ebook,approved,,
        M6,P1,content,Webinar,paid,4000,2025-07-10
        MDF-REQ-99,P1,other,Exported request,paid,3000,2025-08-01
        """,
    ),
}

#: the export of the workflow, declared as a source of its own
REQUESTS_SOURCE = source("requests", "mdf_activities", ",".join(mdf.workflow.EXPORT_COLUMNS))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = '[workspace]\ntimezone = "America/New_York"\nfiscal_year_start_month = 7\n' + "".join(
        source(name, entity, header) for name, (entity, header, _) in FIXTURE.items()
    )
    files = {f"data/{n}.csv": csv_file(header, body) for n, (_, header, body) in FIXTURE.items()}
    ws = make_workspace(tmp_path_factory.mktemp("mdf") / "ws", config, files)
    assert ws.ingest().quarantined == 0
    ws.run(as_of=AS_OF)
    return ws.root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Workspace:
    """A copy of the fixture workspace of one's own: requests and budgets start empty."""
    return Workspace.open(shutil.copytree(template, tmp_path / "ws"))


@contextmanager
def refused(check: str, *words: str) -> Iterator[pytest.ExceptionInfo[MdfRefusedError]]:
    """``pytest.raises`` for a refusal by ``check`` whose message has every one of ``words``:
    the refusal must name that check, not only say those words."""
    with pytest.raises(MdfRefusedError, match=".*".join(map(_escape, words))) as caught:
        yield caught
    assert caught.value.check == check, (caught.value.check, str(caught.value))


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def entries(ws: Workspace, object_type: str) -> list[audit.Entry]:
    return list(reversed(audit.entries(connect(ws), object_type=object_type)))


def D(text: str) -> Decimal:
    return Decimal(text)


# ---------------------------------------------------------------------------------- returns


def test_activity_types_are_the_canonical_ones() -> None:
    allowed = TABLES["mdf_activities"].column("activity_type").allowed
    assert tuple(t.value for t in ActivityType) == allowed


def test_returns_per_activity(ws: Workspace) -> None:
    found = mdf.returns(ws, "activity")
    assert (found.window, found.start.isoformat(), found.end.isoformat()) == (
        "FY2025",
        "2024-07-01",
        "2025-07-01",
    )
    rows = {r.key: r for r in found.rows}
    # M5 was never paid and has no deals; M6 and MDF-REQ-99 fall in FY2026
    assert sorted(rows) == ["M1", "M2", "M3", "M4"]
    figures = {
        k: (r.spend, r.attributed_revenue, r.pipeline, r.roi, r.pipeline_ratio)
        for k, r in rows.items()
    }
    assert figures == {
        "M1": (D("20000"), D("90000"), D("140000"), D("3.5"), D("7")),
        "M2": (D("10000"), D("20000"), D("35000"), D("1"), D("3.5")),
        "M3": (D("5000"), D("10000"), D("10000"), D("1"), D("2")),
        "M4": (D("8000"), D("0"), D("0"), D("-1"), D("0")),
    }
    # targets: ROI 200 %, pipeline 5 : 1
    assert (rows["M1"].roi_met, rows["M1"].pipeline_met) == (True, True)
    assert (rows["M2"].roi_met, rows["M2"].pipeline_met) == (False, False)
    assert (rows["M1"].partner_id, rows["M1"].activity_type, rows["M1"].name) == (
        "P1",
        "event",
        "Summit",
    )


def test_returns_per_partner_type_and_in_total(ws: Workspace) -> None:
    partners = mdf.returns(ws, "partner")
    figures = {r.key: (r.spend, r.attributed_revenue, r.pipeline) for r in partners.rows}
    assert figures == {
        "P1": (D("30000"), D("110000"), D("175000")),  # M1 + M2
        "P2": (D("5000"), D("10000"), D("10000")),  # M3; O16 is not P2's
        "P4": (D("8000"), D("0"), D("0")),
    }
    p1 = partners.rows[0]
    assert p1.roi == D("80000") / D("30000")  # 2.67 ≥ 2: met
    assert p1.pipeline_ratio == D("175000") / D("30000")  # 5.83 ≥ 5: met
    assert (p1.roi_met, p1.pipeline_met) == (True, True)

    types = {r.key: (r.spend, r.roi, r.pipeline_ratio) for r in mdf.returns(ws, "type").rows}
    assert types == {
        "digital": (D("10000"), D("1"), D("3.5")),
        "event": (D("25000"), D("3"), D("6")),  # (100,000 − 25,000) / 25,000; 150,000 / 25,000
        "training": (D("8000"), D("-1"), D("0")),
    }
    total = partners.total
    assert (total.spend, total.attributed_revenue, total.pipeline) == (
        D("43000"),
        D("120000"),  # 110,000 + 10,000 + 0
        D("185000"),
    )
    assert total.roi == D("77000") / D("43000")  # 1.79: below the target


def test_returns_agree_with_the_runs_metrics(ws: Workspace) -> None:
    from partnerscope.evaluation.view import RunData

    results = RunData(ws).results("year")
    for row in mdf.returns(ws, "partner").rows:
        (metrics,) = [r for r in results.rows(row.key) if r["label"] == "FY2025"]
        assert metrics["mdf_spend"] == pytest.approx(float(row.spend))
        assert metrics["mdf_attributed_revenue"] == pytest.approx(float(row.attributed_revenue))
        assert metrics["mdf_pipeline"] == pytest.approx(float(row.pipeline))
        assert metrics["mdf_roi"] == pytest.approx(float(row.roi))


def test_returns_over_quarters_and_undefined_roi(ws: Workspace) -> None:
    # FY2025-Q3 … Q4 = 2025-01-01 … 2025-06-30: spend M2 10,000 and M4 8,000 only; won O10
    # 90,000 (M1), O13 20,000 (M2), O15 10,000 (M3); created O12 20,000, O13 20,000, O14 15,000
    found = mdf.returns(ws, "partner", "FY2025-Q3", "FY2025-Q4")
    assert found.window == "FY2025-Q3 – FY2025-Q4"
    rows = {r.key: r for r in found.rows}
    assert (rows["P1"].spend, rows["P1"].roi, rows["P1"].pipeline_ratio) == (
        D("10000"),
        D("10"),  # (110,000 − 10,000) / 10,000
        D("5.5"),  # 55,000 / 10,000
    )
    # revenue without spend in the window: the ratios are undefined, not 0
    assert (rows["P2"].spend, rows["P2"].attributed_revenue) == (D("0"), D("10000"))
    assert (rows["P2"].roi, rows["P2"].roi_met, rows["P2"].pipeline_ratio) == (None, None, None)
    with pytest.raises(MdfError, match="not a period"):
        mdf.returns(ws, "partner", "FY25")
    with pytest.raises(MdfError, match="group by one of activity, partner, type"):
        mdf.returns(ws, "region")


# ---------------------------------------------------------------------------------- budgets


def test_budgets_follow_the_tier_at_the_end_of_the_previous_year(ws: Workspace) -> None:
    by_year = {
        year: {b.partner_id: (b.amount, b.tier, b.tier_period) for b in mdf.budgets(ws, year)}
        for year in ("FY2025", "FY2026")
    }
    assert by_year["FY2025"] == {
        "P1": (D("100000"), "Tier 2 growth", "FY2024-Q4"),
        "P2": (D("25000"), "Tier 3 development", "FY2024-Q4"),
        "P3": (D("0"), "Registered", "FY2024-Q4"),
        "P4": (D("25000"), "Tier 3 development", "FY2024-Q4"),
    }
    assert {pid: b[2] for pid, b in by_year["FY2026"].items()} == dict.fromkeys(
        ["P1", "P2", "P3", "P4"], "FY2025-Q4"
    )
    # no quarter of the run ends before FY2024 starts: the latest tier
    assert mdf.budget(ws, "P1", "FY2023").tier_period == "FY2025-Q4"


def test_budget_left_counts_the_workflow_and_imported_spend(ws: Workspace) -> None:
    approved = mdf.submit(
        ws, "P1", activity_type="event", name="A", amount=30000, by="ana", now=NOW
    )
    mdf.approve(ws, approved.request_id, by="fin", now=NOW)  # 30,000 committed
    paid = mdf.submit(ws, "P1", activity_type="digital", name="B", amount=10000, by="ana", now=NOW)
    mdf.approve(ws, paid.request_id, amount="8000", by="fin", now=NOW)
    mdf.claim(ws, paid.request_id, amount="6000", proof="INV-1", by="ana", now=NOW)
    claimed = mdf.budget(ws, "P1", "FY2026")
    assert claimed.committed == D("38000")  # a claim holds the approved amount until paid
    mdf.pay(ws, paid.request_id, by="fin", now=NOW)  # the paid 6,000 frees 2,000
    mdf.submit(ws, "P1", activity_type="content", name="C", amount=5000, by="ana", now=NOW)
    rejected = mdf.submit(ws, "P1", activity_type="event", name="D", amount=900, by="a", now=NOW)
    mdf.reject(ws, rejected.request_id, reason="no plan", by="fin", now=NOW)

    found = mdf.budget(ws, "P1", "FY2026")
    # 100,000 − (30,000 approved + 6,000 paid) − 4,000 (M6; MDF-REQ-99 is the workflow's own)
    assert (found.amount, found.committed, found.imported_spend) == (
        D("100000"),
        D("36000"),
        D("4000"),
    )
    assert found.left == D("60000")
    assert mdf.budget_left(ws, "P1", "FY2026") == D("60000")
    # FY2025: imported spend M1 + M2, no requests
    assert mdf.budget_left(ws, "P1", "FY2025") == D("70000")


def test_set_budget_overrides_the_tier_and_is_audited(ws: Workspace, store_url: str) -> None:
    found = mdf.set_budget(ws, "P3", "FY2026", "12,500.50", reason="pilot", by="lee", now=NOW)
    assert (found.amount, found.source, found.reason, found.tier) == (
        D("12500.50"),
        "override",
        "pilot",
        "Registered",
    )
    mdf.set_budget(ws, "P3", "2026", 10000, reason="pilot, revised", by="lee", now=NOW)
    assert mdf.budget(ws, "P3", "FY2026").amount == D("10000")
    assert mdf.budget(ws, "P3", "FY2025").amount == D("0")  # another year: the tier's
    logged = entries(ws, "mdf_budget")
    assert [(e.actor, e.action, e.object_id) for e in logged] == [("lee", "set", "P3/FY2026")] * 2
    assert logged[1].detail == {
        "partner_id": "P3",
        "fiscal_year": "FY2026",
        "amount": "10000.00",
        "previous_override": "12500.50",
        "reason": "pilot, revised",
    }


@pytest.mark.parametrize(
    ("partner", "year", "amount", "reason", "message"),
    [
        ("P9", "FY2026", "1000", "x", "no partner 'P9' in the warehouse"),
        ("P1", "FY2026-Q1", "1000", "x", "'FY2026-Q1' is not a fiscal year"),
        ("P1", "FY2026", "-5", "x", "the budget -5.00 is negative"),
        ("P1", "FY2026", "10.001", "x", "more than two decimals"),
        ("P1", "FY2026", "ten", "x", "'ten' is not an amount"),
        ("P1", "FY2026", "1000", "  ", "give a reason"),
    ],
)
def test_set_budget_refusals(
    ws: Workspace, partner: str, year: str, amount: str, reason: str, message: str
) -> None:
    with pytest.raises(MdfError, match=_escape(message)):
        mdf.set_budget(ws, partner, year, amount, reason=reason, by="lee", now=NOW)
    assert entries(ws, "mdf_budget") == []


# --------------------------------------------------------------------------------- workflow


def submitted(ws: Workspace, amount: int = 10000, partner: str = "P1") -> int:
    found = mdf.submit(
        ws, partner, activity_type="Event", name="Summit", amount=amount, by="pam", now=NOW
    )
    return found.request_id


def approved(ws: Workspace, amount: int = 10000) -> int:
    request_id = submitted(ws, amount)
    mdf.approve(ws, request_id, by="fin", now=NOW)
    return request_id


def test_the_workflow_end_to_end_is_audited(ws: Workspace, store_url: str) -> None:
    request_id = submitted(ws, 12000)
    found = mdf.approve(ws, request_id, amount="10000", by="fin", now=NOW)
    # approved on 2025-08-01 (New York): claim within 90 days
    assert (found.status, found.approved_amount, found.deadline.isoformat()) == (
        "approved",
        D("10000"),
        "2025-10-30",
    )
    # 2025-10-31 02:00 UTC is still 2025-10-30 in New York: on the deadline
    on_time = datetime(2025, 10, 31, 2)
    found = mdf.claim(ws, request_id, amount="9500.50", proof="INV-7", by="pam", now=on_time)
    assert (found.status, found.claimed_amount, found.proof_ref) == (
        "claimed",
        D("9500.50"),
        "INV-7",
    )
    found = mdf.pay(ws, request_id, by="fin", now=on_time)
    assert (found.status, found.paid_amount, found.fiscal_year) == ("paid", D("9500.50"), "FY2026")
    assert [r.request_id for r in mdf.requests(ws, partner="P1", year="FY2026")] == [request_id]
    assert mdf.requests(ws, status="approved") == []
    assert [r.status for r in mdf.requests(ws, status="PAID")] == ["paid"]

    logged = entries(ws, "mdf_request")
    assert [(e.action, e.actor, e.object_id) for e in logged] == [
        ("submit", "pam", str(request_id)),
        ("approve", "fin", str(request_id)),
        ("claim", "pam", str(request_id)),
        ("pay", "fin", str(request_id)),
    ]
    assert logged[0].detail["activity_type"] == "event"
    assert logged[1].detail == {
        "partner_id": "P1",
        "fiscal_year": "FY2026",
        "approved_amount": "10000.00",
        "requested_amount": "12000.00",
        "deadline": "2025-10-30",
        "budget_left_before": "96000.00",  # 100,000 − 4,000 imported (M6)
    }
    assert logged[2].detail["proof_ref"] == "INV-7"
    assert logged[3].detail["paid_amount"] == "9500.50"


def test_submit_refuses_an_unknown_partner(ws: Workspace) -> None:
    with refused("partner", "no partner 'P11' in the warehouse", "; did you mean 'P1'?"):
        submitted(ws, partner="P11")


def test_submit_refuses_an_unknown_activity_type(ws: Workspace) -> None:
    with refused("activity_type", "'evnt' is not an MDF activity type", "did you mean 'event'?"):
        mdf.submit(ws, "P1", activity_type="evnt", name="x", amount=1, by="pam", now=NOW)


def test_submit_refuses_an_amount_of_zero(ws: Workspace) -> None:
    with refused("amount", "the requested amount must be more than 0"):
        submitted(ws, amount=0)


def test_submit_refuses_a_request_without_a_name(ws: Workspace) -> None:
    with refused("name", "give the activity's name"):
        mdf.submit(ws, "P1", activity_type="event", name=" ", amount=1, by="pam", now=NOW)
    assert mdf.requests(ws) == [] and entries(ws, "mdf_request") == []


def test_approve_refuses_more_than_requested(ws: Workspace) -> None:
    request_id = submitted(ws, 5000)
    with refused("over_requested", "approved amount 6,000.00 is more than the 5,000.00 requested"):
        mdf.approve(ws, request_id, amount="6000", by="fin", now=NOW)


def test_approve_refuses_beyond_the_budget_left(ws: Workspace, store_url: str) -> None:
    # P2's FY2026 budget: Tier 3, 25,000; nothing committed or spent yet
    request_id = submitted(ws, 30000, partner="P2")
    with refused(
        "budget_left",
        "MDF request #1 for 30,000.00 is refused: P2 has 25,000.00 left of its FY2026 budget "
        "of 25,000.00",
        "approve at most 25,000.00",
    ):
        mdf.approve(ws, request_id, by="fin", now=NOW)
    found = mdf.approve(ws, request_id, amount="25000", by="fin", now=NOW)
    assert found.approved_amount == D("25000") and mdf.budget_left(ws, "P2", "FY2026") == 0
    assert [e.action for e in entries(ws, "mdf_request")] == ["submit", "approve"]


def test_approve_refuses_a_partner_without_a_budget(ws: Workspace) -> None:
    request_id = submitted(ws, 100, partner="P3")  # Registered: no budget
    with refused("budget_left", "P3 has 0.00 left", "raise the budget"):
        mdf.approve(ws, request_id, by="fin", now=NOW)


def test_approve_refuses_a_request_already_approved(ws: Workspace) -> None:
    request_id = approved(ws)
    with refused("state", "was approved for 10,000.00 on 2025-08-01", "only a requested"):
        mdf.approve(ws, request_id, by="fin", now=NOW)


def test_approve_of_an_unknown_request(ws: Workspace) -> None:
    with pytest.raises(MdfNotFoundError, match="no MDF request #42"):
        mdf.approve(ws, 42, by="fin", now=NOW)


def test_reject_needs_a_reason(ws: Workspace) -> None:
    request_id = submitted(ws)
    with refused("reason", "give a reason"):
        mdf.reject(ws, request_id, reason="", by="fin", now=NOW)
    assert mdf.request(ws, request_id).status == "requested"


def test_reject_refuses_an_approved_request(ws: Workspace) -> None:
    request_id = approved(ws)
    with refused("state", "only a requested request can be rejected"):
        mdf.reject(ws, request_id, reason="changed my mind", by="fin", now=NOW)


def test_claim_refuses_a_rejected_request(ws: Workspace) -> None:
    request_id = submitted(ws)
    mdf.reject(ws, request_id, reason="no plan attached", by="fin", now=NOW)
    with refused(
        "state",
        "MDF request #1 was rejected on 2025-08-01 (no plan attached); only an approved "
        "request can be claimed",
    ):
        mdf.claim(ws, request_id, amount=100, proof="INV-1", by="pam", now=NOW)


def test_claim_refuses_more_than_approved(ws: Workspace) -> None:
    request_id = approved(ws)
    with refused("over_approved", "the claim of 10,000.01 is more than the 10,000.00 approved"):
        mdf.claim(ws, request_id, amount="10000.01", proof="INV-1", by="pam", now=NOW)


def test_claim_refuses_after_the_deadline(ws: Workspace) -> None:
    request_id = approved(ws)
    late = datetime(2025, 10, 31, 5)  # 01:00 on 2025-10-31 in New York
    with refused(
        "deadline", "the claim deadline was 2025-10-30 (90 days after approval)", "2025-10-31"
    ):
        mdf.claim(ws, request_id, amount=100, proof="INV-1", by="pam", now=late)


def test_claim_needs_a_proof_reference(ws: Workspace) -> None:
    request_id = approved(ws)
    with refused("proof", "give a proof reference"):
        mdf.claim(ws, request_id, amount=100, proof=" ", by="pam", now=NOW)


def test_pay_refuses_a_request_not_claimed(ws: Workspace) -> None:
    request_id = approved(ws)
    with refused("state", "only a claimed request can be paid"):
        mdf.pay(ws, request_id, by="fin", now=NOW)


def test_pay_refuses_to_pay_twice(ws: Workspace) -> None:
    request_id = approved(ws)
    mdf.claim(ws, request_id, amount=100, proof="INV-1", by="pam", now=NOW)
    mdf.pay(ws, request_id, by="fin", now=NOW)
    with refused("state", "was already paid 100.00 on 2025-08-01"):
        mdf.pay(ws, request_id, by="fin", now=NOW)
    assert [e.action for e in entries(ws, "mdf_request")].count("pay") == 1


def test_requests_refuse_an_unknown_status(ws: Workspace) -> None:
    with refused("status", "'done' is not a request status"):
        mdf.requests(ws, status="done")


# ------------------------------------------------------------------ fiscal years open for requests

#: 2025-08-01 08:00 in New York, fiscal years from July: today is in FY2026 (2025-07-01 …
#: 2026-06-30), so by default FY2026 and FY2027 are open


def with_mdf(ws: Workspace, settings: str) -> Workspace:
    """The workspace again, with ``settings`` in its ``[mdf]`` section."""
    with ws.config_path.open("a", encoding="utf-8") as toml:
        toml.write(f"\n[mdf]\n{settings}\n")
    return Workspace.open(ws.root)


def test_requests_are_open_for_the_current_and_the_next_fiscal_year(ws: Workspace) -> None:
    assert mdf.open_years(ws, NOW) == ["FY2026", "FY2027"]
    for year in ("FY1999", "FY2035", "FY2025", "2028"):
        label = year if year.startswith("FY") else f"FY{year}"
        with refused(
            "fiscal_year",
            f"{label} is not open for MDF requests; requests can be filed for FY2026 or FY2027",
        ):
            mdf.submit(
                ws, "P1", activity_type="event", name="x", amount=100, by="pam", year=year, now=NOW
            )
    assert mdf.requests(ws) == [] and entries(ws, "mdf_request") == []
    made = [
        mdf.submit(
            ws, "P1", activity_type="event", name="x", amount=100, by="pam", year=year, now=NOW
        ).fiscal_year
        for year in (None, "FY2026", "fy2027", 2027)
    ]
    assert made == ["FY2026", "FY2026", "FY2027", "FY2027"]


def test_the_current_fiscal_year_is_the_one_of_today_in_the_reporting_time_zone(
    ws: Workspace,
) -> None:
    # 2025-07-01 03:59 UTC is still 2025-06-30 in New York: FY2025, the last day
    last_day = datetime(2025, 7, 1, 3, 59)
    assert mdf.open_years(ws, last_day) == ["FY2025", "FY2026"]
    with refused("fiscal_year", "FY2027 is not open", "for FY2025 or FY2026"):
        mdf.submit(
            ws, "P1", activity_type="event", name="x", amount=1, by="p", year=2027, now=last_day
        )
    # an hour later (midnight in New York) FY2026 has begun
    assert mdf.open_years(ws, datetime(2025, 7, 1, 4)) == ["FY2026", "FY2027"]


def test_the_years_open_can_be_widened(ws: Workspace) -> None:
    wide = with_mdf(ws, "request_years_back = 1\nrequest_years_ahead = 3")
    assert mdf.open_years(wide, NOW) == ["FY2025", "FY2026", "FY2027", "FY2028", "FY2029"]
    found = mdf.submit(
        wide, "P1", activity_type="event", name="x", amount=1, by="p", year="FY2025", now=NOW
    )
    assert found.fiscal_year == "FY2025"
    with refused(
        "fiscal_year",
        "FY2030 is not open for MDF requests; requests can be filed for any year from FY2025 to "
        "FY2029",
    ):
        mdf.submit(
            wide, "P1", activity_type="event", name="x", amount=1, by="p", year="FY2030", now=NOW
        )


def test_the_years_open_can_be_narrowed_to_the_current_one(ws: Workspace) -> None:
    narrow = with_mdf(ws, "request_years_ahead = 0")
    assert mdf.open_years(narrow, NOW) == ["FY2026"]
    with refused(
        "fiscal_year", "FY2027 is not open for MDF requests; requests can be filed only for FY2026"
    ):
        mdf.submit(
            narrow, "P1", activity_type="event", name="x", amount=1, by="p", year=2027, now=NOW
        )


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            "request_years_ahead = 2027",
            "mdf.request_years_ahead: give how many fiscal years after the current one take "
            "MDF requests: a count from 0 to 10, not a year (got 2027)",
        ),
        (
            "request_years_back = -1",
            "mdf.request_years_back: give how many fiscal years before the current one take "
            "MDF requests: a count from 0 to 10, not a year (got -1)",
        ),
        (
            'request_years_back = "1"',
            "mdf.request_years_back: Input should be a valid integer (got '1')",
        ),
        ("request_years_ahead = true", "mdf.request_years_ahead: Input should be a valid integer"),
        ("request_years_ahaed = 2", "mdf.request_years_ahaed: unknown key"),
    ],
)
def test_the_years_open_are_checked_with_located_errors(
    tmp_path: Path, settings: str, problem: str
) -> None:
    from partnerscope.config import load_config
    from partnerscope.errors import ConfigError

    path = tmp_path / "partnerscope.toml"
    path.write_text(f"[mdf]\n{settings}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)


def test_a_request_filed_in_a_year_since_closed_goes_on(ws: Workspace) -> None:
    """Only new requests are held to the years open: a request filed for FY2026 is approved,
    claimed and paid in FY2027 against FY2026's budget, as the partner was told it could be."""
    request_id = submitted(ws, 10000)  # FY2026, on 2025-08-01
    later = datetime(2026, 7, 15, 12)  # 2026-07-15 08:00 in New York: FY2027
    assert mdf.open_years(ws, later) == ["FY2027", "FY2028"]
    found = mdf.approve(ws, request_id, by="fin", now=later)
    # 2026-07-15 + 90 days; P1's FY2026 budget 100,000 − 4,000 imported (M6) − 10,000
    assert (found.status, found.deadline.isoformat()) == ("approved", "2026-10-13")
    assert mdf.budget_left(ws, "P1", "FY2026") == D("86000")
    mdf.claim(ws, request_id, amount="9000", proof="INV-3", by="pam", now=later)
    paid = mdf.pay(ws, request_id, by="fin", now=later)
    assert (paid.status, paid.paid_amount, paid.fiscal_year) == ("paid", D("9000"), "FY2026")
    # and a request the partner did not file in time is rejected as before
    late = submitted(ws, 500)
    assert mdf.reject(ws, late, reason="too late", by="fin", now=later).status == "rejected"
    # but no new request for FY2026 any more
    with refused("fiscal_year", "FY2026 is not open", "for FY2027 or FY2028"):
        mdf.submit(
            ws, "P1", activity_type="event", name="x", amount=1, by="p", year=2026, now=later
        )


@pytest.mark.parametrize("year", ["FY0000", "FY0001", "FY9999", "FY2026-Q1", "next"])
def test_a_year_that_is_no_fiscal_year_is_refused_in_words(ws: Workspace, year: str) -> None:
    with pytest.raises(MdfError, match=f"^'{year}' is not a fiscal year; write it like FY2025$"):
        mdf.submit(ws, "P1", activity_type="event", name="x", amount=1, by="p", year=year, now=NOW)
    with pytest.raises(MdfError, match=f"'{year}' is not a fiscal year"):
        mdf.budgets(ws, year)


# ---------------------------------------------------------------------------------- export


def test_exported_requests_ingest_as_mdf_activities(ws: Workspace) -> None:
    paid = approved(ws, 2000)
    mdf.claim(ws, paid, amount="1500", proof="INV-1", by="pam", now=NOW)
    mdf.pay(ws, paid, by="fin", now=datetime(2025, 9, 2, 3))  # 2025-09-01 in New York
    waiting = submitted(ws, 700)
    path = ws.root / "data" / "requests.csv"
    assert mdf.export_activities(ws, path) == 2
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0] == {
        "activity_id": f"MDF-REQ-{paid}",
        "partner_id": "P1",
        "activity_type": "event",
        "name": "Summit",
        "status": "paid",
        "requested_amount": "2000.00",
        "approved_amount": "2000.00",
        "paid_amount": "1500.00",
        "currency": "USD",
        "requested_at": "2025-08-01",
        "paid_at": "2025-09-01",
        "updated_at": "2025-09-02T03:00:00+00:00",
    }
    assert (rows[1]["status"], rows[1]["approved_amount"], rows[1]["paid_at"]) == (
        "requested",
        "",
        "",
    )
    left = mdf.budget_left(ws, "P1", "FY2026")

    ws.config_path.write_text(ws.config_path.read_text("utf-8") + REQUESTS_SOURCE, "utf-8")
    ws = Workspace.open(ws.root)
    assert ws.ingest(["requests"]).quarantined == 0
    assert query(
        ws,
        "SELECT activity_id, status, paid_amount, paid_at FROM mdf_activities "
        "WHERE activity_id LIKE 'MDF-REQ-_' ORDER BY activity_id",
    ) == [
        (f"MDF-REQ-{paid}", "paid", D("1500.00"), datetime(2025, 9, 1).date()),
        (f"MDF-REQ-{waiting}", "requested", None, None),
    ]
    # the metrics now count the paid request; the budget does not count it twice
    spend = mdf.returns(ws, "partner", "FY2026").rows[0]
    assert (spend.key, spend.spend) == ("P1", D("8500"))  # M6 4,000 + MDF-REQ-99 3,000 + 1,500
    assert mdf.budget_left(ws, "P1", "FY2026") == left

    # a request that moved on is updated by the next export
    mdf.approve(ws, waiting, by="fin", now=datetime(2025, 9, 3))
    mdf.export_activities(ws, path)
    assert ws.ingest(["requests"]).quarantined == 0
    assert query(
        ws,
        "SELECT status, approved_amount FROM mdf_activities WHERE activity_id = ?",
        [f"MDF-REQ-{waiting}"],
    ) == [("approved", D("700.00"))]


# ----------------------------------------------------------------------------- reallocation


def test_reallocation_moves_budget_toward_the_best_returns(ws: Workspace) -> None:
    mdf.set_budget(ws, "P4", "FY2025", 40000, reason="launch year", by="lee", now=NOW)
    mdf.set_budget(ws, "P3", "FY2025", 10000, reason="pilot", by="lee", now=NOW)
    found = mdf.propose_reallocation(ws)
    # FY2025 budgets: P1 100,000, P2 25,000, P3 10,000, P4 40,000 = 175,000.
    # P3 spent nothing: kept at 10,000. The pool is the other three: 165,000.
    # Weights = budget × (1 + ROI): P1 100,000 × 11/3 = 366,666.67, P2 25,000 × 2 = 50,000,
    # P4 40,000 × 0 = 0 → P4 at its minimum 20,000 (50 %); the 145,000 left is shared 88 : 12
    # (366,666.67 : 50,000) → P1 127,600 (within 50,000 … 200,000), P2 17,400 (12,500 … 50,000).
    assert (found.from_year, found.to_year, found.total, found.pool) == (
        "FY2025",
        "FY2026",
        D("175000"),
        D("165000"),
    )
    lines = {line.partner_id: line for line in found.lines}
    assert {pid: (line.current, line.proposed, line.bound) for pid, line in lines.items()} == {
        "P1": (D("100000"), D("127600.00"), None),
        "P2": (D("25000"), D("17400.00"), None),
        "P3": (D("10000"), D("10000"), None),
        "P4": (D("40000"), D("20000.00"), "minimum"),
    }
    assert sum(line.proposed for line in found.lines) == found.total
    assert lines["P1"].explanation == (
        "ROI 267 % meets the 200 % target (110,000.00 won on 30,000.00 paid in FY2025: 3.67 per "
        "dollar against 2.53 on average; pipeline 5.8 : 1 against 5.0 : 1): raised by 27,600.00 "
        "to 127,600.00 (+27.6 %)"
    )
    assert lines["P4"].explanation.endswith(
        "lowered by 20,000.00 to 20,000.00 (-50.0 %), held at its minimum (50 % of its budget)"
    )
    assert lines["P3"].explanation.startswith("no MDF spend paid in FY2025: kept at its budget")
    # the activity mix: 175,000 split by FY2025 spend (event 25,000, digital 10,000, training
    # 8,000 of 43,000) = 101,744.19 / 40,697.67 / 32,558.14, moved by the same rule: training
    # (no revenue) to its minimum 16,279.07; the other 158,720.93 by weights event
    # 101,744.19 × 4 = 406,976.76 and digital 40,697.67 × 2 = 81,395.34 → 132,267.44 and
    # 26,453.49 (132,267.4449… and 26,453.4851…, rounded half up; they add up)
    assert {m.activity_type: (m.current, m.proposed) for m in found.mix} == {
        "digital": (D("40697.67"), D("26453.49")),
        "event": (D("101744.19"), D("132267.44")),
        "training": (D("32558.14"), D("16279.07")),
    }


def test_reallocation_for_a_chosen_year_and_its_csv(ws: Workspace, tmp_path: Path) -> None:
    found = mdf.propose_reallocation(ws, "FY2026", now=NOW)
    assert (found.from_year, found.to_year) == ("FY2025", "FY2026")
    path = found.write_csv(tmp_path / "proposal.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["partner_id"] for r in rows] == ["P1", "P2", "P4"]  # P3: no budget, no spend
    assert rows[0]["budget_FY2025"] == "100000.00" and rows[0]["held_by"] == ""
    assert sum(Decimal(r["proposed_FY2026"]) for r in rows) == D("150000")


def cents_amounts(low: int = 0) -> st.SearchStrategy[Decimal]:
    return st.integers(low, 10**9).map(lambda c: Decimal(c) / 100)


@settings(max_examples=300, deadline=None)
@given(
    budgets=st.dictionaries(
        st.text("PQ0123456789", min_size=1, max_size=3), cents_amounts(), min_size=1, max_size=12
    ),
    multiples=st.lists(
        st.one_of(st.none(), st.fractions(min_value=0, max_value=40, max_denominator=997)),
        min_size=12,
        max_size=12,
    ),
    min_share=st.decimals(0, 1, places=2),
    max_share=st.decimals(1, 4, places=2),
)
def test_reallocation_keeps_the_total_and_the_bounds(
    budgets: dict[str, Decimal],
    multiples: list[Fraction | None],
    min_share: Decimal,
    max_share: Decimal,
) -> None:
    returns = {pid: m for pid, m in zip(sorted(budgets), multiples, strict=False) if m is not None}
    found = mdf.allocate(budgets, returns, min_share=min_share, max_share=max_share)
    assert sum(a.amount for a in found.values()) == sum(budgets.values())
    for pid, current in budgets.items():
        amount = found[pid].amount
        assert amount == amount.quantize(Decimal("0.01"))
        assert min_share * current <= amount <= max_share * current
        if pid not in returns or not current:
            assert amount == current
    # the same inputs in another order give the same proposal
    again = mdf.allocate(
        dict(reversed(list(budgets.items()))),
        dict(reversed(list(returns.items()))),
        min_share=min_share,
        max_share=max_share,
    )
    assert again == found


def test_allocate_by_hand() -> None:
    budgets = {"A": D("100.00"), "B": D("100.00"), "C": D("300.00")}
    found = mdf.allocate(
        budgets,
        {"A": Fraction(1), "B": Fraction(2), "C": Fraction(3)},
        min_share=D("0.5"),
        max_share=D("1.5"),
    )
    # weights 100, 200, 900 share the pool of 500 as 41.67, 83.33, 375: A is below its
    # minimum 50, so 50 + 200λ + 900λ = 500 → λ = 9/22 → B 81.818…, C 368.181…
    assert {k: (a.amount, a.bound) for k, a in found.items()} == {
        "A": (D("50.00"), "minimum"),
        "B": (D("81.82"), None),
        "C": (D("368.18"), None),
    }
    # weights 50 and 1,000 would give 9.52 and 190.48: both held, at 50 and 150
    found = mdf.allocate(
        {"A": D("100"), "B": D("100")},
        {"A": Fraction(1, 2), "B": Fraction(10)},
        min_share=D("0.5"),
        max_share=D("1.5"),
    )
    assert {k: (a.amount, a.bound) for k, a in found.items()} == {
        "A": (D("50.00"), "minimum"),
        "B": (D("150.00"), "maximum"),
    }


# -------------------------------------------------------------------------------------- CLI


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 250)


def cli(ws: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["-w", str(ws.root), "mdf", *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.usefixtures("wide_console")
def test_the_cli(ws: Workspace, tmp_path: Path) -> None:
    out = cli(ws, "request", "P2", "--type", "event", "--name", "Roadshow", "--amount", "5,000")
    assert "Submitted MDF request #1: Roadshow (event), $5,000.00 requested; P2 has" in out
    out = cli(ws, "approve", "1", "--amount", "4000", "--by", "fin")
    assert "Approved MDF request #1 for $4,000.00; claim it by" in out
    out = cli(ws, "list", "--partner", "P2")
    assert "│ 1 " in out and "approved" in out and "$4,000.00" in out
    out = cli(ws, "budget", "set", "P3", "9000", "--year", "FY2025", "--reason", "pilot")
    assert "P3's FY2025 MDF budget is now $9,000.00; $9,000.00 left." in out
    out = cli(ws, "budgets", "--year", "FY2025")
    assert "override (" in out and "Tier 2 growth" in out
    out = cli(ws, "returns", "--by", "type")
    # returns as multiples, as the metrics and the reports write them: ROI 300 % is 3.0×
    assert "MDF returns FY2025 (goals: MDF ROI 2.0×, MDF pipeline ratio 5.0×)" in out
    assert "│ event " in out and "3.0× ✓" in out
    proposal = tmp_path / "proposal.csv"
    out = cli(ws, "reallocate", "--explain", "--out", str(proposal))
    assert "MDF reallocation FY2025 → FY2026" in out and "Proposed activity mix" in out
    assert "P3: no MDF spend paid in FY2025" in out and proposal.is_file()
    out = cli(ws, "export-activities", str(tmp_path / "requests.csv"))
    assert "Wrote 1 request(s)" in out

    # mistakes: one red line naming what is wrong, exit code 1
    result = CliRunner().invoke(
        app, ["-w", str(ws.root), "mdf", "claim", "1", "--amount", "4500", "--proof", "INV-9"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "Error: MDF request #1: the claim of 4,500.00 is more than the 4,000.00 approved; "
        "claim at most that"
    ]
    err = (
        CliRunner()
        .invoke(
            app,
            [
                "-w",
                str(ws.root),
                "mdf",
                "request",
                "P1",
                "--type",
                "fair",
                "--name",
                "x",
                "--amount",
                "1",
            ],
        )
        .stderr
    )
    assert err.startswith("Error: 'fair' is not an MDF activity type; use one of event")


@pytest.mark.usefixtures("wide_console")
def test_the_cli_refuses_a_year_not_open_in_one_line(ws: Workspace) -> None:
    from zoneinfo import ZoneInfo

    # the CLI runs on today's clock: the fiscal year (from July) of today in New York
    today = datetime.now(ZoneInfo("America/New_York")).date()
    current = today.year + (today.month >= 7)
    for year in ("FY1999", "FY2035"):
        args = ["request", "P1", "-t", "event", "-n", "Summit", "-a", "100", "--year", year]
        result = CliRunner().invoke(app, ["-w", str(ws.root), "mdf", *args])
        assert result.exit_code == 1
        assert [line for line in result.stderr.splitlines() if line.strip()] == [
            f"Error: {year} is not open for MDF requests; requests can be filed for "
            f"FY{current} or FY{current + 1}"
        ]
    out = cli(
        ws, "request", "P1", "-t", "event", "-n", "Summit", "-a", "100", "-y", f"FY{current + 1}"
    )
    assert "Submitted MDF request #1: Summit (event), $100.00 requested; P1 has" in out
    assert f"of its FY{current + 1} budget" in out
