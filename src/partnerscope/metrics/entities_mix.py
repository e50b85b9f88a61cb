"""Derived entities of product mix (product families joined to opportunities) and of retention
(subscription terms with the customer they lose).

docs/retention.md explains each choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.metrics.entity import Entity, Tables, columns_of
from partnerscope.schema import ColumnType

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _families(tables: Tables) -> ir.Table:
    families = tables("product_families")
    return families.select("family").filter(families.family.notnull()).distinct()


def family_opportunities(tables: Tables) -> ir.Table:
    """Every opportunity with the family of its product (null: the product has no family)."""
    opps, families = tables("opportunities"), tables("product_families")
    mapping = families.select(__product="product", family="family")
    joined = opps.left_join(mapping, opps.product == mapping.__product)
    return joined.select(*opps.columns, "family")


def subscription_terms(tables: Tables) -> ir.Table:
    """Every subscription term, with ``customer_lost``: the term churned and it is the last
    of its account's terms with the partner (no other term of that account ends later, and
    none ending the same day was kept)."""
    import ibis

    subs = tables("subscriptions")
    same_customer = ibis.window(group_by=[subs.partner_id, subs.account_id])
    last_end = subs.end_date.max().over(same_customer)
    kept = ibis.ifelse(subs.outcome != "churned", subs.end_date, ibis.null().cast("date"))
    last_kept = kept.max().over(same_customer)
    lost = (
        (subs.outcome == "churned")
        & subs.account_id.notnull()
        & (subs.end_date == last_end)
        & (last_kept.isnull() | (last_kept < subs.end_date))
    )
    return subs.mutate(customer_lost=lost.fill_null(False))


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "families",
        "The product families of the product_families table, one row each (company-wide).",
        {"family": ColumnType.STRING},
        False,
        _families,
    ),
    Entity(
        "family_opportunities",
        "Opportunities with the product family of their product (product_families); family "
        "is empty for a product without one.",
        columns_of("opportunities") | {"family": ColumnType.STRING},
        True,
        family_opportunities,
    ),
    Entity(
        "subscription_terms",
        "Subscription terms with customer_lost: the term churned and no other term of its "
        "account with the partner ends later (nor the same day and was kept).",
        columns_of("subscriptions") | {"customer_lost": ColumnType.BOOLEAN},
        True,
        subscription_terms,
    ),
)
