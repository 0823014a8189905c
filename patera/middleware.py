"""``MiddlewareBase``: request/response middleware around every HTTP endpoint."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from .app import Patera
    from .request import Request
    from .response import Response

__all__ = ("MiddlewareBase",)

Next = Callable[["Request"], Awaitable["Response[Any]"]]


class MiddlewareBase(ABC):
    """Subclass and implement :meth:`middleware`; call ``await self.next(req)`` to continue.

    ``MIDDLEWARE`` lists classes outermost first. A middleware may return its own
    Response instead of calling ``next`` (a short-circuit); what it raises goes to the
    exception handlers.
    """

    def __init__(self, app: Patera, next_app: Next) -> None:
        self._app = app
        self._next = next_app

    @property
    def app(self) -> Patera:
        return self._app

    @property
    def next(self) -> Next:
        return self._next

    @abstractmethod
    async def middleware(self, req: Request) -> Response[Any]:
        """Handle ``req`` and return a Response."""

    @staticmethod
    def validate_configs(configs: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
        """Validate a config dict with ``model``; ``ValueError`` names the middleware's problem."""
        try:
            return model.model_validate(configs).model_dump()
        except ValidationError as exc:
            raise ValueError(f"Invalid middleware configuration: {exc}") from exc
