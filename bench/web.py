"""Web throughput and latency: the partner page and its JSON twin under concurrent clients.

Builds the demo workspace (``partnerscope demo`` at ``--scale``, reused when present) with a
bench user and an API token, serves it with ``partnerscope serve --workers N`` in a process of
its own, and loads it from another process (asyncio, one keep-alive connection per client, raw
HTTP/1.1 on asyncio streams unless ``--client httpx``): ``GET /partners/{id}`` with a signed-in
session cookie and ``GET /api/v1/partners/{id}`` with the bearer token, every client cycling
through the run's partners. The baseline, in the same run and on the same uvicorn settings, is a
minimal FastAPI app answering both paths with a constant page and a constant JSON captured from
partnerscope (so the ratio is partnerscope's work over the framework's and the server's).
Target: p99 under 100 ms at 20 clients.

    .venv/bin/python bench/web.py
    .venv/bin/python bench/web.py --clients 20 --seconds 5 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info
from timing import run_child

if TYPE_CHECKING:
    from fastapi import FastAPI

TARGET_P99_MS = 100.0
TARGET_CLIENTS = 20
USER = "bench"
#: a throwaway user of a generated workspace
PASSWORD = "bench-web-password-1"
#: the two endpoints and their paths
ENDPOINTS = {"page": "/partners/{}", "json": "/api/v1/partners/{}"}
SERVERS = ("partnerscope", "baseline")
BASELINE_ENV = "PARTNERSCOPE_BENCH_WEB_BASELINE"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="20,100", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unrecorded seconds first")
    parser.add_argument("--workers", type=int, default=2, help="server processes (both servers)")
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale (default 1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sequential", type=int, default=200, help="requests for service time")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw", help="load generator")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the demo workspace")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--only", choices=("load",), help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only == "load":
        return load_main(args.spec)
    args.out = args.out.resolve()
    clients = [int(c) for c in args.clients.split(",") if c.strip()]

    # the tables are wide: when printing to a file or a pipe, do not fold them to 80 columns
    console = Console() if sys.stdout.isatty() else Console(width=150)
    console.print("[bold]partnerscope web benchmark[/bold]")
    versions = ", ".join(
        f"{n} {version(n)}" for n in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools")
    )
    machine = machine_info(extra_versions=versions)
    for line in machine:
        console.print(f"  {line}")
    folder = args.out / "web"
    folder.mkdir(parents=True, exist_ok=True)
    root = demo_workspace(folder, args.scale, args.seed, args.regenerate, console)
    partners, previous, token = prepare(root)
    console.print(
        f"\nworkspace {root}: demo at scale {args.scale:g} (seed {args.seed}), "
        f"{len(partners):,} partners scored in the served run"
    )
    console.print(
        f"servers   {args.workers} uvicorn worker(s) each, 127.0.0.1; load generator: "
        f"{'raw HTTP/1.1 on asyncio streams' if args.client == 'raw' else 'httpx.AsyncClient'}"
        f", one process, uvloop; {args.warmup:g} s warm-up, then {args.seconds:g} s per run"
    )
    report: dict[str, Any] = {
        "machine": machine,
        "scale": args.scale,
        "seed": args.seed,
        "partners": len(partners),
        "workers": args.workers,
        "client": args.client,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "clients": clients,
        "runs": [],
        "sequential": [],
    }
    samples: dict[str, Any] = {}
    baseline_file = folder / "baseline-content.json"
    auth: dict[str, str] = {}
    for server in SERVERS:
        port = free_port()
        with Server(server, root, port, args.workers, baseline_file) as srv:
            wait_until_up(port, srv)
            if server == "partnerscope":
                auth = {"page": session_cookie(port), "json": f"Authorization: Bearer {token}"}
                capture(port, auth, partners[0], baseline_file)
                started = time.monotonic()
                with console.status("partnerscope: building the latest period's pages"):
                    wait_until_built(port)
                report["pages_built_seconds"] = time.monotonic() - started
                console.print(
                    f"  partnerscope: latest period's pages built "
                    f"{report['pages_built_seconds']:.1f} s after the sign-in"
                )
            # one connection (one worker), the same partners twice in the period before the
            # latest: the first visit builds the partner's page (the served run keeps it), the
            # second finds it built
            for number, endpoint in enumerate(ENDPOINTS):
                chosen = partners[number * args.sequential : (number + 1) * args.sequential]
                spec = Spec(port, endpoint, chosen, auth[endpoint], 1, 0, 0, args.client)
                spec.count, spec.passes = len(chosen), 2
                spec.query = "?" + urlencode({"period": previous})
                with console.status(f"{server}: {endpoint}, {len(chosen)} sequential, twice"):
                    seq = run_load(spec, folder, srv)
                passes = [[s[1] for s in seq.samples if s[4] == k] for k in (0, 1)]
                report["sequential"].append(
                    {
                        "server": server,
                        "endpoint": endpoint,
                        "requests": len(passes[1]),
                        "first_median_ms": 1000 * statistics.median(passes[0]),
                        "first_p90_ms": 1000 * percentile(passes[0], 90),
                        "median_ms": 1000 * statistics.median(passes[1]),
                        "errors": seq.errors,
                        "bytes": seq.bytes_median,
                    }
                )
            for count in clients:
                for endpoint in ENDPOINTS:
                    spec = Spec(
                        port,
                        endpoint,
                        partners,
                        auth[endpoint],
                        count,
                        args.seconds,
                        args.warmup,
                        args.client,
                    )
                    load_before = os.getloadavg()[0]
                    with console.status(f"{server}: {endpoint}, {count} clients"):
                        run = run_load(spec, folder, srv)
                    row = summarize(run) | {
                        "server": server,
                        "endpoint": endpoint,
                        "clients": count,
                        # the 1-minute load average before and after: other work on the machine
                        "load_average": [load_before, os.getloadavg()[0]],
                    }
                    report["runs"].append(row)
                    samples[f"{server}/{endpoint}/{count}"] = run.samples
                    console.print(
                        f"  {server:12} {endpoint:4} {count:4} clients: {row['rps']:7.1f} rps, "
                        f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
                        f"{row['errors']} errors; load average {load_before:.1f} → "
                        f"{row['load_average'][1]:.1f}"
                    )
    print_tables(console, report)
    tag = f"s{args.scale:g}-seed{args.seed}-w{args.workers}"
    (folder / f"report-{tag}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    with gzip.open(folder / f"samples-{tag}.json.gz", "wt", encoding="utf-8") as out:
        json.dump(samples, out)
    console.print(f"\nwrote {folder / f'report-{tag}.json'} and samples-{tag}.json.gz")
    return 0


# ----------------------------------------------------------------------------- the workspace


def demo_workspace(
    folder: Path, scale: float, seed: int, regenerate: bool, console: Console
) -> Path:
    """``partnerscope demo`` into ``<folder>/ws-s<scale>-seed<seed>``, reused when it has a
    finished run (``--regenerate`` rebuilds it)."""
    root = folder / f"ws-s{scale:g}-seed{seed}"
    runs = root / "state" / "runs"
    if not regenerate and runs.is_dir() and any(p.name.isdigit() for p in runs.iterdir()):
        return root
    log = folder / f"demo-s{scale:g}-seed{seed}.log"
    with console.status(f"partnerscope demo --scale {scale:g} (log: {log})"):
        started = time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            subprocess.run(
                # --regenerate replaces the folder with whatever the benchmark added to it
                [*CLI, "demo", str(root), "--scale", str(scale), "--seed", str(seed), "--force"],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
            )
    console.print(f"generated the demo workspace in {time.perf_counter() - started:.0f} s")
    return root


CLI = [sys.executable, "-m", "partnerscope"]


def prepare(root: Path) -> tuple[list[str], str, str]:
    """The partner ids of the served run, its period before the latest (whose pages are not
    built in advance) and a new API token of the bench user (an admin, added when missing)."""
    from partnerscope.accounts import Accounts
    from partnerscope.evaluation.view import RunData
    from partnerscope.workspace import Workspace

    ws = Workspace.open(root)
    data = RunData(ws)
    partners = sorted(data.scorecards.spans)
    previous = data.periods[-2][1]
    if not any(u.name == USER for u in Accounts.open(ws).everyone()):
        subprocess.run(
            [*CLI, "-w", str(root), "users", "add", USER, "--role", "admin", "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
    issued = subprocess.run(
        [*CLI, "-w", str(root), "users", "token", USER, "--label", "bench/web.py"],
        text=True,
        check=True,
        capture_output=True,
    )
    return partners, previous, issued.stdout.strip().splitlines()[-1]


# ----------------------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """A server in a process group of its own: partnerscope (``partnerscope serve``) or the
    baseline (uvicorn with the same settings on :func:`baseline_app`)."""

    def __init__(self, kind: str, root: Path, port: int, workers: int, content: Path) -> None:
        common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        if kind == "partnerscope":
            self.command = [*CLI, "-w", str(root), "serve", *common]
        else:
            # what `partnerscope serve` passes to uvicorn.run, on the constant app
            self.command = [
                sys.executable,
                "-m",
                "uvicorn",
                "web:baseline_app",
                "--factory",
                "--app-dir",
                str(Path(__file__).resolve().parent),
                "--no-proxy-headers",
                "--log-level",
                "warning",
                *common,
            ]
        self.env = os.environ | {BASELINE_ENV: str(content)}
        self.kind = kind
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            self.command, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL
        )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes (its group: supervisor, workers)."""
        assert self.proc is not None
        total, tick = 0, os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])
        return total / tick


def wait_until_up(port: int, server: Server, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.proc is not None
        if server.proc.poll() is not None:
            raise SystemExit(f"{server.kind} server exited with {server.proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/partners/x", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{server.kind} server did not answer within {timeout:.0f} s")


def wait_until_built(port: int, timeout: float = 600.0) -> None:
    """Until the server's processes have built the latest period's partner pages (as each
    does when it starts serving a run): 20 answers in a row from ``/api/v1/health`` on new
    connections (each lands on any worker) say so."""
    import httpx

    deadline, ready = time.monotonic() + timeout, 0
    while ready < 20:
        if time.monotonic() > deadline:
            raise SystemExit(f"the pages were not built within {timeout:.0f} s")
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).json()
        ready = ready + 1 if health["pages_built"] else 0
        if not ready:
            time.sleep(0.2)


def session_cookie(port: int) -> str:
    """Sign in through the form once: the ``Cookie`` header every page client sends."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        form = client.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert match is not None, "no CSRF token in the sign-in form"
        answer = client.post(
            "/login",
            data={"name": USER, "password": PASSWORD, "csrf_token": match[1], "next": "/"},
        )
        assert answer.status_code == 303, f"sign-in answered {answer.status_code}"
        return f"Cookie: partnerscope_session={answer.cookies['partnerscope_session']}"


def capture(port: int, auth: dict[str, str], partner: str, path: Path) -> None:
    """One partner's page and JSON, which the baseline answers with for every partner."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        got = {}
        for endpoint, template in ENDPOINTS.items():
            name, _, value = auth[endpoint].partition(": ")
            answer = client.get(template.format(partner), headers={name: value})
            answer.raise_for_status()
            got[endpoint] = answer.text if endpoint == "page" else answer.json()
    path.write_text(json.dumps(got), encoding="utf-8")


def baseline_app() -> FastAPI:
    """The baseline: both paths answered with constant content (the uvicorn factory)."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    content = json.loads(Path(os.environ[BASELINE_ENV]).read_text(encoding="utf-8"))
    html, body = content["page"], content["json"]
    app = FastAPI()

    @app.get("/partners/{partner_id}", response_class=HTMLResponse)
    def partner_page(partner_id: str) -> HTMLResponse:
        return HTMLResponse(html)

    @app.get("/api/v1/partners/{partner_id}")
    def partner_api(partner_id: str) -> dict[str, Any]:
        data: dict[str, Any] = body
        return data

    return app


# ----------------------------------------------------------------------------- the load


@dataclass
class Spec:
    """What the load generator does (written to a file for its process)."""

    port: int
    endpoint: str
    partners: list[str]
    #: the one header that signs the client in ("Name: value")
    auth: str
    clients: int
    seconds: float
    warmup: float
    client: str
    #: when > 0: that many requests per client and pass instead of a timed run
    count: int = 0
    #: how many times each client goes over its ``count`` partners
    passes: int = 1
    #: after each path (``?period=...``)
    query: str = ""


@dataclass
class Run:
    #: (start, seconds after the first recorded start; latency, seconds; status; body bytes;
    #: pass)
    samples: list[list[float]]
    #: the recorded window: until the last request started in it ended (count runs: the sum
    #: of the latencies)
    wall: float
    wall_clock: float
    errors: int
    bytes_median: float
    client_cpu: float
    server_cpu: float
    statuses: dict[str, int] = field(default_factory=dict)


def run_load(spec: Spec, folder: Path, server: Server) -> Run:
    """The load generator in a process of its own (``--only load``); the client's CPU time
    from its wait4, the server's from /proc around it."""
    path = folder / "load-spec.json"
    path.write_text(json.dumps(asdict(spec)), encoding="utf-8")
    before = server.cpu_seconds()
    child = run_child(__file__, "load", "--spec", str(path))
    server_cpu = server.cpu_seconds() - before
    if child.result is None or child.exit_code != 0:
        raise SystemExit(f"the load generator failed ({child.exit_code}): {child.lines[-5:]}")
    result = child.result
    stored = Path(result["samples_file"])
    samples: list[list[float]] = json.loads(stored.read_text(encoding="utf-8"))["samples"]
    stored.unlink()
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(int(s[2]))] = statuses.get(str(int(s[2])), 0) + 1
    return Run(
        samples=samples,
        wall=float(result["wall"]),
        wall_clock=float(result["wall_clock"]),
        errors=sum(n for code, n in statuses.items() if code != "200"),
        bytes_median=statistics.median(s[3] for s in samples) if samples else 0.0,
        client_cpu=child.cpu_seconds,
        server_cpu=server_cpu,
        statuses=statuses,
    )


def percentile(values: list[float], p: float) -> float:
    """The value below which ``p`` % of ``values`` fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def summarize(run: Run) -> dict[str, Any]:
    latencies = sorted(s[1] * 1000 for s in run.samples)
    n = len(latencies)

    def pct(p: float) -> float:
        return percentile(latencies, p)

    return {
        "requests": n,
        "rps": n / run.wall if run.wall else 0.0,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] if n else float("nan"),
        "errors": run.errors,
        "statuses": run.statuses,
        "bytes": run.bytes_median,
        "wall_s": run.wall,
        "client_cpu_s": run.client_cpu,
        "server_cpu_s": run.server_cpu,
        "client_cpu_ms_per_request": 1000 * run.client_cpu / n if n else 0.0,
        "server_cpu_ms_per_request": 1000 * run.server_cpu / n if n else 0.0,
    }


def load_main(spec_path: Path) -> int:
    """The load generator's process: prints ``RESULT {json}`` with every recorded request."""
    spec = Spec(**json.loads(spec_path.read_text(encoding="utf-8")))
    try:
        import uvloop

        samples, wall = uvloop.run(generate(spec))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        samples, wall = asyncio.run(generate(spec))
    # the samples go through a file: a long line on stdout can be cut short once the event loop
    # has made the pipe non-blocking
    out = spec_path.with_suffix(".result.json")
    out.write_text(json.dumps({"samples": samples}), encoding="utf-8")
    print(
        "RESULT " + json.dumps({"samples_file": str(out), "wall": wall[0], "wall_clock": wall[1]})
    )
    return 0


async def generate(spec: Spec) -> tuple[list[list[float]], tuple[float, float]]:
    """``spec.clients`` clients, each on one keep-alive connection, each cycling through the
    partners from its own offset; warm up, then record every request started in the window."""
    host = "127.0.0.1"
    paths = [ENDPOINTS[spec.endpoint].format(p) + spec.query for p in spec.partners]
    samples: list[list[float]] = []
    now = time.perf_counter  # the loop's clock (uvloop) counts whole milliseconds
    start = now() + spec.warmup
    stop = start + spec.seconds
    name, _, value = spec.auth.partition(": ")

    raw = [
        f"GET {p} HTTP/1.1\r\nHost: {host}:{spec.port}\r\n{spec.auth}\r\n\r\n".encode()
        for p in paths
    ]
    shared = None
    if spec.client == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=spec.clients, max_keepalive_connections=spec.clients)
        shared = httpx.AsyncClient(
            base_url=f"http://{host}:{spec.port}", limits=limits, timeout=60, headers={name: value}
        )

    async def one_client(number: int) -> None:
        offset = number * len(paths) // max(spec.clients, 1)
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        done = 0
        while True:
            began = now()
            if spec.count and done >= spec.count * spec.passes:
                break
            if not spec.count and began >= stop:
                break
            index = (offset + (done % spec.count if spec.count else done)) % len(paths)
            try:
                if shared is not None:
                    answer = await shared.get(paths[index])
                    status, size = answer.status_code, len(answer.content)
                else:
                    if connection is None:
                        connection = await asyncio.open_connection(host, spec.port)
                    status, body, close = await exchange(*connection, raw[index])
                    size = len(body)
                    if close:
                        connection[1].close()
                        connection = None
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, size = 0, 0
                if connection is not None:
                    connection[1].close()
                    connection = None
            ended = now()
            if spec.count or began >= start:
                samples.append(
                    [
                        began - start,
                        ended - began,
                        status,
                        size,
                        done // spec.count if spec.count else 0,
                    ]
                )
            done += 1
        if connection is not None:
            connection[1].close()

    begun = now()
    await asyncio.gather(*(one_client(i) for i in range(spec.clients)))
    wall = wall_clock = now() - max(start, begun)
    if shared is not None:
        await shared.aclose()
    if spec.count:
        wall = sum(s[1] for s in samples)
    return samples, (wall, wall_clock)


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 request on a kept-alive connection: (status, body, server closes)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, close = 0, False, False
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        key = key.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif key == b"connection":
            close = b"close" in value.lower()
    if not chunked:
        return status, await reader.readexactly(length), close
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append((await reader.readexactly(size + 2))[:-2])
        if size == 0:
            return status, b"".join(parts), close


# ----------------------------------------------------------------------------- the report


def print_tables(console: Console, report: dict[str, Any]) -> None:
    runs = {(r["server"], r["endpoint"], r["clients"]): r for r in report["runs"]}
    table = Table(
        "endpoint",
        "clients",
        "requests",
        "rps",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "server CPU ms/req",
        "client CPU ms/req",
        "baseline rps",
        "baseline p99 ms",
        "rps ÷ baseline",
        "p50 × baseline",
        title_justify="left",
        title=f"partnerscope against a constant FastAPI app, {report['workers']} worker(s) each, "
        f"{report['seconds']:g} s per run, demo scale {report['scale']:g} "
        f"({report['partners']:,} partners)",
    )
    for count in report["clients"]:
        for endpoint in ENDPOINTS:
            ps, base = runs[("partnerscope", endpoint, count)], runs[("baseline", endpoint, count)]
            p99 = f"{ps['p99_ms']:.1f}"
            if count == TARGET_CLIENTS:
                good = ps["p99_ms"] < TARGET_P99_MS
                p99 = f"[{'green' if good else 'red'}]{p99}[/]"
            errors = f"[{'red' if ps['errors'] else 'green'}]{ps['errors']}[/]"
            table.add_row(
                LABELS[endpoint],
                str(count),
                f"{ps['requests']:,}",
                f"{ps['rps']:.1f}",
                f"{ps['p50_ms']:.1f}",
                f"{ps['p90_ms']:.1f}",
                p99,
                f"{ps['max_ms']:.1f}",
                errors + (f" (baseline {base['errors']})" if base["errors"] else ""),
                f"{ps['server_cpu_ms_per_request']:.2f}",
                f"{ps['client_cpu_ms_per_request']:.2f}",
                f"{base['rps']:.0f}",
                f"{base['p99_ms']:.1f}",
                f"{ps['rps'] / base['rps']:.3f}" if base["rps"] else "-",
                f"{ps['p50_ms'] / base['p50_ms']:.1f}×" if base["p50_ms"] else "-",
            )
    console.print(table)

    seq = {(s["server"], s["endpoint"]): s for s in report["sequential"]}
    single = Table(
        "endpoint",
        "partnerscope, first visit: median ms",
        "p90 ms",
        "partnerscope, built: median ms",
        "baseline ms",
        "built − baseline ms",
        "body KiB",
        "errors",
        title_justify="left",
        title="Service time, one request at a time on one connection: "
        f"{seq[('partnerscope', 'page')]['requests']} partners, each twice, in the period "
        "before the latest (the first visit builds the partner's page in that worker; the "
        "latest period's are built when the run is served)",
    )
    for endpoint in ENDPOINTS:
        ps, base = seq[("partnerscope", endpoint)], seq[("baseline", endpoint)]
        single.add_row(
            LABELS[endpoint],
            f"{ps['first_median_ms']:.2f}",
            f"{ps['first_p90_ms']:.2f}",
            f"{ps['median_ms']:.2f}",
            f"{base['median_ms']:.2f}",
            f"{ps['median_ms'] - base['median_ms']:.2f}",
            f"{ps['bytes'] / 1024:.1f}",
            str(ps["errors"] + base["errors"]),
        )
    console.print(single)
    at_target = [
        runs[("partnerscope", e, TARGET_CLIENTS)]
        for e in ENDPOINTS
        if ("partnerscope", e, TARGET_CLIENTS) in runs
    ]
    for row in at_target:
        verdict = "met" if row["p99_ms"] < TARGET_P99_MS else "NOT met"
        console.print(
            f"{LABELS[row['endpoint']]}: p99 {row['p99_ms']:.1f} ms at {TARGET_CLIENTS} clients "
            f"(target under {TARGET_P99_MS:.0f} ms: {verdict}); {row['errors']} errors"
        )
    errors = sum(r["errors"] for r in report["runs"])
    if errors:
        console.print(f"[red]{errors} requests did not answer 200[/]")


LABELS = {"page": "page (HTML, cookie)", "json": "JSON (bearer)"}


if __name__ == "__main__":
    raise SystemExit(main())
