"""Signed cookie values and password hashes, stdlib only.

Both decoders are total: anything malformed, tampered with or of the wrong type gives
``None``/``False``, never an exception, so hostile input cannot become a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Any

from loguru import logger

from ._jwt import b64url_encode

__all__ = (
    "DEFAULT_ITERATIONS",
    "PBKDF2_PREFIX",
    "hash_password",
    "sign_value",
    "unsign_value",
    "verify_password",
)

DEFAULT_ITERATIONS = 600_000
PBKDF2_PREFIX = "pbkdf2_sha256"
SALT_BYTES = 16
#: A stored hash asking for more work than this is refused rather than computed (DoS guard).
MAX_ITERATIONS = 10_000_000
MAX_COOKIE_LENGTH = 8 * 1024
MAX_PASSWORD_LENGTH = 4 * 1024
_bcrypt_warned = False


def _key(secret_key: str | bytes | None) -> bytes:
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    if not secret_key:
        raise RuntimeError("SECRET_KEY must be set in the app config to sign or verify values")
    return secret_key


def _mac(key: bytes, value: str) -> str:
    return b64url_encode(hmac.new(key, value.encode(), hashlib.sha256).digest())


def sign_value(value: str | int, secret_key: str | bytes | None) -> str:
    """``"<value>|<base64url(HMAC-SHA256(key, value))>"``."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"only str or int values can be signed, got {type(value).__name__}")
    text = str(value)
    return f"{text}|{_mac(_key(secret_key), text)}"


def unsign_value(cookie_value: Any, secret_key: str | bytes | None) -> str | None:
    """The signed value, or ``None`` for anything that is not a valid signature of it."""
    key = _key(secret_key)
    if not isinstance(cookie_value, str) or len(cookie_value) > MAX_COOKIE_LENGTH:
        return None
    value, sep, signature = cookie_value.rpartition("|")
    if not sep or not signature.isascii():
        return None
    try:
        expected = _mac(key, value)
    except UnicodeEncodeError:  # lone surrogates: never something we signed
        return None
    # NOTE: compare_digest on ASCII text runs in time independent of where they differ.
    if not hmac.compare_digest(signature.rstrip("="), expected):
        return None
    return value


# --------------------------------------------------------------------------- passwords


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>`` with a fresh 16-byte salt."""
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be an int between 1 and {MAX_ITERATIONS}")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{PBKDF2_PREFIX}${iterations}${_b64(salt)}${_b64(digest)}"


def _strict_b64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def verify_password(password: Any, hashed: Any) -> bool:
    """Whether ``password`` matches ``hashed``; ``False`` for unknown or malformed hashes."""
    if not isinstance(password, str) or not isinstance(hashed, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    if hashed.startswith("$2"):
        return _verify_bcrypt(password, hashed)
    parts = hashed.split("$")
    if len(parts) != 4 or parts[0] != PBKDF2_PREFIX or not parts[1].isascii() or not parts[1].isdigit():
        return False
    if len(parts[1]) > 8 or not 1 <= int(parts[1]) <= MAX_ITERATIONS:
        return False
    try:
        salt, expected = _strict_b64(parts[2]), _strict_b64(parts[3])
    except (binascii.Error, ValueError):
        return False
    if not salt or len(expected) != hashlib.sha256().digest_size:
        return False
    try:
        secret = password.encode()
    except UnicodeEncodeError:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", secret, salt, int(parts[1]))
    return hmac.compare_digest(digest, expected)


def _verify_bcrypt(password: str, hashed: str) -> bool:
    """bcrypt hashes from older systems, checked only when ``bcrypt`` happens to be installed."""
    global _bcrypt_warned
    try:
        import bcrypt
    except ImportError:
        if not _bcrypt_warned:
            _bcrypt_warned = True
            logger.warning("a bcrypt password hash cannot be checked: the bcrypt package is not installed")
        return False
    try:
        return bool(bcrypt.checkpw(password.encode(), hashed.encode()))
    except (ValueError, TypeError, UnicodeEncodeError):  # malformed hash or password
        return False

