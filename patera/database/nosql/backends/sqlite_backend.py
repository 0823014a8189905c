"""``SqliteDocumentBackend``: JSON documents in SQLite, so the NoSQL extension needs no server.

One connection, used from one dedicated worker thread (stdlib ``sqlite3`` + JSON1). Each
collection is a table ``(_key, doc)``: ``_key`` is the JSON text of the document's ``_id``
(unique), ``doc`` the compact JSON of the whole document. Transactions are serialised: while
one runs, other operations wait for it, and operations issued from inside it (with or without
its session) join it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ....exceptions import ImproperlyConfigured
from ....extension import AppLike
from ..exceptions import DuplicateKeyError, InvalidQuery
from ..results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult
from ._document_query import (
    SqlFilter,
    apply_update,
    dump_json,
    limit_skip,
    run_stages,
    split_pipeline,
    upsert_seed,
)
from .base import AsyncNoSqlBackendBase, BoundCollection

__all__ = ("SqliteDocumentBackend", "SqliteSession", "new_object_id", "sqlite_path_from_uri")

T = TypeVar("T")
_COLLECTION_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,119}")
_NAME = "SqliteDocumentBackend"


def new_object_id() -> str:
    """A 24-hex-digit id like Mongo's ObjectId: 4 bytes of seconds, then 8 random bytes."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def sqlite_path_from_uri(uri: str) -> str:
    """``sqlite:///rel.db``, ``sqlite:////abs.db``, ``sqlite:///:memory:``, ``sqlite://`` or a bare path."""
    if not isinstance(uri, str) or not uri:
        raise ImproperlyConfigured("NOSQL_DATABASE DATABASE_URI must be a non-empty string")
    if uri.startswith("sqlite://"):
        rest = uri[len("sqlite://"):]
        if rest in ("", "/"):
            return ":memory:"
        if not rest.startswith("/"):
            raise ImproperlyConfigured(f"Unsupported SQLite URI {uri!r}: use sqlite:///relative.db or sqlite:////abs.db")
        return rest[1:] or ":memory:"
    if "://" in uri:
        raise ImproperlyConfigured(
            f"{_NAME} needs a sqlite:/// URI or a file path, got scheme {uri.split(':', 1)[0]!r}"
        )
    return uri


def _collection_name(name: Any) -> str:
    if not isinstance(name, str) or not _COLLECTION_RE.fullmatch(name) or name.lower().startswith("sqlite_"):
        raise InvalidQuery(f"Invalid collection name {name!r}")
    return name


def _table(name: str) -> str:
    return '"' + _collection_name(name) + '"'


class SqliteSession:
    """A session handle; meaningful inside :meth:`SqliteDocumentBackend.with_transaction`."""

    __slots__ = ("backend", "in_transaction")

    def __init__(self, backend: SqliteDocumentBackend) -> None:
        self.backend = backend
        self.in_transaction = False

    def __repr__(self) -> str:
        return f"<SqliteSession in_transaction={self.in_transaction}>"


_CURRENT: contextvars.ContextVar[SqliteSession | None] = contextvars.ContextVar("patera_sqlite_session", default=None)


class _Store:
    """The synchronous side: everything here runs in the backend's worker thread."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("SELECT json_type('{}')").fetchone()
        except sqlite3.OperationalError as exc:  # pragma: no cover - JSON1 is built in since SQLite 3.38
            self.conn.close()
            raise ImproperlyConfigured(f"{_NAME} needs SQLite's JSON1 functions: {exc}") from exc
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.tables: set[str] = set()

    def close(self) -> None:
        self.conn.close()

    def exists(self, name: str) -> bool:
        if name not in self.tables:
            row = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
            if row is None:
                return False
            self.tables.add(name)
        return True

    def ensure(self, name: str) -> None:
        if not self.exists(name):
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_table(name)} "
                "(_key TEXT PRIMARY KEY, doc TEXT NOT NULL CHECK (json_valid(doc)))"
            )
            self.tables.add(name)

    def atomic(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` all-or-nothing (a savepoint works inside and outside a transaction)."""
        self.conn.execute("SAVEPOINT patera_op")
        try:
            result = fn()
        except BaseException:
            self.conn.execute("ROLLBACK TO patera_op")
            self.conn.execute("RELEASE patera_op")
            raise
        self.conn.execute("RELEASE patera_op")
        return result

    def find(self, name: str, sql: SqlFilter, where: str, order: str, limit: int, skip: int) -> list[dict[str, Any]]:
        if not self.exists(name):
            return []
        query = f"SELECT doc FROM {_table(name)} WHERE {where} ORDER BY {order} LIMIT {limit} OFFSET {skip}"
        return [json.loads(row[0]) for row in self.conn.execute(query, sql.params)]

    def _insert_row(self, name: str, doc: Mapping[str, Any]) -> Any:
        if not isinstance(doc, Mapping):
            raise InvalidQuery(f"A document must be a mapping, got {type(doc).__name__}")
        row = dict(doc)
        if "_id" not in row:
            row = {"_id": new_object_id(), **row}
        text = dump_json(row)
        try:
            self.conn.execute(f"INSERT INTO {_table(name)} (_key, doc) VALUES (?, ?)", (dump_json(row["_id"]), text))
        except sqlite3.IntegrityError:
            raise DuplicateKeyError(f"Duplicate key: _id {row['_id']!r} already exists in {name!r}") from None
        return row["_id"]

    def insert(self, name: str, docs: list[Mapping[str, Any]]) -> list[Any]:
        self.ensure(name)
        return self.atomic(lambda: [self._insert_row(name, doc) for doc in docs])

    def update(self, name: str, sql: SqlFilter, where: str, update: Mapping[str, Any], upsert: bool) -> UpdateResult:
        def run() -> UpdateResult:
            row = None
            if self.exists(name):
                row = self.conn.execute(
                    f"SELECT rowid, doc FROM {_table(name)} WHERE {where} ORDER BY rowid LIMIT 1", sql.params
                ).fetchone()
            if row is not None:
                before = json.loads(row[1])
                after = apply_update(before, update)
                if after == before:
                    return UpdateResult(1, 0)
                self.conn.execute(f"UPDATE {_table(name)} SET doc = ? WHERE rowid = ?", (dump_json(after), row[0]))
                return UpdateResult(1, 1)
            if not upsert:
                apply_update({}, update)  # a malformed update is an error even when nothing matches
                return UpdateResult(0, 0)
            self.ensure(name)
            return UpdateResult(0, 0, self._insert_row(name, apply_update(upsert_seed(sql.source), update)))

        return self.atomic(run)

    def delete(self, name: str, sql: SqlFilter, where: str) -> DeleteResult:
        if not self.exists(name):
            return DeleteResult(0)
        table = _table(name)
        cursor = self.conn.execute(
            f"DELETE FROM {table} WHERE rowid = (SELECT rowid FROM {table} WHERE {where} ORDER BY rowid LIMIT 1)",
            sql.params,
        )
        return DeleteResult(cursor.rowcount)

    def raw(self, statement: str, params: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute(statement, params if params is not None else ())]

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.tables.clear()  # a rolled-back CREATE TABLE is gone again


class SqliteDocumentBackend(AsyncNoSqlBackendBase):
    """Mongo-style document collections in one SQLite file (or ``:memory:``)."""

    def __init__(self, path: str = ":memory:", *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._store: _Store | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock: asyncio.Lock | None = None
        self._active: SqliteSession | None = None

    @classmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> SqliteDocumentBackend:
        timeout = configs.get("BUSY_TIMEOUT", 5.0)
        return cls(sqlite_path_from_uri(configs.get("DATABASE_URI") or "sqlite://"), busy_timeout=float(timeout))

    # ------------------------------------------------------------------ plumbing

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError(f"{_NAME} is not connected: was connect() called (app startup)?")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    @property
    def store(self) -> _Store:
        if self._store is None:
            raise RuntimeError(f"{_NAME} is not connected: was connect() called (app startup)?")
        return self._store

    async def _op(self, session: Any, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in the worker thread, inside the running transaction or after it."""
        active = self._active
        if active is not None and (session is active or _CURRENT.get() is active):
            return await self._call(fn, *args)
        lock = self._lock
        if lock is None:
            raise RuntimeError(f"{_NAME} is not connected: was connect() called (app startup)?")
        async with lock:
            return await self._call(fn, *args)

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="patera-nosql-sqlite")
        self._lock = asyncio.Lock()
        try:
            self._store = await self._call(_Store, self.path, self.busy_timeout)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def disconnect(self) -> None:
        if self._executor is None:
            return
        if self._store is not None:
            await self._call(self._store.close)
        self._executor.shutdown(wait=False)
        self._executor = None
        self._store = None
        self._lock = None

    def database_handle(self) -> Any:
        return self

    def supports_transactions(self) -> bool:
        return True

    async def start_session(self) -> SqliteSession:
        return SqliteSession(self)

    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None, **kwargs: Any) -> Any:
        current = _CURRENT.get()
        if current is not None and current is self._active:
            return await _maybe_await(fn(*args, session=current, **kwargs))  # nested: join the running one
        if session is None:
            session = await self.start_session()
        if self._lock is None:
            raise RuntimeError(f"{_NAME} is not connected: was connect() called (app startup)?")
        store = self.store
        async with self._lock:
            await self._call(store.begin)
            self._active, session.in_transaction = session, True
            token = _CURRENT.set(session)
            try:
                result = await _maybe_await(fn(*args, session=session, **kwargs))
            except BaseException:
                await self._call(store.rollback)
                raise
            else:
                try:
                    await self._call(store.commit)
                except BaseException:
                    await self._call(store.rollback)
                    raise
                return result
            finally:
                _CURRENT.reset(token)
                self._active, session.in_transaction = None, False

    # ------------------------------------------------------------------ documents

    def get_collection(self, name: str) -> BoundCollection:
        return BoundCollection(self, _collection_name(name))

    async def find_one(
        self, collection: str, filter: Mapping[str, Any] | None = None, *, session: Any = None, **kwargs: Any
    ) -> Any:
        found = await self.find_many(collection, filter, session=session, limit=1, **kwargs)
        return found[0] if found else None

    async def find_many(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        session: Any = None,
        limit: int | None = None,
        skip: int | None = None,
        sort: Iterable[tuple[str, int]] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        projection = kwargs.pop("projection", None)
        _no_options("find", kwargs)
        name = _collection_name(collection)
        sql = SqlFilter()
        where, order = sql.where(filter), sql.order_by(sort)
        count, offset = limit_skip(limit, skip)
        docs = await self._op(session, self.store.find, name, sql, where, order, count, offset)
        return run_stages(docs, [{"$project": projection}], _NAME) if projection else docs

    async def insert_one(
        self, collection: str, doc: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> InsertOneResult:
        _no_options("insert_one", kwargs)
        ids = await self._op(session, self.store.insert, _collection_name(collection), [doc])
        return InsertOneResult(ids[0])

    async def insert_many(
        self, collection: str, docs: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> InsertManyResult:
        _no_options("insert_many", kwargs)
        if isinstance(docs, (Mapping, str, bytes)):
            raise InvalidQuery("insert_many needs a list of documents")
        batch = list(docs)
        if not batch:
            raise InvalidQuery("insert_many needs at least one document")
        return InsertManyResult(await self._op(session, self.store.insert, _collection_name(collection), batch))

    async def update_one(
        self,
        collection: str,
        filter: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        upsert: bool = False,
        session: Any = None,
        **kwargs: Any,
    ) -> UpdateResult:
        _no_options("update_one", kwargs)
        name = _collection_name(collection)
        sql = SqlFilter()
        where = sql.where(filter)
        sql.source = filter
        return await self._op(session, self.store.update, name, sql, where, update, bool(upsert))

    async def delete_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> DeleteResult:
        _no_options("delete_one", kwargs)
        name = _collection_name(collection)
        sql = SqlFilter()
        where = sql.where(filter)
        return await self._op(session, self.store.delete, name, sql, where)

    async def aggregate(
        self, collection: str, pipeline: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> list[Any]:
        """Leading ``$match`` stages run in SQL; ``$sort $skip $limit $project $count $group`` follow in Python."""
        _no_options("aggregate", kwargs)
        name = _collection_name(collection)
        matches, stages = split_pipeline(pipeline)
        sql = SqlFilter()
        where = " AND ".join(sql.where(m) for m in matches) or "1"
        order = sql.order_by(None)
        docs = await self._op(session, self.store.find, name, sql, where, order, -1, 0)
        return run_stages(docs, stages, _NAME)

    async def execute_raw(self, statement: str, params: Any = None, *, session: Any = None) -> list[dict[str, Any]]:
        """Run one SQL statement on the underlying SQLite database; rows come back as dicts."""
        if not isinstance(statement, str):
            raise TypeError(f"{_NAME}.execute_raw takes an SQL string")
        return await self._op(session, self.store.raw, statement, params)


def _no_options(method: str, kwargs: Mapping[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{_NAME}.{method}() got unsupported options: {', '.join(sorted(kwargs))}")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
