"""``BaseExtension``: the contract every extension (bundled or user-written) follows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ValidationError

from ._app_like import AppLike

__all__ = ("AppLike", "BaseExtension", "resolve_configs")


def resolve_configs(app: AppLike, configs_name: str, variable_prefix: str | None = None) -> dict[str, Any]:
    """The ``configs_name`` dict overlaid by flat ``<configs_name>_<KEY>`` config keys.

    With ``variable_prefix`` both names are prefixed, so ``MY_PREFIX_CACHE`` and
    ``MY_PREFIX_CACHE_BACKEND`` are read.
    """
    name = f"{variable_prefix}{configs_name}" if variable_prefix else configs_name
    configs = app.configs
    base = configs.get(name)
    merged: dict[str, Any] = dict(base) if isinstance(base, dict) else {}
    prefix = name + "_"
    for key, value in configs.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            merged[key[len(prefix):]] = value
    return merged


class BaseExtension(ABC):
    """Subclass, implement :meth:`init_app`, and call ``app.add_extension(self)`` there."""

    _configs_name: str = ""
    _app: AppLike | None = None
    _configs: dict[str, Any] | None = None

    @abstractmethod
    def init_app(self, app: AppLike) -> None:
        """Bind to ``app``: read configuration, register hooks, store itself."""

    @property
    def configs_name(self) -> str:
        return self._configs_name or type(self).__name__.upper()

    @property
    def app(self) -> AppLike:
        if self._app is None:
            raise RuntimeError(f"{type(self).__name__} is not initialised: call init_app(app) first")
        return self._app

    @property
    def configs(self) -> dict[str, Any]:
        return self._configs if self._configs is not None else {}

    @property
    def nice_name(self) -> str | None:
        return self.configs.get("NICE_NAME")

    def validate_configs(self, configs: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
        try:
            return model.model_validate(configs).model_dump()
        except ValidationError as exc:
            raise ValueError(f"Invalid configuration for {self.configs_name}: {exc}") from exc
