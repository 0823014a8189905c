"""Alias of :mod:`patera.database.sql.migrate` (the import path some projects use)."""

from __future__ import annotations

from .sql.migrate import Migrate

__all__ = ("Migrate",)
