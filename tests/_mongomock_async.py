"""A thin asyncio face on mongomock, shaped like pymongo's ``AsyncMongoClient`` (test-only).

No MongoDB server can run on the build machine, so ``MongoBackend`` runs the backend-contract
suite against this: the calls and results MongoBackend uses (``find`` cursors, ``to_list``,
``admin.command``, ``close``) with mongomock doing the document work in memory. Where mongomock
reports an error differently from a server (a Python ``TypeError`` for ``$inc`` on a string,
``NotImplementedError`` for an unknown stage) it is re-raised as the ``OperationFailure`` a
server sends, with the server's error code. It answers ``hello`` as a standalone server does,
so MongoBackend correctly reports no transaction support.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import mongomock
from pymongo.errors import OperationFailure

_TYPE_MISMATCH = 14
_UNKNOWN_STAGE = 40324


@contextlib.contextmanager
def _as_server_errors() -> Iterator[None]:
    try:
        yield
    except TypeError as exc:
        raise OperationFailure(str(exc), code=_TYPE_MISMATCH) from exc
    except NotImplementedError as exc:
        raise OperationFailure(str(exc), code=_UNKNOWN_STAGE) from exc


def _drop_session(kwargs: dict[str, Any]) -> dict[str, Any]:
    if kwargs.get("session") is None:
        kwargs.pop("session", None)
    return kwargs


class AsyncCursor:
    def __init__(self, make: Any) -> None:
        self._make = make
        self._sort: Any = None
        self._skip = 0
        self._limit = 0

    def sort(self, keys: Any) -> AsyncCursor:
        self._sort = keys
        return self

    def skip(self, n: int) -> AsyncCursor:
        self._skip = n
        return self

    def limit(self, n: int) -> AsyncCursor:
        self._limit = n
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        with _as_server_errors():
            cursor = self._make()
            if self._sort:
                cursor = cursor.sort(self._sort)
            if self._skip:
                cursor = cursor.skip(self._skip)
            if self._limit:
                cursor = cursor.limit(self._limit)
            docs = list(cursor)
        return docs if length is None else docs[:length]


class AsyncCollection:
    def __init__(self, collection: Any) -> None:
        self._c = collection

    async def find_one(self, filter: Any = None, **kwargs: Any) -> Any:
        with _as_server_errors():
            return self._c.find_one(filter, **_drop_session(kwargs))

    def find(self, filter: Any = None, **kwargs: Any) -> AsyncCursor:
        kwargs = _drop_session(kwargs)
        return AsyncCursor(lambda: self._c.find(filter, **kwargs))

    async def insert_one(self, doc: Any, **kwargs: Any) -> Any:
        with _as_server_errors():
            return self._c.insert_one(doc, **_drop_session(kwargs))

    async def insert_many(self, docs: Any, **kwargs: Any) -> Any:
        with _as_server_errors():
            return self._c.insert_many(docs, **_drop_session(kwargs))

    async def update_one(self, filter: Any, update: Any, **kwargs: Any) -> Any:
        with _as_server_errors():
            return self._c.update_one(filter, update, **_drop_session(kwargs))

    async def delete_one(self, filter: Any, **kwargs: Any) -> Any:
        with _as_server_errors():
            return self._c.delete_one(filter, **_drop_session(kwargs))

    async def aggregate(self, pipeline: Any, **kwargs: Any) -> AsyncCursor:
        kwargs = _drop_session(kwargs)
        with _as_server_errors():
            docs = list(self._c.aggregate(pipeline, **kwargs))
        return AsyncCursor(lambda: iter(docs))


class AsyncDatabase:
    def __init__(self, db: Any) -> None:
        self._db = db

    def __getitem__(self, name: str) -> AsyncCollection:
        return AsyncCollection(self._db[name])

    async def command(self, command: Any, **kwargs: Any) -> Any:
        name = next(iter(command)) if isinstance(command, dict) else command
        if name in ("hello", "isMaster", "ismaster"):
            return {"isWritablePrimary": True, "maxWireVersion": 21, "ok": 1.0}  # a standalone server
        with _as_server_errors():
            return self._db.command(command, **kwargs)


class AsyncMongomockClient:
    """``AsyncMongoClient``'s surface as MongoBackend uses it, over ``mongomock.MongoClient``."""

    def __init__(self) -> None:
        self._client = mongomock.MongoClient()
        self.admin = AsyncDatabase(self._client["admin"])
        self.closed = False

    def __getitem__(self, name: str) -> AsyncDatabase:
        return AsyncDatabase(self._client[name])

    def get_default_database(self, default: str | None = None) -> AsyncDatabase | None:
        return self[default] if default else None

    def start_session(self) -> Any:
        raise NotImplementedError("a standalone server has no transactions")

    async def close(self) -> None:
        self.closed = True
