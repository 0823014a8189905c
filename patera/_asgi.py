"""The ASGI entry: the only module that switches on ``scope["type"]``.

An HTTP request is: make the :class:`~patera.request.Request` (its routed path and the
route match recorded on it), ``res = await chain(req)`` inside the error boundary (the
chain of ``_chain.py``, composed once in ``build()``), send ``res``, write the access log
line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loguru import logger

from ._chain import compose_chains
from ._cors_layer import uses_cors
from ._dispatch import ensure_response
from ._error_boundary import screen
from ._router import RequestRedirect
from .exceptions import ClientDisconnected, NotFound
from .request import current_request
from .response import Response, ResponseValidationError

if TYPE_CHECKING:
    from ._chain import Layer
    from ._types import Receive, Scope, Send
    from .app import Patera
    from .request import Request

__all__ = ("ASGIHandler",)

_CONTROL = {i: f"\\x{i:02x}" for i in [*range(32), 127]}


def _printable(text: str) -> str:
    """Access-log safe: control characters escaped so a path cannot forge log lines."""
    return text.translate(_CONTROL)


class ASGIHandler:
    """Dispatches ASGI connections for one :class:`~patera.app.Patera` instance."""

    def __init__(self, app: Patera) -> None:
        self.app = app
        #: the composed chains (``_chain.compose_chains``) for requests without and with an
        #: ``Origin``; set by :meth:`compose`
        self.chain: Layer | None = None
        self.origin_chain: Layer | None = None
        #: whether the entry itself awaits the routing outcome (no middleware, and for the
        #: origin chain no CORS layer either) and so settles a plain endpoint's result
        self._settles = self._settles_origin = True
        self._request_class: type[Request] = app.request_class
        self._match: Callable[[str, str], tuple[Any, dict[str, Any]]] = app.router.match
        self._access_log = bool(app.get_conf("ACCESS_LOG", True))
        self._render = app.errors.render

    def compose(self) -> None:
        """Build the chain once (``Patera.build()`` calls this after freezing routes)."""
        app = self.app
        self._request_class = app.request_class
        self._match = app.router.match
        self._render = app.errors.render
        self.chain, self.origin_chain = compose_chains(app)
        self._settles = not app.middleware
        self._settles_origin = self._settles and not uses_cors(app)

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
        started = time.perf_counter() if self._access_log else 0.0
        req = self._request_class(scope, receive, self.app)
        current_request.set(req)
        try:
            req.endpoint, req.route_parameters = self._match(req.path, scope["method"])
        except (NotFound, RequestRedirect) as exc:
            # PERF: without its traceback (this frame, which holds req) the error is not a
            # reference cycle left to the cyclic GC on every 404.
            req.route_error = exc.with_traceback(None)
        try:
            try:
                # The error boundary (_error_boundary): its steps run here, around the chain,
                # so it costs no coroutine of its own.
                try:
                    single = req.single_headers
                    if single is None:
                        screen(req)  # a repeated single-value header: DuplicateHeader
                    if b"origin" in single:  # type: ignore[operator]
                        res = await self.origin_chain(req)  # type: ignore[misc]  # composed by build()
                        settles = self._settles_origin
                    else:
                        res = await self.chain(req)  # type: ignore[misc]
                        settles = self._settles
                    if type(res) is not Response:
                        res = ensure_response(req, res)  # a plain endpoint's unchecked result
                    if settles:
                        # _dispatch.settle, inline: a plain endpoint's @produces / Response[T]
                        endpoint = req.endpoint
                        if endpoint is not None and endpoint.post is not None:
                            endpoint.post(res)
                except Exception as exc:  # noqa: BLE001 - the boundary: every error is answered
                    res = await self._render(req, exc)
            except ClientDisconnected:
                logger.debug("client disconnected during {} {}", req.method, _printable(req.path))
                return
            head = scope["method"] == "HEAD"
            try:
                messages = res.messages(head)
                if messages is None:
                    await res.send_to(send, head=head, receive=receive)
                else:
                    await send(messages[0])
                    await send(messages[1])
            except ResponseValidationError as exc:
                await self.app.errors.unsendable(req, exc).send_to(send, head=head)
        finally:
            if req.open_uploads or req.body_validation_error is not None or req.route_error is not None:
                req.finish()
        if self._access_log:
            self._log_access(req, res.status_code, started)

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
                except Exception as exc:  # noqa: BLE001 - reported to the server as startup.failed
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
