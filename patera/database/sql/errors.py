"""Telling "the database is unreachable" apart from every other database error.

An unreachable database is an operational condition, not a bug: requests that need it
answer 503 instead of 500, and nothing has to be restarted when it comes back.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc as sa_exc

from ...exceptions import BaseHttpException

__all__ = ("DatabaseUnavailable", "is_connection_error")

#: Driver exception class names that mean the connection is gone or cannot be made
#: (asyncpg's; SQLAlchemy wraps them, so they are matched by name on ``exc.orig``).
_DRIVER_CONNECTION_ERRORS = frozenset({
    "ConnectionDoesNotExistError", "ConnectionFailureError", "CannotConnectNowError", "AdminShutdownError",
    "CrashShutdownError", "ConnectionRejectionError", "TooManyConnectionsError", "ClientCannotConnectError",
    "PostgresConnectionError",
})
_DRIVER_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite")


class DatabaseUnavailable(BaseHttpException):
    """The database could not be reached; answered as 503 ``Database unavailable``."""

    default_status_code = 503
    default_message = "Database unavailable"


def is_connection_error(exc: BaseException) -> bool:
    """True when ``exc`` means the database is unreachable rather than the query is wrong."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return _is_driver_connection_error(exc.orig)
    if isinstance(exc, (OSError, TimeoutError)):
        # Connect failures surface unwrapped (refused, unreachable, handshake timeout); only
        # those raised inside the database stack count, not a handler's own network calls.
        return _raised_in_driver(exc.__traceback__)
    return False


def _is_driver_connection_error(orig: BaseException | None) -> bool:
    seen = 0
    while orig is not None and seen < 5:
        if isinstance(orig, (OSError, TimeoutError)) or type(orig).__name__ in _DRIVER_CONNECTION_ERRORS:
            return True
        orig = orig.__cause__ or orig.__context__
        seen += 1
    return False


def _raised_in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False
