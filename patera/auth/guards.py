"""``login_required`` / ``role_required``: markers the endpoint and socket wrappers evaluate.

A decorator only records a guard (``async def guard(req)``) on the endpoint spec or on
the controller class's ``__patera_guards__`` list; the core runs class guards, then
method guards, before ``@before_request`` hooks, body parsing and ``accept()``. Because
nothing wraps the handler, the decorators work in any position of the stack.

Within one list, user-loading guards are kept ahead of role guards, so
``@role_required`` written above ``@login_required`` still finds ``req.user``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..controller.decorators import endpoint_spec
from ..exceptions import (
    AuthenticationException,
    MissingExtension,
    UnauthorizedException,
)

if TYPE_CHECKING:
    from .authentication import Authentication

__all__ = (
    "attach_guard",
    "check_roles_given",
    "login_required",
    "make_login_guard",
    "make_role_guard",
    "role_required",
)

T = TypeVar("T")
Guard = Callable[[Any], Awaitable[None]]
Resolver = Callable[[Any], "Authentication"]
_KIND = "__patera_guard_kind__"
CLASS_GUARDS = "__patera_guards__"
#: Scope key set once a login guard loaded the user, so class + method login_required load once.
USER_LOADED = "patera.auth.user_loaded"


def make_login_guard(resolve: Resolver) -> Guard:
    async def login_guard(req: Any) -> None:
        auth = resolve(req)
        scope = req.scope
        if req.user is not None and scope.get(USER_LOADED) is auth:
            return
        user = await auth.user_loader(req)
        if user is None:
            raise AuthenticationException(auth.authentication_error_message)
        req.set_user(user)
        scope[USER_LOADED] = auth

    setattr(login_guard, _KIND, "login")
    return login_guard


def make_role_guard(resolve: Resolver, roles: tuple[Any, ...]) -> Guard:
    required = list(roles)

    async def role_guard(req: Any) -> None:
        auth = resolve(req)
        if req.user is None:
            raise AuthenticationException(auth.authentication_error_message)
        if not await auth.role_check(req.user, list(required)):
            raise UnauthorizedException(auth.unauthorized_error_message, required)

    setattr(role_guard, _KIND, "role")
    role_guard.roles = required  # type: ignore[attr-defined]
    return role_guard


def _insert(guards: list[Any], guard: Guard) -> list[Any]:
    """A new list with ``guard`` placed as the topmost of its kind (decorators apply bottom-up)."""
    kind = getattr(guard, _KIND, None)
    position = 0
    if kind != "login":
        # after every user-loading guard, ahead of the role guards recorded so far
        position = max((i + 1 for i, g in enumerate(guards) if getattr(g, _KIND, None) == "login"), default=0)
    return [*guards[:position], guard, *guards[position:]]


def attach_guard(target: T, guard: Guard) -> T:
    """Record ``guard`` on a Controller class or an endpoint function; returns ``target``."""
    if isinstance(target, type):
        inherited = list(getattr(target, CLASS_GUARDS, ()))
        setattr(target, CLASS_GUARDS, _insert(inherited, guard))
    elif callable(target):
        spec = endpoint_spec(target)
        spec.guards[:] = _insert(spec.guards, guard)
    else:
        raise TypeError(f"auth decorators apply to Controller classes and endpoint methods, not {target!r}")
    return target


# --------------------------------------------------------------------------- module-level forms


def _registered_authentication(req: Any) -> Authentication:
    from .authentication import Authentication

    app = req.app
    extensions: dict[str, Any] = getattr(app, "extensions", None) or {}
    found = extensions.get("AUTHENTICATION")
    if not isinstance(found, Authentication):
        found = next((ext for ext in extensions.values() if isinstance(ext, Authentication)), None)
    if found is None:
        raise MissingExtension(
            "login_required/role_required need an Authentication extension registered with the app (EXTENSIONS)"
        )
    return found


_module_login_guard = make_login_guard(_registered_authentication)


def login_required(target: T) -> T:
    """Require a user loaded by the app's ``Authentication`` extension (401 otherwise).

    Use on an endpoint method or a Controller class, without parentheses.
    """
    return attach_guard(target, _module_login_guard)


def check_roles_given(roles: tuple[Any, ...]) -> None:
    """``@role_required`` without parentheses would silently replace the handler."""
    if len(roles) == 1 and (
        inspect.isfunction(roles[0]) or (isinstance(roles[0], type) and hasattr(roles[0], "get_endpoint_methods"))
    ):
        raise TypeError("role_required takes the roles: write @role_required(Role.ADMIN, ...)")


def role_required(*roles: Any) -> Callable[[T], T]:
    """Require the loaded user to pass ``role_check(user, roles)`` (403 otherwise)."""
    check_roles_given(roles)
    guard = make_role_guard(_registered_authentication, roles)

    def mark(target: T) -> T:
        return attach_guard(target, guard)

    return mark
