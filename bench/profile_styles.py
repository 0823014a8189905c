"""Which functions make one patera style cost more than another: cProfile, per request, side by side.

Both styles serve the same scenario in one process; each runs ``--requests``
requests under ``cProfile`` after a warm-up. The table lists, per function, calls
per request in each style and own time per request (µs, inflated by the profiler
alike for both), sorted by how much more the second style spends there. Calls per
request are exact; the times are for ranking, not for quoting (use
``bench/callgrind.py`` for that).

    python bench/profile_styles.py --scenario plaintext                 # bare vs readme
    python bench/profile_styles.py --scenario post_json --styles none,typed --top 25
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.callgrind import build
from bench.run import Case, Lifespan, scenarios

__all__ = ("main",)

Key = tuple[str, int, str]


async def profile_style(style: str, scenario_key: str, requests: int) -> dict[Key, tuple[int, float]]:
    """``(file, line, function) -> (calls, own seconds)`` for ``requests`` requests."""
    app = build(style)
    lifespan = Lifespan(app)
    await lifespan.startup()
    case = Case(app, next(s for s in scenarios() if s.key == scenario_key))
    problem = await case.check()
    if problem:
        raise SystemExit(f"{style}: {problem}")
    await case.run(200)
    profiler = cProfile.Profile()
    profiler.enable()
    await case.run(requests)
    profiler.disable()
    await lifespan.shutdown()
    stats: Any = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # (file, line, name) -> (cc, nc, tt, ct, callers)
    return {key: (value[1], value[2]) for key, value in stats.items()}


def _where(key: Key) -> str:
    path, line, name = key
    if path == "~":
        return name  # a builtin: "<method 'get' of 'dict' objects>"
    short = path.split("/site-packages/")[-1].replace(ROOT + os.sep, "")
    return f"{short}:{line}({name})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="plaintext", help="scenario key (default plaintext)")
    parser.add_argument("--styles", default="bare,readme", help="two styles, as bench/callgrind.py names them")
    parser.add_argument("--requests", type=int, default=20000, help="requests profiled per style (default 20000)")
    parser.add_argument("--top", type=int, default=30, help="rows to show (default 30)")
    args = parser.parse_args(argv)
    first, second = [s.strip() for s in args.styles.split(",")]
    a = asyncio.run(profile_style(first, args.scenario, args.requests))
    b = asyncio.run(profile_style(second, args.scenario, args.requests))
    n = args.requests
    rows = []
    for key in set(a) | set(b):
        calls_a, time_a = a.get(key, (0, 0.0))
        calls_b, time_b = b.get(key, (0, 0.0))
        if calls_a == calls_b == 0:
            continue
        rows.append((time_b - time_a, key, calls_a / n, calls_b / n, time_a / n * 1e6, time_b / n * 1e6))
    rows.sort(key=lambda row: row[0], reverse=True)
    total_a = sum(t for _, t in a.values()) / n * 1e6
    total_b = sum(t for _, t in b.values()) / n * 1e6
    print(f"scenario {args.scenario}: {first} {total_a:.1f} µs, {second} {total_b:.1f} µs own time per request "
          f"under cProfile ({n} requests each)")
    print(f"{'calls/req ' + first:>18} {'calls/req ' + second:>18} {'µs ' + first:>10} {'µs ' + second:>10} "
          f"{'Δ µs':>7}  function")
    for delta, key, calls_a, calls_b, us_a, us_b in rows[: args.top]:
        print(f"{calls_a:18.2f} {calls_b:18.2f} {us_a:10.2f} {us_b:10.2f} {delta / n * 1e6:7.2f}  {_where(key)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
