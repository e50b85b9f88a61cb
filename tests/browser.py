"""Debian's chromium under Playwright, the way every browser test starts it (the tests cannot
download a browser: ``playwright install`` has nothing to fetch from here). Without it a browser
test is skipped, saying so (tests/requires.py); CI installs it, and there it fails the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.requires import SETUP_SYSTEM, need

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def need_chromium() -> None:
    """Skip the calling test (a failure under CI) where Debian's chromium is not installed."""
    need(Path(CHROMIUM).exists(), f"Debian's chromium ({CHROMIUM})", f"{SETUP_SYSTEM} installs it")


def launch(playwright: Any) -> Any:
    """A headless chromium from a ``sync_playwright()`` context (the test is skipped where
    there is none, and fails under CI)."""
    need_chromium()
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
