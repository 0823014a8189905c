"""Instructions per request, counted by valgrind: stable on a loaded machine.

Wall and CPU time swing with the neighbours on a shared box; instruction counts do
not. One process per framework runs under ``valgrind --tool=callgrind``; for each case
it sends a warm-up batch, then ``--extra`` requests between two calls of ``getppid()``,
and callgrind dumps its counters at each of those calls (``--dump-before=getppid``).
The dump between the markers divided by ``--extra`` is what one request costs, start-up
and warm-up excluded (the driver's own loop is included, the same for every framework).

    python bench/instructions.py                      # every case, patera and raw
    python bench/instructions.py --cases plaintext,cors --extra 500
    python bench/instructions.py --root /tmp/old-tree # measure another checkout's patera

Besides the ``run.py`` scenarios it measures three pipeline variants on ``GET
/plaintext``: a cross-origin ``Origin`` (the CORS layer grants), one user middleware
that only calls ``next``, and a handler raising a ``BaseHttpException`` (the error
boundary renders it). Raw ASGI has no such layers: its plaintext figure is their floor.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import tempfile
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ("main",)

#: case -> (run.py scenario it sends, what the patera app adds)
CASES = {
    "plaintext": ("plaintext", ""),
    "json": ("json", ""),
    "user": ("user", ""),
    "post_json": ("post_json", ""),
    "upload": ("upload", ""),
    "not_found": ("not_found", ""),
    "cors": ("plaintext", "origin"),
    "middleware": ("plaintext", "middleware"),
    "error": ("plaintext", "error"),
}
WARMUP = 300


def _patera_app(variant: str) -> Any:
    from bench.apps import patera_app
    from patera import MiddlewareBase, abort
    from patera.controller import Controller, get, path

    app = patera_app.build()
    if variant == "middleware":

        class PassThrough(MiddlewareBase):
            async def middleware(self, req: Any) -> Any:
                return await self.next(req)

        app.add_middleware(PassThrough)
    elif variant == "error":
        # Same path as plaintext, registered first: a 400 from abort() instead.
        @path("/")
        class Failing(Controller):
            @get("/failing")
            async def failing(self, req: Any) -> Any:
                abort("nope")

        app.register_controller(Failing)
    return app


async def _drive(framework: str, cases: list[str], count: int) -> None:
    from bench import run

    for case in cases:
        scenario_key, variant = CASES[case]
        scenario = next(s for s in run.scenarios() if s.key == scenario_key)
        if variant == "origin":
            scenario.headers = [*scenario.headers, (b"origin", b"https://other.example")]
        if variant == "error":
            scenario.path, scenario.status, scenario.check = "/failing", 400, lambda body: b"nope" in body
        if framework == "patera":
            app = _patera_app(variant)
        else:
            from bench.apps import raw_app

            app = raw_app.build()
        lifespan = run.Lifespan(app)
        await lifespan.startup()
        bench_case = run.Case(app, scenario)
        problem = await bench_case.check()
        if problem is not None:
            raise SystemExit(f"{framework}/{case}: {problem}")
        await bench_case.run(WARMUP)
        template, messages, send = bench_case.template, bench_case.messages, run.CountingSend(scenario.status)
        gc.collect()  # not in the batch (Case.run collects inside its own timing)
        os.getppid()  # marker: callgrind dumps here (everything before the batch)
        for _ in range(count):
            scope = template.copy()
            scope["state"] = {}
            await app(scope, run.Receiver(messages), send)
        os.getppid()  # marker: the dump since the previous one is the batch
        if send.good != count:
            raise SystemExit(f"{framework}/{case}: {send.bad} unexpected statuses")
        await lifespan.shutdown()


def _per_request(root: str, framework: str, cases: list[str], count: int) -> dict[str, int]:
    """Instructions per request of each case, from one valgrind run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-line=no",
                "--dump-before=getppid",
                sys.executable, os.path.abspath(__file__), "--child", framework, ",".join(cases), str(count),
                "--root", root,
            ],
            check=True, env=env, capture_output=True, text=True,
        )
        totals = []
        dumps = sorted(
            (name for name in os.listdir(tmp) if name.startswith("callgrind.out.")),
            key=lambda name: int(name.rsplit(".", 1)[1]),
        )
        for name in dumps:
            with open(os.path.join(tmp, name)) as handle:
                for line in handle:
                    if line.startswith(("summary:", "totals:")):
                        totals.append(int(line.split()[1]))
                        break
    # Dumps: [start-up + warm-up 1, batch 1, warm-up 2, batch 2, ...]
    batches = totals[1::2][: len(cases)]
    if len(batches) != len(cases):
        raise RuntimeError(f"expected {len(cases)} batches, callgrind dumped {len(totals)} times")
    return {case: total // count for case, total in zip(cases, batches, strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--frameworks", default="patera,raw")
    parser.add_argument("--extra", type=int, default=1000)
    parser.add_argument("--root", default=ROOT, help="checkout whose patera package is measured")
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "CASES", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path[:0] = [args.root, ROOT]
        framework, cases, count = args.child
        import patera

        if not os.path.abspath(patera.__file__).startswith(os.path.abspath(args.root)):
            raise SystemExit(f"measuring the wrong patera: {patera.__file__}")
        asyncio.run(_drive(framework, cases.split(","), int(count)))
        return 0
    cases = args.cases.split(",")
    results = {}
    for framework in args.frameworks.split(","):
        measured = cases if framework == "patera" else [c for c in cases if not CASES[c][1]]
        results[framework] = _per_request(args.root, framework, measured, args.extra)
    print(f"{'case':<12}{'patera':>10}{'raw':>10}{'overhead':>10}   (instructions per request)")
    for case in cases:
        patera_count = results.get("patera", {}).get(case)
        raw_count = results.get("raw", {}).get(case if not CASES[case][1] else CASES[case][0])
        overhead = patera_count - raw_count if patera_count is not None and raw_count is not None else None
        cells = [f"{v:>10,}" if v is not None else f"{'-':>10}" for v in (patera_count, raw_count, overhead)]
        print(f"{case:<12}" + "".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
