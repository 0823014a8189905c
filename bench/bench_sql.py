"""Per-request cost of the SQL extension: a GET that reads one row through ``managed_session``.

Every case runs the same SQLAlchemy work on the same engine (the one ``SqlDatabase`` builds:
``pool_pre_ping=True``, sessions with ``expire_on_commit=False, autoflush=False``): open a
session, ``SELECT`` one row by primary key, commit, close, answer ``{"id", "name"}`` as JSON.

| case | what runs |
| --- | --- |
| ``sqlalchemy`` | that work alone, no HTTP: SQLAlchemy's own cost (the baseline) |
| ``raw-asgi`` | a hand-written ASGI app doing that work |
| ``starlette`` | a Starlette route doing that work (only if Starlette is importable, e.g. bench/.venv) |
| ``patera-manual`` | a patera handler doing that work by hand (``db.create_session()``) |
| ``patera-managed`` | a patera handler with ``@db.managed_session`` and the same statement |
| ``patera-plain-nodb`` / ``patera-managed-nodb`` | a handler that answers without touching the database,
  without / with ``@db.managed_session``: the decorator's own work, free of database noise |
| ``patera-managed-built`` | ``@db.managed_session``, building ``select(Item).filter_by(id=…).limit(1)`` per request |
| ``patera-managed-query`` | ``@db.managed_session`` with ``Item.query(session).filter_by(id=…).first()`` (same SQL) |
| ``patera-readonly`` | ``@db.readonly_session`` and the same statement |

Apps are called in process (``await app(scope, receive, send)``), no sockets, so the
figures are framework + extension + SQLAlchemy + driver. The default clock is this process's
CPU time (every thread, so aiosqlite's worker threads count; the PostgreSQL server's work
does not), which stays meaningful on a shared, busy machine; ``--clock wall`` for elapsed time.
Cases are interleaved round by round (in a shuffled order) and the per-request median of the rounds is reported.

The extension's overhead is ``patera-managed − patera-manual`` (what the decorator adds to a
handler that does the same thing by hand), shown as a share of ``sqlalchemy``; AsyncQuery's
is ``patera-managed-query − patera-managed-built`` (building a statement per request costs the
same with or without it).

Runs with the project venv (raw ASGI only). For the Starlette row use a bench venv, e.g.
``python3 -m venv bench/.venv && bench/.venv/bin/pip install -e ".[database]" starlette pytest``
(pytest because the throwaway PostgreSQL comes from ``tests/_services.py``).

    python bench/bench_sql.py                         # SQLite and a throwaway PostgreSQL
    python bench/bench_sql.py --engines sqlite --rounds 9 --requests 1000
    python bench/bench_sql.py --pg-url postgresql+asyncpg://user@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from patera import BaseConfig, Patera, Request, Response, app
from patera.controller import Controller, get, path
from patera.database import create_declarative_base
from patera.database.sql import AsyncSession, SqlDatabase

Base = create_declarative_base("db")


class Item(Base):
    __tablename__ = "bench_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


STMT = select(Item).where(Item.id == 1)
EXPECTED = b'{"id":1,"name":"bench"}'


def as_json(item: Item) -> dict[str, Any]:
    return {"id": item.id, "name": item.name}


# --------------------------------------------------------------------------- the apps


def build_patera(uri: str) -> tuple[Patera, SqlDatabase]:
    class Config(BaseConfig):
        APP_NAME: str = "bench"
        VERSION: str = "1"
        BASE_PATH: str = "."
        DEBUG: bool = False
        ACCESS_LOG: bool = False
        CORS_ENABLED: bool = False
        SQL_DATABASE: dict[str, Any] = {"DATABASE_URI": uri}

    @app(__name__, configs=Config)
    class BenchApp(Patera):
        pass

    instance = BenchApp()
    db = SqlDatabase()
    db.init_app(instance)

    @path("/")
    class ItemApi(Controller):
        @get("/manual")
        async def manual(self, req: Request) -> Response:
            async with db.create_session() as session:
                item = (await session.execute(STMT)).scalar_one()
                await session.commit()
            return req.response.json(as_json(item))

        @get("/managed")
        @db.managed_session
        async def managed(self, req: Request, session: AsyncSession) -> Response:
            item = (await session.execute(STMT)).scalar_one()
            return req.response.json(as_json(item))

        @get("/plain-nodb")
        async def plain_nodb(self, req: Request) -> Response:
            return req.response.json({"id": 1, "name": "bench"})

        @get("/managed-nodb")
        @db.managed_session
        async def managed_nodb(self, req: Request, session: AsyncSession) -> Response:
            return req.response.json({"id": 1, "name": "bench"})

        @get("/managed-built")
        @db.managed_session
        async def managed_built(self, req: Request, session: AsyncSession) -> Response:
            stmt = select(Item).filter_by(id=1).limit(1)  # what AsyncQuery builds, by hand
            item = (await session.execute(stmt)).scalars().first()
            assert item is not None
            return req.response.json(as_json(item))

        @get("/managed-query")
        @db.managed_session
        async def managed_query(self, req: Request, session: AsyncSession) -> Response:
            item = await Item.query(session).filter_by(id=1).first()
            assert item is not None
            return req.response.json(as_json(item))

        @get("/readonly")
        @db.readonly_session
        async def readonly(self, req: Request, session: AsyncSession) -> Response:
            item = (await session.execute(STMT)).scalar_one()
            return req.response.json(as_json(item))

    instance.register_controller(ItemApi)
    return instance, db


def build_raw(db: SqlDatabase) -> Callable[..., Awaitable[None]]:
    headers = [(b"content-type", b"application/json")]

    async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async with db.create_session() as session:
            item = (await session.execute(STMT)).scalar_one()
            await session.commit()
        body = json.dumps(as_json(item), separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return raw_app


def build_starlette(db: SqlDatabase) -> Callable[..., Awaitable[None]] | None:
    try:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ImportError:
        return None

    async def item(request: Any) -> Any:
        async with db.create_session() as session:
            row = (await session.execute(STMT)).scalar_one()
            await session.commit()
        return JSONResponse(as_json(row))

    return Starlette(routes=[Route("/managed", item)])  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- driving


def scope_for(target: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": target, "raw_path": target.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80),
    }


async def call_asgi(asgi: Any, target: str, n: int) -> None:
    scope = scope_for(target)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    for _ in range(n):
        status: list[int] = []
        body: list[bytes] = []

        async def send(message: dict[str, Any], status: list[int] = status, body: list[bytes] = body) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            else:
                body.append(message.get("body", b""))

        await asgi(scope, receive, send)
        if status != [200] or json.loads(b"".join(body)) != json.loads(EXPECTED):
            raise RuntimeError(f"{target}: unexpected answer {status} {b''.join(body)[:200]!r}")


async def sqlalchemy_only(db: SqlDatabase, n: int) -> None:
    for _ in range(n):
        async with db.create_session() as session:
            item = (await session.execute(STMT)).scalar_one()
            await session.commit()
        json.dumps(as_json(item), separators=(",", ":")).encode()


async def bench_engine(
    label: str, uri: str, rounds: int, requests: int, clock: Callable[[], float],
) -> dict[str, float]:
    patera_app, db = build_patera(uri)
    await patera_app.startup()
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        async with db.create_session() as session:
            session.add(Item(id=1, name="bench"))
            await session.commit()
        raw = build_raw(db)
        cases: dict[str, Callable[[int], Awaitable[None]]] = {
            "sqlalchemy": lambda n: sqlalchemy_only(db, n),
            "raw-asgi": lambda n: call_asgi(raw, "/managed", n),
            "patera-manual": lambda n: call_asgi(patera_app, "/manual", n),
            "patera-managed": lambda n: call_asgi(patera_app, "/managed", n),
            "patera-plain-nodb": lambda n: call_asgi(patera_app, "/plain-nodb", n),
            "patera-managed-nodb": lambda n: call_asgi(patera_app, "/managed-nodb", n),
            "patera-managed-built": lambda n: call_asgi(patera_app, "/managed-built", n),
            "patera-managed-query": lambda n: call_asgi(patera_app, "/managed-query", n),
            "patera-readonly": lambda n: call_asgi(patera_app, "/readonly", n),
        }
        starlette = build_starlette(db)
        if starlette is not None:
            cases["starlette"] = lambda n: call_asgi(starlette, "/managed", n)
        else:
            print("  (starlette not importable here: compared against raw ASGI only)", file=sys.stderr)
        for run in cases.values():  # warm up pools, caches, statement compilation
            await run(max(requests // 10, 20))
        samples: dict[str, list[float]] = {name: [] for name in cases}
        order = list(cases.items())
        shuffler = random.Random(0)
        for _ in range(rounds):
            shuffler.shuffle(order)  # no case always runs right after the same neighbour
            for name, run in order:
                start = clock()
                await run(requests)
                samples[name].append((clock() - start) / requests * 1e6)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        report(label, medians, samples)
        return medians
    finally:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
        await patera_app.shutdown()


def report(label: str, medians: dict[str, float], samples: dict[str, list[float]]) -> None:
    base = medians["sqlalchemy"]
    print(f"\n{label}: µs per request (median of rounds; min–max in brackets)")
    for name, value in medians.items():
        spread = f"[{min(samples[name]):.0f}–{max(samples[name]):.0f}]"
        print(f"  {name:22} {value:8.1f} {spread:>14}   {value / base * 100:6.1f}% of sqlalchemy")
    ext = medians["patera-managed"] - medians["patera-manual"]
    print(f"  managed_session overhead (patera-managed − patera-manual): {ext:+.1f} µs = {ext / base * 100:+.1f}% "
          "of SQLAlchemy's own cost")
    own = medians["patera-managed-nodb"] - medians["patera-plain-nodb"]
    print(f"  managed_session's own work (patera-managed-nodb − patera-plain-nodb: wrapper, session object, "
          f"commit and close of a session that did no I/O): {own:+.1f} µs = {own / base * 100:+.1f}%")
    query = medians["patera-managed-query"] - medians["patera-managed-built"]
    print(f"  AsyncQuery overhead (patera-managed-query − patera-managed-built): {query:+.1f} µs = "
          f"{query / base * 100:+.1f}%")
    for peer in ("raw-asgi", "starlette"):
        if peer in medians:
            diff = medians["patera-managed"] - medians[peer]
            print(f"  patera-managed − {peer}: {diff:+.1f} µs per request ({diff / medians[peer] * 100:+.1f}%)")


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from tests._services import postgres_server  # a throwaway cluster, as the tests use

    with postgres_server() as server:
        yield server.url("postgresql+asyncpg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500, help="requests per case per round")
    parser.add_argument("--pg-url", default=None, help="use this PostgreSQL instead of starting one")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu: this process's CPU time (all threads; robust on a busy machine, excludes the "
                             "PostgreSQL server's work); wall: elapsed time")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"clock: {args.clock}; {args.rounds} rounds x {args.requests} requests per case")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    from loguru import logger

    logger.remove()  # the app's startup lines would interleave with the table
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(bench_engine("SQLite (aiosqlite, file)", f"sqlite+aiosqlite:///{tmp}/bench.db",
                                     args.rounds, args.requests, clock))
    if "postgresql" in engines:
        with postgres(args.pg_url) as url:
            asyncio.run(bench_engine("PostgreSQL (asyncpg, loopback)", url, args.rounds, args.requests, clock))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
