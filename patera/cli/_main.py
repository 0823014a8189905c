"""The ``patera`` command (SPEC §15.1): new-project, run/dev/prod, routes.

Only the standard library and patera's own modules are imported here; ``run`` loads
hypercorn through :mod:`patera.serve` and fails with exit status 1 when it is missing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import __version__
from .._dotenv import read_dotenv
from ..exceptions import MissingDependency
from ._project import ProjectError, create_project, valid_project_name

__all__ = ("DISCOVERY_FILES", "CommandError", "build_parser", "discover_app", "load_env", "main")

#: Files tried by app discovery, first inside ``./app``, then in the working directory.
DISCOVERY_FILES = ("__init__.py", "app.py", "main.py", "server.py", "run.py", "application.py")
_DEFAULT_ENV_FILES = (".env", ".env.dev", ".env.prod")
_TRUTHY = frozenset({"1", "true", "yes", "on"})
_VERBOSE_HELP = "show the traceback when the app cannot be imported (also when DEBUG is set)"
_METHOD_ORDER = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))}


class CommandError(Exception):
    """A user-facing failure: the message is printed and the command exits with ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patera", description="Patera command line tools.")
    parser.add_argument("--version", action="version", version=f"patera {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    new = sub.add_parser("new-project", help="create a project from the bundled template")
    new.add_argument("project", nargs="?", metavar="NAME", help="project (and directory) name")
    new.add_argument("--name", dest="name", help="project name (same as the positional NAME)")
    new.add_argument("--force", action="store_true", help="write into a non-empty directory")

    serve_options = argparse.ArgumentParser(add_help=False)
    serve_options.add_argument("--app", metavar="IMPORT", help="'module:ClassOrInstance' (default: discovered)")
    serve_options.add_argument("--host", help="bind address (default: the app's HOST)")
    serve_options.add_argument("--port", type=int, help="bind port (default: the app's PORT)")
    serve_options.add_argument("--env-file", metavar="F", help="load variables from F (existing ones win)")
    serve_options.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    serve_options.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
    reload_option = argparse.ArgumentParser(add_help=False)
    reload_option.add_argument("--reload", action="store_true", help="restart when source files change")

    sub.add_parser("run", parents=[serve_options, reload_option], help="serve the app with hypercorn")
    sub.add_parser("dev", parents=[serve_options], help="alias of 'run --reload'")
    sub.add_parser("prod", parents=[serve_options, reload_option], help="alias of 'run'")

    routes = sub.add_parser("routes", help="list the app's routes")
    routes.add_argument("--app", metavar="IMPORT", help="'module:ClassOrInstance' (default: discovered)")
    routes.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``patera`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # -h (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {"new-project": _new_project, "run": _run, "dev": _run, "prod": _run, "routes": _routes}
    try:
        return handlers[args.command](args)
    except CommandError as exc:
        print(f"patera {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------------- new-project


def _new_project(args: argparse.Namespace) -> int:
    if args.project and args.name and args.project != args.name:
        raise CommandError(f"two different names given: {args.project!r} and --name {args.name!r}", 2)
    name = args.name or args.project
    if not name:
        if not sys.stdin.isatty():
            raise CommandError("no project name given and stdin is not a terminal; pass --name NAME", 2)
        try:
            name = input("Project name: ").strip()
        except EOFError:
            raise CommandError("no project name given", 2) from None
    if not valid_project_name(name):
        raise CommandError(f"invalid project name {name!r}: use letters, digits, '_', '.' or '-'", 2)
    target = Path.cwd() / name
    try:
        written = create_project(target, name, force=args.force)
    except ProjectError as exc:
        raise CommandError(str(exc)) from None
    print(f"Created project {name!r} in {target} ({len(written)} files).")
    print(f"Next: cd {name} && pip install -e \".[dev]\" && pytest   (then: cp .env.example .env && patera run)")
    return 0


# ---------------------------------------------------------------------- app loading


def load_env(env_file: str | None, cwd: Path) -> Path | None:
    """Copy an env file into ``os.environ`` without overriding variables already set.

    Without ``env_file`` the first of ``.env``, ``.env.dev``, ``.env.prod`` in ``cwd`` is used.
    """
    if env_file is not None:
        path = Path(env_file)
        if not path.is_file():
            raise CommandError(f"env file {env_file!r} not found")
    else:
        found = next((cwd / n for n in _DEFAULT_ENV_FILES if (cwd / n).is_file()), None)
        if found is None:
            return None
        path = found
    for key, value in read_dotenv(path).items():
        os.environ.setdefault(key, value)
    return path


def _ensure_importable(cwd: Path) -> None:
    # NOTE: console scripts put their bin/ directory on sys.path, not the working directory.
    entry = str(cwd)
    if entry not in sys.path and os.path.abspath(entry) not in {os.path.abspath(p or ".") for p in sys.path}:
        sys.path.insert(0, entry)


def _debug_requested() -> bool:
    """``DEBUG`` set truthy in the environment (or the loaded ``.env``)."""
    return os.environ.get("DEBUG", "").strip().lower() in _TRUTHY


def _import(module_name: str, verbose: bool = False) -> ModuleType:
    """Import user code; a failure is one line, plus the traceback with --verbose or DEBUG."""
    try:
        return importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - user code may raise anything while importing
        if verbose or _debug_requested():
            traceback.print_exc()
        raise CommandError(f"could not import {module_name!r}: {type(exc).__name__}: {exc}") from None


def _app_class_in(module: ModuleType) -> str | None:
    from ..app import Patera

    for name, obj in vars(module).items():
        if (
            isinstance(obj, type)
            and issubclass(obj, Patera)
            and obj is not Patera
            and obj.__module__ == module.__name__
            and hasattr(obj, "__patera_app__")
        ):
            return name
    return None


def discover_app(cwd: Path, verbose: bool = False) -> str:
    """``module:Class`` of the first ``Patera`` subclass defined in a discovery file."""
    _ensure_importable(cwd)
    candidates: list[tuple[Path, str]] = []
    for filename in DISCOVERY_FILES:
        stem = filename[:-3]
        candidates.append((cwd / "app" / filename, "app" if stem == "__init__" else f"app.{stem}"))
    candidates += [(cwd / f, f[:-3]) for f in DISCOVERY_FILES if f != "__init__.py"]
    tried = []
    for path, module_name in candidates:
        if not path.is_file():
            continue
        tried.append(str(path.relative_to(cwd)))
        found = _app_class_in(_import(module_name, verbose))
        if found is not None:
            return f"{module_name}:{found}"
    where = f" (looked in {', '.join(tried)})" if tried else ""
    raise CommandError(f"no Patera application found in ./app or {cwd}{where}; pass --app module:Name")


def _resolve_target(app_option: str | None, cwd: Path, verbose: bool = False) -> tuple[str, Any]:
    if app_option is None:
        import_string = discover_app(cwd, verbose)
    else:
        _ensure_importable(cwd)
        import_string = app_option
    module_name, sep, attr = import_string.partition(":")
    if not sep or not module_name or not attr.isidentifier():
        raise CommandError(f"--app must look like 'module:ClassOrInstance', got {import_string!r}", 2)
    module = _import(module_name, verbose)
    try:
        return import_string, getattr(module, attr)
    except AttributeError:
        raise CommandError(f"module {module_name!r} has no attribute {attr!r}") from None


def _address(obj: Any) -> tuple[str, int]:
    """HOST/PORT from the app's configuration without building an app instance."""
    from ..app import Patera
    from ..config import load_config

    if isinstance(obj, Patera):
        host, port = obj.get_conf("HOST"), obj.get_conf("PORT")
    elif isinstance(obj, type) and issubclass(obj, Patera) and hasattr(obj, "__patera_app__"):
        try:
            config = load_config(obj.__patera_app__[1])
        except Exception as exc:  # noqa: BLE001 - user configuration code
            raise CommandError(str(exc)) from None
        host, port = getattr(config, "HOST", None), getattr(config, "PORT", None)
    else:
        host, port = None, None
    host = str(host or "127.0.0.1")
    return ("127.0.0.1" if host == "localhost" else host), int(port or 3000)


def _instantiate(obj: Any) -> Any:
    from ..app import Patera

    if isinstance(obj, type) and issubclass(obj, Patera):
        try:
            return obj()
        except Exception as exc:  # noqa: BLE001 - user code in the app's constructor
            raise CommandError(f"could not create the application: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, Patera):
        raise CommandError(f"{obj!r} is not a Patera application")
    return obj


# ---------------------------------------------------------------------- run / dev / prod


def _run(args: argparse.Namespace) -> int:
    from .. import serve

    if args.workers < 1:
        raise CommandError("--workers must be at least 1", 2)
    try:
        serve.require_server()
    except MissingDependency as exc:
        raise CommandError(str(exc)) from None
    cwd = Path.cwd()
    load_env(args.env_file, cwd)
    import_string, obj = _resolve_target(args.app, cwd, args.verbose)
    host, port = _address(obj)
    host = args.host or host
    host = "127.0.0.1" if host == "localhost" else host
    port = args.port if args.port is not None else port
    reload = args.command == "dev" or getattr(args, "reload", False)
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving {import_string} on http://{shown}:{port} (reload={'on' if reload else 'off'}, "
          f"workers={args.workers}); Ctrl+C to stop", file=sys.stderr, flush=True)
    try:
        return serve.run(import_string, host=host, port=port, reload=reload, workers=args.workers)
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from None


# ---------------------------------------------------------------------- routes


def route_rows(application: Any) -> list[tuple[str, str, str]]:
    """``(methods, rule, endpoint)`` for every HTTP and WebSocket rule, sorted by rule."""
    application.build()
    rows = []
    for rule in application.router.rules:
        methods = ",".join(sorted(rule.methods, key=lambda m: (_METHOD_ORDER.get(m, 99), m)))
        rows.append((methods, rule.rule, rule.name))
    rows += [("WS", rule.rule, rule.name) for rule in application.websocket_router.rules]
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


def _routes(args: argparse.Namespace) -> int:
    cwd = Path.cwd()
    load_env(None, cwd)
    _, obj = _resolve_target(args.app, cwd, args.verbose)
    rows = route_rows(_instantiate(obj))
    if not rows:
        print("(no routes)")
        return 0
    width_m = max(len(r[0]) for r in rows)
    width_r = max(len(r[1]) for r in rows)
    for methods, rule, endpoint in rows:
        print(f"{methods:<{width_m}}  {rule:<{width_r}}  {endpoint}")
    return 0
