"""``NoSqlDatabase``: a document store bound to the app's lifespan, and ``@managed_database``."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..._background import run_sync_or_async
from ...exceptions import ImproperlyConfigured
from ...extension import AppLike, BaseExtension, resolve_configs
from .backends.base import AsyncNoSqlBackendBase

__all__ = ("NoSqlDatabase", "NoSqlHandle")

_SHORT_NAMES = {
    "sqlite": ".backends.sqlite_backend:SqliteDocumentBackend",
    "mongo": ".backends.mongo_backend:MongoBackend",
    "mongodb": ".backends.mongo_backend:MongoBackend",
}
_ALIASES = {"DATABASE_NAME": "DATABASE", "INJECT_NAME": "DB_INJECT_NAME"}


class _NoSqlConfig(BaseModel):
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    BACKEND: Any = "sqlite"
    DATABASE_URI: str
    DATABASE: str | None = None
    DB_INJECT_NAME: str = "db"
    SESSION_NAME: str = "session"
    NICE_NAME: str | None = None


def _backend_class(value: Any) -> type[AsyncNoSqlBackendBase]:
    """A backend class from a class, an import string ``pkg.mod:Class`` or ``sqlite``/``mongo``."""
    target = value
    if isinstance(value, str):
        spec = _SHORT_NAMES.get(value.lower(), value)
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name, package=__package__ if module_name.startswith(".") else None)
            target = getattr(module, attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ImproperlyConfigured(f"NoSQL BACKEND {value!r} could not be imported: {exc}") from exc
    if not (isinstance(target, type) and issubclass(target, AsyncNoSqlBackendBase)):
        raise ImproperlyConfigured(f"NoSQL BACKEND must be a subclass of AsyncNoSqlBackendBase, got {value!r}")
    return target


def _configure(backend_cls: type[AsyncNoSqlBackendBase], app: AppLike, configs: dict[str, Any], prefix: str) -> Any:
    """Call ``configure_from_app``; a backend written against the original README names its
    second parameter ``variable_prefix`` and receives the prefix string instead of the dict."""
    params = list(inspect.signature(backend_cls.configure_from_app).parameters)
    if len(params) >= 2 and params[1] == "variable_prefix":
        return backend_cls.configure_from_app(app, prefix)  # type: ignore[arg-type]
    return backend_cls.configure_from_app(app, configs)


class NoSqlHandle:
    """What ``@managed_database`` injects: the extension's methods bound to the request's session.

    ``await db.insert_one("users", {...})`` runs inside the managed transaction without passing
    ``session=`` (passing it explicitly, as the original README does, works too). Item and
    attribute access fall through to the backend's own handle (``db["users"]``, ``db.command``).
    """

    __slots__ = ("_db", "session")

    def __init__(self, db: NoSqlDatabase, session: Any) -> None:
        self._db = db
        self.session = session

    def _kw(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.session is not None:
            kwargs.setdefault("session", self.session)
        return kwargs

    @property
    def native(self) -> Any:
        """The backend's ``database_handle()`` (a pymongo database for ``MongoBackend``)."""
        return self._db.database_handle()

    def get_collection(self, name: str) -> Any:
        return self._db.get_collection(name)

    def __getitem__(self, name: str) -> Any:
        return self._db.get_collection(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db.database_handle(), name)

    async def find_one(self, collection: str, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return await self._db.find_one(collection, filter or {}, **self._kw(kwargs))

    async def find_many(self, collection: str, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        return await self._db.find_many(collection, filter, **self._kw(kwargs))

    async def insert_one(self, collection: str, doc: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self._db.insert_one(collection, doc, **self._kw(kwargs))

    async def insert_many(self, collection: str, docs: Iterable[Mapping[str, Any]], **kwargs: Any) -> Any:
        return await self._db.insert_many(collection, docs, **self._kw(kwargs))

    async def update_one(
        self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        return await self._db.update_one(collection, filter, update, **self._kw(kwargs))

    async def delete_one(self, collection: str, filter: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self._db.delete_one(collection, filter, **self._kw(kwargs))

    async def aggregate(self, collection: str, pipeline: Iterable[Mapping[str, Any]], **kwargs: Any) -> list[Any]:
        return await self._db.aggregate(collection, pipeline, **self._kw(kwargs))

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        return await self._db.execute_raw(*args, **kwargs)


class NoSqlDatabase(BaseExtension):
    """A document database configured from ``NOSQL_DATABASE`` (see SPEC §17.7)."""

    def __init__(
        self, db_name: str = "nosql", configs_name: str = "NOSQL_DATABASE", variable_prefix: str | None = None
    ) -> None:
        self.__db_name__ = db_name
        self._configs_name = configs_name
        self._variable_prefix = variable_prefix or ""
        self._backend: AsyncNoSqlBackendBase | None = None
        self._inject_name = "db"
        self._session_name = "session"

    def init_app(self, app: AppLike) -> None:
        raw = resolve_configs(app, self._configs_name, self._variable_prefix or None)
        if not raw:
            raise ImproperlyConfigured(f"Missing configuration {self._variable_prefix}{self._configs_name}")
        for alias, key in _ALIASES.items():
            if alias in raw:
                raw.setdefault(key, raw.pop(alias))
        configs = self.validate_configs(raw, _NoSqlConfig)
        backend_cls = _backend_class(configs["BACKEND"])
        self._app = app
        self._configs = configs
        self._inject_name = configs["DB_INJECT_NAME"]
        self._session_name = configs["SESSION_NAME"]
        self._backend = _configure(backend_cls, app, configs, self._variable_prefix)
        app.add_extension(self)
        app.add_on_startup_method(self.connect)
        app.add_on_shutdown_method(self.disconnect)

    # ------------------------------------------------------------------ properties

    @property
    def variable_prefix(self) -> str:
        return self._variable_prefix

    @property
    def db_name(self) -> str:
        return self.__db_name__

    @property
    def inject_name(self) -> str:
        return self._inject_name

    @property
    def session_name(self) -> str:
        return self._session_name

    @property
    def backend(self) -> AsyncNoSqlBackendBase:
        if self._backend is None:
            raise RuntimeError("Backend not configured. Was init_app/connect called?")
        return self._backend

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        await self.backend.connect()

    async def disconnect(self) -> None:
        if self._backend is not None:
            await self._backend.disconnect()

    # ------------------------------------------------------------------ delegation

    def database_handle(self) -> Any:
        return self.backend.database_handle()

    def get_collection(self, name: str) -> Any:
        return self.backend.get_collection(name)

    async def find_one(self, collection: str, filter: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.find_one(collection, filter, **kwargs)

    async def find_many(self, collection: str, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        return await self.backend.find_many(collection, filter, **kwargs)

    async def insert_one(self, collection: str, doc: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.insert_one(collection, doc, **kwargs)

    async def insert_many(self, collection: str, docs: Iterable[Mapping[str, Any]], **kwargs: Any) -> Any:
        return await self.backend.insert_many(collection, docs, **kwargs)

    async def update_one(
        self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        return await self.backend.update_one(collection, filter, update, **kwargs)

    async def delete_one(self, collection: str, filter: Mapping[str, Any], **kwargs: Any) -> Any:
        return await self.backend.delete_one(collection, filter, **kwargs)

    async def aggregate(self, collection: str, pipeline: Iterable[Mapping[str, Any]], **kwargs: Any) -> list[Any]:
        return await self.backend.aggregate(collection, pipeline, **kwargs)

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """Backend-specific escape hatch (SQL for the SQLite store, ``db.command`` for Mongo)."""
        return await self.backend.execute_raw(*args, **kwargs)

    # ------------------------------------------------------------------ managed handlers

    def managed_database(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Inject a :class:`NoSqlHandle` as ``DB_INJECT_NAME`` and, when the handler takes it,
        the session as ``SESSION_NAME``; with transactions: commit on return, abort on exception."""
        params = inspect.signature(handler).parameters
        session_name = self._session_name
        wants_session = session_name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())

        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            backend = self.backend
            if not backend.supports_transactions():
                return await self._call(handler, None, args, kwargs, wants_session)
            started = await backend.start_session()
            try:

                async def in_transaction(*_: Any, session: Any = None, **__: Any) -> Any:
                    active = session if session is not None else started
                    return await self._call(handler, active, args, kwargs, wants_session)

                return await backend.with_transaction(in_transaction, session=started)
            finally:
                await backend.end_session(started)

        return wrapper

    async def _call(
        self,
        handler: Callable[..., Any],
        session: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wants_session: bool,
    ) -> Any:
        injected = {**kwargs, self._inject_name: NoSqlHandle(self, session)}
        if wants_session:
            injected[self._session_name] = session
        return await run_sync_or_async(handler, *args, **injected)
