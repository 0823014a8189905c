"""Loguru sinks configured from application settings (SPEC §13).

patera logs through the one shared loguru ``logger``. Importing this module never adds or
removes a sink: the host application's own sinks are left alone. At construction the app
removes only loguru's pre-installed stderr handler and takes its default sink and one sink per
``LoggerBase`` listed in ``LOGGERS`` as shareable specs (``patera._sinks``): apps with the same
sink configuration share one handler, released when no app holds it any more.
"""

from __future__ import annotations

import contextlib
import re
import sys
from abc import ABC
from collections.abc import Callable, Iterable, Mapping
from datetime import time, timedelta
from enum import StrEnum
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar, Protocol, TextIO, TypeAlias

from loguru import logger
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ._sinks import SinkSpec, fingerprint
from .config import DEFAULT_LOG_FORMAT
from .exceptions import ImproperlyConfigured

__all__ = (
    "DEFAULT_LOG_FORMAT",
    "CompressionType",
    "FilterType",
    "LogLevel",
    "LoggerBase",
    "LoggerConfig",
    "OutputSink",
    "RetentionType",
    "RotationType",
    "SinkInput",
    "configure_default_logger",
    "default_logger_spec",
    "remove_loguru_default_handler",
    "remove_sinks",
    "remove_sinks_async",
    "resolve_sink",
)


class LogLevel(StrEnum):
    """loguru's standard level names."""

    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class OutputSink(StrEnum):
    """The named, non-file sinks ``SINK`` may hold."""

    STDERR = "STDERR"
    STDOUT = "STDOUT"
    NULL = "NULL"


#: Record filter: ``None``, a module name (``"app.api"`` matches it and its submodules), a dict
#: of ``record["extra"]`` equalities, or a callable ``record -> bool``.
FilterType: TypeAlias = str | dict[str, Any] | Callable[[dict[str, Any]], bool] | None
RotationType: TypeAlias = str | int | timedelta | time | Callable[..., bool] | None
RetentionType: TypeAlias = str | int | timedelta | Callable[[list[str]], None] | None
CompressionType: TypeAlias = str | Callable[[str], None] | None
#: What ``SINK`` may be: a named sink, a file path, a text stream or a callable.
SinkInput: TypeAlias = str | PathLike[str] | TextIO | Callable[..., Any]

_SINK_ALIASES: dict[str, OutputSink] = {
    "STDERR": OutputSink.STDERR,
    "SYS.STDERR": OutputSink.STDERR,
    "SYS.ERR": OutputSink.STDERR,
    "ERR": OutputSink.STDERR,
    "CONSOLE": OutputSink.STDERR,
    "STDOUT": OutputSink.STDOUT,
    "SYS.STDOUT": OutputSink.STDOUT,
    "OUT": OutputSink.STDOUT,
    "NULL": OutputSink.NULL,
    "DEVNULL": OutputSink.NULL,
    "/DEV/NULL": OutputSink.NULL,
}
_FILE_ONLY_OPTIONS = ("rotation", "retention", "compression", "encoding", "mode", "delay")
_UPPER_SNAKE_RE = re.compile(r"(?<!^)(?=[A-Z])")


def _discard(message: Any) -> None:
    """The ``NULL`` sink."""


def resolve_sink(value: Any) -> Any:
    """Turn a configured ``SINK`` into what ``logger.add`` takes.

    Named sinks resolve to the *current* ``sys.stderr``/``sys.stdout`` (so test runners that
    swap the streams see the output); any other string or path becomes a ``Path`` (file sink).
    Streams and callables pass through unchanged.
    """
    if isinstance(value, str):  # OutputSink members are str too
        named = _SINK_ALIASES.get(str(value).strip().upper())
        if named is OutputSink.STDERR:
            return sys.stderr
        if named is OutputSink.STDOUT:
            return sys.stdout
        if named is OutputSink.NULL:
            return _discard
        return Path(value)
    if isinstance(value, PathLike):
        return Path(value)
    return value


def _config_name(class_name: str) -> str:
    """``FileLogger`` -> ``FILE_LOGGER``."""
    return _UPPER_SNAKE_RE.sub("_", class_name).upper()


def _compile_filter(spec: FilterType) -> Callable[[dict[str, Any]], bool] | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        if not spec:
            return None
        prefix = spec + "."

        def by_module(record: dict[str, Any]) -> bool:
            name = record["name"] or ""
            return bool(name == spec or name.startswith(prefix))

        return by_module
    if isinstance(spec, Mapping):
        wanted = dict(spec)

        def by_extra(record: dict[str, Any]) -> bool:
            extra = record["extra"]
            return all(key in extra and extra[key] == value for key, value in wanted.items())

        return by_extra
    if callable(spec):
        return spec
    raise ImproperlyConfigured(f"unsupported log filter {spec!r}")


class LoggerConfig(BaseModel):
    """Options of one sink (SPEC §13.2); unknown keys are kept for custom getters."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, defer_build=True)

    SINK: Any = OutputSink.STDERR
    LEVEL: LogLevel | str | int = LogLevel.TRACE
    FORMAT: str | Callable[..., str] = DEFAULT_LOG_FORMAT
    FILTER: Any = None
    ENQUEUE: bool = False
    BACKTRACE: bool = True
    DIAGNOSE: bool = True
    COLORIZE: bool | None = None  # None: loguru decides (colour on a terminal only)
    SERIALIZE: bool = False
    DELAY: bool = True
    ROTATION: RotationType = "5 MB"
    RETENTION: RetentionType = "10 days"
    COMPRESSION: CompressionType = "zip"
    ENCODING: str = "utf-8"
    MODE: str = "a"

    @field_validator("LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) and not isinstance(value, LogLevel) else value


class _ConfigSource(Protocol):
    def get_conf(self, name: str, default: Any = None) -> Any: ...


_MISSING: Any = object()


class LoggerBase(ABC):  # noqa: B024 - abstract by contract (SPEC §13.2), every method has a default
    """One loguru sink configured from the app config dict named after the class.

    ``FileLogger`` reads ``FILE_LOGGER`` (set ``configs_name`` to choose another key). Every
    option has a ``get_*`` method; override one to compute the value instead of reading it.

    Raises:
        ImproperlyConfigured: the config dict does not validate against ``configs_model``.
    """

    configs_model: ClassVar[type[LoggerConfig]] = LoggerConfig
    configs_name: ClassVar[str | None] = None

    def __init__(self, app: _ConfigSource) -> None:
        self._app = app
        name = self.configs_name or _config_name(type(self).__name__)
        raw = app.get_conf(name, {}) or {}
        if not isinstance(raw, Mapping):
            raise ImproperlyConfigured(f"Invalid configuration for {name}: expected a dict")
        try:
            self._configs = self.configs_model.model_validate(
                {str(key).upper(): value for key, value in raw.items()}
            )
        except ValidationError as exc:
            raise ImproperlyConfigured(f"Invalid configuration for {name}: {exc}") from exc
        self.sink_id: int | None = None

    # ------------------------------------------------------------------ config access

    @property
    def app(self) -> Any:
        return self._app

    @property
    def configs(self) -> LoggerConfig:
        return self._configs

    @property
    def logger_name(self) -> str:
        """Written to ``record["extra"]["logger_name"]`` for this sink's records."""
        return type(self).__name__

    def get_conf_value(self, key: str, default: Any = _MISSING) -> Any:
        """The value the user configured for ``key``, else ``default``.

        Without ``default`` the model's default is returned, so built-in getters and custom
        ones (``get_conf_value("FORMAT", "my format")``) both read naturally.
        """
        cfg = self._configs
        if key in cfg.model_fields_set:
            return getattr(cfg, key)
        extra = cfg.__pydantic_extra__ or {}
        if key in extra:
            return extra[key]
        if default is not _MISSING:
            return default
        return getattr(cfg, key, None)

    # ------------------------------------------------------------------ overridable getters

    def get_sink(self) -> SinkInput:
        value: SinkInput = resolve_sink(self.get_conf_value("SINK"))
        return value

    def get_level(self) -> str | int:
        level = self.get_conf_value("LEVEL")
        return level if isinstance(level, int) else str(level)

    def get_format(self) -> str | Callable[..., str]:
        value: str | Callable[..., str] = self.get_conf_value("FORMAT")
        return value

    def get_filter(self) -> FilterType:
        value: FilterType = self.get_conf_value("FILTER")
        return value

    def get_enqueue(self) -> bool:
        return bool(self.get_conf_value("ENQUEUE"))

    def get_backtrace(self) -> bool:
        return bool(self.get_conf_value("BACKTRACE"))

    def get_diagnose(self) -> bool:
        return bool(self.get_conf_value("DIAGNOSE"))

    def get_colorize(self) -> bool | None:
        """``None`` (the default) lets loguru decide: colour on a terminal, none in files and pipes."""
        value = self.get_conf_value("COLORIZE")
        return None if value is None else bool(value)

    def get_serialize(self) -> bool:
        return bool(self.get_conf_value("SERIALIZE"))

    def get_delay(self) -> bool:
        return bool(self.get_conf_value("DELAY"))

    def get_rotation(self) -> RotationType:
        value: RotationType = self.get_conf_value("ROTATION")
        return value

    def get_retention(self) -> RetentionType:
        value: RetentionType = self.get_conf_value("RETENTION")
        return value

    def get_compression(self) -> CompressionType:
        value: CompressionType = self.get_conf_value("COMPRESSION")
        return value

    def get_encoding(self) -> str | None:
        value: str | None = self.get_conf_value("ENCODING")
        return value

    def get_mode(self) -> str | None:
        value: str | None = self.get_conf_value("MODE")
        return value

    # ------------------------------------------------------------------ sink

    def _build_filter(self) -> Callable[[dict[str, Any]], bool]:
        name = self.logger_name
        user_filter = _compile_filter(self.get_filter())

        # NOTE: loguru hands the same record to every handler and formats it right after the
        # filter passes, so setting the name here labels this sink's output only.
        if user_filter is None:

            def inject(record: dict[str, Any]) -> bool:
                record["extra"]["logger_name"] = name
                return True

            return inject

        def inject_then_filter(record: dict[str, Any]) -> bool:
            record["extra"]["logger_name"] = name
            return bool(user_filter(record))

        return inject_then_filter

    def configure(self) -> int:
        """Add this sink to the shared logger and return its id (kept for ``remove_sinks``).

        File-only options are dropped for streams and callables, ``None`` options are not
        passed (loguru's own default applies) and a file sink's parent directories are created.
        """
        sink, options = self.sink_options()
        self.sink_id = logger.add(sink, **options)
        return self.sink_id

    def sink_spec(self) -> SinkSpec:
        """This sink as a shareable spec: apps whose sinks resolve to the same options share one.

        The key is built from the getters' results, not from this object, so it holds no
        reference to the app (a filter or sink that refers to the app keeps that app alive
        until its lifespan shutdown releases it).
        """
        sink, options = self.sink_options()
        shown = {key: value for key, value in options.items() if key != "filter"}
        key = ("sink", self.logger_name, fingerprint(sink), fingerprint(shown), fingerprint(self.get_filter()))
        return SinkSpec(key, sink, options)

    def sink_options(self) -> tuple[Any, dict[str, Any]]:
        """``(sink, options)`` as ``configure`` passes them to ``logger.add``."""
        sink = resolve_sink(self.get_sink())
        options: dict[str, Any] = {
            "level": self.get_level(),
            "format": self.get_format(),
            "filter": self._build_filter(),
            "enqueue": self.get_enqueue(),
            "backtrace": self.get_backtrace(),
            "diagnose": self.get_diagnose(),
            "colorize": self.get_colorize(),
            "serialize": self.get_serialize(),
        }
        if isinstance(sink, Path):
            sink.parent.mkdir(parents=True, exist_ok=True)
            options.update(
                rotation=self.get_rotation(),
                retention=self.get_retention(),
                compression=self.get_compression(),
                encoding=self.get_encoding(),
                mode=self.get_mode(),
                delay=self.get_delay(),
            )
        return sink, {key: value for key, value in options.items() if value is not None}


class _DefaultLogger(LoggerBase):
    """The app's own sink, configured from ``DEFAULT_LOGGER`` and named after the app."""

    configs_name = "DEFAULT_LOGGER"

    @property
    def logger_name(self) -> str:
        return str(self.app.get_conf("APP_NAME") or "patera")


class _MappingSource:
    """Adapts a plain config mapping to the ``get_conf`` interface ``LoggerBase`` reads."""

    def __init__(self, configs: Mapping[str, Any]) -> None:
        self._configs = configs

    def get_conf(self, name: str, default: Any = None) -> Any:
        return self._configs.get(name, default)


# loguru installs one stderr handler with id 0 at import; ids are never reused, so removing
# id 0 can only ever remove that handler and never a sink the host application added.
_LOGURU_DEFAULT_HANDLER_ID = 0


def remove_loguru_default_handler() -> None:
    """Remove loguru's pre-installed stderr handler, and only that one (host sinks stay)."""
    with contextlib.suppress(ValueError):  # already removed by us or by the host application
        logger.remove(_LOGURU_DEFAULT_HANDLER_ID)


def default_logger_spec(app_configs: Mapping[str, Any]) -> SinkSpec:
    """The app's default sink (``DEFAULT_LOGGER``, named ``APP_NAME``) as a shareable spec.

    Raises:
        ImproperlyConfigured: ``DEFAULT_LOGGER`` is invalid.
    """
    return _DefaultLogger(_MappingSource(app_configs)).sink_spec()


def configure_default_logger(app_configs: Mapping[str, Any]) -> int:
    """Replace loguru's pre-installed handler with the app's default sink (SPEC §13.1).

    ``DEFAULT_LOGGER`` keys override the ``LoggerConfig`` defaults; ``logger_name`` is
    ``APP_NAME``. Returns the new sink's id.

    Raises:
        ImproperlyConfigured: ``DEFAULT_LOGGER`` is invalid (the old handler is then kept).
    """
    default_logger = _DefaultLogger(_MappingSource(app_configs))  # validate before removing
    remove_loguru_default_handler()
    return default_logger.configure()


def remove_sinks(ids: Iterable[int]) -> None:
    """Flush queued messages, then remove each sink; ids already removed are ignored.

    Removing ``enqueue=True`` sinks stops their worker and closes their queue, which is what
    prevents the "leaked semaphore" warning at interpreter exit.
    """
    logger.complete()
    for sink_id in ids:
        with contextlib.suppress(ValueError):
            logger.remove(sink_id)


async def remove_sinks_async(ids: Iterable[int]) -> None:
    """``remove_sinks`` for async code: also awaits tasks scheduled by coroutine sinks."""
    await logger.complete()
    remove_sinks(ids)
