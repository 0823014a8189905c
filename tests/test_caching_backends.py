"""Cache backends and configuration (SPEC §17.2, §1.7): TTLs, LRU, WAL, namespaces, custom backends."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from patera import MissingDependency, Request, Response
from patera.caching import BaseCacheBackend, Cache
from patera.caching.backends import (
    MemoryCacheBackend,
    RedisCacheBackend,
    SQLiteCacheBackend,
    dumps_entry,
    loads_entry,
)
from patera.controller import Controller, get, path
from patera.testing import PateraTestClient

from .conftest import build_app


class DictBackend(BaseCacheBackend):
    """A custom backend written against the documented contract: JSON text in a dict."""

    instances: ClassVar[list[DictBackend]] = []

    def __init__(self, prefix: str, default: int) -> None:
        self.prefix = prefix
        self.default = default
        self.rows: dict[str, tuple[float, str]] = {}
        self.events: list[str] = []
        DictBackend.instances.append(self)

    @classmethod
    def configure_from_app(cls, app: Any, configs: dict[str, Any]) -> DictBackend:
        return cls(configs["KEY_PREFIX"], configs["DURATION"])

    async def connect(self) -> None:
        self.events.append("connect")

    async def disconnect(self) -> None:
        self.events.append("disconnect")

    async def get(self, key: str) -> dict[str, Any] | None:
        row = self.rows.get(self.prefix + key)
        if row is None or row[0] <= time.monotonic():
            return None
        return loads_entry(row[1])

    async def set(self, key: str, value: dict[str, Any], duration: int | None = None) -> None:
        self.rows[self.prefix + key] = (time.monotonic() + (duration or self.default), dumps_entry(value))

    async def delete(self, key: str) -> None:
        self.rows.pop(self.prefix + key, None)

    async def clear(self) -> None:
        self.rows = {k: v for k, v in self.rows.items() if not k.startswith(self.prefix)}


custom_cache = Cache()
HITS: list[int] = []


@path("/x")
class Hello(Controller):
    @get("/hello")
    @custom_cache.cache(duration=30)
    async def hello(self, req: Request) -> Response[Any]:
        HITS.append(1)
        return req.response.json({"calls": len(HITS)})


def make_cache(tmp_path: Path, redis_url: str | None, kind: str, **extra: Any) -> Cache:
    configs: dict[str, Any] = {"BACKEND": kind, **extra}
    if kind == "sqlite":
        configs.setdefault("SQLITE_PATH", str(tmp_path / f"{uuid.uuid4().hex}.db"))
    if kind == "redis":
        configs.update(REDIS_URL=redis_url, KEY_PREFIX=configs.get("KEY_PREFIX", f"t:{uuid.uuid4().hex}:"))
    instance = Cache()
    instance.init_app(build_app(CACHE=configs))
    return instance


@pytest.fixture
def redis_url(redis_service: Any) -> str:
    return str(redis_service.url)


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[Any]:
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


# --------------------------------------------------------------------------- every backend


async def test_ttl_is_honoured_by_every_backend(tmp_path: Path, redis_url: str) -> None:
    caches = [make_cache(tmp_path, redis_url, kind) for kind in ("memory", "sqlite", "redis")]
    for c in caches:
        await c.connect()
        await c.set("short", {"v": 1}, duration=1)
        await c.set("long", {"v": 2}, duration=60)
        assert await c.get("short") == {"v": 1}
    await asyncio.sleep(1.2)
    for c in caches:
        assert await c.get("short") is None, type(c.backend).__name__
        assert await c.get("long") == {"v": 2}
        await c.clear()
        await c.disconnect()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_stored_values_are_json_not_pickle(tmp_path: Path, redis_url: str, raw_redis: Any, kind: str) -> None:
    c = make_cache(tmp_path, redis_url, kind, KEY_PREFIX="ns:")
    await c.connect()
    await c.set("k", Response(status_code=200).text("héllo"))
    if kind == "sqlite":
        backend = c.backend
        assert isinstance(backend, SQLiteCacheBackend)
        raw = sqlite3.connect(backend.path).execute("SELECT value FROM cache_entries WHERE key = 'ns:k'").fetchone()[0]
    else:
        raw = (await raw_redis.get("ns:k")).decode()
    stored = json.loads(raw)
    assert stored["status_code"] == 200
    assert stored["headers"] == [["content-type", "text/plain; charset=utf-8"]]
    assert stored["body"] == {"__patera_bytes__": "aMOpbGxv"}
    await c.clear()
    await c.disconnect()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_unreadable_stored_values_are_misses(tmp_path: Path, redis_url: str, raw_redis: Any, kind: str) -> None:
    c = make_cache(tmp_path, redis_url, kind, KEY_PREFIX="junk:")
    await c.connect()
    if kind == "sqlite":
        await c.set("k", {"v": 1})
        with sqlite3.connect(c.backend.path) as conn:  # type: ignore[attr-defined]
            conn.execute("UPDATE cache_entries SET value = '{not json' WHERE key = 'junk:k'")
    else:
        await raw_redis.set("junk:k", b"\x80\x04pickle?")
    assert await c.get("k") is None
    await c.clear()
    await c.disconnect()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e["headers"].append(["x-a", "b\r\nSet-Cookie: evil=1"]),
        lambda e: e["headers"].append(["bad name", "v"]),
        lambda e: e["headers"].append(["only-one"]),
        lambda e: e.update(status_code="200"),
        lambda e: e.update(body="not bytes"),
    ],
    ids=["crlf-value", "bad-name", "short-pair", "status-str", "body-str"],
)
async def test_tampered_entries_are_misses_not_500s(tamper: Any, redis_url: str, raw_redis: Any) -> None:
    """Another process can write anything into a shared Redis: such entries are never sent."""
    prefix = f"tamper:{uuid.uuid4().hex}:"
    app = build_app(Hello, CACHE={"BACKEND": "redis", "REDIS_URL": redis_url, "KEY_PREFIX": prefix})
    custom_cache.init_app(app)
    HITS.clear()
    async with PateraTestClient(app) as client:
        assert (await client.get("/x/hello")).json() == {"calls": 1}
        (key,) = await raw_redis.keys(prefix + "*")
        entry = loads_entry(await raw_redis.get(key))
        assert entry is not None
        tamper(entry)
        await raw_redis.set(key, dumps_entry(entry))
        response = await client.get("/x/hello")
        await custom_cache.clear()
    assert (response.status_code, response.json()) == (200, {"calls": 2})
    assert "evil" not in str(response.headers)


# --------------------------------------------------------------------------- memory


async def test_memory_lru_evicts_least_recently_used() -> None:
    backend = MemoryCacheBackend(maxsize=2)
    await backend.set("a", {"v": "a"})
    await backend.set("b", {"v": "b"})
    assert await backend.get("a") == {"v": "a"}  # a is now the most recent
    await backend.set("c", {"v": "c"})
    assert (await backend.get("a"), await backend.get("b"), await backend.get("c")) == ({"v": "a"}, None, {"v": "c"})
    assert len(backend) == 2


def test_memory_maxsize_from_config(tmp_path: Path) -> None:
    c = make_cache(tmp_path, None, "memory", MEMORY_MAXSIZE=3)
    assert isinstance(c.backend, MemoryCacheBackend) and c.backend.maxsize == 3


# --------------------------------------------------------------------------- SQLite


async def test_sqlite_uses_wal_and_checkpoints_every_n_writes(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    c = make_cache(
        tmp_path,
        None,
        "sqlite",
        SQLITE_PATH=str(db),
        SQLITE_WAL_CHECKPOINT_MODE="TRUNCATE",
        SQLITE_WAL_CHECKPOINT_EVERY=3,
    )
    await c.connect()
    backend = c.backend
    assert isinstance(backend, SQLiteCacheBackend)
    assert await backend.journal_mode() == "wal"
    wal = Path(str(db) + "-wal")
    await c.set("a", {"v": 1})
    await c.set("b", {"v": 2}, duration=1)
    assert wal.stat().st_size > 0
    await c.set("c", {"v": 3})  # third write: expired rows purged, WAL truncated
    assert wal.stat().st_size == 0
    assert await c.get("a") == {"v": 1}
    await c.disconnect()


async def test_sqlite_clear_only_touches_its_prefix(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    first = make_cache(tmp_path, None, "sqlite", SQLITE_PATH=db, KEY_PREFIX="one_%:")
    second = make_cache(tmp_path, None, "sqlite", SQLITE_PATH=db, KEY_PREFIX="oneX%:")
    for c in (first, second):
        await c.connect()
        await c.set("k", {"owner": c.backend.key_prefix})  # type: ignore[attr-defined]
    await first.clear()
    assert await first.get("k") is None
    assert await second.get("k") == {"owner": "oneX%:"}
    for c in (first, second):
        await c.disconnect()


async def test_sqlite_memory_database_and_custom_table(tmp_path: Path) -> None:
    c = make_cache(tmp_path, None, "sqlite", SQLITE_PATH=":memory:", SQLITE_TABLE="my_cache")
    await c.set("k", {"v": [1, 2]})  # connects on first use, lifespan or not
    assert await c.get("k") == {"v": [1, 2]}
    await c.disconnect()


async def test_sqlite_lock_is_a_miss_with_one_warning(tmp_path: Path, caplog_loguru: list[str]) -> None:
    db = tmp_path / "locked.db"
    c = make_cache(tmp_path, None, "sqlite", SQLITE_PATH=str(db))
    app = build_app(Hello, CACHE={"BACKEND": "sqlite", "SQLITE_PATH": str(db)})
    custom_cache.init_app(app)
    HITS.clear()
    async with PateraTestClient(app) as client:
        assert (await client.get("/x/hello")).json() == {"calls": 1}
        await custom_cache.clear()
        blocker = sqlite3.connect(str(db), isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            for expected in (1, 2):  # reads still work in WAL mode; every store times out
                assert (await client.get("/x/hello")).json() == {"calls": 1 + expected}
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert (await client.get("/x/hello")).json() == {"calls": 4}  # stored again
        assert (await client.get("/x/hello")).json() == {"calls": 4}  # and a hit
    warnings = [line for line in caplog_loguru if "Cache backend SQLiteCacheBackend failed" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING")
    await c.disconnect()


# --------------------------------------------------------------------------- Redis


async def test_redis_clear_is_prefix_scoped(redis_url: str, raw_redis: Any, tmp_path: Path) -> None:
    prefix = f"app*[{uuid.uuid4().hex[:6]}]:"
    c = make_cache(tmp_path, redis_url, "redis", KEY_PREFIX=prefix)
    foreign = [f"appX[{prefix[5:11]}]:k", "other:k", prefix[:-1]]
    for key in foreign:
        await raw_redis.set(key, b"keep")
    for i in range(1200):  # more than one SCAN/UNLINK batch
        await c.set(f"k{i}", {"i": i})
    await c.clear()
    assert await raw_redis.keys(prefix.replace("*", "\\*").replace("[", "\\[").replace("]", "\\]") + "*") == []
    for key in foreign:
        assert await raw_redis.get(key) == b"keep"
        await raw_redis.delete(key)
    await c.disconnect()


def test_redis_needs_url_and_prefix() -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        Cache().init_app(build_app(CACHE={"BACKEND": "redis"}))
    with pytest.raises(ValueError, match="KEY_PREFIX"):
        Cache().init_app(build_app(CACHE={"BACKEND": "redis", "REDIS_URL": "redis://127.0.0.1:1/0", "KEY_PREFIX": ""}))


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "redis" or m.startswith("redis.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)  # what an environment without the package looks like
    with pytest.raises(MissingDependency, match=r'pip install "patera\[cache\]"') as info:
        Cache().init_app(build_app(CACHE_BACKEND="redis", CACHE_REDIS_URL="redis://127.0.0.1:1/0"))
    assert isinstance(info.value, ImportError)
    memory = Cache()
    memory.init_app(build_app())  # memory and SQLite never need it
    assert isinstance(memory.backend, MemoryCacheBackend)


def test_core_and_memory_cache_never_import_extensions_or_redis() -> None:
    code = (
        "import sys, patera, patera.testing\n"
        "assert not [m for m in sys.modules if m.startswith(('patera.auth', 'patera.caching', 'redis'))], 'core'\n"
        "import patera.caching, patera.auth\n"
        "from patera.caching.backends import RedisCacheBackend\n"
        "assert 'redis' not in sys.modules, 'caching'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60, cwd=os.getcwd()
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "config",
    [
        {"CACHE": {"BACKEND": "tests.test_caching_backends:DictBackend", "KEY_PREFIX": "d:"}},
        {"CACHE": {"BACKEND": DictBackend, "KEY_PREFIX": "d:"}},
        {"CACHE_BACKEND": "tests.test_caching_backends.DictBackend", "CACHE_KEY_PREFIX": "d:"},
        {
            "CACHE": {"BACKEND": "memory", "KEY_PREFIX": "d:"},
            "CACHE_BACKEND": "tests.test_caching_backends:DictBackend",
        },
    ],
    ids=["dict-import-string", "dict-class", "flat-dotted", "flat-overrides-dict"],
)
async def test_custom_backend_serves_the_decorator(config: dict[str, Any]) -> None:
    DictBackend.instances.clear()
    HITS.clear()
    app = build_app(Hello, **config)
    custom_cache.init_app(app)
    async with PateraTestClient(app) as client:
        responses = [(await client.get("/x/hello")).json() for _ in range(3)]
    assert responses == [{"calls": 1}] * 3
    (backend,) = DictBackend.instances
    assert backend.events == ["connect", "disconnect"]
    assert all(key.startswith("d:") for key in backend.rows)
    assert app.extensions["CACHE"] is custom_cache


async def test_variable_prefix_configures_a_second_cache(tmp_path: Path) -> None:
    app = build_app(
        CACHE={"BACKEND": "memory", "DURATION": 10},
        MY_CACHE_CACHE={"BACKEND": "memory", "DURATION": 20},
        MY_CACHE_CACHE_BACKEND="sqlite",
        MY_CACHE_CACHE_SQLITE_PATH=str(tmp_path / "second.db"),
    )
    first, second = Cache(), Cache(variable_prefix="MY_CACHE_")
    first.init_app(app)
    second.init_app(app)
    assert app.extensions["CACHE"] is first and app.extensions["MY_CACHE_CACHE"] is second
    assert isinstance(first.backend, MemoryCacheBackend) and first.default_duration == 10
    assert isinstance(second.backend, SQLiteCacheBackend) and second.default_duration == 20
    assert second.backend.path == str(tmp_path / "second.db")
    await second.disconnect()


def test_defaults() -> None:
    c = Cache()
    c.init_app(build_app())
    assert isinstance(c.backend, MemoryCacheBackend)
    assert (c.default_duration, c.backend.maxsize, c.configs["KEY_PREFIX"]) == (300, 10_000, "")
    sqlite_cache = Cache()
    sqlite_cache.init_app(build_app(CACHE_BACKEND="SQLite"))
    backend = sqlite_cache.backend
    assert isinstance(backend, SQLiteCacheBackend)
    assert (backend.path, backend.table, backend.checkpoint_mode, backend.checkpoint_every) == (
        "./pyjolt_cache.db",
        "cache_entries",
        "PASSIVE",
        100,
    )
    redis_cache = Cache()
    redis_cache.init_app(build_app(CACHE_BACKEND="redis", CACHE_REDIS_URL="redis://127.0.0.1:1/0"))
    assert isinstance(redis_cache.backend, RedisCacheBackend) and redis_cache.backend.key_prefix == "patera:cache:"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"CACHE_BACKEND": "memcached"}, "Could not import"),
        ({"CACHE_BACKEND": "patera.request:Request"}, "BaseCacheBackend subclass"),
        ({"CACHE_BACKEND": 42}, "BaseCacheBackend subclass"),
        ({"CACHE_DURATION": 0}, "Invalid configuration for CACHE"),
        ({"CACHE_MEMORY_MAXSIZE": 0}, "Invalid configuration for CACHE"),
        ({"CACHE_BACKEND": "sqlite", "CACHE_SQLITE_WAL_CHECKPOINT_MODE": "SOMETIMES"}, "SQLITE_WAL_CHECKPOINT_MODE"),
        ({"CACHE_BACKEND": "sqlite", "CACHE_SQLITE_TABLE": "x; DROP TABLE y"}, "SQLITE_TABLE"),
        ({"CACHE_BACKEND": "sqlite", "CACHE_SQLITE_WAL_CHECKPOINT_EVERY": 0}, "Invalid configuration for CACHE"),
    ],
)
def test_invalid_configuration(config: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, ImportError), match=message.replace("(", r"\(")):
        Cache().init_app(build_app(**config))


@pytest.mark.parametrize("duration", [0, -5, 1.5, "60", True])
def test_invalid_decorator_durations(duration: Any) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        Cache().cache(duration)


# --------------------------------------------------------------------------- user identity in keys


class _Member:
    def __init__(self, id: int) -> None:
        self.id = id


class _Admin(_Member):
    pass


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


def test_user_identity() -> None:
    from patera.caching._responses import user_identity

    assert user_identity(_Member(1)) == user_identity(_Member(1))
    assert user_identity(_Member(1)) != user_identity(_Member(2))
    assert user_identity(_Member(1)) != user_identity(_Admin(1))  # same id, other table
    assert user_identity({"id": "alice"}) != user_identity({"id": "bob"})
    assert user_identity({"sub": "alice"}) != user_identity({"sub": "bob"})  # no id: str(user)
    assert user_identity(_Named("x")) == user_identity(_Named("x")) != user_identity(_Named("y"))
    assert user_identity(object()) is None  # only a memory address: never used as a key
