"""Falcon (ASGI): resource classes with ``on_get``/``on_post``, media through ``req.get_media()``.

Falcon's binary wheels compile part of Falcon with Cython; :func:`build_kind` says
which build is installed, and ``run.py`` prints it next to the version.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import falcon
import falcon.asgi

from ._common import GREETING, PLAINTEXT, READ_CHUNK, Item, filler_routes

NAME = "Falcon"
__all__ = ("NAME", "build", "build_kind", "build_upload", "version")


def version() -> str:
    return f"{falcon.__version__} ({build_kind()})"


def _compiled(module: str) -> bool:
    """Whether ``module`` is loaded from a compiled extension (``.so``/``.pyd``), not from ``.py``."""
    try:
        spec = importlib.util.find_spec(module)
    except ImportError:
        return False
    origin = spec.origin if spec is not None else None
    return bool(origin) and not origin.endswith(".py")  # type: ignore[union-attr]


def build_kind() -> str:
    """``cythonized: …`` listing the compiled modules, or ``pure Python``.

    Falcon 3 wheels compiled nearly every module (``falcon.app`` included); Falcon 4
    wheels compile the helpers in ``falcon.cyutil`` (``misc``, ``reader``, ``uri``) and
    leave the app, request, response and router in Python.
    """
    candidates = ("falcon.app", "falcon.request", "falcon.routing.compiled", "falcon.util.misc", "falcon.api_helpers",
                  "falcon.app_helpers", "falcon.cyutil.misc", "falcon.cyutil.reader", "falcon.cyutil.uri")
    compiled = [name for name in candidates if _compiled(name)]
    if not compiled:
        return "pure Python"
    return "cythonized: " + ", ".join(name.removeprefix("falcon.") for name in compiled)


class _Plaintext:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = PLAINTEXT


class _Greeting:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = GREETING


class _User:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, id: int) -> None:
        resp.media = {"id": id}


class _Items:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        item = Item.model_validate(await req.get_media())
        resp.media = item.model_dump(mode="json")


class _Upload:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await req.get_media()
        size = -1
        async for part in form:
            if part.name == "file":
                size = len(await part.stream.read())
        resp.media = {"size": size}


class _UploadLarge:
    """The file streamed through: Falcon parses multipart as it arrives and spools nothing."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await req.get_media()
        size = -1
        async for part in form:
            if part.name == "file":
                size = 0
                while chunk := await part.stream.read(READ_CHUNK):
                    size += len(chunk)
        resp.media = {"size": size}


class _Form:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        fields = await req.get_media()
        resp.media = {"fields": len(fields)}


class _Filler:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: Any) -> None:
        resp.media = params

    on_post = on_get


def build(extra_routes: int = 50) -> Any:
    api = falcon.asgi.App()
    api.add_route("/plaintext", _Plaintext())
    api.add_route("/json", _Greeting())
    api.add_route("/items", _Items())
    api.add_route("/upload", _Upload())
    api.add_route("/form", _Form())
    for route in filler_routes(extra_routes):
        api.add_route(route.render("brace-typed").replace(":str}", "}"), _Filler())
    api.add_route("/users/{id:int}", _User())
    return api


def build_upload() -> Any:
    api = falcon.asgi.App()
    api.add_route("/upload", _UploadLarge())
    return api
