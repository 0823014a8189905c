"""WebSocket connections (SPEC §14): routing, guards, and the connection state machine.

``_asgi.ASGIHandler`` hands every ``websocket`` scope to :func:`serve_websocket`. Socket
routes live in their own router and skip middleware, CORS and before/after hooks; only
guards (auth decorators) run, before the handler, so a refused connection is never
accepted.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pydantic_core
from loguru import logger

from ._router import RequestRedirect
from .datastructures import check_header_value
from .exceptions import BaseHttpException, NotFound, WebSocketDisconnect
from .request import parse_json

if TYPE_CHECKING:
    from ._dispatch import Endpoint
    from ._types import Message, Receive, Scope, Send
    from .app import Patera
    from .request import Request
    from .response import Response

__all__ = ("CLOSE_INTERNAL_ERROR", "CLOSE_NORMAL", "CLOSE_POLICY_VIOLATION", "WebSocket", "serve_websocket")

#: RFC 6455 §7.4.1 close codes the framework sends itself.
CLOSE_NORMAL = 1000
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011

_CONNECTING, _CONNECTED, _CLOSED = 0, 1, 2
_MAX_REASON_BYTES = 123  # NOTE: RFC 6455 §5.5 — control frame payload ≤ 125 bytes, 2 of them the code.
_CONTROL = {i: f"\\x{i:02x}" for i in [*range(32), 127]}
#: ``app.response_class`` → its subclass whose ``send`` writes to the socket (built once per class).
_response_classes: dict[type[Any], type[Any]] = {}


def _disconnected(message: Message) -> WebSocketDisconnect:
    return WebSocketDisconnect(int(message.get("code", CLOSE_NORMAL)), message.get("reason") or "")


def _close_reason(reason: str) -> str:
    """``reason`` cut to what fits a close frame, without splitting a UTF-8 sequence."""
    raw = reason.encode()
    if len(raw) <= _MAX_REASON_BYTES:
        return reason
    return raw[:_MAX_REASON_BYTES].decode(errors="ignore")


class WebSocket:
    """The server side of one WebSocket connection; ``Request`` delegates its socket API here.

    The ``websocket.connect`` message is consumed before the handler runs, so handlers
    only ever see ``websocket.receive`` and ``websocket.disconnect``. After a disconnect,
    further receives return the same disconnect message instead of waiting forever.
    """

    __slots__ = ("_accepted", "_disconnect", "_receive", "_send", "_state", "close_code", "scope")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self._state = _CONNECTING
        self._accepted = False
        self._disconnect: Message | None = None
        #: The code of the close frame sent or received; ``None`` while open.
        self.close_code: int | None = None

    @property
    def accepted(self) -> bool:
        """Whether the handshake was accepted (messages may flow, or did)."""
        return self._accepted

    @property
    def closed(self) -> bool:
        """Whether a close was sent or the client disconnected."""
        return self._state == _CLOSED or self._disconnect is not None

    # ------------------------------------------------------------------ raw ASGI messages

    async def receive(self) -> Message:
        """The next raw ASGI message: ``websocket.receive`` or ``websocket.disconnect``."""
        if self._disconnect is not None:
            return self._disconnect
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self._disconnect = message
            self._state = _CLOSED
            if self.close_code is None:
                self.close_code = int(message.get("code", CLOSE_NORMAL))
        return message

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message, keeping the connection state in step with it.

        Raises:
            WebSocketDisconnect: the client has gone (its disconnect was received).
            RuntimeError: data before ``accept()``, a second accept, or anything after our close.
        """
        kind = message["type"]
        if self._disconnect is not None:
            raise _disconnected(self._disconnect)
        if self._state == _CLOSED:
            raise RuntimeError(f"cannot send {kind!r}: the WebSocket is closed")
        if kind == "websocket.accept":
            if self._state != _CONNECTING:
                raise RuntimeError("the WebSocket was already accepted")
            await self._send(message)
            self._state = _CONNECTED
            self._accepted = True
        elif kind == "websocket.close":
            self._state = _CLOSED
            self.close_code = int(message.get("code", CLOSE_NORMAL))
            await self._send(message)
        else:
            if kind == "websocket.send" and self._state != _CONNECTED:
                raise RuntimeError("call accept() before sending WebSocket messages")
            await self._send(message)

    # ------------------------------------------------------------------ handshake and close

    async def accept(self, subprotocol: str | None = None, headers: list[tuple[str, str]] | None = None) -> None:
        """Complete the handshake, optionally choosing a subprotocol and adding headers."""
        message: dict[str, Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = [
                (name.lower().encode("latin-1"), check_header_value(value).encode("latin-1")) for name, value in headers
            ]
        await self.send(message)

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Close the connection (before accept this rejects the handshake: HTTP 403)."""
        await self.send({"type": "websocket.close", "code": int(code), "reason": _close_reason(reason)})

    # ------------------------------------------------------------------ typed helpers

    async def _data(self) -> Message:
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise _disconnected(message)
        return message

    async def receive_text(self) -> str:
        """The next text message.

        Raises:
            WebSocketDisconnect: the client went away.
            TypeError: the client sent a binary message.
        """
        text: str | None = (await self._data()).get("text")
        if text is None:
            raise TypeError("expected a text WebSocket message, got a binary one")
        return text

    async def receive_bytes(self) -> bytes:
        """The next binary message.

        Raises:
            WebSocketDisconnect: the client went away.
            TypeError: the client sent a text message.
        """
        data = (await self._data()).get("bytes")
        if data is None:
            raise TypeError("expected a binary WebSocket message, got a text one")
        return bytes(data)

    async def receive_json(self) -> Any:
        """The next message (text or binary) parsed as strict JSON.

        Raises:
            WebSocketDisconnect: the client went away.
            ValueError: the message is not valid JSON.
        """
        message = await self._data()
        text = message.get("text")
        raw: bytes = text.encode() if text is not None else bytes(message.get("bytes") or b"")
        if not raw:
            raise ValueError("empty WebSocket message is not valid JSON")
        return parse_json(raw)

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": bytes(data)})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a text message, encoded like ``Response.json`` bodies."""
        await self.send_text(pydantic_core.to_json(data).decode())

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return


def _websocket_response(app: Patera, ws: WebSocket) -> Response[Any]:
    """``req.res`` for a socket: an ``app.response_class`` whose ``send`` goes to ``ws``."""
    cls = _response_classes.get(app.response_class)
    if cls is None:
        base = app.response_class
        cls = type(
            f"WebSocket{base.__name__}",
            (base,),
            {"__slots__": ("websocket",), "send": _send_via_websocket, "__module__": __name__},
        )
        _response_classes[base] = cls
    res: Response[Any] = cls(app)
    res.websocket = ws  # type: ignore[attr-defined]  # the slot of the subclass built above
    return res


async def _send_via_websocket(self: Any, message: Message) -> None:
    await self.websocket.send(message)


# ---------------------------------------------------------------------- serving


async def serve_websocket(app: Patera, scope: Scope, receive: Receive, send: Send) -> None:
    """Route one WebSocket connection and run its handler (SPEC §14)."""
    started = time.perf_counter()
    ws = WebSocket(scope, receive, send)
    # NOTE: ASGI websocket spec — the server's first message is websocket.connect; take it
    # here so accept() and close() never race it, and so handlers never see it.
    first = await receive()
    if first["type"] != "websocket.connect":
        return  # disconnected during the handshake: nothing to answer
    req: Request = app.request_class(scope, receive, app)
    req.websocket = ws
    req.response = _websocket_response(app, ws)
    endpoint: Endpoint
    try:
        endpoint, params = app.websocket_router.match(req.path, "SOCKET")
    except (NotFound, RequestRedirect):
        # NOTE: a close before accept makes the server answer the handshake with 403.
        await _close_quietly(ws, CLOSE_NORMAL)
        _log_access(app, req, ws, started)
        return
    req.endpoint = endpoint
    req.route_parameters = params
    try:
        for guard in endpoint.guards:
            await guard(req)
        result = endpoint.handler(req, **params)
        if inspect.isawaitable(result):
            await result
    except WebSocketDisconnect:
        # The client left and a helper noticed it: not an error. If the handler raised it
        # itself while the connection is still open, end the connection normally.
        if not ws.closed:
            await _close_quietly(ws, CLOSE_NORMAL)
    except BaseHttpException as exc:
        if not ws.accepted:
            logger.info("WebSocket {} refused: {} {}", req.path.translate(_CONTROL), exc.status_code, exc.message)
            await _close_quietly(ws, CLOSE_POLICY_VIOLATION, str(exc.message))
        else:
            await _crash(app, req, ws, exc)
    except Exception as exc:  # noqa: BLE001 - any handler failure is logged and closes the socket
        await _crash(app, req, ws, exc)
    else:
        if not ws.closed:
            await _close_quietly(ws, CLOSE_NORMAL)
    finally:
        _log_access(app, req, ws, started)


async def _crash(app: Patera, req: Request, ws: WebSocket, exc: Exception) -> None:
    """Close with 1011 and log CRITICAL; in DEBUG the error then reaches the server."""
    logger.critical(
        "Unhandled exception in WebSocket handler {} {} (route parameters {!r}):\n{}",
        getattr(req.endpoint, "name", "?"),
        req.path.translate(_CONTROL),
        req.route_parameters,
        "".join(traceback.format_exception(exc)),
    )
    if not ws.closed:
        await _close_quietly(ws, CLOSE_INTERNAL_ERROR, "Internal server error")
    if app.debug:
        raise exc


async def _close_quietly(ws: WebSocket, code: int, reason: str = "") -> None:
    """Best-effort close: the peer may already be gone, and that is not a new error."""
    try:
        await ws.close(code, reason)
    except Exception as exc:  # noqa: BLE001 - servers differ in what a send to a dead socket raises
        logger.debug("WebSocket close {} not delivered: {!r}", code, exc)


def _log_access(app: Patera, req: Request, ws: WebSocket, started: float) -> None:
    if not app.get_conf("ACCESS_LOG", True):
        return
    client = req.scope.get("client")
    who = f"{client[0]}:{client[1]}" if client else "-"
    path = req.path.translate(_CONTROL)
    logger.info('{} "SOCKET {}" close {} {:.2f}ms', who, path, ws.close_code, (time.perf_counter() - started) * 1000)

