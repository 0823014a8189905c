"""The one place where exceptions become responses.

Handlers registered with ``@handles`` are looked up along ``type(exc).__mro__`` (most
specific first); the defaults of SPEC §8.2 apply when none matches.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loguru import logger
from pydantic import TypeAdapter, ValidationError

from ._dispatch import call_maybe_sync, response_adapter
from .exceptions import BaseHttpException, ClientDisconnected, HtmlAborterException, MethodNotAllowed
from .response import Response, ResponseValidationError

if TYPE_CHECKING:
    from .request import Request

__all__ = ("ErrorRenderer", "allow_header")


def allow_header(methods: Any) -> str:
    """``Allow`` value: sorted, with OPTIONS (answered automatically)."""
    return ", ".join(sorted({*methods, "OPTIONS"}))


class ErrorRenderer:
    """Maps exceptions to responses for one app."""

    __slots__ = ("app", "_handlers", "_cache")

    def __init__(self, app: Any) -> None:
        self.app = app
        self._handlers: dict[type[BaseException], tuple[Callable[..., Any], TypeAdapter[Any] | None, str]] = {}
        self._cache: dict[type[BaseException], Any] = {}

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

    def find(self, exc: BaseException) -> tuple[Callable[..., Any], TypeAdapter[Any] | None, str] | None:
        exc_type = type(exc)
        try:
            return self._cache[exc_type]  # type: ignore[no-any-return]
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
        """A response for ``exc``; re-raises unhandled errors in DEBUG (SPEC §8.2)."""
        if isinstance(exc, ClientDisconnected):
            raise exc  # nobody is listening: the ASGI layer drops the request quietly
        if isinstance(exc, HtmlAborterException):
            return await self._render_html_abort(req, exc)
        entry = None if isinstance(exc, ResponseValidationError) else self.find(exc)
        if entry is not None:
            method, adapter, name = entry
            try:
                res = await method(req, exc)
            except Exception as inner:
                logger.error("exception handler {} raised {!r}", name, inner)
                return self.unhandled(req, inner)
            if not isinstance(res, Response):
                return self.unhandled(req, TypeError(f"exception handler {name} must return a Response"))
            if adapter is not None:
                res._body_type = adapter
            return res
        return self.default(req, exc)

    def default(self, req: Request, exc: Exception) -> Response[Any]:
        app = self.app
        if isinstance(exc, BaseHttpException):
            res = app.response_class(app).json(exc.to_dict())
            res.status_code = exc.status_code
            if isinstance(exc, MethodNotAllowed):
                res.headers["allow"] = allow_header(exc.valid_methods)
            return res
        if isinstance(exc, ValidationError) and exc is req._body_error:
            errors = [
                {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_input=False, include_context=False)
            ]
            res = app.response_class(app).json({"status": "error", "message": "Validation failed", "data": errors})
            res.status_code = 422
            return res
        return self.unhandled(req, exc)

    def unhandled(self, req: Request, exc: BaseException) -> Response[Any]:
        """Generic 500 in production; in DEBUG the error is logged and re-raised."""
        app = self.app
        if getattr(exc, "__patera_logged__", False):
            raise exc
        details = "".join(traceback.format_exception(exc))
        try:
            exc.__patera_logged__ = True  # type: ignore[attr-defined]
        except AttributeError:
            pass
        if app.debug:
            logger.error("Unhandled exception in {} {}:\n{}", req.method, req.path, details)
            raise exc
        logger.critical(
            "Unhandled exception in {} {} (route parameters {!r}):\n{}",
            req.method, req.path, req.route_parameters, details,
        )
        res = app.response_class(app).json({"status": "error", "message": "Internal server error"})
        res.status_code = 500
        return res

    async def _render_html_abort(self, req: Request, exc: HtmlAborterException) -> Response[Any]:
        app = self.app
        context = exc.data if isinstance(exc.data, dict) else {}
        res = app.response_class(app)
        try:
            await res.html(exc.template, context)
        except Exception as render_error:  # a missing or broken error page is a server error
            return self.unhandled(req, render_error)
        res.status_code = exc.status_code
        return res
