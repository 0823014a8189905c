"""Serve an app with hypercorn (``patera run``; SPEC §15.1) [extra:server].

hypercorn is imported only when serving, so ``import patera.serve`` stays cheap and the
core never depends on it. A single process serves the app object in-process; reload or
several workers need an import string, because hypercorn re-imports the app in each
spawned worker.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from typing import Any

from .exceptions import MissingDependency

__all__ = ("run", "require_server", "resolve_app", "to_hypercorn_path")  # noqa: RUF022


def require_server() -> Any:
    """The ``hypercorn`` module.

    Raises:
        MissingDependency: hypercorn is not installed (names ``patera[server]``).
    """
    try:
        import hypercorn
        import hypercorn.asyncio
        import hypercorn.config
    except ImportError as exc:
        raise MissingDependency("hypercorn", extra="server", feature="patera run") from exc
    return hypercorn


def _split(import_string: str) -> tuple[str, str]:
    module_name, sep, attr = import_string.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"app import string must look like 'module:Name', got {import_string!r}")
    return module_name, attr


def resolve_app(target: Any) -> Any:
    """``module:Name`` or an object → the ASGI app; a ``Patera`` subclass is instantiated."""
    from .app import Patera

    if isinstance(target, str):
        module_name, attr = _split(target)
        target = getattr(importlib.import_module(module_name), attr)
    if isinstance(target, type) and issubclass(target, Patera):
        return target()
    return target


def to_hypercorn_path(import_string: str) -> str:
    """hypercorn evaluates the part after ``:``; a ``Patera`` subclass becomes ``Name()``."""
    from .app import Patera

    module_name, attr = _split(import_string)
    obj = getattr(importlib.import_module(module_name), attr)
    if isinstance(obj, type) and issubclass(obj, Patera):
        return f"{module_name}:{attr}()"
    return import_string


def _bind(host: str, port: int) -> str:
    if host == "localhost":
        host = "127.0.0.1"  # NOTE: one concrete address, not whatever localhost resolves to first
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _run_workers(hypercorn_run: Any, config: Any) -> int:
    """hypercorn's multi-worker supervisor, keeping the status of a worker that failed.

    hypercorn stops every worker once one exits non-zero, but then reports the status of
    those it stopped, which is 0 when all of them had already died (e.g. startup failed
    everywhere). The first non-zero worker status is recorded and returned instead.
    """
    import hypercorn.run as supervisor

    join = getattr(supervisor, "_join_exited", None)
    failures: list[int] = []
    if join is not None:
        def recording_join(processes: Any) -> int:
            status = int(join(processes))
            if status != 0:
                failures.append(status)
            return status

        supervisor._join_exited = recording_join
    try:
        status = int(hypercorn_run(config))
    finally:
        if join is not None:
            supervisor._join_exited = join
    if not failures:
        return status
    first = failures[0]
    how = f"exited with status {first}" if first > 0 else f"was killed by signal {-first}"
    print(f"patera run: a worker {how} (its error is above); all workers were stopped",
          file=sys.stderr, flush=True)
    return first if first > 0 else 1


def run(
    app_or_import: Any,
    host: str = "127.0.0.1",
    port: int = 3000,
    reload: bool = False,
    workers: int = 1,
    *,
    access_log: bool = False,
) -> int:
    """Serve until SIGINT/SIGTERM, running lifespan startup and shutdown; returns the exit code.

    Args:
        app_or_import: the app object, a ``Patera`` subclass, or ``"module:Name"``.
        host, port: where to listen (``localhost`` binds 127.0.0.1).
        reload: restart when source files change (needs an import string).
        workers: worker processes (more than one needs an import string).
        access_log: hypercorn's own access log; off because the app writes one (SPEC §13.1).

    Raises:
        MissingDependency: hypercorn is not installed.
        ValueError: reload/workers requested for an app object, or a malformed import string.
    """
    hypercorn = require_server()
    config = hypercorn.config.Config()
    config.bind = [_bind(host, int(port))]
    config.accesslog = "-" if access_log else None
    config.errorlog = "-"
    config.graceful_timeout = 5
    workers = max(1, int(workers))
    if reload or workers > 1:
        if not isinstance(app_or_import, str):
            raise ValueError("reload and multiple workers need the app as an import string 'module:Name'")
        from hypercorn.run import run as hypercorn_run

        config.application_path = to_hypercorn_path(app_or_import)
        config.use_reloader = reload
        config.workers = workers
        # Spawned workers inherit the environment: extensions read how many siblings they have.
        os.environ["PATERA_WORKERS"] = str(workers)
        return _run_workers(hypercorn_run, config)
    application = resolve_app(app_or_import)
    try:
        asyncio.run(hypercorn.asyncio.serve(application, config))
    except KeyboardInterrupt:  # pragma: no cover - a second Ctrl+C during shutdown
        print("interrupted", file=sys.stderr)
        return 130
    return 0
