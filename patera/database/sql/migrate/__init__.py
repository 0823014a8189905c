"""Alembic migrations for ``SqlDatabase`` (SPEC §17.6); alias ``patera.database.migrate``."""

from __future__ import annotations

from .migrate import Migrate

__all__ = ("Migrate",)
