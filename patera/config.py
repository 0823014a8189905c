"""Application configuration: the ``BaseConfig`` model and its environment loader.

``BaseConfig`` is a plain pydantic model, so every key is typed and validated once at
start-up. Values come, highest precedence first, from constructor keyword arguments, the
process environment, the ``.env`` file(s) named by ``env_file`` and the class defaults
(SPEC §1.2-1.3). The loader is in-house: the core must not depend on pydantic-settings or
python-dotenv.
"""

from __future__ import annotations

import copy
import json
import os
import re
import types
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._dotenv import read_dotenv
from .exceptions import MissingAppConfigurations

__all__ = (
    "DEFAULT_LOGGER_CONFIG",
    "DEFAULT_LOG_FORMAT",
    "IMPORT_STRING_KEYS",
    "BaseConfig",
    "load_config",
    "sets_key",
)

#: Format shared by the default logger and custom sinks (SPEC §13.1; README erratum fixed).
DEFAULT_LOG_FORMAT = (
    "<green>{time:HH:mm:ss}</green> | <level>{level}</level> | "
    "{extra[logger_name]} | <level>{message}</level>"
)

#: Default value of ``DEFAULT_LOGGER`` (SPEC §13.1).
DEFAULT_LOGGER_CONFIG: dict[str, Any] = {
    "SINK": "STDERR",
    "LEVEL": "TRACE",
    "FORMAT": DEFAULT_LOG_FORMAT,
    "ENQUEUE": False,
    "BACKTRACE": True,
    "DIAGNOSE": True,
    "COLORIZE": None,  # loguru's own detection: colour on a terminal, none in files and pipes
    "SERIALIZE": False,
    "ENCODING": "utf-8",
    "MODE": "a",
    "DELAY": True,
    "ROTATION": None,
    "RETENTION": None,
    "COMPRESSION": None,
}

#: Keys holding ``package.module:Name`` import strings (SPEC §1.6).
IMPORT_STRING_KEYS: tuple[str, ...] = (
    "CONTROLLERS",
    "CLI_CONTROLLERS",
    "EXTENSIONS",
    "MODELS",
    "EXCEPTION_HANDLERS",
    "MIDDLEWARE",
    "LOGGERS",
)

_IMPORT_STRING_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
_CONFIG_KEY_RE = re.compile(r"[A-Z][A-Z0-9_]*")
_TRUE_STRINGS = frozenset({"true", "1"})
# Class attributes that are behaviour, not configuration, even when named in UPPER_CASE.
# A plain function stays a config value (``LOG_FILTER = my_filter``): it is a callback.
_BEHAVIOUR_TYPES = (classmethod, staticmethod, property, cached_property)


def _is_behaviour(value: Any) -> bool:
    # ``decorator_info`` marks pydantic's validator/serializer wrappers.
    return isinstance(value, _BEHAVIOUR_TYPES) or hasattr(value, "decorator_info")


def _is_config_attribute(name: str, value: Any) -> bool:
    return _CONFIG_KEY_RE.fullmatch(name) is not None and not _is_behaviour(value)


_ModelMetaclass: type = type(BaseModel)


class _ConfigMeta(_ModelMetaclass):  # type: ignore[misc]
    """Let config classes use un-annotated UPPER_CASE attributes, as the original allowed.

    pydantic refuses ``DEBUG = False`` (a base field overridden without annotation) and
    ``CACHE = {...}`` (no annotation at all) at class creation. Before pydantic sees the
    namespace, an override of an inherited field borrows that field's annotation, and any
    other public data attribute is annotated ``ClassVar`` so it stays a class attribute;
    ``BaseConfig.model_post_init`` copies the UPPER_CASE ones into the instance's extras.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> type:
        annotations: dict[str, Any] = namespace.setdefault("__annotations__", {})
        inherited: dict[str, Any] = {}
        for base in reversed(bases):
            for field_name, info in getattr(base, "__pydantic_fields__", {}).items():
                inherited[field_name] = info.annotation
        for key, value in list(namespace.items()):
            if key in annotations or key.startswith("_") or key == "model_config":
                continue
            if _CONFIG_KEY_RE.fullmatch(key) is None:
                # Lower-case data attributes become plain class attributes; methods and other
                # descriptors are left for pydantic, which already knows to ignore them.
                if not hasattr(type(value), "__get__") and not isinstance(value, type):
                    annotations[key] = ClassVar[Any]
                continue
            if _is_behaviour(value):
                continue
            annotations[key] = inherited.get(key, ClassVar[Any])
        cls: type = super().__new__(mcs, name, bases, namespace, **kwargs)
        return cls


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types behind ``Annotated``/``Optional``/unions (None dropped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        found: list[Any] = []
        for arg in get_args(annotation):
            found.extend(_unwrap(arg))
        return found
    if annotation is type(None):
        return []
    return [annotation]


def _wants_json(annotation: Any) -> bool:
    """True for list/dict/sequence/nested-model fields, whose env strings hold JSON."""
    for tp in _unwrap(annotation):
        base = get_origin(tp) or tp
        if not isinstance(base, type) or issubclass(base, (str, bytes)):
            continue
        if issubclass(base, (Mapping, Sequence, set, frozenset, BaseModel)):
            return True
    return False


def _env_lookup(source: Mapping[str, str], case_sensitive: bool) -> dict[str, tuple[str, str]]:
    """Index variables by the name they are matched under: ``{match_key: (name, value)}``."""
    if case_sensitive:
        return {name: (name, value) for name, value in source.items()}
    index: dict[str, tuple[str, str]] = {}
    for name, value in source.items():
        # An exact upper-case spelling beats other casings of the same name.
        if name.upper() not in index or name == name.upper():
            index[name.upper()] = (name, value)
    return index


class BaseConfig(BaseModel, metaclass=_ConfigMeta):
    """Every configuration key of the application (SPEC §1.2).

    Subclass it and set values as class attributes; annotated fields are validated and may be
    overridden from the environment, un-annotated UPPER_CASE attributes are kept verbatim.

    Raises:
        MissingAppConfigurations: an environment or ``.env`` value is not valid JSON or does
            not validate for its field; the message names the variable.
        pydantic.ValidationError: a required key is missing or a class/keyword value is
            invalid (``load_config`` turns this into ``MissingAppConfigurations``).
    """

    # hide_input_in_errors: env values (SECRET_KEY, DSNs) must not end up in logged errors.
    # PERF: the schema is built when first needed; apps only ever validate subclasses.
    model_config = ConfigDict(extra="allow", validate_default=True, hide_input_in_errors=True, defer_build=True)

    # Loader settings: lower-case ClassVars, so they are never configuration keys.
    env_prefix: ClassVar[str] = ""
    env_file: ClassVar[str | Sequence[str] | None] = None
    env_file_encoding: ClassVar[str] = "utf-8"
    case_sensitive: ClassVar[bool] = False

    APP_NAME: str
    VERSION: str
    BASE_PATH: str

    # The app substitutes its own Request/Response when these stay None.
    REQUEST_CLASS: Any = None
    RESPONSE_CLASS: Any = None

    SECRET_KEY: str | None = None
    DEBUG: bool = True
    HOST: str = "localhost"
    PORT: int = 3000
    LIFESPAN: Literal["on", "auto", "off"] = "on"

    TEMPLATES_DIR: str = "/templates"
    AUTO_RELOAD: bool = True
    TEMPLATES_STRICT: bool = True
    STATIC_DIR: str = "/static"
    STATIC_URL: str = "/static"
    STATIC_CONTROLLER_NAME: str = "static"
    STRICT_SLASHES: bool = False

    OPEN_API: bool = True
    OPEN_API_URL: str = "/openapi"
    OPEN_API_DESCRIPTION: str = "Simple API"
    OPEN_API_SWAGGER_CDN: str = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

    CORS_ENABLED: bool = True
    CORS_ALLOW_ORIGINS: list[str] = Field(default_factory=lambda: ["*"])
    CORS_ALLOW_METHODS: list[str] = Field(
        default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    )
    CORS_ALLOW_HEADERS: list[str] = Field(default_factory=lambda: ["Authorization", "Content-Type"])
    CORS_EXPOSE_HEADERS: list[str] = Field(default_factory=list)
    CORS_ALLOW_CREDENTIALS: bool = True
    CORS_MAX_AGE: int | None = None

    DEFAULT_LOGGER: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_LOGGER_CONFIG))
    IN_MEMORY_LOG_BUFFER_SIZE: int = 1000
    ACCESS_LOG: bool = True

    MAX_CONTENT_LENGTH: int | None = None
    MAX_FORM_MEMORY_SIZE: int = 500_000
    MAX_FORM_FIELDS: int = 1000
    MAX_FORM_FILES: int = 1000
    MAX_PART_HEADER_SIZE: int = 8192
    FORM_SPOOL_MAX_SIZE: int = 1_048_576

    CONTROLLERS: list[str] | None = None
    CLI_CONTROLLERS: list[str] | None = None
    EXTENSIONS: list[str] | None = None
    MODELS: list[str] | None = None
    EXCEPTION_HANDLERS: list[str] | None = None
    MIDDLEWARE: list[str] | None = None
    LOGGERS: list[str] | None = None

    def __init__(self, **data: Any) -> None:
        env_values, origins = type(self)._read_env()
        try:
            super().__init__(**{**env_values, **data})
        except ValidationError as exc:
            from_env = sorted(
                {
                    origins[str(err["loc"][0])]
                    for err in exc.errors()
                    if err["loc"] and str(err["loc"][0]) in origins and err["loc"][0] not in data
                }
            )
            if from_env:
                raise MissingAppConfigurations(
                    f"Invalid configuration from {', '.join(from_env)}: {exc}"
                ) from exc
            raise

    # ------------------------------------------------------------------ environment

    @classmethod
    def _env_files(cls) -> list[str]:
        if cls.env_file is None:
            return []
        if isinstance(cls.env_file, (str, os.PathLike)):
            return [os.fspath(cls.env_file)]
        return [os.fspath(path) for path in cls.env_file]

    @classmethod
    def _read_env(cls) -> tuple[dict[str, Any], dict[str, str]]:
        """Values for declared fields from ``.env`` files and ``os.environ``.

        Returns the values and, per field, a description of where it came from (used to name
        the variable in errors). ``os.environ`` is only read.
        """
        layers: list[tuple[str, Mapping[str, str]]] = [
            (f".env file {path!r} variable", read_dotenv(path, cls.env_file_encoding))
            for path in cls._env_files()
        ]
        layers.append(("environment variable", os.environ))  # last, so it wins over files

        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for label, source in layers:
            index = _env_lookup(source, cls.case_sensitive)
            for field_name, info in cls.model_fields.items():
                wanted = cls.env_prefix + field_name
                hit = index.get(wanted if cls.case_sensitive else wanted.upper())
                if hit is None:
                    continue
                var_name, raw = hit
                origin = f"{label} {var_name!r}"
                value: Any = raw
                if _wants_json(info.annotation):
                    try:
                        value = json.loads(raw)
                    except json.JSONDecodeError as exc:
                        raise MissingAppConfigurations(
                            f"{origin} (config key {field_name}) must hold JSON: {exc}"
                        ) from exc
                values[field_name] = value
                origins[field_name] = origin
        return values, origins

    # ------------------------------------------------------------------ validation

    @field_validator("REQUEST_CLASS", "RESPONSE_CLASS")
    @classmethod
    def _must_be_class(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, type):
            raise ValueError(f"must be a class, got {value!r}")
        return value

    @field_validator(*IMPORT_STRING_KEYS, mode="before")
    @classmethod
    def _check_import_strings(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(
                "must be a list of import strings like 'package.module:Name', "
                f"not {type(value).__name__}"
            )
        bad = [
            entry
            for entry in value
            if not isinstance(entry, str) or _IMPORT_STRING_RE.fullmatch(entry) is None
        ]
        if bad:
            raise ValueError(f"invalid import string(s) {bad!r}; expected 'package.module:Name'")
        return list(value)

    def model_post_init(self, context: Any, /) -> None:
        """Copy un-annotated UPPER_CASE class attributes into the extras."""
        extra = self.__pydantic_extra__
        if extra is None:  # pragma: no cover - extra="allow" always provides the dict
            return
        fields = type(self).model_fields
        for klass in type(self).__mro__:
            if klass is BaseConfig or not issubclass(klass, BaseConfig):
                continue
            for name, value in vars(klass).items():
                # The MRO runs subclass-first, so the most derived value is seen first.
                if name in fields or name in extra or not _is_config_attribute(name, value):
                    continue
                try:
                    extra[name] = copy.deepcopy(value)  # instances must not share mutable state
                except Exception:  # noqa: BLE001 - uncopyable objects are shared as-is
                    extra[name] = value

    # ------------------------------------------------------------------ helpers

    def to_dict(self) -> dict[str, Any]:
        """Every declared key plus the extras, values as validated (classes stay classes)."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(self.__pydantic_extra__ or {})
        return data

    @staticmethod
    def value_to_bool(value: Any) -> bool:
        """Read a flag from loosely typed input: ``True``, ``1``, ``"true"``/``"1"`` are true."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value == 1
        if isinstance(value, str):
            return value.strip().lower() in _TRUE_STRINGS
        return False


def sets_key(config: BaseConfig, key: str) -> bool:
    """Whether the application's own configuration gives ``key`` a value (SPEC §7 warnings).

    True for a keyword argument, an environment or ``.env`` value, or a class attribute or
    annotated default in any ``BaseConfig`` subclass; False when the key only has its default.
    """
    if key in config.model_fields_set:
        return True
    for klass in type(config).__mro__:
        if klass is BaseConfig or not (isinstance(klass, type) and issubclass(klass, BaseConfig)):
            continue
        if key in vars(klass) or key in vars(klass).get("__annotations__", {}):
            return True
    return False


def load_config(configs: type[BaseConfig] | BaseConfig) -> BaseConfig:
    """Instantiate (or accept) the application's configuration.

    Raises:
        MissingAppConfigurations: ``configs`` is not a ``BaseConfig`` subclass or instance,
            a required key is missing or a value is invalid (pydantic's message included).
    """
    if isinstance(configs, BaseConfig):
        return configs
    if not (isinstance(configs, type) and issubclass(configs, BaseConfig)):
        raise MissingAppConfigurations(
            f"configs must be a BaseConfig subclass or instance, got {configs!r}"
        )
    try:
        return configs()
    except ValidationError as exc:
        raise MissingAppConfigurations(f"Invalid configuration {configs.__name__}: {exc}") from exc
