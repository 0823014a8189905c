"""SQL databases on SQLAlchemy 2 (async), extra ``database`` (SPEC §17.5).

``sqlite+aiosqlite:///app.db`` needs no server; ``postgresql+asyncpg://…`` behaves the same.
"""

from __future__ import annotations

from ...exceptions import MissingDependency

try:
    from sqlalchemy import Select, select
    from sqlalchemy.ext.asyncio import AsyncSession
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without SQLAlchemy
    raise MissingDependency("SQLAlchemy", extra="database", feature="the SQL database extension") from exc

from .errors import DatabaseUnavailable
from .model import (
    DeclarativeBaseModel,
    create_declarative_base,
    create_declerative_base,
)
from .query import AsyncQuery
from .sql_database import SqlDatabase

__all__ = (
    "AsyncQuery", "AsyncSession", "DatabaseUnavailable", "DeclarativeBaseModel", "Select", "SqlDatabase",
    "create_declarative_base", "create_declerative_base", "select",
)
