"""The small expression language of metric definitions: filters, measures and formulas.

Text is parsed with sqlglot (the SQL parser Ibis itself uses), checked against a short list of
allowed operators and functions, and translated to an Ibis expression. Names are resolved by the
caller: columns of an entity for filters and measures, metrics for formulas, and the run's
parameters (``sla_hours``, ``gross_margin``, ``as_of``) in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Functions of filters and measures (and formulas), with their number of arguments.
ROW_FUNCTIONS = {"days_between": 2, "hours_between": 2}
#: Functions only formulas may use: they look at other periods, the company or the partners of a
#: group.
FORMULA_FUNCTIONS = {"prior_year": 1, "company": 1, "partners_where": 1, "weighted_mean": 2}

_COMPARISONS: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
}
_ARITHMETIC: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
}
_ALLOWED: tuple[type[exp.Expression], ...] = (
    exp.And,
    exp.Or,
    exp.Not,
    exp.Paren,
    exp.In,
    exp.Is,
    exp.Between,
    exp.Div,
    exp.Neg,
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Anonymous,
    exp.Coalesce,
    exp.Least,
    exp.Greatest,
    exp.Abs,
    exp.Lower,
    exp.Upper,
    exp.DPipe,
    *_COMPARISONS,
    *_ARITHMETIC,
)


class ExpressionError(ValueError):
    """A problem with the text of an expression; the message says what and how to fix it."""


@dataclass(frozen=True)
class Expression:
    """A parsed, allowed expression and the names and functions it uses."""

    text: str
    tree: exp.Expr

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_name(c) for c in self.tree.find_all(exp.Column)))

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(str(f.this).lower() for f in self.tree.find_all(exp.Anonymous)))

    def calls(self, function: str) -> Iterator[exp.Anonymous]:
        for node in self.tree.find_all(exp.Anonymous):
            if str(node.this).lower() == function:
                yield node


def parse(text: str, *, formula: bool = False) -> Expression:
    """Parse and check one expression; raise ExpressionError with a fix hint."""
    try:
        tree = sqlglot.parse_one(text, dialect="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).splitlines()[0]
        raise ExpressionError(f"cannot parse {text!r}: {first}") from None
    if tree is None:
        raise ExpressionError("the expression is empty")
    functions = {**ROW_FUNCTIONS, **(FORMULA_FUNCTIONS if formula else {})}
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(
                f"{node.sql(dialect='duckdb')!r} in {text!r} is not allowed; use columns or "
                "metrics, numbers, 'strings', comparisons, and/or/not, in (...), is null, "
                "between, + - * /, || (joins text), and the functions coalesce, least, "
                f"greatest, abs, lower, upper, {', '.join(functions)}"
            )
        if isinstance(node, exp.Column) and node.table:
            raise ExpressionError(
                f"{node.sql()!r} in {text!r}: name a column of the metric's entity without a "
                "table prefix; metrics that need another table read one of the derived entities "
                "(see `partnerscope metrics entities`)"
            )
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name not in functions:
                hint = (
                    " (only formulas may use it)"
                    if name in FORMULA_FUNCTIONS
                    else f"; functions are {', '.join(functions)}"
                )
                raise ExpressionError(f"unknown function {name!r} in {text!r}{hint}")
            if len(node.expressions) != functions[name]:
                raise ExpressionError(
                    f"{name}() in {text!r} takes {functions[name]} argument"
                    f"{'s' if functions[name] > 1 else ''}"
                )
    return Expression(text, tree)


def _name(column: exp.Column) -> str:
    return str(column.name)


Resolve = Callable[[str], "ir.Value"]
#: Translates a formula-only function call; receives the call's argument trees.
CallFormula = Callable[[str, list[exp.Expression]], "ir.Value"]


def to_ibis(tree: exp.Expr, resolve: Resolve, call: CallFormula | None = None) -> ir.Value:
    """Translate a checked tree. Division is null-safe and in floating point (x / 0 is null)."""
    import ibis

    def go(node: Any) -> Any:
        if isinstance(node, exp.Paren):
            return go(node.this)
        if isinstance(node, exp.Column):
            return resolve(_name(node))
        if isinstance(node, exp.Literal):
            if node.is_string:
                return ibis.literal(str(node.this))
            number = node.to_py()
            return ibis.literal(float(number) if isinstance(number, Decimal) else number)
        if isinstance(node, exp.Boolean):
            return ibis.literal(bool(node.this))
        if isinstance(node, exp.Null):
            return ibis.null()
        if isinstance(node, exp.And):
            return go(node.this) & go(node.expression)
        if isinstance(node, exp.Or):
            return go(node.this) | go(node.expression)
        if isinstance(node, exp.Not):
            inner = node.this
            if isinstance(inner, exp.Is):
                return go(inner.this).notnull()
            return ~go(inner)
        if isinstance(node, exp.Is):
            return go(node.this).isnull()
        if isinstance(node, exp.In):
            return go(node.this).isin([go(e) for e in node.expressions])
        if isinstance(node, exp.Between):
            return go(node.this).between(go(node.args["low"]), go(node.args["high"]))
        if type(node) in _COMPARISONS:
            return _COMPARISONS[type(node)](go(node.this), go(node.expression))
        if type(node) in _ARITHMETIC:
            return _ARITHMETIC[type(node)](go(node.this), go(node.expression))
        if isinstance(node, exp.Div):
            return divide(go(node.this), go(node.expression))
        if isinstance(node, exp.DPipe):
            return go(node.this).cast("string").concat(go(node.expression).cast("string"))
        if isinstance(node, exp.Neg):
            return -go(node.this)
        if isinstance(node, exp.Coalesce):
            return ibis.coalesce(go(node.this), *[go(e) for e in node.expressions])
        if isinstance(node, exp.Least):
            return ibis.least(go(node.this), *[go(e) for e in node.expressions])
        if isinstance(node, exp.Greatest):
            return ibis.greatest(go(node.this), *[go(e) for e in node.expressions])
        if isinstance(node, exp.Abs):
            return go(node.this).abs()
        if isinstance(node, exp.Lower):
            return go(node.this).lower()
        if isinstance(node, exp.Upper):
            return go(node.this).upper()
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name in ROW_FUNCTIONS:
                start, end = (go(a) for a in node.expressions)
                seconds = _epoch(end) - _epoch(start)
                return seconds / (86400.0 if name == "days_between" else 3600.0)
            if call is not None:
                return call(name, list(node.expressions))
        raise ExpressionError(f"cannot translate {node.sql()!r}")  # parse() lets none through

    result: ir.Value = go(tree)
    return result


def divide(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator in floating point; null where the denominator is 0 or null."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)


def _epoch(value: Any) -> Any:
    if value.type().is_date():
        value = value.cast("timestamp")
    # EPOCH is fractional; Ibis types it as an integer, so say float before it is used
    return value.epoch_seconds().cast("float64")
