"""The benchmark driver still runs (both patera styles and raw ASGI, tiny batches): a smoke test, no timings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LABELS = (
    "GET plaintext",
    "GET JSON",
    "GET /users/<id> (+50 routes)",
    "POST JSON (pydantic)",
    "multipart 256 KiB upload",
    "urlencoded form, 10,000 fields",
    "404",
)


def _table(lines: list[str], title: str) -> list[str]:
    """The rows of the table whose header line starts with ``title`` (up to the next blank line)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line)
    return rows


@pytest.mark.slow
def test_bench_run_prints_requests_overheads_and_style_ratios() -> None:
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "patera,patera-readme,raw", "--rounds", "4",
         "--seconds", "0.002"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rates = _table(lines, "scenario (req/s, median)")
    costs = _table(lines, "overhead over raw ASGI (µs/request)")
    assert [row.split("  ")[0] for row in rates] == list(LABELS)
    assert [row.split("  ")[0] for row in costs] == list(LABELS)
    for row in costs:
        # patera and patera-readme in µs, then readme ÷ bare as "1.10 (1.02-1.25)"
        patera, readme = row[len(row.split("  ")[0]):].split()[:2]
        float(patera), float(readme)
        assert row.rstrip().endswith(")") and "(" in row, row
    scaling = _table(lines, "GET /users/<id> (req/s)")
    assert [row.split()[0] for row in scaling] == ["patera", "patera-readme"]
    assert all(row.split()[-1].replace(".", "").isdigit() for row in scaling)
    assert any(line.startswith("at start: load average") for line in lines)
