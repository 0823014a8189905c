"""Cache storages: memory (default), SQLite (stdlib) and Redis (``patera[cache]``)."""

from __future__ import annotations

from .base import BaseCacheBackend, dumps_entry, loads_entry
from .memory import MemoryCacheBackend
from .redis import RedisCacheBackend
from .sqlite import SQLiteCacheBackend

#: Alias with the capitalisation some ports use.
SqliteCacheBackend = SQLiteCacheBackend

__all__ = (
    "BaseCacheBackend",
    "MemoryCacheBackend",
    "RedisCacheBackend",
    "SQLiteCacheBackend",
    "SqliteCacheBackend",
    "dumps_entry",
    "loads_entry",
)
