"""The docs cannot drift from the code: generated pages, quarantine rules and links are checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from partnerscope.config import SourceConfig
from partnerscope.ingest.transform import Plan
from partnerscope.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
GEN_DOCS = ROOT / "scripts" / "gen_docs.py"
#: Hand-written pages whose relative links must resolve.
PAGES = [
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "bench" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]


def gen_docs(*args: str) -> subprocess.CompletedProcess[str]:
    # a separate interpreter: the help screens must not depend on what this process imported
    return subprocess.run(
        [sys.executable, str(GEN_DOCS), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def test_generated_pages_are_current() -> None:
    result = gen_docs("--check")
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_names_each_stale_or_missing_page(tmp_path: Path) -> None:
    assert gen_docs("--docs-dir", str(tmp_path)).returncode == 0
    (tmp_path / "data-model.md").unlink()
    reference = tmp_path / "cli-reference.md"
    reference.write_text(reference.read_text(encoding="utf-8") + "edited by hand\n", "utf-8")

    result = gen_docs("--check", "--docs-dir", str(tmp_path))

    assert result.returncode == 1
    assert "data-model.md is missing" in result.stderr
    assert "cli-reference.md is stale" in result.stderr
    assert "-edited by hand" in result.stderr  # the diff shows what differs


def quarantine_rules() -> set[str]:
    """Every rule name the ingester can quarantine a row with, read from the SQL it generates."""
    rules = {"malformed_row"}  # raised by the CSV/XLSX readers, not by SQL
    for name, table in TABLES.items():
        source = SourceConfig(entity=name, path="x.csv", columns={c: c for c in table.column_names})
        plan = Plan(
            table=table,
            source_name="s",
            source=source,
            file_columns=table.column_names,
            base_currency="USD",
            reporting_timezone="UTC",
            source_timezone="UTC",
            null_values=(),
        )
        sql = plan.lines_sql("__staged") + plan.checked_sql("(SELECT 1)")
        rules.update(re.findall(r"'rule': '(\w+)'", sql))
    return rules


def test_every_quarantine_rule_is_in_the_user_guide() -> None:
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    rules = quarantine_rules()
    assert {"missing", "not_date", "no_fx_rate", "unknown_reference"} <= rules
    undocumented = sorted(r for r in rules if f"`{r}`" not in guide)
    assert not undocumented, f"add these quarantine rules to docs/user-guide.md: {undocumented}"


def anchors(page: Path) -> set[str]:
    """The heading anchors GitHub gives a markdown page (``## The datasets`` → ``the-datasets``)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


def bad_links(page: Path, text: str | None = None) -> list[str]:
    """Each link of ``page`` (or of ``text`` read as if it were there) that leaves the
    repository, names no file or no heading there.

    Links to the web (http, https) are allowed: the datasets' origins and the tools' docs.
    """
    text = page.read_text(encoding="utf-8") if text is None else text
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"https?://", target):
            continue
        if re.match(r"[a-z]+:", target):
            bad.append(f"{target} (not a web or repository link)")
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.is_relative_to(ROOT):
            bad.append(f"{target} (outside the repository)")
        elif not path.exists():
            bad.append(f"{target} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            bad.append(f"{target} (no such heading)")
    return bad


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_in_the_repository_and_resolve(page: Path) -> None:
    bad = bad_links(page)
    assert not bad, f"{page.relative_to(ROOT)} has links that break in a clone: {bad}"


def test_a_link_out_of_the_repository_is_caught() -> None:
    text = (
        "[metrics](../../shared/METRICS.md), [gone](nothing.md), [guide](user-guide.md), "
        "[heading](real-data.md#no-such-heading), [ok](real-data.md#the-datasets), "
        "[web](https://github.com/ikebude/CRM-Sales-Analysis), `[code](../x.md)`\n"
    )
    assert bad_links(ROOT / "docs" / "new-page.md", text) == [
        "../../shared/METRICS.md (outside the repository)",
        "nothing.md (no such file)",
        "real-data.md#no-such-heading (no such heading)",
    ]


def test_a_figure_that_drifted_from_bench_readme_is_caught() -> None:
    bench = section((ROOT / "bench" / "README.md").read_text(encoding="utf-8"), ENGINES)
    assert figures_not_in("takes 14.4× DuckDB's time, measured 2026-12-06", bench) == []
    assert figures_not_in("takes 14.5× DuckDB's time, 1,114.1 s", bench) == ["14.5", "1,114.1"]


def section(text: str, heading: str) -> str:
    """The part of ``text`` from ``heading`` to the next heading of its level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    rest = text.split(heading + "\n", 1)[1]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{level}}} ", rest, flags=re.MULTILINE)]
    return rest[: ends[0]] if ends else rest


#: Figures a page quotes: measured values (a decimal point), ratios and measurement dates.
FIGURE = re.compile(r"\d{4}-\d\d-\d\d|\d[\d,]*\.\d+")


ENGINES = "## Engines: `bench/engines.py`"


def figures_not_in(quoted: str, bench: str) -> list[str]:
    """The figures of ``quoted`` that ``bench`` does not have."""
    return [
        f
        for f in FIGURE.findall(quoted)
        if not re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", bench)
    ]


@pytest.mark.parametrize(
    ("page", "heading"),
    [("README.md", "## Roadmap"), ("docs/engines.md", "## Speed")],
)
def test_benchmark_figures_are_quoted_from_bench_readme(page: str, heading: str) -> None:
    bench = section((ROOT / "bench" / "README.md").read_text(encoding="utf-8"), ENGINES)
    quoted = section((ROOT / page).read_text(encoding="utf-8"), heading)
    assert FIGURE.findall(quoted), f"{page} {heading} quotes no figure: drop this check"
    missing = figures_not_in(quoted, bench)
    assert not missing, f"{page} quotes figures that bench/README.md does not have: {missing}"
