"""The database and its migrations (listed in ``EXTENSIONS``, database first)."""

from __future__ import annotations

from patera.database.sql import SqlDatabase
from patera.database.sql.migrate import Migrate

db: SqlDatabase = SqlDatabase()  # db_name="db", configs_name="SQL_DATABASE"
migrate: Migrate = Migrate(db)
