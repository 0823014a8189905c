"""The ``Authentication`` extension: subclass it with a ``user_loader`` (SPEC §17.1)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import InvalidJWTError
from ..extension import AppLike, BaseExtension, resolve_configs
from ._jwt import decode_jwt, encode_jwt
from ._signing import hash_password, sign_value, unsign_value, verify_password
from .guards import attach_guard, check_roles_given, make_login_guard, make_role_guard

__all__ = ("Authentication", "AuthenticationConfig")

T = TypeVar("T")
_ALIASES = {
    "AUTHENTICATION_ERROR_MSG": "AUTHENTICATION_ERROR_MESSAGE",
    "AUTHORIZATION_ERROR_MSG": "UNAUTHORIZED_ERROR_MESSAGE",
}


class AuthenticationConfig(BaseModel):
    """The ``AUTHENTICATION`` config dict (flat ``AUTHENTICATION_<KEY>`` keys overlay it)."""

    model_config = ConfigDict(extra="allow")

    AUTHENTICATION_ERROR_MESSAGE: str = "Login required"
    UNAUTHORIZED_ERROR_MESSAGE: str = "Missing user role(s)"
    PASSWORD_HASH_ITERATIONS: int = Field(600_000, ge=1, le=10_000_000)
    JWT_LEEWAY: float = Field(0, ge=0)


class Authentication(BaseExtension, ABC):
    """Loads the user of a request and checks roles for the auth decorators.

    Implement :meth:`user_loader` (and usually :meth:`role_check`), instantiate once, and
    list the instance in ``EXTENSIONS``. ``@auth.login_required`` and
    ``@auth.role_required(*roles)`` protect endpoint methods, socket handlers and whole
    Controller classes.
    """

    _role_check_warned = False

    def __init__(self, configs_name: str = "AUTHENTICATION") -> None:
        self._configs_name = configs_name

    def _self(self, req: Any) -> Authentication:
        return self

    def init_app(self, app: AppLike) -> None:
        raw = resolve_configs(app, self._configs_name)
        for alias, key in _ALIASES.items():
            if alias in raw:
                raw.setdefault(key, raw.pop(alias))
        self._configs = self.validate_configs(raw, AuthenticationConfig)
        self._app = app
        app.add_extension(self)

    # ------------------------------------------------------------------ user hooks

    @abstractmethod
    async def user_loader(self, req: Any) -> Any | None:
        """The user of this request, or ``None`` (→ 401)."""

    async def role_check(self, user: Any, roles: list[Any]) -> bool:
        """Whether ``user`` satisfies ``roles``; denies until overridden."""
        if not self._role_check_warned:
            self._role_check_warned = True
            logger.warning(
                "{}.role_check is not implemented: every role_required check is refused", type(self).__name__
            )
        return False

    # ------------------------------------------------------------------ decorators

    def login_required(self, target: T) -> T:
        """Marker: the request needs a user from :meth:`user_loader` (401 otherwise)."""
        return attach_guard(target, make_login_guard(self._self))

    def role_required(self, *roles: Any) -> Callable[[T], T]:
        """Marker: the loaded user must pass :meth:`role_check` for ``roles`` (403 otherwise)."""
        check_roles_given(roles)
        guard = make_role_guard(self._self, roles)

        def mark(target: T) -> T:
            return attach_guard(target, guard)

        return mark

    # ------------------------------------------------------------------ settings

    @property
    def authentication_error_message(self) -> str:
        return str(self.configs.get("AUTHENTICATION_ERROR_MESSAGE", "Login required"))

    @property
    def unauthorized_error_message(self) -> str:
        return str(self.configs.get("UNAUTHORIZED_ERROR_MESSAGE", "Missing user role(s)"))

    @property
    def secret_key(self) -> str:
        """The app's ``SECRET_KEY``.

        Raises:
            RuntimeError: the extension is not initialised or the app has no ``SECRET_KEY``.
        """
        key = self.app.get_conf("SECRET_KEY")
        if not key:
            raise RuntimeError("SECRET_KEY must be set in the app config for signing, hashing and JWTs")
        return str(key)

    # ------------------------------------------------------------------ helpers

    def create_signed_cookie_value(self, value: str | int) -> str:
        return sign_value(value, self.secret_key)

    def decode_signed_cookie(self, cookie_value: str) -> str | None:
        return unsign_value(cookie_value, self.secret_key)

    def create_password_hash(self, password: str) -> str:
        return hash_password(password, int(self.configs.get("PASSWORD_HASH_ITERATIONS", 600_000)))

    def check_password_hash(self, password: str, hashed_password: str) -> bool:
        return verify_password(password, hashed_password)

    def create_jwt_token(self, payload: dict[str, Any], expires_in: int = 3600) -> str:
        return encode_jwt(payload, self.secret_key, expires_in)

    def validate_jwt_token(self, token: str, *, raise_errors: bool = False) -> dict[str, Any] | None:
        """The claims of a valid token; otherwise ``None`` (``InvalidJWTError``, a 401, when asked)."""
        try:
            return decode_jwt(token, self.secret_key, leeway=float(self.configs.get("JWT_LEEWAY", 0)))
        except InvalidJWTError:
            if raise_errors:
                raise
            return None
