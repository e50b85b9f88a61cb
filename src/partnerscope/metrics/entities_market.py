"""Derived entities of market coverage (territories) and channel conflict (docs/coverage.md).

Market coverage: a partner serves the territories listed for it in ``partner_territories``;
a partner without rows there serves the territories of its head-office country that name no
vertical. Countries are matched as written, ignoring case and surrounding spaces (the entities
are Ibis expressions run by every engine, so no Python country table can normalise them).

Channel conflict: opportunities on one customer — the same account identity, from the
``account_identities`` table that :func:`rebuild_account_identities` writes beside the canonical
tables whenever accounts are imported (and that the PostgreSQL and Spark engines receive with the
rest of the warehouse). An opportunity whose account has no identity row is its own customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.metrics.entity import Entity, Tables, columns_of
from partnerscope.schema import ColumnType

if TYPE_CHECKING:
    from collections.abc import Mapping

    import duckdb
    import ibis.expr.types as ir

    from partnerscope.identity import Decision, Rules

#: The warehouse table of account identities: account_id → identity_id (the smallest account
#: id of the records taken for one customer).
IDENTITY_TABLE = "account_identities"
IDENTITY_DDL = (
    f'CREATE TABLE IF NOT EXISTS "{IDENTITY_TABLE}" (account_id VARCHAR, identity_id VARCHAR)'
)


def rebuild_account_identities(
    con: duckdb.DuckDBPyConnection,
    rules: Rules | None = None,
    decisions: Mapping[frozenset[str], Decision] | None = None,
) -> int:
    """Replace the warehouse's ``account_identities`` with
    :func:`partnerscope.identity.resolve` over the accounts table; the rows written. Runs in the
    caller's transaction (the ingest that imported accounts), with the workspace's ``[identity]``
    ``rules`` and the people's review ``decisions``."""
    import pyarrow as pa

    from partnerscope.identity import DEFAULT_RULES, AccountRecord, resolve

    rows = con.execute(
        "SELECT account_id, name, domain, country FROM accounts ORDER BY account_id"
    ).fetchall()
    records = [AccountRecord(a, n or "", d, c) for a, n, d, c in rows]
    identities = resolve(records, rules or DEFAULT_RULES, decisions)
    table = pa.table(
        {
            "account_id": pa.array(list(identities), pa.string()),
            "identity_id": pa.array(list(identities.values()), pa.string()),
        }
    )
    con.execute(IDENTITY_DDL)
    con.execute(f'DELETE FROM "{IDENTITY_TABLE}"')
    con.register("__identities", table)
    try:
        con.execute(
            f'INSERT INTO "{IDENTITY_TABLE}" SELECT account_id, identity_id FROM __identities'
        )
    finally:
        con.unregister("__identities")
    return len(identities)


def _country(value: ir.StringValue) -> ir.StringValue:
    return value.strip().upper()


def served_territories(tables: Tables) -> ir.Table:
    """One row per partner and territory it serves (listed, or its head-office country's
    territories without a vertical when it lists none), with the partner's status."""
    partners, territories = tables("partners"), tables("territories")
    listed = tables("partner_territories").select("partner_id", "territory_id")
    unlisted = partners.anti_join(listed.select("partner_id").distinct(), "partner_id")
    general = territories.filter(territories.vertical.isnull())
    by_country = unlisted.join(
        general, _country(unlisted.country) == _country(general.country)
    ).select(unlisted.partner_id, general.territory_id)
    served = listed.union(by_country, distinct=True)
    return served.join(partners.select("partner_id", "status"), "partner_id").select(
        "partner_id", "territory_id", "status"
    )


def target_territories(tables: Tables) -> ir.Table:
    territories = tables("territories")
    return territories.filter(territories.is_target.fill_null(True))


def territory_coverage(tables: Tables) -> ir.Table:
    served = served_territories(tables)
    served = served.filter(served.status.fill_null("active") == "active")
    targets = target_territories(tables).select("territory_id", "country", "region", "vertical")
    certs = tables("certifications").select("partner_id", "record_id", "issued_at", "expires_at")
    return (
        served.join(targets, "territory_id")
        .join(certs, "partner_id")
        .select(
            "partner_id",
            "territory_id",
            "country",
            "region",
            "vertical",
            "record_id",
            "issued_at",
            "expires_at",
        )
    )


def identities(tables: Tables) -> ir.Table | None:
    """The account identities table, or None where the warehouse has none yet."""
    try:
        return tables(IDENTITY_TABLE)
    except Exception:  # each backend names a missing table its own way
        return None


def customer_opportunities(tables: Tables) -> ir.Table:
    """Opportunities with an account, each with ``customer``: its account's identity."""
    opps = tables("opportunities")
    opps = opps.filter(opps.account_id.notnull())
    ids = identities(tables)
    if ids is None:
        return opps.mutate(customer=opps.account_id)
    ids = ids.select(id_account="account_id", identity_id="identity_id")
    joined = opps.left_join(ids, opps.account_id == ids.id_account)
    return joined.select(*opps.columns, customer=joined.identity_id.fill_null(joined.account_id))


def _conflicted_opportunities(tables: Tables) -> ir.Table:
    """Partner opportunities whose open window [created_at, closed_at) overlaps that of an
    opportunity of another party (direct sales or another partner) on the same customer; an
    open opportunity's window has no end."""
    mine = customer_opportunities(tables)
    mine = mine.filter(mine.partner_id.notnull())
    other = customer_opportunities(tables).select(
        o_id="opportunity_id",
        o_partner="partner_id",
        o_customer="customer",
        o_created="created_at",
        o_closed="closed_at",
    )
    overlapping = mine.join(
        other,
        [
            mine.customer == other.o_customer,
            mine.opportunity_id != other.o_id,
            other.o_partner.isnull() | (other.o_partner != mine.partner_id),
            other.o_closed.isnull() | (mine.created_at < other.o_closed),
            mine.closed_at.isnull() | (other.o_created < mine.closed_at),
        ],
    ).select("opportunity_id")
    opps = tables("opportunities")
    return opps.semi_join(overlapping.distinct(), "opportunity_id")


def _partner_opportunities(tables: Tables) -> ir.Table:
    opps = tables("opportunities")
    return opps.filter(opps.partner_id.notnull())


_S, _D = ColumnType.STRING, ColumnType.DATE

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "target_territories",
        "Territories marked is_target: the territories market coverage counts.",
        columns_of("territories"),
        False,
        target_territories,
    ),
    Entity(
        "territory_coverage",
        "One row per active partner, target territory it serves (partner_territories, else the "
        "territories of its head-office country without a vertical) and certification it holds "
        "(issued_at, expires_at).",
        {"partner_id": _S, "territory_id": _S, "country": _S, "region": _S, "vertical": _S}
        | {"record_id": _S, "issued_at": _D, "expires_at": _D},
        True,
        territory_coverage,
    ),
    Entity(
        "channel_opportunities",
        "Opportunities with a partner (no direct deals).",
        columns_of("opportunities"),
        True,
        _partner_opportunities,
    ),
    Entity(
        "conflicted_opportunities",
        "Partner opportunities whose open window overlaps an opportunity of direct sales or of "
        "another partner on the same customer (account identity).",
        columns_of("opportunities"),
        True,
        _conflicted_opportunities,
    ),
)
