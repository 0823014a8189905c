"""Instructions per request, counted by valgrind: stable on a loaded machine.

Wall and CPU time swing with the neighbours on a shared box; instruction counts do
not. For each case this runs the app under ``valgrind --tool=callgrind`` twice, once
with ``BASE`` requests and once with ``BASE + EXTRA``, after the same warm-up; the
difference divided by ``EXTRA`` is what one request costs, start-up excluded.

    python bench/instructions.py                      # every case, patera and raw
    python bench/instructions.py --cases plaintext,cors --extra 500
    python bench/instructions.py --root /tmp/old-tree # measure another checkout's patera

Besides the ``run.py`` scenarios it measures three pipeline variants on ``GET
/plaintext``: a cross-origin ``Origin`` (the CORS layer grants), one user middleware
that only calls ``next``, and a handler raising a ``BaseHttpException`` (the error
renderer). Raw ASGI has no such layers: its plaintext figure is their floor.
"""

from __future__ import annotations

import argparse
import asyncio
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


async def _drive(framework: str, case: str, count: int) -> None:
    from bench import run

    scenario_key, variant = CASES[case]
    scenario = next(s for s in run.scenarios() if s.key == scenario_key)
    if variant == "origin":
        scenario.headers = [*scenario.headers, (b"origin", b"https://other.example")]
    if variant == "error":
        scenario.path, scenario.status = "/failing", 400
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
    await bench_case.run(count)
    await lifespan.shutdown()


def _instructions(root: str, framework: str, case: str, count: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + ROOT, "PYTHONHASHSEED": "0"}
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-line=no",
                sys.executable, os.path.abspath(__file__), "--child", framework, case, str(count), "--root", root,
            ],
            check=True, env=env, capture_output=True, text=True,
        )
        with open(out) as handle:
            for line in handle:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("no totals in callgrind output")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--frameworks", default="patera,raw")
    parser.add_argument("--base", type=int, default=200)
    parser.add_argument("--extra", type=int, default=1000)
    parser.add_argument("--root", default=ROOT, help="checkout whose patera package is measured")
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "CASE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path[:0] = [args.root, ROOT]
        framework, case, count = args.child
        import patera

        if not os.path.abspath(patera.__file__).startswith(os.path.abspath(args.root)):
            raise SystemExit(f"measuring the wrong patera: {patera.__file__}")
        asyncio.run(_drive(framework, case, int(count)))
        return 0
    frameworks = args.frameworks.split(",")
    print(f"{'case':<12}" + "".join(f"{f:>14}" for f in frameworks) + "   (instructions per request)")
    for case in args.cases.split(","):
        cells = []
        for framework in frameworks:
            if framework != "patera" and CASES[case][1]:
                cells.append(f"{'(plaintext)':>14}")
                continue
            low = _instructions(args.root, framework, case, args.base)
            high = _instructions(args.root, framework, case, args.base + args.extra)
            cells.append(f"{(high - low) // args.extra:>14,}")
        print(f"{case:<12}" + "".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
