"""Declarative bases, one per database name, and the helpers every model gets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import MetaData, inspect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from .query import AsyncQuery

__all__ = ("DeclarativeBaseModel", "create_declarative_base", "create_declerative_base")


class DeclarativeBaseModel(DeclarativeBase):
    """Common parent of every base made by :func:`create_declarative_base`.

    Not meant to be subclassed by models directly: each database needs its own base so
    that its tables land in their own ``MetaData`` (which ``Migrate`` compares against).
    """

    __abstract__ = True
    __db_name__: ClassVar[str] = "db"

    @classmethod
    def query(cls, session: AsyncSession) -> AsyncQuery[Any]:
        """A query builder over this model bound to ``session``."""
        from .query import AsyncQuery

        return AsyncQuery(session, cls)

    @classmethod
    def db_name(cls) -> str:
        return cls.__db_name__

    @classmethod
    def primary_keys(cls) -> list[ColumnElement[Any]]:
        """The primary-key columns, in table order."""
        return list(inspect(cls).primary_key)

    @classmethod
    def primary_key_names(cls) -> list[str]:
        """Attribute names of the primary-key columns (what ``filter_by`` takes)."""
        mapper = inspect(cls)
        return [mapper.get_property_by_column(column).key for column in mapper.primary_key]


def create_declarative_base(db_name: str = "db") -> type[DeclarativeBaseModel]:
    """A new abstract base for the models of database ``db_name``, with its own ``MetaData``."""
    if not isinstance(db_name, str) or not db_name:
        raise ValueError(f"db_name must be a non-empty string, got {db_name!r}")
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"Declarative base of the models stored in database {db_name!r}.",
        "__db_name__": db_name,
        "metadata": MetaData(),
    }
    # NOTE: listing DeclarativeBase directly is what makes SQLAlchemy give the new class
    # its own registry instead of sharing DeclarativeBaseModel's.
    base = type(f"Base_{db_name}", (DeclarativeBaseModel, DeclarativeBase), namespace)
    return base


#: The original's spelling, kept so README code works unchanged.
create_declerative_base = create_declarative_base
