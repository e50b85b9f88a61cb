"""Applications and their qualification: the weighted score by hand, the "do not use"
discipline of the decision (one message listing all that is missing), approval and onboarding
in one transaction, the invitation link's states, the import (all-or-nothing, idempotent), and
the approved applicant posted as a partner until the CRM's export has it.

The fixture workspace (UTC): partners P0001 Acme (Gold), P0002 Beta (Silver), from the CRM's
file ``data/partners.csv``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.appdb.tables import application_invites, applications, onboarding_plans
from partnerscope.cli import app
from partnerscope.errors import ConfigError, PartnerscopeError
from partnerscope.lifecycle import applications as apps
from partnerscope.lifecycle.onboarding import start_plan
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, query, write_file

pytestmark = pytest.mark.xdist_group("applications")

CONFIG = """
[workspace]
timezone = "UTC"

[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
program_tier = "tier"
country = "country"
"""
PARTNERS = "id,name,tier,country\nP0001,Acme,Gold,DE\nP0002,Beta,Silver,FR\n"
NOW = datetime(2026, 3, 10, 9, 0, 0)

APPLICANT = {
    "company": "Nordlicht IT GmbH",
    "contact_name": "Jana Berg",
    "contact_email": "jana@nordlicht.example",
    "website": "www.nordlicht.example",
    "country": "DE",
    "vertical": "Manufacturing",
    "partner_type": "si",
    "description": "ERP integrations for mid-sized manufacturers",
    "employees": "42",
    "references": "Bauer Maschinen AG",
}


def _ws(root: Path, extra: str = "") -> Workspace:
    ws = make_workspace(root, CONFIG + extra, {"data/partners.csv": PARTNERS})
    assert ws.ingest().quarantined == 0
    return ws


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return _ws(tmp_path / "ws")


def _ready(ws: Workspace, application_id: int, *, owner: bool = True) -> None:
    """Every required criterion scored with evidence (and an owner)."""
    if owner:
        apps.set_owner(ws, application_id, "Maria Keller", by="admin", now=NOW)
    for criterion in ("technical_capability", "sales_capability", "market_fit"):
        apps.score(ws, application_id, criterion, 4, "checked", by="Maria Keller", now=NOW)
    for criterion in ("financial_stability", "references"):
        apps.score(ws, application_id, criterion, 3, "checked", by="Maria Keller", now=NOW)


# ------------------------------------------------------------------------ the score


def test_the_weighted_score_by_hand(tmp_path: Path) -> None:
    """Weights 3, 2, 1, 4 and scores 4, 5, 2, 3:
    (3·4 + 2·5 + 1·2 + 4·3) / (3 + 2 + 1 + 4) = (12 + 10 + 2 + 12) / 10 = 3.6;
    with only the first two scored: (12 + 10) / 5 = 4.4."""
    ws = _ws(
        tmp_path / "ws",
        """
[qualification.criteria.tech]
label = "Technical capability"
weight = 3
[qualification.criteria.sales]
label = "Sales capability"
weight = 2
[qualification.criteria.culture]
label = "Cultural fit"
weight = 1
required = false
[qualification.criteria.money]
label = "Financial stability"
weight = 4
""",
    )
    made = apps.submit(ws, APPLICANT, by="admin", now=NOW)
    n = made.application_id
    apps.score(ws, n, "tech", 4, "two certified architects", by="Maria", now=NOW)
    partial = apps.score(ws, n, "Sales capability", "5", "12 deals last year", by="Maria", now=NOW)
    assert partial.weighted == pytest.approx(4.4)
    assert partial.missing == ("no owner", "Financial stability has no score with evidence")
    assert partial.recommendation == "incomplete: 4.40 of 5 so far"
    apps.score(ws, n, "culture", 2, "no executive sponsor", by="Maria", now=NOW)
    apps.set_owner(ws, n, "Maria", by="admin", now=NOW)
    done = apps.score(ws, n, "money", 3, "credit check B", by="Maria", now=NOW)
    assert done.weighted == pytest.approx(3.6)
    assert done.missing == ()
    assert done.recommendation == "approve: 3.60 of 5 against the threshold of 3.5"


def test_the_default_criteria_give_3_85_of_5(ws: Workspace) -> None:
    """The framework's weights 20, 20, 10, 15, 10, 15, 10 (sum 100) and scores 4, 4, 3, 5, 3,
    4, 3: (80 + 80 + 30 + 75 + 30 + 60 + 30) / 100 = 385 / 100 = 3.85."""
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    given = {
        "technical_capability": 4,
        "sales_capability": 4,
        "service_capability": 3,
        "market_fit": 5,
        "cultural_fit": 3,
        "financial_stability": 4,
        "references": 3,
    }
    for criterion, value in given.items():
        found = apps.score(ws, n, criterion, value, "seen", by="Maria", now=NOW)
    assert found.weighted == pytest.approx(3.85)
    assert found.missing == ("no owner",)
    assert [s.score for s in found.scores] == list(given.values())


def test_a_score_needs_evidence_and_a_whole_number_on_the_scale(ws: Workspace) -> None:
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    with pytest.raises(apps.ApplicationError, match="evidence: Market fit needs its evidence"):
        apps.score(ws, n, "market_fit", 4, "  ", by="Maria", now=NOW)
    with pytest.raises(apps.ApplicationError, match="whole number from 1 to 5"):
        apps.score(ws, n, "market_fit", 6, "x", by="Maria", now=NOW)
    with pytest.raises(apps.ApplicationError, match="whole number from 1 to 5"):
        apps.score(ws, n, "market_fit", "3.5", "x", by="Maria", now=NOW)
    with pytest.raises(apps.ApplicationError, match="did you mean 'market_fit'"):
        apps.score(ws, n, "market_fitt", 3, "x", by="Maria", now=NOW)
    with connect(ws).connect() as c:
        assert c.execute(select(applications.c.updated_at)).scalar_one() == NOW


# --------------------------------------------------------------------- the decision


def test_approval_without_owner_and_evidence_is_one_message_listing_both(ws: Workspace) -> None:
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    apps.score(ws, n, "technical_capability", 4, "checked", by="Maria", now=NOW)
    apps.score(ws, n, "sales_capability", 4, "checked", by="Maria", now=NOW)
    apps.score(ws, n, "financial_stability", 4, "checked", by="Maria", now=NOW)
    apps.score(ws, n, "references", 4, "checked", by="Maria", now=NOW)
    with pytest.raises(apps.ApplicationError) as refused:
        apps.approve(ws, n, by="admin", program_tier="Silver", now=NOW)
    message = str(refused.value)
    assert message.startswith(
        f"assessment: application #{n} cannot be approved yet: no owner; Market fit has no "
        "score with evidence."
    )
    assert apps.get(ws, n).status is apps.Status.SUBMITTED
    actions = {e.action for e in audit.entries(connect(ws), object_type="application")}
    assert actions == {"application.submitted", "application.scored"}


def test_approval_starts_onboarding_in_the_same_transaction(ws: Workspace) -> None:
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    _ready(ws, n)
    with pytest.raises(
        apps.ApplicationError, match=r"no program tier 'Goldd'.*did you mean 'Gold'"
    ):
        apps.approve(ws, n, by="admin", program_tier="Goldd", now=NOW)
    done = apps.approve(ws, n, by="Maria Keller", program_tier="silver", now=NOW)
    assert (done.status, done.partner_id, done.program_tier) == (
        apps.Status.APPROVED,
        "P0003",
        "Silver",
    )
    with connect(ws).connect() as c:
        plan = c.execute(select(onboarding_plans)).one()
    assert (plan.partner_id, plan.started_on, plan.application_id) == (
        "P0003",
        date(2026, 3, 10),
        n,
    )
    actions = [e.action for e in audit.entries(connect(ws), object_type="application")]
    assert "application.approved" in actions
    with pytest.raises(apps.ApplicationError, match="only an application awaiting a decision"):
        apps.reject(ws, n, by="admin", reason="changed our mind", now=NOW)


def test_a_failing_onboarding_start_leaves_no_approved_application(ws: Workspace) -> None:
    """P0009 already has an onboarding plan (started for application #99, a number no
    application has): start_plan refuses, and the approval is rolled back with it."""
    start_plan(ws, "P0009", started_on=date(2026, 1, 5), by="admin", application_id=99)
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    _ready(ws, n)
    before = len(audit.entries(connect(ws)))
    with pytest.raises(PartnerscopeError):
        apps.approve(ws, n, by="admin", program_tier="Gold", partner_id="P0009", now=NOW)
    found = apps.get(ws, n)
    assert (found.status, found.partner_id) == (apps.Status.SUBMITTED, None)
    assert len(audit.entries(connect(ws))) == before


def test_a_partner_id_the_warehouse_has_is_refused(ws: Workspace) -> None:
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    _ready(ws, n)
    with pytest.raises(apps.ApplicationError, match=r"P0002 is already a partner.*P0003"):
        apps.approve(ws, n, by="admin", program_tier="Gold", partner_id="P0002", now=NOW)


def test_reject_needs_a_reason_and_is_final(ws: Workspace) -> None:
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    with pytest.raises(apps.ApplicationError, match="reason: give the reason"):
        apps.reject(ws, n, by="admin", reason=" ", now=NOW)
    done = apps.reject(ws, n, by="admin", reason="No presence in our markets", now=NOW)
    assert (done.status, done.reason) == (apps.Status.REJECTED, "No presence in our markets")
    with pytest.raises(apps.ApplicationError, match="was rejected by admin on 2026-03-10"):
        apps.approve(ws, n, by="admin", program_tier="Gold", now=NOW)
    assert audit.entries(connect(ws), object_type="application")[0].detail["reason"] == (
        "No presence in our markets"
    )


# ------------------------------------------------------------------------ the invite


def test_an_invitation_takes_one_application_and_expires(ws: Workspace) -> None:
    made = apps.invite(ws, by="admin", company="Nordlicht", days=30, now=NOW)
    with connect(ws).connect() as c:
        stored = c.execute(select(application_invites)).one()
    assert stored.token_hash == apps.token_hash(made.token) != made.token
    assert stored.expires_at == NOW + timedelta(days=30)
    # the last second before it expires it still takes the application
    almost = NOW + timedelta(days=30, seconds=-1)
    assert apps.invite_for(ws, made.token, almost).company == "Nordlicht"
    with pytest.raises(apps.InviteError, match="expired on 2026-04-09") as late:
        apps.invite_for(ws, made.token, NOW + timedelta(days=30))
    assert late.value.state == "expired"
    sent = apps.apply(ws, made.token, APPLICANT, now=NOW)
    assert (sent.source, sent.submitted_by) == ("form", "applicant jana@nordlicht.example")
    with pytest.raises(apps.InviteError, match="already sent") as again:
        apps.apply(ws, made.token, {**APPLICANT, "company": "Other"}, now=NOW)
    assert again.value.state == "used"
    with pytest.raises(apps.InviteError) as unknown:
        apps.invite_for(ws, "not-a-token", NOW)
    assert unknown.value.state == "unknown"
    assert [a.company for a in apps.listing(ws)] == ["Nordlicht IT GmbH"]


def test_the_form_s_fields_are_checked_each_with_its_reason() -> None:
    found = apps.problems(
        {
            "company": "",
            "contact_name": "A",
            "contact_email": "not-an-email",
            "country": "DE",
            "vertical": "Retail",
            "partner_type": "reseler",
            "employees": "many",
        }
    )
    assert found == [
        ("company", "give the company"),
        ("contact_email", "'not-an-email' is not an email address (name@company.com)"),
        (
            "partner_type",
            "'reseler' is not a partner type; one of var, si, distributor, oem, msp, retailer, "
            "referral, other; did you mean 'retailer'?",
        ),
        ("employees", "'many' is not a number of people (e.g. 25)"),
    ]


# ------------------------------------------------------------------------ the import


IMPORT = (
    "Company,Contact,Email,Country,Vertical,Type,Employees\n"
    "Alpha Systems,Ann Alpha,ann@alpha.example,DE,Retail,var,10\n"
    "Bravo Data,Bob Bravo,bob@bravo.example,FR,Banking,si,\n"
)


def test_the_import_is_all_or_nothing_and_idempotent(ws: Workspace, tmp_path: Path) -> None:
    bad = write_file(
        tmp_path / "bad.csv",
        IMPORT + "Charlie,,carl@charlie.example,DE,Retail,var,5\n"
        "Delta,Dora,dora@delta.example,DE,Retail,wholesaler,x\n",
    )
    with pytest.raises(apps.ImportRefusedError) as refused:
        apps.import_file(ws, bad, by="admin", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        "bad.csv, row 4, column contact_name: give the contact name",
        "bad.csv, row 5, column partner_type: 'wholesaler' is not a partner type; one of var, "
        "si, distributor, oem, msp, retailer, referral, other",
        "bad.csv, row 5, column employees: 'x' is not a number of people (e.g. 25)",
    ]
    assert apps.listing(ws) == []
    good = write_file(tmp_path / "good.csv", IMPORT)
    first = apps.import_file(ws, good, by="admin", now=NOW)
    assert (len(first.added), first.unchanged) == (2, 0)
    second = apps.import_file(ws, good, by="admin", now=NOW)
    assert (second.added, second.unchanged) == ((), 2)
    assert str(second) == "good.csv: 0 applications added, 2 already there"
    found = sorted(apps.listing(ws), key=lambda a: a.company)
    assert [(a.company, a.partner_type, a.details) for a in found] == [
        ("Alpha Systems", "var", {"employees": 10}),
        ("Bravo Data", "si", {}),
    ]


def test_the_import_dedupes_on_an_application_id_column(ws: Workspace, tmp_path: Path) -> None:
    text = (
        "application_id,company,contact_name,contact_email,country,vertical,partner_type\n"
        "A-1,Alpha,Ann,ann@alpha.example,DE,Retail,var\n"
    )
    path = write_file(tmp_path / "a.xlsx.csv", text)
    assert len(apps.import_file(ws, path, by="admin", now=NOW).added) == 1
    # the same id with a corrected email is the same application: unchanged
    path = write_file(tmp_path / "b.csv", text.replace("ann@", "anna@"))
    assert apps.import_file(ws, path, by="admin", now=NOW).unchanged == 1
    twice = write_file(tmp_path / "c.csv", text + "A-1,Alpha,Ann,x@alpha.example,DE,Retail,var\n")
    with pytest.raises(apps.ImportRefusedError, match="row 3, column external_id: the same"):
        apps.import_file(ws, twice, by="admin", now=NOW)


# --------------------------------------------------------------------- the partner


def _approve(ws: Workspace) -> apps.Application:
    n = apps.submit(ws, APPLICANT, by="admin", now=NOW).application_id
    _ready(ws, n)
    return apps.approve(ws, n, by="admin", program_tier="Gold", now=NOW)


def test_the_approved_partner_is_posted_then_superseded_by_the_crm(ws: Workspace) -> None:
    """The run posts P0003 from the application; the CRM's next export has P0003: its row is
    the partner from then on, the application's is no longer posted, and nothing is lost or
    duplicated."""
    _approve(ws)
    posted = ws.run()
    assert posted is not None
    rows = query(
        ws,
        "SELECT partner_id, name, partner_type, country, program_tier, partner_manager, "
        "joined_at, status, _source_file FROM partners ORDER BY partner_id",
    )
    assert [r[:8] for r in rows] == [
        ("P0001", "Acme", "other", "DE", "Gold", None, None, "active"),
        ("P0002", "Beta", "other", "FR", "Silver", None, None, "active"),
        (
            "P0003",
            "Nordlicht IT GmbH",
            "si",
            "DE",
            "Gold",
            "Maria Keller",
            date(2026, 3, 10),
            "active",
        ),
    ]
    assert rows[2][8] == "state/applications/joined-partners.csv"
    write_file(ws.root / "data/partners.csv", PARTNERS + "P0003,Nordlicht IT,Gold,DE\n")
    ws.ingest()
    ws.run()
    rows = query(ws, "SELECT partner_id, name, _source_file FROM partners ORDER BY partner_id")
    assert rows == [
        ("P0001", "Acme", "data/partners.csv"),
        ("P0002", "Beta", "data/partners.csv"),
        ("P0003", "Nordlicht IT", "data/partners.csv"),
    ]
    assert apps.joined_rows(ws, "state/applications/joined-partners.csv") == []


def test_the_application_of_a_partner(ws: Workspace) -> None:
    done = _approve(ws)
    assert apps.application_of(ws, "P0003") == done.application_id
    assert apps.application_of(ws, "P0001") is None


def test_no_facts_before_any_approval(ws: Workspace) -> None:
    apps.submit(ws, APPLICANT, by="admin", now=NOW)
    assert apps.joined_partners(ws) is None


def test_the_next_partner_id_keeps_the_width(ws: Workspace) -> None:
    assert apps.next_partner_id(ws) == "P0003"
    assert apps.next_partner_id(ws, ["P0041"]) == "P0042"


def test_a_threshold_above_the_scale_is_one_located_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"qualification.*threshold \(6\) is above"):
        make_workspace(tmp_path / "w", CONFIG + "[qualification]\nthreshold = 6\n").config  # noqa: B018


# ------------------------------------------------------------------------------ CLI


def test_the_cli_adds_scores_owns_and_decides(ws: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    root = str(ws.root)

    def call(*args: str) -> str:
        done = runner.invoke(app, ["-w", root, *args], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return done.output

    said = call(
        "applications",
        "add",
        "--company",
        "Nordlicht IT GmbH",
        "--contact",
        "Jana Berg",
        "--email",
        "jana@nordlicht.example",
        "--country",
        "DE",
        "--vertical",
        "Manufacturing",
        "--partner-type",
        "si",
    )
    assert "application #1" in said
    refused = runner.invoke(app, ["-w", root, "applications", "approve", "1", "--tier", "Gold"])
    assert refused.exit_code == 1
    assert "cannot be approved yet: no owner; Technical capability has no score" in (
        " ".join(refused.output.split())
    )
    call("applications", "own", "1", "--owner", "Maria Keller")
    for criterion in ("technical_capability", "sales_capability", "market_fit"):
        call("applications", "score", "1", criterion, "4", "--evidence", "checked")
    for criterion in ("financial_stability", "references"):
        call("applications", "score", "1", criterion, "3", "--evidence", "checked")
    shown = call("applications", "show", "1")
    # (20·4 + 20·4 + 15·4 + 15·3 + 10·3) / 80 = 295 / 80 = 3.6875
    assert "3.69 of 5" in shown
    said = call("applications", "approve", "1", "--tier", "Gold")
    assert "P0003" in said
    listed = call("applications", "list", "--format", "csv")
    assert "Nordlicht IT GmbH" in listed and "approved" in listed
    said = call("applications", "invite", "--company", "Zeta", "--days", "7")
    assert "/apply/" in said


def test_an_xlsx_import_names_the_sheet_s_row_and_column(ws: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Company", "Contact", "Email", "Country", "Industry", "Type"])
    sheet.append(["Alpha Systems", "Ann Alpha", "ann@alpha.example", "DE", "Retail", "var"])
    sheet.append(["Bravo Data", "Bob Bravo", "bob@bravo", "FR", "Banking", "si"])
    path = tmp_path / "applications.xlsx"
    book.save(path)
    with pytest.raises(apps.ImportRefusedError) as refused:
        apps.import_file(ws, path, by="admin", now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        "applications.xlsx, row 3, column contact_email: 'bob@bravo' is not an email address "
        "(name@company.com)"
    ]
    sheet["C3"] = "bob@bravo.example"
    book.save(path)
    done = apps.import_file(ws, path, by="admin", now=NOW)
    assert (len(done.added), done.unchanged) == (2, 0)
    assert [(a.company, a.vertical) for a in apps.listing(ws)] == [
        ("Bravo Data", "Banking"),
        ("Alpha Systems", "Retail"),
    ]


def test_the_cli_imports_and_refuses_on_one_line_per_problem(ws: Workspace, tmp_path: Path) -> None:
    path = write_file(tmp_path / "in.csv", IMPORT.replace("ann@alpha.example", "ann"))
    runner = CliRunner()
    refused = runner.invoke(app, ["-w", str(ws.root), "applications", "import", str(path)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "in.csv, row 2, column contact_email: 'ann' is not an email address" in (refused.output)
    write_file(path, IMPORT)
    done = runner.invoke(app, ["-w", str(ws.root), "applications", "import", str(path)])
    assert done.exit_code == 0
    assert "in.csv: 2 applications added, 0 already there" in done.output
