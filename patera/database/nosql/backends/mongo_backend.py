"""``MongoBackend``: MongoDB through pymongo's native asyncio client (``AsyncMongoClient``).

pymongo is imported when the client is created, so importing this module (and the backends
package) works without the ``nosql`` extra. Server errors that mean "your query is
malformed" become ``InvalidQuery`` and duplicate ``_id`` s become ``DuplicateKeyError``, as in
every backend.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ....exceptions import ImproperlyConfigured, MissingDependency
from ....extension import AppLike
from ..exceptions import DuplicateKeyError, InvalidQuery
from ..results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult
from ._document_query import limit_skip, sort_pairs
from .base import AsyncNoSqlBackendBase

__all__ = ("MongoBackend",)

#: Server error codes that mean the filter, update or pipeline itself is wrong.
_BAD_QUERY_CODES = frozenset({
    2, 9, 14, 16, 28, 40, 52, 55, 56, 57, 66, 73, 168, 15952, 15955, 16410, 16436, 17276, 28667,
    31249, 31250, 31253, 31254, 40323, 40324, 40352, 51091,
})
_DUPLICATE_KEY = 11000
_USERINFO_RE = re.compile(r"(?<=://)[^@/]*@")


def redact_uri(uri: str) -> str:
    """The URI without its user:password part, for messages and logs."""
    return _USERINFO_RE.sub("***@", uri)


def _pymongo_errors() -> Any:
    try:
        from pymongo import errors
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependency("pymongo", extra="nosql", feature="MongoBackend") from exc
    return errors


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Map pymongo's query and duplicate-key errors onto the extension's own."""
    errors = _pymongo_errors()
    try:
        yield
    except errors.DuplicateKeyError as exc:
        raise DuplicateKeyError(f"Duplicate key: {_message(exc)}") from exc
    except errors.BulkWriteError as exc:
        write_errors = (exc.details or {}).get("writeErrors") or []
        if any(err.get("code") == _DUPLICATE_KEY for err in write_errors):
            raise DuplicateKeyError("Duplicate key in insert_many") from exc
        raise
    except errors.OperationFailure as exc:
        # A real server always sends a code; an error without one comes from client-side checks.
        if exc.code is None or exc.code in _BAD_QUERY_CODES:
            raise InvalidQuery(f"Invalid query: {_message(exc)}") from exc
        raise
    except errors.InvalidOperation:
        raise
    except ValueError as exc:  # pymongo's client-side checks, e.g. "update only works with $ operators"
        if isinstance(exc, InvalidQuery):
            raise
        raise InvalidQuery(f"Invalid query: {exc}") from exc


def _message(exc: Any) -> str:
    details = getattr(exc, "details", None) or {}
    return str(details.get("errmsg") or exc)


def _check_mapping(label: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, Mapping):
        raise InvalidQuery(f"{label} must be a mapping, got {type(value).__name__}")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class MongoBackend(AsyncNoSqlBackendBase):
    """MongoDB. ``supports_transactions()`` is true only on replica sets and sharded clusters."""

    def __init__(self, uri: str, database: str | None = None, *, client: Any = None, **client_options: Any) -> None:
        self.uri = uri
        self.database = database
        self.client_options = {"serverSelectionTimeoutMS": 5000, **client_options}
        self._injected_client = client
        self._client: Any = None
        self._db: Any = None
        self._transactions = False

    @classmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> MongoBackend:
        uri = configs.get("DATABASE_URI")
        if not isinstance(uri, str) or not uri:
            raise ImproperlyConfigured("MongoBackend needs DATABASE_URI (mongodb:// or mongodb+srv://)")
        options = configs.get("CLIENT_OPTIONS") or {}
        return cls(uri, configs.get("DATABASE"), **options)

    def create_client(self) -> Any:
        """The client ``connect`` uses: the one given to ``__init__``, else an ``AsyncMongoClient``."""
        if self._injected_client is not None:
            return self._injected_client
        _pymongo_errors()
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(self.uri, **self.client_options)

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        client = self.create_client()
        try:
            await client.admin.command("ping")
            self._transactions = await self._detect_transactions(client)
        except Exception as exc:
            with contextlib.suppress(Exception):
                await _maybe_await(client.close())
            raise ConnectionError(f"Could not reach MongoDB at {redact_uri(self.uri)}: {exc}") from exc
        self._client = client
        if self.database:
            self._db = client[self.database]
        else:
            with contextlib.suppress(Exception):
                self._db = client.get_default_database(None)

    @staticmethod
    async def _detect_transactions(client: Any) -> bool:
        """Replica-set members report ``setName``; mongos reports ``msg: "isdbgrid"``."""
        try:
            hello = await client.admin.command("hello")
        except _pymongo_errors().OperationFailure:  # servers before 4.4 know only isMaster
            hello = await client.admin.command("isMaster")
        return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"

    async def disconnect(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await _maybe_await(client.close())

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("MongoBackend is not connected: was connect() called (app startup)?")
        return self._client

    def database_handle(self) -> Any:
        client = self.client
        return self._db if self._db is not None else client

    def supports_transactions(self) -> bool:
        return self._transactions

    async def start_session(self) -> Any:
        if not self._transactions:
            return None
        return await _maybe_await(self.client.start_session())

    async def end_session(self, session: Any) -> None:
        if session is not None:
            await _maybe_await(session.end_session())

    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None, **kwargs: Any) -> Any:
        """Commit when ``fn`` returns, abort when it raises (no automatic retry of ``fn``)."""
        if session is None or not self._transactions:
            return await _maybe_await(fn(*args, session=session, **kwargs))
        await _maybe_await(session.start_transaction())
        try:
            result = await _maybe_await(fn(*args, session=session, **kwargs))
        except BaseException:
            if session.in_transaction:
                await session.abort_transaction()
            raise
        with _translated():
            await session.commit_transaction()
        return result

    # ------------------------------------------------------------------ documents

    def get_collection(self, name: str) -> Any:
        if not isinstance(name, str) or not name or "$" in name or "\0" in name:
            raise InvalidQuery(f"Invalid collection name {name!r}")
        if self._db is None:
            self.client  # noqa: B018 - raises when not connected
            raise RuntimeError("No database selected: set DATABASE in NOSQL_DATABASE or name one in the URI")
        return self._db[name]

    async def find_one(
        self, collection: str, filter: Mapping[str, Any] | None = None, *, session: Any = None, **kwargs: Any
    ) -> Any:
        _check_mapping("filter", filter, optional=True)
        with _translated():
            return await self.get_collection(collection).find_one(filter or {}, session=session, **kwargs)

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
        _check_mapping("filter", filter, optional=True)
        count, offset = limit_skip(limit, skip)
        pairs = sort_pairs(sort)
        with _translated():
            cursor = self.get_collection(collection).find(filter or {}, session=session, **kwargs)
            if pairs:
                cursor = cursor.sort(pairs)
            if offset:
                cursor = cursor.skip(offset)
            if count > 0:
                cursor = cursor.limit(count)
            return list(await cursor.to_list(None))

    async def insert_one(
        self, collection: str, doc: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> InsertOneResult:
        _check_mapping("A document", doc)
        with _translated():
            result = await self.get_collection(collection).insert_one(dict(doc), session=session, **kwargs)
        return InsertOneResult(result.inserted_id)

    async def insert_many(
        self, collection: str, docs: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> InsertManyResult:
        if isinstance(docs, (Mapping, str, bytes)):
            raise InvalidQuery("insert_many needs a list of documents")
        batch = list(docs)
        for doc in batch:
            _check_mapping("A document", doc)
        if not batch:
            raise InvalidQuery("insert_many needs at least one document")
        with _translated():
            result = await self.get_collection(collection).insert_many(
                [dict(doc) for doc in batch], session=session, **kwargs
            )
        return InsertManyResult(list(result.inserted_ids))

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
        _check_mapping("filter", filter)
        _check_mapping("An update", update)
        with _translated():
            result = await self.get_collection(collection).update_one(
                filter, update, upsert=upsert, session=session, **kwargs
            )
        return UpdateResult(result.matched_count, result.modified_count, result.upserted_id)

    async def delete_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> DeleteResult:
        _check_mapping("filter", filter)
        with _translated():
            result = await self.get_collection(collection).delete_one(filter, session=session, **kwargs)
        return DeleteResult(result.deleted_count)

    async def aggregate(
        self, collection: str, pipeline: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> list[Any]:
        if isinstance(pipeline, (Mapping, str, bytes)):
            raise InvalidQuery("A pipeline must be a list of stages")
        stages = list(pipeline)
        for stage in stages:
            _check_mapping("A pipeline stage", stage)
        with _translated():
            cursor = await _maybe_await(self.get_collection(collection).aggregate(stages, session=session, **kwargs))
            return list(await cursor.to_list(None))

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """``execute_raw("ping")``, ``execute_raw("count", {"count": "users"})`` → ``db.command``;
        ``execute_raw(fn, ...)`` → ``await fn(database_handle, ...)``."""
        if not args:
            raise TypeError("MongoBackend.execute_raw needs a command name or a callable")
        db = self.database_handle()
        first, rest = args[0], args[1:]
        with _translated():
            if callable(first):
                return await _maybe_await(first(db, *rest, **kwargs))
            if isinstance(first, str):
                argument = rest[0] if rest else 1
                command = {first: 1, **argument} if isinstance(argument, Mapping) else {first: argument}
                return await db.command(command, **kwargs)
        raise TypeError("MongoBackend.execute_raw needs a command name or a callable")
