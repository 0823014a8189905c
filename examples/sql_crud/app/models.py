"""Database models (listed in ``MODELS`` so ``db-migrate`` sees them)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from patera.database import create_declarative_base

Base = create_declarative_base("db")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(100))
    year: Mapped[int | None] = mapped_column(default=None)
