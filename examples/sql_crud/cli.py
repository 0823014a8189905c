"""Migrations for the example: ``python -m examples.sql_crud.cli db-init`` (then db-migrate, db-upgrade)."""

from __future__ import annotations

if __package__:
    from .app import Application
else:  # ``python cli.py`` inside examples/sql_crud
    from app import Application

if __name__ == "__main__":
    Application(cli_mode=True).run_cli()
