"""Photograph the web app for the documentation: docs/screenshots/*.png (``make screenshots``).

    python scripts/screenshots.py                  # build a demo, serve it, write the PNGs
    python scripts/screenshots.py --workspace DIR  # reuse a demo workspace built earlier

Builds the demo workspace (``partnerscope demo --scale 0.1``, seed 42) with one user per role,
an approved payout quarter and a decision with its scenario comparison; serves it on a loopback
port (uvicorn in a thread, as ``partnerscope serve`` does); and photographs the main pages with
Debian's chromium (/usr/bin/chromium) through Playwright: the laptop views at 1366×900 and two
phone views at 390×844. Each image is saved as a 256-colour PNG to keep the repository small.
The data is the demo's, the same on every machine; the dates in the pages are today's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo password for the screenshots"
LAPTOP: Any = {"width": 1366, "height": 900}
PHONE: Any = {"width": 390, "height": 844}
OWN = "P0001"
#: user → (role, partner of a partner user, partner manager's name)
USERS = {
    "ada": ("admin", None, None),
    "max": ("partner_manager", None, "Marco Rossi"),
    "pat": ("partner_user", OWN, None),
    "fin": ("finance", None, None),
}


def build(root: Path) -> dict[str, Any]:
    """The demo workspace with its users, an approved payout quarter and a decision."""
    from partnerscope.accounts import Accounts, Role
    from partnerscope.decisions.service import Decisions
    from partnerscope.evaluation.view import RunData
    from partnerscope.money.payouts import Payouts, quarters
    from partnerscope.workspace import Workspace

    if not (root / "partnerscope.toml").exists():
        command = [sys.executable, "-m", "partnerscope", "demo", str(root), "--scale", "0.1"]
        subprocess.run(command, check=True, capture_output=True)
    ws = Workspace.open(root)
    accounts = Accounts.open(ws)
    known = {user.name for user in accounts.everyone()}
    for name, (role, partner, manages) in USERS.items():
        if name not in known:
            accounts.add(
                name, Role(role), PASSWORD, partner_id=partner, manages=manages, by="screenshots"
            )
    approved = [q for q, complete in quarters(RunData(ws)).items() if complete][-2]
    payouts = Payouts(ws)
    if approved not in {ledger.period for ledger in payouts.periods()}:
        payouts.compute(approved, by="screenshots")
        payouts.approve(approved, by="screenshots")
    decisions = Decisions(ws)
    records = decisions.store.records()
    if records:
        decision = records[-1].decision_id
    else:
        decision = decisions.new(
            {"decision": "Should we add a Gold onboarding program?", "owner": "Head of Channel"},
            by="screenshots",
        ).decision_id
        options = [
            {"key": "A", "label": "Keep the current approach"},
            {"key": "B", "label": "Onboarding program"},
        ]
        decisions.edit(
            decision, patch={"compare": {"scenario": {"options": options}}}, by="screenshots"
        )
        decisions.cite(decision, "won_revenue", scope="company", by="screenshots")
        decisions.compare(decision, trials=500, seed=1, by="screenshots")
    return {"approved": approved, "decision": decision}


def serve(root: Path) -> tuple[str, Any]:
    """The workspace's app on a free loopback port; returns its URL and the server to stop."""
    import socket

    import uvicorn

    from partnerscope.web import create_app
    from partnerscope.web.app import UVICORN

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    app = create_app(root, warm=False)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **UVICORN
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    if page.locator(".vega[data-spec]").count():
        page.wait_for_function(
            "[...document.querySelectorAll('.vega[data-spec]')].every("
            "e => e.querySelector('svg, canvas') || e.textContent.trim())",
            timeout=20_000,
        )


def save(page: Any, name: str) -> Path:
    """The window's screenshot as a 256-colour PNG."""
    from io import BytesIO

    from PIL import Image

    path = OUT / f"{name}.png"
    image = Image.open(BytesIO(page.screenshot())).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def shots(made: dict[str, Any]) -> list[tuple[str, str, str, dict[str, int], bool]]:
    """(file name, user, path, viewport, open the phone's menu first) of every picture."""
    return [
        ("dashboard", "ada", "/", LAPTOP, False),
        ("partner-hub", "ada", f"/partners/{OWN}", LAPTOP, False),
        ("partner-own-view", "pat", "/", LAPTOP, False),
        ("alerts", "ada", "/alerts", LAPTOP, False),
        ("decision", "ada", f"/decisions/{made['decision']}", LAPTOP, False),
        ("payouts", "fin", f"/payouts/{made['approved']}", LAPTOP, False),
        ("manager-home", "max", "/", LAPTOP, False),
        ("phone-partner-hub", "max", f"/partners/{OWN}", PHONE, False),
        ("phone-menu", "max", "/partners", PHONE, True),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="a demo workspace (built when missing)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: scripts/setup-system installs it", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        root = args.workspace or Path(scratch) / "demo"
        made = build(root)
        base, server = serve(root)
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                signed: dict[str, Any] = {}
                for name, user, path, viewport, menu in shots(made):
                    if user not in signed:
                        context = browser.new_context(viewport=LAPTOP)
                        page = context.new_page()
                        page.goto(base + "/login")
                        page.fill("input[name=name]", user)
                        page.fill("input[name=password]", PASSWORD)
                        page.click("form.login button[type=submit]")
                        page.wait_for_load_state("networkidle")
                        signed[user] = page
                    page = signed[user]
                    page.set_viewport_size(viewport)
                    page.goto(base + path)
                    settle(page)
                    if menu:
                        page.click("nav.top button.menu")
                    print(save(page, name).relative_to(ROOT))
                browser.close()
        finally:
            server.should_exit = True
    return 0


if __name__ == "__main__":
    sys.exit(main())
