"""The CORS layer (SPEC §3.3 step 2, §7): preflights, origin checks, grants on responses.

It sits just inside the error boundary, outside all user middleware, and is left out
of the chain when neither the global policy nor any endpoint uses CORS. A request
without ``Origin`` (or a same-origin one) passes straight through, without a coroutine
of its own. Refusals are raised (``CorsOriginRefused``, ``PreflightMethodRefused``) for
the boundary to render; a granted request records its grant on ``req.cors_grant`` so
that errors rendered by the boundary carry it as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ._cors import CorsPolicy, add_grant, is_same_origin
from ._dispatch import ensure_response, settle
from .exceptions import CorsOriginRefused, PreflightMethodRefused

if TYPE_CHECKING:
    from ._chain import Layer
    from .app import Patera
    from .request import Request
    from .response import Response

__all__ = ("cors_layer", "uses_cors")

# PERF: browsers repeat the same few (origin, scheme, host) triples; the check is pure.
_same_origin_cached = lru_cache(maxsize=1024)(is_same_origin)


def _same_origin(origin: str, scheme: str, host: str | None) -> bool:
    """:func:`is_same_origin`, cached for realistic sizes only (hostile long values stay out)."""
    if len(origin) > 255 or (host is not None and len(host) > 255):
        return is_same_origin(origin, scheme, host)
    return _same_origin_cached(origin, scheme, host)


def uses_cors(app: Patera) -> bool:
    """Whether any policy is active: the global one or an endpoint's ``@cors``."""
    return app.global_cors is not None or any(e.cors_policy is not None for e in app.endpoints.values())


def cors_layer(app: Patera, inner: Layer) -> Layer:
    """Wrap ``inner`` with the CORS checks of ``app``'s policies."""
    global_policy: CorsPolicy | None = app.global_cors
    router = app.router
    # Without middleware ``inner`` is the routing outcome: a plain endpoint's result is
    # settled here (checked, @produces / Response[T] applied), as the boundary would.
    checked = ensure_response if app.middleware else settle

    def preflight_policy(req: Request, requested: str, fallback: CorsPolicy | None) -> CorsPolicy | None:
        """Options of the endpoint matching path and requested method, else any on the path.

        ``None`` (``@no_cors``, or CORS off and no ``@cors``) leaves the OPTIONS request to the
        chain like any other: no grant, and user middleware may answer it itself.
        """
        path = req.path

        def candidates() -> Iterator[str]:
            yield requested.strip().upper()
            yield from sorted(router.allowed_methods(path))  # PERF: only when the first misses

        for method in candidates():
            try:
                endpoint, _ = router.match(path, method)
            except Exception:  # noqa: BLE001 - NotFound / redirect: try the next method
                continue
            return endpoint.cors_policy  # type: ignore[no-any-return]
        return fallback

    async def cross_origin(req: Request, origin: str) -> Response[Any]:
        endpoint = req.endpoint
        policy = endpoint.cors_policy if endpoint is not None else global_policy
        requested = req.headers.get("access-control-request-method") if req.method == "OPTIONS" else None
        if requested is not None:
            # A preflight is never routed to an endpoint itself: find the one it asks about.
            policy = preflight_policy(req, requested, policy)
        host = req.single_headers.get(b"host") if req.single_headers is not None else None
        if policy is None or _same_origin(origin, req.scheme, None if host is None else host.decode("latin-1")):
            return checked(req, await inner(req))
        if requested is not None:
            status, headers, _ = policy.preflight(origin, requested, req.headers.get("access-control-request-headers"))
            if status == 403:
                raise CorsOriginRefused()
            if status == 405:
                raise PreflightMethodRefused()
            res = req.response
            res.headers.raw.extend(headers)
            return res
        grant = policy.actual_headers(origin)
        if grant is None:
            raise CorsOriginRefused()
        req.cors_grant = grant
        res = checked(req, await inner(req))
        add_grant(res.headers, grant)
        return res

    def cors(req: Request) -> Awaitable[Response[Any]]:
        single = req.single_headers
        origin = single.get(b"origin") if single is not None else None
        if origin is None:
            # PERF: no Origin, no CORS: no coroutine of this layer at all. (The entry sends only
            # requests with an Origin here; one without is settled by whoever awaits this.)
            return inner(req)
        return cross_origin(req, origin.decode("latin-1"))

    return cors
