"""``BaseCacheBackend``: what a storage for cached responses implements, and its JSON codec."""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ...extension import AppLike

__all__ = ("BaseCacheBackend", "dumps_entry", "loads_entry")

#: The one-key object that stands for ``bytes`` in stored JSON.
_BYTES_MARK = "__patera_bytes__"


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {_BYTES_MARK: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"{type(value).__name__} cannot be stored in the cache (JSON values and bytes only)")


def _decode_bytes(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _BYTES_MARK in obj and isinstance(obj[_BYTES_MARK], str):
        return base64.b64decode(obj[_BYTES_MARK], validate=True)
    return obj


def dumps_entry(value: dict[str, Any]) -> str:
    """JSON text for a cache value; ``bytes`` anywhere become base64 (never pickle).

    Raises:
        TypeError: the value holds something JSON cannot represent.
        ValueError: NaN/Infinity or a circular reference.
    """
    return json.dumps(value, default=_encode_bytes, separators=(",", ":"), allow_nan=False)


def loads_entry(text: str | bytes) -> dict[str, Any] | None:
    """The value :func:`dumps_entry` wrote; ``None`` when the stored text is not one."""
    try:
        value = json.loads(text, object_hook=_decode_bytes)
    except (ValueError, RecursionError):  # also binascii.Error, UnicodeDecodeError
        return None
    return value if isinstance(value, dict) else None


class BaseCacheBackend(ABC):
    """A cache storage. Values are dicts of JSON data (plus ``bytes``); keys are strings.

    Implementations apply their ``KEY_PREFIX`` to every key, honour each entry's TTL,
    and make ``clear()`` remove only the keys under that prefix.
    """

    #: ``KEY_PREFIX`` when the configuration does not give one.
    default_key_prefix: ClassVar[str] = ""
    #: Whether stored values never leave this process, so headers need no re-check on a hit.
    trusted_entries: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def configure_from_app(cls, app: AppLike, configs: dict[str, Any]) -> BaseCacheBackend:
        """A backend built from the resolved cache configuration (SPEC §17.2 keys)."""

    @abstractmethod
    async def connect(self) -> None:
        """Open connections or files (a no-op for memory)."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Release what :meth:`connect` opened."""

    @abstractmethod
    async def get(self, key: str) -> dict[str, Any] | None:
        """The stored value, or ``None`` when absent or expired."""

    @abstractmethod
    async def set(self, key: str, value: dict[str, Any], duration: int | None = None) -> None:
        """Store ``value`` for ``duration`` seconds (``None``: the backend's default)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    @abstractmethod
    async def clear(self) -> None:
        """Remove every entry of this cache's namespace, and nothing else."""
