"""Lead routing: leads routed per second, 1M leads over 20,000 partners, against the same rules
written in pandas with the same grouping.

Generated in the run (seeded): 20,000 active partners over the ~90 countries of the centroid
table (weighted toward a few large markets), each with 0–3 of four certifications, a tier, a
score and a measured lead_sla_rate; 1,000,000 leads with a log-normal value (about a third in
each band), a country and one of five products, three of which require certifications.
Rules: the defaults (country territory, best top partner, round-robin middle band) with
``min_sla_rate = 0.6`` and ``capacity = 100``.

Contenders, in the same process:

1. ``Router`` (partnerscope.operations.routing.engine): the decisions with their
   explanations, eligible lists and exclusion counts, for every lead;
2. the baseline (:class:`GroupedBaseline`): the static rules (territory, certification, SLA
   minimum, top) evaluated once per (country, product) of the batch with boolean masks over a
   pandas DataFrame of the partners, as the Router groups them; then per lead the capacity
   and the same choice, over numpy arrays, for the first ``--subset`` leads (default all);
   the same with the per-lead loop on a pandas Series and Index, for the first
   ``--pandas-subset``, scaled up (its time per lead is constant);
3. ``route_leads`` end to end on ``--persist`` leads: facts read from a DuckDB warehouse and the
   latest state, the decisions, and the rows written to the SQLite app database (its facts
   carry no tiers, scores or SLA rates, so its decisions are not compared).

Each baseline must give every lead it routed the Router's partner (bench/parity.py: a full
outer join on the lead; exit 1 if not, ``--corrupt`` shows it).

    .venv/bin/python bench/routing.py                       # 1M leads, 20,000 partners
    .venv/bin/python bench/routing.py --leads 100000 --pandas-subset 2000 --persist 20000
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
import parity
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


class GroupedBaseline:
    """The same rules as a skilled pandas user would write them, with the Router's advantage:
    the static rules (territory, certification, SLA minimum, top) depend only on a lead's
    (country, product), so the leads' pairs are found first and the rules evaluated once per
    pair with boolean masks over the partner DataFrame (:meth:`prepare`), keeping each pair's
    candidates in partner id order and its top partners best score first. Per lead only the
    capacity is checked (the open counts of the pair's candidates), then the same choice: the
    first free top partner, else the next free candidate after the pool's round-robin cursor.

    ``loop="numpy"`` holds the per-lead state in numpy arrays (what one writes knowing that
    pandas indexing costs tens of microseconds a call); ``loop="pandas"`` runs the same code on
    a pandas Series and Index."""

    def __init__(self, facts: PartnerFacts, settings: RoutingSettings, loop: str) -> None:
        self.settings = settings
        self.loop = loop
        top = settings.top
        share = top.score_share
        self.frame = pd.DataFrame(
            {
                "partner_id": facts.ids,
                "country": facts.country,
                "certs": facts.certifications,
                "score": facts.score,
                "sla": facts.sla_rate,
                "top": pd.Series([t in top.tiers for t in facts.top_tier])
                | (
                    (pd.Series(facts.score_percentile).fillna(-1) >= 1 - share)
                    if share > 0
                    else False
                ),
            }
        ).sort_values("partner_id", ignore_index=True)
        # rows are in partner id order: "after the cursor's partner" is "a later row"
        self.ids = self.frame["partner_id"].to_numpy()
        n = len(self.frame)
        #: open leads per partner (row of the frame)
        self.open: Any = np.zeros(n, np.int64) if loop == "numpy" else pd.Series(np.zeros(n, int))
        #: (country, product) -> (candidate rows in id order, top partner rows best first)
        self.groups: dict[tuple[str | None, str | None], tuple[Any, Any]] = {}
        #: pool -> row of the partner chosen last
        self.cursors: dict[str, int] = {}

    def prepare(self, batch: list[Lead]) -> int:
        """The static rules once per (country, product) of the batch's leads that are routed to
        a partner (the self-service band is not); the number of pairs."""
        s, f = self.settings, self.frame
        banded = [lead for lead in batch if (lead.value or 0.0) >= s.bands.round_robin_min]
        pairs = pd.DataFrame(
            {
                "country": [lead.country for lead in banded],
                "product": [lead.product for lead in banded],
            }
        ).drop_duplicates()
        sla_ok = f["sla"].isna() | (f["sla"] >= (s.min_sla_rate or 0))
        certified: dict[str | None, Any] = {}
        for country, product in pairs.itertuples(index=False):
            if product not in certified:
                needed = set(s.products.get(product or "", ()))
                certified[product] = f["certs"].apply(lambda held, n=needed: n <= held)
            ok = (f["country"] == country) & certified[product] & sla_ok
            best = f[ok & f["top"]].sort_values(["score", "partner_id"], ascending=[False, True])
            candidates, top = f.index[ok], best.index
            if self.loop == "numpy":
                candidates, top = candidates.to_numpy(), top.to_numpy()
            self.groups[country, product] = (candidates, top)
        return len(pairs)

    def route(self, lead: Lead) -> str | None:
        s = self.settings
        value = lead.value or 0.0
        if value < s.bands.round_robin_min:
            return None
        candidates, top = self.groups[lead.country, lead.product]
        band = "top" if value >= s.bands.top_min else "middle"
        chosen = None
        if band == "top":
            free_top = top[self.open[top] < s.capacity]
            if len(free_top):
                chosen = free_top[0]
        if chosen is None:  # the middle band, or a top lead no top partner can take
            free = candidates[self.open[candidates] < s.capacity]
            if not len(free):
                return None
            pool = f"{band}|{lead.country}|{lead.product or ''}"
            after = free[free > self.cursors.get(pool, -1)]
            chosen = after[0] if len(after) else free[0]
            self.cursors[pool] = int(chosen)
        self.open[chosen] += 1
        return str(self.ids[chosen])


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
    parser.add_argument(
        "--subset",
        type=int,
        default=1_000_000,
        help="leads the grouped baseline routes (default 1,000,000: all of them)",
    )
    parser.add_argument(
        "--pandas-subset",
        type=int,
        default=20_000,
        help="leads the grouped baseline with a pandas per-lead loop routes (default 20,000)",
    )
    parser.add_argument("--persist", type=int, default=100_000, help="leads routed end to end")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one of the baseline's partners and drop one of its leads before the "
        "comparison, to see it fail (exit 1)",
    )
    args = parser.parse_args(argv)
    console = Console()
    console.print("[bold]partnerscope lead routing benchmark[/bold]")
    for line in machine_info(extra_versions=f"numpy {np.__version__}, pandas {pd.__version__}"):
        console.print(f"  {line}")
    rng = np.random.default_rng(args.seed)
    facts = partners(args.partners, rng)
    batch = leads(args.leads, facts, rng)

    started = time.perf_counter()
    router = Router(facts, SETTINGS)
    decisions = [router.route(lead) for lead in batch]
    engine_s = time.perf_counter() - started

    # the baselines: the static rules once per (country, product) of the whole batch (timed
    # once, for all leads), then the per-lead loop on the first leads, scaled to all of them
    measured: dict[str, tuple[int, float, float, list[str | None]]] = {}
    pairs = 0
    for loop, wanted in (("numpy", args.subset), ("pandas", args.pandas_subset)):
        subset = min(wanted, len(batch))
        baseline = GroupedBaseline(facts, SETTINGS, loop)
        started = time.perf_counter()
        pairs = baseline.prepare(batch)
        prepare_s = time.perf_counter() - started
        started = time.perf_counter()
        chosen = [baseline.route(lead) for lead in batch[:subset]]
        loop_s = time.perf_counter() - started
        measured[loop] = (subset, prepare_s, loop_s, chosen)

    persist = min(args.persist, len(batch))
    persist_s = persisted(facts, batch[:persist]) if persist else 0.0

    def full(loop: str) -> float:
        """The baseline's time for every lead: its preparation plus its loop, scaled."""
        subset, prepare_s, loop_s, _ = measured[loop]
        return prepare_s + loop_s * len(batch) / subset

    base_s = full("numpy")
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
        ("baseline: pandas rules per (country, product), numpy per lead", len(batch), base_s),
        ("the same with a pandas per-lead loop", len(batch), full("pandas")),
    ]
    if persist:
        rows.append(("route_leads end to end (SQLite app db)", persist, persist_s))
    for name, n, seconds in rows:
        scaled = base_s * n / len(batch)
        table.add_row(
            name, f"{n:,}", f"{seconds:.2f}", f"{n / seconds:,.0f}", f"{scaled / seconds:.2f}×"
        )
    console.print(table)
    for loop, (subset, prepare_s, loop_s, _) in measured.items():
        console.print(
            f"{loop} per lead: the rules of {pairs:,} (country, product) pairs in "
            f"{prepare_s:.2f} s, then {subset:,} leads in {loop_s:.2f} s "
            f"({1e6 * loop_s / subset:.1f} µs each)"
            + ("" if subset == len(batch) else f", scaled by {len(batch) / subset:g}")
        )
    bands = {b: sum(d.band is b for d in decisions) for b in Band}
    queued = sum(d.partner_id is None and d.band is not Band.SELF_SERVICE for d in decisions)
    console.print(
        f"bands: top {bands[Band.TOP]:,}, middle {bands[Band.MIDDLE]:,}, self-service "
        f"{bands[Band.SELF_SERVICE]:,}; {queued:,} banded leads found no eligible partner; "
        f"{len(router._groups):,} (location, product) groups"
    )

    # the same partner for every lead (a lead routed by one side only is a mismatch)
    comparisons = []
    for loop, (subset, _, _, chosen) in measured.items():
        ours = assignments(batch[:subset], [d.partner_id for d in decisions[:subset]])
        theirs = assignments(batch[:subset], chosen)
        if args.corrupt and loop == "numpy":
            theirs = parity.corrupt(theirs, ["lead_id"])
        name = "baseline" if loop == "numpy" else "baseline, pandas loop"
        c = parity.compare(ours, theirs, ["lead_id"], names=("Router", name))
        parity.print_lines(c.lines(f"assigned partner of the first {subset:,} leads"), console)
        comparisons.append(c)
    return parity.exit_code(comparisons)


def assignments(batch: list[Lead], partner_ids: list[str | None]) -> Any:
    """(lead_id, partner_id) of each lead: the partner it went to, null for a queue."""
    import pyarrow as pa

    return pa.table(
        {
            "lead_id": [lead.lead_id for lead in batch],
            "partner_id": pa.array(partner_ids, pa.string()),
        }
    )


if __name__ == "__main__":
    raise SystemExit(main())
