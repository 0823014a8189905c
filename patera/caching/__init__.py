"""Response caching extension (SPEC §17.2): memory, SQLite and Redis backends.

Memory and SQLite need nothing beyond the stdlib; Redis needs ``pip install "patera[cache]"``.
"""

from __future__ import annotations

from .backends.base import BaseCacheBackend
from .cache import Cache, CacheConfig

__all__ = ("BaseCacheBackend", "Cache", "CacheConfig")
