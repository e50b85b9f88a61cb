"""Market coverage and channel conflict as lists (docs/coverage.md): the target territories
without an active, certified partner at a date (the gap list), with the partners nearest to
each; and the channel conflicts behind ``conflicted_opportunities``, pair by pair.

Both read the warehouse through the same derived entities as the metrics
(:mod:`partnerscope.metrics.entities_market`), so a list and its metric always agree. Used by
``/coverage``, ``/registrations``, ``partnerscope coverage`` and the executive summary.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from partnerscope import geo
from partnerscope.metrics import entities_market as em

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir

    from partnerscope.workspace import Workspace

#: The framework's goal for market coverage (reports.goals may set another for the summary).
GOAL = 0.95
#: How many partners each gap lists as nearest.
NEAREST = 3


@dataclass(frozen=True)
class NearbyPartner:
    partner_id: str
    name: str
    country: str | None
    #: great-circle km from the territory's country centre to the partner's head office (its
    #: coordinates, else its country's centre); None when either place is unknown
    distance_km: float | None
    #: holds a certification valid at the date (an active partner that could serve the
    #: territory at once)
    certified: bool


@dataclass(frozen=True)
class Gap:
    territory_id: str
    name: str
    country: str
    region: str | None
    vertical: str | None
    nearest: tuple[NearbyPartner, ...]


@dataclass(frozen=True)
class Coverage:
    at: date
    target: int
    covered: int
    gaps: tuple[Gap, ...]

    @property
    def share(self) -> float | None:
        return self.covered / self.target if self.target else None


@dataclass(frozen=True)
class Party:
    opportunity_id: str
    #: None: direct sales
    partner_id: str | None
    partner_name: str | None
    account_id: str
    account_name: str | None
    status: str
    amount: Decimal | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Conflict:
    """A partner opportunity and another party's, on one customer, open at the same time."""

    customer: str
    mine: Party
    other: Party

    @property
    def kind(self) -> str:
        return "partner vs direct" if self.other.partner_id is None else "partner vs partner"

    @property
    def overlap(self) -> tuple[datetime, datetime | None]:
        """When both were open (None: both still open)."""
        start = max(self.mine.created_at, self.other.created_at)
        ends = [e for e in (self.mine.closed_at, self.other.closed_at) if e is not None]
        return start, min(ends) if ends else None


def _backend(con: duckdb.DuckDBPyConnection) -> Any:
    import ibis

    return ibis.duckdb.from_connection(con)


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def coverage_at(
    con: duckdb.DuckDBPyConnection,
    at: date,
    *,
    nearest: int = NEAREST,
    candidates: Collection[str] | None = None,
) -> Coverage:
    """The target territories and those covered at the end of day ``at`` (a certification
    expiring on ``at`` no longer counts, as in ``covered_territories``), and the gap list with
    the ``nearest`` active partners to each gap (only those in ``candidates`` when given)."""
    import ibis

    tables = _backend(con).table
    covered = _covered(tables, [at])[at]
    partners: list[dict[str, Any]] = []
    certified: set[str] = set()
    if nearest:
        active = tables("partners").filter(
            tables("partners").status.fill_null("active") == "active"
        )
        partners = _rows(active.select("partner_id", "name", "country", "latitude", "longitude"))
        if candidates is not None:
            allowed = set(candidates)
            partners = [p for p in partners if p["partner_id"] in allowed]
        certs = tables("certifications")
        valid = certs.filter(
            certs.issued_at <= ibis.literal(at),
            certs.expires_at.isnull() | (certs.expires_at > ibis.literal(at)),
        )
        certified = {r["partner_id"] for r in _rows(valid.select("partner_id").distinct())}
    return _coverage(at, _targets(tables), covered, partners, certified, nearest)


def coverage_trend(con: duckdb.DuckDBPyConnection, ends: list[date]) -> list[Coverage]:
    """Coverage at each of ``ends`` (no nearest partners), from one query for all of them."""
    tables = _backend(con).table
    covered, targets = _covered(tables, ends), _targets(tables)
    return [_coverage(end, targets, covered[end], [], set(), 0) for end in ends]


def _targets(tables: Any) -> list[dict[str, Any]]:
    columns = ("territory_id", "name", "country", "region", "vertical")
    return _rows(em.target_territories(tables).select(*columns))


def _covered(tables: Any, days: list[date]) -> dict[date, set[str]]:
    """The target territories covered at the end of each of ``days``."""
    import ibis

    coverage = em.territory_coverage(tables)
    at = ibis.memtable({"at": days}, schema={"at": "date"})
    valid = coverage.join(
        at,
        [
            coverage.issued_at <= at.at,
            coverage.expires_at.isnull() | (coverage.expires_at > at.at),
        ],
    )
    covered: dict[date, set[str]] = {day: set() for day in days}
    for row in _rows(valid.select("at", "territory_id").distinct()):
        covered[row["at"]].add(row["territory_id"])
    return covered


def _coverage(
    at: date,
    targets: list[dict[str, Any]],
    covered: set[str],
    partners: list[dict[str, Any]],
    certified: set[str],
    nearest: int,
) -> Coverage:
    """The coverage at ``at`` of the ``covered`` targets, with the gap list."""
    gaps = []
    for t in sorted(targets, key=lambda r: (r["region"] or "", r["country"], r["territory_id"])):
        if t["territory_id"] in covered:
            continue
        near = _nearest(t["country"], partners, certified)[:nearest] if nearest else []
        gaps.append(
            Gap(
                t["territory_id"],
                t["name"] or t["territory_id"],
                t["country"],
                t["region"],
                t["vertical"],
                tuple(near),
            )
        )
    return Coverage(
        at, len(targets), len({t["territory_id"] for t in targets} & covered), tuple(gaps)
    )


def _place(partner: dict[str, Any]) -> tuple[float, float] | None:
    if partner["latitude"] is not None and partner["longitude"] is not None:
        return float(partner["latitude"]), float(partner["longitude"])
    return geo.centroid(geo.lookup_country(partner["country"]))


def _nearest(
    country: str, partners: list[dict[str, Any]], certified: set[str]
) -> list[NearbyPartner]:
    centre = geo.centroid(geo.lookup_country(country))
    out = []
    for p in partners:
        place = _place(p)
        km = (
            float(geo.distance_km(centre[0], centre[1], place[0], place[1]))
            if centre is not None and place is not None
            else None
        )
        out.append(
            NearbyPartner(
                p["partner_id"], p["name"], p["country"], km, p["partner_id"] in certified
            )
        )
    # the certified first among equals: the unknown distances last
    return sorted(
        out,
        key=lambda n: (n.distance_km is None, n.distance_km or 0.0, not n.certified, n.partner_id),
    )


def quarter_ends(at: date, count: int = 8) -> list[date]:
    """``at`` and the calendar quarter ends before it: ``count`` dates, oldest first."""
    ends = [at]
    previous = date(at.year, 3 * ((at.month - 1) // 3) + 1, 1) - timedelta(days=1)
    while len(ends) < count:
        ends.append(previous)
        previous = date(previous.year, 3 * ((previous.month - 1) // 3) + 1, 1) - timedelta(days=1)
    return sorted(ends)


def _pairs(
    con: duckdb.DuckDBPyConnection,
    since: datetime | None,
    until: datetime | None,
    partners: Collection[str] | None,
) -> ir.Table:
    """The conflicting pairs as an expression: the partner opportunity's columns, and the other
    party's prefixed ``o_``."""
    import ibis

    tables = _backend(con).table
    opps = em.customer_opportunities(tables).select(
        "opportunity_id",
        "partner_id",
        "account_id",
        "customer",
        "status",
        "amount",
        "created_at",
        "closed_at",
    )
    mine = opps.filter(opps.partner_id.notnull())
    if since is not None:
        mine = mine.filter(mine.created_at >= ibis.literal(since))
    other = opps.rename(lambda c: f"o_{c}")
    if until is not None:
        # as of ``until``: what was created later did not exist yet
        mine = mine.filter(mine.created_at < ibis.literal(until))
        other = other.filter(other.o_created_at < ibis.literal(until))
    if partners is not None:
        mine = mine.filter(mine.partner_id.isin(list(partners)))
    return mine.join(
        other,
        [
            mine.customer == other.o_customer,
            mine.opportunity_id != other.o_opportunity_id,
            other.o_partner_id.isnull() | (other.o_partner_id != mine.partner_id),
            other.o_closed_at.isnull() | (mine.created_at < other.o_closed_at),
            mine.closed_at.isnull() | (other.o_created_at < mine.closed_at),
        ],
    )


@dataclass(frozen=True)
class ConflictTotals:
    #: partner opportunities in conflict (``conflicted_opportunities``)
    opportunities: int
    #: pairs of a partner opportunity and another party's
    pairs: int
    #: Σ amount of those partner opportunities, each once (``revenue_at_stake``)
    revenue_at_stake: Decimal


def conflict_totals(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    partners: Collection[str] | None = None,
) -> ConflictTotals:
    """How many partner opportunities :func:`channel_conflicts` lists, in how many pairs, and
    the revenue at stake, counted by the engine (without building the list)."""
    import ibis

    pairs = _pairs(con, since, until, partners)
    n_pairs = int(pairs.count().to_pyarrow().as_py())
    distinct = pairs.select("opportunity_id", "amount").distinct()
    row = (
        distinct.aggregate(
            n=distinct.count(), total=distinct.amount.sum().fill_null(ibis.literal(0))
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return ConflictTotals(int(row["n"]), n_pairs, Decimal(row["total"]).quantize(Decimal("0.01")))


def channel_conflicts(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    partners: Collection[str] | None = None,
    limit: int | None = None,
) -> list[Conflict]:
    """Each partner opportunity created in [since, until) whose open window overlaps another
    party's opportunity on the same customer, one row per such pair (the rule of
    ``conflicted_opportunities``), as of ``until`` (an opportunity created later is left out);
    only the partner opportunities of ``partners`` when given. Largest amount first, the first
    ``limit`` pairs when given (:func:`conflict_totals` counts them all)."""
    import ibis

    tables = _backend(con).table
    pairs = _pairs(con, since, until, partners)
    pairs = pairs.order_by(
        [ibis.desc(pairs.amount.fill_null(0)), pairs.opportunity_id, pairs.o_opportunity_id]
    )
    if limit is not None:
        pairs = pairs.limit(limit)
    rows = _rows(pairs)
    partner_ids = {r[k] for r in rows for k in ("partner_id", "o_partner_id") if r[k]}
    account_ids = {r[k] for r in rows for k in ("account_id", "o_account_id")}
    partners_t, accounts_t = tables("partners"), tables("accounts")
    names = {
        r["partner_id"]: r["name"]
        for r in _rows(
            partners_t.filter(partners_t.partner_id.isin(sorted(partner_ids) or [""])).select(
                "partner_id", "name"
            )
        )
    }
    accounts = {
        r["account_id"]: r["name"]
        for r in _rows(
            accounts_t.filter(accounts_t.account_id.isin(sorted(account_ids) or [""])).select(
                "account_id", "name"
            )
        )
    }
    out = []
    for r in rows:

        def party(prefix: str, r: dict[str, Any] = r) -> Party:
            partner = r[f"{prefix}partner_id"]
            account = r[f"{prefix}account_id"]
            return Party(
                r[f"{prefix}opportunity_id"],
                partner,
                names.get(partner) if partner else None,
                account,
                accounts.get(account),
                r[f"{prefix}status"],
                r[f"{prefix}amount"],
                r[f"{prefix}created_at"],
                r[f"{prefix}closed_at"],
            )

        out.append(Conflict(r["customer"], party(""), party("o_")))
    return out


def revenue_at_stake(conflicts: list[Conflict]) -> Decimal:
    """Σ amount of the distinct partner opportunities in conflict (``revenue_at_stake``)."""
    amounts = {c.mine.opportunity_id: c.mine.amount or Decimal(0) for c in conflicts}
    return sum(amounts.values(), Decimal(0))


def read_coverage(workspace: Workspace, at: date, **kwargs: Any) -> Coverage:
    """:func:`coverage_at` on the workspace's warehouse (the executive summary's entry)."""
    with workspace.warehouse(read_only=True) as warehouse:
        return coverage_at(warehouse.con, at, **kwargs)


def read_conflicts(workspace: Workspace, **kwargs: Any) -> list[Conflict]:
    """:func:`channel_conflicts` on the workspace's warehouse."""
    with workspace.warehouse(read_only=True) as warehouse:
        return channel_conflicts(warehouse.con, **kwargs)


def read_conflict_totals(workspace: Workspace, **kwargs: Any) -> ConflictTotals:
    """:func:`conflict_totals` on the workspace's warehouse."""
    with workspace.warehouse(read_only=True) as warehouse:
        return conflict_totals(warehouse.con, **kwargs)


def party_words(party: Party) -> str:
    """Who holds an opportunity, for vendor staff: the partner's name, or direct sales."""
    if party.partner_id is None:
        return "Direct sales"
    return party.partner_name or party.partner_id


def window_words(party: Party) -> str:
    """An opportunity's open window: ``2025-04-01 – 2025-05-20`` or ``2025-04-01 – open``."""
    end = "open" if party.closed_at is None else party.closed_at.date().isoformat()
    return f"{party.created_at.date().isoformat()} – {end}"


def distance_words(partner: NearbyPartner) -> str:
    return "distance unknown" if partner.distance_km is None else f"{partner.distance_km:,.0f} km"


def territory_words(gap: Gap) -> str:
    """``Germany (Finance)``: the territory's name with its vertical."""
    return f"{gap.name} ({gap.vertical})" if gap.vertical else gap.name
