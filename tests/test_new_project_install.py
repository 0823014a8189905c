"""The newcomer's path, end to end (issue 13): the main README's install, then the generated README's.

A fresh virtualenv gets patera exactly as the README's Quickstart installs it
(``pip install -e ".[server]"`` in the clone); in it, ``patera new-project demo``,
``cd demo && pip install -e ".[dev]"`` and ``pytest`` must pass, and pip must keep the installed
patera rather than look for one on an index. pip fetches the other packages from the configured
index or its cache, so this is marked ``slow``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import patera

REPO = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = 600


def step(args: list[str | Path], cwd: Path) -> str:
    """One README command; returns its combined output, failing the test with it on error."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTHONHOME"}}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{output[-4000:]}"
    return output


@pytest.mark.slow
def test_generated_project_installs_and_passes_its_tests_in_the_readme_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    step([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    bin_dir = venv / "bin"
    step([bin_dir / "python", "-m", "pip", "install", "-q", "-e", f"{REPO}[server]"], cwd=REPO)  # main README

    step([bin_dir / "patera", "new-project", "demo"], cwd=tmp_path)
    demo = tmp_path / "demo"
    requirement = f"patera[server]>={patera.__version__}"
    assert f'dependencies = ["{requirement}"]' in (demo / "pyproject.toml").read_text(encoding="utf-8")
    readme = (demo / "README.md").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in readme

    installed = step([bin_dir / "python", "-m", "pip", "install", "-e", ".[dev]"], cwd=demo)  # generated README
    # pip kept the installed patera: it never downloaded or installed another one.
    assert "Requirement already satisfied: patera" in installed, installed
    assert "Downloading patera" not in installed, installed
    newly = next((line for line in installed.splitlines() if line.startswith("Successfully installed")), "")
    assert not any(name.startswith("patera-") for name in newly.split()[2:]), newly

    tests = step([bin_dir / "pytest", "-q", "-p", "no:cacheprovider"], cwd=demo)
    assert "1 passed" in tests, tests
