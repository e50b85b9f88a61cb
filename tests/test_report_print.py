"""The HTML and PDF reports as their readers see them, on the demo workspace: the words (no
catalog key, internal code, "NaN" or long float), the printed pages (a scorecard on at most two
A4 pages, a QBR landscape on at most four, nothing outside the page, one font) and the charts
(compact currency axes, a colour per tier, no legend for one series, nothing for no data).

PDFs are read back with pdfplumber: every word's box, every character's font.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.metrics.definition import Unit
from partnerscope.reports import charts, render
from partnerscope.reports.executive import executive
from partnerscope.reports.qbr import qbr
from partnerscope.reports.scorecard import scorecard
from tests.conftest import copy_workspace
from tests.requires import installed, need
from tests.visible import problems, text_of

LONG_FLOAT = re.compile(r"\d\.\d{5,}")


def assert_in_words(text: str, keys: list[str], where: str) -> None:
    """No catalog key, internal code, z-score, hash, raw fraction or long float, NaN/None, or
    money without currency (tests/visible.py's rule), and in particular no float of more than
    4 decimals and no partner type by its code."""
    found = problems(text, keys)
    assert found == [], f"{where}: {found[:10]}"
    shown = [k for k in keys if "_" in k and re.search(rf"\b{re.escape(k)}\b", text)]
    assert shown == [], f"{where} shows catalog keys {shown}"
    assert not re.search(r"\bNaN\b|\bNone\b", text), where
    assert not LONG_FLOAT.findall(text), f"{where}: {LONG_FLOAT.findall(text)[:5]}"


@pytest.fixture(scope="module")
def demo(demo_folder, tmp_path_factory):
    from partnerscope.workspace import Workspace

    root = tmp_path_factory.mktemp("report-print") / "demo"
    return Workspace.open(copy_workspace(demo_folder, root))


@pytest.fixture(scope="module")
def data(demo):
    return RunData(demo)


def biggest(data: RunData, n: int) -> list[str]:
    """The ``n`` partners with the most won revenue over 12 months in the latest period (the
    longest scorecards: every metric has a value)."""
    import pyarrow.compute as pc

    start, _ = data.periods[-1]
    cards = data.scorecards.table
    cards = cards.filter(pc.equal(cards["period_start"], start)).to_pylist()
    cards.sort(key=lambda c: -(c["annual_revenue"] or 0.0))
    return [c["partner_id"] for c in cards[:n]]


def busiest(data: RunData) -> str:
    """The partner with the most alerts and flags (the longest alerts section)."""
    counts: dict[str, int] = {}
    for row in [*data.alerts.table.to_pylist(), *data.flags.table.to_pylist()]:
        counts[row["partner_id"]] = counts.get(row["partner_id"], 0) + 1
    return max(sorted(counts), key=lambda p: counts[p])


def pdf_pages(page: str) -> list[dict[str, Any]]:
    """Each page of the PDF printed from ``page``: its size, words and fonts."""
    need(installed("pdfplumber"), "pdfplumber", "`make venv` installs the dev extras")
    import io

    import pdfplumber

    pdf = render.pdf(page)
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for p in doc.pages:
            out.append(
                {
                    "width": float(p.width),
                    "height": float(p.height),
                    "words": p.extract_words(),
                    "fonts": {c["fontname"].split("+")[-1] for c in p.chars},
                    "text": p.extract_text() or "",
                }
            )
    return out


def assert_on_the_page(pages: list[dict[str, Any]], where: str) -> None:
    for number, p in enumerate(pages, 1):
        for w in p["words"]:
            inside = (
                w["x0"] >= 0
                and w["x1"] <= p["width"] + 0.01
                and w["top"] >= 0
                and w["bottom"] <= p["height"] + 0.01
            )
            assert inside, f"{where}, page {number}: {w['text']!r} outside the page"
        # WeasyPrint names the faces Liberation-Sans(-Bold), vl-convert LiberationSans(-Bold)
        families = {re.sub(r"-(Bold|Italic|BoldItalic|Regular)$", "", f) for f in p["fonts"]}
        assert families <= {"Liberation-Sans", "LiberationSans"}, (
            f"{where}, page {number}: {families}"
        )


@pytest.mark.slow
def test_reports_speak_in_words(demo, data):
    keys = [m.name for m in demo.catalog]
    partners = [*biggest(data, 2), busiest(data)]
    pages = [("executive", render.html(executive(data)))]
    for pid in partners:
        pages.append((f"scorecard {pid}", render.html(scorecard(data, pid))))
        pages.append((f"QBR {pid}", render.html(qbr(data, pid))))
    for where, page in pages:
        text = text_of(page)
        # the run's configuration is no reading matter: its hash is only in an attribute
        assert "About this run" in text and data.run.config_hash not in text, where
        assert_in_words(text, keys, where)
        # what each metric means, at the end
        assert "Definitions" in text, where
    # the executive summary says a review in words, not as a command
    assert "partnerscope decide" not in pages[0][1]


@pytest.mark.slow
def test_scorecard_prints_on_two_pages(demo, data):
    keys = [m.name for m in demo.catalog]
    for pid in dict.fromkeys([*biggest(data, 2), busiest(data)]):
        report = scorecard(data, pid)
        pages = pdf_pages(render.html(report))
        where = f"scorecard {pid}"
        assert 1 <= len(pages) <= 2, f"{where}: {len(pages)} pages"
        assert pages[0]["width"] < pages[0]["height"]  # A4 portrait
        assert_on_the_page(pages, where)
        # page 1 is full: its last word is in the lower fifth of the page
        assert max(w["bottom"] for w in pages[0]["words"]) > 0.8 * pages[0]["height"], where
        # the metrics table's header on each page the table runs over
        for p in pages:
            rows = [r for r in report.sections["metrics"] if r["label"] in p["text"]]
            if rows and "Metrics" not in p["text"]:
                assert "Peer median" in p["text"], f"{where}: a page of metrics without header"
        assert_in_words("\n".join(p["text"] for p in pages), keys, where)


@pytest.mark.slow
def test_qbr_prints_landscape_on_four_pages(demo, data):
    keys = [m.name for m in demo.catalog]
    for pid in dict.fromkeys([*biggest(data, 2), busiest(data)]):
        pages = pdf_pages(render.html(qbr(data, pid)))
        where = f"QBR {pid}"
        assert 1 <= len(pages) <= 4, f"{where}: {len(pages)} pages"
        assert all(p["width"] > p["height"] for p in pages), f"{where}: not landscape"
        assert_on_the_page(pages, where)
        assert_in_words("\n".join(p["text"] for p in pages), keys, where)


def test_money_axes_in_compact_currency():
    """A money axis labels $52M, not 52,000,000 or 52M; a missing value leaves no NaN."""
    rows = [
        {"period": "FY2026-Q1", "value": 52_300_000.0},
        {"period": "FY2026-Q2", "value": float("nan")},
        {"period": "FY2026-Q3", "value": 1_500_000_000.0},
    ]
    spec = charts.spec("line", rows, unit=Unit.MONEY, title="Won revenue", currency="EUR")
    assert [r["period"] for r in spec["datasets"]["values"]] == ["FY2026-Q1", "FY2026-Q3"]
    labels = re.findall(r">([^<]+)</text>", charts.svg(spec))
    assert "€1B" in labels and "€0" in labels
    assert not [t for t in labels if "NaN" in t]
    smaller = charts.spec("line", [*rows[:1], {"period": "Q0", "value": 0.0}], unit=Unit.MONEY)
    labels = re.findall(r">([^<]+)</text>", charts.svg(smaller))
    assert "$20M" in labels and "$40M" in labels and "$0" in labels
    assert spec["width"] == "container" and spec["autosize"]["type"] == "fit"
    # the image of a report is drawn at a fixed width
    assert 'width="' in charts.svg(spec)


def test_no_chart_without_data():
    spec = charts.spec("line", [{"period": "FY2026-Q4", "value": None}], title="Win rate")
    assert charts.empty(spec) == "No data"


def test_tier_colours_stay_and_one_series_has_no_legend():
    order = ["Platinum", "Gold", "Silver", "Registered"]
    one = charts.spec(
        "stacked", [{"period": "Q1", "category": "Gold", "count": 3, "rank": 1}], categories=order
    )
    two = charts.spec(
        "stacked",
        [
            {"period": "Q2", "category": "Silver", "count": 3, "rank": 2},
            {"period": "Q2", "category": "Gold", "count": 1, "rank": 1},
        ],
        categories=order,
    )
    for spec in (one, two):
        scale = spec["encoding"]["color"]["scale"]
        assert scale["domain"] == order
        assert dict(zip(scale["domain"], scale["range"], strict=True))["Gold"] == "#2563eb"
    single = charts.spec("bars", [{"label": "Win rate", "value": 3.0, "group": "Leading"}])
    assert single["encoding"]["color"]["legend"] is None
    flags = charts.spec(
        "bars",
        [
            {"label": "Exit", "value": 2, "group": "Exit review"},
            {"label": "Up", "value": 5, "group": "High potential"},
        ],
    )
    colours = dict(
        zip(
            flags["encoding"]["color"]["scale"]["domain"],
            flags["encoding"]["color"]["scale"]["range"],
            strict=True,
        )
    )
    assert colours == {"Exit review": charts.BAD, "High potential": charts.GOOD}


def test_a_sentence_when_contributions_are_scaled_to_the_evidence():
    from partnerscope.present import Words
    from partnerscope.reports.scorecard import _coverage_note

    assert _coverage_note(Words(), 0.7) == (
        "Evidence covers 70% of the scorecard's weight; contributions are scaled to it."
    )
    assert _coverage_note(Words(), 1.0) == ""
    assert _coverage_note(Words("de_DE", "EUR"), 0.7).startswith("Evidence covers 70\u00a0%")


@pytest.mark.slow
def test_executive_says_returns_as_multiples_and_reviews_in_words(data):
    report = executive(data)
    for row in report.sections["mdf"]:
        assert row["roi"].text.endswith("×") or row["roi"].text == "—", row["roi"].text
        assert row["group_text"][0].isupper() and "_" not in row["group_text"]
    kpis = {k["name"]: k for k in report.sections["kpis"]}
    assert kpis["mdf_roi"]["goal"].text == "2.0×"
    assert kpis["won_revenue"]["value"].text.startswith("$")
    for alert in report.sections["decisions"]["alerts"]:
        assert "`" not in alert["message"] and "partnerscope " not in alert["message"]
        assert "should be reviewed" in alert["message"] or "review due on" in alert["message"]


@pytest.mark.slow
def test_next_tier_gaps_read_as_needs(data):
    gaps = [
        gap
        for pid in biggest(data, 5)
        for tier in scorecard(data, pid).sections["tiers"]
        if tier["next"]
        for gap in tier["next"]["gaps"]
    ]
    assert gaps
    for gap in gaps:
        assert re.fullmatch(r"[A-Z][^_]* \(needs at (least|most) [^)]+\)", gap), gap
