"""patera with any subset of the README's per-endpoint additions, for pricing each one alone.

``build_variant({"produces", "status", "typed"})`` serves ``/plaintext``, ``/json``,
``/users/<int:id>`` (behind the 50 filler routes) and ``POST /items`` with:

- ``produces``: ``@produces(MediaType...)`` on every endpoint;
- ``status``: ``.status(HttpStatus.OK)`` on every returned response;
- ``typed``: a ``-> Response[T]`` return annotation (``Response[Item]`` on the POST as in
  the README's ``create_user``; ``Response[dict[str, str]]``/``Response[dict[str, int]]``
  on the GETs, the form the README's ``get_user`` takes with a model).

The empty set is the bare style, all three the README style (``patera_readme_app``).
``bench/callgrind.py`` compares their instruction counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from patera import HttpStatus, MediaType, Request, Response
from patera.controller import Controller, consumes, get, path, post, produces

from ._common import GREETING, PLAINTEXT, Item
from .patera_app import application, filler_controller

__all__ = ("FEATURES", "build_variant")

FEATURES = ("produces", "status", "typed")


def build_variant(features: set[str] | frozenset[str], extra_routes: int = 50) -> Any:
    unknown = set(features) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown feature(s) {sorted(unknown)}; choose from {FEATURES}")
    ok = HttpStatus.OK if "status" in features else None

    def finish(res: Response) -> Response:
        return res

    def finish_with_status(res: Response) -> Response:
        return res.status(HttpStatus.OK)

    done: Callable[[Response], Response] = finish_with_status if ok is not None else finish

    def shape(media: MediaType, typed: Any) -> Callable[[Any], Any]:
        def apply(fn: Any) -> Any:
            if "typed" in features:
                fn.__annotations__["return"] = typed
            return produces(media)(fn) if "produces" in features else fn

        return apply

    class Bench(Controller):
        @get("/plaintext")
        @shape(MediaType.TEXT_PLAIN, Response[str])
        async def plaintext(self, req: Request) -> Response:
            return done(req.response.text(PLAINTEXT))

        @get("/json")
        @shape(MediaType.APPLICATION_JSON, Response[dict[str, str]])
        async def json(self, req: Request) -> Response:
            return done(req.response.json(GREETING))

        @post("/items")
        @consumes(MediaType.APPLICATION_JSON)
        @shape(MediaType.APPLICATION_JSON, Response[Item])
        async def create(self, req: Request, item: Item) -> Response:
            return done(req.response.json(item))

    class Users(Controller):
        @get("/<int:id>")
        @shape(MediaType.APPLICATION_JSON, Response[dict[str, int]])
        async def user(self, req: Request, id: int) -> Response:
            return done(req.response.json({"id": id}))

    controllers = [path("/")(Bench)]
    if extra_routes:
        controllers.append(filler_controller(extra_routes))
    controllers.append(path("/users")(Users))
    return application(*controllers)
