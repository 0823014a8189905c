"""``AuthUtils``: the signing, hashing and JWT helpers with the key passed explicitly."""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidJWTError
from ._jwt import decode_jwt, encode_jwt
from ._signing import (
    DEFAULT_ITERATIONS,
    hash_password,
    sign_value,
    unsign_value,
    verify_password,
)

__all__ = ("AuthUtils",)


class AuthUtils:
    """Static equivalents of the ``Authentication`` instance helpers (SPEC §17.1)."""

    @staticmethod
    def create_signed_cookie_value(value: str | int, secret_key: str | bytes) -> str:
        """``"<value>|<base64url HMAC-SHA256>"``; raises ``RuntimeError`` without a key."""
        return sign_value(value, secret_key)

    @staticmethod
    def decode_signed_cookie(cookie_value: str, secret_key: str | bytes) -> str | None:
        """The original value, or ``None`` for anything malformed or tampered with."""
        return unsign_value(cookie_value, secret_key)

    @staticmethod
    def create_password_hash(password: str, iterations: int = DEFAULT_ITERATIONS) -> str:
        return hash_password(password, iterations)

    @staticmethod
    def check_password_hash(password: str, hashed_password: str) -> bool:
        return verify_password(password, hashed_password)

    @staticmethod
    def create_jwt_token(payload: dict[str, Any], secret_key: str | bytes, expires_in: int = 3600) -> str:
        """An HS256 JWT with ``iat`` and ``exp``; ``ValueError`` for a non-dict payload."""
        return encode_jwt(payload, secret_key, expires_in)

    @staticmethod
    def validate_jwt_token(
        token: str, secret_key: str | bytes, *, leeway: float = 0, raise_errors: bool = False
    ) -> dict[str, Any] | None:
        """The claims of a valid token; otherwise ``None`` (or ``InvalidJWTError`` when asked)."""
        try:
            return decode_jwt(token, secret_key, leeway=leeway)
        except InvalidJWTError:
            if raise_errors:
                raise
            return None
