"""The benchmarks' comparison (bench/parity.py) finds what differs, and judges alike with the
engine parity tests' assert_same (tests/test_engine_parity.py), which bench/ does not import."""

from __future__ import annotations

import functools
import importlib.util
import math
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest

from tests.test_engine_parity import KEYS, assert_same

BENCH = Path(__file__).resolve().parents[1] / "bench"


@functools.cache
def parity() -> ModuleType:
    """bench/parity.py (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_parity", BENCH / "parity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_self_test_finds_the_planted_value_and_row_and_exits_1() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "parity.py"), "--selftest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 rows only in sql" in done.stdout
    assert "P1, 2025-Q1: 3 | 4" in done.stdout
    assert "SELF-TEST BROKEN" not in done.stdout


def table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [
            ("level", pa.string()),
            ("group_key", pa.string()),
            ("grain", pa.string()),
            ("period_start", pa.date32()),
            ("won_deals", pa.int64()),
            ("won_revenue", pa.decimal128(38, 2)),
            ("win_rate", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def row(group: str | None, **values: Any) -> dict[str, Any]:
    base = {
        "level": "partner",
        "group_key": group,
        "grain": "quarter",
        "period_start": date(2025, 1, 1),
        "won_deals": 3,
        "won_revenue": Decimal("10.50"),
        "win_rate": 0.25,
    }
    return base | values


BASE = [row("P1"), row("P2", win_rate=None), row(None, won_deals=0)]
CASES = {
    "identical": BASE,
    "a double within 1e-9": [row("P1", win_rate=0.25 * (1 + 1e-12)), *BASE[1:]],
    "a double beyond 1e-9": [row("P1", win_rate=0.25 * (1 + 1e-7)), *BASE[1:]],
    "NaN and NaN": [row("P1", win_rate=math.nan), *BASE[1:]],
    "a count": [row("P1", won_deals=4), *BASE[1:]],
    "a cent": [row("P1", won_revenue=Decimal("10.51")), *BASE[1:]],
    "null and a value": [row("P1"), row("P2", win_rate=0.5), BASE[2]],
    "a text key": [row("P1"), row("P3", win_rate=None), BASE[2]],
    "a row missing": BASE[:2],
    "a row more": [*BASE, row("P4")],
}


@pytest.mark.parametrize("case", list(CASES))
def test_parity_judges_as_assert_same(case: str) -> None:
    left = table([row("P1", win_rate=math.nan), *BASE[1:]] if case == "NaN and NaN" else BASE)
    right = table(CASES[case])
    try:
        assert_same(left, right)
        same = True
    except AssertionError:
        same = False
    found = parity().compare(left, right, KEYS, same_schema=True)
    assert found.agree is same, found.lines()
    assert same is (case in {"identical", "a double within 1e-9", "NaN and NaN"})


def test_a_float_contender_is_held_to_the_cent_of_a_decimal_one() -> None:
    cents = pa.decimal128(18, 2)
    money = pa.table({"k": ["a", "b"], "m": pa.array([Decimal("0.10"), Decimal("2.68")], cents)})
    floats = pa.table({"k": ["a", "b"], "m": [0.1 + 0.2 - 0.2, 2.68 + 1e-12]})
    compare = parity().compare
    assert compare(money, floats, ["k"]).agree
    off = pa.table({"k": ["a", "b"], "m": [0.11, 2.68]})
    found = compare(money, off, ["k"])
    assert not found.agree and found.mismatches == {"m": 1}
