"""The market opportunity map: where to recruit partners (docs/lifecycle.md).

Per territory (a country, or a region as the roll-up) and vertical (the accounts' industry):

- the **market value**: the annual revenue of the target accounts there (every account when
  none is marked a target), or the ``market_sizes`` row of the cell when one was loaded;
- the **coverage**: the partners present (head office in the country, a won deal in the
  vertical within ``[market] months``) and the channel's share of the cell's won revenue;
- the **competition**: the competitors the market sizes list, where they do.

The value band (by the cells' cumulative share of the total) and the coverage give the
priority by ``[market.grid]``; a low-value cell with high competition is "Avoid". The gaps are
the cells of priority 1–2 with no or thin coverage, largest first.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from partnerscope.present import Words
    from partnerscope.settings.market import MarketSettings
    from partnerscope.workspace import Workspace

Level = Literal["country", "region"]
LEVELS: tuple[Level, ...] = ("country", "region")
#: the priorities in their order (the first is recruited first)
PRIORITIES = ("Priority 1", "Priority 2", "Priority 3", "Priority 4", "Priority 5", "Avoid")
NO_REGION = "No region"

VALUE_BANDS = ("high", "medium", "low")
COVERAGES = ("none", "thin", "covered")

#: what to do in a cell of each priority (with no partner present, with some), closing its
#: sentence
ACTIONS = {
    "Priority 1": ("recruit here first", "recruit another partner here first"),
    "Priority 2": ("recruit here", "recruit another partner here"),
    "Priority 3": (
        "recruit when the first priorities are served",
        "recruit when the first priorities are served",
    ),
    "Priority 4": ("recruit only when a candidate comes", "develop the partners present"),
    "Priority 5": ("not worth recruiting for now", "no recruitment needed"),
    "Avoid": ("do not recruit here", "do not recruit here"),
}


class MarketError(PartnerscopeError):
    """A request the market map cannot answer (an unknown vertical, a bad level)."""


@dataclass(frozen=True)
class Cell:
    """One territory and vertical of the map."""

    territory: str
    vertical: str
    #: the region of the territory (itself for a region)
    region: str
    value: float
    #: the cell's share of the total market value (0–1)
    value_share: float
    value_band: str
    #: where the value came from: "market sizes", "target accounts" or "all accounts"
    source: str
    #: accounts behind the estimate (0 for a value from the market sizes)
    accounts: int
    #: ids of the partners present, and their names
    partners: tuple[str, ...]
    partner_names: tuple[str, ...]
    won_revenue: float
    channel_revenue: float
    #: channel revenue / won revenue; None without won revenue
    channel_share: float | None
    competitors: int | None
    competitor_share: float | None
    #: "none", "thin" or "covered"
    coverage: str
    #: "high", "low" or "unknown" (no market size lists its competitors)
    competition: str
    priority: str
    why: str

    @property
    def rank(self) -> int:
        return PRIORITIES.index(self.priority)

    @property
    def is_gap(self) -> bool:
        return self.priority in PRIORITIES[:2] and self.coverage != "covered"


@dataclass(frozen=True)
class MarketMap:
    by: Level
    cells: tuple[Cell, ...]
    total_value: float
    #: one sentence on where the values came from
    basis: str
    #: one sentence on the won deals behind the coverage
    window: str
    #: country (lower case) → its region
    regions: dict[str, str] = field(default_factory=dict)

    @property
    def gaps(self) -> tuple[Cell, ...]:
        """Cells of priority 1–2 with no or thin coverage, largest market value first."""
        return tuple(
            sorted(
                (c for c in self.cells if c.is_gap),
                key=lambda c: (-c.value, c.territory, c.vertical),
            )
        )

    def counts(self) -> dict[str, int]:
        """Cells per priority, every priority named (0 when none)."""
        found = Counter(c.priority for c in self.cells)
        return {p: found.get(p, 0) for p in PRIORITIES}

    @property
    def territories(self) -> tuple[str, ...]:
        return tuple(sorted({c.territory for c in self.cells}))

    @property
    def verticals(self) -> tuple[str, ...]:
        return tuple(sorted({c.vertical for c in self.cells}))

    def cell(self, country: str | None, vertical: str | None) -> Cell | None:
        """The cell of ``country`` (its region's on a region map) and ``vertical``, matched
        without regard to case; with one of them None, the cell of the highest priority (then
        the largest) among those matching the other; None when nothing matches."""
        territory = _norm(country) if country else None
        if territory is not None and self.by == "region":
            territory = _norm(self.regions.get(territory, country or ""))
        wanted = _norm(vertical) if vertical else None
        if territory is None and wanted is None:
            return None
        found = [
            c
            for c in self.cells
            if (territory is None or _norm(c.territory) == territory)
            and (wanted is None or _norm(c.vertical) == wanted)
        ]
        if not found:
            return None
        return min(found, key=lambda c: (c.rank, -c.value, c.territory, c.vertical))

    def only(self, vertical: str) -> MarketMap:
        """The map of one vertical (its cells keep their priorities: the value bands are
        of the whole market). Refuses a vertical the map does not have, naming them."""
        cells = tuple(c for c in self.cells if _norm(c.vertical) == _norm(vertical))
        if not cells:
            from partnerscope.errors import did_you_mean

            hint = did_you_mean(vertical, self.verticals)
            raise MarketError(
                f"--vertical {vertical!r}: no such vertical in the market map (its verticals: "
                f"{', '.join(self.verticals) or 'none'}){hint}"
            )
        return MarketMap(
            self.by, cells, self.total_value, self.basis, self.window, dict(self.regions)
        )


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _Raw:
    territory: str
    vertical: str
    value: float = 0.0
    accounts: int = 0
    source: str = ""
    competitors: int | None = None
    competitor_share: float | None = None
    won: float = 0.0
    channel: float = 0.0
    partners: set[str] = field(default_factory=set)


def opportunity_map(workspace: Workspace, *, by: Level = "country") -> MarketMap:
    """The market opportunity map of the warehouse, by country or by region."""
    if by not in LEVELS:
        raise MarketError(f"cannot map the market by {by!r}; choose country or region")
    settings = workspace.config.market
    data = _read(workspace, settings.months)
    return build(data, settings, workspace.words, by=by)


@dataclass(frozen=True)
class MarketData:
    """What the map is made of, read from the warehouse."""

    #: (country, industry, accounts, revenue) of the value base
    accounts: list[tuple[str, str, int, float]]
    targets_only: bool
    #: accounts left out: no country or no industry
    unplaced: int
    #: (country, region, vertical, value, competitors, competitor share)
    sizes: list[tuple[str, str | None, str, float, int | None, float | None]]
    #: (country, industry, partner id or None, won amount)
    won: list[tuple[str, str, str | None, float]]
    #: partner id → (name, country, region)
    partners: dict[str, tuple[str, str | None, str | None]]
    #: the first and last day of the won deals considered (None: none)
    since: Any = None
    until: Any = None


def _read(workspace: Workspace, months: int) -> MarketData:
    with workspace.warehouse(read_only=True) as warehouse:
        con = warehouse.con
        targets = int(
            con.execute(
                "SELECT count(*) FROM accounts WHERE coalesce(is_target, false)"
            ).fetchall()[0][0]
        )
        where = "coalesce(is_target, false)" if targets else "true"
        accounts = [
            (str(c), str(i), int(n), float(v))
            for c, i, n, v in con.execute(
                "SELECT trim(country), trim(industry), count(*), "
                "coalesce(sum(annual_revenue), 0) FROM accounts "
                f"WHERE {where} AND nullif(trim(country), '') IS NOT NULL "
                "AND nullif(trim(industry), '') IS NOT NULL GROUP BY ALL ORDER BY 1, 2"
            ).fetchall()
        ]
        unplaced = int(
            con.execute(
                f"SELECT count(*) FROM accounts WHERE {where} AND (nullif(trim(country), '') "
                "IS NULL OR nullif(trim(industry), '') IS NULL)"
            ).fetchall()[0][0]
        )
        has_sizes = bool(
            con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'market_sizes'"
            ).fetchall()[0][0]
        )
        sizes = (
            [
                (
                    str(c),
                    (str(r) if r else None),
                    str(v),
                    float(m),
                    None if n is None else int(n),
                    None if s is None else float(s),
                )
                for c, r, v, m, n, s in con.execute(
                    "SELECT trim(country), nullif(trim(region), ''), trim(vertical), "
                    "market_value, competitors, competitor_share FROM market_sizes ORDER BY 1, 3"
                ).fetchall()
            ]
            if has_sizes
            else []
        )
        until = con.execute(
            "SELECT max(closed_at) FROM opportunities WHERE status = 'won'"
        ).fetchall()[0][0]
        since = None
        window = "true"
        if until is not None and months:
            since = con.execute(
                f"SELECT CAST(? AS TIMESTAMP) - INTERVAL {int(months)} MONTH", [until]
            ).fetchall()[0][0]
            window = "o.closed_at > ?"
        won = [
            (str(c), str(i), p, float(a))
            for c, i, p, a in con.execute(
                "SELECT trim(a.country), trim(a.industry), o.partner_id, sum(o.amount) "
                "FROM opportunities o JOIN accounts a ON a.account_id = o.account_id "
                f"WHERE o.status = 'won' AND o.amount IS NOT NULL AND {window} "
                "AND nullif(trim(a.country), '') IS NOT NULL "
                "AND nullif(trim(a.industry), '') IS NOT NULL GROUP BY ALL",
                [since] if since is not None else [],
            ).fetchall()
        ]
        partners = {
            str(pid): (str(name or pid), country, region)
            for pid, name, country, region in con.execute(
                "SELECT partner_id, name, nullif(trim(country), ''), nullif(trim(region), '') "
                "FROM partners WHERE coalesce(status, 'active') <> 'exited' ORDER BY 1"
            ).fetchall()
        }
    return MarketData(accounts, bool(targets), unplaced, sizes, won, partners, since, until)


def build(data: MarketData, settings: MarketSettings, words: Words, *, by: Level) -> MarketMap:
    """The map of ``data`` by ``settings`` (pure: the tests hand it small data)."""
    source = "target accounts" if data.targets_only else "all accounts"
    # spelling: the first seen of each country and vertical (accounts, then market sizes)
    names: dict[str, str] = {}

    def name(text: str) -> str:
        return names.setdefault(_norm(text), text)

    cells: dict[tuple[str, str], _Raw] = {}
    for country, industry, n, revenue in data.accounts:
        key = (_norm(country), _norm(industry))
        raw = cells.setdefault(key, _Raw(name(country), name(industry), source=source))
        raw.value += revenue
        raw.accounts += n
    size_regions: dict[str, str] = {}
    for country, region, vertical, value, competitors, share in data.sizes:
        key = (_norm(country), _norm(vertical))
        raw = cells.setdefault(key, _Raw(name(country), name(vertical)))
        raw.value, raw.accounts, raw.source = value, 0, "market sizes"
        raw.competitors, raw.competitor_share = competitors, share
        if region:
            size_regions.setdefault(_norm(country), region)
    # presence: a partner with its head office in the country and a won deal in the vertical
    won_verticals: dict[str, set[str]] = defaultdict(set)
    for country, industry, partner, amount in data.won:
        key = (_norm(country), _norm(industry))
        if partner is not None:
            won_verticals[partner].add(_norm(industry))
        raw_cell = cells.get(key)
        if raw_cell is None:
            continue
        raw_cell.won += amount
        if partner is not None:
            raw_cell.channel += amount
    for pid, (_name, home, _region) in data.partners.items():
        if home is None:
            continue
        for vertical in won_verticals.get(pid, ()):
            found = cells.get((_norm(home), vertical))
            if found is not None:
                found.partners.add(pid)
    regions = _regions(data, size_regions)
    if by == "region":
        cells = _roll_up(cells, regions)
    total = sum(c.value for c in cells.values())
    bands = _value_bands(list(cells.values()), total, settings)
    out = []
    for key, raw in cells.items():
        out.append(_cell(raw, key, bands[key], total, settings, words, data, regions, by))
    out.sort(key=lambda c: (c.rank, -c.value, c.territory, c.vertical))
    return MarketMap(by, tuple(out), total, _basis(data, source), _window(data, words), regions)


def _regions(data: MarketData, size_regions: dict[str, str]) -> dict[str, str]:
    """country (normalised) → region: the market sizes' region, else the region most of the
    country's partners are in, else "No region"."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for _name, country, region in data.partners.values():
        if country and region:
            votes[_norm(country)][region] += 1
    countries = {_norm(c) for c, *_ in data.accounts} | {_norm(c) for c, *_ in data.sizes}
    out = {}
    for country in countries:
        if country in size_regions:
            out[country] = size_regions[country]
        elif votes.get(country):
            out[country] = sorted(votes[country].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        else:
            out[country] = NO_REGION
    return out


def _roll_up(
    cells: dict[tuple[str, str], _Raw], regions: dict[str, str]
) -> dict[tuple[str, str], _Raw]:
    """Countries summed into their regions: values, accounts, won revenue; the partners of any
    country; the most competitors of any country; the competitors' share weighted by value."""
    out: dict[tuple[str, str], _Raw] = {}
    weighted: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for (country, vertical), raw in sorted(cells.items()):
        region = regions.get(country, NO_REGION)
        key = (_norm(region), vertical)
        into = out.setdefault(key, _Raw(region, raw.vertical))
        into.value += raw.value
        into.accounts += raw.accounts
        into.won += raw.won
        into.channel += raw.channel
        into.partners |= raw.partners
        sources = {s for s in (into.source, raw.source) if s}
        into.source = " and ".join(sorted(sources))
        if raw.competitors is not None:
            into.competitors = max(into.competitors or 0, raw.competitors)
        if raw.competitor_share is not None:
            weighted[key].append((raw.value, raw.competitor_share))
    for key, pairs in weighted.items():
        weight = sum(v for v, _ in pairs)
        out[key].competitor_share = (
            sum(v * s for v, s in pairs) / weight if weight else max(s for _, s in pairs)
        )
    return out


def _value_bands(
    cells: list[_Raw], total: float, settings: MarketSettings
) -> dict[tuple[str, str], str]:
    """Cells ranked by value, largest first: high while the larger cells before it hold less
    than ``high_value_share`` of the total, medium while less than ``medium_value_share``."""
    ranked = sorted(cells, key=lambda c: (-c.value, c.territory, c.vertical))
    out = {}
    before = 0.0
    for raw in ranked:
        share = before / total if total else 1.0
        # a hair of tolerance: a sum of floats reaching a boundary exactly stays at it
        if raw.value > 0 and share < settings.high_value_share - 1e-12:
            band = "high"
        elif raw.value > 0 and share < settings.medium_value_share - 1e-12:
            band = "medium"
        else:
            band = "low"
        out[(_norm(raw.territory), _norm(raw.vertical))] = band
        before += raw.value
    return out


def _cell(
    raw: _Raw,
    key: tuple[str, str],
    band: str,
    total: float,
    settings: MarketSettings,
    words: Words,
    data: MarketData,
    regions: dict[str, str],
    by: Level,
) -> Cell:
    partners = tuple(sorted(raw.partners))
    channel_share = raw.channel / raw.won if raw.won else None
    if not partners:
        coverage = "none"
    elif (
        len(partners) >= settings.covered_partners
        and (channel_share or 0.0) >= settings.covered_channel_share - 1e-12
    ):
        coverage = "covered"
    else:
        coverage = "thin"
    if raw.competitors is None and raw.competitor_share is None:
        competition = "unknown"
    elif (raw.competitors or 0) >= settings.high_competitors or (
        raw.competitor_share or 0.0
    ) >= settings.high_competitor_share - 1e-12:
        competition = "high"
    else:
        competition = "low"
    if band == "low" and competition == "high":
        priority = "Avoid"
    else:
        row: tuple[int, int, int] = getattr(settings.grid, band)
        priority = f"Priority {row[COVERAGES.index(coverage)]}"
    share = raw.value / total if total else 0.0
    names = tuple(data.partners[p][0] for p in partners)
    region = raw.territory if by == "region" else regions.get(key[0], NO_REGION)
    why = _why(band, raw, share, names, channel_share, competition, priority, words)
    return Cell(
        territory=raw.territory,
        vertical=raw.vertical,
        region=region,
        value=raw.value,
        value_share=share,
        value_band=band,
        source=raw.source,
        accounts=raw.accounts,
        partners=partners,
        partner_names=names,
        won_revenue=raw.won,
        channel_revenue=raw.channel,
        channel_share=channel_share,
        competitors=raw.competitors,
        competitor_share=raw.competitor_share,
        coverage=coverage,
        competition=competition,
        priority=priority,
        why=why,
    )


def _share(share: float, words: Words) -> str:
    """A share of the total, a small one not written as 0.0 %."""
    if 0 < share < 0.001:
        return f"under {words.share(0.001)}"
    return words.share(share)


def _count(n: int, one: str, many: str) -> str:
    return f"{'one' if n == 1 else 'no' if n == 0 else n} {one if n in (0, 1) else many}"


def _why(
    band: str,
    raw: _Raw,
    share: float,
    names: tuple[str, ...],
    channel_share: float | None,
    competition: str,
    priority: str,
    words: Words,
) -> str:
    # millions and more in short (``$12.4M``), less to the unit
    amount = words.money(raw.value, compact=raw.value >= 1_000_000)
    value = f"{band.capitalize()} market value ({amount}, "
    value += f"{_share(share, words)} of the total)"
    # no partner by name: the sentence is shown to whoever may see the map
    present = _count(len(names), "partner", "partners") + " present"
    if channel_share is None:
        channel = "no won revenue yet"
    elif names or not channel_share:
        channel = f"{words.share(channel_share, digits=0)} of the won revenue through partners"
    else:
        channel = (
            f"{words.share(channel_share, digits=0)} of the won revenue through partners from "
            "elsewhere"
        )
    if competition == "unknown":
        rivals = "no competitor listed"
    else:
        parts = []
        if raw.competitors is not None:
            parts.append(_count(raw.competitors, "competitor", "competitors"))
        if raw.competitor_share is not None:
            parts.append(f"holding {words.share(raw.competitor_share, digits=0)} of the market")
        rivals = " ".join(parts) + (" (high competition)" if competition == "high" else "")
    action = ACTIONS[priority][1 if names else 0]
    return f"{value}, {present}, {channel}, {rivals}: {action}."


def _basis(data: MarketData, source: str) -> str:
    if not data.accounts and not data.sizes:
        return (
            "No account with a country and an industry yet, and no market sizes: load the "
            "accounts (their country, industry, annual revenue and target flag) or the market "
            "sizes."
        )
    if data.targets_only:
        text = "Market values are the annual revenue of the target accounts"
    else:
        text = (
            "No account is marked a target (accounts.is_target): market values are the annual "
            "revenue of all accounts"
        )
    if data.sizes:
        text += (
            f", or the loaded market sizes where they cover a cell "
            f"({_count(len(data.sizes), 'cell', 'cells')})"
        )
    if data.unplaced:
        text += (
            f"; {_count(data.unplaced, 'account', 'accounts')} without a country or an industry "
            "left out"
        )
    return text + "."


def _window(data: MarketData, words: Words) -> str:
    if data.until is None:
        return "No won deal yet: no partner is present anywhere."
    if data.since is None:
        return (
            "Partners present and the channel's share come from every won deal up to "
            f"{words.date(data.until)}."
        )
    return (
        "Partners present and the channel's share come from the deals won after "
        f"{words.date(data.since)} up to {words.date(data.until)}."
    )


# ------------------------------------------------------------------------------- export

CSV_COLUMNS = (
    "priority",
    "territory",
    "region",
    "vertical",
    "market_value",
    "value_share",
    "value_band",
    "value_source",
    "accounts",
    "partners_present",
    "partners",
    "won_revenue",
    "channel_revenue",
    "channel_share",
    "coverage",
    "competitors",
    "competitor_share",
    "competition",
    "gap",
    "why",
)


def csv_text(market: MarketMap, *, sees: Callable[[str], bool] | None = None) -> str:
    """The map as CSV: one row per cell, money in the base currency with cents, shares as
    fractions (a spreadsheet formats them), the sentence as on the page. ``sees``: the
    partners whose names a caller may read (the others are counted, not named)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in market.cells:
        writer.writerow(
            [
                c.priority,
                c.territory,
                c.region,
                c.vertical,
                f"{c.value:.2f}",
                f"{c.value_share:.4f}",
                c.value_band,
                c.source,
                c.accounts,
                len(c.partners),
                "; ".join(
                    n
                    for p, n in zip(c.partners, c.partner_names, strict=True)
                    if sees is None or sees(p)
                ),
                f"{c.won_revenue:.2f}",
                f"{c.channel_revenue:.2f}",
                "" if c.channel_share is None else f"{c.channel_share:.4f}",
                c.coverage,
                "" if c.competitors is None else c.competitors,
                "" if c.competitor_share is None else f"{c.competitor_share:.4f}",
                c.competition,
                "yes" if c.is_gap else "no",
                c.why,
            ]
        )
    return out.getvalue()
