"""What the front ends do with decisions: create, edit, cite, compare, commit, review, check.

The CLI (and later the web app) call these; each change is one transaction of the store.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from partnerscope.atomic import write_bytes
from partnerscope.clock import now_utc
from partnerscope.decisions import cadence
from partnerscope.decisions.check import DecisionAlert, SignalState, check_decisions
from partnerscope.decisions.evidence import cite
from partnerscope.decisions.guards import CommitRefusedError, commit_problems
from partnerscope.decisions.record import (
    Commit,
    DecisionRecord,
    Frame,
    Outcome,
    Review,
    ReviewKind,
    ReviewPlan,
    Signal,
    Status,
)
from partnerscope.decisions.store import DecisionStore
from partnerscope.errors import ConfigError, PartnerscopeError, did_you_mean
from partnerscope.scenarios.spec import problems

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.decisions.record import Evidence
    from partnerscope.scenarios.analysis import Progress as ScenarioProgress
    from partnerscope.scenarios.analysis import ScenarioResult
    from partnerscope.workspace import Workspace

ENV_USER = "PARTNERSCOPE_USER"
#: What a decision file may set: the Frame and the Compare sections, and metrics to cite.
FILE_KEYS = ("frame", "compare", "cite")


class DecisionStateError(PartnerscopeError, ValueError):
    """The decision is not in a state that allows this (e.g. reviewing a draft)."""


def current_user() -> str:
    """Who is making the change: $PARTNERSCOPE_USER, else the login name."""
    return os.environ.get(ENV_USER) or getpass.getuser()


class Decisions:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store = DecisionStore.open(workspace)

    def new(self, frame: Mapping[str, Any], *, by: str, file: Path | None = None) -> DecisionRecord:
        """A draft from Frame fields, and from a decision file when given; nothing is stored
        unless all of it is valid."""
        document = _read_file(file) if file else {}
        fields = {**document.pop("frame", {}), **{k: v for k, v in frame.items() if v is not None}}
        try:
            framed = Frame.model_validate(fields)
        except ValidationError as exc:
            raise ConfigError(str(file or "the decision"), _problems(exc, "frame")) from None
        draft = DecisionRecord(
            decision_id=0, frame=framed, created_at=now_utc(whole_seconds=True), created_by=by
        )
        return self.store.new(self._compose(draft, document, where=str(file)), by=by)

    def edit(
        self,
        decision_id: int,
        *,
        patch: Mapping[str, Any] | None = None,
        append: Mapping[str, list[Any]] | None = None,
        file: Path | None = None,
        by: str,
    ) -> DecisionRecord:
        """Replace the fields in ``patch`` (nested by section), extend the lists in ``append``
        (dotted paths such as ``compare.facts``) and apply a decision file."""
        record = self.store.get(decision_id)
        document = merge(_read_file(file) if file else {}, dict(patch or {}))
        updated = self._compose(record, document, append=append, where=str(file or record.ref))
        return self.store.update(updated, action="edit", by=by)

    def cite(self, decision_id: int, metric: str, *, by: str, **where: Any) -> Evidence:
        record = self.store.get(decision_id)
        evidence = cite(self.workspace, metric, **where)
        compare = record.compare.model_copy(
            update={"evidence": [*record.compare.evidence, evidence]}
        )
        self.store.update(record.model_copy(update={"compare": compare}), action="cite", by=by)
        return evidence

    def compare(
        self,
        decision_id: int,
        *,
        run_id: int | None = None,
        trials: int | None = None,
        seed: int | None = None,
        by: str,
        progress: ScenarioProgress | None = None,
    ) -> tuple[DecisionRecord, ScenarioResult]:
        """Model every option over the decision's horizon, calibrated from a run, and keep
        the summary (bands, recommendation, break-even thresholds) in the record."""
        from partnerscope.runs import get_run
        from partnerscope.scenarios.analysis import simulate
        from partnerscope.scenarios.calibration import calibrate_run
        from partnerscope.scenarios.spec import parse_spec

        record = self.store.get(decision_id)
        settings = record.compare.scenario.model_dump(mode="json")
        settings["horizon_months"] = record.frame.horizon_months
        if trials is not None:
            settings["trials"] = trials
        if seed is not None:
            settings["seed"] = seed
        spec = parse_spec(settings, where=f"{record.ref} compare.scenario")
        run = get_run(self.workspace, run_id)
        result = simulate(spec, calibrate_run(self.workspace, run.run_id), progress)
        summary = {"run_id": run.run_id, **result.summary()}
        compare = record.compare.model_copy(update={"scenario": spec, "result": summary})
        stored = self.store.update(
            record.model_copy(update={"compare": compare}), action="compare", by=by
        )
        return stored, result

    def commit(
        self,
        decision_id: int,
        *,
        option: str,
        rationale: str,
        owner: str | None,
        timeline: str = "",
        first_review: date | None = None,
        every_months: int = 3,
        post_review: date | None = None,
        signals: Sequence[str] = (),
        stops: Sequence[str] = (),
        today: date | None = None,
        by: str,
    ) -> DecisionRecord:
        """Commit to an option, or refuse with every reason the guards give."""
        record = self.store.get(decision_id)
        if record.status is not Status.DRAFT:
            raise DecisionStateError(
                f"{record.ref} is already {record.status.value}; record a review with "
                f"`partnerscope decide review {decision_id}` instead"
            )
        config = self.workspace.config
        reasons = commit_problems(
            record,
            option=option,
            owner=owner,
            signals=[*signals, *stops],
            catalog=self.workspace.catalog,
            grain=config.scorecard.grain,
        )
        if reasons:
            raise CommitRefusedError(record.ref, reasons)
        today = today or date.today()
        first = first_review or today + timedelta(days=30)
        post = post_review or cadence.months_later(today, record.frame.horizon_months)
        try:
            commit = Commit(
                option=option,
                rationale=rationale,
                owner=owner or record.frame.owner or "",
                timeline=timeline,
                committed_on=today,
                committed_by=by,
                review=ReviewPlan(first=first, every_months=every_months, post=post),
                signals=[
                    *(Signal(condition=s, kind="reversal") for s in signals),
                    *(Signal(condition=s, kind="stop") for s in stops),
                ],
            )
        except ValidationError as exc:
            raise CommitRefusedError(record.ref, _problems(exc, "commit")) from None
        committed = record.model_copy(update={"commit": commit, "status": Status.COMMITTED})
        return self.store.update(committed, action="commit", by=by)

    def review(
        self,
        decision_id: int,
        *,
        outcome: Outcome,
        why: str,
        on: date | None = None,
        by: str,
    ) -> tuple[DecisionRecord, Review]:
        """Record the next scheduled review's conclusion (early reviews answer it too)."""
        record = self.store.get(decision_id)
        scheduled = cadence.next_review(record)
        if record.status is not Status.COMMITTED or scheduled is None:
            raise DecisionStateError(
                f"{record.ref} is {record.status.value}: only a committed decision with a "
                "review outstanding is reviewed"
            )
        if not why.strip():
            raise DecisionStateError("say why with --why: the review record keeps the reason")
        from partnerscope.runs import latest_run

        latest = latest_run(self.workspace)
        review = Review(
            scheduled=scheduled.on,
            kind=scheduled.kind,
            held_on=on or date.today(),
            outcome=outcome,
            why=why,
            by=by,
            run_id=latest.run_id if latest else None,
        )
        status: Status = record.status
        if outcome is Outcome.STOP:
            status = Status.STOPPED
        elif scheduled.kind is ReviewKind.POST:
            status = Status.CLOSED
        updated = record.model_copy(update={"reviews": [*record.reviews, review], "status": status})
        return self.store.update(updated, action="review", by=by), review

    def check(
        self, *, today: date, results: pa.Table | None = None, run_id: int | None = None
    ) -> tuple[list[DecisionAlert], list[SignalState]]:
        """Signals and due reviews of the committed decisions, on a run's results."""
        from partnerscope.runs import read_results

        records = self.store.records(Status.COMMITTED)
        if results is None:
            results = read_results(self.workspace, run_id) if records else None
        if results is None:
            return [], []
        return check_decisions(
            records,
            results,
            today=today,
            catalog=self.workspace.catalog,
            grain=self.workspace.config.scorecard.grain,
        )

    def export(self, out: Path | None = None) -> list[Path]:
        """Each decision as Markdown and every review date in ``reviews.ics``."""
        from partnerscope.decisions.export import file_name, to_ics, to_markdown
        from partnerscope.scenarios.chart import write_chart

        folder = out or self.workspace.root / "decisions"
        folder.mkdir(parents=True, exist_ok=True)
        records = self.store.records()
        written = []
        for record in records:
            path = folder / file_name(record)
            chart = None
            if record.compare.result:
                chart = path.with_name(f"{path.stem}-scenario.svg")
                write_chart(record.compare.result, chart)
                written.append(chart)
            ws = self.workspace
            text = to_markdown(
                record,
                ws.catalog,
                chart=chart.name if chart else None,
                words=ws.words,
                grain=ws.config.scorecard.grain,
            )
            write_bytes(path, text.encode())
            written.append(path)
        path = folder / "reviews.ics"
        write_bytes(path, to_ics(records, workspace_name=self.workspace.config.workspace.name))
        return [*written, path]

    def _compose(
        self,
        record: DecisionRecord,
        document: dict[str, Any],
        *,
        append: Mapping[str, list[Any]] | None = None,
        where: str,
    ) -> DecisionRecord:
        """The record with a document laid over it, its lists extended and its citations
        resolved, validated whole."""
        citations = document.pop("cite", [])
        merged = merge(record.model_dump(mode="json"), document)
        for path, items in (append or {}).items():
            *sections, key = path.split(".")
            target = merged
            for section in sections:
                target = target[section]
            target[key] = [*target.get(key, []), *items]
        for citation in citations:
            if not isinstance(citation, dict) or "metric" not in citation:
                raise ConfigError(
                    where,
                    [
                        "cite: each entry is a table with metric = NAME (and scope, grain, "
                        "period, run_id, note)"
                    ],
                )
            evidence = cite(self.workspace, **citation)
            merged["compare"]["evidence"].append(evidence.model_dump(mode="json"))
        try:
            updated = DecisionRecord.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(where, _problems(exc, "")) from None
        catalog = self.workspace.catalog
        unknown = [
            f"compare.success_metrics: no metric {name!r}"
            f"{did_you_mean(name, [m.name for m in catalog])}"
            for name in updated.compare.success_metrics
            if name not in catalog
        ]
        if unknown:
            raise ConfigError(where, unknown)
        return updated


def _read_file(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    unknown = sorted(document.keys() - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            str(path),
            [
                f"{key}: unknown section; a decision file has {', '.join(FILE_KEYS)}"
                for key in unknown
            ],
        )
    return document


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _problems(exc: ValidationError, prefix: str) -> list[str]:
    located = problems(exc)
    return [f"{prefix}.{p}" if prefix else p for p in located]
