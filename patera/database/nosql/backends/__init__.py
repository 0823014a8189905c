"""NoSQL backends: the abstract adapter, the embedded SQLite document store and MongoDB."""

from __future__ import annotations

from .base import AsyncNoSqlBackendBase, BoundCollection
from .mongo_backend import MongoBackend
from .sqlite_backend import SqliteDocumentBackend, SqliteSession

__all__ = ("AsyncNoSqlBackendBase", "BoundCollection", "MongoBackend", "SqliteDocumentBackend", "SqliteSession")
