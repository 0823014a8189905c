"""patera: a small, fast, pure-ASGI web framework with class-based controllers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._background import run_in_background, run_sync_or_async
from .app import Patera, app_path, on_shutdown, on_startup
from .config import BaseConfig
from .exceptions import MissingDependency, abort, html_abort
from .extension import BaseExtension
from .http_statuses import HttpMethod, HttpStatus
from .logging import LogLevel
from .media_types import MediaType
from .middleware import MiddlewareBase
from .request import Request
from .response import Response
from .uploads import UploadedFile

if TYPE_CHECKING:
    from .app import app
else:
    # The module patera.app, callable as the @app decorator: ``from patera import app`` and
    # ``patera.app.Patera`` both work (see app._DecoratorModule).
    from . import app

__version__ = "0.112.0"

__all__ = (
    "BaseConfig",
    "BaseExtension",
    "HttpMethod",
    "HttpStatus",
    "LogLevel",
    "MediaType",
    "MiddlewareBase",
    "MissingDependency",
    "Patera",
    "Request",
    "Response",
    "UploadedFile",
    "__version__",
    "abort",
    "app",
    "app_path",
    "html_abort",
    "on_shutdown",
    "on_startup",
    "run_in_background",
    "run_sync_or_async",
)
