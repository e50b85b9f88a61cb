"""Partner-program data: MDF, certifications, compliance checks, surveys, quotas and costs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.demo.columns import dates, ids, join, labels, money
from partnerscope.demo.deals import MdfIndex
from partnerscope.demo.patterns import VIOLATION_FROM, Plan
from partnerscope.demo.world import (
    AS_OF,
    CURRENCIES,
    DAY,
    N_QUARTERS,
    PROGRAM_TIERS,
    QUARTER_SEC,
    WARMUP,
    FxRates,
    IntArray,
    Partners,
    Sizes,
    day_number,
    rng_for,
    season,
)

US_DATE = "%m/%d/%Y"
AS_OF_DAY = AS_OF // DAY
MDF_TYPES = (
    "Event",
    "Digital Campaign",
    "Content Syndication",
    "Training",
    "Telemarketing",
    "Trade Show Booth",
)
MDF_TYPE_WEIGHTS = (0.25, 0.30, 0.12, 0.12, 0.11, 0.10)
MDF_STATUSES = ("Requested", "Approved", "Claimed", "Paid", "Rejected", "Cancelled")
#: The levels of the default enablement paths ([enablement], docs/lifecycle.md): sales
#: Foundation → Advanced → Master, technical Implementation Specialist → Solutions Architect →
#: Master Technical Specialist. The order is the generator's (the data depends on it).
CERTIFICATIONS = (
    "Sales Foundation",
    "Sales Advanced",
    "Implementation Specialist",
    "Solutions Architect",
    "Master Technical Specialist",
    "Sales Master",
)
#: Certifications each program tier requires (indexes into CERTIFICATIONS): Registered the
#: sales foundation, Silver also the first technical level, Gold the first two of each path,
#: Platinum every level.
REQUIREMENTS = {
    "Platinum": (0, 1, 2, 3, 4, 5),
    "Gold": (0, 1, 2, 3),
    "Silver": (0, 2),
    "Registered": (0,),
}
#: (check type, weight, finding when failed)
CHECK_TYPES = (
    ("Anti-bribery attestation", 5, "Annual attestation missing or unsigned"),
    ("Export control screening", 5, "Shipment to a restricted party not screened"),
    ("Data protection audit", 4, "Customer data processed without a signed DPA"),
    ("Deal registration accuracy", 2, "Registered deal details did not match the order"),
    ("Brand and marketing usage", 1, "Outdated logo or unapproved claims in campaign"),
    ("Training records", 1, "Training evidence incomplete"),
)
#: Compliance checks start a year before the window: the score looks back 12 months.
CHECKS_FROM = day_number(date(2022, 10, 1))
SURVEY_COMMENTS = (
    "",
    "Great support from the partner team.",
    "Sehr zufrieden mit der Beratung.",
    "Très bon accompagnement, merci !",
    "Delivery was late and nobody called back.",
    "Rápida implementación, buen servicio.",
    "Preise zu hoch, Service gut.",
    "Knowledgeable engineers, smooth rollout.",
    "Support tickets took too long.",
)


def make_mdf(
    partners: Partners, plan: Plan, sizes: Sizes, fx: FxRates, seed: int
) -> tuple[pa.Table, MdfIndex]:
    rng = rng_for(seed, "mdf")
    # registered partners have no MDF budget; spend follows each partner's deal activity
    eligible = partners.active & (partners.program_tier < PROGRAM_TIERS.index("Registered"))
    rate = (
        np.where(eligible, partners.annual_revenue**0.6, 0.0)[:, None]
        * plan.create_factor[:, WARMUP:]
    )
    rate *= sizes.mdf_activities / rate.sum()
    cells = np.repeat(np.arange(rate.size), rng.poisson(rate).ravel())
    p, quarter = cells // N_QUARTERS, cells % N_QUARTERS + WARMUP
    lo = np.maximum(QUARTER_SEC[quarter] // DAY, partners.joined_day[p])
    hi = np.minimum(QUARTER_SEC[quarter + 1] // DAY, AS_OF_DAY - 1)
    requested = lo + np.floor(rng.random(len(p)) * (hi - lo)).astype(np.int64)
    order = np.lexsort((p, requested))
    p, requested = p[order], requested[order]
    n = len(p)

    # each activity goes as far through the workflow as time allows
    approved_at = requested + rng.integers(3, 20, n)
    claimed_at = approved_at + rng.integers(15, 60, n)
    paid_at = claimed_at + rng.integers(15, 60, n)
    step = (
        (approved_at < AS_OF_DAY).astype(np.int64)
        + (claimed_at < AS_OF_DAY)
        + (paid_at < AS_OF_DAY)
    )
    u = rng.random(n)
    status = np.where(u < 0.07, 4, np.where(u < 0.11, 5, step))
    fundable = (status >= 1) & (status <= 3)
    currency = partners.currency[p]
    usd = 4_000 * (partners.annual_revenue[p] / 1e6) ** 0.35 * rng.lognormal(0.0, 0.5, n)
    requested_amount = np.round(usd / fx.usd_per_unit(currency, requested), -2)
    approved = requested_amount * rng.choice([1.0, 1.0, 1.0, 0.9, 0.75, 0.5], n)
    paid = approved * rng.uniform(0.85, 1.0, n)
    activity_type = rng.choice(len(MDF_TYPES), n, p=MDF_TYPE_WEIGHTS)
    activity_ids = ids("M", np.arange(1, n + 1), max(6, len(str(n))))
    table = pa.table(
        {
            "Activity ID": activity_ids,
            "Partner ID": labels(partners.ids, p),
            "Activity Type": labels(MDF_TYPES, activity_type),
            "Activity Name": join(
                labels(MDF_TYPES, activity_type), " ", dates(requested, fmt="%b %Y")
            ),
            "Status": labels(MDF_STATUSES, status),
            "Requested Amount": money(requested_amount),
            "Approved Amount": money(approved, ~fundable),
            "Paid Amount": money(paid, status != 3),
            "Currency": labels(CURRENCIES, currency),
            "Request Date": dates(requested, fmt=US_DATE),
            "Paid Date": dates(paid_at, status != 3, fmt=US_DATE),
        }
    )
    linkable = np.flatnonzero(fundable)
    by_partner = linkable[np.lexsort((requested[linkable], p[linkable]))]
    index = MdfIndex(
        partner=p[by_partner],
        day=requested[by_partner],
        ids=activity_ids.take(pa.array(by_partner)),
    )
    return table, index


def make_certifications(partners: Partners, seed: int) -> pa.Table:
    rng = rng_for(seed, "certifications")
    people = np.where(
        partners.active,
        2
        + np.round(
            3 * np.sqrt(partners.annual_revenue / 1e6) * rng.lognormal(0.0, 0.3, len(partners))
        ),
        1,
    )
    person_partner = np.repeat(np.arange(len(partners)), people.astype(np.int64))
    n_people = len(person_partner)
    required = np.zeros((len(PROGRAM_TIERS), len(CERTIFICATIONS)), dtype=bool)
    for tier, certs in REQUIREMENTS.items():
        required[PROGRAM_TIERS.index(tier), list(certs)] = True
    tier_required = required[partners.program_tier[person_partner]]
    holds = rng.random(tier_required.shape) < np.where(tier_required, 0.55, 0.12)
    person, cert = np.nonzero(holds)
    first = np.maximum(partners.joined_day[person_partner[person]], day_number(date(2021, 1, 1)))
    issued = first + np.floor(rng.random(len(person)) * (AS_OF_DAY - first)).astype(np.int64)
    # foundations never lapse; everything else is valid for two years and often renewed
    lapses = cert != 0
    rounds_person, rounds_cert, rounds_issued = [person], [cert], [issued]
    while True:
        expires = issued + 730
        renew = lapses & (expires < AS_OF_DAY) & (rng.random(len(issued)) < 0.65)
        if not renew.any():
            break
        person, cert = person[renew], cert[renew]
        issued = expires[renew] - rng.integers(0, 45, int(renew.sum()))
        lapses = lapses[renew]
        rounds_person.append(person)
        rounds_cert.append(cert)
        rounds_issued.append(issued)
    person = np.concatenate(rounds_person)
    cert = np.concatenate(rounds_cert)
    issued = np.concatenate(rounds_issued)
    order = np.lexsort((cert, person, issued))
    person, cert, issued = person[order], cert[order], issued[order]
    n = len(person)
    return pa.table(
        {
            "record_id": ids("C", np.arange(1, n + 1), max(7, len(str(n)))),
            "partner_id": labels(partners.ids, person_partner[person]),
            "person_id": ids("U", person + 1, max(6, len(str(n_people)))),
            "certification": labels(CERTIFICATIONS, cert),
            "issued_on": dates(issued),
            "expires_on": dates(issued + 730, cert == 0),
        }
    )


def make_requirements() -> pa.Table:
    rows = [(tier, CERTIFICATIONS[c]) for tier, certs in REQUIREMENTS.items() for c in certs]
    return pa.table({"tier": [r[0] for r in rows], "certification": [r[1] for r in rows]})


def make_compliance(partners: Partners, plan: Plan, seed: int) -> pa.Table:
    rng = rng_for(seed, "compliance")
    active = np.flatnonzero(partners.active)
    rounds = 9  # every ~6 months from a year before the window to its end
    p = np.repeat(active, len(CHECK_TYPES) * rounds)
    check = np.tile(np.repeat(np.arange(len(CHECK_TYPES)), rounds), len(active))
    round_no = np.tile(np.arange(rounds), len(active) * len(CHECK_TYPES))
    phase = rng.integers(0, 182, (len(partners), len(CHECK_TYPES)))[p, check]
    day = CHECKS_FROM + phase + 182 * round_no + rng.integers(-10, 11, len(p))
    keep = (day < AS_OF_DAY) & (day >= partners.joined_day[p])
    p, check, day = p[keep], check[keep], day[keep]
    n = len(p)
    weight = np.array([c[1] for c in CHECK_TYPES])[check]
    fail_rate = rng.uniform(0.01, 0.10, len(partners))[p] * np.where(weight <= 2, 1.5, 0.6)
    failed = rng.random(n) < fail_rate
    # violators fail every heavily weighted check of the last 12 months
    failed |= plan.mask("compliance_violators")[p] & (weight >= 4) & (day >= VIOLATION_FROM)
    order = np.lexsort((check, p, day))
    p, check, day, weight, failed = p[order], check[order], day[order], weight[order], failed[order]
    return pa.table(
        {
            "Check ID": ids("K", np.arange(1, n + 1), max(6, len(str(n)))),
            "Partner ID": labels(partners.ids, p),
            "Check Date": dates(day),
            "Check Type": labels([c[0] for c in CHECK_TYPES], check),
            "Weight": pa.array(weight),
            "Result": labels(("Pass", "Fail"), failed.astype(np.int64)),
            "Findings": labels([c[2] for c in CHECK_TYPES], check, ~failed),
        }
    )


def _berlin_offsets(first_day: int, last_day: int) -> IntArray:
    """UTC offset of Europe/Berlin at noon of each day, in seconds."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(1970, 1, 1, 12, tzinfo=UTC)
    out = np.empty(last_day - first_day + 1, dtype=np.int64)
    for i in range(len(out)):
        moment = (start + timedelta(days=first_day + i)).astimezone(berlin)
        offset = moment.utcoffset()
        out[i] = int(offset.total_seconds()) if offset is not None else 0
    return out


def make_surveys(partners: Partners, plan: Plan, sizes: Sizes, seed: int) -> pa.Table:
    rng = rng_for(seed, "surveys")
    rate = (
        np.where(partners.active, np.sqrt(partners.annual_revenue), 0.0)[:, None]
        * plan.create_factor[:, WARMUP:]
    )
    rate *= sizes.surveys / rate.sum()
    cells = np.repeat(np.arange(rate.size), rng.poisson(rate).ravel())
    p, quarter = cells // N_QUARTERS, cells % N_QUARTERS + WARMUP
    lo = np.maximum(QUARTER_SEC[quarter] // DAY, partners.joined_day[p])
    day = lo + np.floor(rng.random(len(p)) * (QUARTER_SEC[quarter + 1] // DAY - lo)).astype(
        np.int64
    )
    # responses arrive 06:00–18:00 UTC, far from the 01:00 UTC daylight-saving switch, so every
    # Berlin local time below exists and is unambiguous
    utc = day * DAY + rng.integers(6 * 3600, 18 * 3600, len(p))
    order = np.argsort(utc, kind="stable")
    p, utc, day, quarter = p[order], utc[order], day[order], quarter[order]
    n = len(p)
    local = utc + _berlin_offsets(int(day.min()), int(day.max()))[day - day.min()]
    nps = rng.random(n) < 0.4
    # customers of a partner in trouble are less happy
    trouble = plan.trouble[p, quarter]
    csat_mean = rng.uniform(3.7, 4.6, len(partners))[p] - 0.8 * trouble
    nps_mean = rng.uniform(6.5, 9.2, len(partners))[p] - 2.0 * trouble
    csat = np.clip(np.round(rng.normal(csat_mean, 0.75)), 1, 5)
    nps_score = np.clip(np.round(rng.normal(nps_mean, 1.7)), 0, 10)
    comment = np.where(rng.random(n) < 0.75, 0, rng.integers(1, len(SURVEY_COMMENTS), n))
    stamp = pa.array(local, pa.timestamp("s"))
    return pa.table(
        {
            "Response ID": ids("S", np.arange(1, n + 1), max(7, len(str(n)))),
            "Partner": labels(partners.ids, p),
            "Survey Type": labels(("CSAT", "NPS"), nps.astype(np.int64)),
            "Score": pa.array(np.where(nps, nps_score, csat).astype(np.int64)),
            "Responded At": pc.strftime(stamp, format="%d.%m.%Y %H:%M:%S"),
            "Comment": labels(SURVEY_COMMENTS, comment, comment == 0),
        }
    )


def make_quotas(partners: Partners, plan: Plan, fx: FxRates, seed: int) -> pa.Table:
    rng = rng_for(seed, "quotas")
    k = np.arange(N_QUARTERS)
    # the plan the quota was set from: the partner's usual season and drift, or a riser's ramp
    usual = season(k)[None, :] * (1.0 + partners.growth[:, None]) ** k[None, :]
    planned = np.where(plan.mask("risers")[:, None], plan.create_factor[:, WARMUP:], usual)
    starts = QUARTER_SEC[WARMUP:-1] // DAY
    # a quota from the first full quarter in the program
    has_quota = partners.active[:, None] & (partners.joined_day[:, None] <= starts[None, :])
    p, q = np.nonzero(has_quota)
    currency = partners.currency[p]
    # some partners are set more ambitious quotas than others, year after year
    ambition = rng.lognormal(0.0, 0.2, len(partners))
    usd = (
        partners.annual_revenue[p]
        / 4
        * planned[p, q]
        * ambition[p]
        * rng.uniform(0.9, 1.05, len(p))
    )
    quota = np.round(usd / fx.usd_per_unit(currency, starts[q]), -3)
    return pa.table(
        {
            "Partner ID": labels(partners.ids, p),
            "Quarter Start": dates(starts[q], fmt=US_DATE),
            "Quota": money(quota),
            "Currency": labels(CURRENCIES, currency),
        }
    )


def make_costs(partners: Partners, fx: FxRates, seed: int) -> pa.Table:
    rng = rng_for(seed, "costs")
    categories = (
        ("Partner support", 1.0, 3_000.0),
        ("Program management", 0.5, 2_000.0),
        ("Travel", 0.3, 1_500.0),
        ("Enablement", 0.3, 2_500.0),
        # rebates and SPIFFs paid to the partner: the incentive_payouts metric
        ("Incentive", 0.6, 4_000.0),
    )
    starts = QUARTER_SEC[WARMUP:] // DAY
    present = partners.active[:, None] & (partners.joined_day[:, None] < starts[None, 1:])
    rows = []
    for c, (_, chance, base) in enumerate(categories):
        p, q = np.nonzero(present & (rng.random(present.shape) < chance))
        lo = np.maximum(starts[q], partners.joined_day[p])
        day = lo + np.floor(rng.random(len(p)) * (starts[q + 1] - lo)).astype(np.int64)
        usd = base * np.sqrt(partners.annual_revenue[p] / 1e6) * rng.lognormal(0, 0.4, len(p))
        rows.append((p, day, np.full(len(p), c), usd))
    p = np.concatenate([r[0] for r in rows])
    day = np.concatenate([r[1] for r in rows])
    category = np.concatenate([r[2] for r in rows])
    usd = np.concatenate([r[3] for r in rows])
    order = np.lexsort((category, p, day))
    p, day, category, usd = p[order], day[order], category[order], usd[order]
    currency = partners.currency[p]
    n = len(p)
    return pa.table(
        {
            "Cost ID": ids("CO", np.arange(1, n + 1), max(6, len(str(n)))),
            "Partner ID": labels(partners.ids, p),
            "Date": dates(day),
            "Category": labels([c[0] for c in categories], category),
            "Amount": money(usd / fx.usd_per_unit(currency, day)),
            "Currency": labels(CURRENCIES, currency),
        }
    )
