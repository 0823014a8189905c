"""A model of its own for the migration tests (its metadata is all ``Migrate`` compares)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from patera.database import create_declerative_base

MigrationBase = create_declerative_base("db")


class Widget(MigrationBase):
    __tablename__ = "migtest_widgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
