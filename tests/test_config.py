"""``BaseConfig``: keys, validation and environment/.env loading (SPEC §1.2-1.3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from patera.config import DEFAULT_LOGGER_CONFIG, IMPORT_STRING_KEYS, BaseConfig, load_config
from patera.exceptions import MissingAppConfigurations


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Drop host variables that happen to share a config key's name (HOST, PORT, ...)."""
    keys = set(BaseConfig.model_fields) | {"NAME", "NESTED", "TAGS"}
    for name in list(os.environ):
        upper = name.upper()
        if upper in keys or any(upper == f"MYAPP_{k}" for k in keys):
            monkeypatch.delenv(name)
    yield


class Minimal(BaseConfig):
    APP_NAME: str = "test"
    VERSION: str = "1.0"
    BASE_PATH: str = "/srv"


# ---------------------------------------------------------------------------- keys


def test_defaults() -> None:
    cfg = Minimal()
    assert cfg.DEBUG is True
    assert cfg.HOST == "localhost"
    assert cfg.PORT == 3000
    assert cfg.LIFESPAN == "on"
    assert cfg.STATIC_URL == "/static"
    assert cfg.CORS_ALLOW_ORIGINS == ["*"]
    assert cfg.CORS_ALLOW_METHODS == ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    assert cfg.CORS_MAX_AGE is None
    assert cfg.MAX_CONTENT_LENGTH is None
    assert cfg.FORM_SPOOL_MAX_SIZE == 1_048_576
    assert cfg.DEFAULT_LOGGER == DEFAULT_LOGGER_CONFIG
    assert cfg.DEFAULT_LOGGER["FORMAT"].endswith("<level>{message}</level>")
    assert cfg.OPEN_API_SWAGGER_CDN.startswith("https://")
    for key in IMPORT_STRING_KEYS:
        assert getattr(cfg, key) is None


def test_mutable_defaults_not_shared() -> None:
    first, second = Minimal(), Minimal()
    first.CORS_ALLOW_ORIGINS.append("https://x")
    first.DEFAULT_LOGGER["LEVEL"] = "INFO"
    assert second.CORS_ALLOW_ORIGINS == ["*"]
    assert second.DEFAULT_LOGGER["LEVEL"] == "TRACE"


@pytest.mark.parametrize("missing", ["APP_NAME", "VERSION", "BASE_PATH"])
def test_required_keys(missing: str) -> None:
    values = {"APP_NAME": "a", "VERSION": "1", "BASE_PATH": "/"}
    del values[missing]
    with pytest.raises(ValidationError, match=missing):
        BaseConfig(**values)


def test_request_class_must_be_a_class() -> None:
    class Custom:
        pass

    assert Minimal(REQUEST_CLASS=Custom).REQUEST_CLASS is Custom
    assert Minimal().RESPONSE_CLASS is None
    with pytest.raises(ValidationError, match="must be a class"):
        Minimal(RESPONSE_CLASS="not a class")


def test_lifespan_literal() -> None:
    assert Minimal(LIFESPAN="auto").LIFESPAN == "auto"
    with pytest.raises(ValidationError):
        Minimal(LIFESPAN="sometimes")


# ---------------------------------------------------------------------------- list keys


@pytest.mark.parametrize("key", IMPORT_STRING_KEYS)
def test_list_keys_accept_any_sequence(key: str) -> None:
    value = ("app.api:UserApi", "pkg.sub.mod:Thing_2")
    assert getattr(Minimal(**{key: value}), key) == list(value)


@pytest.mark.parametrize("key", IMPORT_STRING_KEYS)
def test_list_keys_refuse_bare_str(key: str) -> None:
    with pytest.raises(ValidationError, match="list of import strings"):
        Minimal(**{key: "app.api:UserApi"})


@pytest.mark.parametrize(
    "bad",
    ["app.api", "app.api:", ":Name", "app..api:Name", "1app:Name", "app.api:Na-me", "app api:Name"],
    ids=["no-colon", "no-name", "no-module", "empty-segment", "digit-first", "dash", "space"],
)
def test_list_keys_refuse_bad_entries(bad: str) -> None:
    with pytest.raises(ValidationError, match="invalid import string"):
        Minimal(CONTROLLERS=["app.ok:Good", bad])


def test_list_keys_error_lists_every_offender() -> None:
    with pytest.raises(ValidationError) as info:
        Minimal(MIDDLEWARE=["a.b:C", "first-bad", "x.y:Z", "second.bad", 3])
    message = str(info.value)
    assert "'first-bad'" in message
    assert "'second.bad'" in message
    assert "3" in message
    assert "'a.b:C'" not in message


def test_list_keys_refuse_sets() -> None:
    with pytest.raises(ValidationError):
        Minimal(MODELS={"a.b:C"})


# ---------------------------------------------------------------------------- class attributes


def test_undeclared_upper_case_attributes_are_kept() -> None:
    class Config(Minimal):
        CACHE = {"BACKEND": "memory"}
        FILE_LOGGER = {"SINK": "/tmp/x.log"}
        FEATURE_FLAGS: ClassVar[list[str]] = ["a"]
        lower_case_helper = "not config"

        def helper(self) -> int:
            return 1

    cfg = Config()
    data = cfg.to_dict()
    assert data["CACHE"] == {"BACKEND": "memory"}
    assert data["FILE_LOGGER"] == {"SINK": "/tmp/x.log"}
    assert data["FEATURE_FLAGS"] == ["a"]
    assert "lower_case_helper" not in data
    assert "helper" not in data
    assert cfg.CACHE == {"BACKEND": "memory"}


def test_undeclared_attributes_are_copied_per_instance() -> None:
    class Config(Minimal):
        CACHE = {"BACKEND": "memory"}

    first = Config()
    first.to_dict()["CACHE"]["BACKEND"] = "changed"
    assert Config().to_dict()["CACHE"] == {"BACKEND": "memory"}


def test_undeclared_attributes_inherit_and_override() -> None:
    class Parent(Minimal):
        CACHE = {"BACKEND": "memory"}
        SHARED = 1

    class Child(Parent):
        CACHE = {"BACKEND": "redis"}

    data = Child().to_dict()
    assert data["CACHE"] == {"BACKEND": "redis"}
    assert data["SHARED"] == 1


def test_unannotated_override_of_declared_field_is_validated() -> None:
    class Config(Minimal):
        DEBUG = False
        PORT = "8080"

    cfg = Config()
    assert cfg.DEBUG is False
    assert cfg.PORT == 8080


def test_subclass_behaviour_is_not_config() -> None:
    def log_filter(record: dict[str, Any]) -> bool:
        return True

    class Config(Minimal):
        PORT = 10
        LOG_FILTER = log_filter
        helper_value = 3

        @field_validator("PORT")
        @classmethod
        def double_port(cls, value: int) -> int:
            return value * 2

        @property
        def URL(self) -> str:
            return f"{self.HOST}:{self.PORT}"

    cfg = Config()
    data = cfg.to_dict()
    assert cfg.PORT == 20  # the subclass validator ran on the un-annotated override
    assert data["LOG_FILTER"] is log_filter  # an UPPER_CASE callable is a config value
    assert "URL" not in data
    assert cfg.URL == "localhost:20"
    assert "helper_value" not in data
    assert Config.helper_value == 3


def test_env_overrides_unannotated_field_override(monkeypatch: pytest.MonkeyPatch) -> None:
    class Config(Minimal):
        DEBUG = False

    monkeypatch.setenv("DEBUG", "on")
    assert Config().DEBUG is True


def test_kwargs_beat_class_attributes() -> None:
    class Config(Minimal):
        CACHE = {"BACKEND": "memory"}

    assert Config(CACHE={"BACKEND": "redis"}).to_dict()["CACHE"] == {"BACKEND": "redis"}


def test_annotated_subclass_fields_and_extras() -> None:
    class Config(Minimal):
        MY_DICT: dict[str, int] = {"a": 1}

    cfg = Config(UNKNOWN_KW="x")
    data = cfg.to_dict()
    assert data["MY_DICT"] == {"a": 1}
    assert data["UNKNOWN_KW"] == "x"
    assert data["APP_NAME"] == "test"


def test_to_dict_keeps_classes() -> None:
    class Custom:
        pass

    assert Minimal(REQUEST_CLASS=Custom).to_dict()["REQUEST_CLASS"] is Custom


def test_loader_settings_are_not_config_keys() -> None:
    data = Minimal().to_dict()
    for name in ("env_prefix", "env_file", "env_file_encoding", "case_sensitive"):
        assert name not in data
        assert name not in Minimal.model_fields


# ---------------------------------------------------------------------------- value_to_bool


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        ("True", True),
        ("1", True),
        (1, True),
        (False, False),
        ("false", False),
        ("0", False),
        (0, False),
        (2, False),
        ("", False),
        ("yes", False),
        (None, False),
        ([], False),
    ],
)
def test_value_to_bool(value: Any, expected: bool) -> None:
    assert BaseConfig.value_to_bool(value) is expected


# ---------------------------------------------------------------------------- environment


def test_env_overrides_class_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setenv("DEBUG", "false")
    cfg = Minimal()
    assert cfg.PORT == 8000
    assert cfg.DEBUG is False


def test_kwargs_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8000")
    assert Minimal(PORT=9000).PORT == 9000


def test_env_fills_required_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_NAME", "from-env")
    monkeypatch.setenv("VERSION", "2")
    monkeypatch.setenv("BASE_PATH", "/env")
    cfg = BaseConfig()
    assert (cfg.APP_NAME, cfg.VERSION, cfg.BASE_PATH) == ("from-env", "2", "/env")


def test_env_beats_dotenv_beats_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv_path = tmp_path / ".env"
    dotenv_path.write_text("PORT=7000\nHOST=dotenv-host\nSTATIC_URL=/dot\n", encoding="utf-8")

    class Config(Minimal):
        env_file = str(dotenv_path)

    monkeypatch.setenv("PORT", "8000")
    cfg = Config(STATIC_URL="/kw")
    assert cfg.PORT == 8000  # environment > .env
    assert cfg.HOST == "dotenv-host"  # .env > class default
    assert cfg.STATIC_URL == "/kw"  # kwargs > .env
    assert cfg.STATIC_DIR == "/static"  # untouched default


def test_later_dotenv_files_win(tmp_path: Path) -> None:
    first, second = tmp_path / "base.env", tmp_path / "local.env"
    first.write_text("PORT=1111\nHOST=base\n", encoding="utf-8")
    second.write_text("PORT=2222\n", encoding="utf-8")

    class Config(Minimal):
        env_file = (str(first), str(tmp_path / "missing.env"), str(second))

    cfg = Config()
    assert cfg.PORT == 2222
    assert cfg.HOST == "base"


def test_dotenv_encoding(tmp_path: Path) -> None:
    dotenv_path = tmp_path / ".env"
    dotenv_path.write_text("APP_NAME=Škoda\n", encoding="utf-16")

    class Config(Minimal):
        env_file = str(dotenv_path)
        env_file_encoding = "utf-16"

    assert Config().APP_NAME == "Škoda"


def test_missing_env_file_is_not_an_error(tmp_path: Path) -> None:
    class Config(Minimal):
        env_file = str(tmp_path / "nope.env")

    assert Config().PORT == 3000


def test_env_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv_path = tmp_path / ".env"
    dotenv_path.write_text("MYAPP_HOST=prefixed-host\nHOST=ignored\n", encoding="utf-8")

    class Config(Minimal):
        env_prefix = "MYAPP_"
        env_file = str(dotenv_path)

    monkeypatch.setenv("PORT", "1")  # unprefixed: not read
    monkeypatch.setenv("MYAPP_DEBUG", "0")
    cfg = Config()
    assert cfg.PORT == 3000
    assert cfg.DEBUG is False
    assert cfg.HOST == "prefixed-host"


def test_case_insensitive_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("port", "8123")

    class Config(Minimal):
        env_prefix = "myapp_"

    monkeypatch.setenv("MyApp_Host", "mixed")
    assert Minimal().PORT == 8123
    assert Config().HOST == "mixed"


def test_case_sensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    class Config(Minimal):
        case_sensitive = True

    monkeypatch.setenv("port", "8123")
    assert Config().PORT == 3000
    monkeypatch.setenv("PORT", "8124")
    assert Config().PORT == 8124


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_env_bool_spellings(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("CORS_ENABLED", raw)
    assert Minimal().CORS_ENABLED is expected


def test_env_json_list_and_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", '["https://a.example", "https://b.example"]')
    monkeypatch.setenv("DEFAULT_LOGGER", '{"LEVEL": "INFO", "ENQUEUE": false}')
    monkeypatch.setenv("CONTROLLERS", '["app.api:UserApi"]')
    cfg = Minimal()
    assert cfg.CORS_ALLOW_ORIGINS == ["https://a.example", "https://b.example"]
    assert cfg.DEFAULT_LOGGER == {"LEVEL": "INFO", "ENQUEUE": False}
    assert cfg.CONTROLLERS == ["app.api:UserApi"]


class Nested(BaseModel):
    host: str
    port: int


def test_env_json_nested_model(monkeypatch: pytest.MonkeyPatch) -> None:
    class Config(Minimal):
        NESTED: Nested | None = None

    monkeypatch.setenv("NESTED", '{"host": "db", "port": "5432"}')
    assert Nested(host="db", port=5432) == Config().NESTED


def test_env_optional_int(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "1024")
    assert Minimal().MAX_CONTENT_LENGTH == 1024


def test_env_invalid_json_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example,https://b.example")
    with pytest.raises(MissingAppConfigurations, match="CORS_ALLOW_ORIGINS"):
        Minimal()


def test_dotenv_invalid_json_names_file_and_variable(tmp_path: Path) -> None:
    dotenv_path = tmp_path / "bad.env"
    dotenv_path.write_text("EXTENSIONS=[not json\n", encoding="utf-8")

    class Config(Minimal):
        env_file = str(dotenv_path)

    with pytest.raises(MissingAppConfigurations) as info:
        Config()
    assert "EXTENSIONS" in str(info.value)
    assert "bad.env" in str(info.value)


@pytest.mark.parametrize(
    ("name", "raw"),
    [("PORT", "eighty"), ("DEBUG", "maybe"), ("LIFESPAN", "sometimes"), ("MODELS", '"app:Model"')],
    ids=["int", "bool", "literal", "json-bare-string"],
)
def test_env_invalid_type_names_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(MissingAppConfigurations, match=f"environment variable '{name}'"):
        Minimal()


def test_env_invalid_value_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "s3cr3t-value")
    with pytest.raises(MissingAppConfigurations) as info:
        Minimal()
    assert "s3cr3t-value" not in str(info.value)


def test_invalid_env_ignored_when_kwarg_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    assert Minimal(PORT=1).PORT == 1


def test_unrelated_env_vars_never_enter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv_path = tmp_path / ".env"
    dotenv_path.write_text("SOME_OTHER_THING=1\nCACHE=from-dotenv\n", encoding="utf-8")

    class Config(Minimal):
        env_file = str(dotenv_path)
        CACHE = {"BACKEND": "memory"}

    monkeypatch.setenv("UNRELATED_VARIABLE", "x")
    monkeypatch.setenv("CACHE", "from-env")
    data = Config().to_dict()
    assert "UNRELATED_VARIABLE" not in data
    assert "SOME_OTHER_THING" not in data
    assert data["CACHE"] == {"BACKEND": "memory"}  # undeclared keys are never env-loaded


def test_environ_never_mutated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv_path = tmp_path / ".env"
    dotenv_path.write_text("HOST=dotenv-host\nNEW_VAR=1\n", encoding="utf-8")

    class Config(Minimal):
        env_file = str(dotenv_path)

    monkeypatch.setenv("PORT", "8000")
    before = dict(os.environ)
    Config()
    assert dict(os.environ) == before


# ---------------------------------------------------------------------------- load_config


def test_load_config_class_and_instance() -> None:
    cfg = load_config(Minimal)
    assert isinstance(cfg, Minimal)
    assert load_config(cfg) is cfg


def test_load_config_missing_key_gives_pydantic_message() -> None:
    class Incomplete(BaseConfig):
        APP_NAME: str = "x"

    with pytest.raises(MissingAppConfigurations, match="VERSION") as info:
        load_config(Incomplete)
    assert isinstance(info.value.__cause__, ValidationError)
    assert "Field required" in str(info.value)


def test_load_config_invalid_value() -> None:
    class Broken(Minimal):
        PORT = "not a number"

    with pytest.raises(MissingAppConfigurations, match="PORT"):
        load_config(Broken)


@pytest.mark.parametrize(
    "bad", [object(), dict, {"APP_NAME": "x"}, BaseModel], ids=["object", "dict-type", "dict", "plain-model"]
)
def test_load_config_rejects_non_baseconfig(bad: Any) -> None:
    with pytest.raises(MissingAppConfigurations, match="BaseConfig"):
        load_config(bad)
