"""Lead routing: each rule on hand-built partner facts, the explanation, a property test that a
lead never goes to an ineligible, declining or full partner, and the service on a real
workspace with a controlled clock (SLA breaches re-routed, declines, idempotent batches, the
breach reaching lead_sla_rate).

The partners of the workspace fixture (no run, so nobody is a top partner):

    P1  Berlin   DE  EMEA  CERT-A
    P2  Munich   DE  EMEA  CERT-A
    P3  Hamburg  DE  EMEA  (no certification)
    P4  Paris    FR  EMEA  CERT-A
    P5  New York US  NA    CERT-A
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.cli import app as cli
from partnerscope.config import Config, check_evaluation
from partnerscope.geo import country_code, distance_km
from partnerscope.operations.routing import service
from partnerscope.operations.routing.engine import Band, Lead, Router
from partnerscope.operations.routing.facts import PartnerFacts
from partnerscope.operations.routing.leadfile import LeadRow
from partnerscope.operations.routing.store import (
    LeadNotFoundError,
    Rerouted,
    RoutingError,
    Status,
)
from partnerscope.settings.routing import RoutingSettings
from tests.conftest import csv_text, make_workspace, write_file

NOW = datetime(2025, 5, 5, 9, 0)


def facts(**changes) -> PartnerFacts:
    base = {
        "country": ["DE", "DE", "DE", "FR", "US"],
        "region": ["EMEA", "EMEA", "EMEA", "EMEA", "NA"],
        "latitude": [52.52, 48.14, 53.55, 48.86, 40.71],
        "longitude": [13.40, 11.58, 9.99, 2.35, -74.01],
        "certifications": [frozenset({"CERT-A"})] * 2 + [frozenset()] + [frozenset({"CERT-A"})] * 2,
    }
    return PartnerFacts.build(["P1", "P2", "P3", "P4", "P5"], **{**base, **changes})


def router(facts_=None, **config) -> Router:
    return Router(facts_ or facts(), RoutingSettings.model_validate(config))


def lead(value=50_000, country="DE", lead_id="L1", **rest) -> Lead:
    return Lead(lead_id, value, country, **rest)


# ------------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (None, Band.SELF_SERVICE),
        (0, Band.SELF_SERVICE),
        (24_999.99, Band.SELF_SERVICE),
        (25_000, Band.MIDDLE),  # the minimum is inclusive
        (99_999.99, Band.MIDDLE),
        (100_000, Band.TOP),
    ],
)
def test_value_bands_and_their_edges(value, band):
    decision = router().route(lead(value))
    assert decision.band is band
    assert (decision.partner_id is None) == (band is Band.SELF_SERVICE)


def test_a_small_lead_goes_to_the_self_service_queue_and_says_why():
    decision = router().route(lead(24_999.99))
    assert decision.queue == "self-service" and decision.rule == "self_service"
    assert decision.reason == "self-service: estimated value 25,000 is below 25,000"
    assert router(bands={"round_robin_min": 10_000}).route(lead(12_000)).band is Band.MIDDLE


# ----------------------------------------------------------------------- geography


def test_territory_is_the_partners_country_by_default():
    decision = router().route(lead(country="DE"))
    assert decision.partner_id == "P1" and decision.eligible == ("P1", "P2", "P3")
    assert decision.excluded == {"outside_territory": 2}
    assert router().route(lead(country="FR")).partner_id == "P4"
    # a lead from a country no partner covers goes to the queue, with the count
    empty = router().route(lead(country="JP"))
    assert empty.partner_id is None and empty.excluded == {"outside_territory": 5}
    assert empty.reason == "self-service: no eligible partner (5 outside the territory or too far)"


def test_territory_by_region_and_explicit_lists():
    by_region = router(territory="region").route(lead(country="FR"))
    assert by_region.eligible == ("P1", "P2", "P3", "P4")
    # P5 covers France and Germany besides nothing else; P4 keeps its own country
    explicit = router(territories={"P5": ["France", "de"]}).route(lead(country="FR"))
    assert explicit.eligible == ("P4", "P5")


def test_great_circle_distance():
    # Berlin–Munich is about 504 km, Berlin–Paris about 878 km
    assert distance_km(52.52, 13.40, 48.14, 11.58) == pytest.approx(504, abs=2)
    assert distance_km(52.52, 13.40, 48.86, 2.35) == pytest.approx(878, abs=3)
    near = router(geography="distance", max_distance_km=550)
    decision = near.route(lead(country=None, latitude=52.52, longitude=13.40))
    # Berlin 0 km, Munich 504, Hamburg 255: all within 550 km, Paris and New York not
    assert decision.eligible == ("P1", "P2", "P3") and decision.distance_km == 0.0
    assert decision.reason.startswith("P1: 0 km, 0/25 open leads")
    # a lead with only its country is placed at the country's centroid (51.0, 9.0), which
    # is 532 km from Paris
    by_country = near.route(lead(country="DE", lead_id="L2"))
    assert by_country.eligible == ("P1", "P2", "P3", "P4")
    assert by_country.distance_km == pytest.approx(distance_km(51.0, 9.0, 52.52, 13.40), abs=0.1)


def test_countries_by_code_or_name():
    assert [country_code(c) for c in ("de", "Germany", " united  kingdom ", "USA", "Narnia")] == [
        "DE",
        "DE",
        "GB",
        "US",
        "NARNIA",
    ]


def test_routing_and_registrations_read_one_country_table():
    from partnerscope.geo import country_names, lookup_country
    from partnerscope.operations.registrations.matching import normalize_country

    typed = ("Deutschland", "Österreich", "U.S.", "the Netherlands", "uae", "Jordan", "gb")
    assert [lookup_country(t) for t in typed] == ["DE", "AT", "US", "NL", "AE", "JO", "GB"]
    assert [country_code(t) for t in typed] == [normalize_country(t) for t in typed]
    assert country_names()["DE"] == ("germany", "deutschland")
    # unknown text: routing compares it upper-cased, registration folded
    assert (lookup_country("Atlantis"), country_code("Atlantis")) == (None, "ATLANTIS")
    assert normalize_country("Atlantis") == "atlantis"


# ---------------------------------------------------------------- certification, SLA


def test_a_product_needs_its_certifications():
    config = {"products": {"Cloud": ["CERT-A"]}}
    decision = router(**config).route(lead(product="Cloud"))
    assert decision.eligible == ("P1", "P2") and decision.excluded == {
        "outside_territory": 2,
        "no_certification": 1,
    }
    assert "certified for Cloud (CERT-A)" in decision.reason
    # a product without requirements: P3 is eligible
    assert router(**config).route(lead(product="Other")).eligible == ("P1", "P2", "P3")


def test_a_measured_sla_rate_below_the_minimum_excludes_unmeasured_does_not():
    measured = facts(sla_rate=[0.95, 0.5, None, 0.9, 0.9])
    decision = router(measured, min_sla_rate=0.8).route(lead())
    assert decision.eligible == ("P1", "P3") and decision.excluded["sla_below_minimum"] == 1
    assert "SLA rate 95 %" in decision.reason
    assert router(measured).route(lead()).eligible == ("P1", "P2", "P3")


# --------------------------------------------------------------------- top partners


def test_top_partners_by_tier_or_score_best_score_wins():
    ranked = facts(
        top_tier=["Elite", "Development", "Development", "Elite", None],
        score=[70.0, 91.0, 60.0, 80.0, None],
        score_percentile=[0.5, 0.85, 0.2, 0.7, None],
    )
    decision = router(ranked).route(lead(100_000))
    # P1 is Elite, P2 is in the top 20 % by score; P2's score is higher
    assert decision.band is Band.TOP and decision.eligible == ("P1", "P2")
    assert decision.partner_id == "P2" and decision.rule == "top_best"
    assert decision.excluded == {"outside_territory": 2, "not_top": 1}
    assert decision.reason == (
        "P2: top partner (score in the top 20%), covers DE, 0/25 open leads, "
        "SLA rate not measured; best score (91.0) among 2 eligible top partners"
    )
    assert router(ranked, top={"score_share": 0}).route(lead(100_000)).partner_id == "P1"


def test_a_top_lead_without_a_top_partner_falls_back_to_the_qualified():
    decision = router().route(lead(250_000))
    assert decision.band is Band.TOP and decision.rule == "top_fallback_round_robin"
    assert decision.partner_id == "P1"
    assert "no top partner was eligible, so next in the round robin" in decision.reason


# ---------------------------------------------------------- capacity, round robin, weights


def test_capacity_counts_open_leads_and_the_batch_itself():
    r = Router(facts(), RoutingSettings(capacity=2), open_leads={"P1": 2, "P2": 1})
    first = r.route(lead(lead_id="L1"))
    assert first.partner_id == "P2" and first.excluded["over_capacity"] == 1
    assert "1/2 open leads" in first.reason
    assert r.route(lead(lead_id="L2")).partner_id == "P3"
    assert r.route(lead(lead_id="L3")).partner_id == "P3"
    full = r.route(lead(lead_id="L4"))
    assert full.partner_id is None and full.excluded == {"outside_territory": 2, "over_capacity": 3}


def test_round_robin_rotates_per_pool():
    r = router()
    assert [r.route(lead(lead_id=f"L{i}")).partner_id for i in range(4)] == ["P1", "P2", "P3", "P1"]
    # France is its own pool
    assert r.route(lead(country="FR", lead_id="F1")).partner_id == "P4"
    assert r.cursors == {"middle|DE|": "P1", "middle|FR|": "P4"}


def test_weighted_draws_follow_the_weights_and_the_seed():
    tiered = facts(weight_tier=["Gold", "Silver", "Silver", None, None])
    config = {
        "bands": {"middle_choice": "weighted"},
        "weights": {"by": "tier", "ruleset": "performance", "tiers": {"Gold": 6, "Silver": 2}},
    }
    picks = [router(tiered, **config).route(lead(lead_id=f"L{i}")).partner_id for i in range(2000)]
    # weights 6 : 2 : 2 → 60 % P1
    assert picks.count("P1") / 2000 == pytest.approx(0.6, abs=0.04)
    again = [router(tiered, **config).route(lead(lead_id=f"L{i}")).partner_id for i in range(50)]
    assert again == picks[:50]
    other = router(tiered, seed=7, **config)
    assert [other.route(lead(lead_id=f"L{i}")).partner_id for i in range(50)] != picks[:50]
    one = router(tiered, **config).route(lead())
    assert "weighted draw (weight " in one.reason and " of 10)" in one.reason


def test_declined_partners_are_never_chosen_again():
    decision = router().route(lead(), attempt=2, excluded=frozenset({"P1", "P2"}))
    assert decision.partner_id == "P3" and decision.excluded["declined_or_breached"] == 2


# ------------------------------------------------------------------------- property


@st.composite
def worlds(draw):
    n = draw(st.integers(1, 12))
    countries = st.sampled_from(["DE", "FR", "US"])
    certs = st.frozensets(st.sampled_from(["A", "B"]))
    maybe_rate = st.one_of(st.none(), st.floats(0, 1))
    built = PartnerFacts.build(
        [f"P{i:02d}" for i in range(n)],
        country=draw(st.lists(countries, min_size=n, max_size=n)),
        certifications=draw(st.lists(certs, min_size=n, max_size=n)),
        sla_rate=draw(st.lists(maybe_rate, min_size=n, max_size=n)),
        top_tier=draw(st.lists(st.sampled_from(["Elite", None]), min_size=n, max_size=n)),
        weight_tier=[None] * n,
    )
    open_leads = {pid: draw(st.integers(0, 3)) for pid in built.ids}
    config = RoutingSettings(
        capacity=draw(st.integers(1, 3)),
        min_sla_rate=draw(st.one_of(st.none(), st.floats(0, 1))),
        products={"X": ("A",), "Y": ("A", "B")},
        bands={
            "top_choice": draw(st.sampled_from(["best", "round_robin", "weighted"])),
            "middle_choice": draw(st.sampled_from(["best", "round_robin", "weighted"])),
        },
        seed=draw(st.integers(0, 10)),
    )
    leads = draw(
        st.lists(
            st.tuples(
                st.sampled_from([10_000, 25_000, 60_000, 100_000, 500_000]),
                countries,
                st.sampled_from(["X", "Y", None]),
                st.frozensets(st.sampled_from(built.ids)),
            ),
            max_size=25,
        )
    )
    return built, open_leads, config, leads


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_a_lead_never_goes_to_an_ineligible_declining_or_full_partner(world):
    built, open_leads, config, leads = world
    r = Router(built, config, open_leads=open_leads)
    held = dict(open_leads)
    for i, (value, country, product, declined) in enumerate(leads):
        decision = r.route(Lead(f"L{i}", value, country, product), excluded=declined)
        if decision.band is not Band.SELF_SERVICE:
            # every partner is eligible or excluded for one reason
            assert decision.eligible_count + sum(decision.excluded.values()) == len(built)
        pid = decision.partner_id
        if pid is None:
            continue
        j = built.ids.index(pid)
        assert built.country[j] == country
        assert set(config.products.get(product or "", ())) <= built.certifications[j]
        rate = built.sla_rate[j]
        assert config.min_sla_rate is None or rate != rate or rate >= config.min_sla_rate
        assert pid not in declined
        assert held[pid] < config.capacity
        held[pid] += 1
        assert value >= config.bands.round_robin_min


# ---------------------------------------------------------------- the service, for real

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
country = "country"
region = "region"
latitude = "lat"
longitude = "lon"

[sources.certs]
entity = "certifications"
path = "data/certs.csv"
[sources.certs.columns]
record_id = "id"
partner_id = "partner"
person_id = "person"
certification = "cert"
issued_at = "issued"

[sources.routed]
entity = "leads"
path = "data/routed.csv"
[sources.routed.columns]
lead_id = "lead_id"
partner_id = "partner_id"
assigned_at = "assigned_at"
first_touch_at = "first_touch_at"
converted = "converted"
estimated_value = "estimated_value"
currency = "currency"
country = "country"
product = "product"
source = "source"

[routing]
capacity = 3
[routing.products]
Cloud = ["CERT-A"]
"""
PARTNERS = """id,name,country,region,lat,lon
P1,Berlin,DE,EMEA,52.52,13.40
P2,Munich,Germany,EMEA,48.14,11.58
P3,Hamburg,DE,EMEA,53.55,9.99
P4,Paris,FR,EMEA,48.86,2.35
P5,New York,US,NA,40.71,-74.01
"""
CERTS = """id,partner,person,cert,issued
C1,P1,U1,CERT-A,2025-01-01
C2,P2,U2,CERT-A,2025-01-01
C3,P4,U3,CERT-A,2025-01-01
C4,P5,U4,CERT-A,2025-01-01
"""
CANONICAL = (
    "lead_id",
    "partner_id",
    "assigned_at",
    "first_touch_at",
    "converted",
    "estimated_value",
    "currency",
    "country",
    "product",
    "source",
)


@pytest.fixture
def ws(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        CONFIG,
        {
            "data/partners.csv": PARTNERS,
            "data/certs.csv": CERTS,
            "data/routed.csv": ",".join(CANONICAL) + "\n",
        },
    )
    ws.ingest(["partners", "certs"])
    return ws


def lead_rows(*specs) -> list[LeadRow]:
    return [
        LeadRow(Lead(lead_id, value, country, product), source="web")
        for lead_id, value, country, product in specs
    ]


def test_a_file_is_routed_bad_rows_reported_and_a_second_run_changes_nothing(ws, tmp_path):
    path = write_file(
        tmp_path / "leads.csv",
        "Lead_ID,estimated_value,country,product,latitude\n"
        "L1,50000,DE,Cloud,\n"
        "L2,abc,DE,,\n"
        ",30000,DE,,\n"
        "L1,30000,DE,,\n"
        "L3,30000,,,\n"
        "L4,10000,Germany,,\n"
        "L5,40000,DE,,91\n",
    )
    batch = service.route_file(ws, path, now=NOW, by="ops")
    assert [(p.row, p.column) for p in batch.problems] == [
        (3, "estimated_value"),
        (4, "Lead_ID"),
        (5, "Lead_ID"),
        (6, "country"),
        (8, "latitude"),
    ]
    assert str(batch.problems[0]) == (
        "leads.csv, row 3, column estimated_value ('abc'): write an amount of 0 or more, "
        "e.g. 25000.00"
    )
    assert [(a.lead_id, a.assignee, a.status) for a in batch.assignments] == [
        ("L1", "P1", Status.ASSIGNED),
        ("L4", "queue self-service", Status.QUEUED),
    ]
    first = batch.assignments[0]
    assert first.sla_due_at == NOW + timedelta(hours=2)
    assert first.eligible == {
        "ids": ["P1", "P2"],
        "count": 2,
        "excluded": {"outside_territory": 2, "no_certification": 1},
    }
    again = service.route_file(ws, path, now=NOW + timedelta(hours=1), by="ops")
    assert again.assignments == [] and again.already_routed == ["L1", "L4"]
    assert len(service.assignments(ws)) == 2


def test_round_robin_continues_across_batches(ws):
    first = service.route_leads(ws, lead_rows(("A1", 30_000, "DE", None)), now=NOW, by="ops")
    second = service.route_leads(
        ws, lead_rows(("A2", 30_000, "DE", None), ("A3", 30_000, "DE", None)), now=NOW, by="ops"
    )
    third = service.route_leads(ws, lead_rows(("A4", 30_000, "DE", None)), now=NOW, by="ops")
    assert [a.partner_id for b in (first, second, third) for a in b.assignments] == [
        "P1",
        "P2",
        "P3",
        "P1",
    ]


def test_an_sla_breach_is_flagged_and_re_routed_on_the_clock(ws):
    service.route_leads(
        ws,
        lead_rows(("L1", 50_000, "DE", "Cloud"), ("L2", 50_000, "DE", "Cloud")),
        now=NOW,
        by="ops",
    )
    # L1 → P1, L2 → P2; P2 answers in 90 minutes
    service.record_touch(
        ws, "L2", "P2", now=NOW + timedelta(hours=3), by="p2", at=NOW + timedelta(minutes=90)
    )
    assert service.check_sla(ws, now=NOW + timedelta(hours=2), by="ops") == []  # due, not over
    pairs = service.check_sla(ws, now=NOW + timedelta(hours=2, minutes=1), by="ops")
    assert [(old.lead_id, old.partner_id, new.partner_id, new.attempt) for old, new in pairs] == [
        ("L1", "P1", "P2", 2)
    ]
    old, new = pairs[0]
    assert (
        old.status is Status.BREACHED
        and old.closed_reason == "not first-touched by 2025-05-05 11:00 UTC"
    )
    # who breached is data, not words: the reason names only the partner it went to
    assert (new.rerouted_from, new.rerouted_after) == ("P1", Rerouted.BREACHED)
    assert new.reason.startswith("P2: certified for Cloud")
    assert new.explained().startswith("re-routed after P1 breached the SLA: P2: certified for")
    assert new.explained(lambda pid: pid != "P1").startswith(
        "re-routed after another partner breached the SLA: P2: certified for Cloud"
    )
    assert new.partner_reason is not None and new.partner_reason.startswith("certified for Cloud")
    assert "P1" not in new.partner_reason and "among" not in new.partner_reason
    assert new.eligible["excluded"]["declined_or_breached"] == 1
    assert new.sla_due_at == NOW + timedelta(hours=4, minutes=1)
    # P1 cannot touch it any more; nothing is breached twice. The refusal names only the
    # partner that asked, never the one the lead went to
    with pytest.raises(RoutingError, match="no longer with P1: its assignment was breached") as no:
        service.record_touch(ws, "L1", "P1", now=NOW + timedelta(hours=3), by="p1")
    assert "P2" not in str(no.value)
    with pytest.raises(LeadNotFoundError, match="no lead 'L1' was routed to P4"):
        service.record_touch(ws, "L1", "P4", now=NOW + timedelta(hours=3), by="p4")
    assert service.check_sla(ws, now=NOW + timedelta(hours=3), by="ops") == []
    # P2 lets it run out too: no certified partner is left in Germany
    (second,) = service.check_sla(ws, now=NOW + timedelta(hours=5), by="ops")
    assert second[1].queue == "self-service" and second[1].status is Status.QUEUED
    actions = [e.action for e in audit.entries(connect(ws), object_id="L1")]
    assert actions == ["reroute", "breach", "reroute", "breach"]


def test_a_decline_is_honoured(ws):
    service.route_leads(ws, lead_rows(("L1", 50_000, "DE", None)), now=NOW, by="ops")
    declined, new = service.record_decline(
        ws, "L1", "P1", reason="no capacity in Bavaria", now=NOW + timedelta(minutes=5), by="p1"
    )
    assert (
        declined.status is Status.DECLINED
        and declined.closed_reason == "declined: no capacity in Bavaria"
    )
    assert new.partner_id == "P2" and new.attempt == 2
    assert (new.rerouted_from, new.rerouted_after) == ("P1", Rerouted.DECLINED)
    assert new.explained().startswith("re-routed after P1 declined: P2: ")
    _, third = service.record_decline(ws, "L1", "P2", reason="not our field", now=NOW, by="p2")
    assert third.partner_id == "P3"
    with pytest.raises(RoutingError, match="give a reason"):
        service.record_decline(ws, "L1", "P3", reason=" ", now=NOW, by="p3")
    with pytest.raises(LeadNotFoundError, match=r"no lead 'L1' was routed to P5"):
        service.record_decline(ws, "L1", "P5", reason="x", now=NOW, by="p5")
    history = service.lead_history(ws, "L1")
    assert [(a.attempt, a.partner_id, a.status.value) for a in history] == [
        (1, "P1", "declined"),
        (2, "P2", "declined"),
        (3, "P3", "assigned"),
    ]
    assert [a.lead_id for a in service.assignments(ws, partner_id="P2")] == ["L1"]


def test_a_touch_is_checked_and_an_outcome_frees_capacity(ws):
    rows = lead_rows(*[(f"L{i}", 50_000, "FR", None) for i in range(4)])
    batch = service.route_leads(ws, rows, now=NOW, by="ops")
    # capacity 3: P4 takes three, the fourth has nobody in France left
    assert [a.assignee for a in batch.assignments] == ["P4", "P4", "P4", "queue self-service"]
    with pytest.raises(RoutingError, match="must lie between the assignment"):
        service.record_touch(ws, "L0", "P4", now=NOW, by="p4", at=NOW - timedelta(minutes=1))
    service.record_touch(ws, "L0", "P4", now=NOW + timedelta(hours=1), by="p4")
    with pytest.raises(RoutingError, match="only the first touch is recorded"):
        service.record_touch(ws, "L0", "P4", now=NOW + timedelta(hours=1), by="p4")
    converted = service.record_outcome(
        ws, "L0", "P4", converted=True, now=NOW + timedelta(days=1), by="p4"
    )
    assert converted.status is Status.CONVERTED
    later = service.route_leads(ws, lead_rows(("L9", 50_000, "FR", None)), now=NOW, by="ops")
    assert (
        later.assignments[0].partner_id == "P4" and "2/3 open leads" in later.assignments[0].reason
    )


@pytest.mark.slow
def test_a_breached_first_assignment_lowers_that_partners_lead_sla_rate(ws):
    from partnerscope.evaluation.view import RunData

    rows = lead_rows(("L1", 50_000, "FR", None), ("L2", 50_000, "FR", None))
    service.route_leads(ws, rows, now=NOW, by="ops")
    service.record_touch(ws, "L2", "P4", now=NOW + timedelta(hours=1), by="p4")
    (pair,) = service.check_sla(ws, now=NOW + timedelta(hours=3), by="ops")
    assert pair[1].queue == "self-service"  # nobody else covers France
    canonical = service.canonical_rows(ws)
    assert [(r["lead_id"], r["partner_id"], r["first_touch_at"]) for r in canonical] == [
        ("L1", "P4", None),
        ("L2", "P4", NOW + timedelta(hours=1)),
    ]
    write_file(
        ws.root / "data/routed.csv",
        csv_text([CANONICAL, *([r[c] for c in CANONICAL] for r in canonical)]),
    )
    ws.ingest(["routed"])
    ws.run(as_of=datetime(2025, 7, 1))
    (row,) = [r for r in RunData(ws).results().rows("P4") if r["leads_assigned"]]
    # one of two leads touched within the SLA: the breach counts against P4
    assert row["leads_sla_due"] == 2 and row["lead_sla_rate"] == pytest.approx(0.5)


def test_routing_settings_are_checked_with_located_errors():
    config = Config.model_validate(
        {"routing": {"top": {"tiers": ["Elit"]}, "weights": {"ruleset": "revnue"}}}
    )
    assert check_evaluation(config) == [
        "routing.top.tiers: no tier 'Elit' in the performance tiers; did you mean 'Elite'?",
        "routing.weights.ruleset: no tier ruleset 'revnue'; choose revenue or performance",
    ]
    with pytest.raises(ValueError, match="round_robin_min"):
        RoutingSettings.model_validate({"bands": {"top_min": 10, "round_robin_min": 20}})


def test_the_leads_commands(ws, tmp_path):
    path = write_file(
        tmp_path / "in.csv", "lead_id,estimated_value,country\nL1,50000,DE\nL2,x,DE\n"
    )
    runner, w = CliRunner(), ["-w", str(ws.root)]
    out = tmp_path / "out.csv"
    routed = runner.invoke(
        cli, [*w, "leads", "route", str(path), "--out", str(out), "--now", "2025-05-05T09:00"]
    )
    assert routed.exit_code == 0, routed.output
    assert "1 leads routed" in routed.output and "row 3" in routed.output
    with out.open(encoding="utf-8") as fh:
        (line,) = list(csv.DictReader(fh))
    assert line["assignee"] == "P1" and line["eligible"] == "P1 P2 P3"
    shown = runner.invoke(cli, [*w, "leads", "show", "L1"])
    assert "eligible (3): P1, P2, P3" in shown.output and "2 outside the territory" in shown.output
    sla = runner.invoke(cli, [*w, "leads", "sla", "--now", "2025-05-05T12:00", "--by", "ops"])
    assert sla.exit_code == 0 and "1 SLA breach(es)" in sla.output
    declined = runner.invoke(
        cli,
        [*w, "leads", "decline", "L1", "-p", "P2", "--reason", "busy", "--now", "2025-05-05T12:30"],
    )
    assert declined.exit_code == 0 and "now with P3" in declined.output
    bad = runner.invoke(cli, [*w, "leads", "touch", "L1", "-p", "P1", "--now", "yesterday"])
    assert bad.exit_code == 1 and "is not a time" in bad.output and "Traceback" not in bad.output
    listed = runner.invoke(cli, [*w, "leads", "list", "--partner", "P3"])
    assert listed.exit_code == 0 and "L1" in listed.output


def test_the_0006_migration_splits_old_re_route_reasons_into_data(tmp_path):
    """Rows written before 0006 said who declined in words; the migration keeps the words of
    the routing alone and moves the partner into rerouted_from / rerouted_after. The old words
    mix a partner's tier and rank in, so no partner_reason is made of them."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine, text

    from partnerscope.appdb import MIGRATIONS

    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")

    def migrate(revision: str) -> None:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    migrate("0005")
    old = (
        "re-routed after P1 declined: P2: certified for Cloud (CERT-A), covers DE, "
        "1/25 open leads, SLA rate 95 %; next in the round robin among 3 eligible partners",
        "P1: covers DE, 0/25 open leads, SLA rate not measured; best score (71.0) among "
        "2 eligible partners",
        "self-service: no eligible partner",
    )
    with engine.begin() as connection:
        for attempt, reason in enumerate(old, start=1):
            connection.execute(
                text(
                    "INSERT INTO lead_assignments (lead_id, attempt, status, band, rule, "
                    "reason, eligible, assigned_at, updated_at, routed_by) VALUES "
                    "('L1', :attempt, 'assigned', 'middle', 'r', :reason, '{}', "
                    "'2025-05-05 09:00:00', '2025-05-05 09:00:00', 'ops')"
                ),
                {"attempt": attempt, "reason": reason},
            )
    migrate("head")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT reason, partner_reason, rerouted_from, rerouted_after "
                "FROM lead_assignments ORDER BY attempt"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (
            "P2: certified for Cloud (CERT-A), covers DE, 1/25 open leads, SLA rate 95 %; "
            "next in the round robin among 3 eligible partners",
            None,
            "P1",
            "declined",
        ),
        (old[1], None, None, None),
        ("self-service: no eligible partner", None, None, None),
    ]
