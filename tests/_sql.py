"""Shared pieces of the SQL extension tests: models, the engine parametrisation, an app factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from patera import Patera
from patera.database import create_declarative_base, create_declerative_base
from patera.database.sql import SqlDatabase
from tests.conftest import build_app

Base = create_declerative_base("db")
OtherBase = create_declarative_base("other")


class User(Base):
    __tablename__ = "sqltest_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    fullname: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(String(50), unique=True)


class Post(Base):
    __tablename__ = "sqltest_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("sqltest_users.id"))
    title: Mapped[str] = mapped_column(String(50))


class Counter(Base):
    __tablename__ = "sqltest_counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Note(OtherBase):
    __tablename__ = "sqltest_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


MODELS = [f"tests._sql:{name}" for name in ("User", "Post", "Counter")]
ENGINES = ["sqlite", "postgresql"]


def database_uri_for(request: pytest.FixtureRequest, tmp_path: Any, engine: str, name: str = "app") -> str:
    """A fresh database URI: a SQLite file under ``tmp_path`` or the shared throwaway PostgreSQL."""
    if engine == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
    server = request.getfixturevalue("postgres_service")
    url: str = server.url("postgresql+asyncpg")
    return url


def make_sql_app(
    uri: str, controllers: Callable[[SqlDatabase], list[type]] | None = None, *, models: list[str] | None = None,
    db_config: dict[str, Any] | None = None, **config: Any,
) -> tuple[Patera, SqlDatabase]:
    """An app with one ``SqlDatabase`` (programmatically initialised) and the given controllers."""
    app = build_app(
        MODELS=MODELS if models is None else models,
        SQL_DATABASE={"DATABASE_URI": uri, "CONNECT_TIMEOUT": 2, **(db_config or {})},
        DEBUG=False,
        **config,
    )
    db = SqlDatabase()
    db.init_app(app)
    if controllers is not None:
        app.register_controller(*controllers(db))
    return app, db


async def reset_schema(db: SqlDatabase, base: Any = Base) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(base.metadata.drop_all)
        await conn.run_sync(base.metadata.create_all)
