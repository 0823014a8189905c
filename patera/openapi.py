"""OpenAPI 3.1 document and Swagger UI page (SPEC §12).

The document is built once, when the app is built, from the HTTP router's rules;
``specs.json`` then answers the same pre-encoded bytes on every request. Schemas
come from pydantic in one pass, so nested models are hoisted into
``components.schemas`` and same-named models from different modules get
distinct keys.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pydantic_core
from loguru import logger
from pydantic import BaseModel, TypeAdapter

from . import _swagger_assets
from ._dispatch import Endpoint
from ._swagger_assets import ASSET_NAMES
from .controller import Controller, get
from .exceptions import StaticAssetNotFound
from .media_types import MediaType
from .request import Request
from .response import Response
from .static import file_response

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaMode

    from .app import Patera

__all__ = ("OpenAPIController", "generate_spec", "register_openapi")

OPENAPI_VERSION = "3.1.0"
_REF_TEMPLATE = "#/components/schemas/{model}"
_REF_PREFIX = "#/components/schemas/"
_DOCUMENTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PACKAGE = __name__.rpartition(".")[0]
_JSON_CONSUMERS = (MediaType.APPLICATION_JSON, MediaType.APPLICATION_PROBLEM_JSON)
_MODEL_CONSUMERS = (*_JSON_CONSUMERS, MediaType.APPLICATION_X_WWW_FORM_URLENCODED, MediaType.MULTIPART_FORM_DATA)
_UPLOAD_PROPERTIES = frozenset({"filename", "content_type", "size"})
_UNKNOWN_BODY: dict[str, Any] = {"type": "object"}
_DEFAULT_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
# The asset URLs carry the bundle's version, so browsers may keep them for a week.
_ASSET_CACHE_CONTROL = "public, max-age=604800"
_LOADING_TEXT = "This page shows the API documentation with Swagger UI."
_FAILED_TEXT = (
    "Swagger UI could not be loaded, so the interactive documentation is not available here "
    "(its files come from a CDN unless the server has patera[docs] installed)."
)

# Bodies the framework itself answers with (SPEC §3.5, §18); documented once as components.
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["status", "message"],
    "properties": {"status": {"type": "string"}, "message": {"type": "string"}, "data": {}},
}
_VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ValidationError",
    "required": ["status", "message", "data"],
    "properties": {
        "status": {"type": "string", "const": "error"},
        "message": {"type": "string"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
_UNSUPPORTED_MEDIA_TYPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "UnsupportedMediaType",
    "required": ["status", "message", "detail", "expected", "received"],
    "properties": {
        "status": {"type": "string", "const": "error"},
        "message": {"type": "string"},
        "detail": {"type": "string"},
        "expected": {"type": "string"},
        "received": {"type": ["string", "null"]},
    },
}


# ---------------------------------------------------------------------- the controller


class OpenAPIController(Controller):
    """Serves the document and the Swagger UI page; registered per app under ``OPEN_API_URL``."""

    #: Set on the per-app subclass by :func:`register_openapi`: the encoded document.
    spec_body: bytes | None = None
    #: Set likewise: Swagger UI's folder from the ``docs`` extra, or ``None`` (CDN).
    assets_dir: Path | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: dict[str, str] = {}  # Swagger page by ASGI root_path

    @get("/specs.json", open_api_spec=False)
    async def specs(self, req: Request) -> Response[Any]:
        body = self.spec_body
        if body is None:
            raise RuntimeError("the OpenAPI document could not be generated; see the log")
        return req.response.json(body)

    @get("/docs", open_api_spec=False)
    async def docs(self, req: Request) -> Response[Any]:
        # NOTE: (ASGI root_path) behind a mount prefix the browser must ask for prefix + path.
        root = str(req.scope.get("root_path") or "").rstrip("/")
        page = self._pages.get(root)
        if page is None:
            if len(self._pages) >= 8:  # root_path comes from server config; bound it anyway
                self._pages.clear()
            page = self._pages[root] = self._render_page(root)
        return req.response.text(page).set_header("content-type", "text/html; charset=utf-8")

    def _render_page(self, root: str) -> str:
        app = self.app
        folder = self.assets_dir
        if folder is not None:
            # The bundle's folder name carries its version: a new bundle means new URLs.
            version = "?v=" + quote(folder.name, safe="")
            css_url = root + app.url_for("OpenAPIController.assets", filename="swagger-ui.css") + version
            js_url = root + app.url_for("OpenAPIController.assets", filename="swagger-ui-bundle.js") + version
        else:
            cdn = str(app.get_conf("OPEN_API_SWAGGER_CDN") or _DEFAULT_CDN).rstrip("/")
            css_url, js_url = f"{cdn}/swagger-ui.css", f"{cdn}/swagger-ui-bundle.js"
        return swagger_page(
            title=str(app.get_conf("APP_NAME", "API")),
            specs_url=root + app.url_for("OpenAPIController.specs"),
            css_url=css_url,
            js_url=js_url,
        )

    @get("/assets/<path:filename>", open_api_spec=False)
    async def assets(self, req: Request, filename: str) -> Response[Any]:
        """One Swagger UI file from the ``docs`` extra, streamed with validators; else 404."""
        folder = self.assets_dir
        if folder is None or filename not in ASSET_NAMES:
            raise StaticAssetNotFound()
        target = str(folder / filename)
        try:
            info = await asyncio.get_running_loop().run_in_executor(None, os.stat, target)
        except OSError:
            raise StaticAssetNotFound() from None
        res = file_response(req, target, info, filename)
        res.headers["cache-control"] = _ASSET_CACHE_CONTROL
        return res


def swagger_page(*, title: str, specs_url: str, css_url: str, js_url: str) -> str:
    """The Swagger UI HTML shell; no template engine needed.

    The page is never blank: a plain-text note with a link to the document is shown until
    Swagger UI has rendered, and says so when Swagger UI's script could not be loaded.
    """
    import html  # PERF: only the docs page needs it; not loaded by import patera

    # NOTE: a JSON string literal is valid JS; escaping "<" keeps "</script>" out of the script block.
    url_literal = json.dumps(specs_url).replace("<", "\\u003c")
    specs_href = html.escape(specs_url, quote=True)
    css_href = html.escape(css_url, quote=True)
    js_src = html.escape(js_url, quote=True)
    crossorigin = "" if js_url.startswith("/") else ' crossorigin="anonymous"'
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} - API docs</title>\n"
        f'<link rel="stylesheet" href="{css_href}">\n'
        "</head>\n<body>\n"
        '<div id="docs-fallback" style="font: 16px/1.5 sans-serif; margin: 2em">\n'
        f'<p id="docs-fallback-text">{_LOADING_TEXT}</p>\n'
        f'<p>The OpenAPI document is at <a href="{specs_href}">{specs_href}</a>.</p>\n'
        "</div>\n"
        '<div id="swagger-ui"></div>\n'
        "<script>\n"
        "function pateraDocsFailed() {\n"
        '  document.getElementById("docs-fallback-text").textContent = '
        f"{json.dumps(_FAILED_TEXT)};\n"
        '  document.getElementById("docs-fallback").hidden = false;\n'
        "}\n"
        "</script>\n"
        f'<script src="{js_src}"{crossorigin} onerror="pateraDocsFailed()"></script>\n'
        "<script>\n"
        'window.addEventListener("load", function () {\n'
        '  if (typeof SwaggerUIBundle !== "function") { pateraDocsFailed(); return; }\n'
        f"  window.ui = SwaggerUIBundle({{url: {url_literal}, dom_id: \"#swagger-ui\", deepLinking: true,\n"
        '    onComplete: function () { document.getElementById("docs-fallback").hidden = true; }});\n'
        "});\n"
        "</script>\n</body>\n</html>\n"
    )


def register_openapi(app: Patera) -> None:
    """Build hook: generate the document once and, in DEBUG, expose it (SPEC §1.8, §12)."""
    if not app.get_conf("OPEN_API", True):
        return
    try:
        spec = generate_spec(app)
    except Exception:  # noqa: BLE001 - a documentation bug must not stop the app from serving
        logger.exception("OpenAPI document generation failed")
        spec = None
    app.json_spec = spec
    if not app.debug:
        return
    url = str(app.get_conf("OPEN_API_URL") or "/openapi")
    # One subclass per app: the URL comes from that app's configuration, the endpoint names stay
    # ``OpenAPIController.specs`` / ``OpenAPIController.docs``.
    per_app = type(
        "OpenAPIController",
        (OpenAPIController,),
        {
            "__patera_path__": (url, False, []),
            "__module__": __name__,
            "spec_body": None if spec is None else pydantic_core.to_json(spec),
            "assets_dir": _swagger_assets.bundled_swagger_ui(),
        },
    )
    app.register_controller(per_app)


# ---------------------------------------------------------------------- document generation


def generate_spec(app: Patera) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``app``'s HTTP routes.

    Raises:
        Exception: only for bugs; a type pydantic cannot describe is logged and documented
            as ``{"type": "object"}`` instead.
    """
    return _SpecBuilder(app).build()


def _documented(endpoint: Endpoint) -> bool:
    ctrl = endpoint.controller
    cls = type(ctrl)
    if isinstance(ctrl, OpenAPIController) or endpoint.method not in _DOCUMENTED_METHODS:
        return False
    if cls.__name__ == "Static" and cls.__module__.startswith(_PACKAGE + "."):
        return False
    return bool(getattr(ctrl, "open_api_spec", True)) and bool(endpoint.spec.open_api_spec)


def _phrase(status: int) -> str:
    import http  # PERF: spec generation only

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Response"


def _has_body(status: int) -> bool:
    return not (100 <= status < 200 or status in (204, 205, 304))


def _openapi_path(rule: str, arguments: Iterable[tuple[str, Any]]) -> str:
    """``/u/<int(min=1):id>/x`` → ``/u/{id}/x`` using the router's own parse of the rule."""
    out, pos = [], 0
    names = [name for name, _ in arguments]
    for name in names:
        start = _find_variable(rule, name, pos)
        if start is None:  # cannot happen for router rules; keep the text rather than guess
            return rule
        begin, end = start
        out.append(rule[pos:begin])
        out.append("{" + name + "}")
        pos = end
    out.append(rule[pos:])
    return "".join(out)


def _find_variable(rule: str, name: str, pos: int) -> tuple[int, int] | None:
    """Span of the ``<…name>`` placeholder at or after ``pos``, quotes in converter args respected."""
    while True:
        begin = rule.find("<", pos)
        if begin < 0:
            return None
        i, quote = begin + 1, ""
        while i < len(rule):
            ch = rule[i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == ">":
                break
            i += 1
        inner = rule[begin + 1 : i]
        if inner.rpartition(":")[2].strip() == name:
            return begin, i + 1
        pos = i + 1


def converter_schema(conv: Any) -> dict[str, Any]:
    """JSON schema of a path variable from its converter (SPEC §12)."""
    kind = getattr(conv, "name", "default")
    if kind == "int":
        schema: dict[str, Any] = {"type": "integer"}
        lo, hi = conv.min, conv.max
        if not conv.signed:
            lo = 0 if lo is None else max(lo, 0)
            digits = conv.fixed_digits
            if digits:  # clients send plain numbers, so only values of that many digits match
                lo = max(lo, 10 ** (digits - 1) if digits > 1 else 0)
                hi = 10**digits - 1 if hi is None else min(hi, 10**digits - 1)
        if lo is not None:
            schema["minimum"] = lo
        if hi is not None:
            schema["maximum"] = hi
        return schema
    if kind == "float":
        schema = {"type": "number"}
        lo, hi = conv.min, conv.max
        if not conv.signed:
            lo = 0 if lo is None else max(lo, 0)
        if lo is not None:
            schema["minimum"] = lo
        if hi is not None:
            schema["maximum"] = hi
        return schema
    if kind == "uuid":
        return {"type": "string", "format": "uuid"}
    if kind == "any":
        return {"type": "string", "enum": list(conv.items)}
    if kind == "path":
        return {"type": "string", "x-greedy-path": True}
    schema = {"type": "string", "pattern": "^[^/]*$"}
    length = getattr(conv, "length", None)
    if length is not None:
        schema["minLength"] = schema["maxLength"] = length
    else:
        minlength = getattr(conv, "minlength", 1)
        maxlength = getattr(conv, "maxlength", None)
        if minlength:
            schema["minLength"] = minlength
        if maxlength is not None:
            schema["maxLength"] = maxlength
    return schema


def _default_schema(media_type: str) -> dict[str, Any]:
    """Schema for a body whose type is not declared."""
    form_types = (MediaType.APPLICATION_X_WWW_FORM_URLENCODED, MediaType.MULTIPART_FORM_DATA)
    if media_type.endswith("json") or media_type in form_types:
        return dict(_UNKNOWN_BODY)
    if media_type.startswith("text/") or media_type in (
        MediaType.APPLICATION_XML,
        MediaType.APPLICATION_YAML,
        MediaType.APPLICATION_CSV,
        MediaType.APPLICATION_GRAPHQL,
    ):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def _is_upload_schema(schema: dict[str, Any]) -> bool:
    props = schema.get("properties")
    return (
        schema.get("title") == "UploadedFile"
        and schema.get("type") == "object"
        and isinstance(props, dict)
        and set(props) == _UPLOAD_PROPERTIES
    )


def _binary_uploads(schema: Any) -> Any:
    """A copy of ``schema`` with every ``UploadedFile`` shown as a binary string (multipart form)."""
    if isinstance(schema, dict):
        if _is_upload_schema(schema):
            return {"type": "string", "format": "binary"}
        return {key: _binary_uploads(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_binary_uploads(item) for item in schema]
    return schema


class _SchemaPool:
    """Collects every type the document mentions and resolves them in one pydantic pass."""

    def __init__(self) -> None:
        self._inputs: list[tuple[int, JsonSchemaMode, TypeAdapter[Any]]] = []
        self._keys: dict[tuple[int, str], int] = {}
        self._keep: list[Any] = []  # holds the ids in _keys stable
        self.resolved: dict[int, dict[str, Any]] = {}
        self.definitions: dict[str, Any] = {}

    def want(self, target: TypeAdapter[Any] | type[BaseModel], mode: JsonSchemaMode) -> int:
        key = (id(target), mode)
        index = self._keys.get(key)
        if index is None:
            adapter = target if isinstance(target, TypeAdapter) else TypeAdapter(target)
            index = len(self._inputs)
            self._inputs.append((index, mode, adapter))
            self._keys[key] = index
            self._keep.append(target)
        return index

    def resolve(self) -> None:
        inputs = self._inputs
        try:
            mapping, defs = TypeAdapter.json_schemas(inputs, ref_template=_REF_TEMPLATE)
        except Exception:  # noqa: BLE001 - any unschemable type: retry one by one below
            inputs = []
            for item in self._inputs:
                try:
                    TypeAdapter.json_schemas([item], ref_template=_REF_TEMPLATE)
                except Exception as exc:  # noqa: BLE001 - a type pydantic cannot describe
                    logger.warning("OpenAPI: no JSON schema for {!r}: {}", getattr(item[2], "_type", item[2]), exc)
                else:
                    inputs.append(item)
            mapping, defs = TypeAdapter.json_schemas(inputs, ref_template=_REF_TEMPLATE)
        self.resolved = {index: schema for (index, _mode), schema in mapping.items()}
        self.definitions = dict(defs.get("$defs", {}))

    def schema(self, index: int) -> dict[str, Any]:
        return self.resolved.get(index, dict(_UNKNOWN_BODY))

    def component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Add a framework schema under a key no user model took; returns its ``$ref``."""
        key = name
        while key in self.definitions and self.definitions[key] is not schema:
            key = "Patera" + key
        self.definitions[key] = schema
        return {"$ref": _REF_PREFIX + key}

    def inline(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The component behind a top-level ``$ref``, copied, so it can be adapted locally."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX) and len(schema) == 1:
            target = self.definitions.get(ref[len(_REF_PREFIX) :])
            if isinstance(target, dict):
                return copy.deepcopy(target)
        return copy.deepcopy(schema)


class _Operation:
    """One documented endpoint between the two passes."""

    __slots__ = ("arguments", "body", "descriptors", "endpoint", "method", "path", "response")

    def __init__(self, path: str, endpoint: Endpoint, arguments: list[tuple[str, Any]]) -> None:
        self.path = path
        self.method = str(endpoint.method).lower()
        self.endpoint = endpoint
        self.arguments = arguments
        self.body: int | None = None
        self.response: int | None = None
        self.descriptors: list[int | None] = []


class _SpecBuilder:
    def __init__(self, app: Patera) -> None:
        self.app = app
        self.pool = _SchemaPool()
        self.tags: list[str] = []
        self._refs: dict[str, dict[str, Any]] = {}

    def build(self) -> dict[str, Any]:
        operations = self._collect()
        self.pool.resolve()
        paths: dict[str, dict[str, Any]] = {}
        seen_ids: set[str] = set()
        for op in operations:
            item = paths.setdefault(op.path, {})
            if op.method in item:  # `/x/<int:id>` and `/x/<id>` template to the same path
                logger.warning(
                    "OpenAPI: {} {} is already documented by {}; {} left out",
                    op.method.upper(), op.path, item[op.method]["operationId"], op.endpoint.name,
                )
                continue
            item[op.method] = self._operation(op, seen_ids)
        doc: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": str(self.app.get_conf("APP_NAME", "")),
                "version": str(self.app.get_conf("VERSION", "")),
                "description": str(self.app.get_conf("OPEN_API_DESCRIPTION", "") or ""),
            },
        }
        if self.tags:
            doc["tags"] = [{"name": tag} for tag in self.tags]
        doc["paths"] = paths
        doc["components"] = {"schemas": self.pool.definitions}
        return doc

    # ------------------------------------------------------------------ pass 1

    def _collect(self) -> list[_Operation]:
        operations: list[_Operation] = []
        for rule in self.app.router.rules:
            endpoint = rule.endpoint
            if not isinstance(endpoint, Endpoint) or not _documented(endpoint):
                continue
            arguments = list(rule.arguments)
            op = _Operation(_openapi_path(rule.rule, arguments), endpoint, arguments)
            if endpoint.consumes is not None and endpoint.body_model is not None:
                op.body = self.pool.want(endpoint.body_model, "validation")
            if endpoint.adapter is not None:
                op.response = self.pool.want(endpoint.adapter, "serialization")
            for descriptor in endpoint.spec.descriptors:
                body = descriptor.body
                op.descriptors.append(None if body is None else self.pool.want(body, "serialization"))
            operations.append(op)
        return operations

    # ------------------------------------------------------------------ pass 2

    def _ref(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if name not in self._refs:
            self._refs[name] = self.pool.component(name, schema)
        return dict(self._refs[name])

    def _operation(self, op: _Operation, seen_ids: set[str]) -> dict[str, Any]:
        endpoint = op.endpoint
        spec = endpoint.spec
        ctrl_name, _, method_name = endpoint.name.partition(".")
        operation_id = f"{ctrl_name}_{method_name}"
        base, n = operation_id, 2
        while operation_id in seen_ids:
            operation_id, n = f"{base}_{n}", n + 1
        seen_ids.add(operation_id)

        out: dict[str, Any] = {}
        tags: list[str] = []
        for tag in [*spec.tags, *getattr(endpoint.controller, "open_api_tags", [])]:
            if tag not in tags:
                tags.append(tag)
            if tag not in self.tags:
                self.tags.append(tag)
        if tags:
            out["tags"] = tags
        doc = inspect.getdoc(spec.func)
        if doc:
            out["summary"] = doc.splitlines()[0].strip()
            out["description"] = doc
        out["operationId"] = operation_id
        if op.arguments:
            out["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": converter_schema(conv)}
                for name, conv in op.arguments
            ]
        responses = _Responses()
        self._main_response(op, responses)
        if op.arguments:
            # NOTE: (SPEC §2.1) a value its converter refuses means no route matched: 404.
            responses.framework(404, "Not Found", self._ref("Error", _ERROR_SCHEMA))
        if endpoint.consumes is not None:
            out["requestBody"] = self._request_body(op, responses)
        for descriptor, index in zip(spec.descriptors, op.descriptors, strict=False):
            body = None if index is None or descriptor.media_type is MediaType.NO_CONTENT else self.pool.schema(index)
            responses.describe(descriptor.status, descriptor.description, descriptor.media_type.value, body)
        out["responses"] = dict(sorted(responses.entries.items()))
        return out

    def _main_response(self, op: _Operation, responses: _Responses) -> None:
        spec = op.endpoint.spec
        status = spec.produces_status if spec.produces is not None and spec.produces_status else 200
        entry: dict[str, Any] = {"description": _phrase(status)}
        if spec.produces is not MediaType.NO_CONTENT and _has_body(status):
            media_type = spec.produces.value if spec.produces is not None else MediaType.APPLICATION_JSON.value
            schema = self.pool.schema(op.response) if op.response is not None else _default_schema(media_type)
            entry["content"] = {media_type: {"schema": schema}}
        responses.entries[str(status)] = entry
        responses.defaults.add(str(status))

    def _request_body(self, op: _Operation, responses: _Responses) -> dict[str, Any]:
        consumes = op.endpoint.consumes
        assert consumes is not None
        media_type = consumes.value
        if op.body is None:
            schema = _default_schema(media_type)
        elif consumes is MediaType.MULTIPART_FORM_DATA:
            # NOTE: (OAS 3.1 §4.8.14.4) file parts are binary strings in a multipart schema.
            schema = _binary_uploads(self.pool.inline(self.pool.schema(op.body)))
        else:
            schema = self.pool.schema(op.body)
        unsupported = self._ref("UnsupportedMediaType", _UNSUPPORTED_MEDIA_TYPE_SCHEMA)
        responses.framework(415, "Unsupported Media Type", unsupported)
        if op.body is not None:
            responses.framework(422, "Validation failed", self._ref("ValidationError", _VALIDATION_ERROR_SCHEMA))
            if consumes in _JSON_CONSUMERS or consumes is MediaType.MULTIPART_FORM_DATA:
                responses.framework(400, "Malformed request body", self._ref("Error", _ERROR_SCHEMA))
        return {"content": {media_type: {"schema": schema}}, "required": op.body is not None}


class _Responses:
    """An operation's responses while they are merged (SPEC §12: same status → merged)."""

    __slots__ = ("defaults", "entries", "generated")

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.defaults: set[str] = set()  # description is only the reason phrase
        self.generated: set[str] = set()  # content describes the framework's own error body

    def framework(self, status: int, description: str, schema: dict[str, Any]) -> None:
        key = str(status)
        if key not in self.entries:
            self.entries[key] = {"description": description, "content": {"application/json": {"schema": schema}}}
            self.defaults.add(key)
            self.generated.add(key)

    def describe(self, status: int, description: str | None, media_type: str, body: dict[str, Any] | None) -> None:
        """Merge one ``Descriptor``: its words replace a default phrase, its body joins the content."""
        key = str(status)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = {"description": description or _phrase(status)}
            if not description:
                self.defaults.add(key)
        elif description:
            if key in self.defaults:
                entry["description"] = description
                self.defaults.discard(key)
            elif description not in entry["description"]:
                entry["description"] += "\n\n" + description
        if body is None or not _has_body(status):
            return
        if key in self.generated:  # the endpoint documents its own body for this status
            self.generated.discard(key)
            entry.pop("content", None)
        content = entry.setdefault("content", {})
        existing = content.get(media_type)
        if existing is None:
            content[media_type] = {"schema": body}
        elif existing["schema"] != body:
            current = existing["schema"]
            options = current["anyOf"] if set(current) == {"anyOf"} else [current]
            if body not in options:
                existing["schema"] = {"anyOf": [*options, body]}
