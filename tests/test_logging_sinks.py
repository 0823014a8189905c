"""Sinks never stack (SPEC §13.1): identical sink configs share one handler, released when no app holds it.

Handler counts are process-wide, so each scenario runs in a fresh interpreter; ``logger._core.handlers``
is loguru's handler table (private, but it is exactly the quantity the issue measured).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from patera._sinks import fingerprint

REPO_ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import asyncio, gc, sys
from loguru import logger
from patera import BaseConfig, Patera, app

def handlers():
    return len(logger._core.handlers)

def make(name="demo", cli_mode=False, **extra):
    fields = {"APP_NAME": name, "VERSION": "1", "BASE_PATH": ".",
              "DEFAULT_LOGGER": {"FORMAT": "{extra[logger_name]} | {level} | {message}"}, **extra}
    Config = type("Config", (BaseConfig,), {"__annotations__": {k: object for k in fields}, **fields})

    @app(__name__, configs=Config)
    class Demo(Patera):
        pass

    return Demo(cli_mode=cli_mode)

async def start_and_stop(application):
    await application.startup()
    await application.shutdown()
"""


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(code)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", **env},
    )


def test_identical_apps_write_each_message_once() -> None:
    result = run_python(
        """
        apps = [make() for _ in range(3)]
        logger.info("x")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines().count("demo | INFO | x") == 1, result.stderr


def test_a_hundred_apps_leave_no_more_handlers_than_one() -> None:
    result = run_python(
        """
        first = make()
        one = handlers()
        many = [make() for _ in range(99)]
        print(one, handlers())
        """
    )
    assert result.returncode == 0, result.stderr
    one, hundred = map(int, result.stdout.split())
    assert hundred == one == 2  # the default sink and the log-buffer hub


def test_apps_with_different_sink_configs_keep_their_own_sinks() -> None:
    result = run_python(
        """
        a, b = make("alpha"), make("beta")
        logger.info("y")
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "alpha | INFO | y" in lines and "beta | INFO | y" in lines


@pytest.mark.parametrize(
    "release",
    ["gc-unstarted", "lifespan-shutdown"],
)
def test_sinks_released_when_no_app_holds_them_and_host_sinks_survive(release: str) -> None:
    result = run_python(
        f"""
        host = []
        logger.add(lambda m: host.append(m.record["message"]), level="INFO", format="{{message}}")
        baseline = handlers()   # loguru's default handler 0 and the host's sink
        first, second = make(), make()
        logger.info("both alive")
        if {release!r} == "gc-unstarted":
            del first
            gc.collect()
            shared = handlers()
            logger.info("second holds the shared sink")
            del second
            gc.collect()
        else:
            asyncio.run(start_and_stop(first))
            shared = handlers()
            logger.info("second holds the shared sink")
            asyncio.run(start_and_stop(second))
        logger.info("no app left")
        print(baseline, shared, handlers(), "|".join(host))
        """
    )
    assert result.returncode == 0, result.stderr
    baseline, shared, after, host = result.stdout.split(maxsplit=3)
    # loguru's default handler is replaced once; the host sink stays; the shared pair lives on with
    # the second app and goes with it.
    assert (int(baseline), int(shared), int(after)) == (2, 3, 1)
    assert host.strip().split("|") == ["both alive", "second holds the shared sink", "no app left"]
    lines = result.stderr.splitlines()
    assert "demo | INFO | second holds the shared sink" in lines
    assert not any("no app left" in line for line in lines)


def test_a_restarted_app_takes_its_sinks_again() -> None:
    result = run_python(
        """
        application = make()
        asyncio.run(start_and_stop(application))
        logger.info("between runs")
        async def second_run():
            await application.startup()
            logger.info("second run")
            await application.shutdown()
        asyncio.run(second_run())
        print(handlers())
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0"]
    assert "demo | INFO | second run" in result.stderr.splitlines()
    assert "between runs" not in result.stderr


def test_log_buffers_stay_per_app_through_the_shared_hub() -> None:
    result = run_python(
        """
        a, b = make(), make()
        logger.info("to both")
        asyncio.run(start_and_stop(a))
        logger.info("to b only")
        print([r["message"] for r in a.log_buffer.get_all()], [r["message"] for r in b.log_buffer.get_all()])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['to both'] ['to both', 'to b only']"


@pytest.mark.parametrize(
    ("config", "terminal", "coloured"),
    [
        ("{}", False, False),  # stderr is a pipe: loguru's detection says no colour
        ('{"COLORIZE": True}', False, True),  # forced by the config
        ("{}", True, True),  # stderr is a terminal: colour
    ],
    ids=["pipe-default", "pipe-forced", "terminal-default"],
)
def test_colorize_defaults_to_loguru_detection(config: str, terminal: bool, coloured: bool) -> None:
    code = textwrap.dedent(PRELUDE) + f"make(DEFAULT_LOGGER={config})\nlogger.info('hello')\n"
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    if not terminal:
        result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                                timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        output = result.stderr
    else:
        main_fd, child_fd = pty.openpty()
        try:
            proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                  stderr=child_fd, timeout=60, env=env)
            assert proc.returncode == 0
            os.close(child_fd)
            child_fd = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(main_fd, 4096)
                except OSError:  # EIO: the terminal's other side is closed and drained
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            output = b"".join(chunks).decode()
        finally:
            os.close(main_fd)
            if child_fd >= 0:
                os.close(child_fd)
    assert "hello" in output
    assert ("\x1b[" in output) is coloured


def test_cli_mode_logs_in_the_apps_format() -> None:
    result = run_python(
        """
        from patera.cli import CLIController, command

        class Tools(CLIController):
            @command("hello")
            def hello(self) -> None:
                self.app.logger.info("cli mode")

        application = make("clidemo", cli_mode=True)
        application.register_cli_controller(Tools)
        sys.exit(application.run_cli(["hello"], lifespan=True))
        """
    )
    assert result.returncode == 0, result.stderr
    # Not loguru's default "2026-01-01 12:00:00.000 | INFO     | __main__:hello:9 - cli mode".
    assert result.stderr.splitlines() == ["clidemo | INFO | cli mode"]


# ---------------------------------------------------------------------------- fingerprints


def _closure_over(items: list[str]) -> Any:
    return lambda message: items.append(message)


_SHARED_LIST: list[str] = []


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ({"channel": "audit"}, {"channel": "audit"}, True),
        ({"channel": "audit"}, {"channel": "other"}, False),
        (["a", 1], ["a", 1], True),
        (Path("logs/app.log"), Path("logs/app.log"), True),
        (Path("logs/app.log"), Path("logs/other.log"), False),
        (timedelta(days=1), timedelta(days=1), True),
        (sys.stderr, sys.stderr, True),
        (sys.stderr, sys.stdout, False),
        (_closure_over(_SHARED_LIST), _closure_over(_SHARED_LIST), True),  # same code, same list
        (_closure_over([]), _closure_over([]), False),  # same code, different lists: different sinks
        (print, print, True),
    ],
    ids=["dict", "dict-differs", "list", "path", "path-differs", "duration", "stream", "stream-differs",
         "closure-same-target", "closure-other-target", "builtin"],
)
def test_fingerprint_equality(left: Any, right: Any, equal: bool) -> None:
    assert (fingerprint(left) == fingerprint(right)) is equal
    hash(fingerprint(left))
