"""The request chain, composed once in ``Patera.build()`` (SPEC §3.3, ARCHITECTURE.md).

    error boundary → CORS → MIDDLEWARE[0] → … → MIDDLEWARE[-1] → routing outcome → endpoint wrapper

The error boundary runs in ``ASGIHandler.http`` itself (``_error_boundary``: no coroutine
of its own); :func:`compose_chains` builds the rest. Each layer is a callable
``req -> Awaitable[Response]`` built around the next one. A layer with nothing to do is
left out here, once, instead of being skipped on every request: CORS when no policy is
active (and, since it acts only on requests carrying ``Origin``, from the chain the entry
uses for requests without one), the middleware checks when there is no middleware. The
routing outcome of a matched route is a plain function returning the endpoint's
awaitable, so it costs a call, not a coroutine. ``tests/test_pipeline_property.py``
checks these chains answer exactly like the layers composed plainly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._cors_layer import cors_layer, uses_cors
from ._dispatch import settle
from ._routing_outcome import routing_outcome
from .response import Response

if TYPE_CHECKING:
    from .app import Patera
    from .request import Request

__all__ = ("Layer", "checked_endpoint", "checked_middleware", "compose_chain", "compose_chains")

Layer = Callable[["Request"], Awaitable[Response[Any]]]


def checked_middleware(middleware: Any) -> Layer:
    """A middleware's ``middleware`` method, refusing anything but a Response (SPEC §9)."""
    call = middleware.middleware

    async def run(req: Request) -> Response[Any]:
        res = await call(req)
        if not isinstance(res, Response):
            raise TypeError(f"{type(middleware).__name__}.middleware must return a Response, got {type(res).__name__}")
        return res

    return run


def checked_endpoint(routed: Layer) -> Layer:
    """The routing outcome as middleware must see it: a Response, never a plain handler's raw value."""

    async def run(req: Request) -> Response[Any]:
        return settle(req, await routed(req))

    return run


def compose_chain(app: Patera) -> Layer:
    """Middleware → routing outcome → endpoint for ``app`` (routes frozen, CORS policies resolved).

    A plain endpoint's result reaches the next awaiting layer unchecked and unfinished
    (``Endpoint.plain``): the boundary and the CORS layer settle it themselves
    (``_dispatch.settle``), middleware gets :func:`checked_endpoint`.
    """
    if not app.middleware:
        return routing_outcome(app.errors.render)
    chain = checked_endpoint(routing_outcome())
    for middleware_cls in reversed(app.middleware):
        chain = checked_middleware(middleware_cls(app, chain))
    return chain


def compose_chains(app: Patera) -> tuple[Layer, Layer]:
    """The chain for requests without ``Origin`` and the one for requests with it.

    The CORS layer acts only on requests that carry an ``Origin`` (same-origin ones pass
    through it), so requests without one get the chain composed without it: the layer is
    left out once, here, instead of being called to do nothing. With no active policy both
    are the same chain.
    """
    chain = compose_chain(app)
    return chain, (cors_layer(app, chain) if uses_cors(app) else chain)
