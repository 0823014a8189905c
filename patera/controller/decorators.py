"""Controller and endpoint decorators.

They only record metadata (an :class:`EndpointSpec` on the function, attributes on the
class); registration turns it into a ready endpoint once, so nothing wraps the
handler on the request path.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from ..exceptions import InvalidWebsocketHandler, MethodNotControllerMethod, UnexpectedDecorator
from ..http_statuses import HttpStatus
from ..media_types import MediaType

__all__ = (
    "BODY_MEDIA_TYPES",
    "Descriptor",
    "EndpointSpec",
    "after_request",
    "before_request",
    "consumes",
    "cors",
    "delete",
    "development",
    "endpoint_spec",
    "get",
    "limits",
    "no_cors",
    "open_api_docs",
    "patch",
    "path",
    "post",
    "produces",
    "put",
    "socket",
)

F = TypeVar("F", bound=Callable[..., Any])
SPEC_ATTR = "__patera_endpoint__"
HOOK_ATTR = "__patera_hook__"

BODY_MEDIA_TYPES = frozenset(
    {
        MediaType.APPLICATION_JSON,
        MediaType.APPLICATION_PROBLEM_JSON,
        MediaType.APPLICATION_X_WWW_FORM_URLENCODED,
        MediaType.MULTIPART_FORM_DATA,
    }
)


@dataclass
class EndpointSpec:
    """Everything the decorators said about one handler."""

    func: Callable[..., Any]
    method: str | None = None
    url_path: str | None = None
    open_api_spec: bool = True
    tags: list[str] = field(default_factory=list)
    consumes: MediaType | None = None
    produces: MediaType | None = None
    produces_status: int | None = None
    descriptors: list[Descriptor] = field(default_factory=list)
    development: bool = False
    cors: dict[str, Any] | None = None
    no_cors: bool = False
    limits: dict[str, Any] | None = None
    guards: list[Any] = field(default_factory=list)


def endpoint_spec(fn: Callable[..., Any]) -> EndpointSpec:
    """The spec attached to ``fn``, created on first use (shared through ``functools.wraps``)."""
    spec: EndpointSpec | None = getattr(fn, SPEC_ATTR, None)
    if spec is None:
        spec = EndpointSpec(func=fn)
        setattr(fn, SPEC_ATTR, spec)
    return spec


class Descriptor:
    """An extra documented response of an endpoint (OpenAPI only)."""

    __slots__ = ("_body", "_description", "_media_type", "_status")

    def __init__(
        self,
        status: int = HttpStatus.BAD_REQUEST,
        description: str | None = None,
        media_type: MediaType = MediaType.APPLICATION_JSON,
        body: type[BaseModel] | None = None,
    ) -> None:
        self._status = int(status)
        self._description = description
        self._media_type = media_type
        self._body = body

    @property
    def status(self) -> int:
        return self._status

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def media_type(self) -> MediaType:
        return self._media_type

    @property
    def body(self) -> type[BaseModel] | None:
        return self._body


# ---------------------------------------------------------------------- class decorators


def path(url_path: str = "/", open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[type], type]:
    """Give a controller its URL prefix, OpenAPI visibility and tags."""

    def mark(cls: type) -> type:
        cls.__patera_path__ = (url_path, open_api_spec, list(tags or []))  # type: ignore[attr-defined]
        return cls

    return mark


def development(target: F) -> F:
    """Register the controller or endpoint only when ``DEBUG`` is on."""
    if isinstance(target, type):
        target.__patera_development__ = True  # type: ignore[attr-defined]
    else:
        endpoint_spec(target).development = True
    return target


# ---------------------------------------------------------------------- HTTP method decorators


def _route(method: str, url_path: str, open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[F], F]:
    if not isinstance(url_path, str):
        raise TypeError(f"@{method.lower()}() expects a URL path string, got {url_path!r}")

    def mark(fn: F) -> F:
        spec = endpoint_spec(fn)
        if spec.method is not None:
            raise UnexpectedDecorator(f"{fn.__qualname__} already has @{spec.method.lower()}")
        if method in ("GET", "SOCKET") and spec.consumes is not None:
            raise UnexpectedDecorator(f"@consumes cannot be used with @{method.lower()} ({fn.__qualname__})")
        spec.func = fn  # the outermost wrapper below the method decorator is what runs
        spec.method = method
        spec.url_path = url_path
        spec.open_api_spec = open_api_spec
        spec.tags = list(tags or [])
        return _guard_outside_controller(fn)

    return mark


def _guard_outside_controller(fn: F) -> F:
    """Calling a handler directly with something that is not a controller is a usage error.

    The dispatcher calls ``spec.func`` itself, so this wrapper costs nothing per request.
    """
    from .controller import Controller

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not args or not isinstance(args[0], Controller):
            raise MethodNotControllerMethod(f"{fn.__qualname__} can only be called on a Controller instance")
        return fn(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def get(url_path: str, open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[F], F]:
    return _route("GET", url_path, open_api_spec, tags)


def post(url_path: str, open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[F], F]:
    return _route("POST", url_path, open_api_spec, tags)


def put(url_path: str, open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[F], F]:
    return _route("PUT", url_path, open_api_spec, tags)


def patch(url_path: str, open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[F], F]:
    return _route("PATCH", url_path, open_api_spec, tags)


def delete(url_path: str, open_api_spec: bool = True, tags: list[str] | None = None) -> Callable[[F], F]:
    return _route("DELETE", url_path, open_api_spec, tags)


def socket(url_path: str) -> Callable[[F], F]:
    """A WebSocket handler (``async def``); never listed in OpenAPI."""
    register = _route("SOCKET", url_path, open_api_spec=False)

    def mark(fn: F) -> F:
        if not inspect.iscoroutinefunction(inspect.unwrap(fn)):
            raise InvalidWebsocketHandler(f"@socket handler {fn.__qualname__} must be an async def")
        return register(fn)

    return mark


# ---------------------------------------------------------------------- modifiers


def _annotations_mention_model(fn: Callable[..., Any]) -> bool:
    try:
        hints = inspect.get_annotations(fn, eval_str=True)
    except Exception:  # noqa: BLE001 - unresolved forward references: decided at registration instead
        return False
    return any(isinstance(h, type) and issubclass(h, BaseModel) for k, h in hints.items() if k != "return")


def consumes(media_type: MediaType) -> Callable[[F], F]:
    """Read the body as ``media_type`` and inject it into the handler's pydantic parameter."""
    media_type = MediaType(media_type)

    def mark(fn: F) -> F:
        spec = endpoint_spec(fn)
        if spec.method in ("GET", "SOCKET"):
            raise UnexpectedDecorator(f"@consumes cannot be used with @{spec.method.lower()} ({fn.__qualname__})")
        if media_type not in BODY_MEDIA_TYPES and _annotations_mention_model(fn):
            raise UnexpectedDecorator(
                f"@consumes({media_type.value!r}) cannot inject a model into {fn.__qualname__}; read req.body() instead"
            )
        spec.consumes = media_type
        return fn

    return mark


def produces(media_type: MediaType, status_code: int = HttpStatus.OK) -> Callable[[F], F]:
    """Set the response Content-Type (and a default status) after the handler returns."""

    def mark(fn: F) -> F:
        spec = endpoint_spec(fn)
        spec.produces = MediaType(media_type)
        spec.produces_status = int(status_code)
        return fn

    return mark


def open_api_docs(*descriptors: Descriptor) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        endpoint_spec(fn).descriptors.extend(descriptors)
        return fn

    return mark


def cors(
    *,
    allow_origins: list[str] | None = None,
    allow_methods: list[str] | None = None,
    allow_headers: list[str] | None = None,
    expose_headers: list[str] | None = None,
    allow_credentials: bool | None = None,
    max_age: int | None = None,
) -> Callable[[F], F]:
    """Endpoint-specific CORS options over the global ones (enabled even if CORS is off globally)."""
    options = {
        "allow_origins": allow_origins,
        "allow_methods": allow_methods,
        "allow_headers": allow_headers,
        "expose_headers": expose_headers,
        "allow_credentials": allow_credentials,
        "max_age": max_age,
    }

    def mark(fn: F) -> F:
        endpoint_spec(fn).cors = {k: v for k, v in options.items() if v is not None}
        return fn

    return mark


def no_cors(fn: F) -> F:
    """Disable CORS handling for this endpoint."""
    endpoint_spec(fn).no_cors = True
    return fn


def limits(
    *,
    max_content_length: int | None = None,
    max_form_memory_size: int | None = None,
    max_form_fields: int | None = None,
    max_form_files: int | None = None,
    max_part_header_size: int | None = None,
    form_spool_max_size: int | None = None,
) -> Callable[[F], F]:
    """Override the app-wide body limits for one endpoint (``None`` keeps the app value)."""
    values = {
        "max_content_length": max_content_length,
        "max_form_memory_size": max_form_memory_size,
        "max_form_fields": max_form_fields,
        "max_form_files": max_form_files,
        "max_part_header_size": max_part_header_size,
        "form_spool_max_size": form_spool_max_size,
    }
    for key, value in values.items():
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ValueError(f"@limits({key}=...) must be a non-negative int, got {value!r}")

    def mark(fn: F) -> F:
        endpoint_spec(fn).limits = {k: v for k, v in values.items() if v is not None}
        return fn

    return mark


def before_request(fn: F) -> F:
    """Run before every endpoint of the controller; may return a Response to short-circuit."""
    setattr(fn, HOOK_ATTR, "before")
    return fn


def after_request(fn: F) -> F:
    """Run after every endpoint of the controller that produced a Response."""
    setattr(fn, HOOK_ATTR, "after")
    return fn
