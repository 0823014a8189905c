"""End-to-end benchmark: each app under a real server on 127.0.0.1, driven by ``wrk``.

Unlike ``run.py`` (in process, framework overhead only), the server's HTTP parsing,
socket I/O and event loop are included here, so this shows what a deployment sees and
whether patera, not the server, is the ceiling.

    bench/.venv/bin/python bench/e2e.py                     # everything installed
    bench/.venv/bin/python bench/e2e.py --rounds 5 --duration 10
    bench/.venv/bin/python bench/e2e.py --only patera,raw --scenarios plaintext

Groups (one table each, runs interleaved A B C A B C … inside a group):

1. hypercorn: patera, raw ASGI, Starlette, Litestar and FastAPI (those installed);
2. uvicorn: patera and raw ASGI, to show that the ratio does not depend on the server.

Every server runs one worker in its own process (``serve_app.py``), without access log.
``wrk`` (``apt-get install wrk``) runs with ``-t2 -c64`` by default. The machine the
figures come from has two cores shared by the server and wrk, so absolute numbers are
low and both compete for CPU; ratios between frameworks are what to read.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVE_APP = os.path.join(HERE, "serve_app.py")

__all__ = ("Server", "free_port", "main", "parse_wrk", "run_wrk", "start_server", "stop_server")

PEERS = ("patera", "raw", "starlette", "litestar", "fastapi")
LABELS = {"patera": "patera", "raw": "raw ASGI", "starlette": "Starlette", "litestar": "Litestar", "fastapi": "FastAPI"}
# Import name of each peer's framework; patera and raw are always there.
MODULES = {"starlette": "starlette", "litestar": "litestar", "fastapi": "fastapi"}
# key -> (label, path, expected status, body check)
SCENARIOS: dict[str, tuple[str, str, int, bytes]] = {
    "plaintext": ("GET plaintext", "/plaintext", 200, b"Hello, World!"),
    "json": ("GET JSON", "/json", 200, b"Hello, World!"),
    "user": ("GET /users/<id> (+50 routes)", "/users/42", 200, b"42"),
    "not_found": ("404", "/does/not/exist", 404, b""),
}
TARGET = 0.9  # patera / raw ASGI on plaintext under hypercorn


# ---------------------------------------------------------------------- servers


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One server process serving one app."""

    app: str
    server: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def _get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_server(
    app: str,
    server: str,
    log_dir: str,
    *,
    env: dict[str, str] | None = None,
    ready_path: str = "/plaintext",
    ready_status: int = 200,
    timeout: float = 30.0,
) -> Server:
    """Start ``serve_app.py`` and wait until ``ready_path`` answers ``ready_status``.

    The server's stdout and stderr go to a log file in ``log_dir`` (shown on failure).
    """
    port = free_port()
    log_path = os.path.join(log_dir, f"{app}-{server}-{port}.log")
    child_env = {**os.environ, **(env or {})}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, SERVE_APP, "--app", app, "--server", server, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, env=child_env,
        )
    handle = Server(app, server, port, process, log_path, env or {})
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{app} under {server} exited with {process.returncode}:\n{handle.log_tail()}")
        try:
            status, _ = _get(port, ready_path, timeout=2.0)
            if status == ready_status:
                return handle
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(handle)
            raise RuntimeError(f"{app} under {server} not ready after {timeout:.0f} s:\n{handle.log_tail()}")
        time.sleep(0.1)


def stop_server(server: Server, timeout: float = 10.0) -> None:
    """SIGTERM (graceful shutdown, lifespan included), then SIGKILL after ``timeout``."""
    process = server.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# ---------------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    """What one wrk run reported."""

    requests: int = 0
    rps: float = 0.0
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    output: str = ""

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, request count, non-2xx, socket errors and latency percentiles from wrk's text."""
    result = WrkResult(output=output)
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result.rps = float(match.group(1))
    if match := re.search(r"(\d+) requests in", output):
        result.requests = int(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        result.non_2xx = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups()), strict=True))
    if match := re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE):
        result.latency_p50_ms = _ms(match.group(1))
    if match := re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE):
        result.latency_p99_ms = _ms(match.group(1))
    return result


def run_wrk(
    url: str,
    *,
    threads: int,
    connections: int,
    duration: float,
    timeout: str = "10s",
    script: str | None = None,
) -> WrkResult:
    """One wrk run (``--latency``), bounded by ``duration`` plus a margin."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
               f"--timeout={timeout}", "--latency"]
    if script:
        command += ["-s", script]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# ---------------------------------------------------------------------- benchmark


def _median_spread(values: list[float]) -> tuple[float, float]:
    median = statistics.median(values)
    spread = (max(values) - min(values)) / 2 / median * 100 if median else 0.0
    return median, spread


def _check(server: Server, scenario: str) -> str | None:
    """None if the app answers ``scenario`` correctly, else why not."""
    _, path, status, needle = SCENARIOS[scenario]
    try:
        got, body = _get(server.port, path)
    except OSError as exc:
        return f"request failed: {exc}"
    if got != status:
        return f"status {got}, expected {status}"
    if needle and needle not in body:
        return f"unexpected body {body[:80]!r}"
    return None


def bench_group(
    title: str, server_name: str, apps: list[str], scenarios: list[str], args: argparse.Namespace, log_dir: str
) -> dict[tuple[str, str], list[float]]:
    """Start every app under ``server_name``, run interleaved rounds, print and return the samples."""
    servers: dict[str, Server] = {}
    samples: dict[tuple[str, str], list[float]] = {}
    p99: dict[tuple[str, str], list[float]] = {}
    problems: dict[tuple[str, str], str] = {}
    try:
        for app in apps:
            servers[app] = start_server(app, server_name, log_dir)
        for app, server in servers.items():
            for scenario in scenarios:
                if (problem := _check(server, scenario)) is not None:
                    problems[(app, scenario)] = problem
        # Warm-up: each app once per scenario, short, not recorded.
        for scenario in scenarios:
            for app, server in servers.items():
                if (app, scenario) not in problems:
                    run_wrk(server.url + SCENARIOS[scenario][1], threads=args.threads,
                            connections=args.connections, duration=args.warmup)
        for round_index in range(args.rounds):
            print(f"  {title}: round {round_index + 1}/{args.rounds} (load {_load()})", file=sys.stderr, flush=True)
            for scenario in scenarios:
                for app, server in servers.items():
                    if (app, scenario) in problems:
                        continue
                    result = run_wrk(server.url + SCENARIOS[scenario][1], threads=args.threads,
                                     connections=args.connections, duration=args.duration)
                    expected = SCENARIOS[scenario][2]
                    if result.errors:
                        problems[(app, scenario)] = f"socket errors {result.socket_errors}"
                    elif expected == 200 and result.non_2xx:
                        problems[(app, scenario)] = f"{result.non_2xx} non-2xx responses"
                    samples.setdefault((app, scenario), []).append(result.rps)
                    p99.setdefault((app, scenario), []).append(result.latency_p99_ms)
    finally:
        for server in servers.values():
            stop_server(server)
    _print_table(title, apps, scenarios, samples, p99, problems)
    return samples


def _print_table(
    title: str,
    apps: list[str],
    scenarios: list[str],
    samples: dict[tuple[str, str], list[float]],
    p99: dict[tuple[str, str], list[float]],
    problems: dict[tuple[str, str], str],
) -> None:
    peers = [app for app in apps if app != "patera"]
    head = ["scenario", *(LABELS[a] for a in apps), *(f"patera/{LABELS[p]}" for p in peers)]
    rows: list[list[str]] = []
    for scenario in scenarios:
        row = [SCENARIOS[scenario][0]]
        medians: dict[str, float] = {}
        for app in apps:
            values = samples.get((app, scenario))
            if (app, scenario) in problems and not values:
                row.append("n/a")
                continue
            median, spread = _median_spread(values or [0.0])
            medians[app] = median
            latency = statistics.median(p99.get((app, scenario)) or [0.0])
            mark = " !" if (app, scenario) in problems else ""
            row.append(f"{median:,.0f} ±{spread:.0f}% p99 {latency:.0f}ms{mark}")
        for peer in peers:
            if "patera" in medians and medians.get(peer):
                row.append(f"{medians['patera'] / medians[peer]:.2f}")
            else:
                row.append("-")
        rows.append(row)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n## {title}: requests/s (median of rounds, ±half range, p99 latency)\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    for (app, scenario), problem in sorted(problems.items()):
        print(f"  ! {LABELS[app]} / {scenario}: {problem}")
    sys.stdout.flush()


def _load() -> str:
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="patera end to end under hypercorn/uvicorn, driven by wrk")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unrecorded warm-up per case")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--only", help="comma-separated apps among " + ",".join(PEERS))
    parser.add_argument("--scenarios", help="comma-separated among " + ",".join(SCENARIOS))
    parser.add_argument("--servers", default="hypercorn,uvicorn", help="groups to run (default both)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    scenarios = args.scenarios.split(",") if args.scenarios else list(SCENARIOS)
    for scenario in scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}")
    wanted = args.only.split(",") if args.only else list(PEERS)
    apps: list[str] = []
    for app in PEERS:
        if app not in wanted:
            continue
        module = MODULES.get(app)
        if module and importlib.util.find_spec(module) is None:
            print(f"skipped {LABELS[app]}: not installed", file=sys.stderr)
            continue
        apps.append(app)
    if "patera" not in apps:
        parser.error("patera must be among the apps")
    servers = args.servers.split(",")
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
    print(f"# e2e: wrk -t{args.threads} -c{args.connections}, {args.duration:g} s per run, "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs, load at start {_load()}")
    print(f"# hypercorn: asyncio + h11; uvicorn: {loop} + {http_impl}; one worker each, no access log")
    log_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"patera-e2e-{os.getpid()}")
    os.makedirs(log_dir, exist_ok=True)
    status = 0
    if "hypercorn" in servers:
        samples = bench_group("hypercorn", "hypercorn", apps, scenarios, args, log_dir)
        if "raw" in apps and "plaintext" in scenarios:
            patera = statistics.median(samples.get(("patera", "plaintext"), [0.0]))
            raw = statistics.median(samples.get(("raw", "plaintext"), [0.0]))
            ratio = patera / raw if raw else 0.0
            verdict = "PASS" if ratio >= TARGET else "FAIL"
            print(f"\ntarget: patera >= {TARGET}x raw ASGI on plaintext under hypercorn: {ratio:.2f}x {verdict}")
            status = 0 if ratio >= TARGET else 1
    if "uvicorn" in servers:
        uvicorn_apps = [app for app in ("patera", "raw") if app in apps]
        bench_group("uvicorn", "uvicorn", uvicorn_apps, scenarios, args, log_dir)
    print(f"\n# load at end {_load()}; server logs in {log_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
