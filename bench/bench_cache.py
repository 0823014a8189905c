"""Response cache micro-benchmark: what does a cache hit cost against the GET it replaces?

Run: ``python bench/bench_cache.py [--rounds N] [--requests N] [--redis-url URL]``.

Every scenario is the same endpoint (``GET /items/<int:id>`` answering a small JSON
object), called in process as ``await app(scope, receive, send)``:

- ``uncached``: no cache decorator;
- ``memory hit``: ``@cache.cache()`` with the memory backend, entry already stored;
- ``sqlite hit``: the same with the SQLite backend (a file in a temp dir);
- ``redis hit``: the same with the Redis backend. Without ``--redis-url`` a throwaway
  ``redis-server`` is started on a free loopback port if the binary is installed,
  otherwise the scenario is skipped.

Rounds interleave the scenarios in shuffled order; the figures are medians of µs per
request and of the per-round difference to ``uncached``, in CPU time of this process
(steadier than wall time on a shared machine; it includes the SQLite worker thread but
not the Redis server) and in wall time. The goal for the memory backend: a hit costs no
more than the uncached GET + 5 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from patera import BaseConfig, Patera, Request, Response, app
from patera.caching import Cache
from patera.controller import Controller, get, path

GOAL_US = 5.0
DISCONNECT = {"type": "http.disconnect"}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}


def build(cache_config: dict[str, Any] | None) -> tuple[Patera, Cache | None]:
    """One app serving the benchmark endpoint, cached through a fresh ``Cache`` when configured."""
    cache = Cache() if cache_config is not None else None

    async def item(self: Any, req: Request, item_id: int) -> Response[Any]:
        return req.response.json({"id": item_id, "name": "widget", "tags": ["a", "b"], "price": 9.5})

    endpoint = cache.cache()(item) if cache is not None else item
    Items = path("/")(
        type("Items", (Controller,), {"item": get("/items/<int:item_id>")(endpoint), "__module__": __name__})
    )

    class Config(BaseConfig):
        APP_NAME: str = "bench"
        VERSION: str = "1"
        BASE_PATH: str = ROOT
        ACCESS_LOG: bool = False
        DEBUG: bool = False
        CORS_ENABLED: bool = False
        DEFAULT_LOGGER: dict[str, Any] = {"LEVEL": "ERROR"}
        CACHE: dict[str, Any] = cache_config or {}

    @app(__name__, configs=Config)
    class BenchApp(Patera):
        pass

    application = BenchApp()
    application.register_controller(Items)
    if cache is not None:
        cache.init_app(application)
    return application, cache


class Send:
    __slots__ = ("statuses",)

    def __init__(self) -> None:
        self.statuses: list[int] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.statuses.append(message["status"])


def scope_template() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/42",
        "raw_path": b"/items/42",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench.local"), (b"user-agent", b"patera-bench/1"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 51000),
        "server": ("127.0.0.1", 8000),
    }


async def batch(application: Patera, count: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per request over ``count`` sequential requests."""
    template = scope_template()
    send = Send()
    gc.collect()
    cpu_started, started = time.process_time(), time.perf_counter()
    for _ in range(count):
        scope = template.copy()
        scope["state"] = {}
        messages = iter((REQUEST,))

        async def receive(messages: Iterator[dict[str, Any]] = messages) -> dict[str, Any]:
            return next(messages, DISCONNECT)

        await application(scope, receive, send)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if any(status != 200 for status in send.statuses):
        raise RuntimeError(f"unexpected statuses: {sorted(set(send.statuses))}")
    return cpu / count * 1e6, elapsed / count * 1e6


@contextlib.contextmanager
def redis_url(given: str | None) -> Iterator[str | None]:
    if given:
        yield given
        return
    try:
        from tests._services import redis_server  # a throwaway server on a free port
    except ImportError:
        yield None
        return
    try:
        with redis_server() as server:
            yield server.url
    except RuntimeError as exc:  # redis-server not installed
        print(f"redis hit: skipped ({exc})", file=sys.stderr)
        yield None


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, redis_url(args.redis_url) as url:
        configs: dict[str, dict[str, Any] | None] = {
            "uncached": None,
            "memory hit": {"BACKEND": "memory"},
            "sqlite hit": {"BACKEND": "sqlite", "SQLITE_PATH": os.path.join(tmp, "bench.db")},
        }
        if url:
            configs["redis hit"] = {"BACKEND": "redis", "REDIS_URL": url, "KEY_PREFIX": f"bench:{os.getpid()}:"}
        apps: dict[str, Patera] = {}
        caches: list[Cache] = []
        for name, config in configs.items():
            application, cache = build(config)
            if cache is not None:
                await cache.connect()
                caches.append(cache)
            await batch(application, 200)  # warm-up; stores the entry
            apps[name] = application
        cpu: dict[str, list[float]] = {name: [] for name in apps}
        wall: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(args.rounds):
            order = list(apps)
            random.shuffle(order)
            for name in order:
                slow = name in ("redis hit", "sqlite hit")
                cpu_us, wall_us = await batch(apps[name], max(200, args.requests // 10) if slow else args.requests)
                cpu[name].append(cpu_us)
                wall[name].append(wall_us)
        for cache in caches:
            await cache.clear()
            await cache.disconnect()

    print(f"median of {args.rounds} rounds; Δ = median of per-round differences to 'uncached'")
    print(f"{'scenario':<12} {'CPU µs/req':>11} {'Δ CPU':>9} {'wall µs/req':>12} {'Δ wall':>9}")
    for name in apps:
        d_cpu = statistics.median(v - b for v, b in zip(cpu[name], cpu["uncached"], strict=True))
        d_wall = statistics.median(v - b for v, b in zip(wall[name], wall["uncached"], strict=True))
        shown = ("", "") if name == "uncached" else (f"{d_cpu:+.2f}", f"{d_wall:+.2f}")
        print(
            f"{name:<12} {statistics.median(cpu[name]):>11.2f} {shown[0]:>9}"
            f" {statistics.median(wall[name]):>12.2f} {shown[1]:>9}"
        )
    memory_delta = statistics.median(v - b for v, b in zip(cpu["memory hit"], cpu["uncached"], strict=True))
    verdict = "met" if memory_delta <= GOAL_US else "NOT met"
    print(f"goal (memory hit ≤ uncached + {GOAL_US:g} µs CPU): {verdict} ({memory_delta:+.2f} µs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=5000, help="requests per memory/uncached batch")
    parser.add_argument("--redis-url", default=None, help="use this Redis instead of a throwaway redis-server")
    asyncio.run(main(parser.parse_args()))
