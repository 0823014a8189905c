"""A bounded in-memory copy of recent log records, for ``app.log_buffer`` (SPEC §1.4).

Admin pages and health checks want "the last N errors" without reading log files; a deque
with ``maxlen`` keeps memory bounded however long the process runs.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from typing import Any

from loguru import logger

from ._sinks import SinkSpec

__all__ = ("LogBuffer", "buffer_sink_spec")

# loguru's ERROR level number; ERROR and CRITICAL (and custom levels above) are "severe".
_SEVERE_LEVEL_NO = 40


def _entry(record: Any) -> tuple[int, dict[str, Any]]:
    return record["level"].no, {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "message": record["message"],
        "logger_name": record["extra"].get("logger_name"),
        "file": record["file"].path,
        "line": record["line"],
        "name": record["name"],
        "function": record["function"],
    }


class LogBuffer:
    """Keeps the last ``maxsize`` records as plain, JSON-friendly dicts.

    Each record is ``{time, level, message, logger_name, file, line, name, function}``.
    ``sink`` is a loguru sink; ``attach`` adds it to the shared logger.
    """

    __slots__ = ("_lock", "_records", "maxsize")

    def __init__(self, maxsize: int = 1000) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        self.maxsize = maxsize
        self._records: deque[tuple[int, dict[str, Any]]] = deque(maxlen=maxsize)
        # Sinks may run on worker threads (enqueue=True); readers copy under the lock so a
        # concurrent append never breaks iteration.
        self._lock = threading.Lock()

    def sink(self, message: Any) -> None:
        """loguru sink: store the record behind ``message``."""
        self.store(*_entry(message.record))

    def store(self, level_no: int, entry: dict[str, Any]) -> None:
        """Keep ``entry``; it is never mutated afterwards (readers get copies), so buffers may share it."""
        with self._lock:
            self._records.append((level_no, entry))

    def attach(self, level: str | int = "TRACE", logger_name: str | None = None) -> int:
        """Add ``sink`` to the shared logger and return the sink id.

        With ``logger_name`` every stored record is labelled with it; otherwise the name a
        previous sink's filter set (or ``None``) is kept.
        """
        if logger_name is None:
            return logger.add(self.sink, level=level, format="{message}", colorize=False)

        def label(record: Any) -> bool:
            record["extra"]["logger_name"] = logger_name
            return True

        return logger.add(self.sink, level=level, format="{message}", colorize=False, filter=label)

    def __len__(self) -> int:
        return len(self._records)

    def _snapshot(self) -> list[tuple[int, dict[str, Any]]]:
        with self._lock:
            return list(self._records)

    def get_all(self) -> list[dict[str, Any]]:
        """Every buffered record, oldest first."""
        return [dict(entry) for _, entry in self._snapshot()]

    def get_last(self, n: int = 100) -> list[dict[str, Any]]:
        """The ``n`` most recent records, oldest first."""
        if n <= 0:
            return []
        return [dict(entry) for _, entry in self._snapshot()[-n:]]

    def get_severe(self) -> list[dict[str, Any]]:
        """Every buffered ERROR/CRITICAL record, oldest first."""
        return [dict(entry) for no, entry in self._snapshot() if no >= _SEVERE_LEVEL_NO]

    def get_last_severe(self, n: int = 100) -> list[dict[str, Any]]:
        """The ``n`` most recent ERROR/CRITICAL records, oldest first."""
        if n <= 0:
            return []
        return self.get_severe()[-n:]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


class _BufferHub:
    """One loguru handler feeding every live app's buffer, so buffers never stack handlers."""

    def __init__(self) -> None:
        self.buffers: list[LogBuffer] = []

    def sink(self, message: Any) -> None:
        buffers = tuple(self.buffers)
        if buffers:
            level_no, entry = _entry(message.record)  # built once, shared by every buffer
            for buffer in buffers:
                buffer.store(level_no, entry)

    def detach(self, buffer: LogBuffer) -> None:
        with contextlib.suppress(ValueError):
            self.buffers.remove(buffer)


_HUB = _BufferHub()
_HUB_OPTIONS: dict[str, Any] = {"level": "TRACE", "format": "{message}", "colorize": False}


def buffer_sink_spec(buffer: LogBuffer) -> SinkSpec:
    """``buffer`` fed through the shared hub handler while a lease holds the spec."""
    return SinkSpec(
        ("patera-log-buffers",),
        _HUB.sink,
        dict(_HUB_OPTIONS),
        on_acquire=lambda: _HUB.buffers.append(buffer),
        on_release=lambda: _HUB.detach(buffer),
    )
