"""Exception types raised by patera and by user code.

Pure modules (router, body parsers, the CORS layer, static files) raise these and
never build error responses; the error boundary (``_error_boundary.py``) is the single
place that turns them into HTTP answers, so ``@handles(ThatType)`` can replace any of
them. ``ExceptionHandler`` and ``@handles`` live here too: they are public API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from .app import Patera

__all__ = (
    "AborterException",
    "AuthenticationException",
    "AuthorizationException",
    "BadRequest",
    "BaseHttpException",
    "ClientDisconnected",
    "CorsOriginRefused",
    "CustomException",
    "DuplicateExceptionHandler",
    "DuplicateHeader",
    "DuplicateRoutePath",
    "ExceptionHandler",
    "HtmlAborterException",
    "ImproperlyConfigured",
    "InvalidJWTError",
    "InvalidRouteHandler",
    "InvalidWebsocketHandler",
    "MethodNotAllowed",
    "MethodNotControllerMethod",
    "MissingAppConfigurations",
    "MissingDecoratorError",
    "MissingDependency",
    "MissingExtension",
    "MissingImportModule",
    "MissingRequestData",
    "NotFound",
    "PateraError",
    "PreflightMethodRefused",
    "PydanticSchemaValidationError",
    "RangeNotSatisfiable",
    "RequestEntityTooLarge",
    "SchemaValidationError",
    "StaticAssetNotFound",
    "UnauthorizedException",
    "UnexpectedDecorator",
    "UnsupportedMediaType",
    "WebSocketDisconnect",
    "WrongModuleLoadType",
    "abort",
    "handles",
    "html_abort",
)


class PateraError(Exception):
    """Base class of the framework's own non-HTTP errors."""


class MissingDependency(PateraError, ImportError):
    """An optional package is missing; the message names the extra to install."""

    def __init__(self, package: str, *, extra: str, feature: str | None = None) -> None:
        what = feature or "this feature"
        super().__init__(f"{package} is required for {what}: pip install \"patera[{extra}]\"")
        self.package = package
        self.extra = extra


class ImproperlyConfigured(PateraError, ValueError):
    """A configuration or registration mistake, raised at startup, never per request."""


# --------------------------------------------------------------------------- HTTP errors


class BaseHttpException(Exception):
    """An error that carries its own HTTP status and JSON body."""

    default_status_code: int = 500
    default_message: str = ""

    def __init__(
        self,
        message: str = "",
        status_code: int | None = None,
        status: str = "error",
        data: Any = None,
    ) -> None:
        self.message = message or self.default_message
        self.status_code = int(status_code if status_code is not None else self.default_status_code)
        self.status = status
        self.data = data
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body

    def response_headers(self) -> dict[str, str]:
        """Headers the default rendering adds (``Allow`` of a 405, ``Content-Range`` of a 416…)."""
        return {}


class CustomException(Exception):
    """Base for application errors without HTTP semantics."""


class AborterException(BaseHttpException):
    default_status_code = 400


class HtmlAborterException(BaseHttpException):
    """Raised by :func:`html_abort`; always rendered as a template, bypassing handlers."""

    def __init__(self, template: str, status_code: int = 400, data: Any = None) -> None:
        super().__init__(template, status_code, "error", data)
        self.template = template


class NotFound(BaseHttpException):
    default_status_code = 404
    default_message = "Endpoint not found"


def allow_header(methods: Any) -> str:
    """``Allow`` value: sorted, with OPTIONS (answered automatically)."""
    return ", ".join(sorted({*methods, "OPTIONS"}))


class MethodNotAllowed(NotFound):
    """The path exists under other methods. Subclasses NotFound for README-style handlers."""

    default_status_code = 405
    default_message = "Method not allowed"

    def __init__(self, valid_methods: Any = (), message: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.valid_methods = sorted(set(valid_methods))

    def response_headers(self) -> dict[str, str]:
        return {"allow": allow_header(self.valid_methods)}


class StaticAssetNotFound(NotFound):
    default_message = "Static asset not found"


class BadRequest(BaseHttpException):
    default_status_code = 400
    default_message = "Bad request"


class DuplicateHeader(BadRequest):
    """A header that must appear once (Host, Content-Length, Content-Type, Origin) came twice.

    First-wins would let the framework (CORS, body framing) and a handler reading the
    joined ``req.headers[...]`` disagree about the value, so the request is refused.
    """

    def __init__(self, header: str = "", message: str = "") -> None:
        super().__init__(message or f"Duplicate {header} header")
        self.header = header


class CorsOriginRefused(BaseHttpException):
    """The request's ``Origin`` is not allowed by the CORS policy that applies (SPEC §7)."""

    default_status_code = 403
    default_message = "CORS origin not allowed"

    def response_headers(self) -> dict[str, str]:
        return {"vary": "Origin"}  # the answer depends on Origin: caches must not share it


class PreflightMethodRefused(BaseHttpException):
    """A CORS preflight asked for a method the policy does not allow (SPEC §7)."""

    default_status_code = 405
    default_message = "Preflight method not allowed"

    def response_headers(self) -> dict[str, str]:
        return {"vary": "Origin"}


class RangeNotSatisfiable(BaseHttpException):
    """A static file's ``Range`` lies outside the file; ``size`` fills ``Content-Range``."""

    default_status_code = 416
    default_message = "Requested range not satisfiable"

    def __init__(self, size: int = 0, message: str = "") -> None:
        super().__init__(message)
        self.size = size

    def response_headers(self) -> dict[str, str]:
        return {"content-range": f"bytes */{self.size}", "accept-ranges": "bytes"}


class RequestEntityTooLarge(BaseHttpException):
    default_status_code = 413
    default_message = "Request body too large"


class UnsupportedMediaType(BaseHttpException):
    default_status_code = 415
    default_message = "Unsupported Media Type"

    def __init__(self, expected: str = "", received: str | None = None, message: str = "") -> None:
        super().__init__(message)
        self.expected = expected
        self.received = received

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "detail": "Unsupported Media Type",
            "expected": self.expected,
            "received": self.received,
        }


class MissingRequestData(BaseHttpException):
    default_status_code = 400
    default_message = "Missing request data"


class SchemaValidationError(BaseHttpException):
    default_status_code = 422
    default_message = "Validation failed"


class PydanticSchemaValidationError(SchemaValidationError):
    def __init__(self, errors: Any = None, message: str = "") -> None:
        data: dict[str, list[str]] = {}
        for err in errors or ():
            field = ".".join(str(p) for p in err.get("loc", ())) or "__root__"
            data.setdefault(field, []).append(str(err.get("msg", "")))
        super().__init__(message, data=data)
        self.errors = errors


class AuthenticationException(BaseHttpException):
    default_status_code = 401
    default_message = "Login required"


class UnauthorizedException(BaseHttpException):
    default_status_code = 403
    default_message = "Missing user role(s)"

    def __init__(self, message: str = "", roles: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.roles = list(roles or ())


AuthorizationException = UnauthorizedException


class InvalidJWTError(BaseHttpException):
    default_status_code = 401
    default_message = "Invalid token"


class ClientDisconnected(PateraError):
    """The client went away while the request body was being read."""


class WebSocketDisconnect(PateraError):
    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(f"websocket closed with code {code}")
        self.code = code
        self.reason = reason


# --------------------------------------------------------------------------- configuration errors


class MethodNotControllerMethod(PateraError):
    pass


class UnexpectedDecorator(PateraError):
    pass


class MissingDecoratorError(PateraError):
    pass


class DuplicateRoutePath(ImproperlyConfigured):
    pass


class DuplicateExceptionHandler(ImproperlyConfigured):
    pass


class MissingExtension(PateraError):
    pass


class InvalidRouteHandler(ImproperlyConfigured):
    pass


class InvalidWebsocketHandler(ImproperlyConfigured):
    pass


class MissingAppConfigurations(ImproperlyConfigured):
    pass


class MissingImportModule(ImproperlyConfigured):
    pass


class WrongModuleLoadType(ImproperlyConfigured):
    pass


# --------------------------------------------------------------------------- helpers


def abort(msg: str, status_code: int = 400, status: str = "error", data: Any = None) -> NoReturn:
    """Stop the request with an HTTP error carrying ``msg``."""
    raise AborterException(msg, int(status_code), status, data)


def html_abort(template: str, status_code: int = 400, data: Any = None) -> NoReturn:
    """Stop the request and answer with a rendered template."""
    raise HtmlAborterException(template, int(status_code), data)



# --------------------------------------------------------------------------- exception handlers

F = TypeVar("F", bound=Callable[..., Any])
_HANDLES_ATTR = "__patera_handles__"


def handles(*exception_types: type[BaseException]) -> Callable[[F], F]:
    """Mark an ``ExceptionHandler`` method as the handler of ``exception_types``."""
    if not exception_types:
        raise TypeError("@handles needs at least one exception type")
    for exc_type in exception_types:
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(f"@handles expects exception classes, got {exc_type!r}")

    def mark(fn: F) -> F:
        previous: tuple[type[BaseException], ...] = getattr(fn, _HANDLES_ATTR, ())
        setattr(fn, _HANDLES_ATTR, previous + exception_types)
        return fn

    return mark


class ExceptionHandler:
    """Groups ``@handles`` methods; instantiated once by the app with ``(app)``."""

    def __init__(self, app: Patera) -> None:
        self._app = app

    @property
    def app(self) -> Patera:
        return self._app

    def get_exception_mapping(self) -> dict[type[BaseException], Callable[..., Any]]:
        """Exception type → bound handler method, walking the class hierarchy once."""
        mapping: dict[type[BaseException], Callable[..., Any]] = {}
        seen: set[str] = set()
        for klass in type(self).__mro__:
            for name, member in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                for exc_type in getattr(member, _HANDLES_ATTR, ()):
                    mapping[exc_type] = getattr(self, name)
        return mapping
