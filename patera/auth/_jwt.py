"""HS256 JSON Web Tokens (RFC 7519) in the JWS compact serialisation (RFC 7515), stdlib only.

Only ``HS256`` is produced or accepted: a token whose header names any other algorithm
(``none`` included) is refused before its signature is looked at, so an attacker cannot
choose how the token is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..exceptions import InvalidJWTError

__all__ = ("b64url_decode", "b64url_encode", "decode_jwt", "encode_jwt", "sign_hs256")

#: Far above any real token; a longer string is refused before it is decoded.
MAX_TOKEN_LENGTH = 64 * 1024
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_TIME_CLAIMS = ("exp", "nbf", "iat")


def _key_bytes(secret_key: str | bytes) -> bytes:
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    if not isinstance(secret_key, bytes) or not secret_key:
        raise RuntimeError("a non-empty SECRET_KEY is required to sign or verify tokens")
    return secret_key


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; ``ValueError`` for any other character or length."""
    if len(text) % 4 == 1 or _B64URL.fullmatch(text) is None:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def sign_hs256(signing_input: bytes, secret_key: str | bytes) -> str:
    """The base64url HMAC-SHA256 signature of ``header.payload``."""
    return b64url_encode(hmac.new(_key_bytes(secret_key), signing_input, hashlib.sha256).digest())


def _json_segment(value: Mapping[str, Any]) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable in a JWT payload")

    return b64url_encode(json.dumps(value, separators=(",", ":"), default=default).encode())


def encode_jwt(
    payload: Mapping[str, Any], secret_key: str | bytes, expires_in: int = 3600, *, now: float | None = None
) -> str:
    """A compact HS256 JWT of ``payload`` with ``iat`` (now) and ``exp`` (now + ``expires_in``).

    ``datetime`` values of ``nbf``/``iat``/``exp`` become epoch seconds; ``iat`` and
    ``exp`` are always set here.

    Raises:
        ValueError: ``payload`` is not a dict or ``expires_in`` is not an int.
        RuntimeError: no secret key.
    """
    if not isinstance(payload, Mapping):
        raise ValueError(
            f"JWT payload must be a dict, got {type(payload).__name__}"
        )  # ValueError, not TypeError: SPEC §17.1
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise ValueError(f"expires_in must be an int number of seconds, got {expires_in!r}")
    key = _key_bytes(secret_key)
    issued = int(time.time() if now is None else now)
    claims = dict(payload)
    for name in _TIME_CLAIMS:
        if isinstance(claims.get(name), datetime):
            claims[name] = int(claims[name].timestamp())
    claims["iat"] = issued
    claims["exp"] = issued + expires_in
    signing_input = _json_segment({"alg": "HS256", "typ": "JWT"}) + "." + _json_segment(claims)
    return signing_input + "." + sign_hs256(signing_input.encode("ascii"), key)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment), parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # also UnicodeDecodeError and int digit limits
        raise InvalidJWTError(f"Invalid token: {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise InvalidJWTError(f"Invalid token: {what} is not a JSON object")
    return value


def _numeric(claims: dict[str, Any], name: str) -> int | float | None:
    """A NumericDate claim as it is: ints are compared exactly, however large."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidJWTError(f"Invalid token: {name} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidJWTError(f"Invalid token: {name} is not a number")
    return value


def decode_jwt(token: Any, secret_key: str | bytes, *, leeway: float = 0, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid HS256 token.

    Raises:
        InvalidJWTError: anything wrong with the token (shape, encoding, algorithm,
            signature, ``exp``/``nbf`` outside the leeway).
        RuntimeError: no secret key.
    """
    key = _key_bytes(secret_key)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidJWTError("Invalid token")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJWTError("Invalid token: not a compact JWS")
    header_segment, payload_segment, signature_segment = parts
    header = _json_object(header_segment, "header")
    # NOTE: RFC 8725 §3.1 — the algorithm is fixed by us, never taken from the token.
    if header.get("alg") != "HS256":
        raise InvalidJWTError("Invalid token: algorithm not allowed")
    if "crit" in header:  # NOTE: RFC 7515 §4.1.11 — we understand no extensions
        raise InvalidJWTError("Invalid token: unsupported critical header")
    try:
        signature = b64url_decode(signature_segment)
    except ValueError:
        raise InvalidJWTError("Invalid token: signature is not base64url") from None
    expected = hmac.new(key, f"{header_segment}.{payload_segment}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise InvalidJWTError("Invalid token: bad signature")
    claims = _json_object(payload_segment, "payload")
    current = time.time() if now is None else now
    expires = _numeric(claims, "exp")
    if expires is not None and current - leeway >= expires:
        raise InvalidJWTError("Token expired")
    not_before = _numeric(claims, "nbf")
    if not_before is not None and current + leeway < not_before:
        raise InvalidJWTError("Token not yet valid")
    _numeric(claims, "iat")
    return claims
