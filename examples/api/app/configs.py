"""Configuration of the example API.

Import strings are built from this package's own name, so the same code loads as
``examples.api.app`` (from the repository root) and as ``app`` (from ``examples/api``).
"""

from __future__ import annotations

import os

from patera import BaseConfig

_PKG = __name__.rpartition(".")[0]


class Config(BaseConfig):
    """Every value can be overridden by an environment variable of the same name."""

    APP_NAME: str = "Example API"
    VERSION: str = "1.0"
    BASE_PATH: str = os.path.dirname(__file__)
    SECRET_KEY: str | None = None
    DEBUG: bool = True
    HOST: str = "localhost"
    PORT: int = 8080
    CORS_ALLOW_CREDENTIALS: bool = False  # origins are "*", so credentials are never granted anyway
    OPEN_API_DESCRIPTION: str = "In-memory item catalogue: CRUD, static files and a WebSocket echo"

    CONTROLLERS: list[str] | None = [
        f"{_PKG}.api.items_api:ItemsApi",
        f"{_PKG}.api.echo_api:EchoApi",
    ]
    CLI_CONTROLLERS: list[str] | None = [f"{_PKG}.cli.commands:ItemCommands"]
    EXCEPTION_HANDLERS: list[str] | None = [f"{_PKG}.api.exceptions:ApiExceptionHandler"]
    MIDDLEWARE: list[str] | None = [f"{_PKG}.middleware.timing:TimingMiddleware"]
