"""Settings of the SQL example; every key can be overridden by an environment variable.

``SQL_DATABASE`` as JSON in the environment switches the database, e.g.
``SQL_DATABASE='{"DATABASE_URI": "postgresql+asyncpg://user@127.0.0.1/books"}'``.
"""

from __future__ import annotations

import os
from typing import Any

from patera import BaseConfig

_PKG = __name__.rpartition(".")[0]


class Config(BaseConfig):
    APP_NAME: str = "Books"
    VERSION: str = "1.0"
    BASE_PATH: str = os.path.dirname(__file__)
    DEBUG: bool = True
    HOST: str = "localhost"
    PORT: int = 8080
    CORS_ALLOW_CREDENTIALS: bool = False

    SQL_DATABASE: dict[str, Any] = {
        "DATABASE_URI": "sqlite+aiosqlite:///./books.db",  # embedded: a file next to where you start it
        "SESSION_NAME": "session",
        "SHOW_SQL": False,
    }
    #: create missing tables on startup (handy for a demo; real projects use cli.py db-migrate/db-upgrade)
    CREATE_TABLES: bool = True

    MODELS: list[str] | None = [f"{_PKG}.models:Book"]
    EXTENSIONS: list[str] | None = [f"{_PKG}.extensions:db", f"{_PKG}.extensions:migrate"]
    CONTROLLERS: list[str] | None = [f"{_PKG}.books_api:BooksApi"]
