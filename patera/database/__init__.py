"""Database extensions: ``patera.database.sql`` (SQLAlchemy) and ``patera.database.nosql``.

Names from the SQL extension are resolved on first access, so importing this package (or
the NoSQL extension under it) never loads SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

__all__ = ("AsyncSession", "DatabaseUnavailable", "create_declarative_base", "create_declerative_base")


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import sql

        return getattr(sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
