"""Authentication extension (SPEC §17.1): guards on endpoints, classes and sockets, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from patera import MediaType, Request, Response
from patera.auth import (
    Authentication,
    AuthenticationException,
    AuthorizationException,
    UnauthorizedException,
    login_required,
    role_required,
)
from patera.controller import (
    Controller,
    before_request,
    consumes,
    get,
    path,
    post,
    produces,
    socket,
)
from patera.exceptions import ExceptionHandler, MissingExtension, handles
from patera.testing import PateraTestClient, WebSocketRejected

from .conftest import build_app

SECRET = "test-secret-key"


@dataclass
class User:
    id: int
    name: str
    roles: set[str] = field(default_factory=set)


USERS = {
    1: User(1, "alice", {"admin"}),
    2: User(2, "bob", {"user"}),
    3: User(3, "carol", {"admin", "superuser"}),
    4: User(4, "dave", {"superuser"}),
}
#: what ran, so tests can show handlers, hooks and body parsing did not
CALLS: list[str] = []


class Auth(Authentication):
    loads = 0

    async def user_loader(self, req: Request) -> User | None:
        Auth.loads += 1
        cookie = req.cookies.get("auth_cookie")
        if cookie:
            user_id = self.decode_signed_cookie(cookie)
            if user_id and user_id.isdigit():
                return USERS.get(int(user_id))
        return None

    async def role_check(self, user: User, roles: list[str]) -> bool:
        return bool(user.roles.intersection(roles))


class DenyingAuth(Authentication):
    """No role_check override: every role check is refused."""

    async def user_loader(self, req: Request) -> User | None:
        return USERS[1]


auth = Auth()


class Item(BaseModel):
    name: str


@path("/m")
class MethodGuards(Controller):
    @before_request
    async def record(self, req: Request) -> None:
        CALLS.append("before")

    @get("/below")
    @auth.login_required
    async def below(self, req: Request) -> Response[Any]:
        CALLS.append("below")
        return req.response.json({"user": req.user.name})

    @auth.login_required
    @get("/above")
    async def above(self, req: Request) -> Response[Any]:
        CALLS.append("above")
        return req.response.json({"user": req.user.name})

    @get("/admin")
    @produces(MediaType.APPLICATION_JSON)
    @auth.login_required
    @auth.role_required("admin", "superuser")
    async def admin(self, req: Request) -> Response[Any]:
        CALLS.append("admin")
        return req.response.json({"user": req.user.name})

    @get("/admin-reversed")
    @auth.role_required("admin")
    @auth.login_required
    async def admin_reversed(self, req: Request) -> Response[Any]:
        CALLS.append("admin_reversed")
        return req.response.json({"user": req.user.name})

    @auth.role_required("admin")
    @get("/admin-top")
    @auth.login_required
    async def admin_top(self, req: Request) -> Response[Any]:
        CALLS.append("admin_top")
        return req.response.json({"user": req.user.name})

    @get("/module")
    @login_required
    @role_required("user")
    async def module_level(self, req: Request) -> Response[Any]:
        CALLS.append("module")
        return req.response.json({"user": req.user.name})

    @get("/roles-only")
    @auth.role_required("admin")
    async def roles_only(self, req: Request) -> Response[Any]:
        CALLS.append("roles_only")
        return req.response.json({})

    @post("/items")
    @consumes(MediaType.APPLICATION_JSON)
    @auth.login_required
    async def create(self, req: Request, item: Item) -> Response[Any]:
        CALLS.append("create")
        return req.response.json({"name": item.name, "user": req.user.name}).status(201)

    @get("/open")
    async def open(self, req: Request) -> Response[Any]:
        return req.response.json({"user": None if req.user is None else req.user.name})

    @socket("/ws")
    @auth.login_required
    @auth.role_required("admin")
    async def ws(self, req: Request) -> None:
        CALLS.append("ws")
        await req.accept()
        await req.send_json({"user": req.user.name})
        await req.close()


@path("/admin")
@login_required
@role_required("admin")
class AdminApi(Controller):
    """README form: class-level module-level decorators protect every endpoint."""

    @before_request
    async def record(self, req: Request) -> None:
        CALLS.append("admin-before")

    @get("/")
    async def index(self, req: Request) -> Response[Any]:
        CALLS.append("admin-index")
        return req.response.json({"user": req.user.name})

    @get("/super")
    @auth.role_required("superuser")
    async def superuser(self, req: Request) -> Response[Any]:
        """Class roles (admin) and method roles (superuser) must both pass."""
        CALLS.append("admin-super")
        return req.response.json({"user": req.user.name})

    @get("/again")
    @auth.login_required
    async def again(self, req: Request) -> Response[Any]:
        return req.response.json({"loads": Auth.loads})

    @socket("/ws")
    async def ws(self, req: Request) -> None:
        await req.accept()
        await req.send_json({"user": req.user.name})
        await req.close()


@path("/rev")
@role_required("admin")
@auth.login_required
class ReversedClass(Controller):
    """role_required written above login_required still runs after it."""

    @get("/")
    async def index(self, req: Request) -> Response[Any]:
        return req.response.json({"user": req.user.name})


class ChildAdmin(AdminApi):
    pass


ChildAdmin.__patera_path__ = ("/child", True, [])  # type: ignore[attr-defined]


class AuthHandlers(ExceptionHandler):
    @handles(AuthenticationException)
    async def login(self, req: Request, exc: AuthenticationException) -> Response[Any]:
        return req.response.json({"please": "log in", "message": exc.message}).status(401)

    @handles(UnauthorizedException)
    async def roles(self, req: Request, exc: UnauthorizedException) -> Response[Any]:
        return req.response.json({"missing": sorted(exc.roles)}).status(403)


def cookie_for(user_id: int | str, secret: str = SECRET) -> dict[str, str]:
    from patera.auth import AuthUtils

    return {"Cookie": f"auth_cookie={AuthUtils.create_signed_cookie_value(user_id, secret)}"}


@pytest.fixture
async def client() -> AsyncIterator[PateraTestClient]:
    app = build_app(MethodGuards, AdminApi, ReversedClass, ChildAdmin, SECRET_KEY=SECRET)
    auth.init_app(app)
    CALLS.clear()
    async with PateraTestClient(app) as c:
        yield c


ALICE, BOB, CAROL, DAVE = (cookie_for(i) for i in (1, 2, 3, 4))
LOGIN_REQUIRED = {"status": "error", "message": "Login required"}
MISSING_ROLES = {"status": "error", "message": "Missing user role(s)"}


@pytest.mark.parametrize(
    ("target", "headers", "status", "body"),
    [
        ("/m/below", {}, 401, LOGIN_REQUIRED),
        ("/m/below", BOB, 200, {"user": "bob"}),
        ("/m/above", {}, 401, LOGIN_REQUIRED),
        ("/m/above", ALICE, 200, {"user": "alice"}),
        ("/m/admin", {}, 401, LOGIN_REQUIRED),
        ("/m/admin", BOB, 403, MISSING_ROLES),
        ("/m/admin", ALICE, 200, {"user": "alice"}),
        ("/m/admin", DAVE, 200, {"user": "dave"}),
        ("/m/admin-reversed", BOB, 403, MISSING_ROLES),
        ("/m/admin-reversed", ALICE, 200, {"user": "alice"}),
        ("/m/admin-top", {}, 401, LOGIN_REQUIRED),
        ("/m/admin-top", BOB, 403, MISSING_ROLES),
        ("/m/admin-top", CAROL, 200, {"user": "carol"}),
        ("/m/module", ALICE, 403, MISSING_ROLES),
        ("/m/module", BOB, 200, {"user": "bob"}),
        ("/m/roles-only", ALICE, 401, LOGIN_REQUIRED),  # role_required alone: no req.user → 401
        ("/m/open", ALICE, 200, {"user": None}),
        ("/admin/", {}, 401, LOGIN_REQUIRED),
        ("/admin/", BOB, 403, MISSING_ROLES),
        ("/admin/", ALICE, 200, {"user": "alice"}),
        ("/admin/super", ALICE, 403, MISSING_ROLES),  # method roles never widen class roles
        ("/admin/super", DAVE, 403, MISSING_ROLES),
        ("/admin/super", CAROL, 200, {"user": "carol"}),
        ("/rev/", BOB, 403, MISSING_ROLES),
        ("/rev/", ALICE, 200, {"user": "alice"}),
        ("/child/", BOB, 403, MISSING_ROLES),
        ("/child/", ALICE, 200, {"user": "alice"}),
    ],
)
async def test_guards(client: PateraTestClient, target: str, headers: dict[str, str], status: int, body: Any) -> None:
    response = await client.get(target, headers=headers)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers["content-type"] == "application/json"
    if status != 200:
        assert CALLS == []  # neither the handler nor any @before_request hook ran


async def test_hooks_run_after_guards_on_success(client: PateraTestClient) -> None:
    assert (await client.get("/admin/", headers=ALICE)).status_code == 200
    assert CALLS == ["admin-before", "admin-index"]


async def test_body_is_not_parsed_before_login(client: PateraTestClient) -> None:
    # a malformed body would be a 400 and a wrong type a 415: login is checked first
    refused = await client.post("/m/items", content=b"{not json", headers={"Content-Type": "text/plain"})
    assert (refused.status_code, refused.json()) == (401, LOGIN_REQUIRED)
    assert CALLS == []
    accepted = await client.post("/m/items", json={"name": "pen"}, headers=BOB)
    assert (accepted.status_code, accepted.json()) == (201, {"name": "pen", "user": "bob"})


async def test_user_loaded_once_for_class_and_method_login(client: PateraTestClient) -> None:
    Auth.loads = 0
    response = await client.get("/admin/again", headers=ALICE)
    assert response.json() == {"loads": 1}


@pytest.mark.parametrize(
    "cookie",
    [
        "x" * 10_000,
        "1|" + "A" * 10_000,
        "1|not-base64!!",
        "1|" + cookie_for(1)["Cookie"].split("|", 1)[1] + "|extra",
        "1|2|3",
        "|",
        "",
        "1",
        "2|" + cookie_for(1)["Cookie"].split("|", 1)[1],  # alice's signature on bob's id
        cookie_for(1, secret="wrong-secret")["Cookie"].split("=", 1)[1],
        "1|\u00e9\u00e9",
        "%FF%FE|%00",
    ],
)
async def test_hostile_cookies_are_401(client: PateraTestClient, cookie: str) -> None:
    raw = f"auth_cookie={cookie}".encode()  # UTF-8 bytes on the wire, as a hostile client may send
    response = await client.get("/m/below", headers={"Cookie": raw})  # type: ignore[dict-item]
    assert (response.status_code, response.json()) == (401, LOGIN_REQUIRED)


async def test_exception_handlers_override_bodies() -> None:
    app = build_app(MethodGuards, handlers=(AuthHandlers,), SECRET_KEY=SECRET)
    auth.init_app(app)
    async with PateraTestClient(app) as c:
        refused = await c.get("/m/admin")
        assert (refused.status_code, refused.json()) == (401, {"please": "log in", "message": "Login required"})
        forbidden = await c.get("/m/admin", headers=BOB)
        assert (forbidden.status_code, forbidden.json()) == (403, {"missing": ["admin", "superuser"]})


@pytest.mark.parametrize(
    "config",
    [
        {"AUTHENTICATION": {"AUTHENTICATION_ERROR_MESSAGE": "Who are you?", "UNAUTHORIZED_ERROR_MESSAGE": "Not you"}},
        {"AUTHENTICATION": {"AUTHENTICATION_ERROR_MSG": "Who are you?", "AUTHORIZATION_ERROR_MSG": "Not you"}},
        {
            "AUTHENTICATION_AUTHENTICATION_ERROR_MESSAGE": "Who are you?",
            "AUTHENTICATION_UNAUTHORIZED_ERROR_MESSAGE": "Not you",
        },
    ],
    ids=["dict", "aliases", "flat"],
)
async def test_configured_messages(config: dict[str, Any]) -> None:
    app = build_app(MethodGuards, SECRET_KEY=SECRET, **config)
    auth.init_app(app)
    async with PateraTestClient(app) as c:
        assert (await c.get("/m/admin")).json() == {"status": "error", "message": "Who are you?"}
        assert (await c.get("/m/admin", headers=BOB)).json() == {"status": "error", "message": "Not you"}


async def test_invalid_config_is_refused() -> None:
    app = build_app(AUTHENTICATION={"PASSWORD_HASH_ITERATIONS": "many"})
    with pytest.raises(ValueError, match="Invalid configuration for AUTHENTICATION"):
        Auth().init_app(app)


async def test_module_level_decorators_need_a_registered_extension() -> None:
    app = build_app(AdminApi, SECRET_KEY=SECRET, DEBUG=False)
    async with PateraTestClient(app, raise_app_exceptions=False) as c:
        response = await c.get("/admin/", headers=ALICE)
    assert (response.status_code, response.json()) == (500, {"status": "error", "message": "Internal server error"})
    debug_app = build_app(AdminApi, SECRET_KEY=SECRET)
    async with PateraTestClient(debug_app) as c:
        with pytest.raises(MissingExtension):
            await c.get("/admin/", headers=ALICE)


async def test_role_check_denies_by_default_with_one_warning(caplog_loguru: list[str]) -> None:
    denying = DenyingAuth()

    @path("/d")
    class Denied(Controller):
        @get("/")
        @denying.login_required
        @denying.role_required("admin")
        async def index(self, req: Request) -> Response[Any]:
            return req.response.json({})

    app = build_app(Denied, SECRET_KEY=SECRET)
    denying.init_app(app)
    async with PateraTestClient(app) as c:
        for _ in range(3):
            assert (await c.get("/d/")).status_code == 403
    assert sum("role_check is not implemented" in line for line in caplog_loguru) == 1


def test_role_required_without_parentheses_is_an_error() -> None:
    with pytest.raises(TypeError, match="role_required takes the roles"):

        class Broken(Controller):
            @get("/")
            @role_required  # type: ignore[arg-type]
            async def index(self, req: Request) -> Response[Any]:
                return req.response


def test_exception_aliases() -> None:
    assert AuthorizationException is UnauthorizedException
    exc = UnauthorizedException("no", ["admin"])
    assert (exc.status_code, exc.roles, exc.to_dict()) == (403, ["admin"], {"status": "error", "message": "no"})


# --------------------------------------------------------------------------- websockets


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/m/ws", {}),
        ("/m/ws", BOB),
        ("/admin/ws", {}),
        ("/admin/ws", BOB),
        ("/m/ws", {"Cookie": "auth_cookie=1|forged"}),
    ],
)
async def test_socket_refused_with_1008_before_accept(
    client: PateraTestClient, target: str, headers: dict[str, str]
) -> None:
    with pytest.raises(WebSocketRejected) as info:
        async with client.websocket_connect(target, headers=headers):
            pass
    assert info.value.code == 1008
    assert "ws" not in CALLS


@pytest.mark.parametrize("target", ["/m/ws", "/admin/ws"])
async def test_socket_accepted_for_the_right_user(client: PateraTestClient, target: str) -> None:
    async with client.websocket_connect(target, headers=ALICE) as ws:
        assert await ws.receive_json() == {"user": "alice"}


async def test_socket_refusal_on_the_wire_under_hypercorn() -> None:
    """A refused socket is never accepted: the real handshake is answered 403."""
    websockets_client = pytest.importorskip("websockets.asyncio.client")
    from websockets.exceptions import InvalidStatus

    from ._servers import hypercorn_server

    app = build_app(MethodGuards, SECRET_KEY=SECRET)
    auth.init_app(app)
    CALLS.clear()
    async with hypercorn_server(app) as port:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets_client.connect(f"ws://127.0.0.1:{port}/m/ws", additional_headers=BOB, open_timeout=5):
                pass
        assert refused.value.response.status_code == 403
        async with websockets_client.connect(
            f"ws://127.0.0.1:{port}/m/ws", additional_headers=ALICE, open_timeout=5
        ) as ws:
            assert await asyncio.wait_for(ws.recv(), 5) == '{"user":"alice"}'
    assert CALLS == ["ws"]
