"""Redis caching against a real ``redis-server``: outages mid-run, and two hypercorn workers sharing one cache."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patera import Request, Response
from patera.caching import Cache
from patera.controller import Controller, get, path
from patera.testing import PateraTestClient

from ._services import free_port
from .conftest import build_app

cache = Cache()
CALLS: list[int] = []


@path("/r")
class Report(Controller):
    @get("/report")
    @cache.cache(duration=60)
    async def report(self, req: Request) -> Response[Any]:
        CALLS.append(1)
        return req.response.json({"calls": len(CALLS)})


async def test_redis_outage_is_a_miss_and_recovers_without_restart(
    redis_service: Any, caplog_loguru: list[str]
) -> None:
    app = build_app(
        Report, CACHE={"BACKEND": "redis", "REDIS_URL": redis_service.url, "KEY_PREFIX": f"outage:{uuid.uuid4().hex}:"}
    )
    cache.init_app(app)
    CALLS.clear()
    try:
        async with PateraTestClient(app) as client:
            assert [(await client.get("/r/report")).json()["calls"] for _ in range(2)] == [1, 1]  # miss, then hit
            redis_service.stop()
            during = [await client.get("/r/report") for _ in range(3)]
            assert [(r.status_code, r.json()["calls"]) for r in during] == [(200, 2), (200, 3), (200, 4)]
            failures = [line for line in caplog_loguru if "Cache backend RedisCacheBackend failed" in line]
            assert len(failures) == 1 and failures[0].startswith("WARNING")
            redis_service.start()  # empty again: no persistence
            seen = [(await client.get("/r/report")).json()["calls"] for _ in range(4)]
            # the first request after the restart may still meet a dead pooled connection
            assert seen[0] == 5 and seen[-1] == seen[-2] <= 6, seen
    finally:
        if redis_service.proc is None:
            redis_service.start()
    assert sum("Cache backend RedisCacheBackend failed" in line for line in caplog_loguru) == 1


# --------------------------------------------------------------------------- scale-out

APP_MODULE = '''
    """One app, served by several hypercorn workers, caching in one Redis."""

    import os

    from patera import BaseConfig, Patera, Request, Response, app
    from patera.caching import Cache
    from patera.controller import Controller, after_request, get, path

    cache = Cache()


    @path("/")
    class Api(Controller):
        @get("/value/<name>")
        @cache.cache(duration=60)
        async def value(self, req: Request, name: str) -> Response:
            # the body remembers who computed it; the header says who served it
            return req.response.json({"name": name, "pid": os.getpid(), "nonce": os.urandom(8).hex()})

        @get("/clear")
        async def clear(self, req: Request) -> Response:
            await cache.clear()
            return req.response.json({"cleared_by": os.getpid()})

        @after_request
        async def served_by(self, res: Response) -> None:
            res.set_header("X-Served-By", str(os.getpid()))


    class Config(BaseConfig):
        APP_NAME: str = "scaleout"
        VERSION: str = "1"
        BASE_PATH: str = os.path.dirname(__file__)
        ACCESS_LOG: bool = False
        CACHE_BACKEND: str = "redis"
        CACHE_REDIS_URL: str = os.environ["SCALEOUT_REDIS_URL"]
        CACHE_KEY_PREFIX: str = os.environ["SCALEOUT_PREFIX"]
        EXTENSIONS: list[str] = ["scaleapp:cache"]
        CONTROLLERS: list[str] = ["scaleapp:Api"]


    @app(__name__, configs=Config)
    class Application(Patera):
        pass
'''
START_TIMEOUT = 60.0
MAX_REQUESTS = 300


def _get(port: int, target: str) -> tuple[int, dict[str, Any]]:
    """One request over a fresh connection (so the kernel may hand it to either worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target, headers={"Connection": "close"})
        response = conn.getresponse()
        body = json.loads(response.read())
        return int(response.getheader("X-Served-By") or 0), body
    finally:
        conn.close()


@pytest.fixture
def two_workers(redis_service: Any, tmp_path: Path) -> Iterator[int]:
    """``patera run --workers 2`` on a free port; the whole process group is killed afterwards."""
    (tmp_path / "scaleapp.py").write_text(textwrap.dedent(APP_MODULE))
    port = free_port()
    env = {
        **os.environ,
        "SCALEOUT_REDIS_URL": redis_service.url,
        "SCALEOUT_PREFIX": f"scaleout:{uuid.uuid4().hex}:",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "patera.cli",
        "run",
        "--app",
        "scaleapp:Application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"patera run exited with {proc.returncode}: {(tmp_path / 'server.log').read_text()[-2000:]}"
                )
            try:
                _get(port, "/clear")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("patera run --workers 2 did not answer in time")
                time.sleep(0.1)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the group we started: parent and its workers
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()


def test_two_workers_share_one_redis_cache(two_workers: int) -> None:
    port = two_workers
    first = _get(port, "/value/a")[1]
    assert set(first) == {"name", "pid", "nonce"}, first
    computed_by = first["pid"]
    served: set[int] = set()
    for _ in range(MAX_REQUESTS):
        server, body = _get(port, "/value/a")
        assert body == first  # every worker answers with the one stored entry
        served.add(server)
        if len(served) == 2:
            break
    assert len(served) == 2, "the kernel never handed a connection to the second worker"
    assert computed_by in served  # so the other pid served a hit it did not compute

    cleared_by = _get(port, "/clear")[1]["cleared_by"]
    assert cleared_by in served
    served_after: set[int] = set()
    fresh = None
    for _ in range(MAX_REQUESTS):
        server, body = _get(port, "/value/a")
        assert body["nonce"] != first["nonce"]  # neither worker still has the cleared entry
        fresh = fresh or body
        assert body == fresh  # and both share the entry stored after the clear
        served_after.add(server)
        if len(served_after) == 2:
            break
    assert served_after == served
