"""Raw ASGI middleware (SPEC §9 [new]): ``app.add_asgi_middleware(factory, **options)``."""

from __future__ import annotations

from typing import Any

import pytest

from patera import Request, Response
from patera.controller import Controller, get, path, socket
from patera.testing import PateraTestClient

from .conftest import build_app

Scope = dict[str, Any]


class Tagging:
    """Adds a response header and records every scope type it sees."""

    def __init__(self, app: Any, *, name: str, log: list[str]) -> None:
        self.app = app
        self.name = name
        self.log = log

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.log.append(f"{self.name}:{scope['type']}")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def tagged_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                previous = dict(headers).get(b"x-asgi-chain", b"")
                headers = [(k, v) for k, v in headers if k != b"x-asgi-chain"]
                headers.append((b"x-asgi-chain", previous + self.name.encode() + b";"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, tagged_send)


class ShortCircuit:
    """Answers ``/health`` itself without calling the app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/health":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


@path("/")
class Api(Controller):
    @get("/hi")
    async def hi(self, req: Request) -> Response:
        return req.response.json({"hi": True})

    @socket("/ws")
    async def ws(self, req: Request) -> None:
        await req.accept()
        await req.send_text("through")


def make(**config: Any) -> Any:
    return build_app(Api, **config)


async def test_wraps_whole_app_and_last_added_is_outermost() -> None:
    log: list[str] = []
    application = make()
    application.add_asgi_middleware(Tagging, name="first", log=log)
    application.add_asgi_middleware(Tagging, name="second", log=log)
    async with PateraTestClient(application) as client:
        log.clear()
        r = await client.get("/hi")
        missing = await client.get("/nowhere")
    assert r.json() == {"hi": True}
    # the inner (first added) tags the response first, the outer appends after it
    assert r.headers["x-asgi-chain"] == "first;second;"
    assert log[:2] == ["second:http", "first:http"]
    assert missing.status_code == 404 and missing.headers["x-asgi-chain"] == "first;second;"


async def test_lifespan_passes_through() -> None:
    log: list[str] = []
    started: list[bool] = []
    application = make()
    application.add_asgi_middleware(Tagging, name="mw", log=log)
    # the startup hook runs only if lifespan messages reached the app through the wrapper
    application.add_on_startup_method(lambda: started.append(True))
    async with PateraTestClient(application):
        assert started == [True]
    assert log == ["mw:lifespan"]


async def test_websockets_pass_through() -> None:
    log: list[str] = []
    application = make()
    application.add_asgi_middleware(Tagging, name="mw", log=log)
    async with PateraTestClient(application, lifespan=False) as client, client.websocket_connect("/ws") as ws:
        assert await ws.receive_text() == "through"
    assert log == ["mw:websocket"]


async def test_middleware_may_answer_itself() -> None:
    application = make()
    application.add_asgi_middleware(ShortCircuit)
    async with PateraTestClient(application) as client:
        health = await client.get("/health")
        hi = await client.get("/hi")
    assert health.status_code == 204
    assert hi.json() == {"hi": True}


async def test_adding_after_first_request_is_refused() -> None:
    application = make()
    async with PateraTestClient(application) as client:
        await client.get("/hi")
        with pytest.raises(RuntimeError, match="before the app serves"):
            application.add_asgi_middleware(ShortCircuit)
        assert (await client.get("/health")).status_code == 404


def test_adding_after_explicit_build_is_refused() -> None:
    application = make()
    application.build()
    with pytest.raises(RuntimeError):
        application.add_asgi_middleware(ShortCircuit)
