"""The ``Controller`` base class: groups endpoints under one URL prefix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import UnexpectedDecorator
from .decorators import HOOK_ATTR, SPEC_ATTR, EndpointSpec

if TYPE_CHECKING:
    from ..app import Patera

__all__ = ("Controller",)


class Controller:
    """Subclass it, decorate with ``@path`` and add ``@get``/``@post``… methods."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, spec in _own_specs(cls):
            if spec.method is None:
                continue
            if spec.method in ("GET", "SOCKET") and spec.consumes is not None:
                raise UnexpectedDecorator(
                    f"{cls.__name__}.{name}: @consumes cannot be used with @{spec.method.lower()}"
                )

    def __init__(
        self,
        app: Patera,
        url_path: str = "/",
        open_api_spec: bool = True,
        open_api_tags: list[str] | None = None,
    ) -> None:
        self._app = app
        self._path = url_path
        self._open_api_spec = open_api_spec
        self._open_api_tags = list(open_api_tags) if open_api_tags else [type(self).__name__]
        self._endpoints_map: dict[str, EndpointSpec] = dict(self.get_endpoint_methods())

    @property
    def app(self) -> Patera:
        return self._app

    @property
    def path(self) -> str:
        return self._path

    @property
    def open_api_spec(self) -> bool:
        return self._open_api_spec

    @property
    def open_api_tags(self) -> list[str]:
        return list(self._open_api_tags)

    @property
    def endpoints_map(self) -> dict[str, EndpointSpec]:
        return self._endpoints_map

    @classmethod
    def get_endpoint_methods(cls) -> dict[str, EndpointSpec]:
        """Endpoint specs by method name, in definition order (base classes first)."""
        return {name: spec for name, spec in _all_specs(cls) if spec.method is not None}

    @classmethod
    def hooks(cls, kind: str) -> list[Callable[..., Any]]:
        """``before``/``after`` hook functions sorted by method name."""
        found: dict[str, Callable[..., Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                if getattr(member, HOOK_ATTR, None) == kind:
                    found[name] = member
                elif name in found and getattr(member, HOOK_ATTR, None) is None:
                    del found[name]
        return [found[name] for name in sorted(found)]


def _own_specs(cls: type) -> list[tuple[str, EndpointSpec]]:
    return [
        (name, spec) for name, member in vars(cls).items() if (spec := getattr(member, SPEC_ATTR, None)) is not None
    ]


def _all_specs(cls: type) -> list[tuple[str, EndpointSpec]]:
    specs: dict[str, EndpointSpec] = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            spec = getattr(member, SPEC_ATTR, None)
            if spec is not None:
                specs[name] = spec
            elif name in specs:
                del specs[name]  # overridden by a plain attribute
    return list(specs.items())
