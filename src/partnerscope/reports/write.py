"""``partnerscope report``: reports of a run written to files, one partner at a time.

The run's files are read once (:class:`~partnerscope.evaluation.view.RunData`); each partner's
report is built, written and dropped before the next, so memory stays bounded by the run, not
by the number of reports. Every file is written beside its old version and swapped in whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from partnerscope.atomic import replacing, write_bytes
from partnerscope.reports.content import Figure, ReportError

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians, Report
    from partnerscope.workspace import Workspace


class Kind(StrEnum):
    SCORECARD = "scorecard"
    QBR = "qbr"
    EXECUTIVE = "executive"
    #: the market opportunity map (read from the warehouse, not from a run)
    MARKET = "market"


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"
    XLSX = "xlsx"


@dataclass
class Written:
    """What a ``report`` call wrote."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    #: the page listing the reports, when there are several
    index: Path | None = None
    #: rows per sheet, for a workbook
    sheets: dict[str, int] = field(default_factory=dict)

    def with_file(self, path: Path) -> Written:
        self.files.append(path)
        return self


Progress = Callable[[int, int], None]


def default_folder(workspace: Workspace, run_id: int) -> Path:
    return workspace.root / "reports" / f"run-{run_id:06d}"


def write_reports(
    workspace: Workspace,
    kind: Kind,
    fmt: Format,
    *,
    partner: str | None = None,
    period: str | None = None,
    run_id: int | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Written:
    """Write the ``kind`` report(s) of a run in ``fmt``: the executive summary, or a scorecard
    or QBR for ``partner`` (every partner scored in the period when None); the market map of
    the warehouse (no run)."""
    from partnerscope.evaluation.view import RunData

    if kind is Kind.MARKET:
        from partnerscope.reports.market import write_market

        return Written(out or workspace.root / "reports" / "market").with_file(
            write_market(workspace, fmt.value, out)
        )
    data = RunData(workspace, run_id)
    written = Written(out or default_folder(workspace, data.run.run_id))
    written.folder.mkdir(parents=True, exist_ok=True)
    if fmt is Format.XLSX:
        _workbook(data, kind, partner, period, written)
    elif kind is Kind.EXECUTIVE:
        from partnerscope.reports.executive import executive

        report = executive(data, period)
        written.files.append(_page(report, fmt, written.folder))
    else:
        jobs = jobs or os.cpu_count() or 1
        _partner_pages(data, kind, fmt, partner, period, written, progress, jobs)
    return written


def _partner_pages(
    data: RunData,
    kind: Kind,
    fmt: Format,
    partner: str | None,
    period: str | None,
    written: Written,
    progress: Progress | None,
    jobs: int,
) -> None:
    import pyarrow.compute as pc

    from partnerscope.reports import content

    if partner is not None:
        data.check_partner(partner)
        partners = [partner]
    else:
        # a QBR's period is a quarter, checked by qbr.qbr: list the latest scored partners
        start, _ = data.pick_period(period if kind is Kind.SCORECARD else None)
        cards = data.scorecards.table
        partners = cards.filter(pc.equal(cards["period_start"], start))["partner_id"].to_pylist()
    listed: list[Entry] = []
    if len(partners) < 2 * PER_TASK or jobs <= 1:
        medians = content.CohortMedians(data)
        for pid in partners:
            listed.append(_partner_page(data, kind, fmt, pid, period, written.folder, medians))
            if progress:
                progress(len(listed), len(partners))
    else:
        listed = _in_processes(data, kind, fmt, partners, period, written.folder, jobs, progress)
    written.files.extend(written.folder / entry.file for entry in listed)
    if len(partners) > 1:
        written.index = _index(data, kind, listed, written.folder)


@dataclass(frozen=True)
class Entry:
    """A partner's report as the index lists it."""

    partner_id: str
    title: str
    period: str
    file: str
    score: Figure


#: Partners a worker process takes at a time.
PER_TASK = 20


def _partner_page(
    data: RunData,
    kind: Kind,
    fmt: Format,
    partner_id: str,
    period: str | None,
    folder: Path,
    medians: CohortMedians,
) -> Entry:
    from partnerscope.reports.qbr import qbr
    from partnerscope.reports.scorecard import scorecard

    if kind is Kind.SCORECARD:
        report = scorecard(data, partner_id, period, medians=medians)
        score = report.sections["summary"]["score"]
    else:
        report = qbr(data, partner_id, period)
        score = report.sections["scorecard"]["score"]
    path = _page(report, fmt, folder)
    return Entry(partner_id, report.title, report.period, path.name, score)


def _in_processes(
    data: RunData,
    kind: Kind,
    fmt: Format,
    partners: list[str],
    period: str | None,
    folder: Path,
    jobs: int,
    progress: Progress | None,
) -> list[Entry]:
    """Partners' pages written by ``jobs`` processes (charts are rendered on one core each);
    each process reads the run once. Fresh processes (spawn), not forks of this one."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    chunks = [partners[i : i + PER_TASK] for i in range(0, len(partners), PER_TASK)]
    listed: list[Entry] = []
    context = multiprocessing.get_context("spawn")
    # the workspace's class travels to the workers (by reference), which open it again
    args = (type(data.workspace), data.workspace.root, data.run.run_id, kind, fmt, period, folder)
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(_worker_chunk, *args, chunk) for chunk in chunks]
        for future in as_completed(futures):
            listed.extend(future.result())
            if progress:
                progress(len(listed), len(partners))
    return listed


#: A worker process's run, read on its first chunk.
_WORKER: dict[tuple[Path, int], tuple[RunData, CohortMedians]] = {}


def _worker_chunk(
    opens: type[Workspace],
    root: Path,
    run_id: int,
    kind: Kind,
    fmt: Format,
    period: str | None,
    folder: Path,
    partners: list[str],
) -> list[Entry]:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians

    if (root, run_id) not in _WORKER:
        data = RunData(opens.open(root), run_id)
        _WORKER[(root, run_id)] = (data, CohortMedians(data))
    data, medians = _WORKER[(root, run_id)]
    return [_partner_page(data, kind, fmt, p, period, folder, medians) for p in partners]


def _page(report: Report, fmt: Format, folder: Path) -> Path:
    from partnerscope.reports import render

    path = folder / file_name(report, fmt.value)
    page = render.html(report)
    write_bytes(path, page.encode() if fmt is Format.HTML else render.pdf(page))
    return path


def file_name(report: Report, extension: str) -> str:
    who = f"-{_safe(report.partner_id)}" if report.partner_id else ""
    return f"{report.kind}{who}-{_safe(report.period)}.{extension}"


def _safe(text: str) -> str:
    """A partner id or period as part of a file name (ids may hold any character)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "_"


def _index(data: RunData, kind: Kind, listed: list[Entry], folder: Path) -> Path:
    """One page linking every report written, best score first."""
    from partnerscope.reports import content, render

    rows = sorted(listed, key=lambda e: (not e.score.known, -(e.score.value or 0.0), e.partner_id))
    period = listed[0].period
    index = content.Report(
        kind="index",
        title=f"{data.workspace.config.workspace.name} — {kind.value} reports {period}",
        subtitle=f"{len(rows):,} partners",
        stamp=content.stamp(data),
        period=period,
        sections={"rows": rows},
        words=data.workspace.words,
    )
    path = folder / f"{kind.value}-index-{_safe(period)}.html"
    write_bytes(path, render.html(index).encode())
    return path


def _workbook(
    data: RunData, kind: Kind, partner: str | None, period: str | None, written: Written
) -> None:
    from partnerscope.reports.executive import executive
    from partnerscope.reports.qbr import qbr as qbr_of
    from partnerscope.reports.workbook import write_workbook

    if partner is not None:
        data.check_partner(partner)
    summary = qbr = None
    if kind is Kind.QBR:
        if partner is None:
            raise ReportError(
                "a QBR workbook is one partner's; name the partner with --partner, or write "
                "every partner's QBR as html or pdf"
            )
        qbr = qbr_of(data, partner, period)
    elif partner is None:
        # a partner's own workbook leaves out the portfolio (it names other partners)
        summary = executive(data, period)
    _, label = data.pick_period(period)
    name = f"{kind.value}-{_safe(partner)}-{_safe(label)}" if partner else f"run-{_safe(label)}"
    path = written.folder / f"{name}.xlsx"
    with replacing(path) as temp:
        written.sheets = write_workbook(
            data,
            temp,
            period,
            partners=[partner] if partner else None,
            summary=summary,
            qbr=qbr,
        )
    written.files.append(path)
