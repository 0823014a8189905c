"""patera, README style: the benchmarked endpoints written the way the README's examples write them.

What the README (and the original framework's docs) teach on every endpoint:
``@produces(MediaType...)``, ``.status(HttpStatus.OK)`` on the returned response,
``@consumes`` with a pydantic parameter for bodies and ``-> Response[Model]`` where
a model comes back (the README's ``create_user``). Plain reads that the README does
without ``@consumes`` (``await req.form()``) stay so. The app configuration and the
filler routes are those of the bare style (``patera_app``), so the two columns differ
only in how the endpoints are written.

Names used in annotations are module globals: patera resolves string annotations
in the handler's module.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from patera import HttpStatus, MediaType, Request, Response, UploadedFile
from patera.controller import Controller, consumes, get, path, post, produces

from ._common import GREETING, PLAINTEXT, READ_CHUNK, Item
from .patera_app import application, filler_controller, version

NAME = "patera-readme"
__all__ = ("NAME", "build", "build_upload", "version")


class Upload(BaseModel):
    """The multipart body, as the README's upload example declares it."""

    file: UploadedFile


def build(extra_routes: int = 50) -> Any:
    """The same endpoints and registration order as ``patera_app.build``."""

    @path("/")
    class Bench(Controller):
        @get("/plaintext")
        @produces(MediaType.TEXT_PLAIN)
        async def plaintext(self, req: Request) -> Response:
            return req.response.text(PLAINTEXT).status(HttpStatus.OK)

        @get("/json")
        @produces(MediaType.APPLICATION_JSON)
        async def json(self, req: Request) -> Response:
            return req.response.json(GREETING).status(HttpStatus.OK)

        @post("/items")
        @consumes(MediaType.APPLICATION_JSON)
        @produces(MediaType.APPLICATION_JSON)
        async def create(self, req: Request, item: Item) -> Response[Item]:
            return req.response.json(item).status(HttpStatus.OK)

        @post("/upload")
        @consumes(MediaType.MULTIPART_FORM_DATA)
        @produces(MediaType.APPLICATION_JSON)
        async def upload(self, req: Request, data: Upload) -> Response:
            content = await data.file.aread()
            return req.response.json({"size": len(content)}).status(HttpStatus.OK)

        @post("/form")
        @produces(MediaType.APPLICATION_JSON)
        async def form(self, req: Request) -> Response:
            fields = await req.form()
            return req.response.json({"fields": len(fields)}).status(HttpStatus.OK)

    @path("/users")
    class Users(Controller):
        @get("/<int:id>")
        @produces(MediaType.APPLICATION_JSON)
        async def user(self, req: Request, id: int) -> Response:
            return req.response.json({"id": id}).status(HttpStatus.OK)

    if extra_routes:
        return application(Bench, filler_controller(extra_routes, produces(MediaType.APPLICATION_JSON)), Users)
    return application(Bench, Users)


def build_upload() -> Any:
    """``POST /upload`` as the README's upload example: ``@consumes`` into a model with an ``UploadedFile``."""

    @path("/")
    class Uploads(Controller):
        @post("/upload")
        @consumes(MediaType.MULTIPART_FORM_DATA)
        @produces(MediaType.APPLICATION_JSON)
        async def upload(self, req: Request, data: Upload) -> Response:
            size = 0
            while chunk := await data.file.aread(READ_CHUNK):
                size += len(chunk)
            return req.response.json({"size": size}).status(HttpStatus.OK)

    return application(Uploads)
