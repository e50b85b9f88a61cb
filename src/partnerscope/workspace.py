"""The workspace: a folder with ``partnerscope.toml``, its data and its state.

Every front end (CLI, web, tests) builds a :class:`Workspace` and calls into it; this class stays
small and delegates the work to the modules that own it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.config import CONFIG_FILE, Config, load_config
from partnerscope.errors import WorkspaceBusyError, WorkspaceError

if TYPE_CHECKING:
    from partnerscope.ingest.loader import IngestReport, ProgressFn
    from partnerscope.metrics.definition import Catalog
    from partnerscope.pipeline import Progress
    from partnerscope.present import Words
    from partnerscope.runs import RunManifest
    from partnerscope.warehouse import Warehouse

TEMPLATE = Path(__file__).parent / "templates" / CONFIG_FILE


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @classmethod
    def open(cls, root: Path | None = None) -> Workspace:
        root = (root or Path.cwd()).resolve()
        if root.is_file():
            if root.name != CONFIG_FILE:
                raise WorkspaceError(
                    f"{root} is a file; --workspace takes the folder of a workspace (the one "
                    f"holding its {CONFIG_FILE})"
                )
            # `-w ws/partnerscope.toml`: the file names its workspace
            root = root.parent
        if not (root / CONFIG_FILE).is_file():
            raise WorkspaceError(
                f"{root} is not a partnerscope workspace (no {CONFIG_FILE}); create one with "
                "`partnerscope init DIR` or point to one with --workspace DIR"
            )
        return cls(root)

    @classmethod
    def create(
        cls, root: Path, *, name: str | None = None, config_text: str | None = None
    ) -> Workspace:
        """Lay out a new workspace; refuse to overwrite an existing configuration."""
        root = root.resolve()
        if (root / CONFIG_FILE).exists():
            raise WorkspaceError(f"{root / CONFIG_FILE} already exists; choose an empty folder")
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "state").mkdir(exist_ok=True)
        text = config_text or TEMPLATE.read_text(encoding="utf-8").replace(
            "{name}", name or root.name
        )
        (root / CONFIG_FILE).write_text(text, encoding="utf-8")
        (root / ".gitignore").write_text("state/\n", encoding="utf-8")
        return cls(root)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @cached_property
    def catalog(self) -> Catalog:
        """The metric catalog: built-in definitions and this workspace's own."""
        from partnerscope.metrics.definition import load_catalog

        return load_catalog(self.config.metrics, where=str(self.config_path))

    @cached_property
    def words(self) -> Words:
        """How this workspace writes numbers, money, dates and names for people."""
        from partnerscope.present import Words

        return Words.of(self)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def warehouse_path(self) -> Path:
        return self.root / self.config.engine.path

    def warehouse(self, *, read_only: bool = False) -> Warehouse:
        from partnerscope.warehouse import Warehouse

        engine = self.config.engine
        return Warehouse(
            self.warehouse_path,
            read_only=read_only,
            memory_limit=engine.memory_limit,
            threads=engine.threads,
        )

    @contextmanager
    def lock(self, command: str) -> Iterator[None]:
        """Hold the workspace for one writing command; the OS frees it if the process dies."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / "lock"
        fh = path.open("a+", encoding="utf-8")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "{}"
                info = json.loads(holder) if holder.startswith("{") else {}
                raise WorkspaceBusyError(
                    f"{self.root} is busy: `partnerscope {info.get('command', '?')}` "
                    f"(pid {info.get('pid', '?')}, started {info.get('started', '?')}) is "
                    "using it; wait for it to finish and try again"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(
                json.dumps(
                    {
                        "command": command,
                        "pid": os.getpid(),
                        "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                )
            )
            fh.flush()
            yield
        finally:
            fh.close()

    def ingest(
        self,
        sources: Sequence[str] | None = None,
        files: dict[str, list[Path]] | None = None,
        progress: ProgressFn | None = None,
    ) -> IngestReport:
        from partnerscope.ingest.loader import ingest, plan_files
        from partnerscope.ingest.profile import after_ingest, date_hints
        from partnerscope.operations.identity import decisions as identity_decisions

        pairs = plan_files(self.config, self.root, sources, files)
        with self.lock("ingest"), self.warehouse() as warehouse:
            report = ingest(
                warehouse,
                self.config,
                self.root,
                pairs,
                progress=progress,
                identity_decisions=lambda: identity_decisions(self),
            )
            if not report.files:
                return report
            # what each source now holds; its money totals kept for the next import to compare
            with warehouse.transaction():
                profiles = after_ingest(warehouse.con, self.config, report, self.words)
            hints = date_hints(warehouse.con, self.config, [f.import_id for f in report.files])
        return replace(report, profiles=tuple(profiles), date_hints=tuple(hints))

    def run(
        self, *, as_of: datetime | None = None, full: bool = False, progress: Progress | None = None
    ) -> RunManifest:
        """Compute every metric and store the results as a new run."""
        from partnerscope.pipeline import execute

        return execute(self, as_of=as_of, full=full, progress=progress)
