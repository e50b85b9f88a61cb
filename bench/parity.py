"""Do two contenders' results agree? The one comparison every benchmark uses (shared by bench/*.py).

    python bench/parity.py --selftest     # two tables that differ: must print both and exit 1

Two Arrow tables are matched on a **full outer join of their key columns**: a key on one side
only is a mismatch, and so is a key that occurs twice on one side. Every other column named is
compared row by row, by its Arrow type on either side:

- a decimal on either side (money): **exactly**, at the decimal's scale; a contender that holds
  money as a float is rounded to that scale (cents) first, as a report of money would be;
- otherwise a float on either side, unless the column is listed as ``exact``: within
  ``rel_tol`` relative (``math.isclose`` without an absolute floor), NaN equal to NaN, ±inf
  only to itself;
- everything else (integers and counts, text, dates, timestamps, booleans), and float columns
  listed as ``exact``: **exactly**;
- a null equals only a null (a null is not a NaN).

These are the rules of ``assert_same`` in tests/test_engine_parity.py, which the engine parity
tests use (bench/ does not import tests/); ``same_schema=True`` adds its check that both tables
have the same Arrow schema. A column named for comparison but missing on one side is a mismatch.

A benchmark prints :meth:`Comparison.lines` (what disagrees: rows on one side only, and per
column the number of rows that differ and the first of them) and exits with
:func:`exit_code` — 1 on any mismatch. ``--corrupt`` in a benchmark feeds the comparison a copy
of one contender's result with :func:`corrupt` applied (one value changed, one row dropped), so
that the check can be seen to fail.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

#: Doubles agree within this relative difference unless a benchmark says otherwise.
REL_TOL = 1e-9
#: Rows of each kind of disagreement printed.
EXAMPLES = 5


@dataclass
class Comparison:
    """The outcome of comparing ``names[0]`` (left) with ``names[1]`` (right)."""

    names: tuple[str, str]
    keys: tuple[str, ...]
    rows: tuple[int, int]
    #: keys on one side only, and their count
    only: tuple[int, int]
    only_examples: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]
    #: keys that occur more than once on a side
    duplicates: tuple[int, int]
    #: column -> how it was compared ("exact", "decimal(2)", "float 1e-09")
    rules: dict[str, str]
    #: column -> rows (of those on both sides) whose values differ
    mismatches: dict[str, int]
    #: column -> (key, left value, right value) of the first differing rows
    examples: dict[str, list[tuple[tuple[Any, ...], Any, Any]]]
    #: columns named for comparison that one side does not have
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: schema differences, when asked for (same_schema=True)
    schema: list[str] = field(default_factory=list)
    #: what is compared, for the printed lines (default: "left vs right")
    title: str = ""

    @property
    def agree(self) -> bool:
        return not (
            any(self.only)
            or any(self.duplicates)
            or any(self.mismatches.values())
            or self.missing
            or self.schema
        )

    def rule_text(self) -> str:
        kinds: dict[str, list[str]] = {}
        for column, rule in self.rules.items():
            kinds.setdefault(rule, []).append(column)
        return "; ".join(f"{rule}: {len(cols)}" for rule, cols in sorted(kinds.items()))

    def lines(self, title: str | None = None) -> list[str]:
        """What to print: one line when they agree, else every kind of disagreement."""
        left, right = self.names
        title = title or self.title or f"{left} vs {right}"
        keys = ", ".join(self.keys)
        if self.agree:
            return [
                f"OK {title}: agree on all {self.rows[0]:,} rows (full outer join on {keys}) × "
                f"{len(self.rules)} columns ({self.rule_text()})"
            ]
        out = [
            f"MISMATCH {title}: {left} {self.rows[0]:,} rows, {right} {self.rows[1]:,} rows "
            f"(full outer join on {keys})"
        ]
        out += [f"  schema: {line}" for line in self.schema]
        for side, columns in self.missing.items():
            out.append(f"  columns missing from {side}: {', '.join(columns)}")
        for side, count in zip(self.names, self.duplicates, strict=True):
            if count:
                out.append(f"  {count:,} keys occur more than once in {side}")
        for side, count, examples in zip(self.names, self.only, self.only_examples, strict=True):
            if count:
                out.append(f"  {count:,} rows only in {side}, e.g.:")
                out += [f"    {_key(k)}" for k in examples]
        for column, count in self.mismatches.items():
            if count:
                out.append(
                    f"  {column} ({self.rules[column]}): {count:,} rows differ, e.g. "
                    f"key: {left} | {right}"
                )
                out += [
                    f"    {_key(k)}: {_value(a)} | {_value(b)}"
                    for k, a, b in self.examples.get(column, [])
                ]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "title": self.title,
            "names": list(self.names),
            "keys": list(self.keys),
            "rows": list(self.rows),
            "only": list(self.only),
            "duplicates": list(self.duplicates),
            "rules": self.rules,
            "mismatches": self.mismatches,
            "missing": {k: list(v) for k, v in self.missing.items()},
            "schema": self.schema,
            "examples": {
                c: [[list(k), str(a), str(b)] for k, a, b in ex] for c, ex in self.examples.items()
            },
        }


def _value(value: Any) -> str:
    """A value as printed: text quoted (so that "" and None differ), numbers as they are."""
    return repr(value) if isinstance(value, str) or value is None else str(value)


def _key(values: tuple[Any, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compare(
    left: pa.Table,
    right: pa.Table,
    keys: Sequence[str],
    *,
    names: tuple[str, str] = ("left", "right"),
    columns: Sequence[str] | None = None,
    exact: Iterable[str] = (),
    rel_tol: float = REL_TOL,
    same_schema: bool = False,
    examples: int = EXAMPLES,
    title: str = "",
) -> Comparison:
    """Compare two tables on a full outer join of ``keys`` (see the module's rules).

    ``columns``: the columns compared (default: every non-key column of either side);
    ``exact``: float columns compared exactly (counts a contender holds as floats)."""
    keys = tuple(keys)
    exact = set(exact)
    if columns is None:
        seen = [*left.column_names, *(c for c in right.column_names if c not in left.column_names)]
        columns = [c for c in seen if c not in keys]
    missing = {
        side: tuple(c for c in [*keys, *columns] if c not in table.column_names)
        for side, table in zip(names, (left, right), strict=True)
    }
    missing = {side: cols for side, cols in missing.items() if cols}
    if any(k in cols for cols in missing.values() for k in keys):
        raise ValueError(f"a key column is missing: {missing}")
    compared = [c for c in columns if not any(c in cols for cols in missing.values())]
    schema: list[str] = []
    if same_schema and left.schema != right.schema:
        theirs = {f.name: f for f in right.schema}
        for f in left.schema:
            other = theirs.get(f.name)
            if other is not None and other.type != f.type:
                schema.append(f"{f.name}: {f.type} in {names[0]}, {other.type} in {names[1]}")
        if [f.name for f in left.schema] != [f.name for f in right.schema]:
            schema.append(f"columns {left.column_names} vs {right.column_names}")
        schema = schema or ["the schemas differ (metadata or nullability)"]

    types = {c: (left.schema.field(c).type, right.schema.field(c).type) for c in compared}
    rules = {c: _rule(*types[c], c in exact, rel_tol) for c in compared}
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        con.register("l_in", left)
        con.register("r_in", right)
        on = " AND ".join(f"l.{_quote(k)} IS NOT DISTINCT FROM r.{_quote(k)}" for k in keys)
        con.execute(
            "CREATE TEMP TABLE j AS SELECT "
            + ", ".join(
                [
                    *(
                        f"coalesce(l.{_quote(k)}, r.{_quote(k)}) AS k{i}"
                        for i, k in enumerate(keys)
                    ),
                    "l.__present AS in_l",
                    "r.__present AS in_r",
                    *(
                        f"NOT ({_same(c, rules[c], types[c])}) AS d{i}"
                        for i, c in enumerate(compared)
                    ),
                    *(
                        f"l.{_quote(c)} AS l{i}, r.{_quote(c)} AS r{i}"
                        for i, c in enumerate(compared)
                    ),
                ]
            )
            + " FROM (SELECT *, TRUE AS __present FROM l_in) l "
            f"FULL OUTER JOIN (SELECT *, TRUE AS __present FROM r_in) r ON {on}"
        )
        key_list = ", ".join(_quote(k) for k in keys)
        dupes = []
        for table in ("l_in", "r_in"):
            row = con.execute(
                f"SELECT count(*) FROM (SELECT {key_list} FROM {table} GROUP BY ALL "
                "HAVING count(*) > 1)"
            ).fetchone()
            dupes.append(int(row[0]) if row else 0)
        both = "in_l AND in_r"
        counts = con.execute(
            "SELECT "
            + ", ".join(
                [
                    "count(*) FILTER (WHERE in_l)",
                    "count(*) FILTER (WHERE in_r)",
                    "count(*) FILTER (WHERE in_l AND in_r IS NULL)",
                    "count(*) FILTER (WHERE in_r AND in_l IS NULL)",
                    *(f"count(*) FILTER (WHERE {both} AND d{i})" for i in range(len(compared))),
                ]
            )
            + " FROM j"
        ).fetchone()
        assert counts is not None
        order = ", ".join(f"k{i}" for i in range(len(keys)))
        key_cols = ", ".join(f"k{i}" for i in range(len(keys)))
        only_examples = tuple(
            [
                tuple(r)
                for r in con.execute(
                    f"SELECT {key_cols} FROM j WHERE {side} AND {other} IS NULL "
                    f"ORDER BY {order} LIMIT {examples}"
                ).fetchall()
            ]
            for side, other in (("in_l", "in_r"), ("in_r", "in_l"))
        )
        mismatches = dict(zip(compared, (int(v) for v in counts[4:]), strict=True))
        found: dict[str, list[tuple[tuple[Any, ...], Any, Any]]] = {}
        for i, column in enumerate(compared):
            if mismatches[column]:
                rows = con.execute(
                    f"SELECT {key_cols}, l{i}, r{i} FROM j WHERE {both} AND d{i} "
                    f"ORDER BY {order} LIMIT {examples}"
                ).fetchall()
                found[column] = [(tuple(r[: len(keys)]), r[-2], r[-1]) for r in rows]
    finally:
        con.close()
    return Comparison(
        names=names,
        keys=keys,
        rows=(left.num_rows, right.num_rows),
        only=(int(counts[2]), int(counts[3])),
        only_examples=(only_examples[0], only_examples[1]),
        duplicates=(dupes[0], dupes[1]),
        rules=rules,
        mismatches=mismatches,
        examples=found,
        missing=missing,
        schema=schema,
        title=title,
    )


def _rule(a: pa.DataType, b: pa.DataType, exact: bool, rel_tol: float) -> str:
    decimals = [t for t in (a, b) if pa.types.is_decimal(t)]
    if decimals:
        return f"decimal({max(t.scale for t in decimals)})"
    if exact or not any(pa.types.is_floating(t) for t in (a, b)):
        return "exact"
    return f"float {rel_tol:g}"


def _same(column: str, rule: str, types: tuple[pa.DataType, pa.DataType]) -> str:
    """SQL that is true when the two sides' values of ``column`` agree under ``rule``."""
    a, b = f"l.{_quote(column)}", f"r.{_quote(column)}"
    if rule.startswith("decimal("):
        scale = int(rule[len("decimal(") : -1])
        # NaN and ±inf are never money: a float side holding one differs
        odd = [
            f"NOT isfinite({x})"
            for x, t in zip((a, b), types, strict=True)
            if pa.types.is_floating(t)
        ]
        return (
            f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN {a} IS NULL AND {b} IS NULL "
            + (f"WHEN {' OR '.join(odd)} THEN FALSE " if odd else "")
            + f"ELSE CAST({a} AS DECIMAL(38, {scale})) = CAST({b} AS DECIMAL(38, {scale})) END"
        )
    if rule == "exact":
        return f"{a} IS NOT DISTINCT FROM {b}"
    tol = float(rule.split()[1])
    x, y = f"{a}::DOUBLE", f"{b}::DOUBLE"
    return (
        f"CASE WHEN {x} IS NULL OR {y} IS NULL THEN {x} IS NULL AND {y} IS NULL "
        f"WHEN isnan({x}) OR isnan({y}) THEN isnan({x}) AND isnan({y}) "
        f"WHEN isinf({x}) OR isinf({y}) THEN {x} = {y} "
        f"ELSE {x} = {y} OR abs({x} - {y}) <= {tol!r} * greatest(abs({x}), abs({y})) END"
    )


def exit_code(comparisons: Iterable[Comparison]) -> int:
    """1 when any comparison found a mismatch, else 0 (a benchmark's exit status)."""
    return 0 if all(c.agree for c in comparisons) else 1


def corrupt(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``table`` with one value changed and its last row dropped (``--corrupt``): the value is
    the first non-null one of the first non-key column that can be changed (a number plus one,
    a text with ``"?"`` appended, a boolean flipped)."""
    if table.num_rows < 2:
        raise ValueError("--corrupt needs a result of two rows at least")
    table = table.slice(0, table.num_rows - 1)
    for name in table.column_names:
        kind = table.schema.field(name).type
        if name in keys or not (
            pa.types.is_boolean(kind)
            or pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_decimal(kind)
        ):
            continue
        values = table[name].to_pylist()
        at = next((i for i, v in enumerate(values) if v is not None), None)
        if at is None:
            continue
        first = values[at]
        if isinstance(first, bool):
            values[at] = not first
        elif isinstance(first, str):
            values[at] = first + "?"
        else:
            values[at] = first + 1
        column = pa.array(values, type=kind)
        return table.set_column(table.column_names.index(name), name, column)
    raise ValueError("--corrupt found no value to change")


def print_lines(lines: Iterable[str], console: Any = None) -> None:
    """Print a comparison's lines: through a rich console without markup, or plain."""
    for line in lines:
        if console is None:
            print(line)
        else:
            console.print(line, markup=False, highlight=False)


def selftest() -> int:
    """Two small tables that differ in one value and one missing row: the comparison must
    find exactly that (and agree on identical tables). Exits 1, the status of a benchmark
    whose contenders disagree; 2 if the comparison itself is broken."""
    from decimal import Decimal

    left = pa.table(
        {
            "partner_id": ["P1", "P1", "P2", "P3"],
            "quarter": ["2025-Q1", "2025-Q2", "2025-Q1", "2025-Q1"],
            "won_deals": [3, 1, 0, 7],
            "won_revenue": pa.array(
                [Decimal("1200.50"), Decimal("99.99"), Decimal("0.00"), Decimal("70.00")],
                pa.decimal128(18, 2),
            ),
            "win_rate": [0.75, 0.5, None, 0.7],
        }
    )
    # another contender: money as floats, a rounding crumb in a
    # rate, one count changed and the row P3 2025-Q1 missing
    right = pa.table(
        {
            "partner_id": ["P1", "P2", "P1"],
            "quarter": ["2025-Q2", "2025-Q1", "2025-Q1"],
            "won_deals": [1, 0, 4],
            "won_revenue": [99.99, 0.0, 1200.5],
            "win_rate": [0.5 * (1 + 1e-12), None, 0.75],
        }
    )
    keys = ("partner_id", "quarter")
    same = compare(left, left, keys, names=("a", "a again"))
    print_lines(same.lines("a table against itself"))
    found = compare(left, right, keys, names=("sql", "pandas"))
    print_lines(found.lines("the self-test's two tables (one value changed, one row missing)"))
    expected = (
        found.only == (1, 0)
        and found.only_examples[0] == [("P3", "2025-Q1")]
        and found.mismatches == {"won_deals": 1, "won_revenue": 0, "win_rate": 0}
        and found.examples["won_deals"] == [(("P1", "2025-Q1"), 3, 4)]
        and found.rules
        == {"won_deals": "exact", "won_revenue": "decimal(2)", "win_rate": f"float {REL_TOL:g}"}
    )
    if not same.agree or not expected:
        print("SELF-TEST BROKEN: the comparison did not find exactly the planted differences")
        return 2
    print("self-test: the planted value and the missing row were found; exit status 1")
    return exit_code([found])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="compare two tables that differ in one value and one row; exits 1",
    )
    args = parser.parse_args(argv)
    if args.selftest:
        return selftest()
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
