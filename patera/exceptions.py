"""Exception types raised by patera and by user code.

Pure modules (router, body parsers) raise these and never build responses;
``_errors.py`` is the single place that turns them into HTTP answers.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "PateraError",
    "MissingDependency",
    "BaseHttpException",
    "CustomException",
    "AborterException",
    "HtmlAborterException",
    "StaticAssetNotFound",
    "NotFound",
    "MethodNotAllowed",
    "BadRequest",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "MissingRequestData",
    "SchemaValidationError",
    "PydanticSchemaValidationError",
    "AuthenticationException",
    "UnauthorizedException",
    "AuthorizationException",
    "InvalidJWTError",
    "MethodNotControllerMethod",
    "UnexpectedDecorator",
    "MissingDecoratorError",
    "DuplicateRoutePath",
    "DuplicateExceptionHandler",
    "MissingExtension",
    "InvalidRouteHandler",
    "InvalidWebsocketHandler",
    "MissingAppConfigurations",
    "MissingImportModule",
    "WrongModuleLoadType",
    "ClientDisconnected",
    "WebSocketDisconnect",
    "ImproperlyConfigured",
    "ExceptionHandler",
    "handles",
    "abort",
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


class MethodNotAllowed(NotFound):
    """The path exists under other methods. Subclasses NotFound for README-style handlers."""

    default_status_code = 405
    default_message = "Method not allowed"

    def __init__(self, valid_methods: Any = (), message: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.valid_methods = sorted(set(valid_methods))


class StaticAssetNotFound(NotFound):
    default_message = "Static asset not found"


class BadRequest(BaseHttpException):
    default_status_code = 400
    default_message = "Bad request"


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


def abort(msg: str, status_code: int = 400, status: str = "error", data: Any = None) -> None:
    """Stop the request with an HTTP error carrying ``msg``."""
    raise AborterException(msg, int(status_code), status, data)


def html_abort(template: str, status_code: int = 400, data: Any = None) -> None:
    """Stop the request and answer with a rendered template."""
    raise HtmlAborterException(template, int(status_code), data)


from ._exception_handler import ExceptionHandler, handles  # noqa: E402  (re-export)
