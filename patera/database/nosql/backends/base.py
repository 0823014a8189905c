"""``AsyncNoSqlBackendBase``: the adapter a document store implements for ``NoSqlDatabase``.

The abstract methods are exactly the original README's, so a backend written for the
original keeps working. ``end_session`` is the one addition, with a default that does nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ....extension import AppLike

__all__ = ("AsyncNoSqlBackendBase", "BoundCollection")


class AsyncNoSqlBackendBase(ABC):
    """Minimal async adapter interface a backend must implement."""

    @classmethod
    @abstractmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> AsyncNoSqlBackendBase:
        """Build the backend from the resolved ``NOSQL_DATABASE`` config (called by ``init_app``)."""

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    def database_handle(self) -> Any:
        """The object representing the database (a client handle where there is no database concept)."""

    @abstractmethod
    def supports_transactions(self) -> bool: ...

    @abstractmethod
    async def start_session(self) -> Any:
        """A session usable in :meth:`with_transaction`, or ``None`` when unsupported."""

    @abstractmethod
    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None, **kwargs: Any) -> Any:
        """Run ``fn(*args, session=session, **kwargs)`` in a transaction: commit on return, abort on error."""

    async def end_session(self, session: Any) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release a session from :meth:`start_session`. Default: nothing to release."""

    @abstractmethod
    def get_collection(self, name: str) -> Any: ...

    @abstractmethod
    async def find_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
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
    ) -> list[Any]: ...

    @abstractmethod
    async def insert_one(
        self, collection: str, doc: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def insert_many(
        self, collection: str, docs: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def update_one(
        self,
        collection: str,
        filter: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        upsert: bool = False,
        session: Any = None,
        **kwargs: Any,
    ) -> Any: ...

    @abstractmethod
    async def delete_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def aggregate(
        self, collection: str, pipeline: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> list[Any]: ...

    @abstractmethod
    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """Escape hatch for backend-specific commands."""


class BoundCollection:
    """One collection of a backend: the generic methods without the collection argument."""

    __slots__ = ("backend", "name")

    def __init__(self, backend: AsyncNoSqlBackendBase, name: str) -> None:
        self.backend = backend
        self.name = name

    async def find_one(self, filter: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.find_one(self.name, filter, **kwargs)

    async def find_many(self, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        return await self.backend.find_many(self.name, filter, **kwargs)

    async def insert_one(self, doc: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.insert_one(self.name, doc, **kwargs)

    async def insert_many(self, docs: Iterable[Mapping[str, Any]], **kwargs: Any) -> Any:
        return await self.backend.insert_many(self.name, docs, **kwargs)

    async def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.update_one(self.name, filter, update, **kwargs)

    async def delete_one(self, filter: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.delete_one(self.name, filter, **kwargs)

    async def aggregate(self, pipeline: Iterable[Mapping[str, Any]], **kwargs: Any) -> list[Any]:
        return await self.backend.aggregate(self.name, pipeline, **kwargs)

    def __repr__(self) -> str:
        return f"<BoundCollection {self.name!r} of {type(self.backend).__name__}>"
