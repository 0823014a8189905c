"""User middleware (SPEC §9, §3.3): order, short-circuits, errors, unmatched routes, CORS."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from patera import MiddlewareBase, Request, Response
from patera.controller import Controller, get, path, post
from patera.exceptions import ExceptionHandler, NotFound, abort, handles
from patera.testing import PateraTestClient

from .conftest import build_app

ORIGIN = "https://a.example"

#: What each middleware saw, in call order: (name, method, path, route_handler is None,
#: status of the response, or the name of the exception that travelled through it).
SEEN: list[tuple[str, str, str, bool, int | str]] = []
HANDLER_CALLS: list[str] = []


class Outer(MiddlewareBase):
    """First in ``MIDDLEWARE``: must run first on the way in and last on the way out."""

    async def middleware(self, req: Request) -> Response:
        req.state.trace = [*getattr(req.state, "trace", []), "Outer"]
        try:
            res = await self.next(req)
        except Exception as exc:
            SEEN.append(("Outer", req.method, req.path, req.route_handler is None, type(exc).__name__))
            raise
        SEEN.append(("Outer", req.method, req.path, req.route_handler is None, res.status_code))
        res.headers["x-order"] = res.headers.get("x-order", "") + "Outer"
        # CORS headers are added after every user middleware, so none are visible here.
        res.headers["x-cors-seen"] = str("access-control-allow-origin" in res.headers)
        return res


class Inner(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        req.state.trace = [*getattr(req.state, "trace", []), "Inner"]
        req.state.user_id = 7
        if req.headers.get("x-block") == "inner":
            return req.response.json({"blocked": "Inner"}).status(429)
        if req.headers.get("x-explode") == "inner":
            raise MiddlewareFailure("inner exploded")
        if req.headers.get("x-abort") == "inner":
            abort("stopped by middleware", 418)
        if req.headers.get("x-bad-return") == "inner":
            return {"not": "a response"}  # type: ignore[return-value]
        try:
            res = await self.next(req)
        except Exception as exc:
            SEEN.append(("Inner", req.method, req.path, req.route_handler is None, type(exc).__name__))
            raise
        SEEN.append(("Inner", req.method, req.path, req.route_handler is None, res.status_code))
        res.headers["x-order"] = res.headers.get("x-order", "") + "Inner,"
        if res.status_code == 200 and req.headers.get("x-rewrite") == "inner":
            res.status(201)
        return res


class MiddlewareFailure(Exception):
    pass


class Handlers(ExceptionHandler):
    @handles(MiddlewareFailure)
    async def failure(self, req: Request, exc: MiddlewareFailure) -> Response:
        return req.response.json({"handled": str(exc)}).status(503)

    @handles(NotFound)
    async def not_found(self, req: Request, exc: NotFound) -> Response:
        res = req.response.json({"custom": "not found", "status": exc.status_code}).status(exc.status_code)
        return res


class Item(BaseModel):
    name: str


@path("/mw")
class Api(Controller):
    @get("/hello")
    async def hello(self, req: Request) -> Response:
        HANDLER_CALLS.append("hello")
        return req.response.json({"trace": req.state.trace, "user_id": req.state.user_id})

    @post("/boom")
    async def boom(self, req: Request) -> Response:
        raise RuntimeError("handler bug")

    @get("/dir/")
    async def branch(self, req: Request) -> Response:
        return req.response.text("dir")


MIDDLEWARE = [f"{__name__}:Outer", f"{__name__}:Inner"]


def make(**config: Any) -> Any:
    config.setdefault("MIDDLEWARE", MIDDLEWARE)
    return build_app(Api, handlers=(Handlers,), **config)


@pytest.fixture(autouse=True)
def _reset() -> None:
    SEEN.clear()
    HANDLER_CALLS.clear()


# ---------------------------------------------------------------------- ordering and data flow


async def test_first_listed_is_outermost_and_response_travels_back() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello")
    assert r.status_code == 200
    assert r.json() == {"trace": ["Outer", "Inner"], "user_id": 7}
    assert r.headers["x-order"] == "Inner,Outer"
    assert [name for name, *_ in SEEN] == ["Inner", "Outer"]


async def test_outer_sees_what_inner_changed() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello", headers={"x-rewrite": "inner"})
    assert r.status_code == 201
    assert SEEN[-1] == ("Outer", "GET", "/mw/hello", False, 201)


async def test_reversed_config_reverses_order() -> None:
    async with PateraTestClient(make(MIDDLEWARE=list(reversed(MIDDLEWARE)))) as client:
        r = await client.get("/mw/hello")
    assert r.json()["trace"] == ["Inner", "Outer"]
    assert r.headers["x-order"] == "OuterInner,"


async def test_add_middleware_programmatically_appends_innermost() -> None:
    application = make(MIDDLEWARE=None)
    application.add_middleware(Inner)
    application.add_middleware(Outer)
    async with PateraTestClient(application) as client:
        r = await client.get("/mw/hello")
    assert r.json() == {"trace": ["Inner", "Outer"], "user_id": 7}
    assert r.headers["x-order"] == "OuterInner,"


# ---------------------------------------------------------------------- short-circuits and errors


async def test_short_circuit_skips_handler_but_outer_still_runs() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello", headers={"x-block": "inner"})
    assert r.status_code == 429
    assert r.json() == {"blocked": "Inner"}
    assert HANDLER_CALLS == []
    assert r.headers["x-order"] == "Outer"


async def test_exception_in_middleware_goes_to_exception_handler() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello", headers={"x-explode": "inner"})
    assert r.status_code == 503
    assert r.json() == {"handled": "inner exploded"}
    assert HANDLER_CALLS == []


async def test_http_exception_in_middleware_uses_its_status() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello", headers={"x-abort": "inner"})
    assert r.status_code == 418
    assert r.json() == {"status": "error", "message": "stopped by middleware"}


async def test_non_response_from_middleware_is_500_in_production() -> None:
    application = make(DEBUG=False)
    async with PateraTestClient(application) as client:
        r = await client.get("/mw/hello", headers={"x-bad-return": "inner"})
    assert r.status_code == 500
    assert r.json() == {"status": "error", "message": "Internal server error"}
    severe = application.log_buffer.get_last_severe()
    assert severe[-1]["level"] == "CRITICAL"
    assert "TypeError" in severe[-1]["message"] and "Inner.middleware must return a Response" in severe[-1]["message"]


async def test_non_response_from_middleware_raises_in_debug() -> None:
    async with PateraTestClient(make(DEBUG=True)) as client:
        with pytest.raises(TypeError, match="must return a Response"):
            await client.get("/mw/hello", headers={"x-bad-return": "inner"})


@pytest.mark.parametrize("debug", [False, True])
async def test_handler_exception_travels_through_middleware_before_it_is_rendered(debug: bool) -> None:
    async with PateraTestClient(make(DEBUG=debug), raise_app_exceptions=False) as client:
        r = await client.post("/mw/boom")
    assert r.status_code == 500
    assert SEEN == [
        ("Inner", "POST", "/mw/boom", False, "RuntimeError"),
        ("Outer", "POST", "/mw/boom", False, "RuntimeError"),
    ]


# ---------------------------------------------------------------------- unmatched requests


async def test_runs_for_404_with_no_route_handler() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/nowhere")
    assert r.status_code == 404
    assert r.json() == {"custom": "not found", "status": 404}
    # The NotFound is raised inside the middleware and rendered by the boundary outside it.
    assert SEEN == [("Inner", "GET", "/nowhere", True, "NotFound"), ("Outer", "GET", "/nowhere", True, "NotFound")]
    assert "x-order" not in r.headers


async def test_runs_for_405() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.delete("/mw/hello")
    assert r.status_code == 405
    # @handles(NotFound) also sees wrong-method requests (MethodNotAllowed subclasses NotFound)
    assert r.json() == {"custom": "not found", "status": 405}
    assert SEEN[-1] == ("Outer", "DELETE", "/mw/hello", True, "MethodNotAllowed")


async def test_runs_for_308_redirect() -> None:
    async with PateraTestClient(make(STRICT_SLASHES=True)) as client:
        r = await client.get("/mw/dir?x=1")
    assert r.status_code == 308
    assert r.headers["location"].endswith("/mw/dir/?x=1")
    assert SEEN[-1] == ("Outer", "GET", "/mw/dir", True, 308)


async def test_runs_for_automatic_options() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.options("/mw/hello")
    assert r.status_code == 200
    assert "GET" in r.headers["allow"] and "OPTIONS" in r.headers["allow"]
    assert SEEN[-1] == ("Outer", "OPTIONS", "/mw/hello", True, 200)


# ---------------------------------------------------------------------- CORS around middleware


async def test_not_run_for_cors_preflight() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.options("/mw/hello", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert SEEN == []
    assert "x-order" not in r.headers


async def test_cors_headers_added_after_middleware() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello", headers={"Origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "origin" in r.headers["vary"].lower()
    assert r.headers["x-cors-seen"] == "False"


async def test_cors_headers_on_middleware_short_circuit() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=[ORIGIN])) as client:
        r = await client.get("/mw/hello", headers={"Origin": ORIGIN, "x-block": "inner"})
    assert r.status_code == 429
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "origin" in r.headers["vary"].lower()


async def test_cors_headers_on_exception_handler_response() -> None:
    async with PateraTestClient(make()) as client:
        r = await client.get("/mw/hello", headers={"Origin": ORIGIN, "x-explode": "inner"})
        missing = await client.get("/nowhere", headers={"Origin": ORIGIN})
    assert r.status_code == 503
    assert r.headers["access-control-allow-origin"] == "*"
    assert "origin" in r.headers["vary"].lower()
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == "*"
    assert "origin" in missing.headers["vary"].lower()


async def test_cors_headers_on_500_from_bad_middleware() -> None:
    async with PateraTestClient(make(DEBUG=False)) as client:
        r = await client.get("/mw/hello", headers={"Origin": ORIGIN, "x-bad-return": "inner"})
    assert r.status_code == 500
    assert r.headers["access-control-allow-origin"] == "*"


async def test_refused_origin_never_reaches_middleware() -> None:
    async with PateraTestClient(make(CORS_ALLOW_ORIGINS=["https://b.example"])) as client:
        r = await client.get("/mw/hello", headers={"Origin": ORIGIN})
    assert r.status_code == 403
    assert SEEN == [] and HANDLER_CALLS == []


# ---------------------------------------------------------------------- the base class


def test_base_class_properties_and_validate_configs() -> None:
    application = make()

    async def nxt(req: Request) -> Response:
        raise AssertionError

    mw = Outer(application, nxt)
    assert mw.app is application and mw.next is nxt

    class Settings(BaseModel):
        limit: int

    assert MiddlewareBase.validate_configs({"limit": "3"}, Settings) == {"limit": 3}
    with pytest.raises(ValueError, match="Invalid middleware configuration"):
        Outer.validate_configs({"limit": "x"}, Settings)
    with pytest.raises(TypeError):
        MiddlewareBase(application, nxt)  # type: ignore[abstract]


def test_middleware_entry_must_be_a_middleware_class() -> None:
    from patera.exceptions import WrongModuleLoadType

    with pytest.raises(WrongModuleLoadType, match="Item"):
        make(MIDDLEWARE=[f"{__name__}:Item"])


async def test_middleware_listed_twice_runs_once() -> None:
    application = make(MIDDLEWARE=[*MIDDLEWARE, f"{__name__}:Outer"])
    assert application.middleware == [Outer, Inner]
    async with PateraTestClient(application) as client:
        r = await client.get("/mw/hello")
    assert r.json()["trace"] == ["Outer", "Inner"]
