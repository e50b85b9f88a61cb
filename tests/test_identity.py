"""One account identity (issue 30): each failure kind of the issue-24 matcher, countries for every
ISO 3166 code, resolve() and its blocking, the review queue and its CLI."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pycountry
import pytest
from typer.testing import CliRunner

from partnerscope import geo
from partnerscope.cli.app import app
from partnerscope.config import Config
from partnerscope.identity import AccountRecord, Decision, MatchedOn, Rules, check, resolve
from partnerscope.identity.domains import (
    is_mail_provider,
    normalize_domain,
    registered_domain,
    says_nothing,
)
from partnerscope.identity.names import normalize_name
from partnerscope.operations import identity as ops
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.test_metrics_fixture import csv_file, source


def same(a: str, b: str, **kw: str) -> Decision:
    return check(a, b, **kw).decision  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- failure kinds


@pytest.mark.parametrize(
    "domain", ["t-online.de", "orange.fr", "libero.it", "hotmail.co.uk", "comcast.net", "online.no"]
)
def test_mail_providers_say_nothing(domain: str) -> None:
    assert says_nothing(domain) and is_mail_provider(domain)
    assert same("Müller Bäckerei", "Schmidt Sanitär", domain_a=domain, domain_b=domain) == (
        Decision.DIFFERENT
    )
    # a user's own list: a company whose domain the built-in list takes for a provider's
    assert not is_mail_provider(domain, not_mail=[domain])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("leedsth.nhs.uk", "sth.nhs.uk"),
        ("gmp.police.uk", "met.police.uk"),
        ("economie.gouv.fr", "defense.gouv.fr"),
        ("lusd.k12.ca.us", "lodiusd.k12.ca.us"),
        ("hilltop.myshopify.com", "oceanbreeze.myshopify.com"),
        ("octolabs.github.io", "pixelforge.github.io"),
    ],
)
def test_shared_public_suffixes_are_nobodys_domain(a: str, b: str) -> None:
    assert registered_domain(a) != registered_domain(b)
    assert says_nothing("nhs.uk") and says_nothing("github.io") and not says_nothing("acme.com")
    assert same("Alpha Trust", "Beta Trust", domain_a=a, domain_b=b) is not Decision.SAME
    # one organisation's own subdomains are still one domain
    assert registered_domain("emea.acme.co.uk") == "acme.co.uk"


@pytest.mark.parametrize(
    ("a", "b"),
    [("Equinix Inc", "Equinox Holdings"), ("Alcoa", "Alcon"), ("Bayer AG", "Beyer AG")],
)
def test_one_letter_between_short_names_is_another_company(a: str, b: str) -> None:
    assert same(a, b, country_a="US", country_b="US") is Decision.DIFFERENT


def test_a_typo_in_a_long_name_is_the_same_company() -> None:
    verdict = check("Thornbury Engineering Services", "Thornbury Engineerng Services")
    assert verdict.decision is Decision.SAME
    assert "'engineering' and 'engineerng' are a typo apart" in verdict.reasons


def test_initials_are_never_more_than_uncertain() -> None:
    wwi = check("WWI", "Westland Wire Industries", country_a="US", country_b="US")
    assert wwi.decision is Decision.REVIEW and wwi.score == 0.8
    assert "initials are often shared" in wwi.reasons[0]
    # initials that are the domain of one side, in the same country, are the company's own
    own = check("WWI", "Wide World Importers", domain_a="wwi.com", country_a="US", country_b="US")
    assert (
        own.decision is Decision.SAME
        and "wwi.com is written with those initials" in (own.reasons[-1])
    )
    assert same("WWI", "Wide World Importers", domain_a="wwi.com") is Decision.REVIEW
    # the same domain settles it
    assert same(
        "IBM", "International Business Machines", domain_a="ibm.com", domain_b="ibm.com"
    ) is (Decision.SAME)


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Grupo Bimbo S.A.B. de C.V.", "grupo bimbo"),
        ("Kowalski Transport Sp. z o. o.", "kowalski transport"),
        ("Dvořák Strojírny spol. s r.o.", "dvorak strojirny"),
        ("Huber Elektrotechnik Ges.m.b.H.", "huber elektrotechnik"),
        ("Petronas Chemicals Group Berhad", "petronas chemicals group"),
        ("Severstal PJSC", "severstal"),
        ("Norrland Skog Aktiebolag", "norrland skog"),
        ("Orlen Serwis Spółka Akcyjna", "orlen serwis"),
        ("Brightwater Holdings Public Limited Company", "brightwater holdings"),
        ("株式会社日立製作所", "rilizhizuosuo"),
        ("Contoso Ltd - Procurement", "contoso"),
    ],
)
def test_legal_forms_are_removed(name: str, tokens: str) -> None:
    assert normalize_name(name) == tokens


def test_abbreviations_scripts_and_renames() -> None:
    assert same("St. Mary's Med Ctr", "Saint Marys Medical Center") is Decision.SAME
    assert same("Allied Comms Ltd", "Allied Communications Limited") is Decision.SAME
    assert same("Pacific Mutual Ins Co", "Pacific Mutual Insurance Company") is Decision.SAME
    assert same("Газпром нефть", "Gazprom Neft") is Decision.SAME
    assert same("株式会社日立製作所", "日立製作所") is Decision.SAME
    statoil = check("Statoil ASA", "Equinor ASA", country_a="NO", country_b="NO")
    assert statoil.decision is Decision.SAME
    assert statoil.reasons == ("Statoil is the former name of Equinor",)
    assert same("Facebook Ireland Ltd", "Meta Platforms Ireland Limited") is Decision.SAME
    # a rename applies to the whole name (or the name and where), not to a name that starts so
    assert same("Hewlett Packard Enterprise", "HP Inc") is Decision.DIFFERENT
    # users extend the table
    rules = Config.model_validate({"identity": {"renames": {"Fabrikam": "Contoso"}}}).identity
    assert check("Fabrikam Software", "Contoso", rules=rules.rules()).decision is Decision.DIFFERENT
    assert check("Fabrikam", "Contoso Corp", rules=rules.rules()).decision is Decision.SAME
    # a former name written with or without its space; a rename of a rename is followed
    assert same("Accor Hotels", "Accor SA", country_a="FR", country_b="FR") is Decision.SAME
    assert same("Blackwater Worldwide", "Academi LLC") is Decision.SAME


def test_aliases_other_scripts_and_initials_of_well_known_companies() -> None:
    sony = check("ソニー株式会社", "Sony Corporation", country_a="JP", country_b="JP")
    assert sony.decision is Decision.SAME and sony.matched_on is MatchedOn.RENAME
    assert sony.reasons == ("'ソニー株式会社' is how Sony is also written",)
    assert same("삼성전자", "Samsung Electronics Co., Ltd.") is Decision.SAME
    assert same('בנק הפועלים בע"מ', "Bank Hapoalim B.M.") is Decision.SAME
    assert same("شركة أرامكو السعودية", "Saudi Aramco") is Decision.SAME
    # an alias in another script applies to names typed in it only: ソニー reads "soni"
    assert same("Soni", "Sony") is Decision.DIFFERENT
    assert same("IBM", "International Business Machines Corp", country_a="US",
                country_b="US") is Decision.SAME  # fmt: skip
    # known initials are a name: beside another name of the same initials, different
    assert same("IBM", "Integrated Building Maintenance") is Decision.DIFFERENT
    assert same("P&G", "Procter & Gamble") is Decision.SAME


def test_countries_and_a_group_in_two_countries() -> None:
    assert same("Pacific Harbour Trading Ltd", "Pacific Harbour Trading Limited",
                country_a="Hong Kong SAR", country_b="HK") is Decision.SAME  # fmt: skip
    siemens = check("Siemens AG", "Siemens Schweiz AG", domain_a="siemens.com",
                    domain_b="siemens.com", country_a="DE", country_b="CH")  # fmt: skip
    assert siemens.decision is Decision.DIFFERENT
    assert siemens.reasons == (
        "in two countries (Germany, Switzerland): a group's companies in two countries are "
        "separate accounts",
    )
    assert same("Vodafone UK", "Vodafone Germany") is Decision.DIFFERENT
    assert same("Acme Tools GmbH", "Acme Tools Inc", country_b="US") is Decision.DIFFERENT


def test_idna_2008() -> None:
    assert normalize_domain("straße.de") == "xn--strae-oqa.de" != normalize_domain("strasse.de")
    assert normalize_domain("https://www.Bücherstube-Kiel.de/x") == "xn--bcherstube-kiel-zvb.de"
    assert same("Straße Verlag", "Strasse Events", domain_a="straße.de",
                domain_b="strasse.de") is Decision.DIFFERENT  # fmt: skip
    # one name's domain in Unicode, the other's written out in Latin letters: one domain, as typed
    assert same("Müller Bau", "Mueller Bau", domain_a="müller-bau.de",
                domain_b="mueller-bau.de") is Decision.SAME  # fmt: skip
    assert same("Fußball Shop", "Fussball Shop", domain_a="xn--fuball-shop-w6a.de",
                domain_b="fussball-shop.de") is Decision.SAME  # fmt: skip
    # but two domains that read differently still leave the names to a person
    assert same("Müller Bau", "Mueller Bau", domain_a="müller-bau.de",
                domain_b="bau-partner.de") is Decision.REVIEW  # fmt: skip


def test_related_domains_by_a_brand_ending_or_initials() -> None:
    assert same("Toyota Motor Corporation", "Toyota Motor Corp", domain_a="global.toyota",
                domain_b="toyota.co.jp") is Decision.SAME  # fmt: skip
    assert same("Schneider Electric SE", "Schneider Electric", domain_a="se.com",
                domain_b="schneider-electric.com") is Decision.SAME  # fmt: skip


def test_the_built_in_tables_are_well_formed() -> None:
    import csv

    from partnerscope.identity.names import ALIASES_FILE, RENAMES_FILE, name_tokens

    with RENAMES_FILE.open(encoding="utf-8", newline="") as fh:
        renames = list(csv.DictReader(fh))
    with ALIASES_FILE.open(encoding="utf-8", newline="") as fh:
        aliases = list(csv.DictReader(fh))
    assert len(renames) == 115 and len(aliases) == 111
    for row in renames:
        assert name_tokens(row["former"]) != name_tokens(row["current"]), row
        assert row["year"] == "" or 1900 <= int(row["year"]) <= 2026, row
    kinds = {"initials", "short name", "Japanese", "Chinese", "Chinese (traditional)", "Korean",
             "Greek", "Hebrew", "Arabic", "Russian"}  # fmt: skip
    for row in aliases:
        assert name_tokens(row["alias"]) != name_tokens(row["name"]) and row["note"] in kinds, row
    others = [name_tokens(r["former"]) for r in renames] + [
        name_tokens(r["alias"]) for r in aliases
    ]
    assert len(set(others)) == len(others), "no former or other name twice"


def test_one_name_under_two_endings_settles_an_unsure_name() -> None:
    works = check("Adventure Works", "Adventure Works Cycles", domain_a="adventure-works.com",
                  domain_b="adventureworks.com")  # fmt: skip
    assert works.decision is Decision.SAME and works.matched_on is MatchedOn.DOMAIN
    assert works.score == 0.9 and "one name under two endings" in works.reasons[-1]
    # a mail provider's domain is nobody's name
    assert same("Adventure Works", "Adventure Works Cycles", domain_a="gmail.com",
                domain_b="gmail.co.uk") is Decision.REVIEW  # fmt: skip


def test_group_words_in_other_scripts_and_after_a_former_name() -> None:
    assert same("阿里巴巴集团", "Alibaba Group Holding Limited") is Decision.SAME
    assert same("腾讯控股有限公司", "Tencent Holdings Ltd") is Decision.SAME
    assert same("Reckitt Benckiser Group plc", "Reckitt plc") is Decision.SAME


def test_two_companies_of_a_group_on_its_domain_are_left_to_a_person() -> None:
    tax = check("Deloitte & Touche LLP", "Deloitte Tax LLP", domain_a="deloitte.com",
                domain_b="deloitte.com")  # fmt: skip
    assert tax.decision is Decision.REVIEW and "two of its companies" in tax.reasons[-1]
    # one name the other with a word of its own, or names not the domain's: the domain decides
    assert same("Contoso Pharmaceuticals", "Contoso Pharma Research", domain_a="contoso.com",
                domain_b="contoso.com") is Decision.SAME  # fmt: skip
    assert same("Woodgrove Bank", "Woodgrove Financial", domain_a="woodgrovebank.com",
                domain_b="woodgrovebank.com") is Decision.SAME  # fmt: skip


def test_site_builders_hosts_are_their_customers_own() -> None:
    assert registered_domain("greenleafyoga.squarespace.com") == "greenleafyoga.squarespace.com"
    assert same("Greenleaf Yoga", "Sunset Pilates", domain_a="greenleafyoga.squarespace.com",
                domain_b="sunsetpilates.squarespace.com") is Decision.DIFFERENT  # fmt: skip
    assert same("Greenleaf Yoga", "Greenleaf Yoga Studio", domain_a="squarespace.com",
                domain_b="squarespace.com") is not Decision.SAME  # fmt: skip


def test_family_names_a_letter_apart_are_not_a_typo() -> None:
    for a, b in (("Hansen Maskin", "Hanssen Maskin"), ("Peterson Farms", "Petersen Farms"),
                 ("Carlsen Electric", "Karlsen Electric")):  # fmt: skip
        assert same(a, b) is Decision.DIFFERENT, (a, b)
    assert same("Thornbury Engineering", "Thornbury Engineerng") is Decision.SAME


# ---------------------------------------------------------------------------------- countries


def test_every_iso_country_is_known_with_a_centre() -> None:
    for country in pycountry.countries:
        code = country.alpha_2
        assert geo.lookup_country(code) == code
        assert geo.lookup_country(country.alpha_3) == code
        assert geo.lookup_country(country.name) == code, country.name
        assert geo.centroid(code) is not None, code
    assert [geo.lookup_country(t) for t in ("ET", "DEU", "Ethiopia", "Côte d'Ivoire")] == [
        "ET",
        "DE",
        "ET",
        "CI",
    ]
    assert geo.lookup_country("Ivory Coast") == "CI" and geo.lookup_country("Türkiye") == "TR"
    lat, lon = geo.centroid("ET")  # type: ignore[misc]
    assert 3 < lat < 15 and 33 < lon < 48  # inside Ethiopia
    assert geo.lookup_country("Atlantis") is None


# ------------------------------------------------------------------------------------ resolve


def test_resolve_groups_one_customer_and_keeps_the_smallest_id() -> None:
    records = [
        AccountRecord("A3", "Contoso Pharmaceuticals", "contoso.com", "US"),
        AccountRecord("A1", "Contoso Pharma Research", "contoso.com", "US"),
        AccountRecord("A2", "Contoso Pharmaceuticals", "contoso.com", "DE"),
        AccountRecord("A4", "Statoil ASA", None, "NO"),
        AccountRecord("A5", "Equinor ASA", None, "Norway"),
        AccountRecord("A6", "WWI", None, "US"),
        AccountRecord("A7", "Wide World Importers", None, "US"),
    ]
    assert resolve(records) == {
        "A3": "A1", "A1": "A1", "A2": "A2", "A4": "A4", "A5": "A4", "A6": "A6", "A7": "A7",
    }  # fmt: skip
    # a person's decision applies on the next resolve
    wwi = check("WWI", "Wide World Importers", country_a="US", country_b="US")
    assert wwi.decision is Decision.REVIEW
    from partnerscope.identity import account

    prints = frozenset(
        (account("WWI", None, "US").fingerprint,
         account("Wide World Importers", None, "US").fingerprint)
    )  # fmt: skip
    assert resolve(records, Rules(), {prints: Decision.SAME})["A7"] == "A6"


def test_resolve_scales_by_blocking() -> None:
    stems = [c + v for c in "bcdfghklmnprstvwz" for v in "aeiou"]
    records = [
        AccountRecord(f"A{i:05d}", f"{stems[i % 85]}{stems[i // 85 % 85]} Systems GmbH", None, "DE")
        for i in range(20_000)
    ]
    start = time.perf_counter()
    found = resolve(records)
    assert time.perf_counter() - start < 30
    assert len(found) == 20_000


# -------------------------------------------------------------------------------- review queue

ACCOUNTS = """
A1,WWI,,US
A2,Wide World Importers,,US
A3,Globex Corporation,globex.com,US
A4,GX Holdings,globex.com,US
A5,Initech GmbH,initech.de,DE
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = source("accounts", "accounts", "account_id,name,domain,country")
    config += source("partners", "partners", "partner_id,name")
    files = {
        "data/accounts.csv": csv_file("account_id,name,domain,country", ACCOUNTS),
        "data/partners.csv": csv_file("partner_id,name", "P1,Acme Resellers"),
    }
    ws = make_workspace(tmp_path_factory.mktemp("identity") / "ws", config, files)
    assert ws.ingest().quarantined == 0
    return ws.root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Workspace:
    return Workspace.open(shutil.copytree(template, tmp_path / "ws"))


def test_the_review_queue_is_decided_audited_and_applied(ws: Workspace) -> None:
    queue = ops.pairs(ws, include_decided=False)
    assert [(p.a.account_id, p.b.account_id) for p in queue] == [("A1", "A2")]
    assert ops.resolve_accounts(ws) == {"A1": "A1", "A2": "A2", "A3": "A3", "A4": "A3",
                                        "A5": "A5"}  # fmt: skip
    with pytest.raises(ops.IdentityError, match="write same or different"):
        ops.decide(ws, queue[0].pair_id, "maybe", by="pat")
    with pytest.raises(ops.IdentityError, match="no pair 'nope' in the review queue"):
        ops.decide(ws, "nope", "same", by="pat")
    ops.decide(ws, queue[0].pair_id, "same", by="pat", reason="their own list of names")
    assert ops.pairs(ws, include_decided=False) == []
    assert ops.resolve_accounts(ws)["A2"] == "A1"
    from partnerscope import audit
    from partnerscope.appdb import connect

    entry = audit.entries(connect(ws), object_type="account_pair")[0]
    assert (entry.actor, entry.action, entry.detail["reason"]) == (
        "pat", "identity.same", "their own list of names",
    )  # fmt: skip
    assert entry.detail["names"] == ["WWI", "Wide World Importers"]
    # changed later: the latest decision is in force
    ops.decide(ws, queue[0].pair_id, "different", by="sam")
    assert ops.resolve_accounts(ws)["A2"] == "A2"


def test_the_queue_follows_the_accounts_and_the_rules(ws: Workspace) -> None:
    """The engine's comparisons are kept between pages; a change of the accounts or of the
    rules is seen at once."""
    assert [(p.a.account_id, p.b.account_id) for p in ops.pairs(ws)] == [("A1", "A2")]
    # a rename in partnerscope.toml settles the pair: the same customer, nothing to review
    config = ws.root / "partnerscope.toml"
    with config.open("a", encoding="utf-8") as fh:
        fh.write('\n[identity.renames]\n"WWI" = "Wide World Importers"\n')
    assert ops.pairs(Workspace.open(ws.root)) == []
    config.write_text(config.read_text(encoding="utf-8").split("\n[identity.renames]")[0])
    # the accounts data changes: WWI is now a name like no other
    accounts = ws.root / "data" / "accounts.csv"
    text = accounts.read_text(encoding="utf-8").replace("A1,WWI,", "A1,Zebra Freight,")
    accounts.write_text(text, encoding="utf-8")
    ws = Workspace.open(ws.root)
    assert ws.ingest().quarantined == 0
    assert ops.pairs(ws) == []


def test_the_cli(ws: Workspace, tmp_path: Path) -> None:
    def cli(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, ["-w", str(ws.root), "identity", *args])
        assert result.exit_code == code, result.output
        return " ".join(result.output.split())

    out = cli("check", "Statoil ASA", "Equinor ASA", "--country", "NO")
    assert "The same customer (score 100.0 %)" in out and "former name of Equinor" in out
    out = cli("review")
    assert "WWI (A1, US)" in out and "1 pair(s)" in out
    pair = ops.pairs(ws)[0].pair_id
    out = cli("decide", pair, "different", "--by", "pat")
    assert "WWI and Wide World Importers are two customers" in out
    assert "0 pair(s)" in cli("review")
    labelled = tmp_path / "pairs.csv"
    labelled.write_text(
        "name_a,domain_a,country_a,name_b,domain_b,country_b,same_account,kind\n"
        "Statoil,,NO,Equinor,,NO,1,rename\n"
        "Equinix,,US,Equinox,,US,0,one-letter\n"
        "WWI,,US,Wide World Importers,,US,1,initials\n",
        encoding="utf-8",
    )
    out = cli("measure", str(labelled))
    assert "3 pairs: precision 100.0 %, recall 50.0 %; 1 left to a person" in out
    labelled.write_text("name_a,name_b\nA,B\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["identity", "measure", str(labelled)])
    assert result.exit_code == 1 and "no column domain_a" in " ".join(result.output.split())


def test_registrations_count_a_persons_decision() -> None:
    from partnerscope.operations.registrations.matching import Matcher

    plain = Matcher()
    a, b = plain.account("WWI", None, "US"), plain.account("Wide World Importers")
    assert plain.match(a, b) is None  # initials: unsure, so no conflict by itself
    decided = Matcher(decisions={frozenset((a.fingerprint, b.fingerprint)): Decision.SAME})
    hit = decided.match(a, b)
    assert hit is not None and hit.score == 1.0
