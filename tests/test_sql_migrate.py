"""Migrate (SPEC §17.6): the db-* commands end to end on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from patera import Patera
from patera.database.migrate import Migrate as MigrateAlias
from patera.database.sql import SqlDatabase
from patera.database.sql.migrate import Migrate
from tests.conftest import build_app

MODEL = "tests._sql_migrate_models:Widget"


@pytest.fixture(params=["sqlite", "postgresql"])
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: a new SQLite file, or a new database in the throwaway cluster."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/migrate.db"
        return
    server = request.getfixturevalue("postgres_service")
    name = f"migrate_{uuid.uuid4().hex[:10]}"
    admin = server.url("postgresql+asyncpg")
    asyncio.run(_autocommit(admin, f"CREATE DATABASE {name}"))
    yield admin.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_autocommit(admin, f"DROP DATABASE {name} WITH (FORCE)"))


async def _autocommit(url: str, sql: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def table_names(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def migrate_app(uri: str, folder: Path, *, prefix: str = "", models: list[str] | None = None) -> Patera:
    app = build_app(
        MODELS=[MODEL] if models is None else models,
        SQL_DATABASE={"DATABASE_URI": uri, "ALEMBIC_MIGRATION_DIR": str(folder)},
    )
    db = SqlDatabase()
    db.init_app(app)
    Migrate(db, command_prefix=prefix).init_app(app)
    return app


def run(app: Patera, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert app.run_cli(list(argv)) == 0
    return capsys.readouterr().out


def test_init_migrate_upgrade_downgrade(uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "migrations"
    app = migrate_app(uri, folder)

    assert "Initialised" in run(app, capsys, "db-init")
    env_py = (folder / "env.py").read_text()
    assert "config.attributes" in env_py and (folder / "script.py.mako").exists() and (folder / "versions").is_dir()
    assert "already initialised" in run(app, capsys, "db-init")  # idempotent
    assert (folder / "env.py").read_text() == env_py

    run(app, capsys, "db-migrate", "--message", "add widgets")
    [revision_file] = list((folder / "versions").glob("*.py"))
    script = revision_file.read_text()
    assert "add widgets" in script
    assert "op.create_table('migtest_widgets'" in script and "op.drop_table('migtest_widgets')" in script
    revision = revision_file.name.split("_", 1)[0]
    assert "migtest_widgets" not in table_names(uri)

    run(app, capsys, "db-upgrade")
    assert {"migtest_widgets", "alembic_version"} <= table_names(uri)
    assert revision in run(app, capsys, "db-current", "--verbose")
    assert revision in run(app, capsys, "db-heads")
    assert "(current)" in run(app, capsys, "db-history", "--verbose", "--indicate-current")
    assert "add widgets" in run(app, capsys, "db-show", "--revision", revision)

    # nothing changed since: a second autogenerate finds no operations
    run(app, capsys, "db-migrate", "--message", "noop")
    noop = next(p for p in (folder / "versions").glob("*.py") if p != revision_file)
    assert "create_table" not in noop.read_text() and "drop_table" not in noop.read_text()
    noop.unlink()

    run(app, capsys, "db-downgrade")
    assert "migtest_widgets" not in table_names(uri)
    assert revision not in run(app, capsys, "db-current")

    run(app, capsys, "db-stamp", "--revision", "head")
    assert revision in run(app, capsys, "db-current")
    assert "migtest_widgets" not in table_names(uri)  # stamp records, it does not migrate
    run(app, capsys, "db-stamp", "--revision", "base")
    assert revision not in run(app, capsys, "db-current")


def test_command_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = migrate_app(f"sqlite+aiosqlite:///{tmp_path}/p.db", tmp_path / "m", prefix="main-")
    assert "Initialised" in run(app, capsys, "main-db-init")
    with pytest.raises(SystemExit) as exc:
        app.run_cli(["db-init"])
    assert exc.value.code == 2


def test_two_databases_with_their_own_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = build_app(
        MODELS=[MODEL],
        SQL_DATABASE={
            "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/a.db", "ALEMBIC_MIGRATION_DIR": str(tmp_path / "a")
        },
        LOGS_DATABASE={
            "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/b.db", "ALEMBIC_MIGRATION_DIR": str(tmp_path / "b")
        },
    )
    main, logs = SqlDatabase(), SqlDatabase(db_name="logs", configs_name="LOGS_DATABASE")
    for ext in (main, Migrate(main), logs, Migrate(logs, command_prefix="logs-")):
        ext.init_app(app)
    run(app, capsys, "db-init")
    run(app, capsys, "logs-db-init")
    assert (tmp_path / "a" / "env.py").exists() and (tmp_path / "b" / "env.py").exists()
    # the logs database has no models: autogenerate refuses, naming it
    with pytest.raises(SystemExit) as exc:
        app.run_cli(["logs-db-migrate"])
    assert exc.value.code == 1
    assert "'logs'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Duplicate CLI command"):
        Migrate(main).init_app(app)


@pytest.mark.parametrize("listed_first", [False, True])
def test_migrate_needs_its_database_initialised_first(listed_first: bool, tmp_path: Path) -> None:
    app = build_app(SQL_DATABASE={"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/x.db"})
    db = SqlDatabase()
    if listed_first:
        other_app = build_app(SQL_DATABASE={"DATABASE_URI": "sqlite+aiosqlite://"})
        db.init_app(other_app)  # initialised, but for another app
    with pytest.raises(ValueError, match="'db'"):
        Migrate(db).init_app(app)


def test_extensions_list_order_and_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests._sql_migrate_models as models

    db = SqlDatabase()
    monkeypatch.setattr(models, "db", db, raising=False)
    monkeypatch.setattr(models, "migrate", MigrateAlias(db), raising=False)
    config: dict[str, Any] = {
        "MODELS": [MODEL], "SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/e.db"},
    }
    app = build_app(EXTENSIONS=["tests._sql_migrate_models:db", "tests._sql_migrate_models:migrate"], **config)
    assert MigrateAlias is Migrate
    assert app.extensions["SQL_DATABASE"] is db
    assert any(type(c).__name__.startswith("MigrateCommands") for c in app.cli_controllers)
    with pytest.raises(ValueError, match="'db'"):
        build_app(EXTENSIONS=["tests._sql_migrate_models:migrate"], **config)


def test_sync_uri_is_used_when_configured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``ALEMBIC_DATABASE_URI_SYNC`` runs the migrations with a sync driver (stdlib sqlite3 here)."""
    path = tmp_path / "sync.db"
    app = build_app(MODELS=[MODEL], SQL_DATABASE={
        "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/app.db", "ALEMBIC_MIGRATION_DIR": str(tmp_path / "m"),
        "ALEMBIC_DATABASE_URI_SYNC": f"sqlite:///{path}",
    })
    db = SqlDatabase()
    db.init_app(app)
    Migrate(db).init_app(app)
    for argv in (["db-init"], ["db-migrate", "--message", "sync"], ["db-upgrade"]):
        run(app, capsys, *argv)
    assert "migtest_widgets" in table_names(f"sqlite+aiosqlite:///{path}")
    assert not (tmp_path / "app.db").exists()  # the async URI was never used
