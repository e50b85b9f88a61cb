"""Reliability under load: the web server while a new run replaces the one it serves.

Serves a demo workspace with ``partnerscope serve --workers N`` and loads it with C concurrent
clients (asyncio, one keep-alive HTTP/1.1 connection each, no think time), each cycling through
the partners and alternating the partner page (session cookie) and its JSON twin (bearer
token). At ``--refresh-at`` seconds the data changes under it: ``partnerscope ingest`` of an
opportunities file with every other amount raised by 10 %, then ``partnerscope run`` at the
served run's as-of time, which the server swaps in while the clients keep asking.

Checked: every answer is a 200 (anything else, or a broken connection, is an error); every JSON
answer is whole: equal to the scorecard built afterwards from the files of the run it names
(``stamp.run_id``), with the improvement plans as they are at the end for the newest run (plans
are workspace state, tracked by each run; for an older run they are left out of the
comparison); every page names its run (``data-run``). Printed: requests, errors, mixed answers,
and per run served its requests and p50/p99 latency. The load lasts ``--seconds``, or until
3 s after the new run finished if that is later. Exit status 1 on any error or mixed answer.

    .venv/bin/python bench/load.py                                  # 100 clients, 60 s
    .venv/bin/python bench/load.py --clients 20 --seconds 10 --scale 0.02
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web import (
    CLI,
    Server,
    exchange,
    free_port,
    percentile,
    prepare,
    session_cookie,
    wait_until_up,
)

PAGE_RUN = re.compile(rb'data-run="(\d+)"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load")
    parser.add_argument("--refresh-at", type=float, default=5.0, help="seconds in: new data")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--scale", type=float, default=0.1, help="demo scale (default 0.1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace", type=Path, help="a demo workspace to copy instead")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args(argv)
    folder = (args.out / "load").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    source = args.workspace or demo(folder, args.scale, args.seed)
    root = folder / "ws"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(source, root)
    partners, _, token = prepare(root)
    changed = folder / "opportunities-changed.csv"
    raise_amounts(root / "data" / "opportunities.csv", changed)
    as_of = latest_manifest(root)["as_of"]
    print(f"workspace {root}: {len(partners)} partners, run {latest_manifest(root)['run_id']}")
    print(
        f"load: {args.clients} clients, {args.seconds:g} s, {args.workers} worker(s); "
        f"new data at {args.refresh_at:g} s"
    )

    port = free_port()
    with Server("partnerscope", root, port, args.workers, folder / "unused.json") as server:
        wait_until_up(port, server)
        auth = {
            "page": session_cookie(port).encode(),
            "json": f"Authorization: Bearer {token}".encode(),
        }
        refresh: dict[str, float] = {}
        failed: list[str] = []
        done = threading.Event()

        def refresher(start: float) -> None:
            time.sleep(max(0.0, start + args.refresh_at - time.monotonic()))
            began = time.monotonic()
            refresh["started"] = began - start
            try:
                for command in (
                    ["ingest", "opportunities", "--file", str(changed)],
                    ["run", "--as-of", as_of],
                ):
                    subprocess.run(
                        [*CLI, "-w", str(root), *command], check=True, capture_output=True
                    )
            except subprocess.CalledProcessError as exc:
                failed.append(f"{' '.join(exc.cmd[3:])}: {exc.stderr.decode()[-300:]}")
            finally:
                refresh["finished"] = time.monotonic() - start
                refresh["seconds"] = time.monotonic() - began
                done.set()

        start = time.monotonic()
        thread = threading.Thread(target=refresher, args=(start,), daemon=True)
        thread.start()
        samples = asyncio.run(load(port, partners, auth, args.clients, start, args.seconds, done))
        thread.join()
    report = check(root, samples, refresh)
    report.update(
        clients=args.clients, seconds=args.seconds, workers=args.workers, refresh_failed=failed
    )
    print_report(report)
    (folder / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("RESULT " + json.dumps(report))
    return 1 if report["errors"] or report["mixed"] or failed else 0


def demo(folder: Path, scale: float, seed: int) -> Path:
    """``partnerscope demo`` into ``<folder>/demo-s<scale>-seed<seed>``, reused when present."""
    root = folder / f"demo-s{scale:g}-seed{seed}"
    if not (root / "state" / "runs").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        command = [*CLI, "demo", str(root), "--scale", str(scale), "--seed", str(seed)]
        subprocess.run(command, check=True, capture_output=True)
    return root


def latest_manifest(root: Path) -> dict[str, Any]:
    runs = sorted(p for p in (root / "state" / "runs").iterdir() if p.name.isdigit())
    manifest: dict[str, Any] = json.loads((runs[-1] / "manifest.json").read_text("utf-8"))
    return manifest


def raise_amounts(source: Path, target: Path) -> None:
    """The opportunities file with every other amount 10 % higher: new scores for most partners."""
    with source.open(newline="", encoding="utf-8") as f, target.open("w", encoding="utf-8") as o:
        reader, writer = csv.reader(f), csv.writer(o, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        amount = header.index("Amount")
        for number, row in enumerate(reader):
            if number % 2 == 0 and row[amount]:
                row[amount] = f"{float(row[amount]) * 1.1:.2f}"
            writer.writerow(row)


# ----------------------------------------------------------------------------- the load

#: (seconds since the start, latency seconds, kind, partner, status, run id or 0, JSON body)
Sample = tuple[float, float, str, str, int, int, bytes]


async def load(
    port: int,
    partners: list[str],
    auth: dict[str, bytes],
    clients: int,
    start: float,
    seconds: float,
    refreshed: threading.Event,
) -> list[Sample]:
    samples: list[Sample] = []
    stop: list[float] = []

    def finished() -> bool:
        if not refreshed.is_set():
            return False
        if not stop:
            # at least 3 s more once the new run is stored, whatever --seconds says
            stop.append(max(start + seconds, time.monotonic() + 3))
        return time.monotonic() >= stop[0]

    async def client(number: int) -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        done = 0
        while not finished():
            partner = partners[(number * len(partners) // clients + done // 2) % len(partners)]
            kind = "json" if done % 2 == 0 else "page"
            path = f"/api/v1/partners/{partner}" if kind == "json" else f"/partners/{partner}"
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
                + auth[kind]
                + b"\r\n\r\n"
            )
            began = time.monotonic()
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                status, body, close = await exchange(*connection, request)
                if close:
                    connection[1].close()
                    connection = None
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, body = 0, b""
                if connection is not None:
                    connection[1].close()
                    connection = None
            ended = time.monotonic()
            run = 0
            if status == 200 and kind == "json":
                run = int(json.loads(body)["stamp"]["run_id"])
            elif status == 200:
                found = PAGE_RUN.search(body)
                run = int(found[1]) if found else 0
                body = b""
            samples.append((began - start, ended - began, kind, partner, status, run, body))
            done += 1
        if connection is not None:
            connection[1].close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return samples


# ----------------------------------------------------------------------------- the check


def check(root: Path, samples: list[Sample], refresh: dict[str, float]) -> dict[str, Any]:
    """Count errors and mixed answers; latency per run served."""
    from partnerscope.reports.content import CohortMedians
    from partnerscope.reports.scorecard import scorecard
    from partnerscope.web.routes.partners import ReportOut, report_out
    from partnerscope.workspace import Workspace

    ws = Workspace.open(root)
    from partnerscope.evaluation.view import RunData

    newest = int(latest_manifest(root)["run_id"])
    data: dict[int, tuple[RunData, CohortMedians]] = {}
    expected: dict[tuple[int, str], dict[str, Any]] = {}

    def expect(run: int, partner: str) -> dict[str, Any]:
        if (run, partner) not in expected:
            if run not in data:
                run_data = RunData(ws, run)
                data[run] = (run_data, CohortMedians(run_data))
            run_data, medians = data[run]
            report = scorecard(run_data, partner, None, medians=medians)
            answer = json.loads(report_out(report, ReportOut).model_dump_json())
            if run != newest:
                answer["sections"].pop("plan")
            expected[run, partner] = answer
        return expected[run, partner]

    errors, mixed, examples = 0, 0, list[str]()
    per_run: dict[int, list[float]] = defaultdict(list)
    first_seen: dict[int, float] = {}
    last_seen: dict[int, float] = {}
    checked: dict[tuple[int, str, bytes], bool] = {}
    for at, latency, kind, partner, status, run, body in samples:
        if status != 200 or run == 0:
            errors += 1
            if len(examples) < 5:
                examples.append(f"{kind} {partner}: status {status}")
            continue
        per_run[run].append(latency)
        first_seen[run] = min(first_seen.get(run, at), at)
        last_seen[run] = max(last_seen.get(run, at), at)
        if kind != "json":
            continue
        key = (run, partner, body)
        if key not in checked:
            answer = json.loads(body)
            if run != newest:
                answer["sections"].pop("plan")
            checked[key] = answer == expect(run, partner)
        if not checked[key]:
            mixed += 1
            if len(examples) < 5:
                examples.append(f"json {partner}: not what run {run} says")
    return {
        "requests": len(samples),
        "json": sum(s[2] == "json" for s in samples),
        "errors": errors,
        "mixed": mixed,
        "examples": examples,
        "refresh": refresh,
        "runs": {
            str(run): {
                "requests": len(latencies),
                "p50_ms": 1000 * percentile(latencies, 50),
                "p99_ms": 1000 * percentile(latencies, 99),
                "first_s": first_seen[run],
                "last_s": last_seen[run],
            }
            for run, latencies in sorted(per_run.items())
        },
        "load_seconds": max((s[0] + s[1] for s in samples), default=0.0),
    }


def print_report(report: dict[str, Any]) -> None:
    refresh = report["refresh"]
    print(
        f"new data: ingest and run from {refresh.get('started', 0):.1f} s to "
        f"{refresh.get('finished', 0):.1f} s ({refresh.get('seconds', 0):.1f} s); "
        f"load {report['load_seconds']:.1f} s"
    )
    print(
        f"requests {report['requests']:,} ({report['json']:,} JSON), errors {report['errors']}, "
        f"mixed {report['mixed']}"
    )
    for run, row in report["runs"].items():
        print(
            f"  run {run}: {row['requests']:,} requests from {row['first_s']:.1f} s to "
            f"{row['last_s']:.1f} s, p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms"
        )
    for example in [*report["examples"], *report["refresh_failed"]]:
        print(f"  {example}")


if __name__ == "__main__":
    sys.exit(main())
