"""Lifespan hooks and failures (SPEC §1.5) through the test client's lifespan driver."""

from __future__ import annotations

import pytest

from patera import BaseConfig, Patera, app, on_shutdown, on_startup
from patera.exceptions import MissingAppConfigurations
from patera.testing import PateraTestClient


class Config(BaseConfig):
    APP_NAME: str = "life"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False


def make(events: list[str], fail_startup: bool = False, fail_shutdown: bool = False) -> Patera:
    @app(__name__, configs=Config)
    class Life(Patera):
        @on_startup
        async def b_start(self) -> None:
            events.append("b_start")
            if fail_startup:
                raise RuntimeError("database unreachable")

        @on_startup
        def a_start(self) -> None:
            events.append("a_start")

        @on_shutdown
        async def z_stop(self) -> None:
            events.append("z_stop")
            if fail_shutdown:
                raise RuntimeError("close failed")

        @on_shutdown
        async def y_stop(self) -> None:
            events.append("y_stop")

    instance = Life()
    instance.add_on_startup_method(lambda: events.append("added_start"))
    instance.add_on_shutdown_method(lambda: events.append("added_stop"))
    return instance


async def test_hooks_run_in_order() -> None:
    events: list[str] = []
    async with PateraTestClient(make(events)):
        assert events == ["a_start", "b_start", "added_start"]
    assert events[3:] == ["y_stop", "z_stop", "added_stop"]


async def test_startup_failure_is_reported() -> None:
    with pytest.raises(RuntimeError, match="database unreachable"):
        async with PateraTestClient(make([], fail_startup=True)):
            pass


async def test_shutdown_failure_still_runs_the_rest() -> None:
    events: list[str] = []
    with pytest.raises(RuntimeError, match="close failed"):
        async with PateraTestClient(make(events, fail_shutdown=True)):
            pass
    assert events[-3:] == ["y_stop", "z_stop", "added_stop"]


async def test_unknown_scope_type() -> None:
    instance = make([])

    async def receive() -> dict[str, str]:
        return {}

    async def send(message: dict[str, str]) -> None:
        pass

    with pytest.raises(ValueError, match="unsupported"):
        await instance({"type": "carrier-pigeon"}, receive, send)


def test_app_without_configuration() -> None:
    class Bare(Patera):
        pass

    with pytest.raises(MissingAppConfigurations):
        Bare()

    class NotAConfig:
        APP_NAME = "x"

    @app(__name__, configs=NotAConfig)  # type: ignore[arg-type]
    class Wrong(Patera):
        pass

    with pytest.raises(MissingAppConfigurations):
        Wrong()

    class MissingKeys(BaseConfig):
        APP_NAME: str = "x"

    @app(__name__, configs=MissingKeys)
    class Incomplete(Patera):
        pass

    with pytest.raises(MissingAppConfigurations, match="VERSION"):
        Incomplete()
