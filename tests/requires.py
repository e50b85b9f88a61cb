"""What a test needs from the machine: ``need(condition, what, how)``, the one way a test of this
suite is skipped for something not installed here (PostgreSQL's server binaries, Java, pyspark,
chromium, pdftoppm, the public datasets in ../shared/data).

On a developer's machine a missing dependency skips the test, saying what is missing and how to
get it. Under CI (``CI`` set to a true value: 1, true, yes or on) the hook in tests/conftest.py
turns that skip into a failure: CI installs everything (scripts/setup-system), so a test that
could not run there is a check that did not happen, and the run must not pass.

Call ``need`` in a test or in a fixture (a fixture of a whole module for every test in it), not at
module level: a module-level call is a collection error.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping

import pytest

#: what CI runs to install the system packages the tests need
SETUP_SYSTEM = "scripts/setup-system"
#: the values of ``CI`` that mean "this is CI" (compared in lower case, spaces stripped)
TRUE = frozenset({"1", "true", "yes", "on"})


class MissingDependency(pytest.skip.Exception):
    """The skip of a test for something not installed here: ``what`` is missing, ``how`` gets
    it. The conftest hook recognises a skip by this type, never by its words."""

    # shown as "MissingDependency: ..." in pytest's skip reasons, as pytest does for "Skipped"
    __module__ = "builtins"

    def __init__(self, what: str, how: str) -> None:
        self.what = what
        self.how = how
        super().__init__(f"{what} is missing: {how}", allow_module_level=False)


def need(condition: object, what: str, how: str) -> None:
    """Skip the calling test (a failure under CI) unless ``condition`` holds.

    ``what`` names the dependency ("a Java runtime (java on PATH)"), ``how`` says how to get it
    ("scripts/setup-system installs openjdk-17-jre-headless")."""
    if not condition:
        raise MissingDependency(what, how)


def installed(module: str) -> bool:
    """Whether the Python module can be imported here (without importing it)."""
    return importlib.util.find_spec(module) is not None


def under_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``CI`` is set to a true value."""
    return environ.get("CI", "").strip().lower() in TRUE


def ci_failure(nodeid: str, missing: MissingDependency) -> str:
    """The failure a missing dependency is under CI."""
    return (
        f"{nodeid} was skipped under CI: {missing.what} is missing; "
        f"CI must install it ({missing.how})"
    )
