"""The SQL that turns a staged export into canonical rows, each with the problems that stop it.

Everything here builds DuckDB SQL text from the table definition and the source's mapping; the
loader runs it. Steps, each a relation:

1. *lines*: blanks and null tokens become NULL, each canonical column is taken from its source
   column, constant or expression, value-mapped, defaulted and parsed to its type; a list of
   problems (missing, unreadable, not allowed, out of range) is attached to every line;
2. *records*: with ``rollup`` the lines sharing a key become one record (money summed);
3. *checked*: table checks, the FX rate of the row's reference date and foreign keys add their
   problems; a record with no problem loads, any other is quarantined with the first problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from partnerscope.config import ColumnMapping, LookupKey, SourceConfig
from partnerscope.schema import TABLES, Column, ColumnType, Table

PROBLEMS = "__problems"
ROW = "__row"
#: With rollup: the first line of a record that has a problem of its own.
BAD_LINE = "__bad_line"
#: Money keeps sub-cent digits until it is converted and rounded; a rate keeps every digit its
#: storage type (DECIMAL(18,8)) holds.
DECIMAL_PARSE = {ColumnType.MONEY: "DECIMAL(38,6)", ColumnType.RATE: "DECIMAL(38,8)"}
#: Magnitudes the storage types cannot hold (DECIMAL(18,2), DECIMAL(18,8)); such rows are
#: quarantined instead of failing the whole ingest.
STORAGE_LIMIT = {ColumnType.MONEY: 1e16, ColumnType.RATE: 1e10}
#: A time of day followed by a UTC offset; "2024-03-10" ends in "-10" but is a local date.
_UTC_OFFSET = r"\d:\d\d(:\d\d)?(\.\d+)?\s*(Z|UTC|GMT|[+-]\d\d(:?\d\d)?)$"
_TRUE = ("true", "t", "yes", "y", "1", "1.0", "x", "won", "closed won")
_FALSE = ("false", "f", "no", "n", "0", "0.0")
_TYPE_WORDS = {
    ColumnType.INTEGER: "a whole number",
    ColumnType.NUMBER: "a number",
    ColumnType.MONEY: "an amount",
    ColumnType.RATE: "a rate",
    ColumnType.DATE: "a date",
    ColumnType.TIMESTAMP: "a date and time",
    ColumnType.BOOLEAN: "true or false",
    ColumnType.CURRENCY: "a three-letter currency code",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def raw_name(column: str) -> str:
    return f"__raw_{column}"


#: Prefixes of the columns a lookup or aggregate adds to a line: its value, the key it found no
#: row for and why.
LOOKED_UP, MISSED_KEY, MISSED = "__lookup_", "__missed_key_", "__missed_"


@dataclass(frozen=True)
class LookupTable:
    """A ``[lookups]`` entry as read for one ingest: a DuckDB table of its rows as text."""

    name: str
    #: the DuckDB table of its rows (its file columns, cleaned, and ROW)
    table: str
    #: its files as shown to the user
    files: str
    key: str | None
    #: its columns whose every value is a plain number: aggregated as numbers
    numeric: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    #: per column: its cells that are not blank, and how many of them each null token blanked
    filled: Mapping[str, int] = field(default_factory=dict)
    blanked: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The transformation of one source's file into one canonical table."""

    table: Table
    source_name: str
    source: SourceConfig
    file_columns: tuple[str, ...]
    base_currency: str
    reporting_timezone: str
    source_timezone: str
    null_values: tuple[str, ...]
    #: blanked only in columns of a type other than text
    typed_null_values: tuple[str, ...] = ()
    lookups: Mapping[str, LookupTable] = field(default_factory=dict)

    # -- which columns come from where -------------------------------------------------------

    def mappings(self) -> dict[str, ColumnMapping]:
        return {c.name: m for c in self.table.columns if (m := self.source.mapping(c.name))}

    def missing_file_columns(self) -> list[tuple[str, str]]:
        """(canonical column, source column) pairs whose source column the file lacks."""
        present = set(self.file_columns)
        return [
            (name, column)
            for name, m in self.mappings().items()
            for column in m.file_columns()
            if column not in present
        ]

    def used_file_columns(self) -> tuple[str, ...]:
        """The file's columns the mappings read, in file order.

        A file may have thousands of columns the source never maps; cleaning each of them made
        DuckDB build one expression per column and run out of memory (or crash) on a wide file.
        An expr may name any column, so a column is kept when its name appears in an expr's
        text (a superset of what it reads), and every column when an expr uses ``*`` or
        ``COLUMNS(...)``.
        """
        mappings = self.mappings().values()
        exprs = [m.expr.lower() for m in mappings if m.expr is not None]
        if any("*" in e or "columns" in e for e in exprs):
            return self.file_columns
        direct = {c for m in mappings for c in m.file_columns()}
        return tuple(
            c for c in self.file_columns if c in direct or any(c.lower() in e for e in exprs)
        )

    def _origin(self, col: Column) -> str:
        mapping = self.source.mapping(col.name)
        if mapping is None:
            return "not mapped"
        if mapping.lookup is not None:
            return f"from {mapping.column!r} of {mapping.lookup}"
        if mapping.aggregate is not None:
            return f"the {mapping.aggregate} over {mapping.source}"
        if mapping.column is not None:
            return f"from column {mapping.column!r}"
        return "from a constant" if mapping.constant is not None else "from an expression"

    # -- step 1: lines -----------------------------------------------------------------------

    def lines_sql(self, staged: str) -> str:
        nulls = ", ".join(lit(v) for v in ("", *self.null_values))
        clean = "".join(
            f", CASE WHEN trim(CAST({quote(c)} AS VARCHAR)) IN ({nulls}) THEN NULL "
            f"ELSE trim(CAST({quote(c)} AS VARCHAR)) END AS {quote(c)}"
            for c in self.used_file_columns()
        )
        raws = ", ".join(
            f"{self._raw_sql(c)} AS {quote(raw_name(c.name))}" for c in self.table.columns
        )
        linked_columns, joins = self._linked()
        missed = "".join(
            f", clean.{quote(MISSED + c)}, clean.{quote(MISSED_KEY + c)}"
            for c in self._linked_names()
        )
        parsed = ", ".join(f"{self._parse_sql(c)} AS {quote(c.name)}" for c in self.table.columns)
        problems = [p for c in self.table.columns for p in self._line_problems(c)]
        return (
            f"WITH clean AS (SELECT {ROW}{clean} FROM {staged}),\n"
            f"linked AS (SELECT clean.*{linked_columns} FROM clean {joins}),\n"
            f"raw AS (SELECT {ROW}, {raws}{missed} FROM linked clean),\n"
            f"parsed AS (SELECT *, {parsed} FROM raw)\n"
            f"SELECT *, {_problem_list(problems)} AS {PROBLEMS} FROM parsed"
        )

    def _linked_names(self) -> list[str]:
        """The canonical columns filled from a lookup or an aggregate."""
        return [name for name, m in self.mappings().items() if m.lookup is not None or m.aggregate]

    def _linked(self) -> tuple[str, str]:
        """The columns (value, missed key, reason) that lookups and aggregates add to each
        line, and the joins that find them."""
        columns, joins = [], []
        n = 0
        for name in self._linked_names():
            mapping = self.mappings()[name]
            misses: list[tuple[str, str]] = []  # (key SQL, message SQL)
            if mapping.aggregate is not None:
                assert mapping.source is not None and isinstance(mapping.key, str)
                lines = self.lookups[mapping.source]
                alias, n = f"__agg{n}", n + 1
                parent = f"clean.{quote(mapping.parent_key or mapping.key)}"
                expr = quote(mapping.column) if mapping.column is not None else mapping.expr
                typed = ", ".join(
                    f"TRY_CAST({quote(c)} AS DECIMAL(38,6)) AS {quote(c)}" for c in lines.numeric
                )
                replace = f" REPLACE ({typed})" if typed else ""
                rows = f"(SELECT {quote(mapping.key)} AS __key, *{replace} FROM {lines.table})"
                value = f"{mapping.aggregate}({expr or '*'})"
                joins.append(
                    f"LEFT JOIN (SELECT __key, CAST({value} AS VARCHAR) AS __value, "
                    f"count(*) AS __lines FROM {rows} WHERE __key IS NOT NULL GROUP BY __key) "
                    f"{alias} ON {alias}.__key = {parent}"
                )
                if mapping.aggregate == "count":
                    columns.append(f"coalesce({alias}.__value, '0') AS {quote(LOOKED_UP + name)}")
                else:
                    columns.append(f"{alias}.__value AS {quote(LOOKED_UP + name)}")
                    misses.append(
                        (
                            f"CASE WHEN {alias}.__lines IS NULL THEN {parent} END",
                            f"{lit(f'{mapping.parent_key or mapping.key} ')} || {parent} || "
                            f"{lit(f' has no lines in {lines.name} ({lines.files})')}",
                        )
                    )
            else:
                key = ""
                for hop in mapping.lookup_chain():
                    table = self.lookups[hop.lookup]
                    alias, n = f"__lk{n}", n + 1
                    if isinstance(hop.key, LookupKey):
                        said, origin = f"{hop.key.column} ", f" (from {hop.key.lookup})"
                    else:
                        key, said, origin = f"clean.{quote(hop.key)}", f"{hop.key} ", ""
                    joins.append(
                        f"LEFT JOIN {table.table} {alias} ON {alias}.{quote(table.key or '')} "
                        f"= {key}"
                    )
                    misses.append(
                        (
                            f"CASE WHEN {alias}.{ROW} IS NULL THEN {key} END",
                            f"{lit(said)} || {key} || "
                            f"{lit(f'{origin} is not in {table.name} ({table.files})')}",
                        )
                    )
                    key = f"{alias}.{quote(hop.column)}"
                columns.append(f"{key} AS {quote(LOOKED_UP + name)}")
            missed_key = (
                "coalesce(" + ", ".join(k for k, _ in misses) + ")" if misses else "NULL::VARCHAR"
            )
            reason = " ".join(f"WHEN ({k}) IS NOT NULL THEN {message}" for k, message in misses)
            columns.append(f"{missed_key} AS {quote(MISSED_KEY + name)}")
            columns.append(
                f"CASE {reason} END AS {quote(MISSED + name)}"
                if misses
                else f"NULL::VARCHAR AS {quote(MISSED + name)}"
            )
        return "".join(f", {c}" for c in columns), " ".join(joins)

    def _raw_sql(self, col: Column) -> str:
        mapping = self.source.mapping(col.name)
        if mapping is None:
            default = self._default(col)
            return "NULL::VARCHAR" if default is None else lit(default)
        if mapping.lookup is not None or mapping.aggregate is not None:
            value = f"clean.{quote(LOOKED_UP + col.name)}"
        elif mapping.column is not None:
            value = f"clean.{quote(mapping.column)}"
        elif mapping.constant is not None:
            constant = mapping.constant
            value = lit(str(constant).lower() if isinstance(constant, bool) else constant)
        else:
            value = f"CAST(({mapping.expr}) AS VARCHAR)"
        if self.typed_null_values and col.type is not ColumnType.STRING:
            tokens = ", ".join(lit(v) for v in self.typed_null_values)
            value = f"(CASE WHEN {value} IN ({tokens}) THEN NULL ELSE {value} END)"
        # otherwise replaces unlisted values only: a blank cell stays blank (then default)
        otherwise = (
            f"(CASE WHEN {value} IS NULL THEN NULL ELSE {lit(mapping.otherwise)} END)"
            if mapping.otherwise is not None
            else value
        )
        if mapping.map:
            cases = " ".join(
                f"WHEN {lit(k.strip().lower())} THEN {lit(v)}" for k, v in mapping.map.items()
            )
            value = f"(CASE lower({value}) {cases} ELSE {otherwise} END)"
        else:
            value = otherwise
        if mapping.default is not None:
            value = f"coalesce({value}, {lit(mapping.default)})"
        return value

    def _default(self, col: Column) -> str | None:
        if col.default is None:
            return None
        return col.default.replace("{base_currency}", self.base_currency)

    def _format(self, col: Column) -> str | None:
        mapping = self.source.mapping(col.name)
        if mapping is not None and mapping.format:
            return mapping.format
        if col.type is ColumnType.DATE:
            return self.source.date_format
        if col.type is ColumnType.TIMESTAMP:
            return self.source.timestamp_format or self.source.date_format
        return None

    def _parse_sql(self, col: Column) -> str:
        raw = quote(raw_name(col.name))
        mapping = self.source.mapping(col.name)
        scale = mapping.scale if mapping is not None else None
        fmt = self._format(col)
        match col.type:
            case ColumnType.STRING:
                return f"lower({raw})" if col.allowed else raw
            case ColumnType.CURRENCY:
                return f"upper({raw})"
            case ColumnType.INTEGER:
                number = f"TRY_CAST({self._number(raw)} AS DOUBLE)"
                scaled = f"{number} * {scale}" if scale is not None else number
                return f"CASE WHEN {scaled} = round({scaled}) THEN TRY_CAST({scaled} AS BIGINT) END"
            case ColumnType.NUMBER:
                number = f"TRY_CAST({self._number(raw)} AS DOUBLE)"
                return f"{number} * {scale}" if scale is not None else number
            case ColumnType.MONEY | ColumnType.RATE:
                decimal = DECIMAL_PARSE[col.type]
                number = f"TRY_CAST({self._number(raw)} AS {decimal})"
                if scale is not None:
                    number = f"{number} * CAST({scale!r} AS {decimal})"
                return number
            case ColumnType.DATE:
                if fmt:
                    return f"CAST(TRY_STRPTIME({raw}, {lit(fmt)}) AS DATE)"
                return (
                    f"coalesce(TRY_CAST({raw} AS DATE), CAST(TRY_CAST({raw} AS TIMESTAMP) AS DATE))"
                )
            case ColumnType.TIMESTAMP:
                return self._timestamp(raw, fmt)
            case ColumnType.BOOLEAN:
                return (
                    f"CASE WHEN lower({raw}) IN ({', '.join(map(lit, _TRUE))}) THEN true "
                    f"WHEN lower({raw}) IN ({', '.join(map(lit, _FALSE))}) THEN false END"
                )
        raise AssertionError(f"unhandled column type {col.type}")  # pragma: no cover

    def _number(self, raw: str) -> str:
        """Text of a number with currency signs and grouping removed, '.' as decimal mark."""
        text = f"regexp_replace({raw}, '[\\s$€£¥]', '', 'g')"
        dec, thou = self.source.decimal_separator, self.source.thousands_separator
        if dec == ",":
            grouped = re.escape(thou) if thou else "@"
            pattern = lit(rf"-?\d{{1,3}}({grouped}\d{{3}})+(,\d*)?")
            text = (
                f"replace(CASE WHEN regexp_full_match({text}, {pattern}) THEN replace({text}, "
                f"{lit(thou)}, '') ELSE {text} END, ',', '.')"
            )
        elif thou:
            # grouping is removed only where it really is grouping: 1,234,567.89 but not 12,5
            pattern = lit(rf"-?\d{{1,3}}({re.escape(thou)}\d{{3}})+(\.\d*)?")
            text = (
                f"CASE WHEN regexp_full_match({text}, {pattern}) "
                f"THEN replace({text}, {lit(thou)}, '') ELSE {text} END"
            )
        return text

    def _timestamp(self, raw: str, fmt: str | None) -> str:
        """UTC timestamp: explicit offsets are honoured, naive times are in the source zone."""
        if fmt and ("%z" in fmt or "%Z" in fmt):
            return f"timezone('UTC', TRY_STRPTIME({raw}, {lit(fmt)})::TIMESTAMPTZ)"
        naive = f"TRY_STRPTIME({raw}, {lit(fmt)})" if fmt else f"TRY_CAST({raw} AS TIMESTAMP)"
        if self.source_timezone != "UTC":
            naive = f"timezone('UTC', timezone({lit(self.source_timezone)}, {naive}))"
        if fmt:
            return naive
        offset = f"regexp_matches({raw}, {lit(_UTC_OFFSET)})"
        return (
            f"CASE WHEN {offset} THEN timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ)) "
            f"ELSE {naive} END"
        )

    def _any_amount(self) -> str:
        """SQL true when the row holds an amount to convert ('' for a table without money)."""
        return " OR ".join(f"{quote(m.name)} IS NOT NULL" for m in self.table.money_columns)

    def _line_problems(self, col: Column) -> list[Problem]:
        raw, value = quote(raw_name(col.name)), quote(col.name)
        origin = self._origin(col)
        out = []
        if col.name in self._linked_names():
            # the row a lookup or aggregate needs is not there: named with its key
            out.append(
                Problem(
                    f"{quote(MISSED + col.name)} IS NOT NULL",
                    f"{{'rule': 'not_in_lookup', 'column': {lit(col.name)}, "
                    f"'value': {quote(MISSED_KEY + col.name)}, "
                    f"'message': {quote(MISSED + col.name)}}}",
                )
            )
        if col.required or col.name in self.table.key:
            out.append(
                _problem(
                    f"{raw} IS NULL",
                    "missing",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) is empty but required",
                )
            )
        if col.type in _TYPE_WORDS:
            fmt = self._format(col)
            expected = _TYPE_WORDS[col.type] + (f" in format {fmt}" if fmt else "")
            out.append(
                _problem(
                    f"{raw} IS NOT NULL AND {value} IS NULL",
                    f"not_{col.type}",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) is not {expected}",
                )
            )
        if col.type is ColumnType.CURRENCY:
            out.append(
                _problem(
                    f"NOT regexp_full_match({value}, '[A-Z]{{3}}')",
                    "not_currency",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) is not a three-letter currency code such as USD",
                )
            )
            if amounts := self._any_amount():
                # without its currency an amount cannot be converted; never assume the base
                out.append(
                    _problem(
                        f"{raw} IS NULL AND ({amounts})",
                        "missing",
                        col.name,
                        raw,
                        f"{col.name} ({origin}) is empty on a row with an amount; fill it in "
                        "the export",
                    )
                )
        if col.allowed:
            allowed = ", ".join(lit(a) for a in col.allowed)
            out.append(
                _problem(
                    f"{value} NOT IN ({allowed})",
                    "not_allowed",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) must be one of {', '.join(col.allowed)}; map the "
                    f"source value with sources.{self.source_name}.columns.{col.name}.map",
                )
            )
        if col.minimum is not None:
            out.append(
                _problem(
                    f"{value} < {col.minimum}",
                    "below_minimum",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) is below {col.minimum:g}",
                )
            )
        if col.maximum is not None:
            out.append(
                _problem(
                    f"{value} > {col.maximum}",
                    "above_maximum",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) is above {col.maximum:g}",
                )
            )
        if col.type in STORAGE_LIMIT:
            out.append(
                _problem(
                    f"abs(CAST({value} AS DOUBLE)) >= {STORAGE_LIMIT[col.type]:g}",
                    "above_maximum",
                    col.name,
                    raw,
                    f"{col.name} ({origin}) is too large to store "
                    f"(below {STORAGE_LIMIT[col.type]:g})",
                )
            )
        return out

    # -- step 2: records ---------------------------------------------------------------------

    def records_sql(self, lines: str) -> str:
        """Lines sharing a key as one record (rollup), or the lines themselves."""
        if not self.source.rollup:
            return f"SELECT * FROM {lines}"
        keys = ", ".join(quote(k) for k in self.table.key)
        aggs = []
        for col in self.table.columns:
            if col.name in self.table.key:
                continue
            mapping = self.source.mapping(col.name)
            how = (
                mapping.agg
                if mapping and mapping.agg
                else "sum"
                if col.type is ColumnType.MONEY
                else "first"
            )
            fn = {
                "first": "arg_min({c}, __row)",
                "last": "arg_max({c}, __row)",
                "sum": "sum({c})",
                "min": "min({c})",
                "max": "max({c})",
            }[how]
            aggs.append(f"{fn.format(c=quote(col.name))} AS {quote(col.name)}")
            aggs.append(
                f"arg_min({quote(raw_name(col.name))}, {ROW}) AS {quote(raw_name(col.name))}"
            )
        raws = ", ".join(
            f"arg_min({quote(raw_name(k))}, {ROW}) AS {quote(raw_name(k))}" for k in self.table.key
        )
        return (
            f"SELECT {keys}, min({ROW}) AS {ROW}, {raws}, {', '.join(aggs)}, "
            f"flatten(list({PROBLEMS} ORDER BY {ROW})) AS {PROBLEMS}, "
            f"min({ROW}) FILTER (WHERE NOT {no_problems()}) AS {BAD_LINE} "
            f"FROM {lines} GROUP BY ALL"
        )

    # -- step 3: checks, FX, references ------------------------------------------------------

    def checked_sql(self, records: str) -> str:
        checks = [
            _problem(
                f"NOT coalesce(({self._fill(c.sql)}), true)",
                c.rule,
                c.column,
                quote(raw_name(c.column)),
                self._fill(c.message),
            )
            for c in self.table.checks
        ]
        joins, found, hidden = [], ["r.*"], []
        if self.table.money_columns:
            base = lit(self.base_currency)
            # the as-of lookup runs on the few distinct (currency, date) pairs and an equality
            # join spreads the rates: far faster than an ASOF join over every row
            joins.append(
                "LEFT JOIN __fx fx ON r.currency = fx.currency AND r.__fx_date = fx.__fx_date"
            )
            found.append(
                f"CASE WHEN r.currency = {base} THEN CAST(1 AS DECIMAL(18,8)) "
                "ELSE fx.rate END AS fx_rate"
            )
            amounts = self._any_amount()
            checks.append(
                _problem(
                    # a row without a reference date has no rate either: its amount would be lost
                    f"fx_rate IS NULL AND currency IS NOT NULL AND ({amounts})",
                    "no_fx_rate",
                    "currency",
                    "currency || ' on ' || coalesce(CAST(__fx_date AS VARCHAR), 'no date')",
                    f"no FX rate into {self.base_currency} on or before the row's reference date; "
                    "add the rate to the fx_rates source",
                )
            )
            # a line's own amount was checked; a rollup's sum and any conversion can still
            # outgrow the storage type (the local amount is stored too)
            limit = STORAGE_LIMIT[ColumnType.MONEY]
            checks.extend(
                _problem(
                    " OR ".join(
                        f"abs(CAST({quote(m.name)} AS DOUBLE){factor}) >= {limit:g}"
                        for factor in ([""] if self.source.rollup else [])
                        + [" * CAST(fx_rate AS DOUBLE)"]
                    ),
                    "above_maximum",
                    m.name,
                    quote(raw_name(m.name)),
                    f"{m.name} is too large to store once summed or converted into "
                    f"{self.base_currency} (below {limit:g})",
                )
                for m in self.table.money_columns
            )
            hidden.append("__fx_date")
        for i, col in enumerate(c for c in self.table.columns if c.references):
            target = TABLES[col.references or ""]
            alias = f"__ref{i}"
            joins.append(
                f"LEFT JOIN (SELECT DISTINCT {quote(target.key[0])} AS k "
                f"FROM {target.name}) {alias} ON r.{quote(col.name)} = {alias}.k"
            )
            found.append(f"{alias}.k IS NOT NULL AS {alias}")
            hidden.append(alias)
            checks.append(
                _problem(
                    f"{quote(col.name)} IS NOT NULL AND NOT {alias}",
                    "unknown_reference",
                    col.name,
                    quote(raw_name(col.name)),
                    f"{col.name} is not in {target.name}; load it there first or correct the id",
                )
            )
        fx_date = (
            f", {self._local_dates(self.table.fx_date or 'NULL')} AS __fx_date"
            if (self.table.money_columns)
            else ""
        )
        exclude = f" EXCLUDE ({', '.join(hidden)})" if hidden else ""
        lookup = (
            ", __fx AS (SELECT d.currency, d.__fx_date, fx.rate FROM (SELECT DISTINCT currency, "
            "__fx_date FROM dated) d ASOF LEFT JOIN fx_rates fx ON d.currency = fx.currency "
            "AND d.__fx_date >= fx.rate_date)"
            if self.table.money_columns
            else ""
        )
        return (
            f"WITH dated AS (SELECT *{fx_date} FROM {records}){lookup},\n"
            f"joined AS (SELECT {', '.join(found)} FROM dated r {' '.join(joins)})\n"
            f"SELECT *{exclude} REPLACE (list_concat({PROBLEMS}, "
            f"{_problem_list(checks)}) AS {PROBLEMS}) "
            "FROM joined"
        )

    def _fill(self, text: str) -> str:
        return text.replace("{base_currency}", self.base_currency)

    def _local_dates(self, sql: str) -> str:
        """The FX reference-date SQL, with timestamps read as dates in the reporting time zone."""
        stamps = [c.name for c in self.table.columns if c.type is ColumnType.TIMESTAMP]
        if not stamps:
            return sql

        def local(match: re.Match[str]) -> str:
            name = match.group(0)
            if self.reporting_timezone == "UTC":
                return f"CAST({name} AS DATE)"
            return (
                f"CAST(timezone({lit(self.reporting_timezone)}, timezone('UTC', {name})) AS DATE)"
            )

        return re.sub(rf"\b({'|'.join(stamps)})\b", local, sql)


PROBLEM_TYPE = 'STRUCT(rule VARCHAR, "column" VARCHAR, value VARCHAR, message VARCHAR)[]'


def _problem_list(problems: list[Problem]) -> str:
    """The problems that apply, or NULL for none: a row without problems carries no list, which
    keeps the joins that follow fast. Test with :func:`no_problems`."""
    if not problems:
        return f"CAST(NULL AS {PROBLEM_TYPE})"
    any_problem = " OR ".join(f"({p.condition})" for p in problems)
    items = ", ".join(f"CASE WHEN ({p.condition}) THEN {p.struct} END" for p in problems)
    return (
        f"CASE WHEN {any_problem} THEN list_filter([{items}], lambda p: p IS NOT NULL) "
        "ELSE NULL END"
    )


def no_problems(column: str = PROBLEMS) -> str:
    return f"coalesce(len({column}), 0) = 0"


class Problem(NamedTuple):
    condition: str
    struct: str


def _problem(condition: str, rule: str, column: str, value_sql: str, message: str) -> Problem:
    return Problem(
        condition,
        f"{{'rule': {lit(rule)}, 'column': {lit(column)}, "
        f"'value': CAST({value_sql} AS VARCHAR), 'message': {lit(message)}}}",
    )
