"""``ExceptionHandler`` classes and the ``@handles`` marker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_HANDLES_ATTR = "__patera_handles__"


def handles(*exception_types: type[BaseException]) -> Callable[[F], F]:
    """Mark an ``ExceptionHandler`` method as the handler of ``exception_types``."""
    if not exception_types:
        raise TypeError("@handles needs at least one exception type")
    for exc_type in exception_types:
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(f"@handles expects exception classes, got {exc_type!r}")

    def mark(fn: F) -> F:
        previous: tuple[type[BaseException], ...] = getattr(fn, _HANDLES_ATTR, ())
        setattr(fn, _HANDLES_ATTR, previous + exception_types)
        return fn

    return mark


class ExceptionHandler:
    """Groups ``@handles`` methods; instantiated once by the app with ``(app)``."""

    def __init__(self, app: Any) -> None:
        self._app = app

    @property
    def app(self) -> Any:
        return self._app

    def get_exception_mapping(self) -> dict[type[BaseException], Callable[..., Any]]:
        """Exception type → bound handler method, walking the class hierarchy once."""
        mapping: dict[type[BaseException], Callable[..., Any]] = {}
        seen: set[str] = set()
        for klass in type(self).__mro__:
            for name, member in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                for exc_type in getattr(member, _HANDLES_ATTR, ()):
                    mapping[exc_type] = getattr(self, name)
        return mapping
