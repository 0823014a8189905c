"""Property: the chain ``build()`` composes answers exactly as a plain composition of its layers.

``build()`` leaves out layers with nothing to do and lets pure dispatch layers return the
next awaitable instead of a coroutine of their own. The reference below composes the same
layers the obvious way (every layer present, every endpoint through its general wrapper),
and random requests (Origin / none / same-origin × middleware / none × sync / async
handler × body model / none × raising / returning) must get identical responses.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from patera import MiddlewareBase, Request, Response, abort
from patera._chain import Layer, checked_middleware
from patera._cors_layer import cors_layer
from patera._dispatch import ensure_response
from patera._error_boundary import screen
from patera._router import RequestRedirect
from patera._routing_outcome import unmatched
from patera.controller import Controller, consumes, get, path, post
from patera.exceptions import ExceptionHandler, NotFound, handles
from patera.media_types import MediaType

from .conftest import build_app

OUTCOMES = ("return", "abort", "handled", "unhandled", "caught", "not_a_response")


class Handled(Exception):
    pass


class Caught(Exception):
    pass


class Item(BaseModel):
    name: str


def _act(req: Request, outcome: str, payload: Any) -> Response:
    if outcome == "abort":
        abort("refused", 409)
    if outcome == "handled":
        raise Handled("by the exception handler")
    if outcome == "unhandled":
        raise RuntimeError("nobody handles this")
    if outcome == "caught":
        raise Caught("by the middleware")
    if outcome == "not_a_response":
        return {"a": "dict"}  # type: ignore[return-value]  # a TypeError the chain must raise (500)
    return req.response.json({"payload": payload, "path": req.path}).set_header("x-handler", "1")


def _controller() -> type[Controller]:
    """One endpoint per (sync/async, body/none, outcome)."""
    namespace: dict[str, Any] = {}
    for is_async in (False, True):
        for with_body in (False, True):
            for outcome in OUTCOMES:
                name = f"{'a' if is_async else 's'}_{'body' if with_body else 'none'}_{outcome}"
                url = f"/{name}"
                if with_body:
                    if is_async:
                        async def handler(self: Any, req: Request, item: Item, _o: str = outcome) -> Response:
                            return _act(req, _o, item.name)
                    else:
                        def handler(self: Any, req: Request, item: Item, _o: str = outcome) -> Response:  # type: ignore[misc]
                            return _act(req, _o, item.name)
                    handler.__name__ = name
                    namespace[name] = post(url)(consumes(MediaType.APPLICATION_JSON)(handler))
                else:
                    if is_async:
                        async def handler(self: Any, req: Request, _o: str = outcome) -> Response:  # type: ignore[misc]
                            return _act(req, _o, None)
                    else:
                        def handler(self: Any, req: Request, _o: str = outcome) -> Response:  # type: ignore[misc]
                            return _act(req, _o, None)
                    handler.__name__ = name
                    namespace[name] = get(url)(handler)
    return path("/h")(type("Combinations", (Controller,), namespace))


Combinations = _controller()


class Handlers(ExceptionHandler):
    @handles(Handled)
    async def handled(self, req: Request, exc: Handled) -> Response:
        return req.response.json({"handled": str(exc), "seen": getattr(req.state, "seen", None)}).status(418)


class Recording(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        try:
            res = await self.next(req)
        except Caught:
            return req.response.json({"caught": True}).status(299)
        finally:
            req.state.seen = "middleware"
        res.headers["x-middleware"] = "1"
        return res


def reference_chain(app: Any) -> Layer:
    """Every layer present, composed straightforwardly; endpoints through ``Endpoint.__call__``."""

    async def routing(req: Request) -> Response[Any]:
        endpoint = req.endpoint
        if endpoint is None:
            return await unmatched(req)
        return await endpoint(req)  # type: ignore[no-any-return]

    async def checked(req: Request) -> Response[Any]:
        return ensure_response(req, await routing(req))

    chain: Layer = checked
    for middleware_cls in reversed(app.middleware):
        chain = checked_middleware(middleware_cls(app, chain))
    return cors_layer(app, chain)


def reference_asgi(app: Any) -> Any:
    """The request path written out plainly: request, route match, boundary, chain, send."""
    chain = reference_chain(app)

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        req = app.request_class(scope, receive, app)
        try:
            req.endpoint, req.route_parameters = app.router.match(req.path, scope["method"])
        except (NotFound, RequestRedirect) as exc:
            req.route_error = exc
        try:
            screen(req)
            res = ensure_response(req, await chain(req))
        except Exception as exc:  # noqa: BLE001 - the boundary
            res = await app.errors.render(req, exc)
        start, body = res.messages(scope["method"] == "HEAD")
        await send(start)
        await send(body)

    return asgi


_APPS: dict[tuple[bool, bool, bool], tuple[Any, Any]] = {}


def _apps(middleware: bool, cors: bool, debug: bool) -> tuple[Any, Any]:
    key = (middleware, cors, debug)
    if key not in _APPS:
        application = build_app(
            Combinations,
            handlers=(Handlers,),
            MIDDLEWARE=[f"{__name__}:Recording"] if middleware else [],
            CORS_ENABLED=cors,
            CORS_ALLOW_ORIGINS=["https://a.example"],
            DEBUG=debug,
        )
        application.build()
        _APPS[key] = (application, reference_asgi(application))
    return _APPS[key]


async def _call(asgi: Any, scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(asgi(dict(scope), receive, send), 10)
    body_out = b"".join(m.get("body", b"") for m in sent[1:])
    headers = sorted(sent[0]["headers"])
    if body_out.startswith(b"Internal Server Error"):
        # The DEBUG traceback names the frames of each composition: compare its last line.
        body_out = body_out.rstrip().rsplit(b"\n", 1)[-1]
        headers = [(k, v) for k, v in headers if k != b"content-length"]
    return sent[0]["status"], headers, body_out


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    origin=st.sampled_from([None, "https://a.example", "https://b.example", "http://testserver"]),
    middleware=st.booleans(),
    cors=st.booleans(),
    debug=st.booleans(),
    is_async=st.booleans(),
    with_body=st.booleans(),
    outcome=st.sampled_from(OUTCOMES),
    body=st.sampled_from([b'{"name": "n"}', b'{"name": 1}', b"{bad", b""]),
    route=st.sampled_from(["endpoint", "missing", "wrong-method", "leading-slashes"]),
)
def test_composed_chain_answers_like_the_reference(
    origin: str | None, middleware: bool, cors: bool, debug: bool, is_async: bool, with_body: bool,
    outcome: str, body: bytes, route: str,
) -> None:
    application, reference = _apps(middleware, cors, debug)
    name = f"{'a' if is_async else 's'}_{'body' if with_body else 'none'}_{outcome}"
    method = "POST" if with_body else "GET"
    target = f"/h/{name}"
    if route == "missing":
        target = "/h/nothing-here"
    elif route == "wrong-method":
        method = "DELETE"
    elif route == "leading-slashes":
        target = "//" + target
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": target, "raw_path": target.encode(), "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }
    composed = asyncio.run(_call(application, scope, body))
    expected = asyncio.run(_call(reference, scope, body))
    assert composed == expected
    assert re.fullmatch(r"[1-5]\d\d", str(composed[0]))
