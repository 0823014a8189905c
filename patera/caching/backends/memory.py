"""In-process LRU cache with per-entry TTLs (the default backend)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, ClassVar

from ...extension import AppLike
from .base import BaseCacheBackend

__all__ = ("MemoryCacheBackend",)


class MemoryCacheBackend(BaseCacheBackend):
    """An ordered dict, least recently used first; at most ``MEMORY_MAXSIZE`` entries.

    Each process has its own: workers of one app do not share it (use Redis for that).
    Values are kept as given, not serialised; the ``Cache`` hands out copies.
    """

    trusted_entries: ClassVar[bool] = True

    def __init__(self, maxsize: int = 10_000, default_duration: int = 300) -> None:
        if maxsize < 1:
            raise ValueError("MEMORY_MAXSIZE must be at least 1")
        self.maxsize = maxsize
        self.default_duration = default_duration
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    @classmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> MemoryCacheBackend:
        return cls(int(configs.get("MEMORY_MAXSIZE", 10_000)), int(configs.get("DURATION", 300)))

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._entries.clear()

    async def get(self, key: str) -> dict[str, Any] | None:
        entries = self._entries
        found = entries.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del entries[key]
            return None
        entries.move_to_end(key)
        return found[1]

    async def set(self, key: str, value: dict[str, Any], duration: int | None = None) -> None:
        entries = self._entries
        ttl = self.default_duration if duration is None else duration
        entries[key] = (time.monotonic() + ttl, value)
        entries.move_to_end(key)
        while len(entries) > self.maxsize:
            entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
