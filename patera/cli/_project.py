"""``patera new-project``: copy the bundled project template (SPEC §15.1).

Template files are stored as ``*.py-tpl`` and ``dot-*`` so that the package's own tools
(import checks, pytest collection, byte-compilation, setuptools' glob that skips dotfiles)
leave them alone; the real names are restored on copy.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import __version__

__all__ = (
    "PLACEHOLDER",
    "TEMPLATE_DIR",
    "VERSION_PLACEHOLDER",
    "ProjectError",
    "create_project",
    "template_files",
    "valid_project_name",
)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "project_template"
PLACEHOLDER = "__PROJECT_NAME__"
#: Replaced by the generating patera's version: generated projects require at least that release.
VERSION_PLACEHOLDER = "__PATERA_VERSION__"
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_SKIP_PARTS = {"__pycache__", ".pytest_cache"}


class ProjectError(Exception):
    """The project cannot be created here; the message says why."""


def valid_project_name(name: str) -> bool:
    """A plain directory name: letters, digits, ``_ . -``; no path separators."""
    return bool(_NAME_RE.match(name)) and name not in (".", "..")


def _target_name(relative: Path) -> Path:
    parts = []
    for part in relative.parts:
        if part.endswith("-tpl"):
            part = part[: -len("-tpl")]
        if part.startswith("dot-"):
            part = "." + part[len("dot-"):]
        parts.append(part)
    return Path(*parts)


def template_files() -> list[tuple[Path, Path]]:
    """``(source, relative destination)`` for every template file, sorted."""
    if not TEMPLATE_DIR.is_dir():
        raise ProjectError(f"project template not found at {TEMPLATE_DIR} (broken installation?)")
    found = []
    for source in sorted(TEMPLATE_DIR.rglob("*")):
        relative = source.relative_to(TEMPLATE_DIR)
        if source.is_dir() or _SKIP_PARTS.intersection(relative.parts) or source.suffix == ".pyc":
            continue
        found.append((source, _target_name(relative)))
    return found


def create_project(target: Path, name: str, *, force: bool = False) -> list[Path]:
    """Write the template into ``target`` with ``name`` filled in; returns the files written.

    Raises:
        ProjectError: ``target`` is a file, or a non-empty directory and ``force`` is false.
    """
    if target.exists() and not target.is_dir():
        raise ProjectError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ProjectError(f"{target} is not empty; use --force to write the template into it anyway")
    files = template_files()
    written = []
    for source, relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8").replace(PLACEHOLDER, name).replace(VERSION_PLACEHOLDER, __version__)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    return written
