"""Cached responses: request keys, what may be stored, and rebuilding a stored response.

A stored response is ``{"status_code": int, "headers": [[name, value], …], "body": bytes}``.
When a response names request headers in ``Vary``, the request key holds
``{"vary": [names]}`` and the response lives under a second key that also hashes those
headers' values, so each variant is stored apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ..controller.decorators import EndpointSpec
from ..datastructures import MutableHeaders
from ..media_types import MediaType
from ..response import Response

__all__ = (
    "RAW_HEADERS",
    "is_entry",
    "request_key",
    "response_entry",
    "restore",
    "storable_entry",
    "user_identity",
    "variant_key",
)

#: ``Cache-Control`` directives that forbid keeping a shared copy (RFC 9111 §5.2.2).
_UNCACHEABLE = frozenset({"private", "no-store", "no-cache"})
_SET_COOKIE = b"set-cookie"
#: Key of the checked header bytes kept beside an entry by backends that hold values in memory.
RAW_HEADERS = "__raw_headers__"
_VARY = b"vary"
_CACHE_CONTROL = b"cache-control"


def user_identity(user: Any) -> str | None:
    """What tells this user apart in a key: ``user.id`` (or ``user["id"]``), else ``str(user)``.

    ``None`` when neither identifies the user (an object with the default ``repr``, whose
    text is a memory address that another user's object may reuse later).
    """
    ident = getattr(user, "id", None)
    if ident is None and isinstance(user, Mapping):
        ident = user.get("id")
    if ident is not None:
        # NOTE: the type too: user 1 and admin 1 from two tables are different people.
        return f"{type(user).__qualname__}.id={ident!r}"
    cls = type(user)
    if getattr(cls, "__str__", None) is object.__str__ and getattr(cls, "__repr__", None) is object.__repr__:
        return None
    return f"{type(user).__qualname__}:{user}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


#: (name, method, path, query, user) → key, so repeated requests skip the hashing.
_KEYS: dict[tuple[str, str, str, bytes, str | None], str] = {}
_KEYS_MAX = 4096
_MEMO_MAX_CHARS = 512


def request_key(name: str, req: Any, user: str | None) -> str:
    """sha256 of handler name, method, path, sorted query pairs and the user's identity."""
    scope = req.scope
    query: bytes = scope.get("query_string", b"")
    memo = (name, scope.get("method", "GET"), scope["path"], query, user)
    key = _KEYS.get(memo)
    if key is None:
        pairs = b"&".join(sorted(query.split(b"&"))).decode("latin-1") if query else ""
        path = memo[2]
        # NOTE: length-prefixed fields, so no choice of path or query can spell another key.
        key = _digest(f"{len(name)}:{name}{memo[1]} {len(path)}:{path}{len(pairs)}:{pairs}{user!r}")
        if len(path) + len(query) <= _MEMO_MAX_CHARS:  # bounded in count and in size
            if len(_KEYS) >= _KEYS_MAX:
                _KEYS.clear()
            _KEYS[memo] = key
    return key


def variant_key(key: str, vary: list[str], req: Any) -> str:
    headers = req.headers
    return _digest(repr((key, [headers.getlist(name) for name in vary])))


def is_entry(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and type(value.get("status_code")) is int
        and isinstance(value.get("headers"), list)
        and isinstance(value.get("body"), bytes)
    )


def _header_tokens(raw: list[tuple[bytes, bytes]], name: bytes) -> list[str]:
    tokens: list[str] = []
    for key, value in raw:
        if key == name:
            tokens.extend(t.strip().lower() for t in value.decode("latin-1").split(",") if t.strip())
    return tokens


def response_entry(res: Response[Any], status: int) -> dict[str, Any]:
    """The stored form of ``res``: its rendered body and headers, ``Set-Cookie`` left out."""
    body = res.body if type(res.body) is bytes else res.render_body()
    headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in res.headers.raw if k != _SET_COOKIE]
    return {"status_code": status, "headers": headers, "body": body}


def storable_entry(res: Any, spec: EndpointSpec | None) -> tuple[dict[str, Any], list[str]] | None:
    """``(entry, vary names)`` for a response the cache may keep; ``None`` when it may not.

    Kept: 2xx, not streamed, no ``Cache-Control: private/no-store/no-cache``, no
    ``Vary: *``. The status and Content-Type are what ``@produces`` will make of them,
    and the body is rendered now (through ``Response[T]``), so a hit sends the same bytes.
    """
    if not isinstance(res, Response) or res._stream is not None:
        return None
    status = res.status_code
    produces = spec.produces if spec is not None else None
    if produces is not None and not res.status_explicit and spec is not None and spec.produces_status is not None:
        status = spec.produces_status
    if not 200 <= status < 300:
        return None
    raw = res.headers.raw
    if any(token.partition("=")[0].strip() in _UNCACHEABLE for token in _header_tokens(raw, _CACHE_CONTROL)):
        return None
    vary = sorted(set(_header_tokens(raw, _VARY)))
    if "*" in vary:
        return None
    if produces is not None and produces is not MediaType.NO_CONTENT:
        current = res.headers.get("content-type")
        if current is None:
            charset = "; charset=utf-8" if produces.value.startswith("text/") else ""
            res.headers["content-type"] = produces.value + charset
        elif current.partition(";")[0].strip().lower() != produces.value:
            return None  # the endpoint will log its @produces mismatch; not worth caching
    entry = response_entry(res, status)
    if produces is MediaType.NO_CONTENT:
        entry["headers"] = [h for h in entry["headers"] if h[0] != "content-type"]
    res.body = entry["body"]  # rendered once: the miss sends exactly what a hit will
    return entry, vary


def restore(res: Response[Any], entry: dict[str, Any]) -> Response[Any]:
    """Fill ``res`` (the request's response, which may carry cookies set by hooks) from ``entry``.

    Raises:
        ValueError, TypeError: the entry holds a header that is not a valid name/value pair.
    """
    # Checked before anything changes: storage outside the process is not trusted.
    pairs = entry.get(RAW_HEADERS)
    if pairs is None:
        pairs = [MutableHeaders._encode(str(name), str(value)) for name, value in entry["headers"]]
    else:
        pairs = list(pairs)  # after_request hooks may change the response's own list
    res.status_code = entry["status_code"]
    res._status_set = True
    headers = res.headers
    if headers.raw:
        names = {name for name, _ in pairs}
        headers.raw = [pair for pair in headers.raw if pair[0] not in names] + pairs
    else:
        headers.raw = pairs
    res.body = entry["body"]
    res._stream = None
    return res
