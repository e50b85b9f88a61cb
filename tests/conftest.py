"""Shared helpers: small workspaces in tmp_path, file writers and warehouse queries.

Every test builds a real workspace folder with a real DuckDB file; nothing is mocked.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import shutil
import textwrap
from collections.abc import Callable, Generator, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from filelock import FileLock

from partnerscope.schema import TABLES
from partnerscope.workspace import Workspace

# fixtures of the PostgreSQL and Spark tests, and what a test needs from the machine
from tests.pgtools import pg_server, pg_url, store_url  # noqa: F401
from tests.requires import MissingDependency, ci_failure, need, under_ci
from tests.sparktools import spark_session  # noqa: F401

# typer's CliRunner builds the whole click command tree from the app on every invoke: 0.34 s
# for partnerscope's 160 commands, paid by each of the suite's ~190 CLI calls. The tree depends
# only on the app, so it is built once per app and process.
typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]

#: The repository is always cloned beside ``shared/``.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: A minimal partners source, used by most tests as the target of opportunity references.
PARTNERS_SOURCE = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
"""

PARTNERS_CSV = "id,name\nP1,Acme\nP2,Beta\n"


def make_workspace(
    root: Path, toml_text: str, files: dict[str, str | bytes] | None = None
) -> Workspace:
    """A workspace in ``root`` with ``toml_text`` as its configuration and ``files`` in it.

    Text files are written as UTF-8 exactly as given (no newline translation).
    """
    ws = Workspace.create(root, config_text=textwrap.dedent(toml_text))
    for name, content in (files or {}).items():
        write_file(ws.root / name, content)
    return ws


def write_file(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode(encoding)
    path.write_bytes(data)
    return path


def csv_text(rows: Iterable[Sequence[object]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def query(ws: Workspace, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the workspace's warehouse (opened read-only, closed again)."""
    with ws.warehouse(read_only=True) as wh:
        return wh.con.execute(sql, list(params)).fetchall()


def quarantine(ws: Workspace) -> list[tuple[int, str | None, str | None, str]]:
    """(row, column, value, rule) of every quarantined row, in row order."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in query(
            ws,
            'SELECT "row", "column", value, rule FROM _quarantine ORDER BY import_id, "row"',
        )
    ]


def snapshot(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """The full content of every canonical table, the import ledger and the quarantine."""
    out = {}
    with ws.warehouse(read_only=True) as wh:
        for name in [*TABLES, "_imports", "_quarantine"]:
            out[name] = sorted(wh.con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
    return out


@pytest.fixture
def workspace_factory(tmp_path: Path) -> Callable[..., Workspace]:
    """``workspace_factory(toml_text, files)`` → a new workspace in its own folder of tmp_path."""
    counter = iter(range(1_000_000))

    def factory(toml_text: str, files: dict[str, str | bytes] | None = None) -> Workspace:
        return make_workspace(tmp_path / f"ws{next(counter)}", toml_text, files)

    return factory


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI, a test skipped for a missing dependency (``tests.requires.need``) fails: CI
    installs everything the suite needs, so the check must run there. Other skips stay skips."""
    report = yield
    missing = call.excinfo.value if call.excinfo is not None else None
    if report.skipped and isinstance(missing, MissingDependency) and under_ci():
        report.outcome = "failed"
        report.longrepr = ci_failure(item.nodeid, missing)
    return report


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The tests marked ``shared_data`` need the public datasets beside the clone."""
    if item.get_closest_marker("shared_data") is not None:
        need(
            SHARED_DATA.is_dir(),
            f"the public datasets at {SHARED_DATA}",
            "clone the repository beside shared/, as in the project layout",
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--snapshot-update",
        action="store_true",
        help="Rewrite the SQL snapshots in tests/snapshots/ from the engine instead of comparing.",
    )


@pytest.fixture
def snapshot_sql(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/snapshots/<name>, or rewrite it with --snapshot-update."""
    update = bool(request.config.getoption("--snapshot-update"))

    def check(name: str, text: str) -> None:
        path = Path(__file__).parent / "snapshots" / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.is_file(), f"no snapshot {path}; create it with pytest --snapshot-update"
        assert text == path.read_text(encoding="utf-8"), (
            f"{name} changed; if the new SQL is intended, run pytest --snapshot-update and "
            "review the diff"
        )

    return check


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Any]
) -> Path:
    """The folder ``name`` made by ``build(folder)`` once per test run: the first xdist worker to
    ask builds it under a file lock, the others wait for it and share it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder = base / name
    with FileLock(str(base / f"{name}.lock")):
        done = base / f"{name}.done"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            done.touch()
    return folder


def copy_workspace(source: Path, root: Path) -> Path:
    """A copy of the workspace ``source`` in ``root`` (its lock file left behind)."""
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("lock"))
    return root


#: 50 partners: the smallest demo with every tier
DEMO_SCALE = 0.05


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace at scale ``DEMO_SCALE``, built once per test run for every module that
    needs one. Never change it: copy it first (``copy_workspace``)."""

    def build(root: Path) -> None:
        from typer.testing import CliRunner

        from partnerscope.cli import app

        result = CliRunner().invoke(app, ["demo", str(root), "--scale", str(DEMO_SCALE)])
        assert result.exit_code == 0, result.output

    return built_once(tmp_path_factory, "demo", build)


@pytest.fixture(scope="session")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo workspace of the web tests, with one user per role (tests/webtools.py): built
    once per test run, and copied for each worker (a signed-in client writes to it)."""
    from dataclasses import asdict

    from tests.webtools import WebWorld, build

    def make(folder: Path) -> None:
        world = asdict(build(folder / "demo"))
        del world["root"]
        (folder / "world.json").write_text(json.dumps(world), encoding="utf-8")

    shared = built_once(tmp_path_factory, "web", make)
    fields = json.loads((shared / "world.json").read_text(encoding="utf-8"))
    root = copy_workspace(shared / "demo", tmp_path_factory.mktemp("web") / "demo")
    return WebWorld(root, **fields)
