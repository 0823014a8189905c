"""NoSQL document databases (SPEC §17.7): ``NoSqlDatabase`` with the embedded SQLite document
store or MongoDB. Needs nothing for SQLite; ``pip install "patera[nosql]"`` for MongoDB."""

from __future__ import annotations

from .backends import AsyncNoSqlBackendBase, MongoBackend, SqliteDocumentBackend
from .exceptions import DuplicateKeyError, InvalidQuery, NoSqlError
from .extension import NoSqlDatabase, NoSqlHandle
from .results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

__all__ = (
    "AsyncNoSqlBackendBase",
    "DeleteResult",
    "DuplicateKeyError",
    "InsertManyResult",
    "InsertOneResult",
    "InvalidQuery",
    "MongoBackend",
    "NoSqlDatabase",
    "NoSqlError",
    "NoSqlHandle",
    "SqliteDocumentBackend",
    "UpdateResult",
)
