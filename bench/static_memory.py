"""Peak memory while serving a 200 MiB static file: proves bodies are streamed, not read whole.

Generates the file in a temporary directory, drives the app in-process through raw
ASGI (the ``send`` callable counts and drops each chunk, as a server writing to a
socket would), and reports the growth of peak RSS. Run:

    .venv/bin/python bench/static_memory.py [--size-mib 200] [--limit-mib 32]

Exit status is 1 when the growth reaches the limit. Linux/macOS (uses ``resource``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from patera import BaseConfig, Patera, app

MIB = 1024 * 1024


class Cfg(BaseConfig):
    APP_NAME: str = "static-memory"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    DEBUG: bool = False
    CORS_ALLOW_CREDENTIALS: bool = False


@app("__main__", configs=Cfg)
class BenchApp(Patera):
    """Rooted at the working directory, so ``./static`` is served."""


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024  # macOS: bytes, Linux: KiB


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:
        return float("nan")


def write_file(path: str, size: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as fh:
        for _ in range(size // MIB):
            fh.write(block)
        fh.write(block[: size % MIB])


async def fetch(asgi: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, int, int, float]:
    """Status, body bytes received, body messages, largest current RSS seen (MiB)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench"), *headers], "client": ("127.0.0.1", 1), "server": ("bench", 80),
    }
    state = {"status": 0, "bytes": 0, "messages": 0, "rss": 0.0}
    request_sent = False
    idle = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await idle.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
        elif message["type"] == "http.response.body":
            state["bytes"] += len(message.get("body", b""))
            state["messages"] += 1
            if state["messages"] % 256 == 0:
                state["rss"] = max(state["rss"], current_rss_mib())

    await asgi(scope, receive, send)
    return int(state["status"]), int(state["bytes"]), int(state["messages"]), float(state["rss"])


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=200)
    parser.add_argument("--limit-mib", type=float, default=32.0)
    args = parser.parse_args()
    size = args.size_mib * MIB

    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "static"))
        target = os.path.join(root, "static", "big.bin")
        write_file(target, size)
        cwd = os.getcwd()
        os.chdir(root)
        try:
            bench_app = BenchApp()
        finally:
            os.chdir(cwd)
        # Warm up: build the app, import lazily loaded modules, start the thread pool.
        await fetch(bench_app, "/static/big.bin", [(b"range", b"bytes=0-1023")])

        before_peak = peak_rss_mib()
        before_now = current_rss_mib()
        started = time.perf_counter()
        status, received, messages, seen_rss = await fetch(bench_app, "/static/big.bin", [])
        elapsed = time.perf_counter() - started
        growth = peak_rss_mib() - before_peak

        ranged = await fetch(bench_app, "/static/big.bin", [(b"range", b"bytes=%d-" % (size - 5 * MIB))])

    ok = status == 200 and received == size and ranged[0] == 206 and ranged[1] == 5 * MIB
    print(f"file size           : {args.size_mib} MiB")
    print(f"status / bytes      : {status} / {received} ({messages} body messages)")
    print(f"ranged tail         : {ranged[0]} / {ranged[1]} bytes")
    print(f"time                : {elapsed:.2f} s ({size / MIB / elapsed:.0f} MiB/s in-process)")
    print(f"RSS before          : {before_now:.1f} MiB (current), peak {before_peak:.1f} MiB")
    print(f"RSS max during send : {seen_rss:.1f} MiB (sampled every 256 chunks)")
    print(f"peak RSS growth     : {growth:.1f} MiB (limit {args.limit_mib:.0f} MiB)")
    if not ok:
        print("FAIL: wrong status or byte count")
        return 1
    if growth >= args.limit_mib:
        print("FAIL: memory grew with the file size")
        return 1
    print("OK: memory is flat")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
