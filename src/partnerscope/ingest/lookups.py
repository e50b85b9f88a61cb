"""The ``[lookups]`` files of an ingest: read once each, with the sources' reader settings,
into a temporary table the sources' mappings join by key or aggregate, and recorded in the import
ledger (:mod:`partnerscope.ingest.ledger`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.clock import now_utc
from partnerscope.config import CONFIG_FILE, Config, LookupConfig, source_files, then
from partnerscope.errors import ConfigError, DataFileError, did_you_mean
from partnerscope.ingest.ledger import display_path, fingerprint, next_id, record_import
from partnerscope.ingest.readers import ROW_COLUMN, read_file
from partnerscope.ingest.transform import ROW, LookupTable, lit, quote

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class LookupRead:
    """A ``[lookups]`` file an ingest read to fill the columns of its sources."""

    import_id: int
    lookup: str
    file: str
    fingerprint: str
    rows: int
    #: the sources that used it
    used_by: tuple[str, ...]


class LookupReader:
    """The ``[lookups]`` files of one ingest, each read once, when a source first needs it, and
    recorded in the import ledger with its fingerprint (``batch`` None: only read, as a profile
    before loading does). :meth:`drop` removes their tables."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, config: Config, root: Path, batch: int | None
    ) -> None:
        self.con, self.config, self.root, self.batch = con, config, root, batch
        self.read: dict[str, LookupTable] = {}
        self.files: list[tuple[str, int, str, str, int]] = []  # name, import, file, sha, rows
        self.users: dict[str, list[str]] = {}

    def get(self, name: str, user: str) -> LookupTable:
        users = self.users.setdefault(name, [])
        if user not in users:
            users.append(user)
        if name not in self.read:
            self.read[name] = self._read(name, self.config.lookups[name], len(self.read))
        return self.read[name]

    def reads(self) -> tuple[LookupRead, ...]:
        return tuple(
            LookupRead(import_id, name, file, sha, rows, tuple(self.users[name]))
            for name, import_id, file, sha, rows in self.files
        )

    def drop(self) -> None:
        for table in self.read.values():
            self.con.execute(f"DROP TABLE IF EXISTS {table.table}")

    def _read(self, name: str, lookup: LookupConfig, index: int) -> LookupTable:
        con, root = self.con, self.root
        files = source_files(root, lookup)
        if not files:
            raise DataFileError(
                f"lookups.{name}: no file matches {lookup.paths} (relative to {root})"
            )
        tokens = (
            lookup.null_values if lookup.null_values is not None else self.config.ingest.null_values
        )
        nulls = ", ".join(lit(v) for v in ("", *tokens))
        filled: dict[str, int] = {}
        blanked: dict[str, dict[str, int]] = {}
        parts: list[str] = []
        shown_files: list[str] = []
        columns: list[str] = []
        for i, path in enumerate(files):
            started = now_utc()
            data = read_file(path, lookup)
            shown = display_path(path, root)
            shown_files.append(shown)
            columns.extend(c for c in data.columns if c not in columns)
            staged = f"__lookup_staged_{index}_{i}"
            con.register(staged, data.table)
            count_tokens(con, staged, data.columns, tokens, filled, blanked)
            clean = "".join(
                f", CASE WHEN trim(CAST({quote(c)} AS VARCHAR)) IN ({nulls}) THEN NULL "
                f"ELSE trim(CAST({quote(c)} AS VARCHAR)) END AS {quote(c)}"
                for c in data.columns
            )
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE __lookup_part_{index}_{i} AS "
                f"SELECT {lit(shown)} AS __file, {ROW_COLUMN} AS {ROW}{clean} FROM {staged}"
            )
            con.unregister(staged)
            parts.append(f"SELECT * FROM __lookup_part_{index}_{i}")
            if self.batch is None:
                continue
            import_id = next_id(con)
            head = f"{import_id}, {lit(name)}, 'lookup', {lit(shown)}"
            for bad in data.malformed:
                con.execute(
                    f"INSERT INTO _quarantine VALUES ({head}, ?, NULL, ?, 'malformed_row', ?, ?, "
                    "NULL)",
                    [
                        bad.row,
                        bad.text,
                        f"the row has {bad.actual} fields where the header has {bad.expected}; "
                        "check quoting and the delimiter",
                        [f"row has {bad.actual} fields, expected {bad.expected}"],
                    ],
                )
            rows = int(data.table.num_rows)
            sha = fingerprint(path)
            self.files.append((name, import_id, shown, sha, rows))
            record_import(
                con,
                import_id=import_id,
                batch_id=self.batch,
                source=name,
                entity="lookup",
                file=shown,
                fingerprint=sha,
                bytes=path.stat().st_size,
                encoding=data.encoding,
                delimiter=data.delimiter,
                rows_in=data.rows_in,
                loaded=rows,
                quarantined=len(data.malformed),
                records=rows,
                inserted=0,
                updated=0,
                unchanged=0,
                superseded=0,
                started_at=started,
                finished_at=now_utc(),
                config_hash=self.config.config_hash(),
                changed_from=None,
                removed=0,
            )
        table = f"__lookup_{index}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {' UNION ALL BY NAME '.join(parts)}")
        for i in range(len(files)):
            con.execute(f"DROP TABLE __lookup_part_{index}_{i}")
        shown_all = ", ".join(shown_files)
        if lookup.key is not None:
            if lookup.key not in columns:
                raise ConfigError(
                    CONFIG_FILE,
                    [
                        f"lookups.{name}.key: {shown_all} has no column {lookup.key!r}"
                        f"{then(did_you_mean(lookup.key, columns))}Its columns are "
                        f"{', '.join(map(repr, columns[:30]))}"
                    ],
                )
            key = quote(lookup.key)
            repeated = con.execute(
                f"SELECT {key}, list(__file || ' row ' || {ROW} ORDER BY __file, {ROW}) "
                f"FROM {table} WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1 "
                f"ORDER BY min({ROW}) LIMIT 3"
            ).fetchall()
            if repeated:
                said = "; ".join(f"{value} on {', '.join(rows)}" for value, rows in repeated)
                raise DataFileError(
                    f"lookups.{name}: {lookup.key} must name one row of {shown_all}, but the same "
                    f"{lookup.key} is on more than one row: {said}. Remove the duplicates from "
                    "the file (or choose another key)"
                )
        numeric = []
        for column in columns:
            c = quote(column)
            plain, values = con.execute(
                f"SELECT count(TRY_CAST({c} AS DECIMAL(38,6))), count({c}) FROM {table}"
            ).fetchall()[0]
            if plain == values:  # an empty column too: an expr can still do arithmetic on it
                numeric.append(column)
        return LookupTable(
            name,
            table,
            shown_all,
            lookup.key,
            tuple(numeric),
            tuple(columns),
            filled,
            blanked,
            tuple(tokens),
        )


def count_tokens(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    columns: Sequence[str],
    tokens: Sequence[str],
    filled: dict[str, int],
    blanked: dict[str, dict[str, int]],
) -> None:
    """Add the non-blank cells of each column of ``staged``, and the cells each null token
    blanks, to ``filled`` and ``blanked``."""
    tokens = [t for t in tokens if t.strip()]
    counts = []
    for column in columns:
        text = f"trim(CAST({quote(column)} AS VARCHAR))"
        counts.append(f"count(*) FILTER (WHERE {text} <> '')")
        counts.extend(f"count(*) FILTER (WHERE {text} = {lit(t)})" for t in tokens)
    if not counts:
        return
    row = con.execute(f"SELECT {', '.join(counts)} FROM {staged}").fetchall()[0]
    width = len(tokens) + 1
    for column, at in zip(columns, range(0, len(row), width), strict=True):
        filled[column] = filled.get(column, 0) + int(row[at])
        mine = blanked.setdefault(column, {})
        for token, hits in zip(tokens, row[at + 1 : at + width], strict=True):
            mine[token] = mine.get(token, 0) + int(hits)
