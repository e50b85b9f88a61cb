"""What a source's rows hold, in words: the totals that catch a wrong mapping.

After an ingest (:func:`after_ingest`) and before one (:func:`before_ingest`, the
``partnerscope profile`` command), each source is summed up: the total of each money column, the
first and last date of each date column, how many distinct ids each id column holds, and the
commonest values of each mapped category (status, stage, region...). Two warnings point at a
mapping that reads the wrong thing: one value repeated across nearly every row (an order's amount
that is the total of all order lines), and a money total more than ten times larger or smaller
than the same source's previous import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.config import Config, SourceConfig
from partnerscope.ingest import dates
from partnerscope.ingest.readers import read_file
from partnerscope.ingest.transform import PROBLEMS, ROW, no_problems, quote, raw_name
from partnerscope.schema import TABLES, Column, ColumnType, Table

if TYPE_CHECKING:
    import duckdb

    from partnerscope.ingest.loader import IngestReport
    from partnerscope.present import Words

#: a value repeats across "most rows" when it is on more than this share of them...
REPEAT_SHARE = 0.9
#: ...and there are at least this many rows with a value
REPEAT_MIN_ROWS = 20
#: a money total that moves by more than this factor from the previous import is worth a look
TOTAL_FACTOR = 10.0
#: commonest values listed per category column
TOP_VALUES = 3
#: string columns that are names or free text, not categories
_NOT_CATEGORIES = frozenset({"name", "notes", "domain", "person_id"})
#: the share of a date column's values that must fail for the format to be guessed
DATE_FAIL_SHARE = 0.5


@dataclass(frozen=True)
class SourceProfile:
    """One source's rows summed up."""

    source: str
    entity: str
    files: tuple[str, ...]
    rows: int
    #: one sentence per column worth a look, in the workspace's words
    facts: tuple[str, ...]
    #: what looks wrong, each a sentence naming the column and what to check
    warnings: tuple[str, ...]
    #: money column → total (base currency after an ingest), for the next import to compare
    totals: dict[str, Decimal]


def _mapped(source: SourceConfig, table: Table) -> list[Column]:
    return [c for c in table.columns if source.mapping(c.name) is not None]


def _is_id(col: Column, table: Table) -> bool:
    return col.name in table.key or col.references is not None or col.name.endswith("_id")


def _origin(source: SourceConfig, col: Column) -> str:
    mapping = source.mapping(col.name)
    if mapping is not None and mapping.column is not None:
        return f" (from column {mapping.column!r})"
    return ""


def profile_relation(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    params: Sequence[object],
    table: Table,
    source_name: str,
    source: SourceConfig,
    words: Words,
    *,
    by_currency: bool,
) -> tuple[int, list[str], list[str], dict[str, Decimal]]:
    """(rows, facts, warnings, money totals) of ``relation``, rows of ``table``'s columns.

    ``by_currency``: money is still in the currency of each row (before an ingest converts
    it); totals are then given per currency and none is kept for comparison."""

    def rows_of(sql: str) -> list[tuple[Any, ...]]:
        return con.execute(sql.replace("{rel}", relation), list(params)).fetchall()

    total_rows = int(rows_of("SELECT count(*) FROM {rel}")[0][0])
    facts: list[str] = []
    warnings: list[str] = []
    totals: dict[str, Decimal] = {}
    if not total_rows:
        return 0, facts, warnings, totals
    where = f"sources.{source_name}"
    mapped = _mapped(source, table)
    for col in mapped:
        name = quote(col.name)
        if col.type is ColumnType.MONEY:
            if by_currency:
                parts = rows_of(
                    f"SELECT currency, sum({name}), count({name}) FROM {{rel}} "
                    f"WHERE {name} IS NOT NULL GROUP BY 1 ORDER BY 3 DESC, 1"
                )
                filled = sum(int(p[2]) for p in parts)
                if not parts:
                    facts.append(f"{col.name}: empty on every row{_origin(source, col)}")
                    continue
                sums = " + ".join(
                    replace(words, currency=cur).money(total)
                    if isinstance(cur, str) and len(cur) == 3
                    else f"{words.number(total, digits=2)} ({cur or 'no currency'})"
                    for cur, total, _ in parts
                )
            else:
                found = rows_of(f"SELECT sum({name}), count({name}) FROM {{rel}}")[0]
                filled = int(found[1])
                if not filled:
                    facts.append(f"{col.name}: empty on every row{_origin(source, col)}")
                    continue
                totals[col.name] = Decimal(found[0])
                sums = words.money(found[0])
            facts.append(f"{col.name}: {sums} in total, on {filled:,} of {total_rows:,} rows")
            top = rows_of(
                f"SELECT {name}, count(*) FROM {{rel}} WHERE {name} IS NOT NULL AND {name} <> 0 "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
            )
            if top and filled >= REPEAT_MIN_ROWS and int(top[0][1]) > REPEAT_SHARE * filled:
                value, count = top[0][0], int(top[0][1])
                amount = (
                    words.number(value, digits=2) if by_currency else words.money(value, cents=True)
                )
                how_many = (
                    f"every row of {where} has"
                    if count == filled
                    else f"{count:,} of the {filled:,} rows of {where} with an amount have"
                )
                warnings.append(
                    f"{col.name}: {how_many} {col.name} {amount}; one value on nearly every row "
                    f"is seldom real: check the mapping of {col.name}{_origin(source, col)}"
                )
        elif col.type in (ColumnType.DATE, ColumnType.TIMESTAMP):
            first, last, filled = rows_of(
                f"SELECT min({name}), max({name}), count({name}) FROM {{rel}}"
            )[0]
            if not filled:
                facts.append(f"{col.name}: empty on every row{_origin(source, col)}")
                continue
            facts.append(
                f"{col.name}: {words.date(first)} to {words.date(last)}, on {int(filled):,} "
                f"of {total_rows:,} rows"
            )
        elif col.type is ColumnType.STRING and _is_id(col, table):
            distinct, filled = rows_of(
                f"SELECT count(DISTINCT {name}), count({name}) FROM {{rel}}"
            )[0]
            facts.append(
                f"{col.name}: {int(distinct):,} distinct, on {int(filled):,} of {total_rows:,} rows"
            )
        elif (
            col.type in (ColumnType.STRING, ColumnType.CURRENCY) and col.name not in _NOT_CATEGORIES
        ):
            top = rows_of(
                f"SELECT {name}, count(*) FROM {{rel}} GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST"
            )
            listed = ", ".join(
                f"{'(empty)' if value is None else value} {int(count):,}"
                for value, count in top[:TOP_VALUES]
            )
            extra = len(top) - TOP_VALUES
            more = f" and {extra:,} more value{'s' if extra > 1 else ''}" if extra > 0 else ""
            facts.append(f"{col.name}: {listed}{more}")
    return total_rows, facts, warnings, totals


# -- after an ingest -------------------------------------------------------------------------


def after_ingest(
    con: duckdb.DuckDBPyConnection, config: Config, report: IngestReport, words: Words
) -> list[SourceProfile]:
    """Each source of ``report`` summed up from the rows its files hold now, with the
    warnings; the money totals are kept for the next import of the source to compare."""
    by_source: dict[str, list[str]] = {}
    for f in report.files:
        by_source.setdefault(f.source, []).append(f.file)
    profiles = []
    for source_name, files in by_source.items():
        source = config.sources.get(source_name)
        if source is None:
            continue
        table = TABLES[source.entity]
        marks = ", ".join("?" for _ in files)
        relation = f"(SELECT * FROM {quote(table.name)} WHERE _source_file IN ({marks}))"
        rows, facts, warnings, totals = profile_relation(
            con, relation, files, table, source_name, source, words, by_currency=False
        )
        key = "\n".join(sorted(files))
        for column, total in totals.items():
            warnings.extend(_moved(con, report.batch_id, source_name, key, column, total, words))
            con.execute(
                "INSERT INTO _import_totals VALUES (?, ?, ?, ?, ?, ?)",
                [report.batch_id, source_name, key, column, total, rows],
            )
        profiles.append(
            SourceProfile(
                source_name,
                source.entity,
                tuple(files),
                rows,
                tuple(facts),
                tuple(warnings),
                totals,
            )
        )
    return profiles


def _moved(
    con: duckdb.DuckDBPyConnection,
    batch: int,
    source: str,
    files: str,
    column: str,
    total: Decimal,
    words: Words,
) -> list[str]:
    """The warning when ``total`` is more than :data:`TOTAL_FACTOR` times larger or smaller than
    the previous import's (of the same files if there is one, else of the source)."""
    before = con.execute(
        'SELECT total, batch_id FROM _import_totals WHERE source = ? AND "column" = ? '
        "AND batch_id < ? ORDER BY (files = ?) DESC, batch_id DESC LIMIT 1",
        [source, column, batch, files],
    ).fetchall()
    if not before or before[0][0] is None:
        return []
    previous = Decimal(before[0][0])
    if previous <= 0 or total <= 0:
        return []
    factor = total / previous
    if Decimal(1) / Decimal(TOTAL_FACTOR) <= factor <= Decimal(TOTAL_FACTOR):
        return []
    ratio = (
        f"{words.number(factor, digits=1)} times"
        if factor > 1
        else f"1/{words.number(1 / factor, digits=1)} of"
    )
    return [
        f"{column}: the total of sources.{source} is {words.money(total)}, {ratio} the "
        f"{words.money(previous)} of its previous import (batch {before[0][1]}); if the data did "
        f"not change that much, check the mapping of {column}"
    ]


def date_hints(
    con: duckdb.DuckDBPyConnection, config: Config, import_ids: Sequence[int]
) -> list[str]:
    """For each date column of these imports whose values mostly failed to read as dates: the
    format the values are written in and the setting that reads them (:mod:`.dates`)."""
    if not import_ids:
        return []
    marks = ", ".join("?" for _ in import_ids)
    failed = con.execute(
        'SELECT q.import_id, q.source, q."column", q.rule, count(*), i.rows_in '
        "FROM _quarantine q JOIN _imports i USING (import_id) "
        f"WHERE q.import_id IN ({marks}) AND q.rule IN ('not_date', 'not_timestamp') "
        "GROUP BY ALL ORDER BY 1, 3",
        list(import_ids),
    ).fetchall()
    hints = []
    for import_id, source, column, rule, count, rows_in in failed:
        if int(count) < DATE_FAIL_SHARE * int(rows_in or 0):
            continue
        values = [
            r[0]
            for r in con.execute(
                'SELECT value FROM _quarantine WHERE import_id = ? AND "column" = ? AND rule = ? '
                'ORDER BY "row" LIMIT ?',
                [import_id, column, rule, dates.SAMPLE],
            ).fetchall()
        ]
        hint = _date_hint(
            config, source, column, int(count), int(rows_in), values, rule == "not_timestamp"
        )
        if hint:
            hints.append(hint)
    return hints


def _date_hint(
    config: Config,
    source: str,
    column: str,
    failed: int,
    rows: int,
    values: Sequence[str | None],
    stamp: bool,
) -> str | None:
    guess = dates.detect(values)
    if guess is None:
        return None
    declared = config.sources.get(source)
    mapping = declared.mapping(column) if declared is not None else None
    return (
        f"{column}: {failed:,} of {rows:,} rows of sources.{source} are not read as dates; "
        + dates.fix(
            source,
            column,
            guess,
            timestamp=stamp,
            column_format=mapping.format if mapping is not None else None,
            timestamp_format=declared.timestamp_format if declared is not None else None,
        )
    )


# -- before an ingest ------------------------------------------------------------------------


def before_ingest(
    config: Config,
    root: Path,
    source_name: str,
    files: Sequence[Path],
    shown: Sequence[str],
    words: Words,
) -> SourceProfile:
    """A source's files summed up as an ingest would read them, without loading anything: the
    rows that would load (checks against other tables aside), money per currency, and the
    rows that would be quarantined by their first problem. Its lookups are read, not
    recorded."""
    import duckdb

    from partnerscope.ingest.loader import (
        check_lookup_columns,
        make_plan,
        mapping_failed,
        refuse_wrong_file,
    )
    from partnerscope.ingest.lookups import LookupReader

    source = config.sources[source_name]
    table = TABLES[source.entity]
    con = duckdb.connect()
    rows = 0
    #: (rule, column) → (rows, the message of the first)
    quarantined: dict[tuple[str, str], tuple[int, str]] = {}
    failing_dates: dict[str, list[str]] = {}
    date_counts: dict[str, tuple[int, bool]] = {}
    try:
        lookups = LookupReader(con, config, root, None)
        used = {name: lookups.get(name, source_name) for name in source.lookups_used()}
        parts = []
        for i, path in enumerate(files):
            data = read_file(path, source)
            plan = make_plan(config, source_name, source, tuple(data.columns), used)
            refuse_wrong_file(path, source_name, source, plan, data)
            check_lookup_columns(source_name, plan)
            con.register(f"__staged{i}", data.table)
            try:
                con.execute(f"CREATE TEMP TABLE __lines{i} AS {plan.lines_sql(f'__staged{i}')}")
                con.execute(f"CREATE TEMP TABLE __records{i} AS {plan.records_sql(f'__lines{i}')}")
            except duckdb.Error as exc:  # a user's expr that DuckDB cannot bind or run
                raise mapping_failed(shown[i], source_name, exc) from None
            rows += data.rows_in
            if data.malformed:
                key = ("malformed_row", "")
                count = quarantined.get(key, (0, ""))[0] + len(data.malformed)
                quarantined[key] = (count, "the row has another number of fields than the header")
            for rule, column, message, count in con.execute(
                f'SELECT {PROBLEMS}[1].rule, {PROBLEMS}[1]."column", '
                f"min({PROBLEMS}[1].message ORDER BY {ROW}), count(*) FROM __records{i} "
                f"WHERE NOT {no_problems()} GROUP BY 1, 2"
            ).fetchall():
                key = (rule, column or "")
                count = quarantined.get(key, (0, ""))[0] + int(count)
                quarantined[key] = (count, quarantined.get(key, (0, message))[1])
            for col in table.columns:
                if col.type not in (ColumnType.DATE, ColumnType.TIMESTAMP):
                    continue
                raw, value = quote(raw_name(col.name)), quote(col.name)
                failing = f"FROM __lines{i} WHERE {raw} IS NOT NULL AND {value} IS NULL"
                bad = con.execute(f"SELECT {raw} {failing} LIMIT {dates.SAMPLE}").fetchall()
                count = con.execute(f"SELECT count(*) {failing}").fetchall()[0][0]
                failed, _ = date_counts.get(col.name, (0, False))
                date_counts[col.name] = (failed + int(count), col.type is ColumnType.TIMESTAMP)
                failing_dates.setdefault(col.name, []).extend(r[0] for r in bad)
            parts.append(f"SELECT * FROM __records{i} WHERE {no_problems()}")
        if parts:
            con.execute(f"CREATE TEMP TABLE __good AS {' UNION ALL BY NAME '.join(parts)}")
            good, facts, warnings, totals = profile_relation(
                con, "__good", [], table, source_name, source, words, by_currency=True
            )
        else:
            good, facts, warnings, totals = 0, [], [], {}
    finally:
        con.close()
    notes = [f"{good:,} of {rows:,} rows would load"]
    for (rule, _), (count, message) in sorted(quarantined.items(), key=lambda kv: -kv[1][0]):
        such = "" if count == 1 else ", such as"
        notes.append(f"{count:,} would be quarantined ({rule}){such}: {message}")
    for column, (failed, stamp) in date_counts.items():
        if failed and failed >= DATE_FAIL_SHARE * rows:
            hint = _date_hint(
                config, source_name, column, failed, rows, failing_dates[column], stamp
            )
            if hint:
                warnings.append(hint)
    return SourceProfile(
        source_name,
        source.entity,
        tuple(shown),
        good,
        (*notes, *facts),
        tuple(warnings),
        totals,
    )
