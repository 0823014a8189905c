"""``build_function_schema``: an OpenAI function-tool schema from a Python signature.

Types come from the annotations, descriptions from the docstring (reST ``:param x:`` fields
or a Google ``Args:`` section). No third-party docstring parser is needed.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

__all__ = ("build_function_schema", "parse_docstring")

_SIMPLE_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE_HEADER = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$")
_GOOGLE_PARAM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """``(summary, {param: description})`` from a reST or Google style docstring."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith(":") or _GOOGLE_HEADER.match(line.strip()):
            break
        summary_lines.append(line.strip())
    params: dict[str, str] = {}
    current: str | None = None
    in_google = False
    google_indent = 0
    for raw in lines:
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if match := _REST_PARAM.match(line):
            current, in_google = match.group(1), False
            params[current] = match.group(2).strip()
        elif _GOOGLE_HEADER.match(line) and indent == 0:
            in_google, current, google_indent = True, None, -1
        elif in_google and line and indent == 0 and _SECTION.match(line):
            in_google, current = False, None
        elif in_google and (match := _GOOGLE_PARAM.match(line)) and (google_indent < 0 or indent <= google_indent):
            google_indent = indent
            current = match.group(1).lstrip("*")
            params[current] = match.group(2).strip()
        elif line.startswith(":"):
            current = None  # another reST field (:returns:, :raises:)
        elif current is not None and line:
            params[current] = f"{params[current]} {line}".strip()
        elif not line and not in_google:
            current = None
    return " ".join(summary_lines), params


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _json_type(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _json_type(args[0]) if len(args) == 1 else {"type": "string"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_json_schema()
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        item_types = typing.get_args(annotation)
        schema: dict[str, Any] = {"type": "array"}
        if item_types and item_types[0] is not Ellipsis:
            schema["items"] = _json_type(item_types[0])
        return schema
    if origin is dict or annotation is dict:
        return {"type": "object"}
    return {"type": _SIMPLE_TYPES.get(annotation, "string")}


def build_function_schema(
    func: Callable[..., Any], func_name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """``{"type": "function", "function": {name, description, parameters}}`` for ``func``."""
    summary, param_docs = parse_docstring(inspect.getdoc(func))
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable annotations fall back to "string"
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(func).parameters.items():
        if name in ("self", "cls") or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        prop = dict(_json_type(hints.get(name, str)))
        prop["description"] = param_docs.get(name, "")
        properties[name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": func_name or func.__name__,
            "description": description or summary,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }
