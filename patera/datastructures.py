"""Header containers: a read-only request view and a validating mutable response list."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, MutableMapping, Sequence

__all__ = ("Headers", "MutableHeaders", "check_header_name", "check_header_value")

# NOTE: RFC 9110 §5.6.2 token characters.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE_RE = re.compile(r"[\r\n\x00]")


def check_header_name(name: str) -> str:
    """Return ``name`` if it is an RFC 9110 token, else raise ``ValueError``."""
    if not isinstance(name, str) or _TOKEN_RE.fullmatch(name) is None:
        raise ValueError(f"invalid header name: {name!r}")
    return name


def check_header_value(value: object) -> str:
    """Refuse CR, LF and NUL so a value can never split the header block."""
    if not isinstance(value, str):
        value = str(value)
    if _BAD_VALUE_RE.search(value) is not None:
        raise ValueError(f"header value contains CR, LF or NUL: {value!r}")
    return value


class Headers(dict[str, str]):
    """Request headers as the README promises: a plain ``dict`` of lower-case names.

    Repeated headers are joined with ``", "`` (``cookie`` with ``"; "``) as RFC 9110 §5.3
    allows; :meth:`getlist` still returns every value separately.
    """

    __slots__ = ("raw",)

    def __init__(self, raw: Sequence[tuple[bytes, bytes]] = ()) -> None:
        super().__init__()
        self.raw = raw
        for key, value in raw:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            if name in self:
                sep = "; " if name == "cookie" else ", "
                self[name] = self[name] + sep + text
            else:
                self[name] = text

    def getlist(self, name: str) -> list[str]:
        key = name.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k.lower() == key]


class MutableHeaders(MutableMapping[str, str]):
    """Response headers: case-insensitive, multi-valued, checked on every write.

    Stored as the ``(name, value)`` byte pairs ASGI sends, so serialisation is free;
    each ``add`` is its own header line (``Set-Cookie`` is never folded).
    """

    __slots__ = ("raw",)

    def __init__(self, items: Iterable[tuple[str, str]] | dict[str, str] | None = None) -> None:
        self.raw: list[tuple[bytes, bytes]] = []
        if items:
            pairs = items.items() if isinstance(items, dict) else items
            for key, value in pairs:
                self.add(key, value)

    @staticmethod
    def _encode(key: str, value: str) -> tuple[bytes, bytes]:
        try:
            return (
                check_header_name(key).lower().encode("latin-1"),
                check_header_value(value).encode("latin-1"),
            )
        except UnicodeEncodeError:
            raise ValueError(f"header value for {key!r} is not latin-1 encodable") from None

    def __getitem__(self, key: str) -> str:
        name = key.lower().encode("latin-1")
        for k, v in self.raw:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __setitem__(self, key: str, value: str) -> None:
        name, data = self._encode(key, value)
        raw = self.raw
        for i, (k, _) in enumerate(raw):
            if k == name:
                raw[i] = (name, data)
                # drop any further lines of the same name: set replaces all of them
                self.raw = raw[: i + 1] + [p for p in raw[i + 1 :] if p[0] != name]
                return
        raw.append((name, data))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        kept = [p for p in self.raw if p[0] != name]
        if len(kept) == len(self.raw):
            raise KeyError(key)
        self.raw = kept

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        name = key.lower().encode("latin-1")
        for k, v in self.raw:
            if k == name:
                return v.decode("latin-1")
        return default

    def set_raw(self, name: bytes, value: bytes) -> None:
        """Replace a header with pre-validated bytes (framework constants only)."""
        raw = self.raw
        if not raw:  # PERF: the usual case, a fresh response
            raw.append((name, value))
            return
        for i, pair in enumerate(raw):
            if pair[0] == name:
                raw[i] = (name, value)
                if any(k == name for k, _ in raw[i + 1 :]):
                    self.raw = raw[: i + 1] + [p for p in raw[i + 1 :] if p[0] != name]
                return
        raw.append((name, value))

    def get_raw(self, name: bytes) -> bytes | None:
        for k, v in self.raw:
            if k == name:
                return v
        return None

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k == name for k, _ in self.raw)

    def __iter__(self) -> Iterator[str]:
        seen: list[bytes] = []
        for k, _ in self.raw:
            if k not in seen:
                seen.append(k)
                yield k.decode("latin-1")

    def __len__(self) -> int:
        return len({k for k, _ in self.raw})

    def add(self, key: str, value: str) -> None:
        """Append another line for ``key`` without replacing existing ones."""
        self.raw.append(self._encode(key, value))

    def getlist(self, key: str) -> list[str]:
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k == name]

    def __repr__(self) -> str:
        return f"MutableHeaders({[(k.decode('latin-1'), v.decode('latin-1')) for k, v in self.raw]!r})"
