"""FastAPI: the idiomatic form (typed path parameter, body model, ``UploadFile``).

No ``from __future__ import annotations`` here: FastAPI reads the handlers' real
annotations. ``response_model`` is left to inference from the return annotation,
as in a typical app.
"""

from typing import Any

import fastapi
from fastapi import FastAPI, Request, UploadFile
from fastapi.responses import PlainTextResponse

from ._common import FORM_FIELDS, GREETING, PLAINTEXT, READ_CHUNK, Item, filler_routes

NAME = "FastAPI"
__all__ = ("NAME", "build", "build_upload", "version")


def version() -> str:
    return fastapi.__version__


def _filler(route: Any) -> Any:
    """A handler whose signature names the route's variables with their types."""
    import inspect

    params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=int if kind == "int" else str)
        for kind, name in route.variables
    ]

    async def handler(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return handler


def build(extra_routes: int = 50) -> Any:
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @api.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return PLAINTEXT

    @api.get("/json")
    async def greeting() -> dict[str, str]:
        return GREETING

    @api.post("/items")
    async def create(item: Item) -> Item:
        return item

    @api.post("/upload")
    async def upload(file: UploadFile) -> dict[str, int]:
        data = await file.read()
        return {"size": len(data)}

    @api.post("/form")
    async def form(request: Request) -> dict[str, int]:
        # NOTE: Starlette (under FastAPI) refuses more than 1000 fields by default.
        async with request.form(max_fields=FORM_FIELDS) as fields:
            return {"fields": len(fields)}

    for index, route in enumerate(filler_routes(extra_routes)):
        api.add_api_route(route.render("brace"), _filler(route), methods=[route.method], name=f"filler_{index}")

    @api.get("/users/{id}")
    async def user(id: int) -> dict[str, int]:
        return {"id": id}

    return api


def build_upload() -> Any:
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @api.post("/upload")
    async def upload(file: UploadFile) -> dict[str, int]:
        size = 0
        while chunk := await file.read(READ_CHUNK):
            size += len(chunk)
        return {"size": size}

    return api
