"""Every extra installs only what code under ``patera/`` uses (issue 13: dependency audits).

``pyproject.toml`` is read with ``tomllib``; each package of each runtime extra is mapped to its
import names through the installed distributions (``pip install -e ".[dev]"`` installs them all)
and must be imported by some module under ``patera/`` (the project template included). Two ways
of using a package without an ``import`` statement count as well, because the package is then
loaded by name: a pytest plugin (a ``pytest11`` entry point) when pytest itself is imported, and a
SQLAlchemy driver named in a ``dialect+driver://`` URL string.
"""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest

import patera

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(patera.__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]

#: Extras that aggregate others (``full``) or hold test-only oracles never imported by patera (``dev``).
NOT_RUNTIME = frozenset({"full", "dev"})

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = _NAME_RE.match(requirement)
    assert match is not None, requirement
    return normalise(match.group(1))


@cache
def import_names() -> dict[str, set[str]]:
    """Distribution name -> the top-level modules it installs."""
    names: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            names.setdefault(normalise(dist), set()).add(module)
    return names


@cache
def used_by_patera() -> tuple[frozenset[str], frozenset[str]]:
    """Top-level modules imported anywhere under patera/, and names patera loads by name.

    The second set holds the drivers named in ``a+b://`` strings and the distributions
    looked up with ``importlib.metadata.distribution("name")`` (data-only packages).
    """
    imported: set[str] = set()
    by_name: set[str] = set()
    sources = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.py-tpl")]
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                by_name.update(re.findall(r"\b[a-z0-9]+\+([a-z0-9_]+)://", node.value))
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) == "distribution"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                by_name.add(normalise(node.args[0].value))
    return frozenset(imported), frozenset(by_name)


def is_pytest_plugin(dist_name: str) -> bool:
    try:
        return any(ep.group == "pytest11" for ep in metadata.distribution(dist_name).entry_points)
    except metadata.PackageNotFoundError:
        return False


def runtime_cases() -> list[object]:
    cases = []
    for extra, requirements in sorted(EXTRAS.items()):
        if extra in NOT_RUNTIME:
            continue
        for requirement in requirements:
            name = requirement_name(requirement)
            if name == "patera":
                continue
            cases.append(pytest.param(extra, name, id=f"{extra}:{name}"))
    return cases


@pytest.mark.parametrize(("extra", "distribution"), runtime_cases())
def test_every_package_of_an_extra_is_used_under_patera(extra: str, distribution: str) -> None:
    modules = import_names().get(distribution)
    assert modules, f"{distribution} (extra {extra!r}) is not installed: pip install -e '.[dev]'"
    imported, by_name = used_by_patera()
    plugin = is_pytest_plugin(distribution) and "pytest" in imported
    used = bool(modules & imported) or bool(modules & by_name) or normalise(distribution) in by_name or plugin
    names = ", ".join(sorted(modules))
    assert used, f"extra {extra!r} installs {distribution} ({names}) but nothing under patera/ uses it"


def test_full_and_dev_include_every_runtime_extra() -> None:
    runtime = {extra for extra, requirements in EXTRAS.items() if extra not in NOT_RUNTIME and requirements}
    for aggregate in ("full", "dev"):
        included: set[str] = set()
        for requirement in EXTRAS[aggregate]:
            match = re.match(r"\s*patera\[([^\]]+)\]", requirement)
            if match:
                included.update(part.strip() for part in match.group(1).split(","))
        # "redis" is an alias of "cache" (same packages), so one of the two is enough.
        missing = runtime - included - ({"redis"} if "cache" in included else set())
        assert not missing, f"{aggregate} lacks {sorted(missing)}"


def test_package_data_points_at_files_that_exist() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["patera"]
    for pattern in patterns:
        assert list(PACKAGE.glob(pattern)), f"package-data {pattern!r} matches nothing"


def test_license_is_an_spdx_expression_with_its_file() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert metadata.metadata("patera")["License-Expression"] == "MIT"
