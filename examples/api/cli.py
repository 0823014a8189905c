"""Run a CLI command: ``python -m examples.api.cli count`` (or ``python cli.py count`` from here)."""

from __future__ import annotations

if __package__:
    from .app import Application
else:  # ``python cli.py`` inside examples/api
    from app import Application

if __name__ == "__main__":
    Application(cli_mode=True).run_cli(lifespan=True)
