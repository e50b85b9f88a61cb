"""A test skipped for a missing dependency (tests/requires.py) is a skip on a developer's machine
and a failure under CI: the hook of tests/conftest.py, run by pytest on a small test file of its
own (pytester) with ``CI`` unset, false and true."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.requires import MissingDependency, ci_failure, need, under_ci

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]

#: the suite's own hook, and nothing else of its conftest
CONFTEST = "from tests.conftest import pytest_runtest_makereport  # noqa: F401\n"

TESTS = """
import pytest

from tests.requires import need


@pytest.fixture(scope="session")
def frobnicator():
    need(False, "the frobnicator (frob on PATH)", "scripts/setup-system installs frob")


def test_needs_something_missing():
    need(False, "the widget library", "pip install widget installs it")


def test_needs_something_present():
    need(True, "the widget library", "pip install widget installs it")


def test_uses_a_fixture_that_needs_something_missing(frobnicator):
    pass


def test_skipped_for_another_reason():
    pytest.skip("only meaningful on the first of the month")
"""


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A folder with the test file above and a conftest holding the suite's hook; the repository
    on the subprocess's path so that ``tests.requires`` imports."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_tiny=TESTS)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("CI", raising=False)
    return pytester


@pytest.mark.parametrize("ci", [None, "false"])
def test_without_ci_a_missing_dependency_is_a_skip(
    tiny: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    result = tiny.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * the widget library is missing: pip install widget installs it",
            "SKIPPED * the frobnicator (frob on PATH) is missing: scripts/setup-system installs*",
            "SKIPPED * only meaningful on the first of the month",
        ]
    )
    assert "was skipped under CI" not in result.stdout.str()


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_dependency_fails_the_run(
    tiny: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    result = tiny.runpytest_subprocess("-rA", "-p", "no:cacheprovider")
    # the test that needs it fails; the one whose fixture needs it errors in its setup; a
    # skip for another reason stays a skip
    result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for line in (
        "*test_tiny.py::test_needs_something_missing was skipped under CI: the widget library "
        "is missing; CI must install it (pip install widget installs it)",
        "*test_tiny.py::test_uses_a_fixture_that_needs_something_missing was skipped under CI: "
        "the frobnicator (frob on PATH) is missing; CI must install it (scripts/setup-system "
        "installs frob)",
        "FAILED test_tiny.py::test_needs_something_missing*",
        "ERROR test_tiny.py::test_uses_a_fixture_that_needs_something_missing*",
        "SKIPPED * only meaningful on the first of the month",
    ):
        result.stdout.fnmatch_lines([line])


def test_need_skips_with_what_is_missing_and_how_to_get_it() -> None:
    need(True, "anything", "nothing to do")
    with pytest.raises(MissingDependency) as caught:
        need(None, "pdftoppm (poppler-utils)", "scripts/setup-system installs it")
    missing = caught.value
    assert isinstance(missing, pytest.skip.Exception)
    assert (missing.what, missing.how) == (
        "pdftoppm (poppler-utils)",
        "scripts/setup-system installs it",
    )
    assert missing.msg == "pdftoppm (poppler-utils) is missing: scripts/setup-system installs it"
    assert ci_failure("tests/test_x.py::test_y", missing) == (
        "tests/test_x.py::test_y was skipped under CI: pdftoppm (poppler-utils) is missing; "
        "CI must install it (scripts/setup-system installs it)"
    )


def test_which_values_of_ci_mean_ci() -> None:
    for value in ("1", "true", "True", " TRUE ", "yes", "on"):
        assert under_ci({"CI": value}), value
    for value in ("", "0", "false", "no", "off", "maybe"):
        assert not under_ci({"CI": value}), value
    assert not under_ci({})


def test_setup_system_fails_under_ci_when_it_cannot_install(tmp_path: Path) -> None:
    """Without dpkg-query nor apt-get on PATH every package counts as missing and nothing can
    install it: a developer is told and left alone (exit 0), CI stops (exit 1)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "tr", "id", "grep"):
        found = shutil.which(tool)
        assert found is not None, tool
        (tools / tool).symlink_to(found)
    script = REPO / "scripts" / "setup-system"
    codes = {}
    for ci in (None, "false", "true", "1"):
        env = {"PATH": str(tools)} | ({} if ci is None else {"CI": ci})
        done = subprocess.run(
            [str(tools / "bash"), str(script)], env=env, capture_output=True, text=True
        )
        codes[ci] = done.returncode
        assert "openjdk-17-jre-headless" in done.stderr, done.stderr
        assert ("CI needs these Debian packages" in done.stderr) == (done.returncode == 1)
    assert codes == {None: 0, "false": 0, "true": 1, "1": 1}
