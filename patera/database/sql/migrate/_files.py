"""The files ``db-init`` writes into the migrations folder (patera's own, not Alembic's ``init``).

``env.py`` takes everything from ``config.attributes`` that :class:`Migrate` fills in (the
database URI, the optional sync URI, the target metadata), so the migrations folder holds
no connection string and no import of the application.
"""

from __future__ import annotations

__all__ = ("ENV_PY", "SCRIPT_MAKO")

ENV_PY = '''\
"""Alembic environment written by patera's ``db-init``; run it through ``cli.py db-…``.

patera's ``Migrate`` passes the database URI and the models' metadata in
``config.attributes``. Migrations run on the app's async driver unless
``ALEMBIC_DATABASE_URI_SYNC`` is configured, in which case that sync URI is used.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config
target_metadata = config.attributes.get("target_metadata")
database_uri = config.attributes["database_uri"]
database_uri_sync = config.attributes.get("database_uri_sync")


def _configure(**options: object) -> None:
    url = make_url(database_uri_sync or database_uri)
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=url.get_backend_name() == "sqlite",
        **options,
    )


def run_offline() -> None:
    _configure(url=database_uri_sync or database_uri, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_async_engine(database_uri, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
            await connection.commit()
    finally:
        await engine.dispose()


def run_sync() -> None:
    engine = create_engine(database_uri_sync, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run_on(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
elif database_uri_sync:
    run_sync()
else:
    asyncio.run(run_async())
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''
