"""The SQL extension under a real server: outages answer 503 and recover; concurrent writers lose nothing.

Served by hypercorn on loopback; PostgreSQL is the throwaway cluster, stopped and started
again mid-test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from patera import Request, Response
from patera.controller import Controller, get, path, post
from patera.database.sql import AsyncSession, SqlDatabase
from patera.testing import PateraTestClient
from tests._servers import hypercorn_server
from tests._services import PostgresServer
from tests._sql import ENGINES, Counter, database_uri_for, make_sql_app, reset_schema

CONNECT_TIMEOUT = 1.0
UNAVAILABLE = {"status": "error", "message": "Database unavailable"}
#: a request must be answered within CONNECT_TIMEOUT (twice that for a pooled connection to a
#: frozen server: ping, then reconnect); the margin covers scheduling on a busy machine
DEADLINE = CONNECT_TIMEOUT * 2 + 4


def counter_api(db: SqlDatabase) -> list[type]:
    @path("/")
    class CounterApi(Controller):
        @get("/ping")
        async def ping(self, req: Request) -> Response:
            return req.response.json({"pong": True})

        @get("/counter/<int:counter_id>")
        @db.readonly_session
        async def read(self, req: Request, counter_id: int, session: AsyncSession) -> Response:
            counter = await Counter.query(session).filter_by(id=counter_id).one()
            return req.response.json({"value": counter.value})

        @post("/counter/<int:counter_id>/increment")
        @db.managed_session
        async def increment(self, req: Request, counter_id: int, session: AsyncSession) -> Response:
            # Read, yield to the other requests, then write: without a lock this loses updates.
            counter = await Counter.query(session).filter_by(id=counter_id).with_for_update().one()
            await asyncio.sleep(0)
            counter.value = counter.value + 1
            return req.response.json({"value": counter.value})

    return [CounterApi]


@contextlib.asynccontextmanager
async def serve(
    uri: str, connect_timeout: float = CONNECT_TIMEOUT,
) -> AsyncIterator[tuple[httpx.AsyncClient, SqlDatabase]]:
    app, db = make_sql_app(uri, counter_api, db_config={"CONNECT_TIMEOUT": connect_timeout})
    async with hypercorn_server(app) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=30,
    ) as client:
        yield client, db


async def seed_counter(db: SqlDatabase) -> None:
    await reset_schema(db)
    await db.execute_raw("INSERT INTO sqltest_counters (id, value) VALUES (1, 0)")


async def get_within_deadline(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    return await asyncio.wait_for(client.request(method, url), DEADLINE)


@pytest.fixture
def postgres(postgres_service: PostgresServer) -> AsyncIterator[PostgresServer]:
    """The shared cluster, guaranteed running again after an outage test."""
    yield postgres_service
    if postgres_service.proc is None:
        postgres_service.start()


async def test_postgres_outage_answers_503_and_recovers_without_restart(postgres: PostgresServer) -> None:
    async with serve(postgres.url("postgresql+asyncpg")) as (client, db):
        await seed_counter(db)
        assert (await client.post("/counter/1/increment")).json() == {"value": 1}

        await asyncio.to_thread(postgres.stop)
        try:
            for method, url in [("GET", "/counter/1"), ("POST", "/counter/1/increment"), ("GET", "/counter/1")]:
                res = await get_within_deadline(client, method, url)
                assert (res.status_code, res.json()) == (503, UNAVAILABLE)
            assert (await client.get("/ping")).status_code == 200  # the rest of the app keeps serving
            logged = [r for r in db.app.log_buffer.get_all() if "unavailable (" in r["message"]]
            assert [r["level"] for r in logged] == ["WARNING"]  # once per outage, not per request
        finally:
            await asyncio.to_thread(postgres.start)

        res = await get_within_deadline(client, "POST", "/counter/1/increment")
        assert (res.status_code, res.json()) == (200, {"value": 2})
        assert (await client.get("/counter/1")).json() == {"value": 2}


async def test_app_starts_while_postgres_is_down(postgres: PostgresServer) -> None:
    app, db = make_sql_app(postgres.url("postgresql+asyncpg"), counter_api,
                           db_config={"CONNECT_TIMEOUT": CONNECT_TIMEOUT})
    await asyncio.to_thread(postgres.stop)
    try:
        async with PateraTestClient(app) as client:  # startup must not fail
            warnings = [r["message"] for r in app.log_buffer.get_all() if r["level"] == "WARNING"]
            assert any("unreachable at startup" in m for m in warnings)
            res = await asyncio.wait_for(client.get("/counter/1"), DEADLINE)
            assert (res.status_code, res.json()) == (503, UNAVAILABLE)

            await asyncio.to_thread(postgres.start)
            await seed_counter(db)
            assert (await client.get("/counter/1")).json() == {"value": 0}
    finally:
        if postgres.proc is None:
            await asyncio.to_thread(postgres.start)


async def test_server_that_accepts_but_never_answers_is_unavailable() -> None:
    """A black hole (TCP accepted, no bytes back) must not hang the request."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    black_hole = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = black_hole.sockets[0].getsockname()[1]
    try:
        app, _db = make_sql_app(f"postgresql+asyncpg://user@127.0.0.1:{port}/db", counter_api,
                                db_config={"CONNECT_TIMEOUT": CONNECT_TIMEOUT})
        async with PateraTestClient(app) as client:
            res = await asyncio.wait_for(client.get("/counter/1"), DEADLINE)
            assert (res.status_code, res.json()) == (503, UNAVAILABLE)
    finally:
        for writer in held:
            writer.close()
        black_hole.close()
        await black_hole.wait_closed()


@pytest.mark.parametrize("engine", ENGINES)
async def test_200_concurrent_increments_lose_no_update(
    request: pytest.FixtureRequest, tmp_path: Path, engine: str,
) -> None:
    # The default CONNECT_TIMEOUT: 200 requests in one event loop delay every database reply,
    # and under load that lag must not be mistaken for an outage.
    async with serve(database_uri_for(request, tmp_path, engine), connect_timeout=5) as (client, db):
        await seed_counter(db)
        responses = await asyncio.gather(*(client.post("/counter/1/increment") for _ in range(200)))
        assert sorted(r.status_code for r in responses) == [200] * 200
        # every increment saw a distinct value, and the final count is exact
        assert sorted(r.json()["value"] for r in responses) == list(range(1, 201))
        assert (await client.get("/counter/1")).json() == {"value": 200}


def cluster_pids(server: PostgresServer) -> list[int]:
    """The postmaster and its children (backends, background workers)."""
    with open(os.path.join(server.data, "postmaster.pid")) as pidfile:
        postmaster = int(pidfile.readline())
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False)
    return [postmaster, *(int(pid) for pid in children.stdout.split())]


async def test_frozen_postgres_with_pooled_connections_is_unavailable(postgres: PostgresServer) -> None:
    """Processes stopped (SIGSTOP): pooled connections and new ones both go unanswered."""
    async with serve(postgres.url("postgresql+asyncpg")) as (client, db):
        await seed_counter(db)
        assert (await client.get("/counter/1")).json() == {"value": 0}  # the pool now holds a connection
        frozen = cluster_pids(postgres)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            res = await get_within_deadline(client, "GET", "/counter/1")
            assert (res.status_code, res.json()) == (503, UNAVAILABLE)
        finally:
            # NOTE: runuser stops itself when its child stops; wake it too or it never reaps it.
            for pid in [*frozen, *([postgres.proc.pid] if postgres.proc else [])]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
        res = await get_within_deadline(client, "POST", "/counter/1/increment")
        assert (res.status_code, res.json()) == (200, {"value": 1})
