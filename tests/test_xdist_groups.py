"""The suite's xdist groups hold: under ``--dist loadgroup`` (``make test``) every test of a
group runs on one worker, which builds the group's fixtures once and, for Spark, starts one JVM.
pytest-xdist 3.8 marks a grouped test by renaming its node id (``…@spark``); with pytest 9 the
rename is lost and the groups are silently split, so this test fails there (pyproject.toml pins
pytest below 9 until xdist follows)."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("spark")
def test_a_grouped_test_carries_its_group(request: pytest.FixtureRequest) -> None:
    # a worker's own option: xdist sets it on each worker of a --dist loadgroup run
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under pytest -n N --dist loadgroup, as make test runs the suite")
    assert request.node.nodeid.endswith("@spark"), (
        f"{request.node.nodeid}: pytest-xdist did not group this test; check the pytest and "
        "pytest-xdist versions in pyproject.toml"
    )
