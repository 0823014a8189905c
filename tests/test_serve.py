"""``patera run`` / ``patera.serve`` under a real hypercorn on loopback (SPEC §15.1).

Each server is a subprocess on a free 127.0.0.1 port; a test waits (bounded) until a
route answers, then stops it with SIGINT and checks the lifespan ran both ways.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from patera import serve
from patera.exceptions import MissingDependency

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

pytest.importorskip("hypercorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}


class PortTaken(Exception):
    """Another process bound the free port first; pick a new one."""


def _start(args: list[str], port: int, log: Path) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    """Start ``args`` and wait (bounded) until it answers HTTP on ``port``."""
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                text = log.read_text()
                if "address already in use" in text.lower():
                    raise PortTaken(port)
                raise AssertionError(f"server exited with {proc.returncode}:\n{text}")
            try:
                client.get("/api/v1/items")
                return proc, client
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"server not ready after {START_TIMEOUT}s:\n{log.read_text()}") from None
                time.sleep(0.05)
    except BaseException:
        client.close()
        _stop(proc)
        raise


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def server(make_args: Callable[[int], list[str]], log: Path) -> Iterator[httpx.Client]:
    """Serve on a free port (retried if another process takes it first), yield a client, stop with SIGINT."""
    for attempt in range(3):
        port = free_port()
        try:
            proc, client = _start(make_args(port), port, log)
            break
        except PortTaken:
            if attempt == 2:
                raise
    try:
        try:
            yield client
        finally:
            client.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(STOP_TIMEOUT) == 0, log.read_text()
    finally:
        _stop(proc)


def test_patera_run_serves_the_example_api(tmp_path: Path) -> None:
    env_file = tmp_path / "serve.env"
    log = tmp_path / "server.log"

    def args(port: int) -> list[str]:
        env_file.write_text(f"PORT={port}\nHOST=localhost\n")  # host/port come from the app config
        return [sys.executable, "-m", "patera.cli", "run", "--app", "examples.api.app:Application",
                "--env-file", str(env_file)]

    with server(args, log) as client:
        res = client.post("/api/v1/items", json={"name": "Lamp", "price": 12.5})
        assert res.status_code == 201
        assert res.headers["location"] == f"/api/v1/items/{res.json()['id']}"
        assert client.get(res.headers["location"]).json()["name"] == "Lamp"
        assert client.get("/static/readme.txt").text.startswith("Hello")
        assert "x-process-time-ms" in client.get("/api/v1/items/999").headers
        port = client.base_url.port
    text = log.read_text()
    assert f"on http://127.0.0.1:{port}" in text
    assert "Example API 1.0 started with 1 item(s)" in text
    assert '"POST /api/v1/items HTTP/1.1" 201' in text  # the app's access log
    assert "Example API stopped" in text  # lifespan shutdown ran on SIGINT


def test_run_with_workers_uses_hypercorns_process_runner(tmp_path: Path) -> None:
    log = tmp_path / "server.log"

    def args(port: int) -> list[str]:
        return [sys.executable, "-m", "patera.cli", "prod", "--app", "examples.api.app:Application",
                "--port", str(port), "--host", "127.0.0.1", "--workers", "2"]

    with server(args, log) as client:
        assert client.get("/api/v1/items").json()["total"] == 1
    assert "workers=2" in log.read_text()


def test_resolve_app_accepts_objects_classes_and_import_strings() -> None:
    from examples.api.app import Application

    instance = Application()
    assert serve.resolve_app(instance) is instance
    assert type(serve.resolve_app(Application)) is Application
    assert type(serve.resolve_app("examples.api.app:Application")) is Application


def test_run_option_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from patera.cli import main

    assert main(["run", "--app", "examples.api.app:Application", "--env-file", "/nonexistent/.env"]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["run", "--app", "examples.api.app:Application", "--workers", "0"]) == 2
    assert main(["run", "--port", "http"]) == 2


def test_missing_hypercorn_exits_1_naming_the_extra() -> None:
    probe = (
        "import sys; sys.modules['hypercorn'] = None\n"
        "from patera.cli import main\n"
        "raise SystemExit(main(['run', '--app', 'examples.api.app:Application']))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=_env(), capture_output=True, text=True,
                            timeout=START_TIMEOUT)
    assert result.returncode == 1
    assert 'pip install "patera[server]"' in result.stderr
    assert "Serving" not in result.stderr  # refused before importing or serving the app


def test_require_server_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hypercorn", None)
    with pytest.raises(MissingDependency, match=r"patera\[server\]") as info:
        serve.require_server()
    assert isinstance(info.value, ImportError)


def test_reload_and_workers_need_an_import_string() -> None:
    with pytest.raises(ValueError, match="import string"):
        serve.run(object(), reload=True)
    with pytest.raises(ValueError, match="import string"):
        serve.run(object(), workers=2)


def test_import_paths_for_hypercorn() -> None:
    assert serve.to_hypercorn_path("examples.api.app:Application") == "examples.api.app:Application()"
    assert serve.to_hypercorn_path("examples.hello.app:application") == "examples.hello.app:application"
    with pytest.raises(ValueError):
        serve.to_hypercorn_path("examples.api.app")


@pytest.mark.parametrize(
    ("host", "bind"),
    [("localhost", "127.0.0.1:80"), ("0.0.0.0", "0.0.0.0:80"), ("::1", "[::1]:80"), ("[::1]", "[::1]:80")],
)
def test_bind_address(host: str, bind: str) -> None:
    assert serve._bind(host, 80) == bind
