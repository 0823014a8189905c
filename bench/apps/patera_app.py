"""patera: the benchmarked endpoints as one controller plus a generated filler controller.

Names used in annotations are module globals: patera resolves string annotations
in the handler's module.
"""

from __future__ import annotations

from typing import Any

import patera
from patera import BaseConfig, MediaType, Patera, Request, Response, app
from patera.controller import Controller, consumes, get, path, post

from ._common import GREETING, PLAINTEXT, Item, filler_routes

NAME = "patera"
__all__ = ("NAME", "build", "version")


def version() -> str:
    return patera.__version__


def _filler_controller(count: int) -> type:
    """A controller with ``count`` generated endpoints (never hit)."""
    namespace: dict[str, Any] = {}
    for index, route in enumerate(filler_routes(count)):
        decorator = get if route.method == "GET" else post

        async def handler(self: Any, req: Request, **params: Any) -> Response:
            return req.response.json(params)

        handler.__name__ = handler.__qualname__ = f"filler_{index}"
        namespace[handler.__name__] = decorator(route.render("werkzeug"))(handler)
    return path("/")(type("Filler", (Controller,), namespace))


def build(extra_routes: int = 50) -> Any:
    """A patera app with the access log off; registration order as in the other apps."""

    class Config(BaseConfig):
        APP_NAME: str = "bench"
        VERSION: str = "1"
        BASE_PATH: str = "."
        ACCESS_LOG: bool = False  # the peers log no requests either
        # CORS stays enabled as by default (requests carry no Origin, so it is one header scan);
        # credentials off only silences the start-up warning about credentials with "*".
        CORS_ALLOW_CREDENTIALS: bool = False

    @path("/")
    class Bench(Controller):
        @get("/plaintext")
        async def plaintext(self, req: Request) -> Response:
            return req.response.text(PLAINTEXT)

        @get("/json")
        async def json(self, req: Request) -> Response:
            return req.response.json(GREETING)

        @post("/items")
        @consumes(MediaType.APPLICATION_JSON)
        async def create(self, req: Request, item: Item) -> Response:
            return req.response.json(item)

        @post("/upload")
        async def upload(self, req: Request) -> Response:
            files = await req.files()
            data = await files["file"].aread()
            return req.response.json({"size": len(data)})

    @path("/users")
    class Users(Controller):
        @get("/<int:id>")
        async def user(self, req: Request, id: int) -> Response:
            return req.response.json({"id": id})

    @app(__name__, configs=Config)
    class BenchApp(Patera):
        pass

    instance = BenchApp()
    instance.register_controller(Bench)
    if extra_routes:
        instance.register_controller(_filler_controller(extra_routes))
    instance.register_controller(Users)
    return instance
