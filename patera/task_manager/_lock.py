"""Redis-backed fire-time claims, so app processes sharing a Redis run each fire once.

A claim is ``SET key value NX PX ttl``: the first process to set the key runs that fire
time; the key is never deleted, only expires, so a late process cannot run it again and
a process that dies holding it blocks nothing but that one fire time.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from ..exceptions import MissingDependency

__all__ = ("RedisFireLock",)

#: A lock store that does not answer within this makes the run skip rather than stall.
_SOCKET_TIMEOUT = 2.0


class RedisFireLock:
    def __init__(self, url: str) -> None:
        try:
            import redis.asyncio as redis_asyncio
        except ImportError as exc:
            raise MissingDependency("redis", extra="cache", feature="TASK_MANAGER LOCK_URL") from exc
        self._client: Any = redis_asyncio.from_url(
            url, socket_timeout=_SOCKET_TIMEOUT, socket_connect_timeout=_SOCKET_TIMEOUT
        )
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    async def acquire(self, key: str, ttl_ms: int) -> bool:
        return bool(await self._client.set(key, self._owner, nx=True, px=max(1, ttl_ms)))

    async def close(self) -> None:
        await self._client.aclose()
