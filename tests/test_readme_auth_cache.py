"""The original README's Authentication and Caching examples, as written (a dict stands in for the database)."""
# ruff: noqa: UP006, UP035, UP045 - the README code is kept as its users wrote it

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, List, Optional

from pydantic import BaseModel

from patera import BaseConfig, HttpStatus, MediaType, Patera, Request, Response, app
from patera.auth import Authentication, login_required, role_required
from patera.caching import Cache
from patera.controller import Controller, get, path, post, produces, socket
from patera.testing import PateraTestClient

# --------------------------------------------------------------------------- app/authentication.py


class UserRoles(StrEnum):
    ADMIN = "admin"
    SUPERUSER = "superuser"
    USER = "user"


@dataclass
class Role:
    role: str


@dataclass
class User:
    id: int
    fullname: str
    email: str
    password: str = ""
    roles: list[Role] = field(default_factory=list)


DB: dict[int, User] = {}
QUERIES: list[int] = []


class Auth(Authentication):
    async def user_loader(self, req: Request) -> Optional[User]:
        """Loads user from the provided cookie"""
        cookie_header = req.headers.get("cookie", "")
        if cookie_header:
            # Split the cookie string on semicolons and equals signs to extract individual cookies
            cookies = dict(cookie.strip().split("=", 1) for cookie in cookie_header.split(";"))
            auth_cookie = cookies.get("auth_cookie")
            if auth_cookie:
                user_id = self.decode_signed_cookie(auth_cookie)
                if user_id:
                    return DB.get(int(user_id))  # README: await User.query(session).filter_by(id=user_id).first()
        return None

    async def role_check(self, user: User, roles: list[UserRoles]) -> bool:
        """Checks intersection of user roles and required roles"""
        user_roles = set([role.role for role in user.roles])
        return len(user_roles.intersection(set(roles))) > 0


auth: Auth = Auth()

# --------------------------------------------------------------------------- app/extensions.py

cache: Cache = Cache()
second_cache: Cache = Cache(variable_prefix="MY_CACHE_")

# --------------------------------------------------------------------------- app/api


class UserData(BaseModel):
    id: int
    fullname: str
    email: str


class Login(BaseModel):
    email: str
    password: str


@path("/api/v1/users", tags=["Users"])
class UsersApi(Controller):
    @post("/login")
    async def login(self, req: Request) -> Response[Any]:
        data = Login.model_validate(await req.json())
        user = next((u for u in DB.values() if u.email == data.email), None)
        if user is None or not auth.check_password_hash(data.password, user.password):
            return req.response.json({"message": "Wrong credentials"}).status(HttpStatus.UNAUTHORIZED)
        return req.response.json({"id": user.id}).set_cookie("auth_cookie", auth.create_signed_cookie_value(user.id))

    @get("/<int:user_id>")
    @produces(MediaType.APPLICATION_JSON)
    @auth.login_required
    @auth.role_required(UserRoles.ADMIN, UserRoles.SUPERUSER)
    async def get_user(self, req: Request, user_id: int) -> Response[UserData]:
        """Returns a user by user_id"""
        user: User = DB[user_id]
        return req.response.json(UserData(id=user_id, fullname=user.fullname, email=user.email)).status(HttpStatus.OK)

    @socket("/ws")
    @auth.login_required
    async def socket_handler(self, req: Request) -> None:
        await req.accept()
        while True:
            data = await req.receive()
            if data["type"] == "websocket.disconnect":
                break
            if data["type"] == "websocket.receive":
                await req.res.send(
                    {"type": "websocket.send", "text": "Hello from server. Echo: " + data.get("text", "")}
                )


@path("/api/v1/admin", tags=["Admin"])
@login_required
@role_required(*[UserRoles.ADMIN])
class AdminApi(Controller):
    """All endpoints are protected"""

    @get("/ping")
    async def ping(self, req: Request) -> Response[Any]:
        return req.response.json({"admin": req.user.fullname})


@path("/api/v1/cached")
class CachedUsersApi(Controller):
    @get("/<int:user_id>")
    @produces(MediaType.APPLICATION_JSON)
    @cache.cache(duration=300)  # default is 300 so this is not needed
    async def get_user(self, req: Request, user_id: int) -> Response[UserData]:
        """Returns a user by user_id"""
        QUERIES.append(user_id)
        user: User = DB[user_id]  # README: await User.query(session).filter_by(id=user_id).first()
        return req.response.json(UserData(id=user_id, fullname=user.fullname, email=user.email)).status(HttpStatus.OK)


# --------------------------------------------------------------------------- app/configs.py + app/__init__.py


class Config(BaseConfig):
    APP_NAME: str = "readme"
    VERSION: str = "1.0"
    BASE_PATH: str = "."
    SECRET_KEY: Optional[str] = "a-long-random-secret"
    ACCESS_LOG: bool = False
    EXTENSIONS: List[str] = [
        "tests.test_readme_auth_cache:auth",
        "tests.test_readme_auth_cache:cache",
        "tests.test_readme_auth_cache:second_cache",
    ]
    CONTROLLERS: List[str] = [
        "tests.test_readme_auth_cache:UsersApi",
        "tests.test_readme_auth_cache:AdminApi",
        "tests.test_readme_auth_cache:CachedUsersApi",
    ]
    AUTHENTICATION: dict[str, Any] = {
        "AUTHENTICATION_ERROR_MESSAGE": "Login required",
        "UNAUTHORIZED_ERROR_MESSAGE": "Missing user role(s)",
        "PASSWORD_HASH_ITERATIONS": 1000,  # fast tests; the default is 600,000
    }
    CACHE: dict[str, Any] = {"DURATION": 300}
    MY_CACHE_CACHE_BACKEND: str = "sqlite"
    MY_CACHE_CACHE_SQLITE_PATH: str = ":memory:"


@app(__name__, configs=Config)
class Application(Patera):
    pass


def seed() -> None:
    DB.clear()
    QUERIES.clear()
    DB[1] = User(1, "Ada Admin", "ada@example.com", auth.create_password_hash("pw-ada"), [Role("admin")])
    DB[2] = User(2, "Uma User", "uma@example.com", auth.create_password_hash("pw-uma"), [Role("user")])


async def test_readme_authentication_flow() -> None:
    application = Application()
    seed()
    async with PateraTestClient(application) as client:
        assert (await client.get("/api/v1/users/1")).json() == {"status": "error", "message": "Login required"}
        assert (
            await client.post("/api/v1/users/login", json={"email": "uma@example.com", "password": "nope"})
        ).status_code == 401
        assert (
            await client.post("/api/v1/users/login", json={"email": "uma@example.com", "password": "pw-uma"})
        ).status_code == 200
        forbidden = await client.get("/api/v1/users/1")
        assert (forbidden.status_code, forbidden.json()) == (
            403,
            {"status": "error", "message": "Missing user role(s)"},
        )
        assert (await client.get("/api/v1/admin/ping")).status_code == 403
        async with client.websocket_connect("/api/v1/users/ws") as ws:  # logged in: accepted
            await ws.send_text("hi")
            assert await ws.receive_text() == "Hello from server. Echo: hi"
        client.client.cookies.clear()
        await client.post("/api/v1/users/login", json={"email": "ada@example.com", "password": "pw-ada"})
        ok = await client.get("/api/v1/users/2")
        assert (ok.status_code, ok.json()) == (200, {"id": 2, "fullname": "Uma User", "email": "uma@example.com"})
        assert (await client.get("/api/v1/admin/ping")).json() == {"admin": "Ada Admin"}


async def test_readme_caching_flow() -> None:
    application = Application()
    seed()
    async with PateraTestClient(application) as client:
        first = await client.get("/api/v1/cached/1")
        second = await client.get("/api/v1/cached/1")
        other = await client.get("/api/v1/cached/2")
        assert first.json() == second.json() == {"id": 1, "fullname": "Ada Admin", "email": "ada@example.com"}
        assert other.json()["id"] == 2
        assert QUERIES == [1, 2]  # user 1 was queried once, user 2 stored separately
        await cache.set("greeting", {"hello": "world"}, 60)
        assert await cache.get("greeting") == {"hello": "world"}
        await cache.delete("greeting")
        assert await cache.get("greeting") is None
        await cache.clear()
        await client.get("/api/v1/cached/1")
        assert QUERIES == [1, 2, 1]
        await second_cache.set("k", {"v": 1})
        assert await second_cache.get("k") == {"v": 1}
        assert type(second_cache.backend).__name__ == "SQLiteCacheBackend"
