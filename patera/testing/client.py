"""The test client: httpx's ASGI transport plus an in-house lifespan and WebSocket driver."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .._error_boundary import UNHANDLED_EXCEPTION_KEY
from .._types import Message, Receive, Scope, Send
from ..exceptions import MissingDependency

if TYPE_CHECKING:
    from ..app import Patera

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency("httpx", extra="testing", feature="patera.testing") from exc

__all__ = ("PateraTestClient", "PyJoltTestClient", "WebSocketRejected", "WebSocketSession")


class WebSocketRejected(Exception):
    """The app closed the WebSocket before accepting it."""

    def __init__(self, code: int) -> None:
        super().__init__(f"websocket rejected with close code {code}")
        self.code = code


class _ReraisingApp:
    """The app as the transport sees it: an unhandled error the app answered with its DEBUG
    500 (SPEC §8.2) is raised again here, so the test fails with the original exception."""

    def __init__(self, app: Patera) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        exc = scope.get(UNHANDLED_EXCEPTION_KEY)
        if exc is not None:
            raise exc


class _Lifespan:
    """Speaks the ASGI lifespan protocol to the app from a background task."""

    def __init__(self, app: Patera, timeout: float) -> None:
        self._app = app
        self._timeout = timeout
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        try:
            await self._app(scope, self._to_app.get, self._from_app.put)
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting side
            await self._from_app.put({"type": "error", "message": repr(exc)})

    async def _exchange(self, send_type: str, ok: str, failed: str) -> None:
        await self._to_app.put({"type": send_type})
        try:
            message = await asyncio.wait_for(self._from_app.get(), self._timeout)
        except TimeoutError:
            raise RuntimeError(f"{send_type} timed out after {self._timeout}s") from None
        if message["type"] != ok:
            raise RuntimeError(f"{send_type} failed: {message.get('message', message['type'])}")

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._exchange("lifespan.startup", "lifespan.startup.complete", "lifespan.startup.failed")

    async def shutdown(self) -> None:
        try:
            await self._exchange("lifespan.shutdown", "lifespan.shutdown.complete", "lifespan.shutdown.failed")
        finally:
            if self._task is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(self._task, self._timeout)


class PateraTestClient:
    """``async with PateraTestClient(app) as client: await client.get("/")``."""

    def __init__(
        self,
        app: Patera,
        base_url: str = "http://testserver",
        *,
        lifespan: bool = True,
        raise_app_exceptions: bool = True,
        startup_timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.base_url = base_url
        self._lifespan_enabled = lifespan
        self._raise = raise_app_exceptions
        self._timeout = startup_timeout
        self._lifespan: _Lifespan | None = None
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> PateraTestClient:
        if self._lifespan_enabled:
            self._lifespan = _Lifespan(self.app, self._timeout)
            await self._lifespan.startup()
        asgi = _ReraisingApp(self.app) if self._raise else self.app
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=self._raise)
        self._client = httpx.AsyncClient(transport=transport, base_url=self.base_url)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("use PateraTestClient inside 'async with'")
        return self._client

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("HEAD", path, **kwargs)

    async def options(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("OPTIONS", path, **kwargs)

    @contextlib.asynccontextmanager
    async def websocket_connect(
        self, path: str, subprotocols: list[str] | None = None, headers: dict[str, str] | None = None
    ) -> AsyncIterator[WebSocketSession]:
        """Drive the ASGI WebSocket protocol in-process (no sockets).

        Like a browser, the handshake carries the cookies the HTTP client has collected
        (unless ``headers`` sets ``Cookie`` itself) and the base URL's host.
        """
        sent = dict(headers or {})
        names = {name.lower() for name in sent}
        base = httpx.URL(self.base_url)
        if "host" not in names:
            sent["host"] = base.netloc.decode("ascii")
        if "cookie" not in names and self._client is not None:
            cookie = self._client.build_request("GET", path).headers.get("cookie")
            if cookie:
                sent["cookie"] = cookie
        scheme = "wss" if base.scheme == "https" else "ws"
        session = WebSocketSession(self.app, path, subprotocols or [], sent, self._raise, scheme=scheme)
        await session.connect()
        try:
            yield session
        finally:
            await session.close()


PyJoltTestClient = PateraTestClient


class WebSocketSession:
    """One in-process WebSocket connection, the client side."""

    def __init__(
        self,
        app: Patera,
        path: str,
        subprotocols: list[str],
        headers: dict[str, str],
        raise_errors: bool,
        *,
        scheme: str = "ws",
    ) -> None:
        raw_path, _, query = path.partition("?")
        names = {name.lower() for name in headers}
        raw_headers = [] if "host" in names else [(b"host", b"testserver")]
        raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": scheme,
            # NOTE: ASGI — "path" is percent-decoded, "raw_path" is what was on the wire.
            "path": unquote(raw_path),
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": subprotocols,
            "state": {},
        }
        self._app = app
        self._raise = raise_errors
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.accepted_subprotocol: str | None = None
        self.accept_headers: list[tuple[bytes, bytes]] = []
        self.close_code: int | None = None
        self._closed = False

    async def _run(self) -> None:
        try:
            await self._app(self.scope, self._to_app.get, self._from_app.put)
        finally:
            await self._from_app.put({"type": "__app_done__"})

    async def connect(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._to_app.put({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] != "websocket.accept":
            self._closed = True
            code = message.get("code", 1000) if message["type"] == "websocket.close" else 1006
            self.close_code = code
            # The app may still be unwinding (DEBUG re-raises after the close): wait for it so
            # its error surfaces here instead of as a never-retrieved task exception.
            await self._wait_for_app()
            raise WebSocketRejected(code)
        self.accepted_subprotocol = message.get("subprotocol")
        self.accept_headers = list(message.get("headers") or [])

    async def _next(self) -> Message:
        message = await self._from_app.get()
        if message["type"] == "__app_done__":
            await self._finish()
            self.close_code = self.close_code or 1006
            return {"type": "websocket.close", "code": self.close_code}
        return message

    async def _finish(self) -> None:
        if self._task is not None and self._task.done():
            exc = None if self._task.cancelled() else self._task.exception()
            self._task = None
            if exc is not None and self._raise:
                raise exc

    async def send_text(self, data: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data))

    async def receive(self) -> Message:
        message = await self._next()
        if message["type"] == "websocket.close":
            self._closed = True
            self.close_code = message.get("code", 1000)
        return message

    async def receive_text(self) -> str:
        message = await self.receive()
        if message["type"] != "websocket.send" or message.get("text") is None:
            raise AssertionError(f"expected a text message, got {message!r}")
        text: str = message["text"]
        return text

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        if message["type"] != "websocket.send" or message.get("bytes") is None:
            raise AssertionError(f"expected a binary message, got {message!r}")
        data: bytes = message["bytes"]
        return data

    async def receive_json(self) -> Any:
        return json.loads(await self.receive_text())

    async def close(self, code: int = 1000) -> None:
        if self._task is None:
            return
        if not self._closed:
            self._closed = True
            await self._to_app.put({"type": "websocket.disconnect", "code": code})
        await self._wait_for_app()

    async def _wait_for_app(self, timeout: float = 5.0) -> None:
        """Let the app task end (cancelled after ``timeout``), then re-raise its error if asked."""
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        except Exception:  # noqa: BLE001 - the app's own error, re-raised by _finish below
            pass
        await self._finish()
