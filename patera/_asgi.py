"""The ASGI boundary: the only module that switches on ``scope["type"]``.

HTTP requests run through a stack composed once in :meth:`ASGIHandler.compose`:
route match (recorded on the request) → CORS → user middleware → endpoint, with
exceptions turned into responses by ``_errors``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from loguru import logger

from ._cors import is_same_origin, merge_vary
from ._errors import allow_header
from ._router import RequestRedirect
from .exceptions import ClientDisconnected, MethodNotAllowed, NotFound
from .request import SINGLE_HEADERS, current_request
from .response import Response, ResponseValidationError

if TYPE_CHECKING:
    from ._types import Receive, Scope, Send
    from .request import Request

__all__ = ("ASGIHandler",)

Layer = Callable[["Request"], Awaitable[Response[Any]]]
_CONTROL = {i: f"\\x{i:02x}" for i in [*range(32), 127]}
# Printable ASCII that may stand in a query as received (existing %XX escapes stay).
_QUERY_SAFE = "!#$%&'()*+,/:;=?@[]^`{|}\\\"<>"


def _printable(text: str) -> str:
    """Access-log safe: control characters escaped so a path cannot forge log lines."""
    return text.translate(_CONTROL)


class ASGIHandler:
    """Dispatches ASGI connections for one :class:`~patera.app.Patera` instance."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._pipeline: Layer = self._innermost
        self._direct = True
        self._request_class: type[Request] = app.request_class
        self._match: Callable[[str, str], tuple[Any, dict[str, Any]]] = app.router.match
        self._access_log = bool(app.get_conf("ACCESS_LOG", True))

    # ------------------------------------------------------------------ composition

    def compose(self) -> None:
        """Build the middleware chain once; exceptions inside it become responses."""
        app = self.app
        self._request_class = app.request_class
        self._match = app.router.match
        render = app.errors.render
        chain: Layer = self._innermost
        if app.middleware:
            innermost = chain

            async def safe(req: Request) -> Response[Any]:
                try:
                    return await innermost(req)
                except Exception as exc:
                    return await render(req, exc)

            chain = safe
            for middleware_cls in reversed(app.middleware):
                chain = _checked(middleware_cls(app, chain))
        self._pipeline = chain
        self._direct = not app.middleware

    async def _innermost(self, req: Request) -> Response[Any]:
        endpoint = req.endpoint
        if endpoint is not None:
            return await endpoint.run(req)  # type: ignore[no-any-return]
        error = req.route_error
        if isinstance(error, RequestRedirect):
            query = req.scope.get("query_string", b"")
            # NOTE: kept byte for byte except what a Location may not carry (CTLs, space,
            # non-ASCII): escaped, so a raw control byte is never a 500 or a header split.
            location = error.location + ("?" + quote(query, safe=_QUERY_SAFE) if query else "")
            return req.response.redirect(location, 308)
        if isinstance(error, MethodNotAllowed) and req.method == "OPTIONS":
            res = req.response.status(200)
            res.headers["allow"] = allow_header(error.valid_methods)
            return res
        # PERF: rendered, not raised: a raise would attach a traceback holding req again.
        # Middleware sees the same Response either way (``safe`` renders what is raised).
        return await self.app.errors.render(req, error if error is not None else NotFound())

    # ------------------------------------------------------------------ entry point

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "websocket":
            from .websockets import serve_websocket

            await serve_websocket(self.app, scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(scope, receive, send)
        else:
            raise ValueError(f"unsupported ASGI scope type {kind!r}")

    # ------------------------------------------------------------------ http

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # PERF: the common request (routed, no Origin, no middleware, plain handler, body
        # not streamed) runs in this one coroutine; every rarer step is a call away.
        app = self.app
        started = time.perf_counter() if self._access_log else 0.0
        req = self._request_class(scope, receive, app)
        current_request.set(req)
        method = scope["method"]
        try:
            endpoint, params = self._match(scope["path"], method)
        except (NotFound, RequestRedirect) as exc:
            # PERF: without its traceback (this frame, which holds req) the error is not a
            # reference cycle left to the cyclic GC on every 404.
            req.route_error = exc.with_traceback(None)
            endpoint = None
        else:
            req.endpoint = endpoint
            req.route_parameters = params
        duplicate = None
        single: dict[bytes, bytes] = {}
        for key, value in scope["headers"]:
            if key in _SINGLE_HEADERS:
                # NOTE: one Host (RFC 9112 §3.2), Content-Length (§6.3), Content-Type and Origin
                # (RFC 6454 §7.3). First-wins would let the framework (CORS, body framing) and a
                # handler reading the joined req.headers[...] disagree: refuse them all alike.
                if key in single:
                    duplicate = key
                    break
                single[key] = value
        else:
            req._single_headers = single  # PERF: content type and length need no second scan
        origin = single.get(b"origin")
        try:
            try:
                if duplicate is not None:
                    res = _raw_response(app, 400, _JSON_TYPE, _SINGLE_HEADERS[duplicate])
                elif origin is not None:
                    res = await self._with_cors(req, origin.decode("latin-1"), single.get(b"host"))
                elif endpoint is not None and self._direct:
                    try:
                        if endpoint.plain:
                            # PERF: no ** when there is nothing to unpack
                            res = await (endpoint.call(req, **params) if params else endpoint.call(req))
                            if not isinstance(res, Response):
                                endpoint.not_a_response(res)
                        else:
                            res = await endpoint(req)
                    except Exception as exc:
                        res = await app.errors.render(req, exc)
                else:
                    res = await self._run(req)
            except ClientDisconnected:
                logger.debug("client disconnected during {} {}", method, _printable(scope["path"]))
                return
            head = method == "HEAD"
            try:
                if res._stream is None:
                    start, body = res.messages(head)
                    await send(start)
                    await send(body)
                else:
                    await res.send_to(send, head=head, receive=receive)
            except ResponseValidationError as exc:
                fallback = app.errors.unhandled(req, exc)
                # The 500 stands in for a response the CORS layer already granted: keep the grant.
                fallback.headers.raw.extend(h for h in res.headers.raw if h[0] in _CORS_RESPONSE_HEADERS)
                await fallback.send_to(send, head=head)
        finally:
            if req._uploads:
                req.close_uploads()
            # PERF: a body ValidationError holds (via its traceback) a frame holding req;
            # dropping it frees both by reference counting instead of the cyclic GC.
            req._body_error = None
        if self._access_log:
            self._log_access(req, res.status_code, started)

    async def _run(self, req: Request) -> Response[Any]:
        """The middleware chain and endpoint; whatever they raise becomes a response."""
        try:
            endpoint = req.endpoint
            if endpoint is not None and self._direct:
                return await endpoint.run(req)  # type: ignore[no-any-return]  # PERF: no middleware layer
            return await self._pipeline(req)
        except Exception as exc:
            return await self.app.errors.render(req, exc)

    async def _with_cors(self, req: Request, origin: str, host: bytes | None) -> Response[Any]:
        """The CORS layer (SPEC §3.3 steps 2–5) for a request that carries an Origin."""
        endpoint = req.endpoint
        policy = endpoint.cors_policy if endpoint is not None else self.app.global_cors
        requested = req.headers.get("access-control-request-method") if req.method == "OPTIONS" else None
        if requested is not None:
            # A preflight is never routed to an endpoint itself: find the one it asks about.
            policy = self._preflight_policy(req, requested, policy)
        if policy is not None and not _same_origin(origin, req.scheme, None if host is None else host.decode("latin-1")):
            return await self._cross_origin(req, origin, policy, requested)
        return await self._run(req)

    async def _cross_origin(self, req: Request, origin: str, policy: Any, requested: str | None) -> Response[Any]:
        if requested is not None:
            status, raw, body = policy.preflight(origin, requested, req.headers.get("access-control-request-headers"))
            return _raw_response(self.app, status, raw, body)
        extra = policy.actual_headers(origin)
        if extra is None:
            status, raw, body = policy.refusal()
            return _raw_response(self.app, status, raw, body)
        res = await self._run(req)
        res_headers = res.headers
        raw = res_headers.raw
        for name, _ in raw:
            if name in _CORS_RESPONSE_HEADERS:
                break
        else:
            # PERF: the common case: nothing to replace or merge, so skip header validation.
            raw.extend(extra)
            raw.append(_VARY_ORIGIN)
            return res
        if any(name in _GRANT_HEADERS for name, _ in raw):
            # The policy is authoritative: a handler's own Allow-Origin next to ours would be a
            # duplicate the browser refuses, or an origin the policy does not list.
            raw[:] = [h for h in raw if h[0] not in _GRANT_HEADERS]
        raw.extend(extra)
        res_headers["vary"] = merge_vary(", ".join(res_headers.getlist("vary")))  # folds repeated Vary lines
        return res

    def _preflight_policy(self, req: Request, requested: str, fallback: Any) -> Any:
        """Options of the endpoint matching path and requested method, else any on the path.

        ``None`` (``@no_cors``, or CORS off and no ``@cors``) leaves the OPTIONS request to the
        pipeline like any other: no grant, and user middleware may answer it itself.
        """
        router = self.app.router
        path = req.path

        def candidates() -> Iterator[str]:
            yield requested.strip().upper()
            yield from sorted(router.allowed_methods(path))  # PERF: only when the first misses

        for method in candidates():
            try:
                endpoint, _ = router.match(path, method)
            except Exception:  # noqa: BLE001 - NotFound / redirect: try the next method
                continue
            return endpoint.cors_policy
        return fallback

    def _log_access(self, req: Request, status: int, started: float) -> None:
        client = req.scope.get("client")
        who = f"{client[0]}:{client[1]}" if client else "-"
        elapsed = (time.perf_counter() - started) * 1000
        logger.info(
            '{} "{} {} HTTP/{}" {} {:.2f}ms',
            who, _printable(req.method), _printable(req.path), req.scope.get("http_version", "1.1"), status, elapsed,
        )

    # ------------------------------------------------------------------ lifespan

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                try:
                    await app.startup()
                except Exception as exc:
                    logger.exception("application startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                failures = await app.shutdown()
                if failures:
                    await send({"type": "lifespan.shutdown.failed", "message": "; ".join(map(str, failures))})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return


# Headers that must not repeat -> the 400 body naming them.
_SINGLE_HEADERS = {
    name: b'{"status":"error","message":"Duplicate %s header"}' % title.encode() for name, title in SINGLE_HEADERS.items()
}
_JSON_TYPE = [(b"content-type", b"application/json")]
_GRANT_HEADERS = frozenset(
    {b"access-control-allow-origin", b"access-control-allow-credentials", b"access-control-expose-headers"}
)
_CORS_RESPONSE_HEADERS = _GRANT_HEADERS | {b"vary"}
_VARY_ORIGIN = (b"vary", b"Origin")
# PERF: browsers repeat the same few (origin, scheme, host) triples; the check is pure.
_same_origin_cached = lru_cache(maxsize=1024)(is_same_origin)


def _same_origin(origin: str, scheme: str, host: str | None) -> bool:
    """:func:`is_same_origin`, cached for realistic sizes only (hostile long values stay out)."""
    if len(origin) > 255 or (host is not None and len(host) > 255):
        return is_same_origin(origin, scheme, host)
    return _same_origin_cached(origin, scheme, host)


def _raw_response(app: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Response[Any]:
    res = app.response_class(app)
    res.status_code = status
    res.headers.raw.extend(headers)
    res.body = body
    return res


def _checked(middleware: Any) -> Layer:
    """A middleware call that refuses anything but a Response (SPEC §9)."""
    call = middleware.middleware

    async def run(req: Request) -> Response[Any]:
        res = await call(req)
        if not isinstance(res, Response):
            raise TypeError(f"{type(middleware).__name__}.middleware must return a Response, got {type(res).__name__}")
        return res

    return run
