"""Opportunities (a Salesforce-style export) and the leads partners are sent (Parquet)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from partnerscope.demo.columns import dates, ids, iso_utc, join, labels, money, timestamps
from partnerscope.demo.patterns import SLA_BREACH_FROM, Plan
from partnerscope.demo.world import (
    AS_OF,
    COUNTRIES,
    CURRENCIES,
    DAY,
    N_QUARTERS,
    QUARTER_SEC,
    USD,
    WARMUP,
    WINDOW_START_SEC,
    Accounts,
    BoolArray,
    FloatArray,
    FxRates,
    IntArray,
    Partners,
    Sizes,
    close_season,
    rng_for,
    season,
)

PRODUCTS = (
    "Core Platform",
    "Analytics Suite",
    "Security Pack",
    "Cloud Backup",
    "Managed Network",
    "Professional Services",
    "Support Renewal",
)
PRODUCT_WEIGHTS = (0.28, 0.16, 0.14, 0.12, 0.10, 0.10, 0.10)
OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
#: Share of deals a partner sources (rather than influences), by partner type.
SOURCED_SHARE = np.array([0.60, 0.40, 0.30, 0.70, 0.55])
#: Partner discount off list, by partner type: distributors buy deepest.
DISCOUNT = np.array([0.18, 0.12, 0.32, 0.25, 0.15])
#: Median sales cycle in days by revenue band (strategic, mid, small) and for direct deals.
CYCLE_DAYS = np.array([75.0, 60.0, 45.0, 45.0, 70.0])
DEAL_SIGMA = 0.5
DIRECT_DEAL_SIZE = 150_000.0
DIRECT_WIN_RATE = 0.25
#: Log-odds added to a deal's win probability by its product family (see PRODUCTS).
WIN_BY_PRODUCT = np.array([0.3, 0.0, -0.2, 0.2, -0.4, -0.6, 1.0])
LEAD_SOURCES = ("Web", "Event", "Campaign", "Partner Portal", "Referral", "Webinar")
#: An MDF activity supports the deals its partner creates within this many days of the request.
MDF_REACH_DAYS = 120


@dataclass(frozen=True)
class MdfIndex:
    """Fundable MDF activities sorted by (partner, request day), for linking deals to them."""

    partner: IntArray
    day: IntArray
    ids: pa.Array


@dataclass(frozen=True)
class OpportunityIndex:
    """Partner opportunities sorted by (partner, created), for linking converted leads."""

    partner: IntArray
    created: IntArray
    ids: pa.Array


def _lognormal_mean_one(rng: np.random.Generator, sigma: float, n: int) -> FloatArray:
    out: FloatArray = rng.lognormal(-0.5 * sigma**2, sigma, n)
    return out


def _draw_in_quarter(rng: np.random.Generator, quarter: IntArray, not_before: IntArray) -> IntArray:
    """Uniform seconds within each row's quarter, never before ``not_before``."""
    lo = np.maximum(QUARTER_SEC[quarter], not_before)
    hi = QUARTER_SEC[quarter + 1]
    out: IntArray = lo + np.floor(rng.random(len(quarter)) * (hi - lo)).astype(np.int64)
    return out


def _poisson_rows(rng: np.random.Generator, rate: FloatArray) -> tuple[IntArray, IntArray]:
    """Draw counts per (partner, quarter) cell; return each row's partner and quarter."""
    cells = np.repeat(np.arange(rate.size), rng.poisson(rate).ravel())
    return cells // rate.shape[1], cells % rate.shape[1]


def _accounts_for(
    rng: np.random.Generator, partners: Partners, accounts: Accounts, partner: IntArray
) -> IntArray:
    """Each partner sells into its own slice of the reachable accounts of its region."""
    reach = np.flatnonzero(accounts.reachable)
    region_of = accounts.region[reach]
    order = np.argsort(region_of, kind="stable")
    pool, region_sorted = reach[order], region_of[order]
    starts = np.searchsorted(region_sorted, np.arange(4))
    lengths = np.maximum(np.bincount(region_sorted, minlength=4), 1)
    region = partners.region
    length_p = lengths[region]
    offset = rng.integers(0, length_p)
    width = np.clip(np.round(15 + 60 * (partners.annual_revenue / 1e6) ** 0.6), 10, length_p)
    slot = offset[partner] + np.floor(rng.random(len(partner)) * width[partner]).astype(np.int64)
    out: IntArray = pool[starts[region[partner]] + slot % length_p[partner]]
    return out


def make_opportunities(
    partners: Partners,
    accounts: Accounts,
    plan: Plan,
    mdf: MdfIndex,
    fx: FxRates,
    sizes: Sizes,
    seed: int,
) -> tuple[pa.Table, OpportunityIndex]:
    rng = rng_for(seed, "opportunities")
    per_quarter = np.where(
        partners.active, partners.annual_revenue / (4 * partners.win_rate * partners.deal_size), 0.0
    )
    partner, quarter = _poisson_rows(rng, per_quarter[:, None] * plan.create_factor)
    k = np.arange(-WARMUP, N_QUARTERS)
    direct_rate = sizes.direct_opportunities / N_QUARTERS * season(k)
    _, direct_quarter = _poisson_rows(rng, direct_rate[None, :])
    quarter = np.concatenate([quarter, direct_quarter])
    partner = np.concatenate([partner, np.full(len(direct_quarter), -1)])
    direct = partner < 0
    p = np.where(direct, 0, partner)  # safe index; direct rows are masked wherever it matters
    n = len(partner)

    created = _draw_in_quarter(rng, quarter, np.where(direct, 0, partners.joined_day[p] * DAY))
    mean_size = np.where(
        direct, DIRECT_DEAL_SIZE, partners.deal_size[p] * plan.size_factor[p, quarter]
    )
    amount_usd = mean_size * _lognormal_mean_one(rng, DEAL_SIGMA, n)
    # bigger deals take longer to close
    cycle = (
        np.where(direct, CYCLE_DAYS[4], CYCLE_DAYS[partners.band[p]])
        * (amount_usd / mean_size) ** 0.15
        * rng.lognormal(0.0, 0.5, n)
    )
    close = created + (np.clip(cycle, 7, 300) * DAY).astype(np.int64)
    closed = close < AS_OF
    close_q = np.clip(
        np.searchsorted(QUARTER_SEC, close, side="right") - 1, 0, plan.win_factor.shape[1] - 1
    )
    # the deal's traits, drawn before its outcome, which depends on them
    account = np.where(
        direct, rng.integers(0, len(accounts.ids), n), _accounts_for(rng, partners, accounts, p)
    )
    product = rng.choice(len(PRODUCTS), n, p=PRODUCT_WEIGHTS)
    attribution = np.where(rng.random(n) < SOURCED_SHARE[partners.type_code[p]], 0, 1)
    mdf_pos = _link_mdf(rng, mdf, partner, created // DAY)
    trait_p = _win_probability(
        partners.win_rate[p],
        plan.win_factor[p, close_q] * close_season(close_q - WARMUP),
        p,
        amount_usd / mean_size,
        product,
        attribution,
        mdf_pos >= 0,
        _account_affinity(len(accounts.ids), seed)[account],
        ~direct,
    )
    win_p = np.where(direct, DIRECT_WIN_RATE, trait_p)
    won = closed & (rng.random(n) < win_p)

    # the collapse: whatever was due in the last quarter is lost, open deals included
    last_q = QUARTER_SEC[-2]
    collapsed = ~direct & plan.mask("collapse")[p] & (close >= last_q)
    lo = np.maximum(created + 7 * DAY, last_q)
    move = collapsed & ~closed & (lo < AS_OF - DAY)
    close = np.where(
        move, lo + np.floor(rng.random(n) * (AS_OF - DAY - lo)).astype(np.int64), close
    )
    closed |= move
    won &= ~collapsed

    # the export holds what is open or closed inside the window
    keep = ~closed | (close >= WINDOW_START_SEC)
    order = np.flatnonzero(keep)[np.argsort(created[keep], kind="stable")]
    partner, p, created, close = partner[order], p[order], created[order], close[order]
    direct, closed, won, amount_usd = direct[order], closed[order], won[order], amount_usd[order]
    account, product, attribution = account[order], product[order], attribution[order]
    mdf_pos = mdf_pos[order]
    n = len(order)
    currency = np.where(
        direct,
        np.array([c[2] for c in COUNTRIES])[accounts.country[account]],
        np.where(rng.random(n) < 0.9, partners.currency[p], USD),
    )
    amount = np.round(amount_usd / fx.usd_per_unit(currency, created // DAY))

    progress = np.clip((AS_OF - created) / np.maximum(close - created, 1), 0, 0.999)
    stage_code = np.where(won, 6, np.where(closed, 7, (progress * 6).astype(np.int64)))
    # early-stage deals often have no amount yet
    no_amount = (stage_code == 0) & (rng.random(n) < 0.3)
    no_attribution = direct | (rng.random(n) < 0.02)
    discount = amount * DISCOUNT[partners.type_code[p]] * rng.uniform(0.8, 1.2, n)
    modified = np.where(
        closed,
        np.minimum(close + rng.integers(0, 3 * DAY, n), AS_OF - 1),
        created + np.floor(rng.random(n) * (AS_OF - created)).astype(np.int64),
    )

    width = max(7, len(str(n)))
    opp_ids = ids("O", np.arange(1, n + 1), width)
    account_names = pa.array(accounts.names).take(pa.array(account))
    table = pa.table(
        {
            "Id": opp_ids,
            "Name": join(account_names, " - ", labels(PRODUCTS, product)),
            "AccountId": pa.array(accounts.ids).take(pa.array(account)),
            "StageName": labels((*OPEN_STAGES, "Closed Won", "Closed Lost"), stage_code),
            "Amount": money(amount, no_amount),
            "CurrencyIsoCode": labels(CURRENCIES, currency),
            "CreatedDate": iso_utc(created),
            # for open deals Salesforce's CloseDate is the expected close date
            "CloseDate": dates(close // DAY),
            "IsClosed": labels(("false", "true"), closed.astype(np.int64)),
            "IsWon": labels(("false", "true"), won.astype(np.int64)),
            "PartnerAccountId": labels(partners.ids, p, direct),
            "Partner_Attribution__c": labels(
                ("Sourced", "Influenced"), attribution, no_attribution
            ),
            "MDF_Activity__c": mdf.ids.take(pa.array(mdf_pos, mask=mdf_pos < 0)),
            "Product_Family__c": labels(PRODUCTS, product),
            "Partner_Discount__c": money(discount, direct | no_amount),
            "LastModifiedDate": iso_utc(modified),
        }
    )
    linked = np.flatnonzero(~direct)
    by_partner = linked[np.lexsort((created[linked], partner[linked]))]
    index = OpportunityIndex(
        partner=partner[by_partner],
        created=created[by_partner],
        ids=opp_ids.take(pa.array(by_partner)),
    )
    return table, index


def _account_affinity(n_accounts: int, seed: int) -> FloatArray:
    """Each account's leaning to buy (log-odds): accounts that bought before buy again."""
    out: FloatArray = rng_for(seed, "account affinity").normal(0.0, 0.8, n_accounts)
    return out


def _win_probability(
    base: FloatArray,
    timing: FloatArray,
    partner: IntArray,
    relative_size: FloatArray,
    product: IntArray,
    attribution: IntArray,
    mdf: BoolArray,
    affinity: FloatArray,
    counted: BoolArray,
) -> FloatArray:
    """Each partner deal's win probability from its traits, around the partner's own rate.

    Bigger deals than the partner's usual win less often, renewals and the core platform more
    often than services, sourced and MDF-backed deals more than influenced ones, and accounts
    that lean to buy more; each partner's deals are then rescaled so that their mean is the
    partner's rate (``base``) again (over the ``counted`` rows: the partner's own deals), and
    multiplied by ``timing``, the partner's factor in the quarter the deal closes (its slide or
    slump, and the year-end push).
    """
    logit = (
        np.log(base / (1.0 - base))
        - 0.6 * (np.log(relative_size) + 0.5 * DEAL_SIGMA**2)
        + WIN_BY_PRODUCT[product]
        + np.where(attribution == 0, 0.3, -0.3)
        + np.where(mdf, 0.5, 0.0)
        + affinity
    )
    raw = 1.0 / (1.0 + np.exp(-logit))
    weight = np.where(counted, 1.0, 0.0)
    shift = np.bincount(partner, weights=base * weight) / np.maximum(
        np.bincount(partner, weights=raw * weight), 1e-9
    )
    out: FloatArray = np.clip(raw * shift[partner] * timing, 0.01, 0.95)
    return out


def _link_mdf(
    rng: np.random.Generator, mdf: MdfIndex, partner: IntArray, day: IntArray
) -> IntArray:
    """Position in ``mdf`` of the activity supporting each deal, or -1 (about one deal in ten)."""
    span = 1 << 20  # more days than any date here
    keys = mdf.partner * span + mdf.day
    pos = np.searchsorted(keys, partner * span + day, side="right") - 1
    safe = np.maximum(pos, 0)
    found = (
        (pos >= 0)
        & (partner >= 0)
        & (mdf.partner[safe] == partner)
        & (day - mdf.day[safe] <= MDF_REACH_DAYS)
        & (rng.random(len(partner)) < 0.12)
    )
    out: IntArray = np.where(found, pos, -1)
    return out


def make_leads(
    partners: Partners,
    plan: Plan,
    opportunities: OpportunityIndex,
    fx: FxRates,
    sizes: Sizes,
    seed: int,
) -> pa.Table:
    rng = rng_for(seed, "leads")
    # distributors rarely work end-customer leads; MSPs get more
    type_factor = np.array([1.0, 1.0, 0.3, 0.8, 1.2])[partners.type_code]
    weight = np.where(partners.active, partners.annual_revenue**0.75 * type_factor, 0.0)
    rate = weight[:, None] * plan.create_factor[:, WARMUP:]
    p, window_q = _poisson_rows(rng, rate * sizes.leads / rate.sum())
    n = len(p)
    assigned = _draw_in_quarter(rng, window_q + WARMUP, partners.joined_day[p] * DAY)
    order = np.argsort(assigned, kind="stable")
    p, window_q, assigned = p[order], window_q[order], assigned[order]

    n_partners = len(partners)
    p_fast = (0.80 + 0.17 * rng.beta(4.0, 2.0, n_partners))[p]
    p_never = rng.uniform(0.01, 0.04, n_partners)[p]
    breach = plan.mask("sla_breakers")[p] & (window_q >= SLA_BREACH_FROM)
    # a partner in trouble works its leads a little less well, and converts far fewer of them
    trouble = plan.trouble[p, window_q + WARMUP]
    p_fast = np.where(breach, 0.2, p_fast * (1.0 - 0.06 * trouble))
    p_never = np.where(breach, 0.3, p_never)
    u = rng.random(n)
    fast, never = u < p_fast, u >= 1.0 - p_never
    minutes = rng.exponential(25.0, n)
    minutes = np.where(minutes < 119.0, minutes, rng.uniform(1.0, 119.0, n))
    slow_hours = np.minimum(2.0 + rng.lognormal(np.log(8.0), 1.0, n), 480.0)
    delay = np.where(fast, minutes * 60, slow_hours * 3600).astype(np.int64)
    touch = assigned + delay
    untouched = never | (touch >= AS_OF)  # still waiting when the export was taken

    # leads answered late convert about half as often
    conversion = (
        rng.uniform(0.06, 0.15, n_partners)[p] * np.where(fast, 1.1, 0.5) * (1.0 - 0.6 * trouble)
    )
    converted = ~untouched & (rng.random(n) < conversion)
    opp_pos = _link_leads(opportunities, p, touch, converted)
    currency = partners.currency[p]
    value = (
        partners.deal_size[p]
        * _lognormal_mean_one(rng, 0.9, n)
        / fx.usd_per_unit(currency, assigned // DAY)
    )
    width = max(8, len(str(n)))
    return pa.table(
        {
            "lead_id": ids("L", np.arange(1, n + 1), width),
            "partner_id": labels(partners.ids, p),
            "assigned_ts": timestamps(assigned),
            "first_touch_ts": timestamps(touch, untouched),
            "is_converted": pa.array(converted),
            "converted_opportunity_id": opportunities.ids.take(pa.array(opp_pos, mask=opp_pos < 0)),
            "est_value": money(np.round(value, -2), rng.random(n) < 0.3),
            "currency_code": labels(CURRENCIES, currency),
            "country": labels([c[0] for c in COUNTRIES], partners.country[p]),
            "product_interest": labels(PRODUCTS, rng.choice(len(PRODUCTS), n, p=PRODUCT_WEIGHTS)),
            "lead_source": labels(LEAD_SOURCES, rng.integers(0, len(LEAD_SOURCES), n)),
        }
    )


def _link_leads(
    opportunities: OpportunityIndex, partner: IntArray, touch: IntArray, converted: BoolArray
) -> IntArray:
    """The partner's first opportunity created within 45 days of the first touch, or -1."""
    span = 1 << 33  # more seconds than any timestamp here
    keys = opportunities.partner * span + opportunities.created
    pos = np.searchsorted(keys, partner * span + touch, side="left")
    safe = np.minimum(pos, max(len(keys) - 1, 0))
    found = (
        converted
        & (pos < len(keys))
        & (opportunities.partner[safe] == partner)
        & (opportunities.created[safe] - touch <= 45 * DAY)
    )
    out: IntArray = np.where(found, pos, -1)
    return out
