"""Shared loguru sinks: apps with the same sink configuration use one handler (SPEC §13.1).

An app never calls ``logger.add`` itself: it describes each sink as a :class:`SinkSpec` and
holds them through a :class:`SinkLease`. The first lease to ask for a spec adds the handler,
later ones with an identical spec share it, and the handler is removed when the last lease
lets go (lifespan shutdown, or the app being garbage-collected before it ever started). So
building a hundred apps in one process leaves as many handlers as building one, and each
record is written once. Handlers the host application added are never touched.
"""

from __future__ import annotations

import contextlib
import threading
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import time, timedelta
from enum import Enum
from os import PathLike, fspath, path
from typing import Any

from loguru import logger

__all__ = ("SinkLease", "SinkSpec", "fingerprint")

_MAX_DEPTH = 8


class _Identity:
    """Compares equal only to itself: for objects whose identity is their meaning (streams, lists)."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj  # kept alive, so its id() cannot be reused while the key exists

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


def fingerprint(value: Any, _depth: int = 0) -> Any:
    """A hashable key that is equal for two configuration values meaning the same sink.

    Configuration data (strings, numbers, enums, durations, paths, and dicts/lists/tuples of
    them) compares by value, so two apps reading the same settings get equal keys. A function compares
    by its code and by the identity of what it closes over, so the same ``lambda`` written once
    in a ``LoggerBase`` subclass matches across apps while closures over different lists do
    not. Anything else (streams, objects) compares by identity.
    """
    if _depth > _MAX_DEPTH:
        return _Identity(value)
    if value is None or isinstance(value, (str, bytes, int, float, Enum, timedelta, time)):
        return value
    if isinstance(value, PathLike):
        return ("path", path.abspath(fspath(value)))
    if isinstance(value, Mapping):
        items = sorted(((str(k), fingerprint(v, _depth + 1)) for k, v in value.items()), key=lambda kv: kv[0])
        return ("map", tuple(items))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(fingerprint(v, _depth + 1) for v in value))
    if isinstance(value, types.FunctionType):
        cells: list[_Identity | None] = []
        for cell in value.__closure__ or ():
            try:
                cells.append(_Identity(cell.cell_contents))
            except ValueError:  # an empty cell
                cells.append(None)
        defaults = tuple(_Identity(d) for d in value.__defaults__ or ())
        return ("function", value.__code__, tuple(cells), defaults)
    if isinstance(value, types.MethodType):
        return ("method", fingerprint(value.__func__, _depth + 1), _Identity(value.__self__))
    return _Identity(value)


class SinkSpec:
    """What one ``logger.add(sink, **options)`` call would add, identified by ``key``.

    ``on_acquire``/``on_release`` run (without locks, so they must be cheap and atomic) each
    time a lease takes or drops the spec; the log-buffer hub uses them to register buffers.
    """

    __slots__ = ("key", "on_acquire", "on_release", "options", "sink")

    def __init__(
        self,
        key: Any,
        sink: Any,
        options: dict[str, Any],
        *,
        on_acquire: Callable[[], None] | None = None,
        on_release: Callable[[], None] | None = None,
    ) -> None:
        self.key = key
        self.sink = sink
        self.options = options
        self.on_acquire = on_acquire
        self.on_release = on_release


class _Registry:
    """Reference-counted handlers by spec key, shared by every app in the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[Any, list[int]] = {}  # key -> [handler id, users]
        self._deferred: list[list[SinkSpec]] = []  # releases requested by the garbage collector

    def acquire(self, spec: SinkSpec) -> int:
        with self._lock:
            self._drain_locked()
            entry = self._handlers.get(spec.key)
            if entry is None:
                entry = self._handlers[spec.key] = [logger.add(spec.sink, **spec.options), 0]
            entry[1] += 1
            return entry[0]

    def release(self, specs: Iterable[SinkSpec]) -> None:
        with self._lock:
            self._release_locked(list(specs))
            self._drain_locked()

    def release_from_gc(self, specs: list[SinkSpec]) -> None:
        """Release from a finaliser: never block, never re-enter loguru while it holds its lock.

        The garbage collector may run inside ``logger.add`` (loguru's lock held by this very
        thread) or inside this registry; then the release waits for the next acquire or release.
        """
        self._deferred.append(specs)  # list.append is atomic; no lock needed
        core_lock = getattr(getattr(logger, "_core", None), "lock", None)
        if core_lock is None or not core_lock.acquire(blocking=False):
            return
        core_lock.release()
        if self._lock.acquire(blocking=False):
            try:
                self._drain_locked()
            finally:
                self._lock.release()

    def _drain_locked(self) -> None:
        while self._deferred:
            self._release_locked(self._deferred.pop())

    def _release_locked(self, specs: list[SinkSpec]) -> None:
        removable: list[int] = []
        for spec in specs:
            entry = self._handlers.get(spec.key)
            if entry is None:
                continue
            entry[1] -= 1
            if entry[1] <= 0:
                del self._handlers[spec.key]
                removable.append(entry[0])
        if not removable:
            return
        # RuntimeError: loguru refused because a handler is busy in this very thread (a release
        # from the garbage collector); ValueError: someone else removed the handler already.
        with contextlib.suppress(RuntimeError):
            logger.complete()  # flush enqueued records before their handler goes
        for handler_id in removable:
            with contextlib.suppress(ValueError, RuntimeError):
                logger.remove(handler_id)

    def handler_ids(self) -> list[int]:
        with self._lock:
            return [entry[0] for entry in self._handlers.values()]


_REGISTRY = _Registry()


class SinkLease:
    """The sinks one app holds. Hold with :meth:`acquire`, let go with :meth:`release`.

    A lease never refers to its app, so a ``weakref.finalize(app, lease.release_from_gc)``
    can release the sinks of an app that is collected without ever having been started.
    """

    def __init__(self) -> None:
        self._specs: list[SinkSpec] = []
        self._ids: list[int] = []
        self._held = True

    @property
    def ids(self) -> list[int]:
        """Handler ids of the sinks currently held (shared handlers included)."""
        return list(self._ids) if self._held else []

    def add(self, spec: SinkSpec) -> int | None:
        """Take ``spec`` now (if the lease is held) and again on every later :meth:`acquire`."""
        self._specs.append(spec)
        if not self._held:
            return None
        return self._take(spec)

    def _take(self, spec: SinkSpec) -> int:
        if spec.on_acquire is not None:
            spec.on_acquire()
        handler_id = _REGISTRY.acquire(spec)
        self._ids.append(handler_id)
        return handler_id

    def acquire(self) -> None:
        """Take every spec again after a :meth:`release` (an app started a second time)."""
        if self._held:
            return
        self._held = True
        self._ids = []
        for spec in self._specs:
            self._take(spec)

    def _drop(self) -> list[SinkSpec] | None:
        if not self._held:
            return None
        self._held = False
        self._ids = []
        for spec in self._specs:
            if spec.on_release is not None:
                spec.on_release()
        return list(self._specs)

    def release(self) -> None:
        """Let go of every sink; a handler no other lease holds is flushed and removed."""
        specs = self._drop()
        if specs:
            _REGISTRY.release(specs)

    def release_from_gc(self) -> None:
        specs = self._drop()
        if specs:
            _REGISTRY.release_from_gc(specs)
