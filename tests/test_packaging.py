"""The core stays small: clean imports, relative imports only, vendorable under another name."""

from __future__ import annotations

import importlib
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import patera

PACKAGE = pathlib.Path(patera.__file__).parent
OPTIONAL = {"httpx", "hypercorn", "jinja2", "werkzeug", "multipart", "python_multipart", "starlette",
            "sqlalchemy", "anyio", "aiofiles", "uvicorn", "websockets", "redis"}


def test_import_loads_no_optional_package() -> None:
    probe = (
        "import sys, patera, patera.controller, patera.exceptions, patera.middleware, patera.logging;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {OPTIONAL!r}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_no_absolute_self_imports() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+patera(\.|\s|$)", re.MULTILINE)
    offenders = [str(p) for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_public_names() -> None:
    names = ["Patera", "app", "app_path", "on_startup", "on_shutdown", "Request", "Response", "UploadedFile",
             "HttpStatus", "HttpMethod", "MediaType", "abort", "html_abort", "BaseConfig", "BaseExtension",
             "MiddlewareBase", "LogLevel", "run_sync_or_async", "run_in_background", "MissingDependency"]
    assert all(hasattr(patera, name) for name in names)
    alias = importlib.import_module("patera.exception")
    assert alias.NotFound is importlib.import_module("patera.exceptions").NotFound


def test_vendored_copy_serves_a_request(tmp_path: pathlib.Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "vendored_x", ignore=shutil.ignore_patterns("__pycache__"))
    script = textwrap.dedent(
        """
        import asyncio, sys
        import vendored_x
        from vendored_x import Patera, app, BaseConfig
        from vendored_x.controller import Controller, path, get

        class Config(BaseConfig):
            APP_NAME: str = "v"
            VERSION: str = "1"
            BASE_PATH: str = "."
            ACCESS_LOG: bool = False

        @path("/")
        class Hello(Controller):
            @get("/<int:n>")
            async def hello(self, req, n: int):
                return req.response.json({"n": n})

        @app(__name__, configs=Config)
        class App(Patera):
            pass

        async def main():
            instance = App()
            instance.register_controller(Hello)
            sent = []
            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}
            async def send(message):
                sent.append(message)
            scope = {"type": "http", "method": "GET", "path": "/41", "query_string": b"", "headers": [],
                     "scheme": "http", "http_version": "1.1"}
            await instance(scope, receive, send)
            print(sent[0]["status"], sent[1]["body"].decode())
            assert "patera" not in sys.modules

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == '200 {"n":41}'
