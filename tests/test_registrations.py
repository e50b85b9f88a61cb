"""Deal registration: conflict detection measured on a labelled set of account-name pairs,
normalization checked by hand, every workflow refusal, first valid registration wins, the
protection window and its warnings on a controlled clock, and the registered deals as
opportunities that ingest without a quarantined row.

The fixture workspace (UTC, USD):

    partners   P1 Acme Resellers, P2 Beta Systems, P3 Gamma IT
    accounts   A1 Globex Corporation (globex.com, US), A2 Initech GmbH (initech.de, DE),
               A3 Umbrella Corp (umbrella.com, US)
    opps       O1 direct, open, A2 → a registration for Initech conflicts with it
               O2 P1's, won, A3 → not direct: no conflict
               O3 direct, lost, A1 → not open: no conflict
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.cli import app
from partnerscope.cli.app import console
from partnerscope.errors import ConfigError
from partnerscope.operations import registrations as reg
from partnerscope.operations.registrations import (
    ConflictKind,
    RegistrationNotFoundError,
    RegistrationRefusedError,
    RegistrationStatus,
)
from partnerscope.operations.registrations.matching import (
    DomainError,
    MatchedOn,
    Matcher,
    normalize_country,
    normalize_domain,
    normalize_name,
    similarity,
)
from partnerscope.operations.registrations.rows import COLUMNS
from partnerscope.settings.registrations import DEFAULT_THRESHOLD
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, query
from tests.test_metrics_fixture import csv_file, source

pytestmark = pytest.mark.xdist_group("registrations")

#: Account-name pairs labelled by hand, written before the matcher: True when both name the
#: same account (realistic variations), False when they name different accounts (hard cases
#: that share words, suffixes or most of their letters).
LABELLED_PAIRS: tuple[tuple[str, str, bool], ...] = (
    # legal suffixes, spelled out, abbreviated, dotted, leading
    ("Acme Corporation", "ACME Corp.", True),
    ("Initech LLC", "Initech, L.L.C.", True),
    ("Globex Ltd", "Globex Limited", True),
    ("Hooli Inc.", "Hooli Incorporated", True),
    ("Vandelay Industries, Inc.", "Vandelay Industries", True),
    ("Siemens AG", "Siemens Aktiengesellschaft", True),
    ("Robert Bosch GmbH", "Bosch GmbH", True),
    ("Capgemini SE", "Capgemini", True),
    ("Kone Oyj", "KONE Corporation", True),
    ("Telefónica, S.A.", "Telefonica SA", True),
    ("Carrefour SAS", "Carrefour S.A.S.", True),
    ("Luxottica S.p.A.", "Luxottica SpA", True),
    ("Barilla S.r.l.", "Barilla SRL", True),
    ("Heineken B.V.", "Heineken BV", True),
    ("Volvo AB", "AB Volvo", True),
    ("Equinor ASA", "Equinor AS", True),
    ("Toyota Tsusho KK", "Toyota Tsusho Kabushiki Kaisha", True),
    ("Atlassian Pty Ltd", "Atlassian Pty. Limited", True),
    ("Grab Holdings Pte. Ltd.", "Grab Holdings Pte Ltd", True),
    ("BHP Group plc", "BHP Group PLC", True),
    ("Tata Consultancy Services Limited", "Tata Consultancy Services Ltd.", True),
    ("Rakuten Co., Ltd.", "Rakuten", True),
    ("Nestlé S.A.", "Nestle", True),
    ("L'Oréal", "L'Oreal S.A.", True),
    ("Ernst & Young", "Ernst and Young LLP", True),
    ("Alandsbanken Abp", "Ålandsbanken", True),
    ("Škoda Auto a.s.", "Skoda Auto", True),
    ("Tailspin Toys S.L.", "Tailspin Toys", True),
    ("Vértice Soluções Ltda", "Vertice Solucoes LTDA", True),
    ("Daimler Truck Holding AG", "Daimler Truck Holding", True),
    ("Amer Sports Oyj", "Amer Sports Corporation", True),
    # punctuation, case, "&" and "and"
    ("AT&T Inc.", "AT and T", True),
    ("Procter & Gamble", "Procter and Gamble Co", True),
    ("Johnson & Johnson", "Johnson and Johnson", True),
    ("Marks & Spencer plc", "Marks and Spencer", True),
    ("Hewlett-Packard", "Hewlett Packard", True),
    ("Coca-Cola Company", "The Coca Cola Co.", True),
    ("Mercedes-Benz AG", "Mercedes Benz", True),
    ("7-Eleven, Inc.", "7 Eleven Inc", True),
    ("O'Reilly Media", "OReilly Media Inc", True),
    ("Yahoo!", "Yahoo Inc", True),
    ("E*TRADE Financial", "E-Trade Financial Corp", True),
    ("salesforce.com, inc.", "Salesforce", True),
    ("Kühne + Nagel", "Kuehne Nagel AG", True),
    ("Müller & Söhne KG", "Mueller und Soehne", True),
    ("WEYLAND-YUTANI CORP", "Weyland Yutani Corporation", True),
    # abbreviations
    ("Globex International", "Globex Intl", True),
    ("Allied Intl. Holdings", "Allied International Holdings", True),
    ("Pacific Mfg Co", "Pacific Manufacturing Company", True),
    ("Northern Svcs Group", "Northern Services Group", True),
    ("Apex Tech Solutions", "Apex Technology Solutions", True),
    ("Smith Bros.", "Smith Brothers", True),
    ("Atlas Assoc.", "Atlas Associates", True),
    ("Zenith Labs", "Zenith Laboratories", True),
    ("Crown Dept Stores", "Crown Department Stores", True),
    ("Metro Mgmt Partners", "Metro Management Partners", True),
    ("Sterling Natl Insurance", "Sterling National Insurance", True),
    ("United Chem Corp", "United Chemical Corporation", True),
    ("Summit Engrg", "Summit Engineering", True),
    ("Orion Sys Inc", "Orion Systems", True),
    ("St. Jude Medical", "Saint Jude Medical", True),
    ("Mt. Sinai Health System", "Mount Sinai Health System", True),
    ("IBM", "International Business Machines", True),
    ("BMW AG", "Bayerische Motoren Werke AG", True),
    ("UPS", "United Parcel Service", True),
    # typos, split and joined words
    ("Umbrella Corporation", "Umbrela Corp", True),
    ("Stark Industries", "Stark Industires", True),
    ("Cyberdyne Systems", "Cyberdyn Systems", True),
    ("Wonka Industries", "Wonka Indstries", True),
    ("Massive Dynamic", "Massive Dynamics", True),
    ("Soylent Corp", "Soylant Corporation", True),
    ("Tyrell Corporation", "Tyrrell Corporation", True),
    ("Oscorp Industries", "OsCorp Industries", True),
    ("Gringotts Bank", "Gringots Bank", True),
    ("Blue Sun Corporation", "Bleu Sun Corp", True),
    ("Monarch Solutions", "Monach Solutions", True),
    ("Bluth Company", "Bluth Compnay", True),
    ("Dunder Mifflin Paper Company", "Dunder Mifflin Paper Co", True),
    ("Sterling Cooper Draper Pryce", "Sterling Cooper Draper Price", True),
    ("Prestige Worldwide", "Prestige World Wide", True),
    ("Nakatomi Trading", "Nakatomi Tradings", True),
    ("Pied Piper", "PiedPiper Inc", True),
    ("Delta Air Lines", "Delta Airlines", True),
    # word order
    ("University of Oxford", "Oxford University", True),
    ("Karlsruhe Institute of Technology", "Institute of Technology Karlsruhe", True),
    ("St. Mary's Hospital", "Saint Mary's Hospital", True),
    # accents and letters that do not decompose
    ("Société Générale", "Societe Generale SA", True),
    ("Électricité de France", "Electricite de France SA", True),
    ("Björn Borg AB", "Bjorn Borg", True),
    ("Zürich Versicherung", "Zurich Versicherung AG", True),
    ("Crédit Agricole", "Credit Agricole S.A.", True),
    ("Łódź Logistics", "Lodz Logistics", True),
    ("Søstrene Grene", "Sostrene Grene", True),
    ("Groß Bau GmbH", "Gross Bau", True),
    # an extra "The"
    ("The Home Depot, Inc.", "Home Depot", True),
    ("The Boeing Company", "Boeing", True),
    ("The Kroger Co.", "Kroger Company", True),
    ("The Walt Disney Company", "Walt Disney Co", True),
    ("The Acme Foods Company", "ACME FOODS CO.", True),
    # a trailing country name
    ("Wayne Enterprises Inc", "Wayne Enterprises, Inc. (USA)", True),
    ("Nordic Paper AB", "Nordic Paper Sweden AB", True),
    ("Acme Widgets", "Acme Widgets UK Ltd", True),
    ("Globex Corporation", "Globex Corporation Deutschland GmbH", True),
    ("Initrode", "Initrode France SAS", True),
    ("Contoso Ltd", "Contoso Ltd (Australia)", True),
    ("Fabrikam Inc", "Fabrikam Canada Inc.", True),
    ("Northwind Traders", "Northwind Traders - Netherlands", True),
    ("Tailspin Toys", "Tailspin Toys España S.L.", True),
    ("Adventure Works", "Adventure Works Italia S.r.l.", True),
    ("Globex Intl Logistics, LLC", "Globex International Logistics", True),
    # different accounts that share a word
    ("Acme Foods", "Acme Software", False),
    ("Global Logistics", "Global Logic", False),
    ("Apex Systems", "Apex Solutions", False),
    ("First National Bank of Omaha", "First National Bank of Texas", False),
    ("Bank of Ireland", "Bank of Scotland", False),
    ("Bank of America", "Bank of China", False),
    ("American Airlines", "American Express", False),
    ("General Electric", "General Motors", False),
    ("General Mills", "General Dynamics", False),
    ("United Airlines", "United Health Group", False),
    ("United Parcel Service", "United States Postal Service", False),
    ("Delta Air Lines", "Delta Dental", False),
    ("Delta Electronics", "Delta Air Lines", False),
    ("Pacific Gas and Electric", "Pacific Life Insurance", False),
    ("Northern Trust", "Northern Rock", False),
    ("Royal Bank of Canada", "Royal Bank of Scotland", False),
    ("Allied Telesis", "Allied Universal", False),
    ("Summit Health", "Summit Materials", False),
    ("Liberty Mutual", "Liberty Global", False),
    ("Continental AG", "Continental Resources Inc", False),
    ("Sun Microsystems", "Sun Life Financial", False),
    ("Siemens AG", "Siemens Healthineers AG", False),
    ("Tata Steel", "Tata Motors", False),
    ("Tata Consultancy Services", "Tata Communications", False),
    ("Mitsubishi Electric", "Mitsubishi Heavy Industries", False),
    ("Samsung Electronics", "Samsung SDS", False),
    ("Johnson Controls", "Johnson & Johnson", False),
    ("Johnson Matthey", "Johnson Controls", False),
    ("Smith & Nephew", "Smith & Wesson", False),
    ("Procter & Gamble", "Proctor Financial", False),
    ("Marks & Spencer", "Marks Paneth", False),
    ("Ernst & Young", "Young & Rubicam", False),
    ("Morgan Stanley", "JPMorgan Chase", False),
    ("Goldman Sachs", "Sachs Harbor", False),
    ("Wells Fargo", "Wells Real Estate", False),
    ("Deutsche Bank", "Deutsche Telekom", False),
    ("Deutsche Post", "Deutsche Bahn", False),
    ("Air France", "Air Canada", False),
    ("Vodafone UK", "Vodafone Germany", False),
    ("British Airways", "British Telecom", False),
    ("China Mobile", "China Unicom", False),
    ("Swiss Re", "Swiss Life", False),
    ("Canada Life", "Canada Goose", False),
    ("Banco Santander", "Banco Sabadell", False),
    ("Credit Suisse", "Credit Agricole", False),
    ("University of Michigan", "Michigan State University", False),
    ("Apple Inc", "Apple Bank for Savings", False),
    ("Amazon.com Inc", "Amazonas Energia", False),
    ("Target Corporation", "Target Logistics", False),
    ("Shell plc", "Shellpoint Mortgage", False),
    ("Vertex Pharmaceuticals", "Vertex Inc", False),
    ("Bayer AG", "Bayer Properties", False),
    ("Roche Holding AG", "Roche Bros Supermarkets", False),
    ("Hilton Worldwide", "Hilton Grand Vacations", False),
    ("Marriott International", "Marriott Vacations Worldwide", False),
    ("Zurich Insurance", "Zurich Airport", False),
    ("National Grid", "National Instruments", False),
    ("Standard Chartered", "Standard Life", False),
    ("Capital One", "Capital Group", False),
    ("First Solar", "First Data", False),
    ("Pioneer Natural Resources", "Pioneer Electronics", False),
    ("Phoenix Contact", "Phoenix Group", False),
    ("Atlas Copco", "Atlas Air", False),
    ("Orion Health", "Orion Energy Systems", False),
    ("Eagle Bancorp", "Eagle Materials", False),
    ("Triton Systems", "Triton Digital", False),
    ("Pinnacle Foods Inc", "Pinnacle Financial Partners Inc", False),
    ("Redwood Software Oy", "Redwood Systems Oy", False),
    # different accounts with the same suffix or nearly the same letters
    ("Alpha Systems Inc", "Beta Systems Inc", False),
    ("Orion Technologies LLC", "Orbit Technologies LLC", False),
    ("Nova Solutions GmbH", "Nexa Solutions GmbH", False),
    ("Vector Consulting Ltd", "Victor Consulting Ltd", False),
    ("Globe Telecom", "Global Telecom", False),
    ("Blue Ridge Consulting LLC", "Red Ridge Consulting LLC", False),
    ("Northstar Analytics Inc", "Southstar Analytics Inc", False),
    ("Greenfield Partners Ltd", "Greenwood Partners Ltd", False),
    ("Bright Horizons GmbH", "New Horizons GmbH", False),
    ("Keystone Advisors SA", "Cornerstone Advisors SA", False),
    ("Silverline Media AB", "Goldline Media AB", False),
    ("Helix Data Pty Ltd", "Helios Data Pty Ltd", False),
    ("Sakura Finance KK", "Sakura Logistics KK", False),
    ("Intel Corporation", "Intelsat S.A.", False),
    ("Meta Platforms", "Metaplex", False),
    ("Sony Group", "Sonos Inc", False),
    ("AXA SA", "Axis Bank Ltd", False),
    ("Unilever", "Univar Solutions", False),
    ("Novartis AG", "Novavax Inc", False),
    ("Allianz SE", "Alliance Data Systems", False),
    ("UPS", "Universal Power Systems", False),
    ("Square Inc", "Square Enix", False),
)


def precision_recall(threshold: float) -> tuple[float, float, list[str]]:
    """Precision and recall of name matching at ``threshold`` on :data:`LABELLED_PAIRS`, and
    the pairs it gets wrong."""
    tp = fp = fn = 0
    wrong = []
    for a, b, same in LABELLED_PAIRS:
        score = similarity(a, b)
        predicted = score >= threshold
        tp += predicted and same
        fp += predicted and not same
        fn += same and not predicted
        if predicted != same:
            wrong.append(f"{'FP' if predicted else 'FN'} {score:.2f} {a!r} / {b!r}")
    return tp / (tp + fp), tp / (tp + fn), wrong


def test_the_labelled_set_is_large_and_balanced() -> None:
    same = sum(1 for *_, s in LABELLED_PAIRS if s)
    assert len(LABELLED_PAIRS) >= 150 and same >= 60 and len(LABELLED_PAIRS) - same >= 60
    assert len({(a, b) for a, b, _ in LABELLED_PAIRS}) == len(LABELLED_PAIRS)


#: pairs labelled the same that the one account identity (issue 30) leaves to a person or tells
#: apart on purpose: initials are never more than uncertain (IBM is also Integrated Building
#: Maintenance), a typo in a one-word name under 8 letters or in a 4-letter word of a two-word
#: name makes another company (Equinix/Equinox, Alcoa/Alcon), and one shared word of two is not
#: enough (docs/account-identity.md)
DELIBERATE_MISSES = {
    ("Robert Bosch GmbH", "Bosch GmbH"),
    ("Soylent Corp", "Soylant Corporation"),
    ("Tyrell Corporation", "Tyrrell Corporation"),
    ("Blue Sun Corporation", "Bleu Sun Corp"),
}


def test_precision_and_recall_of_name_matching() -> None:
    precision, recall, wrong = precision_recall(DEFAULT_THRESHOLD)
    same = sum(1 for *_, s in LABELLED_PAIRS if s)
    report = (
        f"name matching at threshold {DEFAULT_THRESHOLD} on {len(LABELLED_PAIRS)} labelled pairs "
        f"({same} duplicates, {len(LABELLED_PAIRS) - same} not): precision {precision:.3f}, "
        f"recall {recall:.3f}; wrong: " + "; ".join(wrong)
    )
    print(report)
    missed = {(a, b) for a, b, s in LABELLED_PAIRS if s and similarity(a, b) < DEFAULT_THRESHOLD}
    assert missed == DELIBERATE_MISSES, report
    # 4 of 110 missed on purpose: recall 106/110; no false match (IBM, BMW and UPS are in the
    # identity's table of well-known initials since the tuning of issue 30)
    assert precision == 1.0 and recall == pytest.approx(106 / 110), report


# ---------------------------------------------------------------------------- normalizing


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("The Coca-Cola Company", "coca cola"),
        ("Procter & Gamble Co.", "procter gamble"),
        ("Initech, L.L.C.", "initech"),
        ("Luxottica S.p.A.", "luxottica"),
        ("Toyota Tsusho Kabushiki Kaisha", "toyota tsusho"),
        ("Électricité de France SA", "electricite de france"),
        ("Łódź Logistics Sp. z o.o.", "lodz logistics"),
        ("Groß Bau GmbH", "gross bau"),
        ("L'Oréal", "loreal"),
        ("salesforce.com, inc.", "salesforce"),
        ("Globex Intl. Ltd", "globex international"),
        ("St. Jude Medical", "saint jude medical"),
        ("AB Volvo (publ)", "volvo"),
        ("Bluth Compnay", "bluth"),
        ("The Company", "the company"),
        ("Kühne + Nagel AG & Co. KG", "kuhne nagel"),
    ],
)
def test_names_normalize(name: str, normalized: str) -> None:
    assert normalize_name(name) == normalized


def test_extra_legal_forms_are_removed_too() -> None:
    assert normalize_name("Mátra Kft. Zrt.") == "matra"
    assert normalize_name("Acme Sendirian Berhad") == "acme"  # built in since issue 30
    assert normalize_name("Acme Perseroan Terbatas") == "acme perseroan terbatas"
    assert normalize_name("Acme Perseroan Terbatas", ["Perseroan Terbatas"]) == "acme"


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("acme.com", "acme.com"),
        ("https://WWW.Acme.com:443/about?x=1#top", "acme.com"),
        ("http://www2.acme.co.uk/", "acme.co.uk"),
        ("jane.doe@Acme.com", "acme.com"),
        ("acme.com.", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("  ", None),
        (None, None),
    ],
)
def test_domains_normalize(typed: str | None, domain: str | None) -> None:
    assert normalize_domain(typed) == domain


@pytest.mark.parametrize("typed", ["acme", "acme..com", "http://", "10.0.0.1", "ac me.com"])
def test_what_is_not_a_domain_is_refused(typed: str) -> None:
    with pytest.raises(DomainError):
        normalize_domain(typed)


@pytest.mark.parametrize(
    ("typed", "country"),
    [("de", "DE"), ("Deutschland", "DE"), ("United States", "US"), ("U.S.A.", "US"),
     ("Österreich", "AT"), ("Atlantis", "atlantis"), ("", None)],
)  # fmt: skip
def test_countries_normalize(typed: str, country: str | None) -> None:
    assert normalize_country(typed) == country


def test_a_domain_match_is_a_conflict_whatever_the_name_within_one_country() -> None:
    match = Matcher()
    a = match.account("Globex Corporation", "globex.com", "US")
    b = match.account("GX Holdings", "https://emea.globex.com/us", "US")
    assert match.match(a, b) == reg.matching.Match(MatchedOn.DOMAIN, 1.0)
    # a group's companies in two countries are separate accounts, even on one domain (issue 30)
    germany = match.account("GX Holdings", "https://emea.globex.com/de", "DE")
    assert match.match(a, germany) is None
    mail = match.account("Someone", "gmail.com")
    assert match.match(mail, match.account("Other", "gmail.com")) is None


def test_names_match_only_within_one_country() -> None:
    match = Matcher()
    germany = match.account("Vodafone GmbH", None, "Germany")
    assert match.match(germany, match.account("Vodafone Ltd", None, "GB")) is None
    assert match.match(germany, match.account("VODAFONE", None, "de")) is not None
    hit = match.match(germany, match.account("Vodafone", None, None))
    assert hit is not None and hit.matched_on is MatchedOn.NAME and hit.score == 1.0


def test_the_threshold_is_the_matchers() -> None:
    strict = Matcher(threshold=0.99)
    a, b = strict.account("Umbrella Corporation"), strict.account("Umbrela Corp")
    assert similarity("Umbrella Corporation", "Umbrela Corp") == pytest.approx(0.95)
    assert strict.match(a, b) is None and Matcher().match(a, b) is not None


# ------------------------------------------------------------------------------- workflow

NOW = datetime(2025, 3, 3, 12)
CLOSE = date(2025, 6, 30)

FIXTURE: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name",
        "P1,Acme Resellers\nP2,Beta Systems\nP3,Gamma IT",
    ),
    "accounts": (
        "accounts",
        "account_id,name,domain,country",
        """
        A1,Globex Corporation,globex.com,US
        A2,Initech GmbH,initech.de,DE
        A3,Umbrella Corp,umbrella.com,US
        """,
    ),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,account_id,status,amount,created_at,closed_at",
        """
        O1,,,A2,open,50000,2025-01-10,
        O2,P1,sourced,A3,won,20000,2024-11-01,2025-01-15
        O3,,,A1,lost,10000,2024-10-01,2024-12-01
        """,
    ),
}

#: the registered deals, declared as a source of their own
REGISTERED_SOURCE = source("registered", "opportunities", ",".join(COLUMNS))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = "".join(source(name, entity, header) for name, (entity, header, _) in FIXTURE.items())
    files = {f"data/{n}.csv": csv_file(header, body) for n, (_, header, body) in FIXTURE.items()}
    ws = make_workspace(tmp_path_factory.mktemp("registrations") / "ws", config, files)
    assert ws.ingest().quarantined == 0
    return ws.root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Workspace:
    """A copy of the fixture workspace of one's own, without registrations."""
    return Workspace.open(shutil.copytree(template, tmp_path / "ws"))


def submit(ws: Workspace, partner: str = "P1", name: str = "Globex Corporation", **kw) -> int:
    values = {"amount": "25000", "expected_close": CLOSE, "by": "pat", "now": NOW, **kw}
    return reg.submit(ws, partner, account_name=name, **values).registration.registration_id


def refusal(call, *args, **kwargs) -> RegistrationRefusedError:
    with pytest.raises(RegistrationRefusedError) as info:
        call(*args, **kwargs)
    return info.value


def test_a_submission_is_stored_with_what_it_conflicts_with(ws: Workspace) -> None:
    first = reg.submit(
        ws,
        "P1",
        account_name="Globex Corp.",
        domain="https://www.globex.com/contact",
        country="United States",
        amount="25,000.50",
        expected_close=CLOSE,
        products=["Analytics", "Analytics", "Support"],
        by="pat",
        now=NOW,
    )
    found = first.registration
    assert (found.domain, found.country, found.amount, found.products) == (
        "globex.com",
        "US",
        Decimal("25000.50"),
        ("Analytics", "Support"),
    )
    assert (found.status, found.account_key, first.conflicts) == (
        RegistrationStatus.SUBMITTED,
        "globex",
        (),
    )
    # another partner, another spelling and no domain: a conflict on the name
    second = reg.submit(
        ws, "P2", account_name="GLOBEX CORPORATION (USA)", amount=9000, expected_close=CLOSE,
        by="bea", now=NOW,
    )  # fmt: skip
    [conflict] = second.conflicts
    assert (conflict.kind, conflict.other_id, conflict.other_partner_id) == (
        ConflictKind.REGISTRATION,
        str(found.registration_id),
        "P1",
    )
    assert (conflict.matched_on, conflict.score) == (MatchedOn.NAME, 1.0)
    # the same partner again: its own registration is no conflict, P2's is
    again = reg.submit(
        ws, "P1", account_name="Globex", amount=1, expected_close=CLOSE, by="pat", now=NOW
    )
    assert [c.other_partner_id for c in again.conflicts] == ["P2"]
    shown = reg.detail(ws, found.registration_id)
    assert [r.registration_id for r in shown.later] == [second.registration.registration_id]


def test_first_valid_registration_wins(ws: Workspace) -> None:
    first = submit(ws, "P1", "Umbrella Corporation", domain="umbrella.com")
    later = submit(ws, "P2", "Totally Different Name", domain="mail.umbrella.com")
    [conflict] = reg.detail(ws, later).conflicts
    assert conflict.matched_on is MatchedOn.DOMAIN

    err = refusal(reg.approve, ws, later, by="mgr", now=NOW)
    assert err.check == "first_registration"
    assert f"conflicts with registration #{first} of P1" in str(err)
    assert "is awaiting approval" in str(err) and "the first valid registration wins" in str(err)

    # told to someone who may not see P1: neither P1, its number, account nor approver
    hidden = err.told(lambda pid: pid != "P1")
    assert hidden == (
        f"registration #{later} conflicts with an earlier registration of another partner "
        "(same domain), which is still live: the first valid registration wins; reject this "
        "one, or approve it once the earlier registration is rejected or expires"
    )
    assert err.told(lambda pid: True) == str(err)

    reg.approve(ws, first, by="mgr", now=NOW)
    err = refusal(reg.approve, ws, later, by="mgr", now=NOW)
    assert err.check == "first_registration" and "is protected until 2025-06-01" in str(err)
    assert "was approved by mgr" in str(err)
    for secret in ("P1", f"#{first}", "Umbrella", "mgr", "2025-06-01"):
        assert secret not in err.told(lambda pid: pid != "P1"), secret

    # once the first is no longer live, the later one can be approved
    reg.sweep(ws, by="ops", now=datetime(2025, 6, 2, 1))
    assert reg.approve(ws, later, by="mgr", now=datetime(2025, 6, 2, 2)).status is (
        RegistrationStatus.PROTECTED
    )


def test_a_rejected_first_registration_lets_the_next_one_through(ws: Workspace) -> None:
    first = submit(ws, "P1")
    later = submit(ws, "P3", "Globex Corp")
    rejected = reg.reject(ws, first, reason="Duplicate of a direct deal", by="mgr", now=NOW)
    assert (rejected.status, rejected.reason, rejected.decided_by) == (
        RegistrationStatus.REJECTED,
        "Duplicate of a direct deal",
        "mgr",
    )
    assert reg.approve(ws, later, by="mgr", now=NOW).protected_until == date(2025, 6, 1)


def test_an_open_direct_opportunity_blocks_approval(ws: Workspace) -> None:
    shown = reg.submit(
        ws, "P2", account_name="Initech", country="Germany", amount=1000,
        expected_close=CLOSE, by="bea", now=NOW,
    )  # fmt: skip
    [conflict] = shown.conflicts
    assert (conflict.kind, conflict.other_id, conflict.other_name) == (
        ConflictKind.OPPORTUNITY,
        "O1",
        "Initech GmbH",
    )
    err = refusal(reg.approve, ws, shown.registration.registration_id, by="mgr", now=NOW)
    assert err.check == "direct_opportunity"
    assert "direct opportunity O1 for 'Initech GmbH'" in str(err)
    assert "close or hand over that opportunity in the CRM" in str(err)
    # a won partner deal (O2) and a lost direct one (O3) are no conflicts
    assert (
        reg.submit(
            ws, "P2", account_name="Umbrella", amount=1, expected_close=CLOSE, by="bea", now=NOW
        ).conflicts
        == ()
    )
    assert submit(ws, "P2", "Globex") > 0


def test_direct_opportunities_can_be_left_unchecked(ws: Workspace) -> None:
    config = (
        ws.config_path.read_text("utf-8") + "\n[registration]\ncheck_direct_opportunities = false\n"
    )
    ws.config_path.write_text(config, "utf-8")
    ws = Workspace.open(ws.root)
    found = submit(ws, "P2", "Initech GmbH")
    assert reg.detail(ws, found).conflicts == ()
    assert reg.approve(ws, found, by="mgr", now=NOW).status is RegistrationStatus.PROTECTED


@pytest.mark.parametrize(
    ("changes", "check", "words"),
    [
        ({"amount": "0"}, "amount", "must be more than 0"),
        ({"amount": "12.345"}, "amount", "more than two decimals"),
        ({"amount": "lots"}, "amount", "is not an amount"),
        ({"account_name": "  "}, "account_name", "give the account's name"),
        ({"account_name": "x" * 201}, "account_name", "keep it to 200"),
        ({"expected_close": date(2025, 3, 2)}, "expected_close", "is before today (2025-03-03)"),
        ({"domain": "not a domain"}, "domain", "is not a domain"),
        ({"domain": "sales@gmail.com"}, "domain", "gmail.com is a mail provider's or a web"),
        ({"domain": "hotmail.co.uk"}, "domain", "hotmail.co.uk is a mail provider's"),
        ({"domain": "mail.gmail.com"}, "domain", "mail.gmail.com is a mail provider's"),
        ({"domain": "myshopify.com"}, "domain", "myshopify.com is a mail provider's or a web"),
        ({"partner": "P9"}, "partner", "no partner 'P9' in the warehouse"),
        ({"partner": "P11"}, "partner", "did you mean 'P1'?"),
        ({"products": ["x"] * 21}, "products", "register at most 20"),
    ],
)
def test_submission_refusals(ws: Workspace, changes: dict, check: str, words: str) -> None:
    values = {
        "partner": "P1",
        "account_name": "Globex",
        "amount": "100",
        "expected_close": CLOSE,
        "products": ["x", "y"],
        **changes,
    }
    partner = values.pop("partner")
    err = refusal(reg.submit, ws, partner, by="pat", now=NOW, **values)
    assert err.check == check and words in str(err)
    assert reg.registrations(ws) == []


def test_step_refusals(ws: Workspace) -> None:
    found = submit(ws)
    err = refusal(reg.mark_won, ws, found, by="mgr", now=NOW)
    assert err.check == "state" and "only a protected registration can be marked won" in str(err)
    err = refusal(reg.reject, ws, found, reason=" ", by="mgr", now=NOW)
    assert err.check == "reason" and "the partner is told why" in str(err)
    reg.approve(ws, found, by="mgr", now=NOW)
    err = refusal(reg.approve, ws, found, by="mgr", now=NOW)
    # a refusal never names the staff member who decided (it may reach the partner)
    assert err.check == "state" and str(err) == (
        f"registration #{found} was approved on 2025-03-03 and is protected until 2025-06-01; "
        "only a submitted registration can be approved"
    )
    err = refusal(reg.reject, ws, found, reason="late", by="mgr", now=NOW)
    assert err.check == "state" and "only a submitted registration can be rejected" in str(err)
    # the window is over on the day after protected_until, even before a sweep
    err = refusal(reg.mark_won, ws, found, by="mgr", now=datetime(2025, 6, 2, 0, 5))
    assert (
        err.check == "window"
        and "was protected until 2025-06-01 and today is 2025-06-02" in str(err)
    )
    won = reg.mark_won(ws, found, crm_opportunity_id="OPP-7", by="mgr", now=datetime(2025, 6, 1))
    assert (won.status, won.crm_opportunity_id) == (RegistrationStatus.WON, "OPP-7")
    other = submit(ws, "P2", "Umbrella")
    reg.approve(ws, other, by="mgr", now=NOW)
    err = refusal(reg.mark_won, ws, other, crm_opportunity_id="OPP-7", by="mgr", now=NOW)
    assert err.check == "crm_opportunity" and f"registration #{found}" in str(err)
    assert err.told(lambda pid: pid == "P2") == (
        "CRM opportunity OPP-7 is already the deal of another partner's registration; one "
        "opportunity is won by one registration: check the id"
    )
    err = refusal(reg.registrations, ws, status="pending")
    assert err.check == "status" and "use one of submitted, protected" in str(err)
    with pytest.raises(RegistrationNotFoundError, match="no registration #99"):
        reg.approve(ws, 99, by="mgr", now=NOW)


def test_a_move_happens_only_from_the_state_it_was_read_in(ws: Workspace) -> None:
    from partnerscope.operations.registrations import service

    found = submit(ws)
    stale = reg.detail(ws, found).registration
    reg.reject(ws, found, reason="no", by="mgr", now=NOW)
    with (
        connect(ws).begin() as connection,
        pytest.raises(RegistrationRefusedError, match="changed by someone else"),
    ):
        service._move(connection, stale, {"status": "protected"}, by="x", action="a", detail={})


def test_protection_window_warnings_and_expiry(ws: Workspace) -> None:
    found = submit(ws)
    until = reg.approve(ws, found, by="mgr", now=NOW).protected_until
    assert until == date(2025, 6, 1)  # 2025-03-03 + 90 days

    def at(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time()) + timedelta(hours=9)

    assert reg.sweep(ws, by="ops", now=at(until - timedelta(days=15))) == reg.SweepResult((), ())
    result = reg.sweep(ws, by="ops", now=at(until - timedelta(days=14)))
    assert [(e.registration.registration_id, e.days_left) for e in result.expiring] == [(found, 14)]
    assert reg.sweep(ws, by="ops", now=at(until)).expiring[0].days_left == 0
    result = reg.sweep(ws, by="ops", now=at(until + timedelta(days=1)))
    [expired] = result.expired
    assert (expired.status, expired.closed_by, result.expiring) == (
        RegistrationStatus.EXPIRED,
        "ops",
        (),
    )
    assert reg.sweep(ws, by="ops", now=at(until + timedelta(days=2))) == reg.SweepResult((), ())


def test_every_transition_is_audited(ws: Workspace) -> None:
    first = submit(ws)
    second = submit(ws, "P2", "Globex Inc")
    reg.approve(ws, first, by="mgr", now=NOW)
    reg.mark_won(ws, first, by="mgr", now=NOW)
    reg.reject(ws, second, reason="P1 registered it first", by="mgr", now=NOW)
    third = submit(ws, "P3", "Umbrella")
    reg.approve(ws, third, by="mgr", now=NOW)
    reg.sweep(ws, by="ops", now=datetime(2025, 7, 1))
    entries = audit.entries(connect(ws), object_type="deal_registration")
    assert [(e.object_id, e.action, e.actor) for e in reversed(entries)] == [
        (str(first), "submit", "pat"),
        (str(second), "submit", "pat"),
        (str(first), "approve", "mgr"),
        (str(first), "won", "mgr"),
        (str(second), "reject", "mgr"),
        (str(third), "submit", "pat"),
        (str(third), "approve", "mgr"),
        (str(third), "expire", "ops"),
    ]
    assert entries[6].detail["conflicts"] == [
        f"registration #{first} of P1 for 'Globex Corporation' (name 100%)"
    ]


def test_a_partner_sees_its_own_registration_without_whose_the_conflict_is(ws: Workspace) -> None:
    first = submit(ws, "P1")
    later = submit(ws, "P2", "Globex")
    mine = reg.detail(ws, later, partner="P2")
    [conflict] = mine.conflicts
    assert (conflict.other_partner_id, conflict.other_id, conflict.other_name) == (None, "", "")
    assert conflict.describe() == "an earlier registration of another partner (name 100%)"
    assert reg.detail(ws, first, partner="P1").later == ()
    with pytest.raises(RegistrationNotFoundError):
        reg.detail(ws, first, partner="P2")
    assert [r.registration_id for r in reg.registrations(ws, partner="P2")] == [later]
    assert [r.registration_id for r in reg.registrations(ws, status="submitted")] == [first, later]


# ---------------------------------------------------------------------------- to metrics


def test_registered_deals_ingest_as_opportunities(ws: Workspace) -> None:
    protected = submit(ws, "P1", "Globex Corporation", domain="globex.com", products=["A", "B"])
    reg.approve(ws, protected, by="mgr", now=datetime(2025, 5, 1))
    won = submit(ws, "P2", "Acme Widgets")
    reg.approve(ws, won, by="mgr", now=NOW)
    reg.mark_won(ws, won, by="mgr", now=datetime(2025, 4, 1, 10))
    linked = submit(ws, "P3", "Hooli")
    reg.approve(ws, linked, by="mgr", now=NOW)
    reg.mark_won(ws, linked, crm_opportunity_id="O2", by="mgr", now=NOW)
    lapsed = submit(ws, "P3", "Vandelay Industries")
    reg.approve(ws, lapsed, by="mgr", now=NOW)
    submit(ws, "P2", "Still waiting")
    reg.sweep(ws, by="ops", now=datetime(2025, 6, 2, 8))

    rows = reg.canonical_rows(ws)
    assert [r["opportunity_id"] for r in rows] == [
        f"REG-{protected}",
        f"REG-{won}",
        f"REG-{lapsed}",
    ]
    assert rows[0] == {
        "opportunity_id": f"REG-{protected}",
        "partner_id": "P1",
        "attribution": "sourced",
        "account_id": "A1",
        "name": "Globex Corporation",
        "product": "A, B",
        "stage": "registration protected",
        "status": "open",
        "amount": "25000.00",
        "currency": "USD",
        "created_at": "2025-03-03T12:00:00+00:00",
        "closed_at": "",
        "updated_at": "2025-05-01T00:00:00+00:00",
    }
    assert (rows[1]["status"], rows[1]["closed_at"], rows[1]["account_id"]) == (
        "won",
        "2025-04-01T10:00:00+00:00",
        "",
    )
    assert (rows[2]["status"], rows[2]["closed_at"]) == ("lost", "2025-06-02T08:00:00+00:00")

    path = ws.root / "data" / "registered.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    ws.config_path.write_text(ws.config_path.read_text("utf-8") + REGISTERED_SOURCE, "utf-8")
    ws = Workspace.open(ws.root)
    assert ws.ingest(["registered"]).quarantined == 0
    assert query(
        ws,
        "SELECT opportunity_id, partner_id, status, amount FROM opportunities "
        "WHERE opportunity_id LIKE 'REG-%' ORDER BY opportunity_id",
    ) == [
        (f"REG-{protected}", "P1", "open", Decimal("25000.00")),
        (f"REG-{won}", "P2", "won", Decimal("25000.00")),
        (f"REG-{lapsed}", "P3", "lost", Decimal("25000.00")),
    ]


# ---------------------------------------------------------------------------------- config


def test_the_registration_section_is_validated_with_located_errors(ws: Workspace) -> None:
    text = ws.config_path.read_text("utf-8")
    ws.config_path.write_text(
        text + "\n[registration]\nprotection_days = 0\nsimilarity_threshold = 1.5\n"
        'legal_forms = ["..."]\nwarn_days = 3\n',
        "utf-8",
    )
    with pytest.raises(ConfigError) as info:
        Workspace.open(ws.root).config  # noqa: B018
    problems = "\n".join(info.value.problems)
    assert "registration.protection_days" in problems
    assert "registration.similarity_threshold" in problems
    assert "registration.legal_forms" in problems and "has no letters or digits" in problems
    assert "registration.warn_days" in problems
    ws.config_path.write_text(
        text + "\n[registration]\nprotection_days = 30\nwarning_days = 30\n", "utf-8"
    )
    with pytest.raises(ConfigError, match=r"warning_days \(30\) must be less than protection_days"):
        Workspace.open(ws.root).config  # noqa: B018


def test_the_configured_window_and_threshold_apply(ws: Workspace) -> None:
    ws.config_path.write_text(
        ws.config_path.read_text("utf-8")
        + "\n[registration]\nprotection_days = 30\nwarning_days = 5\nsimilarity_threshold = 0.99\n",
        "utf-8",
    )
    ws = Workspace.open(ws.root)
    found = submit(ws, "P1", "Umbrella Corporation")
    assert reg.approve(ws, found, by="mgr", now=NOW).protected_until == date(2025, 4, 2)
    assert reg.detail(ws, submit(ws, "P2", "Umbrela Corp")).conflicts == ()


# -------------------------------------------------------------------------------------- CLI


def cli(ws: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["-w", str(ws.root), "registrations", *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_the_cli(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 250)
    close = (date.today() + timedelta(days=60)).isoformat()
    first = ["--account", "Globex Corp", "--amount", "25,000", "--close", close]
    out = cli(
        ws, "submit", "P1", *first, "--domain", "globex.com", "-p", "Analytics", "--by", "pat"
    )
    assert "Submitted registration #1: Globex Corp for P1, $25,000.00" in out
    out = cli(ws, "submit", "P2", "--account", "Globex Corporation", "--amount", "10000",
              "--close", close, "--country", "US")  # fmt: skip
    assert "conflict: registration #1 of P1 for 'Globex Corp' (name 100%)" in out
    result = CliRunner().invoke(app, ["-w", str(ws.root), "registrations", "approve", "2"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("Error: registration #2 conflicts with registration #1")
    out = cli(ws, "approve", "1", "--by", "mgr")
    assert "Approved registration #1: protected until" in out
    out = cli(ws, "reject", "2", "--reason", "P1 registered it first")
    assert "Rejected registration #2: P1 registered it first" in out
    out = cli(ws, "list", "--status", "protected")
    assert "│ 1 " in out and "globex.com" in out and "1 registration(s)" in out
    out = cli(ws, "show", "1")
    assert "later conflicting: registration #2 of P2 (Globex Corporation, rejected)" in out
    out = cli(ws, "sweep")
    assert "0 expired, 0 ending within 14 days" in out
    out = cli(ws, "won", "1", "--crm-id", "OPP-1")
    assert "Won registration #1: $25,000.00 (CRM opportunity OPP-1)." in out
    # mistakes: one red line, exit code 1 (or 2 for a malformed option), never a traceback
    err = CliRunner().invoke(app, ["-w", str(ws.root), "registrations", "show", "9"])
    assert err.exit_code == 1 and err.stderr.startswith("Error: no registration #9")
    cli(ws, "submit", "P1", "--account", "X", "--amount", "1", "--close", "tomorrow", code=2)
    cli(ws, "list", "--status", "open", code=1)


def test_a_platform_or_mail_domain_says_nothing_of_the_account():
    """Found on the held-out set (tests/data/matcher_holdout.csv): shops on one platform, school
    districts under one state, and a mail provider at another country's ending are not one
    account; an organisation's own subdomains still are."""
    from partnerscope.operations.registrations.matching import registered_domain, says_nothing

    match = Matcher()

    def same(a: tuple[str, str, str], b: tuple[str, str, str]) -> bool:
        return match.match(match.account(*a), match.account(*b)) is not None

    assert registered_domain("sugarloafcupcakes.myshopify.com") == (
        "sugarloafcupcakes.myshopify.com"
    )
    assert registered_domain("springfield.k12.il.us") == "springfield.k12.il.us"
    assert registered_domain("emea.acme.co.uk") == "acme.co.uk"
    assert not same(
        ("Sugarloaf Cupcakes", "sugarloafcupcakes.myshopify.com", "US"),
        ("Peak Trail Gear", "peaktrailgear.myshopify.com", "US"),
    )
    assert not same(
        ("Springfield School District", "springfield.k12.il.us", "US"),
        ("Riverside Unified", "riverside.k12.il.us", "US"),
    )
    assert not same(
        ("Riverbend Landscaping", "hotmail.co.uk", "GB"),
        ("Zenith Dental", "hotmail.co.uk", "GB"),
    )
    assert same(("Acme", "shop.acme.co.uk", "GB"), ("Acme Holdings", "acme.co.uk", "GB"))
    assert [
        says_nothing(d) for d in ("yahoo.es", "outlook.de", "acme.com", "shop.wixsite.com")
    ] == [
        True,
        True,
        False,
        False,
    ]
