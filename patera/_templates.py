"""Jinja2 templates (SPEC §11, extra ``templates``).

Jinja2 is imported on first use only, so ``import patera`` never loads it and a missing
install surfaces as ``MissingDependency`` naming ``patera[templates]``.
"""

from __future__ import annotations

import asyncio
import inspect
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .exceptions import MissingDependency
from .request import current_request

if TYPE_CHECKING:
    from ._app_like import AppLike

__all__ = ("AUTOESCAPE_EXTENSIONS", "create_environment", "current_request", "render_template")

AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml")

#: The request being handled, when the serving layer records it; exposed as ``request``.


def _jinja2() -> ModuleType:
    try:
        import jinja2
    except ImportError as exc:
        raise MissingDependency("Jinja2", extra="templates", feature="templates") from exc
    return jinja2


def create_environment(app: AppLike) -> Any:
    """The app's ``jinja2.Environment``: async rendering, loader over ``app.template_paths``.

    Raises:
        MissingDependency: Jinja2 is not installed.
    """
    jinja2 = _jinja2()
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(app.template_paths),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=AUTOESCAPE_EXTENSIONS, disabled_extensions=(), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined if app.get_conf("TEMPLATES_STRICT", True) else jinja2.Undefined,
        auto_reload=bool(app.get_conf("AUTO_RELOAD", True)),
        enable_async=True,
    )


async def _global_context(app: AppLike) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for fn in app.global_context_methods:
        if inspect.iscoroutinefunction(fn):
            extra = await fn()
        else:
            # Sync context methods may do I/O, so they run in the thread pool like handlers.
            extra = await asyncio.to_thread(fn)
            if inspect.isawaitable(extra):
                extra = await extra
        if not isinstance(extra, dict):
            name = getattr(fn, "__qualname__", repr(fn))
            raise ValueError(f"global context method {name} must return a dict, got {type(extra).__name__}")
        merged.update(extra)
    return merged


async def render_template(app: AppLike, source: str, context: dict[str, Any] | None, is_file: bool) -> str:
    """Render a template file (``is_file``) or template text with the framework context.

    The context is the caller's, updated by every global context method, then by
    ``app``, ``url_for``, ``request``, ``attribute`` and ``len``.

    Raises:
        MissingDependency: Jinja2 is not installed.
        jinja2.TemplateNotFound: no template path holds ``source``.
        ValueError: a global context method did not return a dict.
        RuntimeError: the response is not bound to an app (no template paths).
    """
    if app is None:
        raise RuntimeError("html() needs a Response created by an app (req.response), which knows the template paths")
    env = app.jinja_environment
    values: dict[str, Any] = dict(context) if context else {}
    if app.global_context_methods:
        values.update(await _global_context(app))
    request = current_request.get()
    if request is None:
        request = values.get("request")
    values.update(app=app, url_for=app.url_for, request=request, attribute=getattr, len=len)
    if is_file:
        # Loading stats and reads template files (and re-checks them under auto_reload).
        template = await asyncio.to_thread(env.get_template, source)
    else:
        template = env.from_string(source)
    html: str = await template.render_async(values)
    return html
