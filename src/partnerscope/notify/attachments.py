"""The reports a notification's email carries, rendered when it is sent (owner: schedules).

A notification stores what to attach as a small spec (``notifications.attachment``), not the
file: firing a schedule only writes rows, and the delivery worker calls :func:`render` for each
email. Specs:

- ``{"report": "scorecard", "partner": P, "run": id|None, "period": label|None}``: the
  partner's scorecard as PDF, in its **partner edition** (reports/partner.py: its own score,
  tiers shown to partners and metrics; none of the vendor's judgements of it) — what its users
  may read, whoever the email goes to;
- ``{"report": "executive", "run": id|None, "period": label|None}``: the executive summary;
- ``{"report": "payout_statement", "partner": P, "period": quarter}``: the partner's lines of
  an approved (or paid) payout ledger.

A spec that cannot be rendered (no such partner, run or ledger; a draft ledger) raises
:class:`AttachmentError`: the message cannot be built, and sending it again will not help.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians
    from partnerscope.workspace import Workspace

__all__ = ["REPORTS", "Attachment", "AttachmentError", "render"]

PDF = "application/pdf"

#: the reports a spec may name
REPORTS = ("scorecard", "executive", "payout_statement")


class AttachmentError(PartnerscopeError, ValueError):
    """An attachment that cannot be made (an unknown report, partner, run or ledger)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = PDF


def render(workspace: Workspace, spec: dict[str, Any]) -> Attachment:
    """The file ``spec`` names, rendered from the workspace as it is now (the run it names)."""
    report = spec.get("report")
    try:
        if report == "scorecard":
            return _scorecard(workspace, spec)
        if report == "executive":
            return _executive(workspace, spec)
        if report == "payout_statement":
            return _payout_statement(workspace, spec)
    except AttachmentError:
        raise
    except (PartnerscopeError, LookupError) as exc:  # no such run, partner, period, ledger
        raise AttachmentError(f"cannot attach {_describe(spec)}: {exc}") from exc
    raise AttachmentError(
        f"cannot attach {_describe(spec)}: no report {report!r}; one of {', '.join(REPORTS)}"
    )


def _describe(spec: dict[str, Any]) -> str:
    parts = [str(spec.get("report")).replace("_", " ")]
    if spec.get("partner"):
        parts.append(f"of {spec['partner']}")
    if spec.get("period"):
        parts.append(f"for {spec['period']}")
    if spec.get("run"):
        parts.append(f"(run {spec['run']})")
    return "the " + " ".join(parts)


# --------------------------------------------------------------------------- the run, once

#: runs read lately, by (workspace folder, run id): a schedule's emails all attach reports of
#: one run, so the run's files are read once, not once per email
_RUNS: OrderedDict[tuple[Path, int], tuple[RunData, CohortMedians]] = OrderedDict()
_RUNS_KEPT = 2
_LOCK = threading.Lock()


def _run(workspace: Workspace, run_id: int | None) -> tuple[RunData, CohortMedians]:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians
    from partnerscope.runs import get_run

    if run_id is None:
        run_id = get_run(workspace, None).run_id
    key = (workspace.root.resolve(), int(run_id))
    with _LOCK:
        if key in _RUNS:
            _RUNS.move_to_end(key)
            return _RUNS[key]
        data = RunData(workspace, int(run_id))
        _RUNS[key] = (data, CohortMedians(data))
        while len(_RUNS) > _RUNS_KEPT:
            _RUNS.popitem(last=False)
        return _RUNS[key]


def forget() -> None:
    """Drop the runs kept (a test that rewrote a run in place)."""
    with _LOCK:
        _RUNS.clear()


def _safe(text: str) -> str:
    from partnerscope.reports.write import _safe as safe

    return safe(text)


def _pdf(page: str) -> bytes:
    from partnerscope.reports import render as layout

    return layout.pdf(page)


# ------------------------------------------------------------------------------- reports

#: the partner edition of a scorecard as a printable page (as the web's partner download)
_PARTNER_PAGE = (
    '{% extends "_base.html.j2" %}{% block content %}'
    '{% include "_partner_scorecard_body.html.j2" %}{% endblock %}'
)


def _scorecard(workspace: Workspace, spec: dict[str, Any]) -> Attachment:
    from partnerscope.reports import render as layout
    from partnerscope.reports.charts import data_uri
    from partnerscope.reports.partner import partner_scorecard
    from partnerscope.reports.scorecard import scorecard

    partner = spec.get("partner")
    if not partner:
        raise AttachmentError(f"cannot attach {_describe(spec)}: it names no partner")
    data, medians = _run(workspace, spec.get("run"))
    data.check_partner(str(partner))
    report = scorecard(data, str(partner), spec.get("period"), medians=medians)
    edition = partner_scorecard(report, workspace.config.tiers.shown_to_partners)
    images = {name: data_uri(chart) for name, chart in edition.charts.items()}
    page = layout.environment().from_string(_PARTNER_PAGE).render(report=edition, images=images)
    name = f"scorecard-{_safe(str(partner))}-{_safe(edition.period)}.pdf"
    return Attachment(name, _pdf(page))


def _executive(workspace: Workspace, spec: dict[str, Any]) -> Attachment:
    from partnerscope.reports import render as layout
    from partnerscope.reports.executive import executive

    data, _ = _run(workspace, spec.get("run"))
    report = executive(data, spec.get("period"))
    return Attachment(f"executive-{_safe(report.period)}.pdf", _pdf(layout.html(report)))


_STATEMENT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
{% include "report.css" %}
</style>
</head>
<body class="report payout_statement">
<header class="report">
  <h1>{{ title }}</h1>
  <div class="subtitle">{{ subtitle }}</div>
  <div class="stamp">{{ workspace }} · {{ status }}</div>
</header>
<section id="total">
<p>Total for {{ period }}: <strong>{{ total }}</strong>.</p>
</section>
<section id="lines">
<h2>How it is made</h2>
{% if lines %}
<table>
<thead><tr><th>Rule</th><th>Earned in</th><th>Why</th><th class="num">Amount</th></tr></thead>
<tbody>
{% for line in lines %}
<tr><td>{{ line.rule }}</td><td>{{ line.earned_in }}</td><td>{{ line.explanation }}</td>
<td class="num">{{ line.amount }}</td></tr>
{% endfor %}
</tbody>
<tfoot><tr><th colspan="3">Total</th><th class="num">{{ total }}</th></tr></tfoot>
</table>
{% else %}
<p>No payout for {{ period }}.</p>
{% endif %}
</section>
</body>
</html>
"""


def _payout_statement(workspace: Workspace, spec: dict[str, Any]) -> Attachment:
    from partnerscope.amounts import ZERO
    from partnerscope.money.payouts import LOCKED, Payouts
    from partnerscope.present import Words
    from partnerscope.reports import render as layout

    partner, period = spec.get("partner"), spec.get("period")
    if not partner or not period:
        raise AttachmentError(
            f"cannot attach {_describe(spec)}: a payout statement names its partner and quarter"
        )
    ledger = Payouts(workspace).ledger(str(period))
    if ledger.status not in LOCKED:
        raise AttachmentError(
            f"cannot attach {_describe(spec)}: the ledger of {ledger.period} is a draft "
            "(a statement is sent once it is approved)"
        )
    words = workspace.words
    if words.currency != ledger.currency:
        words = Words(words.locale, ledger.currency)
    lines = [line for line in ledger.lines if line.partner_id == partner]
    try:
        name = _run(workspace, ledger.run_id)[0].partner_name(str(partner))
    except LookupError:
        name = str(partner)
    if ledger.paid_at is not None:
        status = f"paid on {words.date(ledger.paid_at)}" + (
            f", reference {ledger.payment_ref}" if ledger.payment_ref else ""
        )
    else:
        status = f"approved on {words.date(ledger.approved_at)}"
    total = sum((line.amount for line in lines), ZERO)
    page = (
        layout.environment()
        .from_string(_STATEMENT_PAGE)
        .render(
            # the page footer report.css prints
            report={"stamp": {"footer": lambda: f"{workspace.config.workspace.name} · {status}"}},
            title=f"Payout statement — {name}",
            subtitle=f"{ledger.period} · {partner}",
            workspace=workspace.config.workspace.name,
            status=status,
            period=ledger.period,
            total=words.money(total, cents=True),
            lines=[
                {
                    "rule": words.rule(line.rule),
                    "earned_in": line.earned_in,
                    "explanation": line.explanation,
                    "amount": words.money(line.amount, cents=True),
                }
                for line in lines
            ],
        )
    )
    return Attachment(
        f"payout-statement-{_safe(str(partner))}-{_safe(ledger.period)}.pdf", _pdf(page)
    )
