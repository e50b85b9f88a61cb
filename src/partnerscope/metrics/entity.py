"""What a derived entity is: a name, its columns and how it is built from the canonical tables
(:mod:`partnerscope.metrics.entities` lists them all)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from partnerscope.schema import TABLES, ColumnType

if TYPE_CHECKING:
    import ibis.expr.types as ir

Tables = Callable[[str], "ir.Table"]


@dataclass(frozen=True)
class Entity:
    name: str
    description: str
    columns: dict[str, ColumnType]
    #: Rows belong to a partner (``partner_id``); otherwise the entity describes the company.
    partner_scoped: bool
    build: Callable[[Tables], ir.Table]


def columns_of(table: str) -> dict[str, ColumnType]:
    """The columns of a canonical table, with their types."""
    return {c.name: c.type for c in TABLES[table].columns}
