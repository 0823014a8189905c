"""``Migrate``: Alembic migrations for one ``SqlDatabase``, driven by ``db-…`` CLI commands."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ....cli import CLIController, argument, command
from ....extension import AppLike, BaseExtension
from ..sql_database import SqlDatabase
from ._files import ENV_PY, SCRIPT_MAKO

if TYPE_CHECKING:
    from ....app import Patera

try:
    from alembic import command as alembic_command
    from alembic.config import Config as AlembicConfig
except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
    from ....exceptions import MissingDependency

    raise MissingDependency("Alembic", extra="database", feature="migrations") from exc

__all__ = ("Migrate",)

R = TypeVar("R")

#: (command name without prefix, Migrate method) in the order ``--help`` lists them.
_COMMANDS = (
    ("db-init", "init"), ("db-migrate", "migrate"), ("db-upgrade", "upgrade"), ("db-downgrade", "downgrade"),
    ("db-history", "history"), ("db-current", "current"), ("db-heads", "heads"), ("db-show", "show"),
    ("db-stamp", "stamp"),
)


class Migrate(BaseExtension):
    """Migrations for ``db``; list it in ``EXTENSIONS`` after ``db``.

    Its commands are ``<command_prefix>db-init``, ``…db-migrate`` etc., so two databases
    can each have their own set (e.g. ``command_prefix="logs-"``).
    """

    def __init__(self, db: SqlDatabase, command_prefix: str = "") -> None:
        self._db = db
        self._command_prefix = command_prefix or ""
        # Stored under its own key so it never replaces its database in app.extensions.
        self._configs_name = f"{db.configs_name}_MIGRATE{'_' + command_prefix if command_prefix else ''}"

    @property
    def db(self) -> SqlDatabase:
        return self._db

    @property
    def command_prefix(self) -> str:
        return self._command_prefix

    def init_app(self, app: AppLike) -> None:
        """Register the ``db-…`` commands.

        Raises:
            ValueError: ``db`` was not initialised with this app (list it before ``Migrate``).
        """
        if self._db._app is not app or self._db.configs_name not in app.extensions:
            raise ValueError(
                f"Migrate needs SqlDatabase {self._db.db_name!r} ({self._db.configs_name}) to be initialised first: "
                "list it before Migrate in EXTENSIONS"
            )
        self._app = app
        self._configs = dict(self._db.configs)
        app.add_extension(self)
        patera_app = cast("Patera", app)  # CLI commands need the whole application
        patera_app.register_cli_controller(_commands_for(self)(patera_app))

    # ------------------------------------------------------------------ configuration

    @property
    def migrations_dir(self) -> str:
        """``root_path / ALEMBIC_MIGRATION_DIR`` (an absolute directory is used as is)."""
        return os.path.join(self.app.root_path, self.configs.get("ALEMBIC_MIGRATION_DIR") or "migrations")

    def target_metadata(self) -> list[Any]:
        """The ``MetaData`` of the ``MODELS`` that belong to this database (each once).

        Raises:
            ValueError: no model of this database is listed in ``MODELS``.
        """
        collected: list[Any] = []
        for model in self.app.models.get(self._db.db_name, ()):
            if not any(model.metadata is seen for seen in collected):
                collected.append(model.metadata)
        if not collected:
            raise ValueError(
                f"No models for database {self._db.db_name!r}: list them in MODELS "
                f"(models made from create_declarative_base({self._db.db_name!r}))"
            )
        return collected

    def alembic_config(self, *, with_metadata: bool = True) -> AlembicConfig:
        """An Alembic ``Config`` for this database, built in memory (no ``alembic.ini``)."""
        # NOTE: Alembic's default ``stdout`` is bound when it is imported; pass the current one.
        config = AlembicConfig(stdout=sys.stdout)
        config.set_main_option("script_location", self.migrations_dir)
        config.attributes["database_uri"] = self._db.db_uri
        config.attributes["database_uri_sync"] = self.configs.get("ALEMBIC_DATABASE_URI_SYNC")
        config.attributes["target_metadata"] = self.target_metadata() if with_metadata else None
        return config

    def _metadata_or_none(self) -> AlembicConfig:
        try:
            return self.alembic_config()
        except ValueError:
            return self.alembic_config(with_metadata=False)

    # ------------------------------------------------------------------ commands

    def init(self) -> None:
        """Create the migrations folder (env.py, script.py.mako, versions/); safe to repeat."""
        folder = self.migrations_dir
        os.makedirs(os.path.join(folder, "versions"), exist_ok=True)
        written = []
        for name, content in (("env.py", ENV_PY), ("script.py.mako", SCRIPT_MAKO)):
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(content)
                written.append(name)
        if written:
            print(f"Initialised migrations for database {self._db.db_name!r} in {folder} ({', '.join(written)})")
        else:
            print(f"Migrations for database {self._db.db_name!r} already initialised in {folder}")

    def migrate(self, message: str | None = None) -> None:
        """Autogenerate a revision from the difference between the models and the database."""
        _off_loop(alembic_command.revision, self.alembic_config(), message=message, autogenerate=True)

    def upgrade(self, revision: str = "head") -> None:
        """Upgrade the database to a revision (default: head)."""
        _off_loop(alembic_command.upgrade, self._metadata_or_none(), revision)

    def downgrade(self, revision: str = "-1") -> None:
        """Downgrade the database to a revision (default: one step back)."""
        _off_loop(alembic_command.downgrade, self._metadata_or_none(), revision)

    def history(self, verbose: bool = False, indicate_current: bool = False) -> None:
        """List the revisions."""
        _off_loop(alembic_command.history, self._metadata_or_none(), verbose=verbose, indicate_current=indicate_current)

    def current(self, verbose: bool = False) -> None:
        """Show the revision the database is at."""
        _off_loop(alembic_command.current, self._metadata_or_none(), verbose=verbose)

    def heads(self, verbose: bool = False) -> None:
        """Show the head revision(s)."""
        _off_loop(alembic_command.heads, self._metadata_or_none(), verbose=verbose)

    def show(self, revision: str = "head") -> None:
        """Show one revision (default: head)."""
        _off_loop(alembic_command.show, self._metadata_or_none(), revision)

    def stamp(self, revision: str = "head") -> None:
        """Record a revision as applied without running migrations (default: head)."""
        _off_loop(alembic_command.stamp, self._metadata_or_none(), revision)


def _off_loop(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Call ``fn`` here, or in a worker thread when this thread runs an event loop.

    ``env.py`` runs the async engine with ``asyncio.run``, which refuses to nest.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


# Options per command, as @argument declarations: (name, type, description).
_ARGUMENTS: dict[str, tuple[tuple[str, type, str], ...]] = {
    "migrate": (("message", str, "revision message"),),
    "upgrade": (("revision", str, "target revision"),),
    "downgrade": (("revision", str, "target revision (e.g. -1, base, a revision id)"),),
    "history": (("verbose", bool, "show details"), ("indicate-current", bool, "mark the current revision")),
    "current": (("verbose", bool, "show details"),),
    "heads": (("verbose", bool, "show details"),),
    "show": (("revision", str, "revision to show"),),
    "stamp": (("revision", str, "revision to record without running migrations"),),
}


def _commands_for(migrate: Migrate) -> type[CLIController]:
    """A CLI controller class whose commands carry ``migrate``'s prefix and call its methods."""
    namespace: dict[str, Any] = {"__doc__": f"Migration commands for database {migrate.db.db_name!r}."}
    for name, method_name in _COMMANDS:
        target = getattr(Migrate, method_name)

        def call(self: CLIController, *, _method: str = method_name, **options: Any) -> None:
            getattr(migrate, _method)(**options)

        handler = functools.wraps(target)(call)
        for arg_name, arg_type, description in reversed(_ARGUMENTS.get(method_name, ())):
            handler = argument(arg_name, arg_type, description)(handler)
        namespace[method_name] = command(migrate.command_prefix + name, help=_first_line(target.__doc__))(handler)
    return type(f"MigrateCommands_{migrate.db.db_name}", (CLIController,), namespace)


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""
