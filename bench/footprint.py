"""Footprint of ``import patera``: time, peak RSS, modules loaded and package size.

Each figure comes from fresh interpreters (the median of ``--runs``, default 10)
and is set against the floor patera cannot go below: ``import pydantic, loguru``
(its two dependencies; ``BaseModel`` included, which every pydantic app loads) and
a bare interpreter. Times are CPU time of the importing process (robust on a busy
machine), wall time beside it.

    python bench/footprint.py [--runs N] [--importtime]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ("main",)

TARGETS = {
    "python (bare)": "",
    "pydantic + loguru": "import pydantic, loguru",
    # ``import pydantic`` is lazy; any pydantic app pays for BaseModel and its first model
    # (which loads pydantic's plugin entry points), so this is the real floor.
    "+ BaseModel": "import loguru\nfrom pydantic import BaseModel, TypeAdapter\nclass M(BaseModel):\n    x: int = 0",
    "patera": "import patera",
}
# Optional packages the core must not pull in (see the rules on lazy imports).
MUST_NOT_LOAD = (
    "jinja2", "httpx", "hypercorn", "uvicorn", "starlette", "multipart", "python_multipart", "anyio", "h11",
)

_PROBE = """
import resource, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
{statement}
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
import json
print(json.dumps({{
    "seconds": elapsed,
    "cpu_seconds": cpu,
    "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "modules": sorted(sys.modules),
}}))
"""


def _env() -> dict[str, str]:
    """The caller's environment, but with bytecode caching on: a deployed app has its .pyc files."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def probe(statement: str) -> dict[str, object]:
    """Run ``statement`` in a fresh interpreter and report its cost."""
    code = _PROBE.format(statement=statement or "pass")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def import_times(statement: str) -> list[tuple[int, int, str]]:
    """``-X importtime`` rows (self µs, cumulative µs, module) for one fresh import."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT, env=_env(), capture_output=True, text=True, check=True,
    )
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        rows.append((int(self_us), int(cumulative), name))
    return rows


def package_size(path: str) -> tuple[int, int]:
    """(files, bytes) of what gets installed: everything in the package but bytecode caches."""
    files = size = 0
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name.endswith((".pyc", ".pyo")):
                continue
            files += 1
            size += os.path.getsize(os.path.join(folder, name))
    return files, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters per target (default 10)")
    parser.add_argument("--importtime", action="store_true", help="also list patera's slowest modules (-X importtime)")
    args = parser.parse_args(argv)

    print(f"python {sys.version.split()[0]} ({sys.executable}); median of {args.runs} fresh interpreters\n")
    samples: dict[str, list[dict[str, object]]] = {name: [] for name in TARGETS}
    for statement in TARGETS.values():  # warm-up: writes the bytecode caches
        probe(statement)
    for _ in range(args.runs):  # interleaved, so drift hits every target alike
        for name, statement in TARGETS.items():
            samples[name].append(probe(statement))

    def median(name: str, key: str) -> float:
        return statistics.median(float(s[key]) for s in samples[name])  # type: ignore[arg-type]

    modules = {name: set(samples[name][0]["modules"]) for name in TARGETS}  # type: ignore[call-overload]
    header = f"{'import':<20} {'CPU ms':>8} {'wall ms':>8} {'peak RSS (MiB)':>15} {'modules':>8}"
    print(header)
    print("-" * len(header))
    for name in TARGETS:
        print(
            f"{name:<20} {median(name, 'cpu_seconds') * 1000:>8.1f} {median(name, 'seconds') * 1000:>8.1f} "
            f"{median(name, 'max_rss_kib') / 1024:>15.1f} {len(modules[name]):>8}"
        )
    base = "+ BaseModel"
    extra_ms = (median("patera", "cpu_seconds") - median(base, "cpu_seconds")) * 1000
    extra_rss = (median("patera", "max_rss_kib") - median(base, "max_rss_kib")) / 1024
    own = sorted(m for m in modules["patera"] - modules[base] if m == "patera" or m.startswith("patera."))
    others = sorted(m for m in modules["patera"] - modules[base] if not (m == "patera" or m.startswith("patera.")))
    print(f"\npatera over {base.lstrip('+ ')}: +{extra_ms:.1f} ms CPU, +{extra_rss:.1f} MiB, "
          f"+{len(own)} patera modules, +{len(others)} other modules")
    if others:
        print("  other modules patera adds: " + ", ".join(others))
    leaked = sorted({m.split(".")[0] for m in modules["patera"]} & set(MUST_NOT_LOAD))
    print("  optional packages loaded by import patera: " + (", ".join(leaked) if leaked else "none"))

    files, size = package_size(os.path.join(ROOT, "patera"))
    print(f"\npackage size (patera/, sources and data, no bytecode): {files} files, {size / 1024:.0f} KiB")

    if args.importtime:
        rows = [r for r in import_times("import patera") if r[2].strip().startswith("patera")]
        rows.sort(key=lambda r: r[0], reverse=True)
        print("\nslowest patera modules by self time (one run, -X importtime):")
        for self_us, cumulative, name in rows[:12]:
            print(f"  {self_us / 1000:>7.2f} ms self  {cumulative / 1000:>7.2f} ms cumulative  {name.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
