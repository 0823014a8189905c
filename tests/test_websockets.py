"""WebSockets (SPEC §14): in-process through the test client, and end to end under hypercorn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from patera import BaseConfig, Patera, Request, Response, app
from patera.controller import Controller, development, get, path, socket
from patera.controller.decorators import endpoint_spec
from patera.exceptions import AuthenticationException, WebSocketDisconnect, abort
from patera.testing import PateraTestClient, WebSocketRejected
from patera.websockets import WebSocket

from ._servers import hypercorn_server

TIMEOUT = 5.0


class Cfg(BaseConfig):
    APP_NAME: str = "ws"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    DEFAULT_LOGGER: dict[str, Any] = {"LEVEL": "CRITICAL"}


class ProdCfg(Cfg):
    DEBUG: bool = False


async def require_token(req: Request) -> None:
    """A guard shaped like the auth decorators: raise a 401 before the handler runs."""
    if req.headers.get("authorization") != "Bearer ok":
        raise AuthenticationException("Login required")


async def require_ticket(req: Request) -> None:
    if "ticket" not in req.query_params:
        raise AuthenticationException("no ticket")


@path("/ws")
class Sockets(Controller):
    @socket("/echo")
    async def echo(self, req: Request) -> None:
        await req.accept()
        async for text in req.iter_text():
            await req.send_text("echo:" + text)

    @socket("/bytes")
    async def echo_bytes(self, req: Request) -> None:
        await req.accept()
        while True:
            try:
                data = await req.receive_bytes()
            except WebSocketDisconnect:
                return
            await req.send_bytes(data[::-1])

    @socket("/json")
    async def echo_json(self, req: Request) -> None:
        await req.accept()
        data = await req.receive_json()
        await req.send_json({"got": data, "n": len(data)})
        await req.close()

    @socket("/room/<int:room>/<name>")
    async def room(self, req: Request, room: int, name: str) -> None:
        await req.accept()
        await req.send_json({"room": room, "name": name, "params": req.route_parameters})

    @socket("/info")
    async def info(self, req: Request) -> None:
        req.state.seen = True
        await req.accept(subprotocol="chat.v2", headers=[("X-Server", "patera")])
        await req.send_json(
            {
                "method": req.method,
                "header": req.headers.get("x-client"),
                "query": req.query_params,
                "cookies": req.cookies,
                "state": req.state.seen,
                "handler": req.route_handler.__name__,
            }
        )
        errors = []
        for reader in (req.body, req.json, req.form):
            try:
                await reader()
            except RuntimeError as exc:
                errors.append(str(exc))
        await req.send_json(errors)
        await req.close(4001, "bye")

    @socket("/readme")
    async def readme(self, req: Request) -> None:
        await req.accept()
        while True:
            data = await req.receive()
            if data["type"] == "websocket.disconnect":
                break
            if data["type"] == "websocket.receive":
                await req.res.send(
                    {"type": "websocket.send", "text": "Hello from server. Echo: " + data.get("text", "")}
                )

    @socket("/guarded")
    async def guarded(self, req: Request) -> None:
        await req.accept()
        await req.send_text("welcome")

    @socket("/boom")
    async def boom(self, req: Request) -> None:
        await req.accept()
        await req.receive_text()
        raise ValueError("handler bug")

    @socket("/boom-early")
    async def boom_early(self, req: Request) -> None:
        raise ValueError("bug before accept")

    @socket("/abort")
    async def aborts(self, req: Request) -> None:
        abort("nope", 403)

    @socket("/returns")
    async def returns(self, req: Request) -> None:
        await req.accept()
        await req.send_text("one")

    @socket("/returns-early")
    async def returns_early(self, req: Request) -> None:
        return None

    @socket("/gives-up")
    async def gives_up(self, req: Request) -> None:
        await req.accept()
        raise WebSocketDisconnect(1000)

    @socket("/late-send")
    async def late_send(self, req: Request) -> None:
        await req.accept()
        while (await req.receive())["type"] != "websocket.disconnect":
            pass
        await req.send_text("nobody is listening")

    @development
    @socket("/dev")
    async def dev_only(self, req: Request) -> None:
        await req.accept()
        await req.close()

    @get("/http")
    async def http(self, req: Request) -> Response:
        return req.response.text("plain http")

    @get("/login")
    async def login(self, req: Request) -> Response:
        return req.response.text("in").set_cookie("sid", "s3cret", path="/")


endpoint_spec(Sockets.guarded).guards.append(require_token)


@path("/guarded-class")
class GuardedSockets(Controller):
    __patera_guards__ = [require_ticket]

    @socket("/ws")
    async def handler(self, req: Request) -> None:
        await req.accept()
        await req.send_text("ticket ok")


def make_app(config: type[BaseConfig] = Cfg) -> Patera:
    @app(__name__, configs=config)
    class App(Patera):
        pass

    application = App()
    application.register_controller(Sockets, GuardedSockets)
    return application


@pytest.fixture
async def client() -> AsyncIterator[PateraTestClient]:
    async with PateraTestClient(make_app()) as c:
        yield c


@pytest.fixture
async def prod_client() -> AsyncIterator[PateraTestClient]:
    async with PateraTestClient(make_app(ProdCfg)) as c:
        yield c


def within(awaitable: Any) -> Any:
    return asyncio.wait_for(awaitable, TIMEOUT)


# ---------------------------------------------------------------------- in-process


async def test_echo_text_until_disconnect(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/echo") as ws:
        for word in ("a", "ünïcode", ""):
            await ws.send_text(word)
            assert await within(ws.receive_text()) == "echo:" + word


async def test_echo_bytes(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/bytes") as ws:
        await ws.send_bytes(b"\x00\x01\xff")
        assert await within(ws.receive_bytes()) == b"\xff\x01\x00"


async def test_json_round_trip_and_explicit_close(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/json") as ws:
        await ws.send_json([1, "two", {"three": 3}])
        assert await within(ws.receive_json()) == {"got": [1, "two", {"three": 3}], "n": 3}
        message = await within(ws.receive())
        assert message == {"type": "websocket.close", "code": 1000, "reason": ""}


async def test_route_converters_become_kwargs(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/room/42/lobby") as ws:
        assert await within(ws.receive_json()) == {"room": 42, "name": "lobby", "params": {"room": 42, "name": "lobby"}}


async def test_path_is_percent_decoded(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/room/7/hello%20w%C3%B6rld") as ws:
        assert (await within(ws.receive_json()))["name"] == "hello wörld"


async def test_handshake_carries_cookies_from_http_client(client: PateraTestClient) -> None:
    assert (await client.get("/ws/login")).text == "in"
    async with client.websocket_connect("/ws/info") as ws:
        info = await within(ws.receive_json())
    assert info["cookies"] == {"sid": "s3cret"}
    # an explicit Cookie header wins over the jar
    async with client.websocket_connect("/ws/info", headers={"Cookie": "sid=mine"}) as ws:
        assert (await within(ws.receive_json()))["cookies"] == {"sid": "mine"}


async def test_converter_mismatch_is_rejected(client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect("/ws/room/not-a-number/x"):
            pass
    assert info.value.code == 1000


async def test_subprotocol_headers_and_request_api(client: PateraTestClient) -> None:
    async with client.websocket_connect(
        "/ws/info?a=1&a=2&b=", subprotocols=["chat.v1", "chat.v2"], headers={"X-Client": "t", "Cookie": "sid=abc"}
    ) as ws:
        assert ws.accepted_subprotocol == "chat.v2"
        assert (b"x-server", b"patera") in ws.accept_headers
        assert await within(ws.receive_json()) == {
            "method": "SOCKET",
            "header": "t",
            "query": {"a": ["1", "2"], "b": ""},
            "cookies": {"sid": "abc"},
            "state": True,
            "handler": "info",
        }
        errors = await within(ws.receive_json())
        assert len(errors) == 3 and all("WebSocket" in e for e in errors)
        assert await within(ws.receive()) == {"type": "websocket.close", "code": 4001, "reason": "bye"}


async def test_readme_raw_message_loop(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/readme") as ws:
        await ws.send_text("hi")
        assert await within(ws.receive_text()) == "Hello from server. Echo: hi"
        await ws.send_text("again")
        assert await within(ws.receive_text()) == "Hello from server. Echo: again"


@pytest.mark.parametrize("target", ["/nope", "/ws", "/ws/http", "/ws/echo/extra"])
async def test_unknown_path_rejected_before_accept(client: PateraTestClient, target: str) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect(target):
            pass
    assert info.value.code == 1000


async def test_http_routes_do_not_serve_websockets_and_vice_versa(client: PateraTestClient) -> None:
    assert (await client.get("/ws/http")).text == "plain http"
    response = await client.get("/ws/echo")
    assert response.status_code == 404


async def test_method_guard_refuses_with_1008_before_accept(client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect("/ws/guarded"):
            pass
    assert info.value.code == 1008
    async with client.websocket_connect("/ws/guarded", headers={"Authorization": "Bearer ok"}) as ws:
        assert await within(ws.receive_text()) == "welcome"


async def test_class_guard_applies_to_socket(client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect("/guarded-class/ws"):
            pass
    assert info.value.code == 1008
    async with client.websocket_connect("/guarded-class/ws?ticket=1") as ws:
        assert await within(ws.receive_text()) == "ticket ok"


async def test_http_exception_in_handler_before_accept_is_1008(client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect("/ws/abort"):
            pass
    assert info.value.code == 1008


async def test_handler_exception_closes_1011_in_production(prod_client: PateraTestClient) -> None:
    async with prod_client.websocket_connect("/ws/boom") as ws:
        await ws.send_text("trigger")
        message = await within(ws.receive())
        assert message == {"type": "websocket.close", "code": 1011, "reason": "Internal server error"}
    severe = prod_client.app.log_buffer.get_last_severe()
    assert severe and severe[-1]["level"] == "CRITICAL" and "handler bug" in severe[-1]["message"]


async def test_handler_exception_reraised_in_debug_after_1011(client: PateraTestClient) -> None:
    with pytest.raises(ValueError, match="handler bug"):
        async with client.websocket_connect("/ws/boom") as ws:
            await ws.send_text("trigger")
            message = await within(ws.receive())
            assert message["code"] == 1011


async def test_exception_before_accept_rejects(prod_client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with prod_client.websocket_connect("/ws/boom-early"):
            pass
    assert info.value.code == 1011


async def test_exception_before_accept_reraised_in_debug(client: PateraTestClient) -> None:
    with pytest.raises(ValueError, match="bug before accept"):
        async with client.websocket_connect("/ws/boom-early"):
            pass


async def test_app_errors_not_raised_when_client_asks_not_to() -> None:
    async with PateraTestClient(make_app(), raise_app_exceptions=False) as c:
        with pytest.raises(WebSocketRejected) as info:
            async with c.websocket_connect("/ws/boom-early"):
                pass
        assert info.value.code == 1011
        async with c.websocket_connect("/ws/boom") as ws:
            await ws.send_text("trigger")
            assert (await within(ws.receive()))["code"] == 1011


async def test_handler_return_closes_with_1000(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/returns") as ws:
        assert await within(ws.receive_text()) == "one"
        assert await within(ws.receive()) == {"type": "websocket.close", "code": 1000, "reason": ""}


async def test_handler_return_without_accept_rejects_with_1000(client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect("/ws/returns-early"):
            pass
    assert info.value.code == 1000


async def test_handler_raising_disconnect_itself_closes_normally(prod_client: PateraTestClient) -> None:
    async with prod_client.websocket_connect("/ws/gives-up") as ws:
        assert await within(ws.receive()) == {"type": "websocket.close", "code": 1000, "reason": ""}
    assert prod_client.app.log_buffer.get_last_severe() == []


async def test_send_after_client_left_ends_quietly(prod_client: PateraTestClient) -> None:
    async with prod_client.websocket_connect("/ws/late-send") as ws:
        await ws.send_text("bye")
    assert prod_client.app.log_buffer.get_last_severe() == []


async def test_development_socket_absent_in_production(prod_client: PateraTestClient) -> None:
    with pytest.raises(WebSocketRejected):
        async with prod_client.websocket_connect("/ws/dev"):
            pass


async def test_development_socket_present_in_debug(client: PateraTestClient) -> None:
    async with client.websocket_connect("/ws/dev") as ws:
        assert (await within(ws.receive()))["code"] == 1000


async def test_http_request_has_no_socket_api(client: PateraTestClient) -> None:
    from patera.request import Request as Req

    req = Req({"type": "http", "method": "GET", "path": "/", "headers": []}, None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await req.accept()
    with pytest.raises(RuntimeError):
        await req.res.send({"type": "websocket.send", "text": "x"})


# ---------------------------------------------------------------------- connection state machine


class FakeServer:
    """Queues standing in for an ASGI server, for state-machine tests without an app."""

    def __init__(self, *incoming: dict[str, Any]) -> None:
        self.incoming = list(incoming)
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return self.incoming.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def connection(*incoming: dict[str, Any]) -> tuple[WebSocket, FakeServer]:
    server = FakeServer(*incoming)
    return WebSocket({"type": "websocket", "path": "/"}, server.receive, server.send), server


async def test_helpers_raise_disconnect_and_remember_it() -> None:
    ws, server = connection({"type": "websocket.disconnect", "code": 1001})
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as info:
        await ws.receive_text()
    assert info.value.code == 1001
    # the server is not asked again: the disconnect is repeated
    assert await ws.receive() == {"type": "websocket.disconnect", "code": 1001}
    with pytest.raises(WebSocketDisconnect):
        await ws.receive_json()
    assert ws.closed and ws.close_code == 1001
    # sending to a client that has gone is the same event, not a programming error
    with pytest.raises(WebSocketDisconnect):
        await ws.send_text("late")
    assert len(server.sent) == 1  # only the accept


async def test_send_before_accept_and_double_accept_refused() -> None:
    ws, server = connection()
    with pytest.raises(RuntimeError, match="accept"):
        await ws.send_text("early")
    await ws.accept()
    with pytest.raises(RuntimeError, match="already"):
        await ws.accept()
    await ws.close(1000, "x" * 200)
    assert len(server.sent[-1]["reason"].encode()) <= 123
    with pytest.raises(RuntimeError, match="closed"):
        await ws.close()


async def test_wrong_frame_types_and_bad_json() -> None:
    ws, _ = connection(
        {"type": "websocket.receive", "bytes": b"\x01", "text": None},
        {"type": "websocket.receive", "text": "t"},
        {"type": "websocket.receive", "text": "{bad"},
        {"type": "websocket.receive", "bytes": b'{"ok": true}'},
    )
    await ws.accept()
    with pytest.raises(TypeError):
        await ws.receive_text()
    with pytest.raises(TypeError):
        await ws.receive_bytes()
    with pytest.raises(ValueError):
        await ws.receive_json()
    assert await ws.receive_json() == {"ok": True}


async def test_accept_header_injection_refused() -> None:
    ws, _ = connection()
    with pytest.raises(ValueError):
        await ws.accept(headers=[("x-a", "1\r\nx-b: 2")])


# ---------------------------------------------------------------------- end to end (hypercorn + websockets)


@contextlib.asynccontextmanager
async def served(application: Patera) -> AsyncIterator[str]:
    """Run ``application`` under a real hypercorn server on loopback; yields ``ws://host:port``."""
    async with hypercorn_server(application) as port:
        yield f"ws://127.0.0.1:{port}"


async def test_end_to_end_echo_and_1011_under_hypercorn() -> None:
    websockets_client = pytest.importorskip("websockets.asyncio.client")
    from websockets.exceptions import ConnectionClosedError, InvalidStatus

    async with served(make_app(ProdCfg)) as base:
        async with websockets_client.connect(base + "/ws/echo") as ws:
            for word in ("hello", "wörld"):
                await ws.send(word)
                assert await within(ws.recv()) == "echo:" + word

        async with websockets_client.connect(base + "/ws/info", subprotocols=["chat.v2"]) as ws:
            assert ws.subprotocol == "chat.v2"
            assert ws.response.headers["x-server"] == "patera"
            info = await within(ws.recv())
            assert '"method":"SOCKET"' in info

        async with websockets_client.connect(base + "/ws/boom") as ws:
            await ws.send("trigger")
            with pytest.raises(ConnectionClosedError) as closed:
                await within(ws.recv())
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1011
            assert closed.value.rcvd.reason == "Internal server error"

        with pytest.raises(InvalidStatus) as refused:
            async with websockets_client.connect(base + "/nope"):
                pass
        assert refused.value.response.status_code == 403

        with pytest.raises(InvalidStatus) as unauthorised:
            async with websockets_client.connect(base + "/ws/guarded"):
                pass
        assert unauthorised.value.response.status_code == 403

        authorised = {"Authorization": "Bearer ok"}
        async with websockets_client.connect(base + "/ws/guarded", additional_headers=authorised) as ws:
            assert await within(ws.recv()) == "welcome"


async def test_end_to_end_debug_reraise_still_closes_1011() -> None:
    websockets_client = pytest.importorskip("websockets.asyncio.client")
    from websockets.exceptions import ConnectionClosedError

    async with served(make_app(Cfg)) as base:
        async with websockets_client.connect(base + "/ws/boom") as ws:
            await ws.send("trigger")
            with pytest.raises(ConnectionClosedError) as closed:
                await within(ws.recv())
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        # the server survives the re-raised error and keeps serving
        async with websockets_client.connect(base + "/ws/echo") as ws:
            await ws.send("still up")
            assert await within(ws.recv()) == "echo:still up"
