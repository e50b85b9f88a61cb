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
SHARED = ROOT.parent / "shared"
#: Hand-written pages whose relative links must resolve.
PAGES = [
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
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


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        # links to ../shared/ (design documents, data) are checked where it is beside the clone
        checkable = path.is_relative_to(ROOT) or SHARED.is_dir()
        if checkable and not path.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"
