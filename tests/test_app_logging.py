"""Logging through a whole app (SPEC §13, §1.5): LOGGERS file sinks, the access log, sink lifetime."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from loguru import logger

from patera import BaseConfig, Patera, Request, Response, app
from patera.controller import Controller, get, path, post
from patera.logging import LoggerBase
from patera.testing import PateraTestClient

ACCESS_RE = re.compile(
    r'^INFO \| FileLogger \| (?P<client>\S+) "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/(?P<version>[\d.]+)" '
    r"(?P<status>\d{3}) (?P<ms>\d+(?:\.\d+)?)ms$"
)
LINE_FORMAT = "{level} | {extra[logger_name]} | {message}"


class FileLogger(LoggerBase):
    """The README's custom sink; configured by the ``FILE_LOGGER`` dict."""


@path("/orders")
class Orders(Controller):
    @get("/<int:order_id>")
    async def show(self, req: Request, order_id: int) -> Response:
        self.app.logger.info("showing order {}", order_id)
        return req.response.json({"id": order_id})

    @post("/")
    async def create(self, req: Request) -> Response:
        self.app.logger.warning("order created")
        return req.response.json({"ok": True}).status(201)


def make_app(log_file: Path, **config: Any) -> Patera:
    fields: dict[str, Any] = {
        "APP_NAME": "shop",
        "VERSION": "1",
        "BASE_PATH": ".",
        "DEFAULT_LOGGER": {"SINK": "NULL"},
        "CORS_ALLOW_CREDENTIALS": False,  # keeps the build-time CORS warning out of the file
        "LOGGERS": [f"{__name__}:FileLogger"],
        "FILE_LOGGER": {
            "SINK": str(log_file),
            "FORMAT": LINE_FORMAT,
            "LEVEL": "DEBUG",
            "COLORIZE": False,
            "ROTATION": 2_000,  # bytes
            "RETENTION": 20,  # files kept
            "COMPRESSION": None,
        },
        **config,
    }
    Config = type("Config", (BaseConfig,), {"__annotations__": {k: Any for k in fields}, **fields})

    @app(__name__, configs=Config)
    class Shop(Patera):
        pass

    shop = Shop()
    shop.register_controller(Orders)
    return shop


def read_lines(folder: Path) -> list[str]:
    """Every line of every file in ``folder`` (rotated files included), oldest file first."""
    lines: list[str] = []
    for file in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns):
        lines += file.read_text(encoding="utf-8").splitlines()
    return lines


async def test_file_sink_gets_app_and_access_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "shop.log"  # parent folder created by the sink
    async with PateraTestClient(make_app(log_file)) as client:
        assert (await client.get("/orders/7", params={"token": "s3cret"})).status_code == 200
        assert (await client.post("/orders/")).status_code == 201
        assert (await client.get("/missing")).status_code == 404
    lines = read_lines(log_file.parent)
    assert "INFO | FileLogger | showing order 7" in lines
    assert "WARNING | FileLogger | order created" in lines
    access = [m.groupdict() for line in lines if (m := ACCESS_RE.match(line))]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("GET", "/orders/7", "200"), ("POST", "/orders/", "201"), ("GET", "/missing", "404"),
    ]
    assert {a["client"] for a in access} == {"127.0.0.1:123"}  # httpx's ASGITransport client address
    assert {a["version"] for a in access} == {"1.1"}
    assert all(float(a["ms"]) < 10_000 for a in access)
    assert not any("s3cret" in line or "token" in line for line in lines)  # query strings are not logged
    # The handler's line precedes the access line of its request: the access log follows the response.
    first_access = next(i for i, line in enumerate(lines) if ACCESS_RE.match(line))
    assert lines.index("INFO | FileLogger | showing order 7") < first_access


async def test_control_characters_in_the_path_are_escaped(tmp_path: Path) -> None:
    log_file = tmp_path / "shop.log"
    async with PateraTestClient(make_app(log_file)) as client:
        await client.get("/orders/%0AINFO%20%7C%20FileLogger%20%7C%20forged%1B[31m")
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith("INFO | FileLogger | forged") for line in lines)
    (access,) = [line for line in lines if '"GET ' in line]
    assert "/orders/\\x0aINFO | FileLogger | forged\\x1b[31m" in access
    assert "\x1b" not in log_file.read_text(encoding="utf-8")


async def test_rotation_keeps_every_line(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "shop.log"
    async with PateraTestClient(make_app(log_file, ACCESS_LOG=False)) as client:
        for n in range(60):
            assert (await client.get(f"/orders/{n}")).status_code == 200
    files = list(log_file.parent.iterdir())
    assert len(files) > 1  # rotated at 2,000 bytes
    assert all(f.stat().st_size <= 2_000 for f in files)
    assert [line for line in read_lines(log_file.parent) if "showing order" in line] == [
        f"INFO | FileLogger | showing order {n}" for n in range(60)
    ]


async def test_access_log_off_writes_no_access_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "shop.log"
    async with PateraTestClient(make_app(log_file, ACCESS_LOG=False)) as client:
        await client.get("/orders/1")
        await client.get("/missing")
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert "INFO | FileLogger | showing order 1" in lines
    assert not any(ACCESS_RE.match(line) or "/missing" in line for line in lines)


async def test_host_sinks_survive_and_app_sinks_are_removed_at_shutdown(tmp_path: Path) -> None:
    seen: list[str] = []
    host_id = logger.add(lambda message: seen.append(message.record["message"]), level="INFO", format="{message}")
    try:
        log_file = tmp_path / "shop.log"
        shop = make_app(log_file)
        app_ids = list(shop._sink_ids)
        assert host_id not in app_ids and len(app_ids) >= 2  # default sink, FileLogger, log buffer
        logger.info("after app creation")
        async with PateraTestClient(shop) as client:
            await client.get("/orders/3")
        logger.info("after shutdown")

        assert "after app creation" in seen and "showing order 3" in seen and "after shutdown" in seen
        text = log_file.read_text(encoding="utf-8")
        assert "after app creation" in text and "showing order 3" in text
        assert "after shutdown" not in text  # the FileLogger sink is gone
        # The app holds nothing any more; sinks it shared with other live apps (the default sink,
        # the log-buffer hub) stay for them (tests/test_logging_sinks.py counts handlers).
        assert shop._sink_ids == []
    finally:
        logger.remove(host_id)


async def test_each_app_removes_only_its_own_sinks(tmp_path: Path) -> None:
    first, second = make_app(tmp_path / "a" / "shop.log"), make_app(tmp_path / "b" / "shop.log")
    async with PateraTestClient(first):
        pass
    logger.info("second still listening")
    assert "second still listening" in (tmp_path / "b" / "shop.log").read_text(encoding="utf-8")
    assert not (tmp_path / "a" / "shop.log").exists() or "second still" not in (
        tmp_path / "a" / "shop.log"
    ).read_text(encoding="utf-8")
    async with PateraTestClient(second):
        pass
