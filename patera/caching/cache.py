"""The ``Cache`` extension: ``@cache.cache(duration)`` for endpoints, plus get/set/delete/clear.

The cache is best effort. A backend error is logged once per outage (WARNING) and the
request carries on as a miss; the first success afterwards logs the recovery.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from .._dispatch import response_adapter
from ..controller.decorators import SPEC_ATTR, EndpointSpec
from ..extension import AppLike, BaseExtension, resolve_configs
from ..response import Response
from ._responses import (
    RAW_HEADERS,
    is_entry,
    request_key,
    response_entry,
    restore,
    storable_entry,
    user_identity,
    variant_key,
)
from .backends.base import BaseCacheBackend, dumps_entry, loads_entry

__all__ = ("Cache", "CacheConfig", "resolve_backend")

F = TypeVar("F", bound=Callable[..., Any])
_MISS: Any = None
#: Operation → the kind of access it needs; recovery is tracked per kind.
_KINDS = {"get": "read", "connect": "read", "set": "write", "delete": "write", "clear": "write", "disconnect": "read"}
_BUILTIN_BACKENDS = {
    "memory": "MemoryCacheBackend",
    "sqlite": "SQLiteCacheBackend",
    "redis": "RedisCacheBackend",
}


class CacheConfig(BaseModel):
    """The ``CACHE`` config dict; flat ``CACHE_<KEY>`` (or ``<prefix>CACHE_<KEY>``) keys overlay it."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    BACKEND: Any = "memory"
    DURATION: int = Field(300, gt=0)
    KEY_PREFIX: str | None = None
    MEMORY_MAXSIZE: int = Field(10_000, ge=1)
    SQLITE_PATH: str = "./pyjolt_cache.db"
    SQLITE_TABLE: str = "cache_entries"
    SQLITE_WAL_CHECKPOINT_MODE: str = "PASSIVE"
    SQLITE_WAL_CHECKPOINT_EVERY: int = Field(100, ge=1)
    REDIS_URL: str | None = None
    REDIS_PASSWORD: str | None = None
    REDIS_SOCKET_TIMEOUT: float = Field(1.0, gt=0)


def resolve_backend(backend: Any) -> type[BaseCacheBackend]:
    """A backend class from a class, an import string (``module:Name``) or a built-in name."""
    if isinstance(backend, str):
        builtin = _BUILTIN_BACKENDS.get(backend.strip().lower())
        if builtin is not None:
            from . import backends

            backend = getattr(backends, builtin)
        else:
            from ..app import load_import_string

            spec = backend if ":" in backend else ":".join(backend.rsplit(".", 1))
            backend = load_import_string(spec)
    if not (isinstance(backend, type) and issubclass(backend, BaseCacheBackend)):
        raise ValueError(
            f"Invalid configuration for CACHE: BACKEND must be a BaseCacheBackend subclass, got {backend!r}"
        )
    return backend


#: Only these are answered from the cache: the key does not hash a request body.
_CACHEABLE_METHODS = frozenset({"GET", "HEAD"})


def _has_authorization(scope: Any) -> bool:
    """NOTE: RFC 9111 §3.5 — credentials the app did not turn into ``req.user`` may shape the answer."""
    return any(name == b"authorization" for name, _ in scope["headers"])


def _check_duration(duration: Any) -> int | None:
    if duration is None:
        return None
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise ValueError(f"cache duration must be a positive number of seconds, got {duration!r}")
    return duration


class Cache(BaseExtension):
    """Response cache with a pluggable backend (SPEC §17.2).

    Args:
        configs_name: the config dict to read (``CACHE``).
        variable_prefix: read ``<prefix>CACHE`` / ``<prefix>CACHE_<KEY>`` instead, so several
            caches can be configured side by side.
    """

    def __init__(self, configs_name: str = "CACHE", variable_prefix: str | None = None) -> None:
        self._base_name = configs_name
        self._variable_prefix = variable_prefix
        self._configs_name = f"{variable_prefix}{configs_name}" if variable_prefix else configs_name
        self._backend: BaseCacheBackend | None = None
        self._failing: set[str] = set()
        self._default_duration = 300

    # ------------------------------------------------------------------ setup

    def init_app(self, app: AppLike) -> None:
        raw = resolve_configs(app, self._base_name, self._variable_prefix)
        configs = self.validate_configs(raw, CacheConfig)
        backend_cls = resolve_backend(configs["BACKEND"])
        if configs.get("KEY_PREFIX") is None:
            configs["KEY_PREFIX"] = backend_cls.default_key_prefix
        self._configs = configs
        self._default_duration = int(configs["DURATION"])
        self._backend = backend_cls.configure_from_app(app, configs)
        self._app = app
        app.add_extension(self)
        app.add_on_startup_method(self.connect)
        app.add_on_shutdown_method(self.disconnect)

    @property
    def backend(self) -> BaseCacheBackend:
        if self._backend is None:
            raise RuntimeError("Cache is not initialised: list it in EXTENSIONS or call init_app(app)")
        return self._backend

    @property
    def default_duration(self) -> int:
        return self._default_duration

    async def connect(self) -> None:
        """Connect the backend; an unreachable one is an outage, not a failed startup."""
        await self._attempt("connect", self.backend.connect)

    async def disconnect(self) -> None:
        await self._attempt("disconnect", self.backend.disconnect)

    # ------------------------------------------------------------------ outage handling

    def _failed(self, what: str, exc: Exception) -> None:
        # Reads and writes can fail apart (a locked SQLite file still reads in WAL mode):
        # the outage lasts until every kind that failed has worked again.
        if not self._failing:
            logger.warning(
                "Cache backend {} failed on {} ({}: {}); serving without the cache until it recovers",
                type(self.backend).__name__,
                what,
                type(exc).__name__,
                exc,
            )
        else:
            logger.debug("Cache backend still failing on {}: {!r}", what, exc)
        self._failing.add(_KINDS.get(what, what))

    def _worked(self, what: str) -> None:
        kind = _KINDS.get(what, what)
        if kind in self._failing:
            self._failing.discard(kind)
            if not self._failing:
                logger.info("Cache backend {} recovered", type(self.backend).__name__)

    async def _attempt(self, what: str, operation: Callable[..., Any], *args: Any) -> Any:
        """``await operation(*args)``; a failure is logged (once per outage) and gives ``None``."""
        try:
            result = await operation(*args)
        except Exception as exc:  # noqa: BLE001 - any backend failure is a miss (SPEC §17.2)
            self._failed(what, exc)
            return _MISS
        if self._failing:
            self._worked(what)
        return result

    async def _lookup(self, key: str) -> Any:
        return await self._attempt("get", self.backend.get, key)

    # ------------------------------------------------------------------ manual API

    async def get(self, key: str) -> dict[str, Any] | None:
        """The stored value for ``key`` (a copy), or ``None``."""
        value = await self._lookup(key)
        if not isinstance(value, dict):
            return None
        try:
            return loads_entry(dumps_entry({k: v for k, v in value.items() if k != RAW_HEADERS}))  # a deep copy
        except (TypeError, ValueError):
            return None

    async def set(self, key: str, value: Response[Any] | dict[str, Any], duration: int | None = None) -> None:
        """Store a Response (as status, headers without ``Set-Cookie``, rendered body) or a JSON dict.

        Raises:
            TypeError: ``value`` is neither, or holds something JSON cannot represent.
            ValueError: ``duration`` is not a positive int.
        """
        ttl = _check_duration(duration) or self._default_duration
        if isinstance(value, Response):
            entry = response_entry(value, value.status_code)
        elif isinstance(value, dict):
            # a deep copy, holding only what every backend can store
            entry = loads_entry(dumps_entry(value)) or {}
        else:
            raise TypeError(f"cache values are Responses or dicts, got {type(value).__name__}")
        await self._attempt("set", self.backend.set, key, entry, ttl)

    async def delete(self, key: str) -> None:
        await self._attempt("delete", self.backend.delete, key)

    async def clear(self) -> None:
        """Remove every entry of this cache's namespace (never other keys of a shared store)."""
        await self._attempt("clear", self.backend.clear)

    # ------------------------------------------------------------------ endpoint decorator

    def cache(self, duration: int | Callable[..., Any] | None = None) -> Any:
        """Serve the endpoint's response from the cache for ``duration`` seconds (default ``DURATION``).

        Put it directly above the handler (below ``@get`` and the other decorators). Keys
        hash the handler, method, path, sorted query and, when the request has a user
        (``req.user``, e.g. set by ``@login_required``), that user's identity; request
        headers the response names in ``Vary`` are hashed too. Only 2xx, non-streamed
        responses without ``Cache-Control: private/no-store/no-cache`` are stored, and never
        their ``Set-Cookie`` lines. Only GET and HEAD requests are cached, and not those
        carrying an ``Authorization`` header that did not produce a ``req.user``.
        """
        if callable(duration):  # used as @cache.cache without parentheses
            return self.cache()(duration)
        ttl = _check_duration(duration)

        def decorate(fn: F) -> F:
            return self._wrap(fn, ttl)  # type: ignore[return-value]

        return decorate

    def _wrap(self, fn: Callable[..., Any], ttl: int | None) -> Callable[..., Any]:
        target = inspect.unwrap(fn)
        name = f"{target.__module__}.{target.__qualname__}"
        is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(target)
        warned_anonymous = False
        adapter: Any = False  # the Response[T] adapter, looked up on the first store
        cache = self

        async def call(ctrl: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
            if is_async:
                return await fn(ctrl, req, *args, **kwargs)
            result = await asyncio.to_thread(fn, ctrl, req, *args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        @functools.wraps(fn)
        async def cached(ctrl: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal warned_anonymous, adapter
            scope = req.scope
            user = req.user
            if user is None:
                ident = None
                if scope.get("method") not in _CACHEABLE_METHODS or _has_authorization(scope):
                    return await call(ctrl, req, *args, **kwargs)
            else:
                ident = user_identity(user)
                if ident is None or scope.get("method") not in _CACHEABLE_METHODS:
                    if ident is None and not warned_anonymous:
                        warned_anonymous = True
                        logger.warning("{}: req.user has no id and no str(); responses are not cached", name)
                    return await call(ctrl, req, *args, **kwargs)
            key = request_key(name, req, ident)
            backend = cache.backend
            try:
                entry = await backend.get(key)
            except Exception as exc:  # noqa: BLE001 - a failing backend is a miss (SPEC §17.2)
                cache._failed("get", exc)
                entry = None
            else:
                if cache._failing:
                    cache._worked("get")
            if type(entry) is dict:
                if RAW_HEADERS in entry and backend.trusted_entries:
                    return restore(req.response, entry)  # PERF: the memory backend's own entry
                if "vary" in entry and RAW_HEADERS not in entry:
                    vary = entry["vary"]
                    entry = await cache._lookup(variant_key(key, vary, req)) if isinstance(vary, list) else None
                if isinstance(entry, dict) and is_entry(entry):
                    if RAW_HEADERS in entry and not backend.trusted_entries:
                        entry = {k: v for k, v in entry.items() if k != RAW_HEADERS}  # bytes we did not check
                    try:
                        return restore(req.response, entry)
                    except (ValueError, TypeError, AttributeError) as exc:  # a stored entry we did not write
                        logger.warning("{}: ignoring an unusable cache entry ({})", name, exc)
            res = await call(ctrl, req, *args, **kwargs)
            spec: EndpointSpec | None = getattr(cached, SPEC_ATTR, None)
            if adapter is False:
                adapter = response_adapter(cached)
            if adapter is not None and isinstance(res, Response) and res.body_type is None:
                res.body_type = adapter  # the body is stored as Response[T] renders it
            found = storable_entry(res, spec)
            if found is not None:
                await cache._store(key, req, found[0], found[1], ttl)
            return res

        spec = getattr(fn, SPEC_ATTR, None)
        if spec is not None and spec.method is not None:
            spec.func = cached  # applied above @get: still the function the endpoint runs
        return cached

    async def _store(self, key: str, req: Any, entry: dict[str, Any], vary: list[str], ttl: int | None) -> None:
        duration = ttl or self._default_duration
        backend = self.backend
        if backend.trusted_entries:
            # headers were checked when the response was built; keep their bytes for hits
            entry[RAW_HEADERS] = tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in entry["headers"])
        if vary:
            await self._attempt("set", backend.set, key, {"vary": vary}, duration)
            key = variant_key(key, vary, req)
        await self._attempt("set", backend.set, key, entry, duration)
