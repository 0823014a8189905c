"""End-to-end HTTP behaviour of the core request path (SPEC §2.4-2.6, §3, §18)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pydantic import BaseModel

from patera import HttpStatus, MediaType, Request, Response
from patera.app import compose_rule
from patera.controller import (
    Controller,
    after_request,
    before_request,
    consumes,
    delete,
    development,
    get,
    path,
    post,
    produces,
    put,
)
from patera.exceptions import DuplicateRoutePath, InvalidRouteHandler, UnexpectedDecorator
from patera.testing import PateraTestClient

from .conftest import build_app


class UserData(BaseModel):
    email: str
    fullname: str


class Address(BaseModel):
    city: str


class UserOut(BaseModel):
    id: int
    address: Address


@path("/api/v1/users")
class UsersApi(Controller):
    @get("/<int:user_id>")
    @produces(MediaType.APPLICATION_JSON)
    async def get_user(self, req: Request, user_id: int) -> Response:
        """Returns a user by user_id"""
        return req.response.json({"id": user_id, "fullname": "John Doe"}).status(HttpStatus.OK)

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def create_user(self, req: Request, user_data: UserData) -> Response[UserData]:
        return req.response.json(user_data)

    @put("/<int:user_id>")
    @consumes(MediaType.APPLICATION_JSON)
    async def replace_user(self, req: Request, user_id: int, user_data: UserData) -> Response[UserOut]:
        # extra keys are dropped and nested models validated by Response[UserOut]
        return req.response.json({"id": user_id, "address": {"city": "Ljubljana", "zip": 1000}, "secret": "x"})

    @delete("/<int:user_id>")
    def remove_user(self, req: Request, user_id: int) -> Response:
        """A sync handler: runs in the thread pool."""
        return req.response.json({"thread": threading.current_thread().name}).status(202)

    @get("/bad-body")
    async def bad_body(self, req: Request) -> Response[UserOut]:
        return req.response.json({"id": "not a number"})


async def test_readme_quickstart_flow() -> None:
    async with PateraTestClient(build_app(UsersApi)) as client:
        r = await client.get("/api/v1/users/5")
        assert (r.status_code, r.json()) == (200, {"id": 5, "fullname": "John Doe"})
        assert r.headers["content-type"] == "application/json"

        r = await client.post("/api/v1/users/", json={"email": "a@b.c", "fullname": "A", "x": 1})
        assert (r.status_code, r.json()) == (201, {"email": "a@b.c", "fullname": "A"})


async def test_response_model_serialisation_drops_extra_keys() -> None:
    async with PateraTestClient(build_app(UsersApi)) as client:
        r = await client.put("/api/v1/users/3", json={"email": "a", "fullname": "b"})
        assert r.json() == {"id": 3, "address": {"city": "Ljubljana"}}


async def test_response_model_mismatch_is_a_500() -> None:
    async with PateraTestClient(build_app(UsersApi, DEBUG=False)) as client:
        r = await client.get("/api/v1/users/bad-body")
        assert r.status_code == 500
        assert r.json() == {"status": "error", "message": "Internal server error"}


async def test_sync_handler_runs_off_the_event_loop() -> None:
    async with PateraTestClient(build_app(UsersApi)) as client:
        r = await client.delete("/api/v1/users/1")
        assert r.status_code == 202
        assert r.json()["thread"] != threading.main_thread().name


@pytest.mark.parametrize(
    ("method", "target", "status", "body"),
    [
        ("GET", "/api/v1/users/x", 404, {"status": "error", "message": "Endpoint not found"}),
        ("GET", "/nowhere", 404, {"status": "error", "message": "Endpoint not found"}),
        ("POST", "/api/v1/users/5", 405, {"status": "error", "message": "Method not allowed"}),
        ("FOO", "/api/v1/users/5", 405, {"status": "error", "message": "Method not allowed"}),
        ("__INIT__", "/api/v1/users/5", 405, {"status": "error", "message": "Method not allowed"}),
        ("get_user", "/api/v1/users/5", 405, {"status": "error", "message": "Method not allowed"}),
        ("GET", "/api/v1/users/%D9%A3", 404, {"status": "error", "message": "Endpoint not found"}),
        ("GET", "/api/v1/users/+1", 404, {"status": "error", "message": "Endpoint not found"}),
        ("GET", "/api/v1/users/1_000", 404, {"status": "error", "message": "Endpoint not found"}),
        ("GET", "/api/v1/users/" + "9" * 5000, 404, {"status": "error", "message": "Endpoint not found"}),
        ("GET", "/api/v1/users/1%2F2", 404, {"status": "error", "message": "Endpoint not found"}),
        ("GET", "/api/v1/users/1%00", 404, {"status": "error", "message": "Endpoint not found"}),
    ],
    ids=["bad-int", "unknown-path", "wrong-method", "FOO", "__INIT__", "python-name", "arabic-digit",
         "plus-sign", "underscore", "5000-digits", "encoded-slash", "nul"],
)
async def test_routing_misses(method: str, target: str, status: int, body: dict[str, Any]) -> None:
    async with PateraTestClient(build_app(UsersApi)) as client:
        r = await client.request(method, target)
        assert (r.status_code, r.json()) == (status, body)
        if status == 405:
            assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"


async def test_head_keeps_length_and_drops_body() -> None:
    async with PateraTestClient(build_app(UsersApi)) as client:
        full = await client.get("/api/v1/users/5")
        head = await client.head("/api/v1/users/5")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == full.headers["content-length"]


async def test_automatic_options() -> None:
    async with PateraTestClient(build_app(UsersApi)) as client:
        r = await client.options("/api/v1/users/5")
        assert r.status_code == 200 and r.content == b""
        assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"


@path("/s")
class Slashes(Controller):
    @get("/branch/")
    async def branch(self, req: Request) -> Response:
        return req.response.text("branch")

    @get("/leaf")
    async def leaf(self, req: Request) -> Response:
        return req.response.text("leaf")


async def test_strict_slashes_redirect_keeps_query() -> None:
    async with PateraTestClient(build_app(Slashes, STRICT_SLASHES=True)) as client:
        r = await client.get("/s/branch?a=1&b=2")
        assert r.status_code == 308 and r.headers["location"] == "/s/branch/?a=1&b=2"
        assert (await client.get("/s/leaf/")).status_code == 404


async def test_lenient_slashes_match_both() -> None:
    async with PateraTestClient(build_app(Slashes)) as client:
        assert (await client.get("/s/branch")).text == "branch"
        assert (await client.get("/s/leaf/")).text == "leaf"


async def test_merge_slashes_redirect_never_leaves_the_host() -> None:
    async with PateraTestClient(build_app(Slashes)) as client:
        r = await client.get("/s//leaf?q=1")
        assert r.status_code == 308 and r.headers["location"] == "/s/leaf?q=1"


@pytest.mark.parametrize(
    ("parts", "rule"),
    [
        (("", "/users", "/"), "/users/"),
        (("", "", "/x"), "/x"),
        (("", "/", "/"), "/"),
        (("/api", "/users/", "/<int:id>"), "/api/users/<int:id>"),
        (("/api/", "//users", "//a//b/"), "/api/users/a/b/"),
        (("", "/users", ""), "/users"),
    ],
)
def test_rule_composition(parts: tuple[str, ...], rule: str) -> None:
    assert compose_rule(*parts) == rule


@path("/api")
class NoSlash(Controller):
    @get("noslash")
    async def odd(self, req: Request) -> Response:
        return req.response.text("odd")


def test_endpoint_rule_without_slash_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="'noslash' must start with a slash"):
        build_app(NoSlash)


@path("/e")
class OddArguments(Controller):
    """Converter arguments Werkzeug 3.1 accepts (SPEC §2.1): the app builds, all routes work."""

    @get("/a/<int(min=1e3):a>")
    async def exponent(self, req: Request, a: int) -> Response:
        return req.response.json({"a": a})

    @get("/b/<path(1):b>")
    async def path_arg(self, req: Request, b: str) -> Response:
        return req.response.json({"b": b})

    @get("/c/<string(minlength=3, maxlength=2):c>")
    async def never(self, req: Request, c: str) -> Response:
        return req.response.json({"c": c})

    @get("/ok")
    async def ok(self, req: Request) -> Response:
        return req.response.text("ok")


async def test_odd_converter_arguments_do_not_take_the_app_down() -> None:
    async with PateraTestClient(build_app(OddArguments)) as client:
        assert (await client.get("/e/a/1000")).json() == {"a": 1000}
        assert (await client.get("/e/a/999")).status_code == 404
        assert (await client.get("/e/b/x/y")).json() == {"b": "x/y"}
        assert (await client.get("/e/c/abc")).status_code == 404  # Werkzeug: a 500 on every such request
        assert (await client.get("/e/ok")).text == "ok"


@pytest.mark.parametrize(
    ("parts", "named"),
    [
        (("", "", "noslash"), "noslash"),
        (("/api", "/users/", "<int:id>"), "<int:id>"),  # a prefix does not make it valid
        (("", "users", "/x"), "users"),
        (("api", "/users", "/x"), "api"),
    ],
)
def test_rule_pieces_must_start_with_a_slash(parts: tuple[str, ...], named: str) -> None:
    with pytest.raises(ValueError) as info:
        compose_rule(*parts)
    assert repr(named) in str(info.value) and "must start with a slash" in str(info.value)


def test_url_for() -> None:
    app = build_app(UsersApi)
    assert app.url_for("UsersApi.get_user", user_id=5) == "/api/v1/users/5"
    url = app.url_for("UsersApi.get_user", user_id=5, tab="x y", tag=["a", "b"])
    assert url == "/api/v1/users/5?tab=x+y&tag=a&tag=b"
    with pytest.raises(ValueError, match="does not exist"):
        app.url_for("Nope.nothing")
    with pytest.raises(ValueError, match="user_id"):
        app.url_for("UsersApi.get_user")
    app.register_alias("user", "UsersApi.get_user")
    assert app.url_for("user", user_id=1) == "/api/v1/users/1"


def test_duplicate_rule_and_missing_variable_fail_at_registration() -> None:
    @path("/d")
    class Dup(Controller):
        @get("/x")
        async def one(self, req: Request) -> Response:
            return req.response

        @get("/x")
        async def two(self, req: Request) -> Response:
            return req.response

    with pytest.raises(DuplicateRoutePath):
        build_app(Dup)

    @path("/m")
    class Missing(Controller):
        @get("/<int:item>")
        async def one(self, req: Request) -> Response:
            return req.response

    with pytest.raises(InvalidRouteHandler):
        build_app(Missing)


def test_consumes_on_get_is_refused() -> None:
    with pytest.raises(UnexpectedDecorator):

        class Bad(Controller):
            @get("/")
            @consumes(MediaType.APPLICATION_JSON)
            async def one(self, req: Request, data: UserData) -> Response:
                return req.response


@path("/hooks")
class Hooked(Controller):
    @before_request
    async def b_second(self, req: Request) -> None:
        req.state.order.append("b_second")

    @before_request
    async def a_first(self, req: Request) -> Response | None:
        req.state.order = ["a_first"]
        if req.query_params.get("stop"):
            return req.response.text("stopped").status(418)
        return None

    @after_request
    async def stamp(self, res: Response) -> None:
        res.headers["x-after"] = "yes"

    @get("/")
    async def index(self, req: Request) -> Response:
        return req.response.json(req.state.order)

    @get("/boom")
    async def boom(self, req: Request) -> Response:
        raise RuntimeError("boom")


async def test_before_and_after_hooks_run_in_name_order() -> None:
    async with PateraTestClient(build_app(Hooked)) as client:
        r = await client.get("/hooks/")
        assert r.json() == ["a_first", "b_second"] and r.headers["x-after"] == "yes"
        r = await client.get("/hooks/?stop=1")
        assert (r.status_code, r.text) == (418, "stopped")


async def test_after_hooks_do_not_run_on_exceptions() -> None:
    async with PateraTestClient(build_app(Hooked, DEBUG=False)) as client:
        r = await client.get("/hooks/boom")
        assert r.status_code == 500 and "x-after" not in r.headers


@path("/dev")
class DevOnly(Controller):
    @get("/")
    @development
    async def index(self, req: Request) -> Response:
        return req.response.text("dev")


@development
@path("/devctl")
class DevController(Controller):
    @get("/")
    async def index(self, req: Request) -> Response:
        return req.response.text("dev")


@pytest.mark.parametrize(("debug", "status"), [(True, 200), (False, 404)])
async def test_development_endpoints(debug: bool, status: int) -> None:
    async with PateraTestClient(build_app(DevOnly, DevController, DEBUG=debug)) as client:
        assert (await client.get("/dev/")).status_code == status
        assert (await client.get("/devctl/")).status_code == status


@path("/p")
class Produces(Controller):
    @get("/explicit")
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def explicit(self, req: Request) -> Response:
        return req.response.json({}).status(200)

    @get("/default")
    @produces(MediaType.TEXT_PLAIN, HttpStatus.ACCEPTED)
    async def default(self, req: Request) -> Response:
        return req.response.text("x")

    @get("/empty")
    @produces(MediaType.NO_CONTENT, HttpStatus.NO_CONTENT)
    async def empty(self, req: Request) -> Response:
        return req.response

    @get("/not-a-response")
    async def not_a_response(self, req: Request) -> Any:
        return {"a": 1}


async def test_produces() -> None:
    async with PateraTestClient(build_app(Produces, DEBUG=False)) as client:
        r = await client.get("/p/explicit")
        assert r.status_code == 200
        r = await client.get("/p/default")
        assert r.status_code == 202 and r.headers["content-type"] == "text/plain; charset=utf-8"
        r = await client.get("/p/empty")
        assert r.status_code == 204 and "content-type" not in r.headers and r.content == b""
        assert (await client.get("/p/not-a-response")).status_code == 500


def test_sync_socket_handler_is_refused() -> None:
    from patera.controller import socket
    from patera.exceptions import InvalidWebsocketHandler

    with pytest.raises(InvalidWebsocketHandler):

        class Sockets(Controller):
            @socket("/ws")
            def handler(self, req: Request) -> None:
                pass
