"""Lead routing: leads routed per second, 1M leads over 20,000 partners, against a
straightforward pandas implementation of the same rules.

Generated in the run (seeded): 20,000 active partners over the ~90 countries of the centroid
table (weighted toward a few large markets), each with 0–3 of four certifications, a tier, a
score and a measured lead_sla_rate; 1,000,000 leads with a log-normal value (about a third in
each band), a country and one of five products, three of which require certifications.
Rules: the defaults (country territory, best top partner, round-robin middle band) with
``min_sla_rate = 0.6`` and ``capacity = 100``.

Contenders, in the same process:

1. ``Router`` (partnerscope.operations.routing.engine): the decisions with their
   explanations, for every lead;
2. the baseline: per lead, boolean masks over a pandas DataFrame of the partners (territory,
   certification, SLA minimum, top, capacity), then the same choice; its time is linear in the
   leads, so it runs on the first ``--subset`` leads and is scaled up, and both must give the
   same partner for each of them;
3. ``route_leads`` end to end on ``--persist`` leads: facts read from a DuckDB warehouse and the
   latest state, the decisions, and the rows written to the SQLite app database.

    .venv/bin/python bench/routing.py                       # 1M leads, 20,000 partners
    .venv/bin/python bench/routing.py --leads 100000 --subset 2000 --persist 20000
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info
from partnerscope.geo import COUNTRIES_FILE
from partnerscope.operations.routing.engine import Band, Lead, Router
from partnerscope.operations.routing.facts import PartnerFacts
from partnerscope.operations.routing.leadfile import LeadRow
from partnerscope.settings.routing import RoutingSettings

CERTS = ("CERT-A", "CERT-B", "CERT-C", "CERT-D")
PRODUCTS = {"Cloud": ("CERT-A",), "Security": ("CERT-B", "CERT-C"), "Data": ("CERT-D",)}
PRODUCT_NAMES = ("Cloud", "Security", "Data", "Services", "Hardware")
#: pandas has no type information here; it is only the baseline
pd: Any = importlib.import_module("pandas")
SETTINGS = RoutingSettings(products=PRODUCTS, min_sla_rate=0.6, capacity=100)
OUT = Path(__file__).resolve().parent / "out" / "routing"


def countries() -> tuple[list[str], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(codes, latitudes, longitudes) of the centroid table."""
    table = pd.read_csv(COUNTRIES_FILE, keep_default_na=False)
    return list(table["code"]), table["latitude"].to_numpy(), table["longitude"].to_numpy()


def partners(n: int, rng: np.random.Generator) -> PartnerFacts:
    codes, lat, lon = countries()
    weights = rng.pareto(1.2, len(codes)) + 0.05
    country = rng.choice(len(codes), n, p=weights / weights.sum())
    held = rng.random((n, len(CERTS))) < 0.4
    score = rng.uniform(0, 100, n)
    tiers = np.array(["Elite", "Performance", "Development", "Under review"])
    tier = tiers[rng.choice(4, n, p=[0.05, 0.25, 0.4, 0.3])]
    sla = np.where(rng.random(n) < 0.1, np.nan, rng.beta(6, 1.5, n))
    return PartnerFacts.build(
        [f"P{i:06d}" for i in range(n)],
        country=[codes[c] for c in country],
        region=[f"R{c % 6}" for c in country],
        latitude=(lat[country] + rng.uniform(-1, 1, n)).tolist(),
        longitude=(lon[country] + rng.uniform(-1, 1, n)).tolist(),
        certifications=[frozenset(c for c, h in zip(CERTS, row, strict=True) if h) for row in held],
        top_tier=tier.tolist(),
        weight_tier=tier.tolist(),
        score=score.tolist(),
        score_percentile=(score.argsort().argsort() / (n - 1)).tolist(),
        sla_rate=[None if s != s else float(s) for s in sla],
    )


def leads(n: int, facts: PartnerFacts, rng: np.random.Generator) -> list[Lead]:
    # leads come from where partners are, a few from countries without one
    where = [c for c in facts.country if c]
    country = np.array(where)[rng.integers(0, len(where), n)]
    value = np.round(rng.lognormal(np.log(50_000), 1.1, n), 2)
    product = np.array(PRODUCT_NAMES)[rng.integers(0, len(PRODUCT_NAMES), n)]
    return [
        Lead(f"L{i:08d}", float(v), str(c), str(p))
        for i, (v, c, p) in enumerate(zip(value, country, product, strict=True))
    ]


class PandasBaseline:
    """The same rules, written the obvious way: one pass of boolean masks over every partner
    for every lead."""

    def __init__(self, facts: PartnerFacts, settings: RoutingSettings) -> None:
        self.settings = settings
        top = settings.top
        self.frame = pd.DataFrame(
            {
                "partner_id": facts.ids,
                "country": facts.country,
                "certs": facts.certifications,
                "score": facts.score,
                "sla": facts.sla_rate,
                "top": [t in top.tiers for t in facts.top_tier]
                | (np.nan_to_num(facts.score_percentile, nan=-1) >= 1 - top.score_share),
                "open": 0,
            }
        )
        self.cursors: dict[str, str] = {}

    def route(self, lead: Lead) -> str | None:
        s, f = self.settings, self.frame
        value = lead.value or 0.0
        if value < s.bands.round_robin_min:
            return None
        needed = set(s.products.get(lead.product or "", ()))
        ok = (f["country"] == lead.country) & f["certs"].apply(lambda held: needed <= held)
        ok &= f["sla"].isna() | (f["sla"] >= (s.min_sla_rate or 0))
        ok &= f["open"] < s.capacity
        band = "top" if value >= s.bands.top_min else "middle"
        chosen = None
        if band == "top" and (ok & f["top"]).any():
            best = f[ok & f["top"]].sort_values(["score", "partner_id"], ascending=[False, True])
            chosen = best.index[0]
        elif ok.any():
            pool = f"{band}|{lead.country}|{lead.product or ''}"
            mine = f[ok]
            after = mine[mine["partner_id"] > self.cursors.get(pool, "")]
            chosen = (after if len(after) else mine).index[0]
            self.cursors[pool] = f.at[chosen, "partner_id"]
        if chosen is None:
            return None
        f.at[chosen, "open"] += 1
        return str(f.at[chosen, "partner_id"])


def persisted(facts: PartnerFacts, routed: list[Lead]) -> float:
    """Seconds of ``route_leads`` for ``routed`` on a fresh workspace holding ``facts``."""
    import pyarrow as pa

    from partnerscope.operations.routing.service import route_leads
    from partnerscope.workspace import Workspace

    shutil.rmtree(OUT, ignore_errors=True)
    ws = Workspace.create(OUT, config_text="[routing]\nmin_sla_rate = 0.6\ncapacity = 100\n")
    table = pa.table(
        {
            "partner_id": facts.ids,
            "name": facts.ids,
            "country": facts.country,
            "latitude": facts.latitude,
            "longitude": facts.longitude,
        }
    )
    certs = pa.table(
        {
            "record_id": [
                f"{p}-{c}"
                for p, cs in zip(facts.ids, facts.certifications, strict=True)
                for c in cs
            ],
            "partner_id": [
                p for p, cs in zip(facts.ids, facts.certifications, strict=True) for _ in cs
            ],
            "certification": [c for cs in facts.certifications for c in sorted(cs)],
        }
    )
    with ws.warehouse() as wh:
        wh.con.register("p", table)
        wh.con.register("c", certs)
        wh.con.execute(
            "INSERT INTO partners (partner_id, name, country, latitude, longitude, status) "
            "SELECT *, 'active' FROM p"
        )
        wh.con.execute(
            "INSERT INTO certifications (record_id, partner_id, person_id, certification, "
            "issued_at) SELECT record_id, partner_id, record_id, certification, DATE '2020-01-01' "
            "FROM c"
        )
    rows = [LeadRow(lead, currency="USD", source="bench") for lead in routed]
    started = time.perf_counter()
    route_leads(ws, rows, now=datetime(2026, 1, 5, 9), by="bench")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--partners", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=5_000, help="leads the baseline routes")
    parser.add_argument("--persist", type=int, default=100_000, help="leads routed end to end")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    console = Console()
    console.print("[bold]partnerscope lead routing benchmark[/bold]")
    for line in machine_info(extra_versions=f"numpy {np.__version__}, pandas {pd.__version__}"):
        console.print(f"  {line}")
    rng = np.random.default_rng(args.seed)
    facts = partners(args.partners, rng)
    batch = leads(args.leads, facts, rng)
    subset = min(args.subset, len(batch))

    started = time.perf_counter()
    router = Router(facts, SETTINGS)
    decisions = [router.route(lead) for lead in batch]
    engine_s = time.perf_counter() - started

    fresh = Router(facts, SETTINGS)
    ours = [fresh.route(lead).partner_id for lead in batch[:subset]]
    baseline = PandasBaseline(facts, SETTINGS)
    started = time.perf_counter()
    theirs = [baseline.route(lead) for lead in batch[:subset]]
    baseline_s = time.perf_counter() - started
    baseline_full_s = baseline_s * len(batch) / subset
    disagree = sum(a != b for a, b in zip(ours, theirs, strict=True))

    persist = min(args.persist, len(batch))
    persist_s = persisted(facts, batch[:persist]) if persist else 0.0

    table = Table(
        "contender",
        "leads",
        "seconds",
        "leads / s",
        "baseline ÷ this",
        title=f"Lead routing over {args.partners:,} partners, same run",
        title_justify="left",
    )
    rows = [
        ("Router (decisions + explanations)", len(batch), engine_s),
        ("pandas masks per lead, scaled to all leads", len(batch), baseline_full_s),
    ]
    if persist:
        rows.append(("route_leads end to end (SQLite app db)", persist, persist_s))
    for name, n, seconds in rows:
        scaled = baseline_full_s * n / len(batch)
        table.add_row(
            name, f"{n:,}", f"{seconds:.2f}", f"{n / seconds:,.0f}", f"{scaled / seconds:.0f}×"
        )
    table.add_row(
        "pandas masks per lead, measured",
        f"{subset:,}",
        f"{baseline_s:.2f}",
        f"{subset / baseline_s:,.0f}",
        "",
    )
    console.print(table)
    bands = {b: sum(d.band is b for d in decisions) for b in Band}
    queued = sum(d.partner_id is None and d.band is not Band.SELF_SERVICE for d in decisions)
    console.print(
        f"bands: top {bands[Band.TOP]:,}, middle {bands[Band.MIDDLE]:,}, self-service "
        f"{bands[Band.SELF_SERVICE]:,}; {queued:,} banded leads found no eligible partner; "
        f"{len(router._groups):,} (location, product) groups"
    )
    console.print(
        f"the baseline and the Router agree on {subset - disagree:,} of {subset:,} leads"
        + ("" if not disagree else " [red](they must agree on all)[/red]")
    )
    return 0 if not disagree else 1


if __name__ == "__main__":
    raise SystemExit(main())
