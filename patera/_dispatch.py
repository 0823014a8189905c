"""Endpoints: everything about a handler decided once at registration, run per request.

``Endpoint.__init__`` inspects the handler (parameters, body model, return type,
sync/async, hooks); ``Endpoint.__call__`` only does what the request needs.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import typing
from collections.abc import Callable
from typing import Any, NoReturn

from loguru import logger
from pydantic import BaseModel, TypeAdapter, ValidationError

from ._limits import BodyLimits
from .controller.decorators import EndpointSpec
from .exceptions import BadRequest, InvalidRouteHandler, UnexpectedDecorator, UnsupportedMediaType
from .media_types import MediaType
from .request import PLAIN_JSON_START, parse_json_body
from .response import Response

__all__ = ("Endpoint", "call_maybe_sync", "ensure_response", "response_adapter", "settle", "unwrap_model")

_CONTENT_TYPE = b"content-type"
_JSON_CONSUMERS = (MediaType.APPLICATION_JSON, MediaType.APPLICATION_PROBLEM_JSON)
_FORM_CONSUMERS = (MediaType.APPLICATION_X_WWW_FORM_URLENCODED, MediaType.MULTIPART_FORM_DATA)
# Content-Type as received -> a JSON type? (Form types carry a per-request boundary: not cached.)
_JSON_ACCEPTS: dict[str, bool] = {}
_LIST_ORIGINS = (list, set, frozenset, tuple, typing.Sequence, typing.MutableSequence, typing.AbstractSet)


def resolved_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """Annotations with strings evaluated in the handler's own module; raw ones on failure."""
    target = inspect.unwrap(func)
    try:
        return inspect.get_annotations(target, eval_str=True)
    except Exception:  # noqa: BLE001 - any failure of a user's annotation: try the next way
        try:
            return typing.get_type_hints(target, include_extras=True)
        except Exception:  # noqa: BLE001 - the raw annotations are the last resort
            return dict(getattr(target, "__annotations__", {}))


def unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class behind ``Model``, ``Annotated[Model, …]`` or ``Model | None``."""
    if isinstance(annotation, type):
        return annotation if issubclass(annotation, BaseModel) else None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return unwrap_model(typing.get_args(annotation)[0])
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        for arg in typing.get_args(annotation):
            if arg is not type(None) and (model := unwrap_model(arg)) is not None:
                return model
    return None


def response_adapter(func: Callable[..., Any]) -> TypeAdapter[Any] | None:
    """A TypeAdapter for ``T`` when the return annotation is ``Response[T]``."""
    annotation = resolved_hints(func).get("return")
    if annotation is None or isinstance(annotation, str):
        return None
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, Response):
        args = typing.get_args(annotation)
        if args and args[0] is not Any:
            return TypeAdapter(args[0])
    return None


def call_maybe_sync(func: Callable[..., Any]) -> Callable[..., Any]:
    """An async callable for ``func``; plain functions run in the default thread pool."""
    if inspect.iscoroutinefunction(inspect.unwrap(func)) or inspect.iscoroutinefunction(func):
        return func

    async def in_thread(*args: Any, **kwargs: Any) -> Any:
        result = await asyncio.to_thread(func, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return functools.update_wrapper(in_thread, func)


def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """Model fields typed as sequences: a single form value must be wrapped in a list."""
    names = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            origin = typing.get_origin(args[0]) if len(args) == 1 else None
        if origin in _LIST_ORIGINS or annotation in _LIST_ORIGINS:
            names.add(info.alias or name)
    return frozenset(names)


def ensure_response(req: Any, res: Any) -> Response[Any]:
    """``res`` if it is a Response; else the ``TypeError`` of SPEC §3.3 naming the endpoint."""
    if isinstance(res, Response):
        return res
    endpoint = req.endpoint
    name = endpoint.name if endpoint is not None else "endpoint"
    raise TypeError(f"{name} must return a Response, got {type(res).__name__}")


def settle(req: Any, res: Any) -> Response[Any]:
    """A plain endpoint's result as the endpoint wrapper would return it.

    :func:`ensure_response`, then the endpoint's precomputed post-step (``Endpoint.post``:
    @produces, ``Response[T]``). Only the layer that awaits the routing outcome itself calls
    this (ARCHITECTURE.md): anything further out may hold another layer's response.
    """
    checked = res if isinstance(res, Response) else ensure_response(req, res)
    endpoint = req.endpoint
    if endpoint is not None and endpoint.post is not None:
        endpoint.post(checked)
    return checked


class Endpoint:
    """A registered handler, ready to run."""

    __slots__ = (
        "adapter",
        "after",
        "before",
        "body_model",
        "body_param",
        "call",
        "consumes",
        "controller",
        "cors_policy",
        "func",
        "guards",
        "handler",
        "json_body",
        "limits",
        "list_fields",
        "method",
        "name",
        "plain",
        "post",
        "produces_base",
        "produces_pair",
        "produces_status",
        "produces_type",
        "rule",
        "spec",
    )

    def __init__(
        self,
        *,
        name: str,
        controller: Any,
        spec: EndpointSpec,
        rule: str,
        variables: list[str],
        limits: BodyLimits,
        guards: list[Callable[..., Any]] = (),  # type: ignore[assignment]
    ) -> None:
        self.name = name
        self.controller = controller
        self.spec = spec
        self.rule = rule
        self.method = spec.method
        self.func = spec.func
        self.handler = spec.func.__get__(controller, type(controller))  # the bound method
        self.limits = limits.override(**spec.limits) if spec.limits else limits
        self.cors_policy: Any = None
        self.guards = list(guards) + list(spec.guards)

        signature = inspect.signature(self.func)
        params = list(signature.parameters.values())
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
        names = {p.name for p in params}
        for var in variables:
            if var not in names and not takes_kwargs:
                raise InvalidRouteHandler(
                    f"{name}: route variable {var!r} of {rule!r} is not a parameter of the handler"
                )

        hints = resolved_hints(self.func)
        self.body_param: str | None = None
        self.body_model: type[BaseModel] | None = None
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for param in positional[2:] + [p for p in params if p.kind is p.KEYWORD_ONLY]:
            model = unwrap_model(hints.get(param.name, param.annotation))
            if model is not None:
                self.body_param, self.body_model = param.name, model
                break
        self.consumes = spec.consumes
        #: the body (when consumed) is JSON, not a form
        self.json_body = self.consumes in _JSON_CONSUMERS
        consumes = self.consumes
        if self.body_model is not None and consumes is not None and consumes not in _JSON_CONSUMERS + _FORM_CONSUMERS:
            model_name = self.body_model.__name__
            raise UnexpectedDecorator(f"{name}: @consumes({consumes.value!r}) cannot inject {model_name}")
        if self.consumes is None:
            self.body_param = self.body_model = None
        # Only form bodies need it: a name sent once must still fill a list field.
        model = self.body_model
        is_form = model is not None and self.consumes in _FORM_CONSUMERS
        self.list_fields = _list_fields(model) if model is not None and is_form else frozenset()

        produces = spec.produces
        self.produces_type: str | None = None
        self.produces_base: str | None = None
        #: the Content-Type line @produces writes, as sent: a response whose only header is
        #: exactly this one (what text()/json() wrote) needs no rewrite
        self.produces_pair: tuple[bytes, bytes] | None = None
        if produces is not None and produces is not MediaType.NO_CONTENT:
            self.produces_base = produces.value
            self.produces_type = produces.value + ("; charset=utf-8" if produces.value.startswith("text/") else "")
            self.produces_pair = (_CONTENT_TYPE, self.produces_type.encode("latin-1"))
        self.produces_status = spec.produces_status if produces is not None else None
        self.adapter = response_adapter(self.func)

        cls = type(controller)
        self.before = [call_maybe_sync(h.__get__(controller, cls)) for h in cls.hooks("before")]
        self.after = [call_maybe_sync(h.__get__(controller, cls)) for h in cls.hooks("after")]
        #: the handler as a coroutine function (sync ones run in the thread pool)
        self.call = call_maybe_sync(self.handler)
        #: No guards, hooks, body injection or response rewriting: ``call(req, **route_values)``
        #: is all there is to do. The routing outcome then hands on the handler's own awaitable
        #: (no wrapper coroutine), whose result is unchecked: whoever awaits it passes it
        #: through :func:`ensure_response`.
        #: @produces and ``Response[T]`` do not stop an endpoint being plain: what they do to
        #: the result is decided here and applied by :func:`settle` (``post``), in the layer
        #: that awaits the handler's awaitable anyway, so they cost no wrapper coroutine.
        self.plain = not (self.guards or self.before or self.after or self.consumes)
        self.post: Callable[[Response[Any]], None] | None = (
            self.finish if self.produces_status is not None or self.adapter is not None else None
        )

    def accepts(self, content_type: str | None) -> bool:
        if content_type is None:
            return False
        if not self.json_body:
            return content_type.partition(";")[0].strip().lower() == self.consumes
        known = _JSON_ACCEPTS.get(content_type)
        if known is None:
            base = content_type.partition(";")[0].strip().lower()
            known = base == "application/json" or base.endswith("+json")
            if len(content_type) <= 128 and len(_JSON_ACCEPTS) < 256:
                _JSON_ACCEPTS[content_type] = known  # PERF: clients repeat a few values
        return known

    def _from_json(self, req: Any, body: bytes) -> Any:
        """The body model from a JSON body: 400 when it is not JSON, 422 when it does not fit."""
        if not body or body[0] not in PLAIN_JSON_START or b"NaN" in body or b"Infinity" in body:
            # Empty (validates as {}), BOM, UTF-16/32 or perhaps NaN/Infinity (which pydantic
            # would accept): parse strictly, then validate that value as plain UTF-8 JSON too,
            # so both paths give the same errors.
            body = json.dumps(parse_json_body(body)).encode()  # ASCII: escapes stay escapes
        try:
            # PERF: pydantic parses and validates in one pass, without a dict in between.
            return self.body_model.__pydantic_validator__.validate_json(body)  # type: ignore[union-attr]
        except ValidationError as exc:
            if any(err["type"] == "json_invalid" and not err["loc"] for err in exc.errors()):
                raise BadRequest("Malformed JSON body") from None
            req.body_validation_error = exc  # the boundary renders it as 422 unless a handler catches it
            raise

    async def _from_form(self, req: Any) -> Any:
        data = await (req.form_and_files() if self.consumes is MediaType.MULTIPART_FORM_DATA else req.form())
        # Form values are single strings: wrap those of list fields.
        if self.list_fields and isinstance(data, dict):
            data = {k: ([v] if k in self.list_fields and not isinstance(v, list) else v) for k, v in data.items()}
        try:
            return self.body_model.model_validate(data)  # type: ignore[union-attr]
        except Exception as exc:
            req.body_validation_error = exc  # the boundary renders it as 422 unless a handler catches it
            raise

    async def __call__(self, req: Any) -> Response[Any]:
        for guard in self.guards:
            await guard(req)
        for hook in self.before:
            early = await hook(req)
            if isinstance(early, Response):
                return early
        kwargs = req.route_parameters
        if self.consumes is not None:
            content_type = req.content_type
            if not self.accepts(content_type):
                raise UnsupportedMediaType(self.consumes.value, content_type)
            name = self.body_param
            if name is not None and name not in kwargs:
                if self.json_body:
                    value = self._from_json(req, await req.body())
                else:
                    value = await self._from_form(req)
                kwargs = {**kwargs, name: value}
        res: Response[Any] = await self.call(req, **kwargs)
        if not isinstance(res, Response):
            self.not_a_response(res)
        post = self.post
        if post is not None:
            post(res)
        for hook in self.after:
            await hook(res)
        return res

    def not_a_response(self, value: Any) -> NoReturn:
        raise TypeError(f"{self.name} must return a Response, got {type(value).__name__}")

    def finish(self, res: Response[Any]) -> None:
        """@produces (content type, default status), then the ``Response[T]`` body type."""
        if self.produces_status is not None:
            raw = res.headers.raw
            # PERF: text()/json() already wrote exactly the declared line: nothing to rewrite.
            if len(raw) != 1 or raw[0] != self.produces_pair:
                self._apply_produces(res)
            if not res._status_set:
                res.status_code = self.produces_status
        if self.adapter is not None:
            res.body_type = self.adapter

    def _apply_produces(self, res: Response[Any]) -> None:
        headers = res.headers
        if self.produces_pair is None:  # MediaType.NO_CONTENT
            headers.pop("content-type", None)
            return
        current = headers.get_raw(_CONTENT_TYPE)
        if current is not None:
            text = current.decode("latin-1")
            if text.partition(";")[0].strip().lower() != self.produces_base:
                logger.warning(
                    "{} declares @produces({}) but set Content-Type {!r}", self.name, self.produces_base, text
                )
        # The framework's own value, checked once at registration: no per-request validation.
        headers.set_raw(*self.produces_pair)
