"""Soak test: the example API under hypercorn and uvicorn, 256 connections, a mixed workload.

    bench/.venv/bin/python bench/soak.py                     # 60 s per server, both servers
    bench/.venv/bin/python bench/soak.py --duration 20 --servers hypercorn

For each server, ``examples/api`` (plus the bench-only upload route of ``serve_app.py``)
runs in one process on 127.0.0.1 with ``ACCESS_LOG=false`` and ``DEBUG=false`` (an access
line per request on stderr would be most of the work). ``FORM_SPOOL_MAX_SIZE=32768``
makes the 48 KiB upload of the mix spool to a temporary file, so file handles are
exercised too. ``wrk`` drives the mix of ``soak.lua`` (GET, POST/PUT/PATCH/DELETE JSON,
multipart, a static file, two deliberate errors) first for a warm-up, then for
``--duration`` seconds. The warm-up is ``--warmup-runs`` (2) separate wrk runs of
``--warmup`` (10) seconds, each with fresh connections: under hypercorn RSS climbs
in steps over the first two batches of 256 connections and then stays flat, for raw
ASGI as for patera (the allocator's high-water mark, not a leak), so one warm-up
run is not yet the steady state. Criteria, all must hold for PASS:

- no socket errors (connect, read, write, timeout) in either run;
- every non-2xx response is one of the two deliberate errors (404 unknown item, 422 invalid);
- RSS (``VmRSS``) after the run at most ``--rss-tolerance`` (10%) above RSS after the warm-up;
- open file descriptors after the run at most 8 above those after the warm-up;
- the server is still alive and its log holds no traceback or ERROR/CRITICAL line.

Exit status 0 when every server passes, 1 otherwise. The server is always stopped.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from e2e import Server, parse_wrk, start_server, stop_server  # noqa: E402 - needs HERE on sys.path

__all__ = ("main",)

LUA = os.path.join(HERE, "soak.lua")
ENV = {"ACCESS_LOG": "false", "DEBUG": "false", "FORM_SPOOL_MAX_SIZE": "32768"}
FD_SLACK = 8
_LOG_PROBLEM = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # loguru colours its level names


def _status_value(pid: int, key: str) -> int:
    """A ``kB`` or count field of ``/proc/<pid>/status`` (``VmRSS``, ``Threads``)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Snapshot:
    rss_kib: int
    fds: int
    threads: int

    @classmethod
    def of(cls, pid: int) -> Snapshot:
        return cls(_status_value(pid, "VmRSS"), _fd_count(pid), _status_value(pid, "Threads"))

    def __str__(self) -> str:
        return f"RSS {self.rss_kib / 1024:.1f} MiB, {self.fds} fds, {self.threads} threads"


@dataclass
class Run:
    """One wrk run of the mix, with what soak.lua's done() reported."""

    seconds: float
    requests: int = 0
    rps: float = 0.0
    socket_errors: dict[str, int] = field(default_factory=dict)
    wrk_non_2xx: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    unexpected: dict[int, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    latency: dict[str, float] = field(default_factory=dict)
    created: int = 0
    rss_trace_kib: list[int] = field(default_factory=list)
    output: str = ""


def _run_mix(server: Server, args: argparse.Namespace, seconds: float) -> Run:
    """wrk with soak.lua for ``seconds``; VmRSS sampled every second meanwhile."""
    run = Run(seconds)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            try:
                run.rss_trace_kib.append(_status_value(server.pid, "VmRSS"))
            except (OSError, KeyError):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{round(seconds)}s",
               f"--timeout={args.timeout}", "-s", LUA, server.url]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        stop.set()
        sampler.join()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    run.output = done.stdout
    parsed = parse_wrk(done.stdout)
    run.requests, run.rps, run.wrk_non_2xx = parsed.requests, parsed.rps, parsed.non_2xx
    run.socket_errors = parsed.socket_errors or {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    for line in done.stdout.splitlines():
        parts = line.split(" ", 3)
        if parts[0] != "SOAK" or len(parts) < 2:
            continue
        kind = parts[1]
        if kind == "sent":
            run.sent[parts[2]] = int(parts[3])
        elif kind == "status":
            run.statuses[int(parts[2])] = int(parts[3])
        elif kind == "expected":
            run.expected[parts[2]] = int(parts[3])
        elif kind == "unexpected":
            run.unexpected[int(parts[2])] = int(parts[3])
        elif kind == "sample":
            run.samples.append(" ".join(parts[2:]))
        elif kind == "created":
            run.created = int(parts[2])
        elif kind.startswith("latency_"):
            run.latency[kind[len("latency_"):]] = float(parts[2])
    return run


def _describe(label: str, run: Run) -> None:
    errors = ", ".join(f"{k} {v}" for k, v in run.socket_errors.items())
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run.statuses.items()))
    expected = ", ".join(f"{k} {v}" for k, v in sorted(run.expected.items()))
    sent = ", ".join(f"{k} {v}" for k, v in sorted(run.sent.items()))
    print(f"  {label}: {run.requests:,} requests in {run.seconds:g} s = {run.rps:,.0f}/s; "
          f"latency p50 {run.latency.get('p50_ms', 0):.1f} ms, p99 {run.latency.get('p99_ms', 0):.1f} ms, "
          f"max {run.latency.get('max_ms', 0):.0f} ms")
    print(f"    socket errors: {errors}")
    print(f"    statuses: {statuses}  (wrk non-2xx/3xx: {run.wrk_non_2xx}; deliberate: {expected})")
    print(f"    unexpected non-2xx: {sum(run.unexpected.values())} {dict(sorted(run.unexpected.items())) or ''}")
    print(f"    sent: {sent}")
    for sample in run.samples:
        print(f"    sample: {sample}")
    if run.rss_trace_kib:
        trace = run.rss_trace_kib
        step = max(1, len(trace) // 12)
        shown = " ".join(f"{v / 1024:.1f}" for v in trace[::step])
        print(f"    RSS during run (MiB, every {step} s): {shown}")


def _log_problems(server: Server) -> list[str]:
    try:
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            lines = (_ANSI.sub("", line).rstrip() for line in f)
            return [line for line in lines if _LOG_PROBLEM.search(line)]
    except OSError:
        return []


def soak(server_name: str, args: argparse.Namespace, log_dir: str) -> bool:
    """Warm-up, snapshot, soak, snapshot; print the verdict; True when every criterion holds."""
    print(f"\n## {server_name}: examples/api, wrk -t{args.threads} -c{args.connections}, "
          f"warm-up {args.warmup_runs} x {args.warmup:g} s, soak {args.duration:g} s (load {_load()})", flush=True)
    server = start_server("example", server_name, log_dir, env=ENV, ready_path="/api/v1/", timeout=60)
    checks: list[tuple[str, bool, str]] = []
    try:
        start = Snapshot.of(server.pid)
        warms: list[tuple[Run, Snapshot]] = []
        for _ in range(max(1, args.warmup_runs)):
            run = _run_mix(server, args, args.warmup)
            time.sleep(1.0)
            warms.append((run, Snapshot.of(server.pid)))
        after_warm = warms[-1][1]
        soaked = _run_mix(server, args, args.duration)
        time.sleep(1.0)
        after = Snapshot.of(server.pid)
        alive = server.process.poll() is None
        load = _load()
    finally:
        stop_server(server)
    print(f"  server pid {server.pid}, log {server.log_path}")
    print(f"  at start:      {start}")
    for index, (run, snapshot) in enumerate(warms, 1):
        _describe(f"warm-up {index}", run)
        print(f"  after warm-up {index}: {snapshot}")
    _describe("soak", soaked)
    print(f"  after soak:    {after}  (load {load})")
    trace = soaked.rss_trace_kib
    if len(trace) > 20:  # informative: a leak shows as a steady climb inside the run too
        print(f"  RSS inside the soak, 10 s in -> end: {trace[9] / 1024:.1f} -> {trace[-1] / 1024:.1f} MiB "
              f"({(trace[-1] - trace[9]) / trace[9]:+.1%})")

    runs = [run for run, _ in warms] + [soaked]
    errors = sum(sum(run.socket_errors.values()) for run in runs)
    checks.append(("socket errors = 0", errors == 0, f"{errors}"))
    unexpected = sum(sum(run.unexpected.values()) for run in runs)
    deliberate = sum(soaked.expected.values())
    consistent = soaked.wrk_non_2xx == deliberate + sum(soaked.unexpected.values())
    checks.append(("unexpected non-2xx = 0", unexpected == 0 and consistent,
                   f"{unexpected} (wrk counted {soaked.wrk_non_2xx} non-2xx, {deliberate} deliberate)"))
    checks.append(("requests answered", soaked.requests > 0 and sum(soaked.statuses.values()) > 0,
                   f"{sum(soaked.statuses.values()):,}"))
    growth = (after.rss_kib - after_warm.rss_kib) / after_warm.rss_kib
    checks.append((f"RSS growth <= {args.rss_tolerance:.0%}", growth <= args.rss_tolerance,
                   f"{after_warm.rss_kib / 1024:.1f} -> {after.rss_kib / 1024:.1f} MiB ({growth:+.1%})"))
    checks.append((f"fds growth <= {FD_SLACK}", after.fds - after_warm.fds <= FD_SLACK,
                   f"{after_warm.fds} -> {after.fds}"))
    problems = _log_problems(server)
    detail = "alive" if alive else "DIED"
    if problems:
        detail += f", {len(problems)} log lines, first: {problems[0][:160]}"
    checks.append(("server alive, clean log", alive and not problems, detail))
    passed = all(ok for _, ok, _ in checks)
    print(f"  criteria ({server_name}):")
    for name, ok, detail in checks:
        print(f"    {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    print(f"  => {server_name}: {'PASS' if passed else 'FAIL'}", flush=True)
    return passed


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="soak the example API under hypercorn and uvicorn with wrk")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of soak per server (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds per warm-up run (default 10)")
    parser.add_argument("--warmup-runs", type=int, default=2, help="warm-up runs, fresh connections each (default 2)")
    parser.add_argument("--connections", type=int, default=256, help="wrk connections (default 256)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", default="10s", help="wrk per-request timeout (default 10s)")
    parser.add_argument("--rss-tolerance", type=float, default=0.10, help="allowed RSS growth (default 0.10)")
    parser.add_argument("--servers", default="hypercorn,uvicorn", help="comma-separated (default both)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    log_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"patera-soak-{os.getpid()}")
    os.makedirs(log_dir, exist_ok=True)
    print(f"# soak: {os.cpu_count()} CPUs shared by server and wrk; load at start {_load()}")
    verdicts: dict[str, bool] = {}
    for server_name in args.servers.split(","):
        try:
            verdicts[server_name] = soak(server_name, args, log_dir)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"  => {server_name}: FAIL ({exc})", flush=True)
            verdicts[server_name] = False
    print("\n# summary: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in verdicts.items())
          + f"; load at end {_load()}")
    overall = all(verdicts.values()) and bool(verdicts)
    print("PASS" if overall else "FAIL")
    return 0 if overall else 1


if __name__ == "__main__":
    sys.exit(main())
