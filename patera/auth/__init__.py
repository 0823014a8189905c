"""Authentication extension (SPEC §17.1): user loading, role checks, signing, hashing, JWTs.

Stdlib only; ``pip install "patera[auth]"`` installs nothing extra.
"""

from __future__ import annotations

from ..exceptions import (
    AuthenticationException,
    AuthorizationException,
    InvalidJWTError,
    UnauthorizedException,
)
from .authentication import Authentication, AuthenticationConfig
from .guards import login_required, role_required
from .utils import AuthUtils

__all__ = (
    "AuthUtils",
    "Authentication",
    "AuthenticationConfig",
    "AuthenticationException",
    "AuthorizationException",
    "InvalidJWTError",
    "UnauthorizedException",
    "login_required",
    "role_required",
)
