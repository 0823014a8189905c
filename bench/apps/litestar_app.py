"""Litestar: the idiomatic form (``data: Item``, typed path, multipart ``UploadFile``).

No ``from __future__ import annotations`` here: Litestar resolves handler
annotations against the module, and the handlers are module-level for that reason.
"""

from typing import Annotated, Any

import litestar
from litestar import Litestar, MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from ._common import GREETING, PLAINTEXT, READ_CHUNK, Item, filler_routes

NAME = "Litestar"
__all__ = ("NAME", "build", "build_upload", "version")


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("litestar") if litestar else "?"


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return PLAINTEXT


@get("/json")
async def greeting() -> dict[str, str]:
    return GREETING


@get("/users/{id:int}")
async def user(id: int) -> dict[str, int]:
    return {"id": id}


@post("/items", status_code=200)
async def create(data: Item) -> Item:
    return data


@post("/upload", status_code=200)
async def upload(
    data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, int]:
    content = await data["file"].read()
    return {"size": len(content)}


@post("/form", status_code=200)
async def form(
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> dict[str, int]:
    return {"fields": len(data)}


@post("/upload", status_code=200)
async def upload_large(
    data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, int]:
    upload = data["file"]
    size = 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
    return {"size": size}


def _filler(index: int, route: Any) -> Any:
    decorator = get if route.method == "GET" else post

    async def handler(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return dict(request.path_params)

    return decorator(route.render("brace-typed"), name=f"filler_{index}", status_code=200)(handler)


def build(extra_routes: int = 50) -> Any:
    handlers = [plaintext, greeting, create, upload, form]
    handlers += [_filler(i, r) for i, r in enumerate(filler_routes(extra_routes))]
    handlers.append(user)
    return Litestar(route_handlers=handlers, openapi_config=None, debug=False)


def build_upload() -> Any:
    # NOTE: Litestar refuses bodies over 10 MB by default (request_max_body_size); the
    # large upload needs that raised. Everything else (in-memory body) is its default.
    return Litestar(route_handlers=[upload_large], openapi_config=None, debug=False, request_max_body_size=None)
