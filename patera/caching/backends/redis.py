"""Redis cache through the ``redis`` package's asyncio client [extra:cache].

``redis`` is imported when the backend is configured, so ``patera.caching`` works
without it; a missing package raises ``MissingDependency`` naming ``patera[cache]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...exceptions import MissingDependency
from ...extension import AppLike
from .base import BaseCacheBackend, dumps_entry, loads_entry

__all__ = ("RedisCacheBackend", "require_redis")

#: Keys deleted per UNLINK while clearing the namespace.
CLEAR_BATCH = 500


def require_redis() -> Any:
    """The ``redis.asyncio`` module.

    Raises:
        MissingDependency: the ``redis`` package is not installed.
    """
    try:
        import redis.asyncio as redis_asyncio
    except ImportError as exc:
        raise MissingDependency("redis", extra="cache", feature="the Redis cache backend") from exc
    return redis_asyncio


def _glob_escape(text: str) -> str:
    """``text`` matched literally by Redis' glob-style MATCH."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class RedisCacheBackend(BaseCacheBackend):
    """``SET key value EX ttl`` under ``KEY_PREFIX``; ``clear()`` SCANs and UNLINKs that prefix only.

    Commands are not retried and time out after ``REDIS_SOCKET_TIMEOUT`` seconds (default
    1), so an unreachable server costs a request a fast miss, not a hang; the client
    reconnects on its own once the server is back. Several processes pointing at one
    server with one prefix share one cache.
    """

    default_key_prefix: ClassVar[str] = "patera:cache:"

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        key_prefix: str = "patera:cache:",
        default_duration: int = 300,
        socket_timeout: float = 1.0,
    ) -> None:
        if not url:
            raise ValueError("REDIS_URL is required for the Redis cache backend")
        if not key_prefix:
            # NOTE: clear() deletes the prefix's keys; an empty prefix would mean the whole database.
            raise ValueError("KEY_PREFIX must not be empty for the Redis cache backend")
        self._redis = require_redis()
        self.url = url
        self.password = password
        self.key_prefix = key_prefix
        self.default_duration = default_duration
        self.socket_timeout = socket_timeout
        self._client: Any = None

    @classmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> RedisCacheBackend:
        prefix = configs.get("KEY_PREFIX")
        return cls(
            str(configs.get("REDIS_URL") or ""),
            password=configs.get("REDIS_PASSWORD"),
            key_prefix=cls.default_key_prefix if prefix is None else str(prefix),
            default_duration=int(configs.get("DURATION", 300)),
            socket_timeout=float(configs.get("REDIS_SOCKET_TIMEOUT", 1.0)),
        )

    @property
    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client, created on first use."""
        if self._client is None:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            options: dict[str, Any] = {
                "socket_timeout": self.socket_timeout,
                "socket_connect_timeout": self.socket_timeout,
                "retry": Retry(NoBackoff(), 0),
            }
            if self.password is not None:
                options["password"] = self.password
            self._client = self._redis.Redis.from_url(self.url, **options)
        return self._client

    async def connect(self) -> None:
        await self.client.ping()

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.client.get(self.key_prefix + key)
        return None if raw is None else loads_entry(raw)

    async def set(self, key: str, value: dict[str, Any], duration: int | None = None) -> None:
        ttl = self.default_duration if duration is None else duration
        await self.client.set(self.key_prefix + key, dumps_entry(value), ex=ttl)

    async def delete(self, key: str) -> None:
        await self.client.delete(self.key_prefix + key)

    async def clear(self) -> None:
        client = self.client
        batch: list[Any] = []
        async for name in client.scan_iter(match=_glob_escape(self.key_prefix) + "*", count=CLEAR_BATCH):
            batch.append(name)
            if len(batch) >= CLEAR_BATCH:
                await client.unlink(*batch)
                batch = []
        if batch:
            await client.unlink(*batch)
