"""Shared fixtures: a tiny app factory so each test declares only what it exercises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from patera import BaseConfig, Patera, app

# Real Redis / PostgreSQL servers for the extension tests (fixtures redis_service, postgres_service);
# caplog_loguru captures loguru WARNING+ lines.
pytest_plugins = ["tests._services", "tests._logs"]


def build_app(*controllers: type, handlers: tuple[type, ...] = (), **config: Any) -> Patera:
    """A fresh Patera app with ``controllers`` registered and config keys overridden."""
    fields: dict[str, Any] = {
        "APP_NAME": "test",
        "VERSION": "1.0",
        "BASE_PATH": ".",
        "ACCESS_LOG": False,
        **config,
    }
    annotations = {key: Any for key in fields}
    Config = type("Config", (BaseConfig,), {"__annotations__": annotations, **fields})

    @app(__name__, configs=Config)
    class TestApp(Patera):
        pass

    instance = TestApp()
    if controllers:
        instance.register_controller(*controllers)
    if handlers:
        instance.register_exception_handler(*handlers)
    return instance


@pytest.fixture
def make_app() -> Callable[..., Patera]:
    return build_app


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (skipped without /usr/bin/chromium)")
