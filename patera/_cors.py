"""CORS policy (SPEC §7): options, origin checks and precomputed response headers.

Pure: no ASGI here. The middleware asks :class:`CorsPolicy` which headers to add (or
whether to refuse) and merges ``Vary`` itself. Everything that depends only on the
configuration is encoded to ``bytes`` once, at startup; a request costs a dict lookup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .exceptions import ImproperlyConfigured

__all__ = ("CorsOptions", "CorsPolicy", "add_grant", "is_same_origin", "is_valid_origin", "merge_vary")

Header = tuple[bytes, bytes]

# NOTE: (RFC 6454 §6.2, WHATWG URL) a serialized origin is scheme "://" host [":" port] or "null".
# fullmatch, never "$": "$" would accept a trailing "\n" (header injection).
_ORIGIN_RE = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_HOST_RE = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::(?P<port>[0-9]{0,5}))?")
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_WS_SCHEMES = {"ws": "http", "wss": "https"}

_DEFAULT_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_DEFAULT_HEADERS = ("Authorization", "Content-Type")

ORIGIN_REFUSED_MESSAGE = "CORS origin not allowed"
METHOD_REFUSED_MESSAGE = "Preflight method not allowed"
CREDENTIALS_WARNING = (
    "CORS: CORS_ALLOW_CREDENTIALS is ignored because CORS_ALLOW_ORIGINS contains '*': "
    "credentials need explicit origins"
)

_ACAO = b"access-control-allow-origin"
_ACAC = (b"access-control-allow-credentials", b"true")
_ACEH = b"access-control-expose-headers"
_ACAM = b"access-control-allow-methods"
_ACAH = b"access-control-allow-headers"
_ACMA = b"access-control-max-age"
_VARY = (b"vary", b"Origin")


def is_valid_origin(origin: str) -> bool:
    """Whether ``origin`` is a serialized origin safe to echo in a response header.

    Accepts ``scheme://host[:port]`` (port 0–65535) or ``null``; refuses paths, userinfo,
    whitespace, CTLs, commas (a list is not one origin) and anything non-ASCII.
    """
    if origin == "null":
        return True
    match = _ORIGIN_RE.fullmatch(origin)
    if match is None:
        return False
    port = match.group("port")
    return port is None or int(port) <= 65535


def _split_host(host_header: str) -> tuple[str, int | None] | None:
    match = _HOST_RE.fullmatch(host_header)
    if match is None:
        return None
    port = match.group("port")
    if port is None or port == "":  # NOTE: (RFC 3986 §3.2.3) an empty port means the default
        return match.group("host").lower(), None
    number = int(port)
    return (match.group("host").lower(), number) if number <= 65535 else None


def is_same_origin(origin: str, scheme: str, host_header: str | None) -> bool:
    """Whether ``Origin`` names the request's own origin (SPEC §7).

    Browsers send ``Origin`` on same-origin POSTs and form submissions; those must pass
    untouched. Scheme and host compare case-insensitively and the scheme's default port
    may be elided on either side. ``ws``/``wss`` scopes count as ``http``/``https``.
    """
    if host_header is None or origin == "null":
        return False
    match = _ORIGIN_RE.fullmatch(origin)
    own = _split_host(host_header.strip(" \t"))
    if match is None or own is None:
        return False
    scheme = scheme.lower()
    scheme = _WS_SCHEMES.get(scheme, scheme)
    if match.group("scheme").lower() != scheme:
        return False
    default = _DEFAULT_PORTS.get(scheme)
    port = match.group("port")
    origin_port = int(port) if port is not None else default
    own_port = own[1] if own[1] is not None else default
    return match.group("host").lower() == own[0] and origin_port == own_port


def merge_vary(existing: str | None) -> str:
    """Add ``Origin`` to a ``Vary`` value, keeping what is there (and ``*``, which covers it)."""
    if not existing or not existing.strip():
        return "Origin"
    for item in existing.split(","):
        item = item.strip().lower()
        if item == "origin" or item == "*":
            return existing
    return f"{existing}, Origin"


_GRANT_HEADERS = frozenset({_ACAO, _ACAC[0], _ACEH})
_CORS_RESPONSE_HEADERS = _GRANT_HEADERS | {b"vary"}


def add_grant(headers: Any, grant: list[Header]) -> None:
    """Add a policy's grant (Allow-Origin, …) and ``Vary: Origin`` to response ``headers``.

    The policy is authoritative: a handler's own Allow-Origin next to ours would be a
    duplicate the browser refuses, or an origin the policy does not list, so those go.
    """
    raw = headers.raw
    for name, _ in raw:
        if name in _CORS_RESPONSE_HEADERS:
            break
    else:
        # PERF: the common case: nothing to replace or merge, so skip header validation.
        raw.extend(grant)
        raw.append(_VARY)
        return
    if any(name in _GRANT_HEADERS for name, _ in raw):
        raw[:] = [h for h in raw if h[0] not in _GRANT_HEADERS]
    raw.extend(grant)
    headers["vary"] = merge_vary(", ".join(headers.getlist("vary")))  # folds repeated Vary lines


def _clean_list(value: Any, key: str) -> tuple[str, ...]:
    """Trim entries, drop blanks and duplicates; a bare string is read as a comma list."""
    if value is None:
        return ()
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            raise ImproperlyConfigured(f"{key}: expected strings, got {item!r}")
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


def _require_tokens(items: tuple[str, ...], key: str) -> tuple[str, ...]:
    bad = [item for item in items if not _TOKEN_RE.fullmatch(item)]
    if bad:
        raise ImproperlyConfigured(f"{key}: not valid HTTP tokens: {bad!r}")
    return items


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def _to_max_age(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(f"CORS_MAX_AGE must be a non-negative int or None, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class CorsOptions:
    """Normalised CORS settings for the app or one endpoint (SPEC §1.2 defaults)."""

    enabled: bool = True
    allow_origins: tuple[str, ...] = ("*",)
    allow_methods: tuple[str, ...] = _DEFAULT_METHODS
    allow_headers: tuple[str, ...] = _DEFAULT_HEADERS
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = True
    max_age: int | None = None

    @classmethod
    def build(
        cls,
        *,
        enabled: Any = True,
        allow_origins: Any = ("*",),
        allow_methods: Any = _DEFAULT_METHODS,
        allow_headers: Any = _DEFAULT_HEADERS,
        expose_headers: Any = (),
        allow_credentials: Any = True,
        max_age: Any = None,
    ) -> CorsOptions:
        """Validate and normalise raw values (lists trimmed, methods upper-cased, origins lose a trailing ``/``).

        Raises:
            ImproperlyConfigured: a method or header is not an HTTP token, an entry is not a
                string, or ``max_age`` is not a non-negative int.
        """
        origins = tuple(
            dict.fromkeys(o.rstrip("/") or o for o in _clean_list(allow_origins, "CORS_ALLOW_ORIGINS"))
        )
        methods = tuple(dict.fromkeys(m.upper() for m in _clean_list(allow_methods, "CORS_ALLOW_METHODS")))
        return cls(
            enabled=_to_bool(enabled),
            allow_origins=origins,
            allow_methods=_require_tokens(methods, "CORS_ALLOW_METHODS"),
            allow_headers=_require_tokens(_clean_list(allow_headers, "CORS_ALLOW_HEADERS"), "CORS_ALLOW_HEADERS"),
            expose_headers=_require_tokens(_clean_list(expose_headers, "CORS_EXPOSE_HEADERS"), "CORS_EXPOSE_HEADERS"),
            allow_credentials=_to_bool(allow_credentials),
            max_age=_to_max_age(max_age),
        )

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> CorsOptions:
        """Read the ``CORS_*`` keys, falling back to the SPEC §1.2 defaults for missing ones.

        Raises:
            ImproperlyConfigured: see :meth:`build`.
        """
        # A plain mapping, or any object with a .get (the app's config accessor).
        get = conf.get
        return cls.build(
            enabled=get("CORS_ENABLED", True),
            allow_origins=get("CORS_ALLOW_ORIGINS", ("*",)),
            allow_methods=get("CORS_ALLOW_METHODS", _DEFAULT_METHODS),
            allow_headers=get("CORS_ALLOW_HEADERS", _DEFAULT_HEADERS),
            expose_headers=get("CORS_EXPOSE_HEADERS", ()),
            allow_credentials=get("CORS_ALLOW_CREDENTIALS", True),
            max_age=get("CORS_MAX_AGE"),
        )

    def overlay(self, **kwargs: Any) -> CorsOptions:
        """Apply ``@cors(...)`` arguments: non-None values override; the result is enabled.

        Raises:
            TypeError: an argument is not a CORS option.
            ImproperlyConfigured: see :meth:`build`.
        """
        known = {f.name for f in fields(self)} - {"enabled"}
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"unknown CORS option(s): {', '.join(sorted(unknown))}")
        merged = {f.name: getattr(self, f.name) for f in fields(self)}
        merged.update({k: v for k, v in kwargs.items() if v is not None})
        merged["enabled"] = True
        return CorsOptions.build(**merged)

    def disabled(self) -> CorsOptions:
        """The ``@no_cors`` variant."""
        return replace(self, enabled=False)


def _json_error(status: int, message: str) -> tuple[int, list[Header], bytes]:
    body = json.dumps({"status": "error", "message": message}, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        _VARY,
    ]
    return status, headers, body


class CorsPolicy:
    """Precomputes header lists once at startup; per request only compares strings.

    ``actual_headers``/``preflight`` only grant: a disabled policy (``@no_cors`` or
    ``CORS_ENABLED=False``) adds nothing to actual responses and refuses preflights, and
    callers are expected to skip it (and same-origin requests) before asking.
    """

    __slots__ = (
        "_actual",
        "_actual_wildcard",
        "_any_method",
        "_credentials",
        "_echo_headers",
        "_method_refused",
        "_methods",
        "_preflight",
        "_preflight_wildcard",
        "_refused",
        "_warnings",
        "_wildcard",
        "options",
    )

    def __init__(self, options: CorsOptions) -> None:
        self.options = options
        enabled = options.enabled
        self._wildcard = enabled and "*" in options.allow_origins
        # NOTE: (SPEC §7) credentials are never granted with a wildcard: reflecting any origin
        # with credentials would let every site read a logged-in user's data.
        self._credentials = options.allow_credentials and not self._wildcard
        self._warnings = self._collect_warnings(options) if enabled else []

        allowed: list[str] = []
        if enabled and not self._wildcard:
            for origin in options.allow_origins:
                if not is_valid_origin(origin):
                    continue
                # NOTE: (SPEC §7) "null" (sandboxed iframes, file://, redirects) is shared by
                # every opaque origin; it is honoured only as an explicit, credentialed choice.
                if origin == "null" and not self._credentials:
                    continue
                allowed.append(origin)

        expose: list[Header] = []
        if options.expose_headers:
            expose.append((_ACEH, ", ".join(options.expose_headers).encode("ascii")))
        cred: list[Header] = [_ACAC] if self._credentials else []

        self._actual_wildcard: tuple[Header, ...] = ((_ACAO, b"*"), *expose)
        self._actual: dict[str, tuple[Header, ...]] = {
            o: ((_ACAO, o.encode("ascii")), *cred, *expose) for o in allowed
        }

        self._any_method = "*" in options.allow_methods
        self._methods = frozenset(options.allow_methods)
        # Wildcards in Allow-Methods/Allow-Headers are literal names for credentialed
        # requests (Fetch §3.2.3), so then the requested values are echoed instead.
        echo_methods = self._any_method and self._credentials
        self._echo_headers = not options.allow_headers or ("*" in options.allow_headers and self._credentials)
        common: list[Header] = [_VARY]
        if not echo_methods:
            common.append((_ACAM, ", ".join(options.allow_methods).encode("ascii")))
        if not self._echo_headers:
            common.append((_ACAH, ", ".join(options.allow_headers).encode("ascii")))
        common.extend(cred)
        if options.max_age is not None:
            common.append((_ACMA, str(options.max_age).encode("ascii")))
        common.append((b"content-length", b"0"))
        self._preflight_wildcard: tuple[Header, ...] = ((_ACAO, b"*"), *common)
        self._preflight: dict[str, tuple[Header, ...]] = {
            o: ((_ACAO, o.encode("ascii")), *common) for o in allowed
        }
        self._refused = _json_error(403, ORIGIN_REFUSED_MESSAGE)
        self._method_refused = _json_error(405, METHOD_REFUSED_MESSAGE)

    @staticmethod
    def _collect_warnings(options: CorsOptions) -> list[str]:
        warnings: list[str] = []
        wildcard = "*" in options.allow_origins
        if wildcard and options.allow_credentials:
            warnings.append(CREDENTIALS_WARNING)
        for origin in options.allow_origins:
            if origin == "*":
                continue
            if not is_valid_origin(origin):
                warnings.append(f"CORS: {origin!r} is not a serialized origin (scheme://host[:port]); it never matches")
            elif origin != origin.lower():
                warnings.append(
                    f"CORS: {origin!r} is not lower-case; browsers send lower-case origins, so it never matches"
                )
            elif origin == "null" and not options.allow_credentials and not wildcard:
                warnings.append("CORS: the 'null' origin is only honoured when credentials are allowed")
        return warnings

    @property
    def enabled(self) -> bool:
        return self.options.enabled

    @property
    def warnings(self) -> list[str]:
        """Configuration smells for the app to log at startup."""
        return list(self._warnings)

    merge_vary = staticmethod(merge_vary)

    def is_allowed(self, origin: str) -> bool:
        """Whether an actual request from ``origin`` may proceed (else the caller answers 403)."""
        return (self._wildcard and origin != "null") or origin in self._actual

    def actual_headers(self, origin: str) -> list[Header] | None:
        """Headers for an actual (non-preflight) response to ``origin``; None means refuse (403).

        ``Vary`` is not included: the caller merges it into its own with :func:`merge_vary`.
        """
        if not self.options.enabled:
            return []
        if self._wildcard:
            return None if origin == "null" else list(self._actual_wildcard)
        headers = self._actual.get(origin)
        return None if headers is None else list(headers)

    def refusal(self) -> tuple[int, list[Header], bytes]:
        """The 403 answer for a refused origin (status, complete headers, JSON body)."""
        status, headers, body = self._refused
        return status, list(headers), body

    def preflight(
        self, origin: str, request_method: str, request_headers: str | None
    ) -> tuple[int, list[Header], bytes]:
        """Answer a preflight: ``(status, headers, body)``, headers complete and ready to send.

        403 for a refused origin, 405 for a method not allowed, else 200 with an empty body.
        Requested headers are echoed only when they form a clean token list; otherwise the
        header is omitted and the browser fails the preflight on its side.
        """
        if not self.options.enabled:
            return self.refusal()
        if self._wildcard:
            base = None if origin == "null" else self._preflight_wildcard
        else:
            base = self._preflight.get(origin)
        if base is None:
            return self.refusal()
        method = request_method.strip(" \t")
        if self._any_method:
            if not _TOKEN_RE.fullmatch(method):
                status, headers, body = self._method_refused
                return status, list(headers), body
        elif method not in self._methods:
            status, headers, body = self._method_refused
            return status, list(headers), body

        headers = list(base)
        if self._any_method and self._credentials:
            headers.append((_ACAM, method.encode("ascii")))
        if self._echo_headers and request_headers:
            echoed = _token_list(request_headers)
            if echoed:
                headers.append((_ACAH, echoed.encode("ascii")))
        return 200, headers, b""


def _token_list(value: str) -> str | None:
    """Normalise a comma-separated token list, or None if any item is not a token."""
    items = [item.strip(" \t") for item in value.split(",")]
    items = [item for item in items if item]
    if not items or not all(_TOKEN_RE.fullmatch(item) for item in items):
        return None
    return ", ".join(items)
