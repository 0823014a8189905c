"""Router micro-benchmark: does matching stay flat as the route table grows?

Run: ``python bench/bench_router.py [--rounds N]``. Measures ``GET /users/42``
(rule ``/users/<int:id>``) and ``GET /about`` (static) against routers with
10, 100 and 1000 extra routes under other prefixes. Rounds are interleaved so
CPU frequency drift hits every size alike; the figures are medians. If
Werkzeug is installed a side-by-side column is printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from patera._router import Router

SIZES = (10, 100, 1000)
_BATCH = 1000
BASE = [
    ("/", "GET"),
    ("/about", "GET"),
    ("/users/", "GET"),
    ("/users/", "POST"),
    ("/users/me", "GET"),
    ("/users/<int:id>", "GET"),
    ("/users/<int:id>", "DELETE"),
    ("/users/<name>/posts", "GET"),
    ("/files/<path:p>", "GET"),
    ("/o/<uuid:id>", "GET"),
]


def extra_routes(count: int) -> list[tuple[str, str]]:
    """A mix of static and dynamic rules under prefixes other than /users."""
    out: list[tuple[str, str]] = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            out.append((f"/svc{i}/status", "GET"))
        elif kind == 1:
            out.append((f"/svc{i}/items/<int:item_id>", "GET"))
        elif kind == 2:
            out.append((f"/api/v{i}/<name>/detail", "POST"))
        else:
            out.append((f"/p{i % 37}/<int:a>/<string(length=3):b>/x{i}", "PUT"))
    return out


def make_router(extra: int) -> Router:
    router = Router()
    for index, (rule, method) in enumerate(BASE + extra_routes(extra)):
        router.add(rule, [method], f"e{index}", f"e{index}")
    router.freeze()
    return router


def make_werkzeug(extra: int) -> Any:
    from werkzeug.routing import Map, Rule

    rules = [
        Rule(rule, methods=[method], endpoint=f"e{i}") for i, (rule, method) in enumerate(BASE + extra_routes(extra))
    ]
    adapter = Map(rules, strict_slashes=False).bind("localhost")
    adapter.match("/users/42", "GET")  # let the map sort itself
    return adapter


def time_calls(fn: Callable[[str, str], Any], path: str, loops: int) -> float:
    """Calls per second of ``fn(path, "GET")``.

    Measured in process CPU time (so other processes on a shared machine do not
    count) over short batches, keeping the best batch: a round is "how fast can
    this go", and rounds are then medianed.
    """
    batch = min(loops, _BATCH)
    best = float("inf")
    clock = time.process_time
    gc.disable()
    try:
        for _ in range(max(1, loops // batch)):
            start = clock()
            for _ in range(batch):
                fn(path, "GET")
            best = min(best, clock() - start)
    finally:
        gc.enable()
    return batch / max(best, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--loops", type=int, default=10000)
    args = parser.parse_args()

    routers = {size: make_router(size) for size in SIZES}
    try:
        adapters: dict[int, Any] | None = {size: make_werkzeug(size) for size in SIZES}
    except ImportError:
        adapters = None

    for router in routers.values():
        assert router.match("/users/42", "GET") == ("e5", {"id": 42})
        assert router.match("/about", "GET") == ("e1", {})

    cases = [("/users/42", "dynamic GET /users/<int:id>"), ("/about", "static GET /about")]
    ops: dict[tuple[str, int], list[float]] = {}
    ratios: dict[tuple[str, int], list[float]] = {}
    shuffle = random.Random(0).shuffle
    for _ in range(args.rounds):
        for path, _label in cases:
            # Interleaved and shuffled: within a round every size runs back to back under the
            # same machine load, so each round yields its own ratio; the ratios are medianed.
            order = list(SIZES)
            shuffle(order)
            this_round = {size: time_calls(routers[size].match, path, args.loops) for size in order}
            for size, value in this_round.items():
                ops.setdefault((path, size), []).append(value)
                ratios.setdefault((path, size), []).append(value / this_round[SIZES[0]])
    wz_ops: dict[tuple[str, int], float] = {}
    if adapters is not None:  # measured apart, so Werkzeug's allocations do not disturb patera's rounds
        for path, _label in cases:
            for size in SIZES:
                wz_ops[(path, size)] = statistics.median(time_calls(adapters[size].match, path, 2000) for _ in range(5))

    print(
        f"median of {args.rounds} interleaved rounds; a round is the best {_BATCH}-call batch "
        f"of {args.loops} calls, in process CPU time; ratio = median of per-round ratios to 10 extra routes"
    )
    header = f"{'case':32} {'extra':>6} {'patera ops/s':>14} {'µs/call':>8} {'ratio':>7}"
    if adapters is not None:
        header += f" {'werkzeug ops/s':>15} {'speedup':>8}"
    print(header)
    worst = float("inf")
    for path, label in cases:
        for size in SIZES:
            median_ops = statistics.median(ops[(path, size)])
            ratio = statistics.median(ratios[(path, size)])
            if path == "/users/42" and size != SIZES[0]:
                worst = min(worst, ratio)
            line = f"{label:32} {size:>6} {median_ops:>14,.0f} {1e6 / median_ops:>8.2f} {ratio:>7.3f}"
            if adapters is not None:
                wz = wz_ops[(path, size)]
                line += f" {wz:>15,.0f} {median_ops / wz:>7.1f}x"
            print(line)
    verdict = "OK" if worst >= 0.95 else "TOO SLOW"
    print(f"dynamic route ratio (worst of 100/1000 vs 10 extra routes): {worst:.3f} -> {verdict} (need >= 0.95)")


if __name__ == "__main__":
    main()
