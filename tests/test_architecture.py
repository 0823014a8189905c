"""The import layers of ARCHITECTURE.md, enforced.

A module may import modules of its own layer or lower ones, never an upper one; the
core never imports an extension subpackage, and imports no third-party package beyond
its two dependencies except lazily with ``MissingDependency`` (templates, server,
testing). Imports under ``if TYPE_CHECKING:`` are annotations only and do not count.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "patera"

#: Layer of every core module, lowest first (ARCHITECTURE.md, "Import layers").
LAYERS: dict[str, int] = {
    # 0 foundations: no patera imports beyond this layer
    **dict.fromkeys(
        [
            "exceptions", "exception", "http_statuses", "media_types", "_types", "datastructures", "_limits",
            "_background", "_dotenv", "_log_buffer", "uploads", "_converters", "_cookies", "_header_params",
            "_text", "_sinks", "_swagger_assets", "_app_like",
        ],
        0,
    ),
    # 1 pure parsers, policies and declarations
    **dict.fromkeys(
        [
            "_router", "_cors", "_urlencoded", "_multipart", "_multipart_stream", "config", "extension",
            "controller", "controller.controller", "controller.decorators", "cli._controllers",
        ],
        1,
    ),
    # 2 the request and response objects
    **dict.fromkeys(["request", "response", "_templates", "middleware", "logging"], 2),
    # 3 endpoints: the endpoint wrapper and the framework's own handlers
    **dict.fromkeys(["_dispatch", "static", "openapi", "websockets"], 3),
    # 4 the chain layers and their composition
    **dict.fromkeys(["_routing_outcome", "_cors_layer", "_error_boundary", "_chain"], 4),
    # 5 the ASGI entry and the application
    **dict.fromkeys(["_asgi", "app", "serve", "__init__"], 5),
    # 6 tools built on the application
    **dict.fromkeys(
        ["cli", "cli.__main__", "cli._main", "cli._project", "testing", "testing.client"], 6
    ),
}
#: Third-party packages the core may import at module level (SPEC §0: pydantic and loguru).
CORE_DEPENDENCIES = {"pydantic", "pydantic_core", "loguru", "typing_extensions"}
#: Optional packages and where they may be imported (lazily, or by the extra's own module).
OPTIONAL_ALLOWED = {"jinja2": {"_templates"}, "hypercorn": {"serve"}, "httpx": {"testing.client"},
}
CORE_SUBPACKAGES = {"controller", "cli", "testing", "project_template"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _core_modules() -> list[Path]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        if len(path.relative_to(PACKAGE).parts) > 1 and top not in CORE_SUBPACKAGES:
            continue  # an extension subpackage
        if top == "project_template":
            continue
        found.append(path)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[ast.stmt, bool]]:
    """Import statements outside ``if TYPE_CHECKING:``, each with whether it is at module level."""
    found: list[tuple[ast.stmt, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit_stmt(sub, top)
                continue
            visit_stmt(child, top)

    def visit_stmt(child: ast.AST, top: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append((child, top))
        nested = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try))
        visit(child, nested)

    visit(tree, True)
    return found


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """Absolute (package-relative) names a relative ``from`` import refers to."""
    base = module.split(".")
    is_package = module == "__init__" or (PACKAGE / Path(*base) / "__init__.py").exists()
    if module == "__init__":
        base = []
    anchor = base if is_package else base[:-1]
    if node.level > 1:
        anchor = anchor[: len(anchor) - (node.level - 1)]
    target = [*anchor, *(node.module.split(".") if node.module else [])]
    if node.module:
        return [".".join(target)]
    return [".".join([*target, alias.name]) for alias in node.names]


def _edges() -> list[tuple[str, str, str | None, bool]]:
    """(module, imported patera module or "", third-party top-level name or None, at module level)."""
    edges = []
    for path in _core_modules():
        module = _module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        for node, top in _imports(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                for target in _resolve(module, node):
                    edges.append((module, target, None, top))
            else:
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for name in names:
                    assert name is not None
                    root = name.split(".")[0]
                    if root == "patera":
                        pytest.fail(f"{module}: absolute import of {name} (internal imports are relative)")
                    edges.append((module, "", root, top))
    return edges


def _layer(target: str) -> int | None:
    while target:
        if target in LAYERS:
            return LAYERS[target]
        target = target.rpartition(".")[0]
    return None


def test_every_core_module_has_a_layer() -> None:
    missing = sorted(_module_name(p) for p in _core_modules() if _module_name(p) not in LAYERS)
    assert missing == [], f"add these modules to LAYERS and ARCHITECTURE.md: {missing}"


def test_no_module_imports_an_upper_layer() -> None:
    upward = []
    for module, target, _, _ in _edges():
        if not target:
            continue
        if target.split(".")[0] not in CORE_SUBPACKAGES and (PACKAGE / target.split(".")[0]).is_dir():
            upward.append(f"{module} imports the extension subpackage {target}")
            continue
        layer = _layer(target)
        if layer is None:
            continue  # a name imported from a module (``from . import app``): checked via its module
        if layer > LAYERS[module]:
            upward.append(f"{module} (layer {LAYERS[module]}) imports {target} (layer {layer})")
    assert upward == []


def test_the_core_imports_no_optional_dependency() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    offending = []
    for module, _, package, top in _edges():
        if package is None or package in stdlib or package in CORE_DEPENDENCIES:
            continue
        if module in OPTIONAL_ALLOWED.get(package, set()):
            continue
        offending.append(f"{module} imports {package}" + (" at module level" if top else " lazily"))
    assert offending == []


def test_the_checker_sees_a_violation() -> None:
    """The rules above are not vacuous: an upward import and an optional import are caught."""
    tree = ast.parse("from ._asgi import ASGIHandler\nimport jinja2\nif TYPE_CHECKING:\n    from .app import Patera\n")
    found = _imports(tree)
    assert [type(n).__name__ for n, _ in found] == ["ImportFrom", "Import"]
    first = found[0][0]
    assert isinstance(first, ast.ImportFrom)
    assert _layer(_resolve("request", first)[0]) == 5 > LAYERS["request"]
