"""Serve one benchmark app with hypercorn or uvicorn on a loopback port, in this process.

``e2e.py`` and ``soak.py`` start this script as a child process, so the server is one
process whose pid is known (its RSS is read from ``/proc/<pid>/status``) and which stops
on SIGTERM (both servers shut down gracefully on it, running the lifespan shutdown).

    python bench/serve_app.py --app patera --server hypercorn --port 8001
    python bench/serve_app.py --app example --server uvicorn --port 8002

Apps: the ``build()`` of ``bench/apps/<name>_app.py`` (patera, raw, starlette, fastapi,
litestar), or ``example``: ``examples.api.app:Application`` plus one upload route used by
the soak (the example has none). Both servers run one worker, without access log; their
error log goes to stderr. The listen backlog is 2048 for both (uvicorn's default;
hypercorn's is 100, which makes 256 simultaneous connects wait for SYN retries).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

__all__ = ("APPS", "SERVERS", "load_app", "main")

APPS = ("patera", "raw", "starlette", "fastapi", "litestar", "example")
SERVERS = ("hypercorn", "uvicorn")
BACKLOG = 2048


def _example_app() -> Any:
    """The example API with a bench-only multipart route: ``POST /soak/upload``.

    The route reads the form fields and every file fully and answers their sizes, so the
    soak exercises the multipart parser and the spooled upload files (closed by patera
    after the response) against the real example application.
    """
    from examples.api.app import Application
    from patera import Request, Response
    from patera.controller import Controller, path, post

    @path("/soak")
    class SoakUpload(Controller):
        __patera_no_app_path__ = True

        @post("/upload")
        async def upload(self, req: Request) -> Response:
            form = await req.form()
            files = await req.files()
            sizes = {name: len(await upload.aread()) for name, upload in files.items()}
            return req.response.json({"fields": sorted(form), "sizes": sizes})

    # String annotations are resolved in the handler's module (this one).
    globals().update(Request=Request, Response=Response)
    application = Application()
    application.register_controller(SoakUpload)
    return application


def load_app(name: str) -> Any:
    """The ASGI app called ``name`` (see :data:`APPS`)."""
    if name == "example":
        return _example_app()
    return importlib.import_module(f"bench.apps.{name}_app").build()


def _serve_hypercorn(app: Any, host: str, port: int) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.backlog = BACKLOG
    config.graceful_timeout = 3
    asyncio.run(serve(app, config))  # stops on SIGINT/SIGTERM (hypercorn's own handlers)


def _serve_uvicorn(app: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning",
                backlog=BACKLOG, lifespan="on", timeout_graceful_shutdown=3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", choices=APPS, required=True)
    parser.add_argument("--server", choices=SERVERS, default="hypercorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("benchmarks listen on loopback only")
    app = load_app(args.app)
    if args.server == "hypercorn":
        _serve_hypercorn(app, args.host, args.port)
    else:
        _serve_uvicorn(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
