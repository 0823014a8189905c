"""The routing-outcome layer (SPEC §3.3 step 4): innermost before the endpoint wrapper.

The ASGI entry records the route match on the request before the chain runs; this layer
acts on it. A matched route goes to its endpoint wrapper. Otherwise it answers the 308
redirect or the automatic OPTIONS, or raises ``NotFound`` / ``MethodNotAllowed``, so
middleware, exception handlers and the CORS grant all see routing failures as errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._router import RequestRedirect
from .exceptions import MethodNotAllowed, NotFound, allow_header

if TYPE_CHECKING:
    from ._chain import Layer
    from .request import Request
    from .response import Response

__all__ = ("routing_outcome", "unmatched")

# Printable ASCII that may stand in a query as received (existing %XX escapes stay).
_QUERY_SAFE = "!#$%&'()*+,/:;=?@[]^`{|}\\\"<>"


async def unmatched(req: Request) -> Response[Any]:
    """The answer for a request no endpoint matched: a redirect, automatic OPTIONS, or a raise."""
    outcome = _outcome(req)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _outcome(req: Request) -> Response[Any] | Exception:
    """The redirect or automatic OPTIONS answer, else the routing error to raise."""
    error = req.route_error
    if isinstance(error, RequestRedirect):
        query = req.scope.get("query_string", b"")
        # NOTE: kept byte for byte except what a Location may not carry (CTLs, space,
        # non-ASCII): escaped, so a raw control byte is never a 500 or a header split.
        location = error.location + ("?" + quote(query, safe=_QUERY_SAFE) if query else "")
        return req.response.redirect(location, 308)
    if isinstance(error, MethodNotAllowed) and req.method == "OPTIONS":
        res = req.response.status(200)
        res.headers["allow"] = allow_header(error.valid_methods)
        return res
    return error if error is not None else NotFound()


def routing_outcome(render: Callable[[Request, Exception], Awaitable[Response[Any]]] | None = None) -> Layer:
    """The layer: the endpoint wrapper of a matched route (a plain endpoint's handler), else :func:`unmatched`.

    ``render`` is the boundary's renderer, passed when no middleware sits between this layer
    and the boundary: nobody could catch the routing error on its way out, so it is handed
    to the renderer directly instead of raised (PERF: a raise and its traceback per 404).
    """

    fallback: Layer = unmatched
    if render is not None:

        async def rendered(req: Request) -> Response[Any]:
            outcome = _outcome(req)
            if isinstance(outcome, Exception):
                return await render(req, outcome)
            return outcome

        fallback = rendered

    def routed(req: Request) -> Awaitable[Response[Any]]:
        endpoint = req.endpoint
        if endpoint is None:
            return fallback(req)
        if endpoint.plain:
            # PERF: the handler's own awaitable, no wrapper coroutine; its result is checked and
            # finished (@produces, Response[T]) by the layer awaiting this one (_dispatch.settle).
            params = req.route_parameters
            return endpoint.call(req, **params) if params else endpoint.call(req)  # type: ignore[no-any-return]
        return endpoint(req)  # type: ignore[no-any-return]

    return routed
