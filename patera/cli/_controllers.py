"""CLI controllers (SPEC §15.2): ``@command``/``@argument`` methods run by ``app.run_cli``.

The decorators only record metadata on the function; ``run_cli`` turns every registered
controller's commands into argparse subcommands once per call, so a CLI controller costs
nothing when the app serves HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..app import Patera

__all__ = (
    "ArgumentSpec",
    "CLIController",
    "CommandSpec",
    "argument",
    "collect_commands",
    "command",
    "command_sources",
    "run_cli",
)

F = TypeVar("F", bound=Callable[..., Any])
_SPEC_ATTR = "__patera_cli_command__"
_ARGS_ATTR = "__patera_cli_arguments__"
_ALLOWED_TYPES = (str, int, float, bool)


@dataclass(frozen=True)
class ArgumentSpec:
    """One ``--option`` of a command, as ``@argument`` declared it."""

    name: str
    arg_type: type
    description: str = ""

    @property
    def dest(self) -> str:
        """The keyword the method receives (``--dry-run`` → ``dry_run``)."""
        return self.name.replace("-", "_")


@dataclass
class CommandSpec:
    """A resolved command: its name, help text, options and the bound method."""

    name: str
    help: str
    handler: Callable[..., Any]
    arguments: list[ArgumentSpec] = field(default_factory=list)
    owner: str = ""


def command(command_name: str, help: str = "") -> Callable[[F], F]:  # `help` shadows: README keyword
    """Expose a ``CLIController`` method as the subcommand ``command_name``."""
    if not isinstance(command_name, str) or not command_name.strip() or command_name.startswith("-"):
        raise ValueError(f"invalid command name {command_name!r}")

    def mark(fn: F) -> F:
        setattr(fn, _SPEC_ATTR, (command_name.strip(), help))
        return fn

    return mark


def argument(name: str, arg_type: type = str, description: str = "") -> Callable[[F], F]:
    """Add the option ``--name`` to a command, converted with ``arg_type`` (int, float, str; bool = flag).

    The option is required when the method parameter of the same name has no default.
    """
    bare = name.lstrip("-").strip() if isinstance(name, str) else ""
    if not bare or not bare.replace("-", "_").isidentifier():
        raise ValueError(f"invalid argument name {name!r}")
    if arg_type not in _ALLOWED_TYPES:
        raise TypeError(f"@argument({name!r}) arg_type must be one of int, float, str or bool, got {arg_type!r}")

    def mark(fn: F) -> F:
        declared: list[ArgumentSpec] = list(getattr(fn, _ARGS_ATTR, ()))
        if any(a.dest == bare.replace("-", "_") for a in declared):
            raise ValueError(f"{fn.__qualname__}: argument {bare!r} declared twice")
        # Decorators apply bottom-up; inserting at the front keeps the source order.
        declared.insert(0, ArgumentSpec(bare, arg_type, description))
        setattr(fn, _ARGS_ATTR, tuple(declared))
        return fn

    return mark


class CLIController:
    """Groups ``@command`` methods; instantiated once by the app with ``(app)``.

    Raises:
        ValueError: a command name is used twice, here or by a controller registered earlier.
    """

    def __init__(self, app: Patera) -> None:
        self._app = app
        mine = [spec.name for spec in _own_commands(self)]
        duplicates = {name for name in mine if mine.count(name) > 1}
        taken = {spec.name for spec in collect_commands(command_sources(app))}
        duplicates |= taken.intersection(mine)
        if duplicates:
            raise ValueError(f"Duplicate CLI command name(s) {sorted(duplicates)} in {type(self).__name__}")

    @property
    def app(self) -> Patera:
        return self._app

    @property
    def ctrl_name(self) -> str:
        return type(self).__name__


def _own_commands(ctrl: Any) -> Iterator[CommandSpec]:
    seen: set[str] = set()
    for klass in type(ctrl).__mro__:
        for attr, member in vars(klass).items():
            if attr in seen:
                continue
            seen.add(attr)
            marker = getattr(member, _SPEC_ATTR, None)
            if marker is None:
                continue
            name, help_text = marker
            yield CommandSpec(
                name=name,
                help=help_text or _summary(member),
                handler=getattr(ctrl, attr),
                arguments=list(getattr(member, _ARGS_ATTR, ())),
                owner=type(ctrl).__name__,
            )


def _summary(fn: Any) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.splitlines()[0] if doc else ""


def collect_commands(controllers: Sequence[Any]) -> list[CommandSpec]:
    """Every command of ``controllers`` in registration order.

    Raises:
        ValueError: two commands share a name.
    """
    found: dict[str, CommandSpec] = {}
    for ctrl in controllers:
        for spec in _own_commands(ctrl):
            if spec.name in found:
                raise ValueError(f"Duplicate CLI command name {spec.name!r} ({found[spec.name].owner}, {spec.owner})")
            found[spec.name] = spec
    return list(found.values())


def command_sources(app: Patera) -> list[Any]:
    """CLI controllers, then extensions that expose ``@command`` methods (e.g. ``Migrate``)."""
    sources = list(getattr(app, "cli_controllers", ()))
    extensions = getattr(app, "extensions", None) or {}
    sources += [ext for ext in extensions.values() if ext not in sources and any(True for _ in _own_commands(ext))]
    return sources


def _converter(arg_type: type) -> Callable[[str], Any]:
    def convert(raw: str) -> Any:
        try:
            return arg_type(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {arg_type.__name__} value: {raw!r}") from None

    convert.__name__ = arg_type.__name__  # argparse names the type in its messages
    return convert


def _option_help(description: str, default: Any) -> str:
    return f"{description} (default: {default!r})".strip() if default is not None else description


def build_parser(prog: str | None, commands: Sequence[CommandSpec]) -> argparse.ArgumentParser:
    """One subcommand per command; options are ``--name``, required when the parameter has no default."""
    parser = argparse.ArgumentParser(prog=prog, description="Application commands.")
    sub = parser.add_subparsers(dest="__command__", metavar="COMMAND")
    for spec in commands:
        cmd = sub.add_parser(spec.name, help=spec.help, description=spec.help or None)
        params = inspect.signature(spec.handler).parameters
        for arg in spec.arguments:
            param = params.get(arg.dest)
            has_default = param is not None and param.default is not inspect.Parameter.empty
            option = "--" + arg.name
            if arg.arg_type is bool:
                cmd.add_argument(
                    option, dest=arg.dest, action="store_true", default=argparse.SUPPRESS, help=arg.description
                )
                continue
            cmd.add_argument(
                option,
                dest=arg.dest,
                type=_converter(arg.arg_type),
                required=not has_default,
                default=argparse.SUPPRESS,  # absent → the method's own default applies
                metavar=arg.arg_type.__name__.upper(),
                help=_option_help(arg.description, param.default if param is not None and has_default else None),
            )
    return parser


async def _invoke(app: Patera, spec: CommandSpec, kwargs: dict[str, Any], lifespan: bool) -> None:
    if lifespan:
        await app.startup()
    try:
        if inspect.iscoroutinefunction(spec.handler):
            await spec.handler(**kwargs)
        else:
            # NOTE: off the loop's thread, so a sync command may call asyncio.run() itself
            # (Alembic's async env.py does).
            await asyncio.to_thread(spec.handler, **kwargs)
    finally:
        if lifespan:
            await app.shutdown()


def _execute(app: Patera, spec: CommandSpec, kwargs: dict[str, Any], lifespan: bool) -> None:
    if not lifespan and not inspect.iscoroutinefunction(spec.handler):
        spec.handler(**kwargs)  # no event loop needed at all
    else:
        asyncio.run(_invoke(app, spec, kwargs, lifespan))


def run_cli(app: Patera, argv: Sequence[str] | None = None, *, lifespan: bool = False) -> int:
    """Parse ``argv`` and run the chosen command (``Patera.run_cli`` delegates here).

    Returns 0 on success or when no command was given (help is printed).

    Raises:
        SystemExit: 2 for argument errors (argparse), 1 when the command raised
            (the error is printed to stderr), 0 after ``-h``.
        ValueError: two registered commands share a name.
    """
    commands = collect_commands(command_sources(app))
    parser = build_parser(None, commands)
    args = vars(parser.parse_args(sys.argv[1:] if argv is None else list(argv)))
    name = args.pop("__command__", None)
    if name is None:
        parser.print_help()
        return 0
    spec = next(s for s in commands if s.name == name)
    try:
        _execute(app, spec, args, lifespan)
    except Exception as exc:  # reported, then a non-zero exit
        if getattr(app, "debug", False):
            traceback.print_exception(exc, file=sys.stderr)
        print(f"Error: command {name!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    return 0
