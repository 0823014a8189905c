"""The benchmark driver still runs (patera and raw ASGI only, tiny batches): a smoke test, no timings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_run_prints_every_scenario_with_ratios() -> None:
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "patera,raw", "--rounds", "4", "--seconds", "0.002"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for label in ("GET plaintext", "GET JSON", "POST JSON (pydantic)", "multipart 256 KiB upload", "404"):
        row = next(line for line in lines if line.startswith(label))
        # median per-round ratio with its interquartile range, e.g. "0.35 (0.33-0.36)"
        assert row.rstrip().endswith(")") and "(" in row, row
    assert any(line.startswith("patera") and line.split()[-1].replace(".", "").isdigit() for line in lines)
