"""Errors every NoSQL backend raises for the same mistakes, so handlers catch one type."""

from __future__ import annotations

from ...exceptions import BaseHttpException

__all__ = ("DuplicateKeyError", "InvalidQuery", "NoSqlError")


class NoSqlError(BaseHttpException):
    """Base of the NoSQL extension's errors (500 unless a subclass says otherwise)."""


class InvalidQuery(NoSqlError, ValueError):
    """A filter, update, sort or pipeline the backend cannot run: unknown operator, wrong shape.

    Answers 400: filters are often built from request data, and a malformed one is the
    client's mistake, never an internal error. Also a ``ValueError`` for code outside HTTP.
    """

    default_status_code = 400
    default_message = "Invalid query"


class DuplicateKeyError(NoSqlError):
    """An insert or upsert reused an existing ``_id``. Answers 409."""

    default_status_code = 409
    default_message = "Duplicate key"
