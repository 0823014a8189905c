"""The error boundary: the outermost step of every HTTP request, and the one place
errors become responses.

Every exception raised further in (CORS refusals, middleware, routing outcomes, guards,
hooks, body parsing, handlers, static files) travels outward to the boundary, which asks
:class:`ErrorRenderer` for the answer: a ``@handles`` handler found along
``type(exc).__mro__`` (most specific first), else the defaults of SPEC §8.2.

PERF: the boundary has no coroutine of its own. ``ASGIHandler.http`` runs its steps
around ``await chain(req)``: :func:`screen` (a repeated single-value header), the
``Response`` check of a plain endpoint's result (``_dispatch.ensure_response``) and, for
whatever is raised, :meth:`ErrorRenderer.render`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loguru import logger
from pydantic import TypeAdapter, ValidationError

from ._cors import add_grant
from ._dispatch import call_maybe_sync, response_adapter
from .exceptions import (
    BaseHttpException,
    ClientDisconnected,
    DuplicateHeader,
    HtmlAborterException,
)
from .request import SINGLE_HEADERS
from .response import Response, ResponseValidationError

if TYPE_CHECKING:
    from .app import Patera
    from .request import Request

__all__ = ("UNHANDLED_EXCEPTION_KEY", "ErrorRenderer", "prefers_html", "screen")

#: Scope key under which, with ``DEBUG`` on, the boundary leaves the unhandled exception it
#: answered with a 500; ``PateraTestClient(raise_app_exceptions=True)`` re-raises it.
UNHANDLED_EXCEPTION_KEY = "patera.unhandled_exception"
_NO_EXTRA_HEADERS = BaseHttpException.response_headers
_Entry = tuple[Callable[..., Any], "TypeAdapter[Any] | None", str]


def screen(req: Request) -> None:
    """The boundary's first step: ``DuplicateHeader`` when a single-value header repeated."""
    if req.duplicate_header is not None:
        raise DuplicateHeader(SINGLE_HEADERS[req.duplicate_header])


def prefers_html(accept: str | None) -> bool:
    """Whether an ``Accept`` value ranks ``text/html`` above ``text/plain`` (browsers do; curl does not)."""
    if not accept or "html" not in accept:
        return False
    ranks = {"text/html": -1.0, "text/plain": -1.0, "text/*": -1.0, "*/*": -1.0}
    for item in accept.split(","):
        media, _, params = item.partition(";")
        media = media.strip().lower()
        if media not in ranks:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media] = max(ranks[media], quality)
    wildcard = max(ranks["text/*"], ranks["*/*"])
    html_q = ranks["text/html"] if ranks["text/html"] >= 0 else wildcard
    plain_q = ranks["text/plain"] if ranks["text/plain"] >= 0 else wildcard
    return html_q > 0 and html_q > plain_q


class ErrorRenderer:
    """Maps exceptions to responses for one app."""

    __slots__ = ("_cache", "_handlers", "app")

    def __init__(self, app: Patera) -> None:
        self.app = app
        self._handlers: dict[type[BaseException], _Entry] = {}
        self._cache: dict[type[BaseException], _Entry | None] = {}

    def register(self, handler_instance: Any) -> None:
        """Merge an ``ExceptionHandler`` instance's ``@handles`` mapping (later wins)."""
        for exc_type, method in handler_instance.get_exception_mapping().items():
            name = f"{type(handler_instance).__name__}.{method.__name__}"
            if exc_type in self._handlers:
                logger.warning(
                    "exception handler for {} replaced: {} -> {}", exc_type.__name__, self._handlers[exc_type][2], name
                )
            self._handlers[exc_type] = (call_maybe_sync(method), response_adapter(method), name)
        self._cache.clear()

    def find(self, exc: BaseException) -> _Entry | None:
        exc_type = type(exc)
        try:
            return self._cache[exc_type]
        except KeyError:
            pass
        found = None
        for klass in exc_type.__mro__:
            found = self._handlers.get(klass)
            if found is not None:
                break
        self._cache[exc_type] = found
        return found

    async def render(self, req: Request, exc: Exception) -> Response[Any]:
        """The response for ``exc``, with the CORS grant of the request when there is one."""
        if isinstance(exc, ClientDisconnected):
            raise exc  # nobody is listening: the ASGI entry drops the request quietly
        if isinstance(exc, HtmlAborterException):
            res = await self._render_html_abort(req, exc)
        else:
            entry = None if isinstance(exc, ResponseValidationError) else self.find(exc)
            res = self.default(req, exc) if entry is None else await self._handle(req, exc, entry)
        grant = req.cors_grant
        if grant is not None:
            add_grant(res.headers, grant)
        return res

    async def _handle(self, req: Request, exc: Exception, entry: _Entry) -> Response[Any]:
        """Run the ``@handles`` handler ``entry``; its failure or a non-Response is a 500."""
        method, adapter, name = entry
        try:
            res = await method(req, exc)
        except Exception as inner:  # noqa: BLE001 - a failing handler is an unhandled error
            logger.error("exception handler {} raised {!r}", name, inner)
            return self.unhandled(req, inner)
        if not isinstance(res, Response):
            return self.unhandled(req, TypeError(f"exception handler {name} must return a Response"))
        if adapter is not None:
            res.body_type = adapter
        return res

    def default(self, req: Request, exc: Exception) -> Response[Any]:
        """SPEC §8.2 when no ``@handles`` handler matches."""
        app = self.app
        if isinstance(exc, BaseHttpException):
            res: Response[Any] = app.response_class(app).json(exc.to_dict())
            res.status_code = exc.status_code
            if type(exc).response_headers is not _NO_EXTRA_HEADERS:  # PERF: most add none
                for name, value in exc.response_headers().items():
                    res.headers[name] = value
            return res
        if isinstance(exc, ValidationError) and exc is req.body_validation_error:
            errors = [
                {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_input=False, include_context=False)
            ]
            invalid: Response[Any] = app.response_class(app)
            invalid.json({"status": "error", "message": "Validation failed", "data": errors})
            invalid.status_code = 422
            return invalid
        return self.unhandled(req, exc)

    def unhandled(self, req: Request, exc: BaseException) -> Response[Any]:
        """A 500: generic JSON in production; the traceback in DEBUG, never re-raised.

        Logged once here. With ``DEBUG`` on the exception is also left in the scope under
        :data:`UNHANDLED_EXCEPTION_KEY` so the test client can re-raise it in the test.
        """
        app = self.app
        details = "".join(traceback.format_exception(exc))
        res: Response[Any] = app.response_class(app)
        res.status_code = 500
        if app.debug:
            logger.error("Unhandled exception in {} {}:\n{}", req.method, req.path, details)
            req.scope[UNHANDLED_EXCEPTION_KEY] = exc
            if prefers_html(req.headers.get("accept")):
                import html  # PERF: only for this page, not at import time

                page = (
                    '<!doctype html>\n<html><head><meta charset="utf-8"><title>500 Internal Server Error</title></head>'
                    f"<body><h1>Internal Server Error</h1><pre>{html.escape(details)}</pre></body></html>\n"
                )
                res.body = page.encode()
                res.headers["content-type"] = "text/html; charset=utf-8"
            else:
                res.text(f"Internal Server Error\n\n{details}")
            return res
        logger.critical(
            "Unhandled exception in {} {} (route parameters {!r}):\n{}",
            req.method,
            req.path,
            req.route_parameters,
            details,
        )
        return res.json({"status": "error", "message": "Internal server error"})

    def unsendable(self, req: Request, exc: Exception) -> Response[Any]:
        """The 500 that replaces a response whose body could not be serialised at send time.

        It keeps the CORS grant the failed response carried, as any rendered error does.
        """
        res = self.unhandled(req, exc)
        if req.cors_grant is not None:
            add_grant(res.headers, req.cors_grant)
        return res

    async def _render_html_abort(self, req: Request, exc: HtmlAborterException) -> Response[Any]:
        app = self.app
        context = exc.data if isinstance(exc.data, dict) else {}
        res: Response[Any] = app.response_class(app)
        try:
            await res.html(exc.template, context)
        except Exception as render_error:  # noqa: BLE001 - a missing or broken error page is a server error
            return self.unhandled(req, render_error)
        res.status_code = exc.status_code
        return res
