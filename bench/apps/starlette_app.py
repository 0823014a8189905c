"""Starlette: plain ``Route`` list; the body model is validated by hand, as Starlette has no injection.

Uploads need ``python-multipart`` (Starlette's form parser).
"""

from __future__ import annotations

from typing import Any

import starlette
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ._common import FORM_FIELDS, GREETING, PLAINTEXT, READ_CHUNK, Item, filler_routes

NAME = "Starlette"
__all__ = ("NAME", "build", "build_upload", "version")


def version() -> str:
    return starlette.__version__


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(PLAINTEXT)


async def greeting(request: Request) -> Response:
    return JSONResponse(GREETING)


async def user(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"]})


async def create(request: Request) -> Response:
    item = Item.model_validate_json(await request.body())
    return Response(item.model_dump_json(), media_type="application/json")


async def upload(request: Request) -> Response:
    async with request.form() as form:
        data = await form["file"].read()  # type: ignore[union-attr]
    return JSONResponse({"size": len(data)})


async def form(request: Request) -> Response:
    # NOTE: Starlette refuses more than 1000 fields by default; the scenario sends 10,000.
    async with request.form(max_fields=FORM_FIELDS) as fields:
        return JSONResponse({"fields": len(fields)})


async def upload_large(request: Request) -> Response:
    size = 0
    async with request.form() as fields:
        upload = fields["file"]
        while chunk := await upload.read(READ_CHUNK):  # type: ignore[union-attr]
            size += len(chunk)
    return JSONResponse({"size": size})


async def filler(request: Request) -> Response:
    return JSONResponse(request.path_params)


def build(extra_routes: int = 50) -> Any:
    routes = [
        Route("/plaintext", plaintext),
        Route("/json", greeting),
        Route("/items", create, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/form", form, methods=["POST"]),
    ]
    routes += [Route(r.render("brace-typed"), filler, methods=[r.method]) for r in filler_routes(extra_routes)]
    routes.append(Route("/users/{id:int}", user))
    return Starlette(routes=routes)


def build_upload() -> Any:
    return Starlette(routes=[Route("/upload", upload_large, methods=["POST"])])
