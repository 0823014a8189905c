"""patera, bare: the benchmarked endpoints with no optional decorator (no ``@produces``, no ``.status()``).

This is the cheapest way to write a patera endpoint. ``patera_readme_app`` serves the
same endpoints written the way the README's examples write them.

Names used in annotations are module globals: patera resolves string annotations
in the handler's module.
"""

from __future__ import annotations

from typing import Any

import patera
from patera import BaseConfig, MediaType, Patera, Request, Response, app
from patera.controller import Controller, consumes, get, path, post

from ._common import FORM_FIELDS, GREETING, PLAINTEXT, READ_CHUNK, Item, filler_routes

NAME = "patera"
__all__ = ("NAME", "BenchConfig", "application", "build", "build_upload", "filler_controller", "version")


def version() -> str:
    return patera.__version__


class BenchConfig(BaseConfig):
    """The app configuration both patera styles share."""

    APP_NAME: str = "bench"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False  # the peers log no requests either
    # CORS stays enabled as by default (requests carry no Origin, so it is one header scan);
    # credentials off only silences the start-up warning about credentials with "*".
    CORS_ALLOW_CREDENTIALS: bool = False
    # The form scenario sends 10,000 fields; the default limit (1000) would answer 413.
    MAX_FORM_FIELDS: int = FORM_FIELDS


def filler_controller(count: int, decorate: Any = None) -> type:
    """A controller with ``count`` generated endpoints (never hit); ``decorate`` wraps each handler."""
    namespace: dict[str, Any] = {}
    for index, route in enumerate(filler_routes(count)):
        decorator = get if route.method == "GET" else post

        async def handler(self: Any, req: Request, **params: Any) -> Response:
            return req.response.json(params)

        handler.__name__ = handler.__qualname__ = f"filler_{index}"
        if decorate is not None:
            handler = decorate(handler)
        namespace[handler.__name__] = decorator(route.render("werkzeug"))(handler)
    return path("/")(type("Filler", (Controller,), namespace))


def application(*controllers: type) -> Any:
    @app(__name__, configs=BenchConfig)
    class BenchApp(Patera):
        pass

    instance = BenchApp()
    for controller in controllers:
        instance.register_controller(controller)
    return instance


def build(extra_routes: int = 50) -> Any:
    """A patera app with the access log off; registration order as in the other apps."""

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

        @post("/form")
        async def form(self, req: Request) -> Response:
            fields = await req.form()
            return req.response.json({"fields": len(fields)})

    @path("/users")
    class Users(Controller):
        @get("/<int:id>")
        async def user(self, req: Request, id: int) -> Response:
            return req.response.json({"id": id})

    if extra_routes:
        return application(Bench, filler_controller(extra_routes), Users)
    return application(Bench, Users)


def build_upload() -> Any:
    """``POST /upload``: the file read through in ``READ_CHUNK`` pieces."""

    @path("/")
    class Upload(Controller):
        @post("/upload")
        async def upload(self, req: Request) -> Response:
            files = await req.files()
            upload = files["file"]
            size = 0
            while chunk := await upload.aread(READ_CHUNK):
                size += len(chunk)
            return req.response.json({"size": size})

    return application(Upload)
