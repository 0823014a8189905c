"""``pytest -m "not slow"`` is the fast inner loop: the slow tests carry the registered ``slow`` marker.

The default ``python -m pytest`` (and ``.ci/run``) selects no marker, so they still run there.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The slow tests by module and function: benchmark smoke, new-project install, 500-example properties.
SLOW_TESTS = [
    ("tests.test_bench_smoke", "test_bench_run_prints_requests_overheads_and_style_ratios"),
    ("tests.test_new_project_install", "test_generated_project_installs_and_passes_its_tests_in_the_readme_venv"),
    ("tests.test_cookies", "test_dump_then_parse_round_trips"),
    ("tests.test_cookies", "test_parser_never_raises"),
]


def test_slow_is_a_registered_marker() -> None:
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert any(marker.startswith("slow:") for marker in ini["markers"])
    assert "-m" not in ini.get("addopts", "")  # the default run deselects nothing


@pytest.mark.parametrize(("module", "function"), SLOW_TESTS, ids=[f for _, f in SLOW_TESTS])
def test_slow_tests_carry_the_marker(module: str, function: str) -> None:
    test = getattr(importlib.import_module(module), function)
    marks = [*getattr(test, "pytestmark", []), *getattr(importlib.import_module(module), "pytestmark", [])]
    assert "slow" in {mark.name for mark in marks}
