"""Commands that create and check workspaces: init, validate, schema, demo."""

from __future__ import annotations

import shlex
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from partnerscope.cli.app import app, console, program, state
from partnerscope.cli.output import FormatOption, OutputFormat, show
from partnerscope.cli.progress import progress_bar
from partnerscope.clock import now_utc
from partnerscope.errors import WorkspaceError

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    name: Annotated[str | None, typer.Option(help="Workspace name shown in reports.")] = None,
) -> None:
    """Create a workspace: partnerscope.toml, a data folder and a state folder."""
    from partnerscope.workspace import Workspace

    ws = Workspace.create(directory, name=name)
    console.print(f"[green]Created[/] workspace {ws.root}")
    run = _run_in(ws.root)
    console.print(
        f"  edit {ws.config_path.name} to declare your exports under \\[sources.*], "
        f"put the files in data/, then run `{run} validate` and `{run} ingest`.",
        soft_wrap=True,
    )


def _run_in(root: Path) -> str:
    """The command line that runs partnerscope on workspace ``root`` from the user's shell
    (as console markup)."""
    return escape(f"{program()} -w {shlex.quote(str(root))}")


@app.command()
def validate(ctx: typer.Context) -> None:
    """Check partnerscope.toml and the files it declares (every mapped column is in its file);
    every problem is listed with its key and how to fix it."""
    from partnerscope.config import source_files
    from partnerscope.errors import ConfigError
    from partnerscope.ingest.file_check import file_column_problems

    ws = state(ctx).workspace()
    config = ws.config
    problems = file_column_problems(ws.root, config)
    if problems:
        raise ConfigError(str(ws.config_path), problems)
    # the path on a line of its own: a table title would fold a long one and cut the rest
    console.print(f"{escape(str(ws.config_path))} is valid", soft_wrap=True)
    table = RichTable("source", "entity", "files")
    for name, source in config.sources.items():
        files = source_files(ws.root, source)
        table.add_row(
            name,
            source.entity,
            "\n".join(
                str(f.relative_to(ws.root)) if f.is_relative_to(ws.root) else str(f) for f in files
            ),
        )
    show(table)
    own = sum(not m.builtin for m in ws.catalog)
    console.print(
        f"[green]OK[/]: {len(config.sources)} sources, {len(ws.catalog.metrics)} metrics "
        f"({own} of this workspace's own), config hash {config.config_hash()}"
    )


@app.command()
def schema(
    table: Annotated[str | None, typer.Argument(help="One table; all when omitted.")] = None,
    markdown: Annotated[bool, typer.Option(help="Print the docs page (Markdown).")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Print the canonical data model: tables, columns, types, keys and allowed values."""
    from partnerscope.docs import data_model_markdown
    from partnerscope.schema import TABLES

    if markdown:
        console.print(data_model_markdown(), markup=False, soft_wrap=True)
        return
    if table is not None and table not in TABLES:
        raise WorkspaceError(f"unknown table {table!r}; tables are {', '.join(TABLES)}")
    # as data, one record per column of every table asked for, each naming its table
    data = fmt is not OutputFormat.table
    whole = RichTable(
        "table", "key", "column", "type", "required", "allowed / default", "description"
    )
    for name in [table] if table else list(TABLES):
        t = TABLES[name]
        out = RichTable(
            "column",
            "type",
            "required",
            "allowed / default",
            "description",
            title=f"{t.name} — key ({', '.join(t.key)})",
            title_justify="left",
        )
        for col in t.columns:
            extra = (
                ", ".join(col.allowed)
                if col.allowed
                else (f"default {col.default}" if col.default else "")
            )
            if col.references:
                extra = f"→ {col.references}"
            cells = (col.name, col.type.value, "yes" if col.required else "", extra)
            out.add_row(*map(escape, cells), escape(col.description))
            whole.add_row(t.name, ", ".join(t.key), *map(escape, cells), escape(col.description))
        if not data:
            show(out)
    if data:
        show(whole, fmt)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "partnerscope-demo"
    ),
    scale: Annotated[
        float, typer.Option(min=0.01, help="1.0 ≈ 1,000 partners, 500k opportunities, 2M leads.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an earlier demo in the folder, with everything added to it since.",
        ),
    ] = False,
) -> None:
    """Generate a realistic demo workspace and run everything on it."""
    from partnerscope import appdb
    from partnerscope.cli import demo_folder
    from partnerscope.demo import generate_demo
    from partnerscope.workspace import Workspace

    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        if not demo_folder.is_demo(directory):
            raise WorkspaceError(
                f"{directory} exists and is not a demo workspace; choose another folder "
                "(the demo writes a whole workspace into its folder)"
            )
        # an earlier demo with nothing added since is replaced: nothing is lost
        added = [] if force else demo_folder.added_since(directory)
        if added:
            raise WorkspaceError(
                f"{directory} holds an earlier demo, and replacing it would lose what was "
                f"added since: {'; '.join(added)}; add --force to replace it anyway, or "
                "choose another folder"
            )
        appdb.release(directory)
        shutil.rmtree(directory)
    started = time.perf_counter()
    directory.mkdir(parents=True)
    demo_folder.begin(directory)
    with progress_bar(console) as bar:
        task = bar.add_task("generating demo data", total=None)
        manifest = generate_demo(
            directory,
            scale=scale,
            seed=seed,
            progress=lambda step, rows: bar.update(
                task, description=f"generated {step} ({rows:,} rows)"
            ),
        )
        bar.update(task, total=1, completed=1)
    (directory / "state").mkdir(exist_ok=True)
    ws = Workspace.open(directory)
    from partnerscope.cli.data import print_ingest_report, run_ingest

    report = run_ingest(ws)
    print_ingest_report(report, profiles=False)  # the demo's data is known: its findings follow
    from partnerscope.cli.metrics import compute_run

    # the data is a snapshot taken the day after the last generated period
    as_of = datetime.combine(manifest.period_end + timedelta(days=1), dtime(), UTC)
    from partnerscope.demo import lifecycle

    with console.status("Planting applicants, onboarding plans and business plans…"):
        planted = lifecycle.plant(ws, today=as_of.date(), seed=seed)
    compute_run(ws, as_of=as_of)
    _print_findings(ws, manifest.planted)
    _print_lifecycle(planted, lifecycle.found(ws))
    _print_decision(ws, as_of.date())
    _write_reports(ws, manifest.planted)
    _write_money(ws)
    _write_operations(ws, seed)
    demo_folder.finish(directory)
    run = _run_in(directory)
    console.print(
        f"\n[green]Demo workspace ready[/] in {directory} "
        f"({time.perf_counter() - started:.0f} s): "
        f"{sum(manifest.rows.values()):,} rows generated."
    )
    console.print(
        f"  try: {run} scorecard {manifest.planted['decliners'][0]}    (a planted decliner)\n"
        f"       {run} alerts\n"
        f"       {run} metrics show win_rate\n"
        f"       {run} decisions show 1    (the demo's decision record)\n"
        f"       {run} report scorecard --format pdf    (every partner)",
        soft_wrap=True,
    )


def _write_reports(ws: Workspace, planted: dict[str, list[str]]) -> None:
    """The executive summary, the run's workbook, and the scorecards and QBR of a planted
    decliner and a riser."""
    from partnerscope.reports.write import Format, Kind, write_reports

    with console.status("Writing reports…"):
        files = [
            *write_reports(ws, Kind.EXECUTIVE, Format.HTML).files,
            *write_reports(ws, Kind.EXECUTIVE, Format.XLSX).files,
        ]
        for partner in (planted["decliners"][0], planted["risers"][0]):
            for kind in (Kind.SCORECARD, Kind.QBR):
                files += write_reports(ws, kind, Format.HTML, partner=partner).files
    console.print("\n[bold]Reports[/] (open them in a browser or Excel):")
    for path in files:
        console.print(f"  {escape(str(path))}")


def _write_money(ws: Workspace) -> None:
    """The latest complete quarter's payout ledger (a draft) exported for payment, and the MDF
    reallocation proposal for the year after the data."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.money.mdf import propose_reallocation
    from partnerscope.money.payouts import Payouts, export, latest_complete_quarter

    with console.status("Proposing next year's MDF budgets…"):
        proposal = propose_reallocation(ws)
        written = proposal.write_csv(ws.root / "reports" / f"mdf-{proposal.to_year}.csv")
    moved = sum((line.change for line in proposal.lines if line.change > 0), start=0)
    console.print(
        f"\n[bold]MDF[/] {proposal.to_year} proposal: {ws.words.money(proposal.total)} kept, "
        f"{ws.words.money(moved)} moved toward the best measured returns of {proposal.from_year}\n"
        f"  {escape(str(written))}"
    )

    data = RunData(ws)
    quarter = latest_complete_quarter(data)
    if quarter is None:
        return
    with console.status(f"Computing the {quarter} payout ledger…"):
        ledger = Payouts(ws).compute(quarter, by="partnerscope demo")
        names = {pid: data.partner_name(pid) for pid in ledger.partner_totals()}
        path = export(
            ledger, ws.root / "reports" / f"payouts-{quarter}.xlsx", names=names, words=ws.words
        )
    console.print(
        f"\n[bold]Payouts[/] {quarter} (draft): {ws.words.money(ledger.total, cents=True)} to "
        f"{len(ledger.partner_totals())} partners over {len(ledger.lines)} explained lines\n"
        f"  {escape(str(path))}\n"
        f"  try: {_run_in(ws.root)} payouts show {quarter} --partner "
        f"{next(iter(ledger.partner_totals()), 'P0001')}",
        soft_wrap=True,
    )


#: values of the demo's new leads: every routing band is met (self-service, round robin, top)
DEMO_LEAD_VALUES = (8_000, 18_000, 40_000, 65_000, 90_000, 150_000, 300_000)


def _write_operations(ws: Workspace, seed: int) -> None:
    """Today's new leads routed (written to reports/routed-leads.csv) and three deal
    registrations, two of them for the same account (the later one shows the conflict)."""
    import random

    from partnerscope.cli.leads import write_assignments
    from partnerscope.operations import registrations
    from partnerscope.operations.routing import service
    from partnerscope.operations.routing.leadfile import read_rows
    from partnerscope.warehouse import read_warehouse

    draw = random.Random(seed)
    partners = read_warehouse(
        ws, "SELECT partner_id, country FROM partners WHERE country IS NOT NULL ORDER BY 1"
    )
    countries = sorted({country for _, country in partners})
    now = now_utc(whole_seconds=True)
    rows = [
        {
            "lead_id": f"NEW-{i:04d}",
            "country": draw.choice(countries),
            "estimated_value": f"{draw.choice(DEMO_LEAD_VALUES) * draw.uniform(0.8, 1.2):.2f}",
            "source": draw.choice(("web", "event", "campaign")),
        }
        for i in range(1, 121)
    ]
    with console.status("Routing today's new leads…"):
        leads, _ = read_rows(ws, rows, now.date(), name="demo leads")
        batch = service.route_leads(ws, leads, now=now, by="partnerscope demo")
        path = ws.root / "reports" / "routed-leads.csv"
        write_assignments(path, batch.assignments)
    rules = ", ".join(f"{n} {rule}" for rule, n in sorted(batch.counts().items()))
    console.print(
        f"\n[bold]Leads[/] {len(batch.assignments)} new leads routed ({rules}), each explained\n"
        f"  {escape(str(path))}\n"
        f"  try: {_run_in(ws.root)} leads show {batch.assignments[0].lead_id}",
        soft_wrap=True,
    )

    german = [pid for pid, country in partners if country in ("Germany", "DE")][1:4]
    if len(german) < 3:
        return
    close = date.today() + timedelta(days=60)

    def register(partner: str, account: str, amount: int, **more: str) -> Any:
        return registrations.submit(
            ws,
            partner,
            account_name=account,
            amount=amount,
            expected_close=close,
            by="partnerscope demo",
            country=more.get("country"),
            domain=more.get("domain"),
        )

    first = register(
        german[0], "Müller Logistik GmbH", 180_000, country="DE", domain="mueller-logistik.de"
    )
    later = register(german[1], "Mueller Logistik", 150_000, country="Germany")
    other = register(german[2], "Brightwave Media Ltd", 60_000, country="DE")
    registrations.approve(ws, first.registration.registration_id, by="partnerscope demo")
    console.print(
        f"\n[bold]Deal registrations[/] #{first.registration.registration_id} approved and "
        f"protected; #{later.registration.registration_id} conflicts with it "
        f"({len(later.conflicts)} conflict found); #{other.registration.registration_id} "
        f"awaits approval\n"
        f"  try: {_run_in(ws.root)} registrations show "
        f"{later.registration.registration_id}",
        soft_wrap=True,
    )


def _print_findings(ws: Workspace, planted: dict[str, list[str]]) -> None:
    """What the evaluation found of the patterns planted in the data."""
    from partnerscope.demo.findings import findings

    table = RichTable("planted", "found", "by", title="Planted patterns", title_justify="left")
    for f in findings(ws, planted):
        style = "green" if not f.missed else "yellow"
        table.add_row(f.pattern, f"[{style}]{len(f.found)} of {len(f.planted)}[/]", f.found_by)
    show(table)


def _print_lifecycle(planted: dict[str, list[str]], found: dict[str, list[str]]) -> None:
    """What the demo planted in the partner lifecycle and what the product found of it."""
    table = RichTable("part", "planted", "found", title="Partner lifecycle", title_justify="left")
    for part, lines in planted.items():
        if lines or found[part]:
            table.add_row(part, "\n".join(lines), "\n".join(found[part]))
    if table.row_count:
        show(table)


def _print_decision(ws: Workspace, today: date) -> None:
    """Frame, model and commit the demo's decision, then check it as every run does."""
    from partnerscope.decisions.service import Decisions
    from partnerscope.demo.decision import plant_decision

    with console.status("Modelling and committing the demo's decision…"):
        record = plant_decision(ws, today=today)
    assert record.commit is not None
    result = record.compare.result or {}
    console.print(
        f"\n[bold]{record.ref}[/] {escape(record.title)}: committed to option "
        f"{record.commit.option} (the model recommends {result.get('recommended', '—')})."
    )
    alerts, _ = Decisions(ws).check(today=today)
    for alert in alerts:
        console.print(f"  [yellow]{alert.kind.replace('_', ' ')}:[/] {escape(alert.message)}")
