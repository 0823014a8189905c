"""``SqlDatabase``: an async SQLAlchemy engine bound to the app's lifespan, plus sessions.

One instance per database (``db_name``); the engine is created on startup and disposed on
shutdown. Handlers get a session through ``@db.managed_session`` / ``@db.readonly_session``,
which also turn "database unreachable" into a 503 (:class:`DatabaseUnavailable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import RowMapping, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable
from sqlalchemy.util import await_only as await_

from ...extension import BaseExtension, resolve_configs
from .errors import DatabaseUnavailable, is_connection_error

__all__ = ("SqlDatabase",)

P = ParamSpec("P")
R = TypeVar("R")

#: Seconds a SQLite writer waits for the database lock (SQLAlchemy's default pool timeout).
SQLITE_BUSY_TIMEOUT = 30.0
#: Execution option marking a session that may write; on SQLite it begins ``IMMEDIATE``.
_WRITE_OPTION = "patera_write"


class SqlDatabaseConfigs(BaseModel):
    """The ``SQL_DATABASE`` dict (or the dict named by ``configs_name``)."""

    model_config = ConfigDict(extra="allow")

    DATABASE_URI: str
    SESSION_NAME: str = "session"
    SHOW_SQL: bool = False
    NICE_NAME: str | None = None
    ALEMBIC_MIGRATION_DIR: str = "migrations"
    ALEMBIC_DATABASE_URI_SYNC: str | None = None
    CONNECT_TIMEOUT: float = Field(default=5.0, gt=0)
    #: extra keyword arguments for ``create_async_engine`` (pool sizes, …) [new]
    ENGINE_OPTIONS: dict[str, Any] = Field(default_factory=dict)

    @field_validator("DATABASE_URI")
    @classmethod
    def _async_uri(cls, value: str) -> str:
        try:
            dialect = make_url(value).get_dialect()
        except Exception as exc:  # noqa: BLE001 - ArgumentError, NoSuchModuleError, …: all "bad URI"
            raise ValueError(f"invalid DATABASE_URI: {exc}") from None
        if not getattr(dialect, "is_async", False):
            raise ValueError("DATABASE_URI needs an async driver, e.g. sqlite+aiosqlite:///app.db or "
                             "postgresql+asyncpg://user:pass@host/db")
        return value

    @field_validator("SESSION_NAME")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"SESSION_NAME must be a Python identifier, got {value!r}")
        return value


class SqlDatabase(BaseExtension):
    """An SQL database configured from ``configs_name`` (default ``SQL_DATABASE``).

    Raises:
        ValueError: (from ``init_app``) the config dict is missing or invalid.
    """

    def __init__(self, db_name: str = "db", configs_name: str = "SQL_DATABASE") -> None:
        self._db_name = db_name
        self._configs_name = configs_name
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._write_sessions: async_sessionmaker[AsyncSession] | None = None
        self._session_name = "session"
        self._settings: SqlDatabaseConfigs | None = None
        self._is_sqlite = False
        #: an outage has been logged; cleared by the next request that gets through
        self._outage_reported = False

    # ------------------------------------------------------------------ setup

    def init_app(self, app: Any) -> None:
        raw = resolve_configs(app, self._configs_name)
        if not raw:
            raise ValueError(f"Missing configuration {self._configs_name!r} for SqlDatabase {self._db_name!r}")
        if "SESSION_NAME" not in raw and "DATABASE_SESSION_NAME" in raw:
            raw["SESSION_NAME"] = raw["DATABASE_SESSION_NAME"]
        self._configs = self.validate_configs(raw, SqlDatabaseConfigs)
        self._settings = SqlDatabaseConfigs.model_validate(self._configs)
        self._session_name = self._settings.SESSION_NAME
        self._is_sqlite = make_url(self._settings.DATABASE_URI).get_backend_name() == "sqlite"
        self._app = app
        app.add_extension(self)
        app.add_on_startup_method(self.connect)
        app.add_on_shutdown_method(self.disconnect)

    async def connect(self) -> None:
        """Create the engine, then check the database answers (a failure is only a WARNING).

        The app must start even while its database is down; requests answer 503 until it
        is back.
        """
        settings = self._require_settings()
        if self._engine is None:
            self._engine = self._create_engine(settings)
            self._sessions = async_sessionmaker(self._engine, expire_on_commit=False, autoflush=False)
            # NOTE: on SQLite, managed sessions run on an engine view whose transactions begin
            # IMMEDIATE (see _serialise_sqlite_writers); elsewhere they are the same sessions.
            writer = self._engine.execution_options(**{_WRITE_OPTION: True}) if self._is_sqlite else self._engine
            self._write_sessions = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)
        try:
            await asyncio.wait_for(self._ping(self._engine), settings.CONNECT_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any failure here is an outage, reported below
            logger.warning("Database {!r} is unreachable at startup ({}: {}); requests needing it answer 503 "
                           "until it is back", self._db_name, type(exc).__name__, exc)

    async def disconnect(self) -> None:
        """Dispose of the engine and its pooled connections."""
        engine, self._engine, self._sessions, self._write_sessions = self._engine, None, None, None
        if engine is not None:
            await engine.dispose()

    def _create_engine(self, settings: SqlDatabaseConfigs) -> AsyncEngine:
        url = make_url(settings.DATABASE_URI)
        options: dict[str, Any] = {"pool_pre_ping": True, "echo": settings.SHOW_SQL, **settings.ENGINE_OPTIONS}
        connect_args = dict(options.pop("connect_args", {}))
        bounded_ping = False
        if url.get_driver_name() == "asyncpg":
            # Bounds the whole handshake, so a server that accepts but never answers is "down".
            connect_args.setdefault("timeout", settings.CONNECT_TIMEOUT)
            # SQLAlchemy's own pre-ping has no timeout (a frozen server would hang the request)
            # and takes three round trips; ours takes one and gives up.
            bounded_ping, options["pool_pre_ping"] = bool(options["pool_pre_ping"]), False
        elif url.get_driver_name() == "aiosqlite":
            # NOTE: SQLite's "timeout" is how long a writer waits for the lock: waiting under load,
            # not an outage, so it gets SQLAlchemy's pool timeout rather than CONNECT_TIMEOUT.
            connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
        engine = create_async_engine(url, connect_args=connect_args, **options)
        if self._is_sqlite:
            _serialise_sqlite_writers(engine)
        if bounded_ping:
            _ping_on_checkout(engine, settings.CONNECT_TIMEOUT)
        return engine

    @staticmethod
    async def _ping(engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    def _require_settings(self) -> SqlDatabaseConfigs:
        if self._settings is None:
            raise RuntimeError(f"SqlDatabase {self._db_name!r} is not initialised: call init_app(app) first")
        return self._settings

    # ------------------------------------------------------------------ properties

    @property
    def db_name(self) -> str:
        return self._db_name

    @property
    def db_uri(self) -> str:
        return self._require_settings().DATABASE_URI

    @property
    def session_name(self) -> str:
        return self._session_name

    @property
    def connect_timeout(self) -> float:
        return self._require_settings().CONNECT_TIMEOUT

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError(f"SqlDatabase {self._db_name!r} is not connected (connect() runs on app startup)")
        return self._engine

    @property
    def models_list(self) -> list[Any]:
        """The ``MODELS`` the app loaded for this database."""
        return list(self.app.models.get(self._db_name, ()))

    # ------------------------------------------------------------------ sessions

    def create_session(self) -> AsyncSession:
        """A new session the caller must commit/roll back and close.

        Raises:
            RuntimeError: the database is not connected.
        """
        if self._sessions is None:
            raise RuntimeError(f"SqlDatabase {self._db_name!r} is not connected (connect() runs on app startup)")
        return self._sessions()

    async def execute_raw(self, statement: str | Executable, *, as_transaction: bool = False) -> list[RowMapping]:
        """Run one statement; rows as mappings (empty for statements that return none).

        Without ``as_transaction`` the statement runs in autocommit mode; with it, inside a
        transaction that commits on success and rolls back on error.

        Raises:
            DatabaseUnavailable: the database cannot be reached.
        """
        stmt = text(statement) if isinstance(statement, str) else statement
        engine = self.engine
        try:
            if as_transaction:
                async with engine.begin() as conn:
                    result = await conn.execute(stmt)
                    return list(result.mappings().all()) if result.returns_rows else []
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                result = await conn.execute(stmt)
                return list(result.mappings().all()) if result.returns_rows else []
        except Exception as exc:
            if is_connection_error(exc):
                raise self._unavailable(exc) from exc
            raise

    def _unavailable(self, cause: BaseException) -> DatabaseUnavailable:
        """The 503 for ``cause``; the first one of an outage is logged as a WARNING."""
        if not self._outage_reported:
            self._outage_reported = True
            logger.warning("Database {!r} unavailable ({}: {}); answering 503 until it is back",
                           self._db_name, type(cause).__name__, cause)
        return DatabaseUnavailable()

    def managed_session(self, handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Inject a session as ``SESSION_NAME``; commit on return, roll back on error, always close."""

        @functools.wraps(handler)
        async def with_managed_session(*args: Any, **kwargs: Any) -> R:
            if self._write_sessions is None:
                raise RuntimeError(f"SqlDatabase {self._db_name!r} is not connected (connect() runs on app startup)")
            session = self._write_sessions()
            kwargs[self._session_name] = session
            try:
                result = await handler(*args, **kwargs)
                if _has_work(session):
                    await session.commit()
                self._outage_reported = False
                return result
            except BaseException as exc:
                await _rollback_quietly(session)
                if isinstance(exc, Exception) and not isinstance(exc, DatabaseUnavailable) and is_connection_error(exc):
                    raise self._unavailable(exc) from exc
                raise
            finally:
                await _close_quietly(session)

        return with_managed_session

    def readonly_session(self, handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Inject a session as ``SESSION_NAME`` that is always rolled back and closed."""

        @functools.wraps(handler)
        async def with_readonly_session(*args: Any, **kwargs: Any) -> R:
            session = self.create_session()
            kwargs[self._session_name] = session
            try:
                result = await handler(*args, **kwargs)
                self._outage_reported = False
                return result
            except Exception as exc:
                if not isinstance(exc, DatabaseUnavailable) and is_connection_error(exc):
                    raise self._unavailable(exc) from exc
                raise
            finally:
                await _rollback_quietly(session)
                await _close_quietly(session)

        return with_readonly_session

    def managed_session_for_cli(self, handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """``managed_session`` for CLI commands: connects first (unless connected) and disconnects after."""
        managed = self.managed_session(handler)

        @functools.wraps(handler)
        async def with_cli_session(*args: Any, **kwargs: Any) -> R:
            connected_here = self._engine is None
            if connected_here:
                await self.connect()
            try:
                return await managed(*args, **kwargs)
            finally:
                if connected_here:
                    await self.disconnect()

        return with_cli_session


def _ping_on_checkout(engine: AsyncEngine, timeout: float) -> None:
    """Check each pooled asyncpg connection before use, giving up after ``timeout`` seconds.

    A failed ping makes the pool drop the connection and open a new one (bounded by the
    connect timeout), so a frozen or restarted server costs at most both timeouts. The
    timeout is the full ``CONNECT_TIMEOUT``: the ping is also delayed by a busy event loop,
    and a loaded app must not mistake its own lag for an outage.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        try:
            # NOTE: execute() without arguments uses the simple query protocol: no prepared
            # statement, one round trip.
            await_(asyncio.wait_for(driver.execute("SELECT 1"), timeout))
        except Exception as exc:
            # Abort the socket now: SQLAlchemy's invalidation would first try a graceful close,
            # which waits another 2 s on a server that does not answer.
            with contextlib.suppress(Exception):
                driver.terminate()
            raise DisconnectionError(f"connection check failed: {type(exc).__name__}: {exc}") from exc


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """Let SQLAlchemy emit BEGIN itself so writers can take SQLite's write lock up front.

    The sqlite3 module defers BEGIN until the first write, so two read-modify-write
    transactions could both read before either writes (a lost update, or "database is
    locked" on upgrade). ``BEGIN IMMEDIATE`` takes the write lock when the transaction
    starts; concurrent writers then wait on the busy timeout (``CONNECT_TIMEOUT``).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _own_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE_OPTION, False) else "BEGIN")


def _has_work(session: AsyncSession) -> bool:
    """Whether committing could change anything (an open transaction or pending objects)."""
    # PERF: committing an idle session still costs two greenlet switches (~100 µs).
    return session.in_transaction() or bool(session.new or session.deleted or session.dirty)


async def _rollback_quietly(session: AsyncSession) -> None:
    if not session.in_transaction():
        return
    # NOTE: on a dead connection the rollback fails as well; the caller's error is what matters.
    with contextlib.suppress(Exception):
        await session.rollback()


async def _close_quietly(session: AsyncSession) -> None:
    try:
        if session.in_transaction():
            await session.close()
        else:
            # PERF: without a transaction no connection is held, so closing does no I/O and
            # needs no trip through SQLAlchemy's greenlet bridge.
            session.sync_session.close()
    except Exception as exc:  # noqa: BLE001 - closing must never replace the handler's outcome
        logger.debug("closing a database session failed: {}", exc)
