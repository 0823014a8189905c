"""The request chain (SPEC §3.3, §8.1, §8.2, §9, §4.1): exceptions travel outward through
middleware, one boundary renders every error, ``req.path`` is the routed path, DEBUG 500s."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest
from loguru import logger
from pydantic import BaseModel, ValidationError

import patera
from patera import HttpStatus, MiddlewareBase, Request, Response
from patera.controller import Controller, before_request, consumes, get, path, post, produces
from patera.controller.decorators import endpoint_spec
from patera.exceptions import (
    BadRequest,
    BaseHttpException,
    CorsOriginRefused,
    DuplicateHeader,
    ExceptionHandler,
    MethodNotAllowed,
    NotFound,
    PreflightMethodRefused,
    RangeNotSatisfiable,
    RequestEntityTooLarge,
    StaticAssetNotFound,
    UnsupportedMediaType,
    handles,
)
from patera.media_types import MediaType
from patera.testing import PateraTestClient

from ._servers import hypercorn_server
from .conftest import build_app

ORIGIN = "https://a.example"


class Boom(Exception):
    pass


class Item(BaseModel):
    name: str


@path("/p")
class Api(Controller):
    @get("/ok")
    async def ok(self, req: Request) -> Response:
        return req.response.json({"path": req.path})

    @get("/boom")
    async def boom(self, req: Request) -> Response:
        raise Boom("handler failed")

    @post("/items")
    @consumes(MediaType.APPLICATION_JSON)
    async def create(self, req: Request, item: Item) -> Response:
        return req.response.json(item)


# ---------------------------------------------------------------------- middleware sees errors

CAUGHT: list[str] = []


class Catching(MiddlewareBase):
    """The README's pattern: ``try: return await self.next(req) except MyError: ...``."""

    async def middleware(self, req: Request) -> Response:
        try:
            return await self.next(req)
        except Boom as exc:
            CAUGHT.append(str(exc))
            return req.response.json({"caught": str(exc)}).status(299)


class Finally(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        try:
            return await self.next(req)
        finally:
            req.state.left_at = "finally"


class RoutingSpy(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        try:
            return await self.next(req)
        except NotFound as exc:
            CAUGHT.append(type(exc).__name__)
            raise


class StateReader(ExceptionHandler):
    @handles(Boom)
    async def boom(self, req: Request, exc: Boom) -> Response:
        return req.response.json({"state": getattr(req.state, "left_at", None)}).status(500)


@pytest.fixture(autouse=True)
def _reset() -> None:
    CAUGHT.clear()


@pytest.mark.parametrize("debug", [False, True])
async def test_middleware_try_except_catches_what_the_handler_raised(debug: bool) -> None:
    application = build_app(Api, DEBUG=debug, MIDDLEWARE=[f"{__name__}:Catching"])
    async with PateraTestClient(application) as client:
        r = await client.get("/p/boom")
    assert (r.status_code, r.json()) == (299, {"caught": "handler failed"})
    assert CAUGHT == ["handler failed"]


@pytest.mark.parametrize("debug", [False, True])
async def test_state_set_in_finally_is_visible_to_the_exception_handler(debug: bool) -> None:
    application = build_app(Api, handlers=(StateReader,), DEBUG=debug, MIDDLEWARE=[f"{__name__}:Finally"])
    async with PateraTestClient(application) as client:
        r = await client.get("/p/boom")
    assert (r.status_code, r.json()) == (500, {"state": "finally"})


@pytest.mark.parametrize(("method", "url", "raised", "status"), [
    ("GET", "/nowhere", "NotFound", 404),
    ("DELETE", "/p/ok", "MethodNotAllowed", 405),
])
async def test_routing_outcomes_reach_middleware_as_exceptions(method: str, url: str, raised: str, status: int) -> None:
    application = build_app(Api, MIDDLEWARE=[f"{__name__}:RoutingSpy"])
    async with PateraTestClient(application) as client:
        r = await client.request(method, url)
    assert r.status_code == status
    assert [raised] == CAUGHT


# ---------------------------------------------------------------------- every framework error type


class Replacing(ExceptionHandler):
    """One handler for every framework-generated error: its body names the type."""

    @handles(
        DuplicateHeader, CorsOriginRefused, PreflightMethodRefused, RangeNotSatisfiable, RequestEntityTooLarge,
        UnsupportedMediaType, BadRequest, NotFound, MethodNotAllowed, StaticAssetNotFound, ValidationError,
    )
    async def replace(self, req: Request, exc: Exception) -> Response:
        return req.response.json({"replaced": type(exc).__name__}).status(599)


FRAMEWORK_ERRORS = [
    # (type, method, url, headers, body)
    ("DuplicateHeader", "GET", "/p/ok", [("content-type", "a/b"), ("content-type", "c/d")], b""),
    ("CorsOriginRefused", "GET", "/p/ok", [("origin", "https://b.example")], b""),
    (
        "PreflightMethodRefused",
        "OPTIONS",
        "/p/ok",
        [("origin", ORIGIN), ("access-control-request-method", "TRACE")],
        b"",
    ),
    ("RangeNotSatisfiable", "GET", "/static/file.txt", [("range", "bytes=500-")], b""),
    (
        "RequestEntityTooLarge",
        "POST",
        "/p/items",
        [("content-type", "application/json")],
        b'{"name": "' + b"x" * 200 + b'"}',
    ),
    ("UnsupportedMediaType", "POST", "/p/items", [("content-type", "text/plain")], b"{}"),
    ("BadRequest", "POST", "/p/items", [("content-type", "application/json")], b"{nope"),
    ("ValidationError", "POST", "/p/items", [("content-type", "application/json")], b'{"name": 1}'),
    ("NotFound", "GET", "/nowhere", [], b""),
    ("MethodNotAllowed", "DELETE", "/p/ok", [], b""),
    ("StaticAssetNotFound", "GET", "/static/missing.txt", [], b""),
]


@pytest.mark.parametrize(
    ("kind", "method", "url", "headers", "body"), FRAMEWORK_ERRORS, ids=[e[0] for e in FRAMEWORK_ERRORS]
)
async def test_each_framework_error_can_be_replaced_with_handles(
    tmp_path: Any, kind: str, method: str, url: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "file.txt").write_bytes(b"0123456789")
    application = build_app(
        Api, handlers=(Replacing,), CORS_ALLOW_ORIGINS=[ORIGIN], CORS_ALLOW_METHODS=["GET"], MAX_CONTENT_LENGTH=100
    )
    application._root_path = str(tmp_path)
    async with PateraTestClient(application) as client:
        r = await client.request(method, url, headers=headers, content=body)
    assert (r.status_code, r.json()) == (599, {"replaced": kind})


@pytest.mark.parametrize(
    ("kind", "method", "url", "headers", "body"), FRAMEWORK_ERRORS, ids=[e[0] for e in FRAMEWORK_ERRORS]
)
async def test_each_framework_error_has_its_default_answer_without_a_handler(
    tmp_path: Any, kind: str, method: str, url: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "file.txt").write_bytes(b"0123456789")
    application = build_app(Api, CORS_ALLOW_ORIGINS=[ORIGIN], CORS_ALLOW_METHODS=["GET"], MAX_CONTENT_LENGTH=100)
    application._root_path = str(tmp_path)
    async with PateraTestClient(application) as client:
        r = await client.request(method, url, headers=headers, content=body)
    expected = {
        "DuplicateHeader": (400, "Duplicate Content-Type header"),
        "CorsOriginRefused": (403, "CORS origin not allowed"),
        "PreflightMethodRefused": (405, "Preflight method not allowed"),
        "RangeNotSatisfiable": (416, "Requested range not satisfiable"),
        "RequestEntityTooLarge": (413, "Request body too large"),
        "UnsupportedMediaType": (415, "Unsupported Media Type"),
        "BadRequest": (400, "Malformed JSON body"),
        "ValidationError": (422, "Validation failed"),
        "NotFound": (404, "Endpoint not found"),
        "MethodNotAllowed": (405, "Method not allowed"),
        "StaticAssetNotFound": (404, "Static asset not found"),
    }[kind]
    assert (r.status_code, r.json()["message"]) == expected
    assert r.headers["content-type"] == "application/json"
    if kind == "RangeNotSatisfiable":
        assert (r.headers["content-range"], r.headers["accept-ranges"]) == ("bytes */10", "bytes")
    if kind in ("CorsOriginRefused", "PreflightMethodRefused"):
        assert r.headers["vary"] == "Origin" and "access-control-allow-origin" not in r.headers


async def test_a_handler_answer_to_a_granted_request_still_gets_the_cors_grant() -> None:
    application = build_app(Api, handlers=(Replacing,), CORS_ALLOW_ORIGINS=[ORIGIN])
    async with PateraTestClient(application) as client:
        r = await client.get("/nowhere", headers={"origin": ORIGIN})
    assert r.status_code == 599
    assert r.headers["access-control-allow-origin"] == ORIGIN and r.headers["vary"] == "Origin"


# ---------------------------------------------------------------------- req.path is the routed path


class AdminGuard(MiddlewareBase):
    """A guard written against ``req.path``, as users write them."""

    async def middleware(self, req: Request) -> Response:
        if req.path.startswith("/admin"):
            return req.response.json({"refused": req.path}).status(403)
        return await self.next(req)


@path("/admin")
class Admin(Controller):
    @get("/x")
    async def secret(self, req: Request) -> Response:
        return req.response.text("secret")


def _guarded() -> Any:
    return build_app(Admin, MIDDLEWARE=[f"{__name__}:AdminGuard"], ACCESS_LOG=True)


async def _raw_asgi(application: Any, target: str) -> tuple[int, bytes]:
    """Call the app with a scope whose path is ``target`` exactly (what a server may hand over)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await application(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("target", ["/admin/x", "//admin/x", "///admin/x", "admin/x"])
async def test_a_req_path_guard_cannot_be_bypassed_in_process(target: str) -> None:
    application = _guarded()
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{message}", filter=lambda r: "HTTP/" in r["message"])
    try:
        status, body = await _raw_asgi(application, target)
    finally:
        logger.remove(sink)
    assert (status, json.loads(body)) == (403, {"refused": "/admin/x"})
    assert any('"GET /admin/x HTTP/1.1" 403' in line for line in lines), lines


async def _raw_http(port: int, target: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(-1), 5)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("target", ["/admin/x", "//admin/x", "///admin/x", "admin/x"])
async def test_a_req_path_guard_cannot_be_bypassed_under_hypercorn(target: str) -> None:
    async with hypercorn_server(_guarded()) as port:
        status, body = await _raw_http(port, target)
    if target == "admin/x" and status == 400:
        pytest.skip("this hypercorn refuses a relative request-target itself")
    assert status == 403, body
    assert json.loads(body) == {"refused": "/admin/x"}


async def test_req_state_is_assignable() -> None:
    @path("/s")
    class State(Controller):
        @get("/")
        async def show(self, req: Request) -> Response:
            req.state = {"replaced": True}
            return req.response.json(req.state)

    async with PateraTestClient(build_app(State)) as client:
        assert (await client.get("/s/")).json() == {"replaced": True}


# ---------------------------------------------------------------------- DEBUG 500


async def test_debug_500_is_the_traceback_as_text_never_reraised_to_the_server() -> None:
    application = build_app(Api, DEBUG=True)
    async with PateraTestClient(application, raise_app_exceptions=False) as client:
        r = await client.get("/p/boom")
        page = await client.get("/p/boom", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        curl = await client.get("/p/boom", headers={"accept": "*/*"})
    assert r.status_code == 500 and r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text.startswith("Internal Server Error") and "Boom: handler failed" in r.text and "Traceback" in r.text
    assert page.status_code == 500 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<pre>" in page.text and "Boom: handler failed" in page.text
    assert curl.headers["content-type"].startswith("text/plain")
    # Logged once per request, at ERROR.
    errors = [r for r in application.log_buffer.get_last_severe() if "Unhandled exception" in r["message"]]
    assert len(errors) == 3 and {e["level"] for e in errors} == {"ERROR"}


async def test_debug_500_escapes_html_in_the_traceback() -> None:
    @path("/h")
    class Html(Controller):
        @get("/")
        async def fail(self, req: Request) -> Response:
            raise ValueError("<script>alert(1)</script>")

    async with PateraTestClient(build_app(Html, DEBUG=True), raise_app_exceptions=False) as client:
        r = await client.get("/h/", headers={"accept": "text/html"})
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text


async def test_debug_500_reaches_the_server_as_a_response_not_an_exception() -> None:
    status, body = await _raw_asgi(build_app(Api, DEBUG=True), "/p/boom")
    assert status == 500 and b"Boom: handler failed" in body


async def test_test_client_reraises_the_original_exception_in_debug() -> None:
    async with PateraTestClient(build_app(Api, DEBUG=True)) as client:
        with pytest.raises(Boom, match="handler failed"):
            await client.get("/p/boom")


# ---------------------------------------------------------------------- guards (extension contract)

EVENTS: list[str] = []


async def refuse_login(req: Request) -> None:
    EVENTS.append("guard")
    if req.headers.get("authorization") != "yes":
        raise BaseHttpException("Login required", 401)


async def class_guard(req: Request) -> None:
    EVENTS.append("class-guard")


@path("/guarded")
class Guarded(Controller):
    __patera_guards__: ClassVar[list[Any]] = [class_guard]

    @before_request
    async def hook(self, req: Request) -> None:
        EVENTS.append("before")

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    async def create(self, req: Request, item: Item) -> Response:
        EVENTS.append("handler")
        return req.response.json(item)


endpoint_spec(Guarded.create).guards.append(refuse_login)


@pytest.mark.parametrize("debug", [False, True])
async def test_a_guard_refuses_before_hooks_body_parsing_and_handler(debug: bool) -> None:
    EVENTS.clear()
    async with PateraTestClient(build_app(Guarded, DEBUG=debug)) as client:
        refused = await client.post("/guarded/", content=b"{not json", headers={"content-type": "application/json"})
        assert EVENTS == ["class-guard", "guard"]
        allowed = await client.post("/guarded/", json={"name": "a"}, headers={"authorization": "yes"})
    assert (refused.status_code, refused.json()) == (401, {"status": "error", "message": "Login required"})
    assert allowed.json() == {"name": "a"}
    assert EVENTS == ["class-guard", "guard", "class-guard", "guard", "before", "handler"]


# ---------------------------------------------------------------------- the patera.app module


def test_the_app_module_is_not_shadowed_by_the_decorator() -> None:
    import importlib

    module = importlib.import_module("patera.app")
    assert patera.app is module and patera.app.Patera is patera.Patera
    from patera import app as decorator
    from patera.app import app as plain_decorator

    @decorator("x", configs=patera.BaseConfig)
    class A(patera.Patera):
        pass

    @plain_decorator("y", configs=patera.BaseConfig)
    class B(patera.Patera):
        pass

    assert A.__patera_app__[0] == "x" and B.__patera_app__[0] == "y"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- @produces and Response[T] on a plain endpoint
# A handler with only @produces / Response[T] runs as a plain endpoint: whichever layer awaits
# it (the entry, the CORS layer, the check in front of middleware) applies them (_dispatch.settle).

SEEN_BY_MIDDLEWARE: list[tuple[int, str | None]] = []


class Recording(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        res = await self.next(req)
        SEEN_BY_MIDDLEWARE.append((res.status_code, res.headers.get("content-type")))
        return res


class Shown(BaseModel):
    name: str


@path("/finish")
class Finished(Controller):
    @get("/text")
    @produces(MediaType.TEXT_PLAIN, HttpStatus.ACCEPTED)
    async def text(self, req: Request) -> Response:
        return req.response.text("hi")

    @get("/typed")
    @produces(MediaType.APPLICATION_JSON)
    async def typed(self, req: Request) -> Response[Shown]:
        return req.response.json({"name": "a", "secret": "dropped"}).status(HttpStatus.CREATED)

    @get("/other-type")
    @produces(MediaType.APPLICATION_JSON)
    async def other_type(self, req: Request) -> Response:
        return req.response.text("not json")

    @get("/invalid")
    async def invalid(self, req: Request) -> Response[Shown]:
        return req.response.json({"nom": "a"})

    @get("/not-a-response")
    @produces(MediaType.APPLICATION_JSON)
    async def not_a_response(self, req: Request) -> Any:
        return {"a": 1}


@pytest.mark.parametrize(
    ("config", "headers"),
    [
        ({}, {}),
        ({"MIDDLEWARE": [f"{__name__}:Recording"]}, {}),
        ({"CORS_ALLOW_ORIGINS": [ORIGIN]}, {"origin": ORIGIN}),
        ({"CORS_ALLOW_ORIGINS": [ORIGIN]}, {}),
        ({"CORS_ALLOW_ORIGINS": [ORIGIN], "MIDDLEWARE": [f"{__name__}:Recording"]}, {"origin": ORIGIN}),
    ],
    ids=["entry", "middleware", "cors-origin", "cors-no-origin", "cors-and-middleware"],
)
async def test_produces_and_response_type_apply_whichever_layer_awaits_the_handler(
    config: dict[str, Any], headers: dict[str, str]
) -> None:
    SEEN_BY_MIDDLEWARE.clear()
    async with PateraTestClient(build_app(Finished, DEBUG=False, **config)) as client:
        text = await client.get("/finish/text", headers=headers)
        typed = await client.get("/finish/typed", headers=headers)
        other = await client.get("/finish/other-type", headers=headers)
        invalid = await client.get("/finish/invalid", headers=headers)
        not_a_response = await client.get("/finish/not-a-response", headers=headers)
    assert (text.status_code, text.headers["content-type"], text.text) == (202, "text/plain; charset=utf-8", "hi")
    assert (typed.status_code, typed.json()) == (201, {"name": "a"})
    assert other.headers["content-type"] == "application/json"
    assert invalid.status_code == 500
    assert not_a_response.status_code == 500
    if "MIDDLEWARE" in config:
        assert SEEN_BY_MIDDLEWARE[:3] == [
            (202, "text/plain; charset=utf-8"),
            (201, "application/json"),
            (200, "application/json"),
        ]
    if "origin" in headers:
        assert text.headers["access-control-allow-origin"] == ORIGIN
