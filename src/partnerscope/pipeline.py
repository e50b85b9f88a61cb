"""The pipeline: one run of a workspace, from its data to what people read.

A run posts partnerscope's own facts that changed (approved payout ledgers, MDF requests,
routed leads, registered deals: :func:`post`) to the warehouse so that the metrics read them,
computes the whole catalog (the metric engine), evaluates it (scorecards, tiers, flags,
alerts), checks the committed decisions' signals and reviews, and stores all of it as one run
(:mod:`partnerscope.runs`); then the decision alerts and the improvement plans follow it.

A run after new data recomputes only the months the new data touched (``changed_from`` of the
imports since the previous run) and keeps the previous run's parts for the rest; anything else
that changed (configuration, definitions, partners, accounts, certification requirements, an
earlier as-of time, rows written outside partnerscope) makes it a full recompute.

Facts partnerscope keeps itself: each module gives its facts by a producer function kept next
to its data (:func:`producers`), as a :class:`~partnerscope.ingest.facts.Facts` file under
``state/<module>/`` that the ingest loader loads as a source of partnerscope's own: an import in
the ledger with its fingerprint and change date, lineage, quarantine with reasons and an upsert
by key, all kinds in one transaction. A file whose content is that of its latest import (with
nothing quarantined) is not loaded again: unchanged facts add no import, and the run computes
what it computed before. A kind with no fact and no file yet is not posted at all. Rows once
posted stay posted, except from a *complete* file (:attr:`Facts.complete`): there a row the
file no longer holds is removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from partnerscope import __version__
from partnerscope.evaluation import plans
from partnerscope.metrics.engine import BAND_SOURCE, HOLISTIC, PARTS
from partnerscope.runs import (
    MANAGERS,
    MEMBERSHIPS,
    RESULTS,
    STAGES,
    RunManifest,
    latest_run,
    new_run,
    run_folder,
)

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb
    import pyarrow as pa

    from partnerscope.evaluation.pipeline import Evaluation
    from partnerscope.ingest.facts import Facts, Producer
    from partnerscope.metrics.definition import Catalog, Metric
    from partnerscope.predict.deals import DealScores
    from partnerscope.runs import NewRun
    from partnerscope.warehouse import Warehouse
    from partnerscope.workspace import Workspace

#: Tables whose changes reach every period (group membership, targets of coverage, requirements).
UNDATED = ("partners", "accounts", "certification_requirements")
#: Tables no metric reads: amounts are converted at ingest, so new FX rates change nothing here.
UNREAD = ("fx_rates",)
#: Dated columns that do not say when something happened: when the source last changed a row,
#: and when a certification lapses (ahead of time, by design).
NOT_EVENTS = ("updated_at", "expires_at")
#: How long before now the data may end before a run as of now says so (about a quarter).
STALE_AFTER = timedelta(days=92)
STEPS = 9
#: The opportunities' snapshot for the deal scores, in the run's folder until they are made.
OPPORTUNITIES = ".opportunities.parquet"

Progress = Callable[[str, int, int], None]


def execute(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> RunManifest:
    """Post partnerscope's own changed facts, then compute the whole catalog and store it as a
    new run."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from partnerscope.decisions.check import DECISION_ALERTS, to_table
    from partnerscope.decisions.record import Status
    from partnerscope.decisions.service import Decisions
    from partnerscope.lifecycle import business_plans
    from partnerscope.metrics.backends import open_backend
    from partnerscope.metrics.engine import compute

    started = datetime.now(UTC)
    clock = time.perf_counter()
    moment = as_of or started
    # a naive time is UTC (as everywhere in the warehouse), not this machine's local time
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    as_of = moment.replace(tzinfo=None, microsecond=0)
    config = workspace.config
    catalog = workspace.catalog
    done = 0

    def step(text: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(text, done, STEPS)

    with workspace.lock("run"), new_run(workspace) as run:
        # ledgers, MDF requests, routed leads and registered deals reach the warehouse first:
        # the metrics read them
        if progress is not None:
            progress("posting ledgers, MDF requests, routed leads and registrations", done, STEPS)
        posted = post(workspace)
        with (
            workspace.warehouse(read_only=True) as warehouse,
            open_backend(config.engine, warehouse.con, str(workspace.config_path)) as (
                backend,
                engine,
            ),
        ):
            inputs = _inputs(warehouse)
            previous = latest_run(workspace)
            reuse, mode, reason = _plan(
                workspace, previous, config.metrics_hash(), catalog, inputs, as_of, full, warehouse
            )
            computation = compute(
                backend, config, catalog, as_of=as_of, reuse=reuse, out=run.folder, step=step
            )
            # who looks after each partner: the web app scopes partner managers by it
            pairs = warehouse.con.execute(
                "SELECT partner_id, partner_manager FROM partners ORDER BY partner_id"
            ).fetchall()
            # each partner's deals by stage: the partner page's pipeline
            stages = warehouse.con.sql(
                "SELECT partner_id, coalesce(stage, status) AS stage, status, "
                "count(*)::BIGINT AS deals, coalesce(sum(amount), 0)::DECIMAL(38, 2) AS amount "
                "FROM opportunities WHERE partner_id IS NOT NULL GROUP BY ALL ORDER BY ALL"
            ).to_arrow_table()
            opportunities = None
            if config.predict.enabled:
                opportunities = run.folder / OPPORTUNITIES
                _opportunities(warehouse, opportunities)
        # the warehouse is closed before the evaluation: DuckDB gives back its buffers (up to
        # [engine] memory_limit) instead of holding them beside the evaluation's own memory.
        # The deals are scored first, before the results are read: the two are the run's
        # largest tables, and the scores need nothing else.
        deals = None
        if opportunities is not None:
            predicting = time.perf_counter()
            end = data_end(workspace, now=as_of)
            deals = _score_deals(workspace, opportunities, as_of, end, progress)
            deals_seconds = time.perf_counter() - predicting
            _give_back()
        evaluating = time.perf_counter()
        results = pq.read_table(run.folder / RESULTS)
        evaluation = _evaluate(workspace, run.folder, results, run.run_id, previous)
        evaluation_seconds = time.perf_counter() - evaluating
        _give_back()
        step("evaluated")
        predictions: dict[str, Any] = {}
        if deals is not None:
            predicting = time.perf_counter()
            evaluation, predictions = _predict(
                workspace, run, results, deals, evaluation, as_of, end, previous, progress
            )
            predictions["seconds"] = round(time.perf_counter() - predicting + deals_seconds, 3)
        step("predicted" if predictions else "predictions off ([predict] enabled = false)")
        # the business plans' milestones missed in a complete quarter join the run's alerts
        evaluation = business_plans.join_alerts(
            workspace,
            run.folder,
            results,
            evaluation,
            as_of=as_of,
            run_id=run.run_id,
            previous=previous,
        )
        decisions = Decisions(workspace)
        decision_alerts, _ = decisions.check(today=as_of.date(), results=results)
        pq.write_table(to_table(decision_alerts), run.folder / DECISION_ALERTS)
        managers = dict(pairs)
        pq.write_table(
            pa.table(
                [pa.array(list(managers), pa.string()), pa.array(managers.values(), pa.string())],
                names=["partner_id", "partner_manager"],
            ),
            run.folder / MANAGERS,
        )
        pq.write_table(stages, run.folder / STAGES)
        step("decisions checked")
        manifest = RunManifest(
            run_id=run.run_id,
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            seconds=round(time.perf_counter() - clock, 3),
            as_of=as_of.isoformat(),
            mode=mode,
            reason=reason,
            recomputed_from=reuse.since.isoformat() if reuse else None,
            config_hash=config.config_hash(),
            metrics_hash=config.metrics_hash(),
            definitions_version=catalog.version,
            engine={**_engine_versions(), **engine},
            inputs=inputs,
            first_month=computation.first_month.isoformat() if computation.first_month else None,
            last_month=computation.last_month.isoformat(),
            rows=computation.rows,
            digest=str(computation.digest),
            metrics=[m.name for m in catalog],
            notes=list(computation.notes),
            evaluation=evaluation.summary() | {"seconds": round(evaluation_seconds, 3)},
            decisions={
                "committed": len(decisions.store.records(Status.COMMITTED)),
                "signals_fired": sum(a.kind == "signal_fired" for a in decision_alerts),
                "reviews_due": sum(a.kind == "review_due" for a in decision_alerts),
            },
            posted=asdict(posted) if posted is not None else {},
            predictions=predictions,
        )
        run.store(manifest)
        # the run is stored; its decision alerts and the plans follow it (a failed run
        # opens or tracks none). The plans come last: the web server shows the new run
        # once they are tracked (web/current.py), with everything it needs in place.
        decisions.store.record_alerts(run.run_id, decision_alerts)
        plans.track_run(
            workspace,
            evaluation,
            run_id=run.run_id,
            today=as_of.date(),
            criteria=config.flags.improvement,
            managers=managers,
        )
        step("stored")
    return manifest


def _evaluate(
    workspace: Workspace,
    folder: Path,
    results: pa.Table,
    run_id: int,
    previous: RunManifest | None,
) -> Evaluation:
    """Scorecards, tiers, flags and alerts of the metric values just written to ``folder``."""
    import pyarrow.parquet as pq

    from partnerscope.evaluation.pipeline import ALERTS, evaluate, write

    earlier = None
    if previous is not None:
        path = run_folder(workspace, previous.run_id) / ALERTS
        earlier = pq.read_table(path) if path.is_file() else None
    evaluation = evaluate(
        workspace.config,
        workspace.catalog,
        results,
        pq.read_table(folder / MEMBERSHIPS),
        run_id=run_id,
        previous_alerts=earlier,
    )
    write(evaluation, folder)
    return evaluation


def _opportunities(warehouse: Warehouse, path: Path) -> None:
    """The opportunities the deal scores read, taken while the warehouse is open, into a
    Parquet file that the predictions read when they score the deals (not held in memory
    through the evaluation and the forecasts)."""
    from partnerscope.predict.deals import write_snapshot

    write_snapshot(warehouse.con, path)


def _give_back() -> None:
    """Let Arrow's allocator (mimalloc) return the pages of the tables a step let go of: it
    keeps them for Arrow's next tables, while the next step's memory is mostly NumPy's and
    pandas', which would sit beside them (1.7 GB after the deal scores at scale 1)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _predicting(progress: Progress | None) -> Progress:
    """The progress of the predictions' steps, all shown as the run's one predicting step."""

    def said(text: str, _done: int, _models: int) -> None:
        if progress is not None:
            progress(text, STEPS - 2, STEPS)

    return said


def _score_deals(
    workspace: Workspace,
    opportunities: Path,
    as_of: datetime,
    end: DataEnd | None,
    progress: Progress | None,
) -> DealScores:
    """The open deals' scores from the snapshot file, which is removed once they are made."""
    from partnerscope.predict.run import score_deals

    deals = score_deals(
        opportunities,
        workspace.config,
        workspace.words,
        as_of=as_of,
        last_day=end.last_day if end else None,
        progress=_predicting(progress),
    )
    opportunities.unlink()
    return deals


def _predict(
    workspace: Workspace,
    run: NewRun,
    results: pa.Table,
    deals: DealScores,
    evaluation: Evaluation,
    as_of: datetime,
    end: DataEnd | None,
    previous: RunManifest | None,
    progress: Progress | None,
) -> tuple[Evaluation, dict[str, Any]]:
    """Forecasts, risk and deal scores into the run folder; the risk alerts join the run's
    alerts. Returns the evaluation with them and the manifest's summary of the predictions."""
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    from partnerscope.evaluation.alerts import dedupe, risk_alerts
    from partnerscope.evaluation.pipeline import ALERTS
    from partnerscope.predict import store
    from partnerscope.predict.run import make, write

    folder, run_id = run.folder, run.run_id
    previous_risk = earlier_alerts = None
    if previous is not None:
        earlier = run_folder(workspace, previous.run_id)
        previous_risk = store.read_table(earlier, store.RISK)
        if (earlier / ALERTS).is_file():
            earlier_alerts = pq.read_table(earlier / ALERTS)

    made = make(
        results,
        pq.read_table(folder / MEMBERSHIPS),
        deals,
        workspace.config,
        workspace.words,
        as_of=as_of,
        last_day=end.last_day if end else None,
        previous_risk=previous_risk,
        progress=_predicting(progress),
    )
    write(made, folder)
    panel = evaluation.panel
    raised = risk_alerts(
        made.risks.table,
        workspace.words,
        workspace.config.predict,
        start=panel.periods[panel.latest] if panel.periods else None,
        label=panel.labels[panel.latest] if panel.labels else None,
    )
    if raised.num_rows:
        found = dedupe(raised, earlier_alerts, run_id)
        alerts = pa.concat_tables([evaluation.alerts, found.cast(evaluation.alerts.schema)])
        pq.write_table(alerts, folder / ALERTS)
        evaluation = dataclasses.replace(evaluation, alerts=alerts)
    return evaluation, made.summary()


def _engine_versions() -> dict[str, str]:
    import duckdb
    import ibis

    return {
        "kind": "duckdb",
        "duckdb": duckdb.__version__,
        "ibis": ibis.__version__,
        "partnerscope": __version__,
    }


def _inputs(warehouse: Warehouse) -> dict[str, Any]:
    """Row counts, the import ledger's high-water mark and the fingerprint of every file."""
    con = warehouse.con
    files: dict[str, list[dict[str, Any]]] = {}
    rows = con.execute(
        "SELECT entity, file, fingerprint, max(import_id) FROM _imports "
        "GROUP BY entity, file, fingerprint ORDER BY entity, file, 4"
    ).fetchall()
    for entity, file, fingerprint, import_id in rows:
        files.setdefault(entity, []).append(
            {"file": file, "fingerprint": fingerprint, "import_id": import_id}
        )
    return {
        "max_import_id": warehouse.last_import_id(),
        "rows": warehouse.row_counts(),
        "files": files,
        "identities": _identities(con),
    }


def _identities(con: duckdb.DuckDBPyConnection) -> str | None:
    """A fingerprint of the account identities (channel conflict reads them): a person's review
    decision changes them without an import."""
    from partnerscope.metrics.entities_market import IDENTITY_TABLE

    (exists,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [IDENTITY_TABLE]
    ).fetchall()[0]
    if not exists:
        return None
    count, digest = con.execute(
        f'SELECT count(*), bit_xor(hash(account_id, identity_id)) FROM "{IDENTITY_TABLE}"'
    ).fetchall()[0]
    return f"{count}:{digest}"


def _plan(
    workspace: Workspace,
    previous: RunManifest | None,
    metrics_hash: str,
    catalog: Catalog,
    inputs: dict[str, Any],
    as_of: datetime,
    full: bool,
    warehouse: Warehouse,
) -> tuple[Any, str, str]:
    """Whether this run can reuse the previous one, and from which month it recomputes."""
    from partnerscope.metrics.calendar import add_months
    from partnerscope.metrics.engine import Reuse, local_time, parameters

    def recompute(reason: str) -> tuple[None, str, str]:
        return None, "full", reason

    if full:
        return recompute("asked for (--full)")
    if previous is None:
        return recompute("first run")
    folder = run_folder(workspace, previous.run_id)
    if previous.metrics_hash != metrics_hash:
        return recompute("the configuration changed")
    if previous.definitions_version != catalog.version:
        return recompute("the metric definitions changed")
    if as_of < previous.as_of_time:
        return recompute("the as-of time is earlier than the previous run's")
    if not (folder / PARTS).is_file():
        return recompute("the previous run kept no parts")
    tracked = {
        row[0]
        for row in warehouse.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = '_imports'"
        ).fetchall()
    }
    if "changed_from" not in tracked:
        return recompute("the warehouse was created before partnerscope tracked change dates")
    # rows removed by an import (a complete file of partnerscope's own) change its table too;
    # a warehouse not written since before that was tracked has removed none
    removed = "coalesce(removed, 0) > 0" if "removed" in tracked else "false"
    changes = warehouse.con.execute(
        "SELECT entity, min(changed_from), count(*) FILTER (WHERE changed_from IS NULL) "
        f"FROM _imports WHERE import_id > ? AND (inserted > 0 OR updated > 0 OR {removed}) "
        "GROUP BY entity",
        [previous.inputs["max_import_id"]],
    ).fetchall()
    changed_tables = {entity for entity, *_ in changes}
    if inputs.get("identities") != previous.inputs.get("identities"):
        return recompute("the account identities changed")
    for name, count in inputs["rows"].items():
        if name not in changed_tables and previous.inputs["rows"].get(name) != count:
            return recompute(f"{name} changed outside partnerscope ingest")
    changed: list[datetime] = []
    for entity, earliest, undated in changes:
        if entity in UNREAD:
            continue
        if entity in UNDATED:
            return recompute(f"{entity} changed")
        if undated:
            return recompute(f"an import of {entity} has no change date")
        if earliest is not None:
            changed.append(earliest)
    timezone = workspace.config.workspace.timezone
    params = parameters(workspace.config, as_of)
    # how far back each metric that reads the as-of time is changed by its move (none when the
    # as-of time did not move)
    horizons = {
        m.name: h
        for m in catalog
        if as_of != previous.as_of_time and (h := m.as_of_horizon_hours(params)) is not None
    }
    if float("inf") in horizons.values():
        return recompute("a metric's as-of window has no bound")

    def moved(metrics: list[Metric]) -> list[datetime]:
        """From when the as-of time's move since the previous run changes these metrics."""
        hours = [horizons[m.name] for m in metrics if m.name in horizons]
        return [previous.as_of_time - timedelta(hours=max(hours))] if hours else []

    # months after the previous run's last are new; a previous as-of time inside its last
    # month read that month "so far": recompute it too
    last = date.fromisoformat(previous.last_month)
    read_so_far = local_time(previous.as_of_time, timezone) != datetime.combine(
        add_months(last, 1), datetime.min.time()
    )
    first_new = last if read_so_far else add_months(last, 1)

    def month(moments: list[datetime]) -> date:
        # exact for timestamps (stored in UTC); a date read as UTC midnight can only land on
        # the same or an earlier local day, which recomputes a little more, never less
        return min([first_new, *(local_time(m, timezone).date().replace(day=1) for m in moments)])

    since_month = month(changed + moved(list(catalog)))
    # medians and distinct counts (and the revenue bands that group them) follow only their own
    # as-of windows, which they mostly have none of: a later as-of time alone keeps their periods
    holistic_since = month(
        changed + moved([m for m in catalog if m.holistic or m.name == BAND_SOURCE])
    )
    holistic = folder / HOLISTIC if (folder / HOLISTIC).is_file() else None
    reuse = Reuse(
        parts=folder / PARTS, holistic=holistic, since=since_month, holistic_since=holistic_since
    )
    own = ""
    if holistic_since != since_month:
        own = f" (medians and distinct counts from {holistic_since:%Y-%m})"
    return (
        reuse,
        "incremental",
        f"recomputed from {since_month:%Y-%m}{own}; earlier months kept from run {previous.run_id}",
    )


# ----------------------------------------------------------------------- where the data ends


@dataclass(frozen=True)
class DataEnd:
    """Where the data in the warehouse ends, and the as-of time that looks from there."""

    #: The reporting time zone's date of the latest event in the canonical tables (not after now).
    last_day: date
    #: ``--as-of data-end``: the end of the month holding ``last_day`` (midnight on the 1st of
    #: the next month in the reporting time zone, as naive UTC), or now if that is earlier.
    as_of: datetime

    @property
    def month(self) -> date:
        return self.last_day.replace(day=1)

    def stale(self, now: datetime) -> bool:
        """Whether the data ends so long before ``now`` that a run as of now is mostly empty."""
        return now - self.as_of > STALE_AFTER


def data_end(workspace: Workspace, now: datetime | None = None) -> DataEnd | None:
    """The end of the data: the latest date at which something happened in a canonical table
    (a deal created or closed, a lead assigned, a survey answered, ...; FX rates, change stamps
    and expiry dates excluded), ignoring dates after ``now``. None before any such row."""
    from zoneinfo import ZoneInfo

    from partnerscope.clock import local_date, now_utc
    from partnerscope.metrics.calendar import add_months
    from partnerscope.schema import TABLES, ColumnType

    now = now or now_utc()
    timezone = workspace.config.workspace.timezone
    today = local_date(now, timezone)
    days: list[date] = []
    with workspace.warehouse(read_only=True) as warehouse:
        for table in TABLES.values():
            dated = [
                c
                for c in table.columns
                if c.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and c.name not in NOT_EVENTS
            ]
            if table.name in UNREAD or not dated:
                continue
            # a timestamp is stored as UTC, a date as the reporting time zone's
            latest = ", ".join(f'max("{c.name}") FILTER (WHERE "{c.name}" <= ?)' for c in dated)
            bounds = [now if c.type is ColumnType.TIMESTAMP else today for c in dated]
            (row,) = warehouse.con.execute(
                f'SELECT {latest} FROM "{table.name}"', bounds
            ).fetchall()
            for value in row:
                if isinstance(value, datetime):
                    days.append(local_date(value, timezone))
                elif isinstance(value, date):
                    days.append(value)
    if not days:
        return None
    last_day = max(days)
    next_month = datetime.combine(add_months(last_day.replace(day=1), 1), datetime.min.time())
    as_of = next_month.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC).replace(tzinfo=None)
    return DataEnd(last_day=last_day, as_of=min(as_of, now))


# ----------------------------------------------------------------------- posting facts


@dataclass(frozen=True)
class Posted:
    """What a run posted (nothing when the facts had not changed)."""

    summary: str
    import_ids: tuple[int, ...]
    quarantined: int


def producers() -> tuple[Producer, ...]:
    """Every module's producers, in the order their files are loaded."""
    from partnerscope.lifecycle.applications import joined_partners
    from partnerscope.lifecycle.enablement import tier_requirements
    from partnerscope.money.posting import incentive_costs, mdf_requests
    from partnerscope.operations.registrations.rows import registered_deals
    from partnerscope.operations.routing.rows import routed_leads

    # partners first: the other files' rows may belong to a partner that joined since
    return (
        joined_partners,
        tier_requirements,
        incentive_costs,
        mdf_requests,
        routed_leads,
        registered_deals,
    )


def post(workspace: Workspace) -> Posted | None:
    """Post every module's facts that changed since they were last posted; None when nothing
    changed. Call it holding the workspace lock."""
    from partnerscope.atomic import write_bytes
    from partnerscope.ingest.ledger import display_path
    from partnerscope.ingest.loader import ingest

    facts = [
        f
        for produce in producers()
        if (f := produce(workspace)) is not None and (f.rows or f.path.is_file())
    ]
    if not facts:
        return None
    with workspace.warehouse(read_only=True) as warehouse:
        changed = [
            f for f in facts if _needs_posting(warehouse, display_path(f.path, workspace.root), f)
        ]
    for fact in facts:
        # the file always holds the latest facts (the lineage of posted rows points into it)
        data = fact.content.encode("utf-8")
        if not fact.path.is_file() or fact.path.read_bytes() != data:
            fact.path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(fact.path, data)
    if not changed:
        return None
    with workspace.warehouse() as warehouse:
        report = ingest(
            warehouse,
            workspace.config,
            workspace.root,
            [(f.source, f.path) for f in changed],
            sources={f.source: f.source_config() for f in changed},
            complete={f.source for f in changed if f.complete},
        )
    parts = []
    for fact, done in zip(changed, report.files, strict=True):
        counts = f"{done.inserted:,} new, {done.updated:,} changed"
        if done.removed:
            counts += f", {done.removed:,} removed"
        part = f"{fact.described} ({counts})"
        if done.quarantined:
            part += (
                f", {done.quarantined:,} not loaded: see `partnerscope quarantine "
                f"--source {fact.source}`"
            )
        parts.append(part)
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return Posted(
        summary="posted " + listed,
        import_ids=tuple(f.import_id for f in report.files),
        quarantined=report.quarantined,
    )


def _needs_posting(warehouse: Warehouse, file: str, fact: Facts) -> bool:
    """Whether the file's content differs from its latest import, or that import left rows
    in the quarantine (tried again: the partner may have been loaded since)."""
    rows = warehouse.con.execute(
        "SELECT fingerprint, quarantined FROM _imports WHERE source = ? AND file = ? "
        "ORDER BY import_id DESC LIMIT 1",
        [fact.source, file],
    ).fetchall()
    return not rows or rows[0][0] != fact.fingerprint or rows[0][1] > 0
