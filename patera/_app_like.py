"""``AppLike``: the part of the application an extension may rely on, as a structural type.

Extensions and their backends read configuration, register hooks and render templates; they
never need the router or the chain. Typing them against this Protocol keeps that contract visible and lets
a test pass any object that provides these members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ("AppLike",)


class AppLike(Protocol):
    """What ``resolve_configs``, extensions, their backends and templates use from ``Patera``."""

    @property
    def configs(self) -> dict[str, Any]: ...

    @property
    def debug(self) -> bool: ...

    def get_conf(self, name: str, default: Any = None) -> Any: ...

    def url_for(self, endpoint: str, **values: Any) -> str: ...

    @property
    def root_path(self) -> str: ...

    @property
    def extensions(self) -> dict[str, Any]: ...

    @property
    def models(self) -> dict[str, list[Any]]: ...

    def add_extension(self, ext: Any) -> None: ...

    def add_on_startup_method(self, fn: Callable[[], Any]) -> None: ...

    def add_on_shutdown_method(self, fn: Callable[[], Any]) -> None: ...

    # templates: rendered for responses and by extensions (the email extension's HTML mail)
    @property
    def template_paths(self) -> list[str]: ...

    @property
    def global_context_methods(self) -> list[Callable[..., Any]]: ...

    @property
    def jinja_environment(self) -> Any: ...
