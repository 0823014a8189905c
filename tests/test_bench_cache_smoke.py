"""bench/bench_cache.py still runs (tiny batches): a smoke test, no timings asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_cache_prints_every_scenario(redis_service: object) -> None:
    url = redis_service.url  # type: ignore[attr-defined]
    result = subprocess.run(
        [sys.executable, "bench/bench_cache.py", "--rounds", "2", "--requests", "50", "--redis-url", url],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split("  ")[0].strip() for line in result.stdout.splitlines()}
    assert {"uncached", "memory hit", "sqlite hit", "redis hit"} <= rows
    assert "goal (memory hit" in result.stdout
