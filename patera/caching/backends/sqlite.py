"""SQLite cache: stdlib ``sqlite3`` on one worker thread, WAL journal, expiring rows."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ...extension import AppLike
from .base import BaseCacheBackend, dumps_entry, loads_entry

__all__ = ("CHECKPOINT_MODES", "SQLiteCacheBackend")

T = TypeVar("T")
CHECKPOINT_MODES = ("PASSIVE", "FULL", "RESTART", "TRUNCATE")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
#: How long a statement waits for a lock held by another process before failing (a miss).
BUSY_TIMEOUT_SECONDS = 1.0


def _like_escape(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SQLiteCacheBackend(BaseCacheBackend):
    """Rows ``(key, value JSON, expires_at epoch seconds)`` in ``SQLITE_TABLE``.

    One connection serves every call from a dedicated single-thread pool, so the event
    loop never blocks on disk and calls never interleave on the connection. Every
    ``SQLITE_WAL_CHECKPOINT_EVERY`` writes, expired rows are purged and the WAL is
    checkpointed with ``SQLITE_WAL_CHECKPOINT_MODE``.
    """

    def __init__(
        self,
        path: str = "./pyjolt_cache.db",
        table: str = "cache_entries",
        *,
        key_prefix: str = "",
        default_duration: int = 300,
        checkpoint_mode: str = "PASSIVE",
        checkpoint_every: int = 100,
    ) -> None:
        if not isinstance(table, str) or _IDENTIFIER.fullmatch(table) is None:
            raise ValueError(f"SQLITE_TABLE must be a plain SQL identifier, got {table!r}")
        mode = str(checkpoint_mode).upper()
        if mode not in CHECKPOINT_MODES:
            raise ValueError(
                f"SQLITE_WAL_CHECKPOINT_MODE must be one of {', '.join(CHECKPOINT_MODES)}, got {checkpoint_mode!r}"
            )
        if checkpoint_every < 1:
            raise ValueError("SQLITE_WAL_CHECKPOINT_EVERY must be at least 1")
        self.path = path
        self.table = table
        self.key_prefix = key_prefix
        self.default_duration = default_duration
        self.checkpoint_mode = mode
        self.checkpoint_every = checkpoint_every
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._writes = 0
        self._connecting: asyncio.Lock | None = None

    @classmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> SQLiteCacheBackend:
        return cls(
            str(configs.get("SQLITE_PATH", "./pyjolt_cache.db")),
            str(configs.get("SQLITE_TABLE", "cache_entries")),
            key_prefix=str(configs.get("KEY_PREFIX") or ""),
            default_duration=int(configs.get("DURATION", 300)),
            checkpoint_mode=str(configs.get("SQLITE_WAL_CHECKPOINT_MODE", "PASSIVE")),
            checkpoint_every=int(configs.get("SQLITE_WAL_CHECKPOINT_EVERY", 100)),
        )

    # ------------------------------------------------------------------ thread plumbing

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._conn is None:
            await self.connect()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
            )
        except BaseException:
            conn.close()
            raise
        return conn

    async def connect(self) -> None:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._conn is not None:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="patera-cache-sqlite")
            loop = asyncio.get_running_loop()
            self._conn = await loop.run_in_executor(self._executor, self._open)

    async def disconnect(self) -> None:
        conn, executor = self._conn, self._executor
        self._conn = self._executor = None
        if conn is not None and executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        if executor is not None:
            executor.shutdown(wait=False)

    @property
    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the SQLite cache is not connected")
        return self._conn

    # ------------------------------------------------------------------ statements (worker thread)

    def _get(self, key: str) -> str | None:
        row = self.connection.execute(
            f"SELECT value, expires_at FROM {self.table} WHERE key = ?", (self.key_prefix + key,)
        ).fetchone()
        if row is None:
            return None
        if row[1] <= time.time():
            self.connection.execute(
                f"DELETE FROM {self.table} WHERE key = ? AND expires_at <= ?", (self.key_prefix + key, time.time())
            )
            return None
        return str(row[0])

    def _set(self, key: str, text: str, ttl: int) -> None:
        conn = self.connection
        conn.execute(
            f"INSERT OR REPLACE INTO {self.table} (key, value, expires_at) VALUES (?, ?, ?)",
            (self.key_prefix + key, text, time.time() + ttl),
        )
        self._writes += 1
        if self._writes % self.checkpoint_every == 0:
            self._maintain()

    def _maintain(self) -> None:
        conn = self.connection
        conn.execute(f"DELETE FROM {self.table} WHERE expires_at <= ?", (time.time(),))
        conn.execute(f"PRAGMA wal_checkpoint({self.checkpoint_mode})")

    def _delete(self, key: str) -> None:
        self.connection.execute(f"DELETE FROM {self.table} WHERE key = ?", (self.key_prefix + key,))

    def _clear(self) -> None:
        if self.key_prefix:
            self.connection.execute(
                f"DELETE FROM {self.table} WHERE key LIKE ? ESCAPE '\\'", (_like_escape(self.key_prefix) + "%",)
            )
        else:
            self.connection.execute(f"DELETE FROM {self.table}")

    def _journal_mode(self) -> str:
        return str(self.connection.execute("PRAGMA journal_mode").fetchone()[0])

    # ------------------------------------------------------------------ API

    async def get(self, key: str) -> dict[str, Any] | None:
        text = await self._call(self._get, key)
        return None if text is None else loads_entry(text)

    async def set(self, key: str, value: dict[str, Any], duration: int | None = None) -> None:
        text = dumps_entry(value)
        await self._call(self._set, key, text, self.default_duration if duration is None else duration)

    async def delete(self, key: str) -> None:
        await self._call(self._delete, key)

    async def clear(self) -> None:
        await self._call(self._clear)

    async def checkpoint(self) -> None:
        """Purge expired rows and checkpoint the WAL now."""
        await self._call(self._maintain)

    async def journal_mode(self) -> str:
        return await self._call(self._journal_mode)
