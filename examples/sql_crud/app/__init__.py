"""The books example: CRUD over SQLite (or PostgreSQL) through the SQL extension.

From the repository root: ``patera run --app examples.sql_crud.app:Application``.
"""

from __future__ import annotations

from patera import Patera, app

from .configs import Config
from .extensions import db
from .models import Base


@app(__name__, configs=Config)
class Application(Patera):
    def __init__(self, cli_mode: bool = False) -> None:
        super().__init__(cli_mode=cli_mode)
        if self.get_conf("CREATE_TABLES") and not cli_mode:
            # Registered after the extension's own hook, so it runs once the engine exists.
            self.add_on_startup_method(self.create_tables)

    async def create_tables(self) -> None:
        """Create missing tables (a demo convenience; migrations are the real tool)."""
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
