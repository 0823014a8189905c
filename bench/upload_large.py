"""A 100 MiB single-file multipart upload, end to end, one subprocess per framework and round.

Each framework's ``build_upload()`` app (``bench/apps``) gets ``POST /upload`` with one
file field of ``--size`` MiB, delivered as a server would: 64 KiB ``http.request``
messages, each a fresh bytes object. The handler reads the file through in 1 MiB
pieces and answers its size; where the file goes meanwhile (memory, a spooled
temporary file, nowhere) is each framework's default.

Measured per request, in a fresh interpreter so the memory is the framework's alone:

- throughput: MiB of file per second of wall time (a spool to disk is part of the
  cost) and per second of process CPU time (what the machine's load does not change);
- peak RSS growth: ``VmHWM`` after the request minus ``VmRSS`` before it, with the
  high-water mark reset (``/proc/self/clear_refs``) after a small warm-up upload.

Rounds run the frameworks in a new shuffled order each time; the table shows medians
and the worst peak, and the throughput ratios to Starlette (wall and CPU) are medians
of per-round ratios. On a loaded machine read the CPU columns: wall time there mostly
measures how long the disk-writing threads wait for a core. Every child is killed after ``--timeout`` seconds.

    python bench/upload_large.py [--size 100] [--rounds 3] [--only patera,patera-readme,starlette]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.run import FRAMEWORKS, Lifespan, load_average

__all__ = ("main",)

MIB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "----patera-large-upload-5c0e2f6a91d84b7f"
WARM_UP_SIZE = 64 * 1024


# ---------------------------------------------------------------------- the child: one framework, one upload


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    """Make ``VmHWM`` start again from the current RSS (Linux ≥ 4.0); False where that is refused."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class Upload:
    """``receive`` for one multipart upload of ``size`` bytes, generated as it is read."""

    def __init__(self, size: int) -> None:
        block = random.Random(0).randbytes(CHUNK)
        if BOUNDARY.encode() in block:
            raise RuntimeError("the boundary occurs in the content")
        self.size = size
        self.preamble = (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="large.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.epilogue = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.block = bytearray(block)
        self.length = len(self.preamble) + size + len(self.epilogue)
        self._sent = 0
        self._done = False

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"host", b"bench.local"),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(self.length).encode()),
        ]

    async def __call__(self) -> dict[str, Any]:
        if self._done:
            return {"type": "http.disconnect"}
        if self._sent == 0:
            self._sent = min(CHUNK, self.size)
            body = self.preamble + bytes(self.block[: self._sent])
        elif self._sent < self.size:
            n = min(CHUNK, self.size - self._sent)
            self._sent += n
            # NOTE: a new object per message, as a server reads it (one copy, no slice in between)
            body = bytes(self.block) if n == CHUNK else bytes(self.block[:n])
        else:
            self._done = True
            return {"type": "http.request", "body": self.epilogue, "more_body": False}
        return {"type": "http.request", "body": body, "more_body": True}


async def _send_upload(app: Any, upload: Upload) -> tuple[int, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "POST", "scheme": "http", "path": "/upload", "raw_path": b"/upload", "query_string": b"",
        "root_path": "", "headers": upload.headers(), "client": ("127.0.0.1", 51000),
        "server": ("127.0.0.1", 8000), "state": {},
    }
    status = 0
    body = b""

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(scope, upload, send)
    return status, body


def _expected_size(key: str, upload: Upload) -> int:
    # NOTE: the raw floor counts the whole body; it does not parse multipart.
    return upload.length if key == "raw" else upload.size


async def child(key: str, size: int) -> dict[str, Any]:
    module = importlib.import_module(FRAMEWORKS[key])
    app = module.build_upload()
    lifespan = Lifespan(app)
    await lifespan.startup()
    try:
        warm = Upload(WARM_UP_SIZE)
        status, body = await _send_upload(app, warm)
        if status != 200 or json.loads(body) != {"size": _expected_size(key, warm)}:
            return {"error": f"warm-up answered {status}: {body[:200]!r}"}
        upload = Upload(size)
        gc.collect()
        peak_reset = _reset_peak()
        rss_before = _status_kib("VmRSS")
        wall, cpu = time.perf_counter(), time.process_time()
        status, body = await _send_upload(app, upload)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = _status_kib("VmHWM")
        if status != 200 or json.loads(body) != {"size": _expected_size(key, upload)}:
            return {"error": f"answered {status}: {body[:200]!r}"}
        return {
            "wall": wall, "cpu": cpu, "rss_before_kib": rss_before, "peak_kib": peak,
            "growth_kib": peak - rss_before if peak_reset else None,
        }
    finally:
        await lifespan.shutdown()


# ---------------------------------------------------------------------- the parent: rounds of children


def run_child(key: str, size: int, timeout: float) -> dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--child", key, "--size", str(size)]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {timeout:.0f} s (killed)"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def report(samples: dict[str, list[dict[str, Any]]], names: dict[str, str], size_mib: int) -> str:
    """Medians of throughput, the worst peak growth, and throughput ÷ Starlette's per round."""
    headers = ["framework", "MiB/s (wall)", "MiB/s (CPU)", "peak RSS growth", "÷ Starlette (wall)", "÷ Starlette (CPU)",
               "rounds"]
    reference = samples.get("starlette", [])
    rows = []
    for key, runs in samples.items():
        good = [r for r in runs if "error" not in r]
        errors = [r["error"] for r in runs if "error" in r]
        if not good:
            rows.append([names[key], "-", "-", "-", "-", "-", f"0/{len(runs)}: {errors[0] if errors else '?'}"])
            continue
        wall = statistics.median(size_mib / r["wall"] for r in good)
        cpu = statistics.median(size_mib / r["cpu"] for r in good if r["cpu"] > 0)
        growths = [r["growth_kib"] for r in good if r["growth_kib"] is not None]
        growth = f"{max(growths) / 1024:.1f} MiB" if growths else "?"
        pairs = [(mine, ref) for mine, ref in zip(runs, reference, strict=False) if "error" not in mine and "error" not in ref]
        cells = []
        for clock in ("wall", "cpu"):
            ratios = [ref[clock] / mine[clock] for mine, ref in pairs if mine[clock] > 0]
            cells.append(f"{statistics.median(ratios):.2f}" if ratios and key != "starlette" else "-")
        rows.append([names[key], f"{wall:.0f}", f"{cpu:.0f}", growth, *cells, f"{len(good)}/{len(runs)}"])
    return _table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100, help="file size in MiB (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="uploads per framework, each in a fresh process")
    parser.add_argument("--only", type=lambda s: [x.strip().lower() for x in s.split(",") if x.strip()],
                        default=list(FRAMEWORKS), help=f"comma-separated subset of {','.join(FRAMEWORKS)}")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds before a child is killed (default 180)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw samples as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    size = args.size * MIB
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, size))))
        return 0
    unknown = [name for name in args.only if name not in FRAMEWORKS]
    if unknown:
        parser.error(f"unknown framework(s) {', '.join(unknown)}; choose from {', '.join(FRAMEWORKS)}")
    names: dict[str, str] = {}
    for key in args.only:
        try:
            names[key] = importlib.import_module(FRAMEWORKS[key]).NAME
        except ImportError as exc:
            print(f"  skipping {key}: {exc}", file=sys.stderr)
    print(f"{args.size} MiB single-file multipart upload, {args.rounds} rounds, one process per upload; "
          f"at start: {load_average()}")
    samples: dict[str, list[dict[str, Any]]] = {key: [] for key in names}
    shuffle = random.Random(2).shuffle
    for index in range(args.rounds):
        order = list(names)
        shuffle(order)
        for key in order:
            result = run_child(key, args.size, args.timeout)
            samples[key].append(result)
            if sys.stderr.isatty():
                print(f"\r  round {index + 1}/{args.rounds}: {names[key]:14}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    print(report(samples, names, args.size))
    print(f"at end: {load_average()}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"size_mib": args.size, "samples": samples}, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
