"""Instructions per request under callgrind: ``(N + extra) - N`` requests, divided by ``extra``.

Timing on a shared machine swings by ±40% per round; an instruction count does not
depend on the load. Each measurement runs the same script twice under
``valgrind --tool=callgrind`` (startup, app build and a warm-up included), once
sending ``N`` requests and once ``N + extra``; everything but the extra requests
cancels out in the difference. ``PYTHONHASHSEED`` is fixed so both runs hash alike.

    python bench/callgrind.py                                  # plaintext and user, bare and readme
    python bench/callgrind.py --scenarios plaintext,json,user,post_json --styles bare,readme,produces,status,typed
    python bench/callgrind.py --scenarios user --styles readme --keep /tmp/cg   # keep the outputs for callgrind_annotate

``--one-run`` measures every (scenario, style) pair in a single valgrind process
instead: all apps are built and warmed up, then each pair sends ``extra`` requests
between two calls of ``os.getppid()``, and ``--dump-before=getppid`` makes callgrind
write one profile per segment. Startup is paid once, so a whole table takes minutes
rather than an hour; the count includes the loop around the requests (the same
for every pair). Use it for tables, the difference method to confirm a single figure.

Styles: ``bare`` (``bench/apps/patera_app.py``), ``readme`` (``patera_readme_app.py``),
any of ``raw``/``starlette``/``litestar``/``falcon``/``fastapi`` (their bench apps), and
``patera_variants`` feature sets joined with ``+`` (``produces``, ``status``, ``typed``,
``produces+status``, ``none`` for the variant without any), which price the README's
additions one by one. Outputs kept with ``--keep`` can be compared function by function:
``callgrind_annotate --inclusive=yes FILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import re
import subprocess
import sys
import tempfile
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.run import (
    FILLER,
    FRAMEWORKS,
    Case,
    CountingSend,
    Lifespan,
    Receiver,
    scenarios,
)

__all__ = ("main",)

STYLES = {"bare": "patera", "readme": "patera-readme"}
WARM_UP = 200
_TOTAL_RE = re.compile(r"^(?:totals|summary):\s+(\d+)", re.MULTILINE)


def build(style: str) -> Any:
    """The app a style names (see the module docstring)."""
    key = STYLES.get(style, style)
    if key in FRAMEWORKS:
        return importlib.import_module(FRAMEWORKS[key]).build(FILLER)
    from bench.apps.patera_variants import build_variant

    features = set() if style == "none" else set(style.split("+"))
    return build_variant(features, FILLER)


async def child_segments(styles: list[str], scenario_keys: list[str], requests: int) -> None:
    """Every pair warmed up first, then ``requests`` requests per pair between ``getppid`` markers."""
    cases: list[Case] = []
    lifespans = []
    for style in styles:
        app = build(style)
        lifespan = Lifespan(app)
        await lifespan.startup()
        lifespans.append(lifespan)
        for key in scenario_keys:
            scenario = next(s for s in scenarios() if s.key == key)
            case = Case(app, scenario)
            problem = await case.check()
            if problem:
                raise SystemExit(f"{style} / {scenario.label}: {problem}")
            await case.run(WARM_UP)
            cases.append(case)
    marker = os.getppid
    for case in cases:
        app, template, messages = case.app, case.template, case.messages
        send = CountingSend(case.scenario.status)
        marker()  # NOTE: callgrind dumps here (--dump-before=getppid): one file per segment
        for _ in range(requests):
            scope = template.copy()
            scope["state"] = {}
            await app(scope, Receiver(messages), send)
        marker()
        if send.good != requests:
            raise SystemExit(f"{send.bad} of {requests} responses had an unexpected status")
    for lifespan in lifespans:
        await lifespan.shutdown()


def segments(styles: list[str], scenario_keys: list[str], requests: int, keep: str | None) -> list[int]:
    """Instructions of each (style, scenario) segment, in ``child_segments`` order."""
    directory = keep or tempfile.mkdtemp(prefix="patera-callgrind-")
    out = os.path.join(directory, "callgrind.segments")
    command = [
        "valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}",
        sys.executable, os.path.abspath(__file__), "--child", "--one-run", "--styles", ",".join(styles),
        "--scenarios", ",".join(scenario_keys), "--requests", str(requests),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}\n{done.stderr[-2000:]}")
    # Dump k (OUT.k) holds what ran since dump k-1.
    totals = []
    index = 1
    while os.path.exists(f"{out}.{index}"):
        with open(f"{out}.{index}") as data:
            match = _TOTAL_RE.search(data.read())
        totals.append(int(match.group(1)) if match else 0)
        index += 1
    if keep is None:
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
        os.rmdir(directory)
    # The numbered dumps end with seg1, gap, seg2, gap, ..., segK (anything calling
    # getppid during startup only adds dumps in front); the rest went to OUT at exit.
    count = len(styles) * len(scenario_keys)
    if len(totals) < 2 * count:
        raise RuntimeError(f"expected {count} segments, callgrind wrote {len(totals)} dumps")
    return totals[len(totals) - (2 * count - 1) :: 2]


async def child(style: str, scenario_key: str, requests: int) -> None:
    """Build, warm up, then send ``requests`` requests (what the parent runs under valgrind)."""
    app = build(style)
    lifespan = Lifespan(app)
    await lifespan.startup()
    scenario = next(s for s in scenarios() if s.key == scenario_key)
    case = Case(app, scenario)
    problem = await case.check()
    if problem:
        raise SystemExit(f"{style} / {scenario.label}: {problem}")
    await case.run(WARM_UP)
    await case.run(requests)
    await lifespan.shutdown()


def instructions(style: str, scenario: str, requests: int, keep: str | None) -> int:
    """Total instructions of one child run under callgrind."""
    directory = keep or tempfile.mkdtemp(prefix="patera-callgrind-")
    out = os.path.join(directory, f"callgrind.{scenario}.{style}.{requests}")
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
        sys.executable, os.path.abspath(__file__), "--child", "--styles", style, "--scenarios", scenario,
        "--requests", str(requests),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{style}/{scenario}: exit {done.returncode}\n{done.stderr[-2000:]}")
    with open(out) as data:
        match = _TOTAL_RE.search(data.read())
    if keep is None:
        os.remove(out)
        os.rmdir(directory)
    if match is None:
        raise RuntimeError(f"no totals in {out}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    split = lambda s: [x.strip() for x in s.split(",") if x.strip()]
    parser.add_argument("--scenarios", type=split, default=["plaintext", "user"],
                        help="comma-separated scenario keys (default plaintext,user)")
    parser.add_argument("--styles", type=split, default=["bare", "readme"], help="comma-separated styles (default bare,readme)")
    parser.add_argument("--base", type=int, default=100, help="N: requests of the shorter run (default 100)")
    parser.add_argument("--extra", type=int, default=1000, help="requests the longer run adds (default 1000)")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind outputs in DIR")
    parser.add_argument("--one-run", action="store_true",
                        help="all pairs in one valgrind process, --extra requests each, between dump markers")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.one_run:
            asyncio.run(child_segments(args.styles, args.scenarios, args.requests))
        else:
            asyncio.run(child(args.styles[0], args.scenarios[0], args.requests))
        return 0
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    if args.one_run:
        print(f"instructions per request: one valgrind run, {args.extra} requests per pair between dump markers, "
              f"after {WARM_UP} warm-up requests each, PYTHONHASHSEED=0")
        counts = segments(args.styles, args.scenarios, args.extra, args.keep)
        pairs = [(style, scenario) for style in args.styles for scenario in args.scenarios]
        table = dict(zip(pairs, counts, strict=True))
        width = max(12, *(len(style) for style in args.styles))
        print(f"{'scenario':12} " + " ".join(f"{style:>{width}}" for style in args.styles))
        for scenario in args.scenarios:
            cells = (f"{table[(style, scenario)] / args.extra:>{width},.0f}" for style in args.styles)
            print(f"{scenario:12} " + " ".join(cells))
        return 0
    print(f"instructions per request: ((N={args.base} + {args.extra}) - N) / {args.extra}, "
          f"after {WARM_UP} warm-up requests, PYTHONHASHSEED=0")
    print(f"{'scenario':12} {'style':18} {'instr/request':>14}")
    for scenario in args.scenarios:
        for style in args.styles:
            low = instructions(style, scenario, args.base, args.keep)
            high = instructions(style, scenario, args.base + args.extra, args.keep)
            print(f"{scenario:12} {style:18} {(high - low) / args.extra:14,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
