"""The ``patera`` command and CLI controllers (SPEC §15).

The command is driven in-process through ``patera.cli.main`` where that is side-effect
free, and in a subprocess where it imports user code (app discovery, generated projects)
or must not see hypercorn.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patera import BaseConfig, Patera, app, on_shutdown, on_startup
from patera.cli import CLIController, argument, command, main
from patera.cli._main import discover_app, load_env

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 20


def run_patera(*args: str, cwd: Path, stdin: Any = subprocess.DEVNULL, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m patera.cli ARGS`` in ``cwd``, with the repo importable (as an installed patera would be)."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-m", "patera.cli", *args],
        cwd=cwd, env=environ, stdin=stdin, capture_output=True, text=True, timeout=TIMEOUT,
    )


# ---------------------------------------------------------------------- CLI controllers (SPEC §15.2)


class Cfg(BaseConfig):
    APP_NAME: str = "cli"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    DEFAULT_LOGGER: dict[str, Any] = {"SINK": "NULL"}


EVENTS: list[str] = []


class Tools(CLIController):
    @command("greet", help="Greet someone.")
    @argument("name", arg_type=str, description="Who to greet.")
    async def greet(self, name: str) -> None:
        EVENTS.append(f"greet:{name}")
        print(f"Hello, {name}!")

    @command("add")
    @argument("a", arg_type=int)
    @argument("--b", arg_type=int, description="Second number.")
    def add(self, a: int, b: int = 10) -> None:
        """Add two numbers (sync command)."""
        print(a + b)

    @command("scale")
    @argument("factor", arg_type=float)
    @argument("dry-run", arg_type=bool, description="Only show.")
    async def scale(self, factor: float, dry_run: bool = False) -> None:
        print(repr(factor), dry_run)

    @command("boom")
    async def boom(self) -> None:
        raise RuntimeError("it broke")

    @command("nested")
    def nested(self) -> None:
        """A sync command that runs its own event loop (as Alembic's async env.py does)."""

        async def work() -> str:
            return "nested ok"

        print(asyncio.run(work()))

    @command("whoami")
    def whoami(self) -> None:
        print(self.ctrl_name, self.app.app_name)


@app(__name__, configs=Cfg)
class CliApp(Patera):
    @on_startup
    async def connect(self) -> None:
        EVENTS.append("startup")

    @on_shutdown
    def disconnect(self) -> None:
        EVENTS.append("shutdown")


@pytest.fixture
def cli_app() -> CliApp:
    EVENTS.clear()
    application = CliApp(cli_mode=True)
    application.register_cli_controller(Tools)
    return application


def test_command_runs_with_converted_arguments(cli_app: CliApp, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_app.run_cli(["greet", "--name", "Ada"]) == 0
    assert cli_app.run_cli(["add", "--a", "2", "--b", "3"]) == 0
    assert cli_app.run_cli(["add", "--a", "2"]) == 0  # the method's default applies
    assert cli_app.run_cli(["scale", "--factor", "1.5", "--dry-run"]) == 0
    assert cli_app.run_cli(["whoami"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Hello, Ada!", "5", "12", "1.5 True", "Tools cli"]
    assert EVENTS == ["greet:Ada"]  # no lifespan by default


@pytest.mark.parametrize(
    "argv",
    [["greet"], ["add", "--a", "x"], ["scale", "--factor", "fast"], ["add", "--a", "1", "--c", "2"], ["nope"]],
    ids=["required-missing", "bad-int", "bad-float", "unknown-option", "unknown-command"],
)
def test_argument_errors_exit_2(cli_app: CliApp, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_app.run_cli(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_failing_command_exits_1_with_message(cli_app: CliApp, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_app.run_cli(["boom"])
    assert info.value.code == 1
    assert "RuntimeError: it broke" in capsys.readouterr().err


def test_no_command_prints_help_and_help_flag_exits_0(cli_app: CliApp, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_app.run_cli([]) == 0
    out = capsys.readouterr().out
    assert "greet" in out and "Greet someone." in out and "Add two numbers" in out
    with pytest.raises(SystemExit) as info:
        cli_app.run_cli(["add", "-h"])
    assert info.value.code == 0
    assert "--a INT" in capsys.readouterr().out


def test_lifespan_runs_hooks_around_the_command(cli_app: CliApp) -> None:
    assert cli_app.run_cli(["greet", "--name", "Bo"], lifespan=True) == 0
    assert EVENTS == ["startup", "greet:Bo", "shutdown"]
    EVENTS.clear()
    with pytest.raises(SystemExit):
        cli_app.run_cli(["boom"], lifespan=True)
    assert EVENTS == ["startup", "shutdown"]  # shutdown still runs after a failure


def test_sync_commands_may_run_their_own_event_loop(cli_app: CliApp, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_app.run_cli(["nested"]) == 0
    assert cli_app.run_cli(["nested"], lifespan=True) == 0
    assert capsys.readouterr().out.splitlines() == ["nested ok", "nested ok"]
    assert EVENTS == ["startup", "shutdown"]


def test_extensions_can_expose_commands(cli_app: CliApp, capsys: pytest.CaptureFixture[str]) -> None:
    """An extension (e.g. ``Migrate``) marks methods with ``@command`` and is found via ``app.extensions``."""

    class Migrations:
        configs_name = "MIGRATIONS"

        @command("db-upgrade", help="Upgrade the schema.")
        @argument("revision", arg_type=str)
        def upgrade(self, revision: str = "head") -> None:
            print("upgrade to", revision)

    cli_app.add_extension(Migrations())
    assert cli_app.run_cli(["db-upgrade"]) == 0
    assert cli_app.run_cli(["db-upgrade", "--revision", "abc"]) == 0
    assert capsys.readouterr().out.splitlines() == ["upgrade to head", "upgrade to abc"]

    class Clash(CLIController):
        @command("db-upgrade")
        def mine(self) -> None: ...

    with pytest.raises(ValueError, match="db-upgrade"):
        cli_app.register_cli_controller(Clash)


def test_duplicate_command_names_are_refused_at_registration(cli_app: CliApp) -> None:
    class Again(CLIController):
        @command("greet")
        def other_greet(self) -> None: ...

    with pytest.raises(ValueError, match="greet"):
        cli_app.register_cli_controller(Again)

    class Twice(CLIController):
        @command("x")
        def one(self) -> None: ...

        @command("x")
        def two(self) -> None: ...

    with pytest.raises(ValueError, match="x"):
        Twice(cli_app)


def test_decorator_validation() -> None:
    with pytest.raises(TypeError):
        argument("n", arg_type=list)
    with pytest.raises(ValueError):
        argument("not valid")
    with pytest.raises(ValueError):
        command("-x")


def test_cli_controllers_load_from_config_in_cli_mode(capsys: pytest.CaptureFixture[str]) -> None:
    class LoadedCfg(Cfg):
        CLI_CONTROLLERS: list[str] | None = [f"{__name__}:Tools"]
        CONTROLLERS: list[str] | None = ["no.such.module:Nothing"]  # not loaded in cli_mode

    @app(__name__, configs=LoadedCfg)
    class Loaded(Patera):
        pass

    assert Loaded(cli_mode=True).run_cli(["add", "--a", "1", "--b", "1"]) == 0
    assert capsys.readouterr().out.strip() == "2"


# ---------------------------------------------------------------------- the patera command (SPEC §15.1)


def test_help_and_unknown_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "new-project" in capsys.readouterr().out
    assert main(["-h"]) == 0
    assert "routes" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_console_script_entry_point() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "patera"]
    assert script.value == "patera.cli:main"
    assert script.load() is main


def test_routes_lists_every_rule_sorted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    assert main(["routes", "--app", "examples.api.app:Application"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["WS", "/api/v1/echo", "EchoApi.echo"] in rows
    assert ["GET,HEAD", "/api/v1/items/<int:item_id>", "ItemsApi.get_item"] in rows
    assert ["DELETE", "/api/v1/items/<int:item_id>", "ItemsApi.delete_item"] in rows
    assert ["GET,HEAD", "/static/<path:filename>", "Static.get"] in rows
    rules = [row[1] for row in rows]
    assert rules == sorted(rules)


def test_routes_with_a_bad_app_option(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    assert main(["routes", "--app", "examples.api.app"]) == 2
    assert main(["routes", "--app", "examples.api.app:Nope"]) == 1
    assert main(["routes", "--app", "examples.no_such_module:App"]) == 1
    assert "no_such_module" in capsys.readouterr().err


def test_discovery_in_the_example_folder() -> None:
    """``cd examples/api && patera routes`` finds ``app/__init__.py``."""
    result = run_patera("routes", cwd=REPO / "examples" / "api")
    assert result.returncode == 0, result.stderr
    assert "ItemsApi.create_item" in result.stdout


APP_SOURCE = (
    "from patera import Patera, app, BaseConfig\n"
    "class C(BaseConfig):\n    APP_NAME: str = 'd'\n    VERSION: str = '1'\n    BASE_PATH: str = '.'\n"
    "    DEFAULT_LOGGER: dict = {{'SINK': 'NULL'}}\n"
    "@app(__name__, configs=C)\nclass {name}(Patera):\n    pass\n"
)


@pytest.fixture
def scratch_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` as the working directory; modules discovery imports from it are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.split(".")[0] in {"app", "main", "run", "server", "application"}:
            del sys.modules[name]
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_discovery_skips_imported_classes_and_files_without_an_app(
    scratch_modules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("main", "run", "server"):
        assert name not in sys.modules
    (scratch_modules / "main.py").write_text("X = 1\n")  # no app: discovery moves on
    (scratch_modules / "server.py").write_text(APP_SOURCE.format(name="Served"))
    (scratch_modules / "run.py").write_text("from server import Served  # imported, not defined here\n")
    assert discover_app(scratch_modules) == "server:Served"
    assert main(["routes"]) == 0
    assert "Static.get" in capsys.readouterr().out


def test_discovery_failure_asks_for_app_option(scratch_modules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes"]) == 1
    assert "--app" in capsys.readouterr().err


def test_discover_app_prefers_the_app_package(scratch_modules: Path) -> None:
    (scratch_modules / "app").mkdir()
    (scratch_modules / "app" / "__init__.py").write_text(APP_SOURCE.format(name="Inside"))
    (scratch_modules / "main.py").write_text("raise SystemExit('must not be imported')\n")
    assert "app" not in sys.modules
    assert discover_app(scratch_modules) == "app:Inside"


def test_load_env_never_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env.dev").write_text("PATERA_T_A=dev\n")
    (tmp_path / ".env").write_text("PATERA_T_A=dotenv\nPATERA_T_B=from-file\n# comment\n")
    monkeypatch.setenv("PATERA_T_B", "from-env")
    monkeypatch.delenv("PATERA_T_A", raising=False)
    assert load_env(None, tmp_path) == tmp_path / ".env"
    assert os.environ["PATERA_T_A"] == "dotenv"  # .env wins over .env.dev (first found)
    assert os.environ["PATERA_T_B"] == "from-env"
    (tmp_path / ".env").unlink()
    monkeypatch.delenv("PATERA_T_A")
    assert load_env(None, tmp_path) == tmp_path / ".env.dev"
    assert os.environ["PATERA_T_A"] == "dev"
    assert load_env(None, tmp_path / "nothing-here") is None


# ---------------------------------------------------------------------- new-project


def test_new_project_passes_its_own_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new-project", "demo"]) == 0
    project = tmp_path / "demo"
    expected = {
        "app/__init__.py", "app/configs.py", "app/api/greetings_api.py", "app/api/exceptions.py",
        "app/cli/cli_controller.py", "app/tests/conftest.py", "app/tests/test_greetings_api.py",
        "run.py", "cli.py", ".env.example",
    }
    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert expected <= files
    assert not any(f.endswith("-tpl") or "__pycache__" in f for f in files)
    assert 'APP_NAME: str = "demo"' in (project / "app" / "configs.py").read_text()
    import patera

    pyproject = (project / "pyproject.toml").read_text()
    assert f'dependencies = ["patera[server]>={patera.__version__}"]' in pyproject  # never an older framework
    assert f'dev = ["patera[testing]>={patera.__version__}"]' in pyproject  # what app/tests needs
    assert "__PATERA_VERSION__" not in (project / "README.md").read_text()

    # Only the plugin the project needs (pytest-asyncio): autoloading every installed plugin is slow.
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "pytest_asyncio.plugin", "-p", "no:cacheprovider"],
        cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout

    capsys.readouterr()
    monkeypatch.chdir(project)
    before = set(sys.modules)
    try:
        assert main(["routes"]) == 0
    finally:
        for name in set(sys.modules) - before:
            if name == "app" or name.startswith("app."):
                del sys.modules[name]
        sys.path.remove(str(project))
    routes = capsys.readouterr().out
    assert "/api/v1/greetings/<int:greeting_id>" in routes
    assert "GreetingsApi.create_greeting" in routes

    cli = subprocess.run([sys.executable, "cli.py", "add", "--a", "2", "--b", "3"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert cli.returncode == 0, cli.stderr
    assert "The sum of 2 and 3 is 5." in cli.stdout


def test_new_project_refuses_a_non_empty_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    assert main(["new-project", "--name", "taken"]) == 1
    assert "--force" in capsys.readouterr().err
    assert not (tmp_path / "taken" / "run.py").exists()
    assert main(["new-project", "--name", "taken", "--force"]) == 0
    assert (tmp_path / "taken" / "run.py").is_file()
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
    (tmp_path / "emptydir").mkdir()
    assert main(["new-project", "emptydir"]) == 0  # an empty directory is fine


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "has space", "quo\"te"])
def test_new_project_rejects_bad_names(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new-project", name]) == 2
    assert list(tmp_path.iterdir()) == []


def test_new_project_without_a_name_and_no_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal
    assert main(["new-project"]) == 2
    assert "--name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_new_project_prompts_for_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "prompted")
    assert main(["new-project"]) == 0
    assert (tmp_path / "prompted" / "app" / "__init__.py").is_file()


# ---------------------------------------------------------------------- version and import errors


def test_version_flag_matches_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    import patera

    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert declared == patera.__version__ == "0.112.0"  # the release after Patera 0.111.13
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"patera {declared}"


@pytest.mark.parametrize("command", ["run", "routes"])
@pytest.mark.parametrize(
    ("flags", "env", "traceback_shown"),
    [([], {}, False), (["--verbose"], {}, True), ([], {"DEBUG": "true"}, True)],
    ids=["plain", "verbose", "debug-env"],
)
def test_unimportable_app_is_one_clear_line(
    tmp_path: Path, command: str, flags: list[str], env: dict[str, str], traceback_shown: bool
) -> None:
    pytest.importorskip("hypercorn")
    environ = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-m", "patera.cli", command, "--app", "nope.mod:X", *flags],
        cwd=tmp_path, env={**environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert result.returncode == 1
    message = f"patera {command}: could not import 'nope.mod': ModuleNotFoundError: No module named 'nope'"
    if traceback_shown:
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.splitlines()[-1] == message
    else:
        assert result.stderr.splitlines() == [message]
