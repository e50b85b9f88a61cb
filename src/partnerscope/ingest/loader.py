"""Loading export files into the warehouse: every row loaded or quarantined, all or nothing.

One call of :func:`ingest` is one transaction over all the files it reads. Each file becomes an
import in the ledger with its fingerprint and counts; ``rows_in == loaded + quarantined`` is
checked for every file before anything commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.clock import now_utc
from partnerscope.config import (
    CONFIG_FILE,
    Config,
    SourceConfig,
    source_files,
    then,
)
from partnerscope.errors import ConfigError, DataFileError, PartnerscopeError, did_you_mean
from partnerscope.ingest.ledger import (
    display_path,
    fingerprint,
    next_id,
    record_import,
)
from partnerscope.ingest.lookups import LookupRead, LookupReader, count_tokens
from partnerscope.ingest.readers import ROW_COLUMN, FileData, read_file
from partnerscope.ingest.transform import (
    BAD_LINE,
    PROBLEMS,
    ROW,
    LookupTable,
    Plan,
    lit,
    no_problems,
    quote,
)
from partnerscope.schema import TABLES, ColumnType, Table, load_order

if TYPE_CHECKING:
    import duckdb

    from partnerscope.identity import Decision
    from partnerscope.ingest.profile import SourceProfile
    from partnerscope.warehouse import Warehouse

#: progress(description, completed steps, total steps)
ProgressFn = Callable[[str, int, int], None]
_STEPS_PER_FILE = 4


@dataclass(frozen=True)
class FileReport:
    import_id: int
    source: str
    entity: str
    file: str
    fingerprint: str
    rows_in: int
    loaded: int
    quarantined: int
    records: int
    inserted: int
    updated: int
    unchanged: int
    superseded: int
    #: Earliest date among the rows this import inserted, changed or removed, old versions
    #: included: metrics of periods before it are unaffected (None: nothing dated changed).
    changed_from: datetime | None = None
    #: rows an earlier import loaded from this file that it no longer holds, removed (only for
    #: a complete file: ``ingest(complete=...)``)
    removed: int = 0
    #: things the user should look at although every row was loaded or quarantined (a null
    #: token that blanked much of a text column, a date format most values do not follow, a
    #: money total that moved by more than 10x), each a sentence naming the column and the fix
    warnings: tuple[str, ...] = ()


def mapping_failed(shown: str, source_name: str, exc: Exception) -> DataFileError:
    """The error for a mapping DuckDB cannot apply to a file (a user's expr it cannot bind or
    run), naming the file and the source, with DuckDB's first line."""
    return DataFileError(
        f"{shown}: the mapping of sources.{source_name} cannot be applied to this file: "
        f"{str(exc).splitlines()[0]}; check the expr and format settings"
    )


@dataclass(frozen=True)
class IngestReport:
    batch_id: int
    files: tuple[FileReport, ...]
    #: the lookup and line files read (each recorded in the import ledger as well)
    lookups: tuple[LookupRead, ...] = ()
    #: what each source of the batch now holds, with the warnings about it
    #: (``Workspace.ingest``: :func:`partnerscope.ingest.profile.after_ingest`)
    profiles: tuple[SourceProfile, ...] = ()
    #: the date format to set, where most of a file's dates could not be read
    date_hints: tuple[str, ...] = ()

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)


class IngestInvariantError(PartnerscopeError, RuntimeError):
    """A file's rows did not add up; nothing was committed. This is a bug: please report it."""


def plan_files(
    config: Config,
    root: Path,
    sources: Sequence[str] | None = None,
    extra: dict[str, list[Path]] | None = None,
) -> list[tuple[str, Path]]:
    """(source, file) pairs to load, in an order where referenced tables load first."""
    names = _lookup_users(config, sources) if sources else list(config.sources)
    for name in extra or {}:
        if name in config.lookups:
            raise DataFileError(
                f"{name!r} is a lookup, read by the sources that use it; load a source with "
                "--file, or change the lookup's path"
            )
    if not names:
        raise DataFileError(
            "no sources are declared in partnerscope.toml: add one [sources.NAME] per export "
            "(entity, path, columns); see docs/user-guide.md"
        )
    for name in [*names, *(extra or {})]:
        if name not in config.sources:
            known = ", ".join(config.sources) or "none declared"
            raise DataFileError(f"unknown source {name!r}; sources in partnerscope.toml: {known}")
    entity_rank = {e: i for i, e in enumerate(load_order())}
    chosen = sorted(
        set(names) if not extra else set(extra),
        key=lambda n: (entity_rank[config.sources[n].entity], n),
    )
    pairs: list[tuple[str, Path]] = []
    for name in chosen:
        files = extra[name] if extra else source_files(root, config.sources[name])
        if not files:
            raise DataFileError(f"sources.{name}: no file matches {config.sources[name].paths}")
        pairs.extend((name, f) for f in files)
    return pairs


def _lookup_users(config: Config, names: Sequence[str]) -> list[str]:
    """``names`` with each lookup replaced by the sources that read it."""
    out: list[str] = []
    for name in names:
        if name in config.lookups and name not in config.sources:
            users = [n for n, s in config.sources.items() if name in s.lookups_used()]
            if not users:
                raise DataFileError(
                    f"lookup {name!r} is used by no source; reference it in a mapping, e.g. "
                    f'region = {{ lookup = "{name}", key = "...", column = "..." }}'
                )
            out.extend(users)
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def ingest(
    warehouse: Warehouse,
    config: Config,
    root: Path,
    pairs: list[tuple[str, Path]],
    *,
    progress: ProgressFn | None = None,
    sources: Mapping[str, SourceConfig] | None = None,
    complete: Collection[str] = (),
    identity_decisions: Callable[[], Mapping[frozenset[str], Decision]] | None = None,
) -> IngestReport:
    """Load ``pairs`` of (source name, file) in one transaction and return what happened.

    ``sources`` declares the sources by name instead of ``config.sources`` (partnerscope's own
    files, such as the facts a run posts: :mod:`partnerscope.ingest.facts`). A file of a source in
    ``complete`` holds every row it stands for: the rows an earlier import loaded from that
    same file whose key it no longer holds are removed (a registered deal that became its CRM
    opportunity). When the accounts change, their identities are resolved again in the same
    transaction, with ``config.identity``'s rules and the people's ``identity_decisions``."""
    declared = config.sources if sources is None else sources
    con = warehouse.con
    total = len(pairs) * _STEPS_PER_FILE
    done = 0

    def step(text: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(text, done, total)

    reports = []
    # a file an expr reads itself (read_csv('data/x.csv')) is found from the workspace folder,
    # not from the shell's; a [lookups] entry is the way that also fingerprints it
    con.execute(f"SET file_search_path = {lit(str(root.resolve()))}")
    try:
        with warehouse.transaction():
            batch = next_id(con)
            lookups = LookupReader(con, config, root, batch)
            # every column a mapping names in a lookup, checked before anything loads
            problems = [
                problem
                for name in dict.fromkeys(n for n, _ in pairs)
                for problem in lookup_column_problems(
                    name,
                    declared[name],
                    {k: lookups.get(k, name) for k in declared[name].lookups_used()},
                )
            ]
            if problems:
                raise ConfigError(CONFIG_FILE, problems)
            for source_name, path in pairs:
                label = f"{source_name}: {path.name}"
                if progress:
                    progress(f"{label}: reading", done, total)
                source = declared[source_name]
                used = {name: lookups.get(name, source_name) for name in source.lookups_used()}
                data = read_file(path, source)
                step(f"{label}: validating {data.rows_in:,} rows")
                reports.append(
                    _load_file(
                        con,
                        config,
                        root,
                        source_name,
                        source,
                        path,
                        data,
                        batch,
                        step,
                        complete=source_name in complete,
                        lookups=used,
                    )
                )
            lookups.drop()
            if any(r.entity == "accounts" and r.inserted + r.updated + r.removed for r in reports):
                # which account records are one customer (channel conflict), in the same
                # transaction: an interrupted ingest leaves the previous identities
                from partnerscope.metrics.entities_market import rebuild_account_identities

                decided = identity_decisions() if identity_decisions else None
                rebuild_account_identities(con, config.identity.rules(), decided)
        return IngestReport(batch, tuple(reports), lookups.reads())
    finally:
        con.execute("RESET file_search_path")


def _load_file(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    root: Path,
    source_name: str,
    source: SourceConfig,
    path: Path,
    data: FileData,
    batch: int,
    step: Callable[[str], None],
    *,
    complete: bool = False,
    lookups: Mapping[str, LookupTable] | None = None,
) -> FileReport:
    table = TABLES[source.entity]
    plan = make_plan(config, source_name, source, tuple(data.columns), lookups)
    refuse_wrong_file(path, source_name, source, plan, data)
    started = now_utc()
    import_id = next_id(con)
    shown = display_path(path, root)
    import duckdb

    con.register("__staged", data.table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __lines AS {plan.lines_sql('__staged')}")
        records = f"({plan.records_sql('__lines')})"
        con.execute(f"CREATE OR REPLACE TEMP TABLE __checked AS {plan.checked_sql(records)}")
    except duckdb.Error as exc:  # a user's expr that DuckDB cannot bind or run
        raise mapping_failed(shown, source_name, exc) from None
    warnings = _null_token_warnings(con, plan, shown)
    step(f"{source_name}: {path.name}: quarantining bad rows")
    quarantined = _quarantine(con, plan, import_id, source_name, shown, data)
    step(f"{source_name}: {path.name}: writing {source.entity}")
    counts = _upsert(con, plan, import_id, shown)
    if complete:
        removed, removed_from = _remove_missing(con, table, shown)
        counts["removed"] = removed
        if removed_from is not None:
            earlier = counts["changed_from"]
            counts["changed_from"] = removed_from if earlier is None else min(earlier, removed_from)
    # not in a `finally`: after a failure the transaction is aborted and DuckDB would refuse
    # this too, hiding the real error; the rollback drops the view anyway
    con.unregister("__staged")
    loaded = counts.pop("loaded")
    if loaded + quarantined != data.rows_in:
        raise IngestInvariantError(
            f"{shown}: {data.rows_in} rows read but {loaded} loaded + {quarantined} quarantined"
        )
    report = FileReport(
        import_id,
        source_name,
        source.entity,
        shown,
        fingerprint(path),
        data.rows_in,
        loaded,
        quarantined,
        **counts,
        warnings=tuple(warnings),
    )
    record_import(
        con,
        import_id=import_id,
        batch_id=batch,
        source=source_name,
        entity=source.entity,
        file=shown,
        fingerprint=report.fingerprint,
        bytes=path.stat().st_size,
        encoding=data.encoding,
        delimiter=data.delimiter,
        rows_in=data.rows_in,
        loaded=loaded,
        quarantined=quarantined,
        records=report.records,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        superseded=report.superseded,
        started_at=started,
        finished_at=now_utc(),
        config_hash=config.config_hash(),
        changed_from=report.changed_from,
        removed=report.removed,
    )
    for temp in ("__lines", "__checked", "__good"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    step(f"{source_name}: {path.name}: done")
    return report


def make_plan(
    config: Config,
    source_name: str,
    source: SourceConfig,
    file_columns: tuple[str, ...],
    lookups: Mapping[str, LookupTable] | None = None,
) -> Plan:
    """The transformation of a file with ``file_columns`` of ``source``; ``lookups`` holds the
    tables of the lookups it uses (:class:`LookupReader`)."""
    return Plan(
        table=TABLES[source.entity],
        source_name=source_name,
        source=source,
        file_columns=file_columns,
        base_currency=config.workspace.base_currency,
        reporting_timezone=config.workspace.timezone,
        source_timezone=source.timezone or config.workspace.timezone,
        null_values=source.null_values
        if source.null_values is not None
        else config.ingest.null_values,
        typed_null_values=source.typed_null_values
        if source.typed_null_values is not None
        else config.ingest.typed_null_values,
        lookups=lookups or {},
    )


#: A null token that blanks more than this share of a text column's values is reported.
NULL_TOKEN_WARNING_SHARE = 0.05


def _null_token_warnings(con: duckdb.DuckDBPyConnection, plan: Plan, shown: str) -> list[str]:
    """A sentence for each null token that blanked more than a few percent of the values of a
    file column (or lookup column) mapped to a text column: "NA" may be a region, not a missing
    value."""
    text = {
        name: m
        for name, m in plan.mappings().items()
        if m.column is not None
        and m.aggregate is None
        and plan.table.column(name).type is ColumnType.STRING
    }
    own = {name: m.column for name, m in text.items() if m.lookup is None and m.column}
    filled: dict[str, int] = {}
    blanked: dict[str, dict[str, int]] = {}
    count_tokens(
        con, "__staged", list(dict.fromkeys(own.values())), plan.null_values, filled, blanked
    )
    warnings = []

    def said(
        file: str,
        column: str,
        token: str,
        hits: int,
        total: int,
        canonical: str,
        tokens: Sequence[str],
        where: str,
    ) -> str:
        rest = ", ".join(f'"{t}"' for t in tokens if t != token)
        return (
            f"{file}: the null token {token!r} blanked {hits:,} of {total:,} values "
            f"({hits / total:.0%}) of column {column!r} ({canonical}). If {token!r} is "
            f"a real value there, set null_values = [{rest}] on [{where}]"
        )

    def many(hits: int, total: int) -> bool:
        return hits > 0 and hits > total * NULL_TOKEN_WARNING_SHARE

    for canonical, column in own.items():
        for token, hits in blanked[column].items():
            if many(hits, filled[column]):
                warnings.append(
                    said(
                        shown,
                        column,
                        token,
                        hits,
                        filled[column],
                        canonical,
                        plan.null_values,
                        f"sources.{plan.source_name}",
                    )
                )
    for canonical, m in text.items():
        if m.lookup is None or m.column is None:
            continue
        table = plan.lookups[m.lookup]
        column = m.column
        for token, hits in table.blanked.get(column, {}).items():
            if many(hits, table.filled[column]):
                warnings.append(
                    said(
                        table.files,
                        column,
                        token,
                        hits,
                        table.filled[column],
                        f"{canonical} of sources.{plan.source_name}",
                        table.null_values,
                        f"lookups.{table.name}",
                    )
                )
    return warnings


def lookup_column_problems(
    source_name: str, source: SourceConfig, lookups: Mapping[str, LookupTable]
) -> list[str]:
    """A sentence for each column of a lookup or line file that a mapping of ``source`` names
    and the file does not have."""
    problems = []
    for name, value in source.columns.items():
        if isinstance(value, str):
            continue
        where = f"sources.{source_name}.columns.{name}"
        wanted: list[tuple[str, str]] = []  # (lookup, column)
        if value.aggregate is not None and value.source is not None:
            assert isinstance(value.key, str)
            wanted.append((value.source, value.key))
            if value.column is not None:
                wanted.append((value.source, value.column))
        wanted.extend((hop.lookup, hop.column) for hop in value.lookup_chain())
        for lookup_name, column in wanted:
            table = lookups[lookup_name]
            if column not in table.columns:
                problems.append(
                    f"{where}: {lookup_name} ({table.files}) has no column {column!r}"
                    f"{then(did_you_mean(column, table.columns))}Its columns are "
                    f"{', '.join(map(repr, table.columns[:30]))}"
                )
    return problems


def check_lookup_columns(source_name: str, plan: Plan) -> None:
    """Raise one ConfigError listing each lookup column ``plan``'s mappings name and its lookup
    files do not have (see :func:`lookup_column_problems`)."""
    problems = lookup_column_problems(source_name, plan.source, plan.lookups)
    if problems:
        raise ConfigError(CONFIG_FILE, problems)


def refuse_wrong_file(
    path: Path, source_name: str, source: SourceConfig, plan: Plan, data: FileData
) -> None:
    missing = plan.missing_file_columns()
    if not missing:
        return
    wanted = ", ".join(f"{src!r} (for {canonical})" for canonical, src in missing)
    mapped = len({c for m in plan.mappings().values() for c in m.file_columns()})
    verdict = (
        f"this does not look like an export of {source.entity}"
        if len(missing) == mapped
        else "some mapped columns are missing"
    )
    have = ", ".join(repr(c) for c in data.columns[:30])
    more = f" and {len(data.columns) - 30} more" if len(data.columns) > 30 else ""
    raise DataFileError(
        f"{path}: {verdict} for source {source_name!r}: no column {wanted}. The file's columns "
        f"are {have}{more}. Check that this is the right file, or fix "
        f"sources.{source_name}.columns in partnerscope.toml."
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    import_id: int,
    source: str,
    file: str,
    data: FileData,
) -> int:
    """Copy every line that will not load into the quarantine, with its first problem."""
    head = f"{import_id}, {lit(source)}, {lit(plan.table.name)}, {lit(file)}"
    record = f"(SELECT to_json(s) FROM __staged s WHERE s.{ROW_COLUMN} = l.{ROW})"
    if plan.source.rollup:
        keys = " AND ".join(
            f"l.{quote(k)} IS NOT DISTINCT FROM c.{quote(k)}" for k in plan.table.key
        )
        own = f"l.{PROBLEMS}[1]"
        # a line that is fine itself is rejected with its record: say which line (or which
        # record rule) is to blame
        blame = (
            f"CASE WHEN c.{BAD_LINE} IS NOT NULL THEN 'another line of this record (row ' || "
            f"c.{BAD_LINE} || ') is rejected: ' ELSE 'its record (the lines sharing its key) is "
            f"rejected: ' END || c.{PROBLEMS}[1].message"
        )
        reason = (
            f"CASE WHEN NOT {no_problems(f'l.{PROBLEMS}')} THEN {own} ELSE "
            f'struct_pack(rule := c.{PROBLEMS}[1].rule, "column" := c.{PROBLEMS}[1]."column", '
            f"value := c.{PROBLEMS}[1].value, message := {blame}) END"
        )
        source_rel = (
            f"__lines l JOIN __checked c ON {keys} WHERE NOT {no_problems(f'c.{PROBLEMS}')}"
        )
        problems = f"c.{PROBLEMS}"
    else:
        reason = f"l.{PROBLEMS}[1]"
        source_rel = f"__checked l WHERE NOT {no_problems(f'l.{PROBLEMS}')}"
        problems = f"l.{PROBLEMS}"
    con.execute(
        f"INSERT INTO _quarantine SELECT {head}, q.{ROW}, q.r.column, q.r.value, q.r.rule, "
        "q.r.message, list_transform(q.all, lambda p: p.column || ': ' || p.message), q.rec "
        f"FROM (SELECT l.{ROW}, {reason} AS r, {problems} AS all, {record} AS rec "
        f"FROM {source_rel}) q"
    )
    for bad in data.malformed:
        con.execute(
            f"INSERT INTO _quarantine VALUES ({head}, ?, NULL, ?, 'malformed_row', ?, ?, NULL)",
            [
                bad.row,
                bad.text,
                f"the row has {bad.actual} fields where the header has {bad.expected}; check "
                "quoting and the delimiter",
                [f"row has {bad.actual} fields, expected {bad.expected}"],
            ],
        )
    return _scalar(con, f"SELECT count(*) FROM _quarantine WHERE import_id = {import_id}")


def _upsert(
    con: duckdb.DuckDBPyConnection, plan: Plan, import_id: int, file: str
) -> dict[str, Any]:
    """Write the good records: insert new keys, replace changed ones, keep unchanged ones."""
    table = plan.table
    keys = [quote(k) for k in table.key]
    order = "updated_at DESC NULLS LAST, " if "updated_at" in table.column_names else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __good AS SELECT *, "
        f"row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY {order}{ROW} DESC) AS __rank "
        f"FROM __checked WHERE {no_problems()}"
    )
    if plan.source.rollup:
        key_match = " AND ".join(f"l.{k} = g.{k}" for k in keys)
        loaded_sql = f"SELECT count(*) FROM __lines l JOIN __good g ON {key_match}"
    else:
        loaded_sql = "SELECT count(*) FROM __good"
    loaded = _scalar(con, loaded_sql)
    superseded_in_file = _scalar(con, "SELECT count(*) FROM __good WHERE __rank > 1")
    money = {c.name for c in table.money_columns}
    values = []
    for name, _sql_type in table.stored_columns():
        if name in money:
            values.append(f"CAST({quote(name)} * fx_rate AS DECIMAL(18,2)) AS {quote(name)}")
        elif name.endswith("_local") and name[: -len("_local")] in money:
            values.append(
                f"CAST({quote(name[: -len('_local')])} AS DECIMAL(18,2)) AS {quote(name)}"
            )
        elif name == "_import_id":
            values.append(f"{import_id} AS _import_id")
        elif name == "_source_file":
            values.append(f"{lit(file)} AS _source_file")
        elif name == "_source_row":
            values.append(f"{ROW} AS _source_row")
        else:
            values.append(quote(name))
    business = [n for n, _ in table.stored_columns() if not n.startswith("_")]
    same = " AND ".join(f"i.{quote(n)} IS NOT DISTINCT FROM t.{quote(n)}" for n in business)
    join = " AND ".join(f"i.{k} = t.{k}" for k in keys)
    older = "i.updated_at < t.updated_at" if "updated_at" in table.column_names else "false"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __incoming AS SELECT i.*, CASE "
        f"WHEN t.{keys[0]} IS NULL THEN 'insert' WHEN {older} THEN 'older' "
        f"WHEN {same} THEN 'same' ELSE 'update' END AS __action "
        f"FROM (SELECT {', '.join(values)} FROM __good WHERE __rank = 1) i "
        f"LEFT JOIN {quote(table.name)} t ON {join}"
    )
    changed_from = _changed_from(con, table, join)
    con.execute(
        f"DELETE FROM {quote(table.name)} t USING __incoming i "
        f"WHERE {join} AND i.__action = 'update'"
    )
    stored = ", ".join(quote(n) for n, _ in table.stored_columns())
    con.execute(
        f"INSERT INTO {quote(table.name)} ({stored}) SELECT {stored} FROM __incoming "
        "WHERE __action IN ('insert', 'update')"
    )
    actions = dict(con.execute("SELECT __action, count(*) FROM __incoming GROUP BY 1").fetchall())
    con.execute("DROP TABLE __incoming")
    return {
        "loaded": loaded,
        "records": _scalar(con, "SELECT count(*) FROM __good"),
        "inserted": int(actions.get("insert", 0)),
        "updated": int(actions.get("update", 0)),
        "unchanged": int(actions.get("same", 0)),
        "superseded": superseded_in_file + int(actions.get("older", 0)),
        "changed_from": changed_from,
    }


def _remove_missing(
    con: duckdb.DuckDBPyConnection, table: Table, file: str
) -> tuple[int, datetime | None]:
    """Remove the rows loaded from ``file`` whose key the file no longer holds (good or
    quarantined); their count and earliest date."""
    keys = " AND ".join(f"c.{quote(k)} IS NOT DISTINCT FROM t.{quote(k)}" for k in table.key)
    gone = (
        f"FROM {quote(table.name)} t WHERE t._source_file = {lit(file)} "
        f"AND NOT EXISTS (SELECT 1 FROM __checked c WHERE {keys})"
    )
    dated = _dated(table)
    earliest = (
        "min(least(" + ", ".join(f"CAST(t.{quote(c)} AS TIMESTAMP)" for c in dated) + "))"
        if dated
        else "NULL"
    )
    rows = con.execute(f"SELECT count(*), {earliest} {gone}").fetchall()
    count, first = rows[0]
    if not count:
        return 0, None
    con.execute(f"DELETE {gone}")
    return int(count), first if isinstance(first, datetime) else None


def _dated(table: Table) -> list[str]:
    """The date and timestamp columns of ``table`` that place a row in time."""
    return [
        c.name
        for c in table.columns
        if c.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and c.name != "updated_at"
    ]


def _changed_from(con: duckdb.DuckDBPyConnection, table: Table, join: str) -> datetime | None:
    """The earliest date of the rows about to be inserted or replaced, and of the rows they
    replace."""
    dated = _dated(table)
    if not dated:
        return None

    def earliest(alias: str) -> str:
        return "least(" + ", ".join(f"CAST({alias}.{quote(c)} AS TIMESTAMP)" for c in dated) + ")"

    rows = con.execute(
        f"SELECT min(d) FROM (SELECT {earliest('i')} AS d FROM __incoming i "
        "WHERE i.__action IN ('insert', 'update') UNION ALL "
        f"SELECT {earliest('t')} FROM {quote(table.name)} t JOIN __incoming i ON {join} "
        "WHERE i.__action = 'update')"
    ).fetchall()
    value = rows[0][0] if rows else None
    return value if isinstance(value, datetime) else None


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall: DuckDB refuses new work on a connection with an unfinished result
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0
