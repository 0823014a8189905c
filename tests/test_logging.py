"""Logging: ``LoggerBase`` sinks, the default logger and the in-memory buffer (SPEC §13, §1.4)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

import patera.logging as patera_logging
from patera._log_buffer import LogBuffer
from patera.config import DEFAULT_LOG_FORMAT
from patera.exceptions import ImproperlyConfigured
from patera.logging import (
    FilterType,
    LoggerBase,
    LoggerConfig,
    LogLevel,
    OutputSink,
    remove_sinks,
    remove_sinks_async,
    resolve_sink,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


class FakeApp:
    """Just enough of ``Patera`` for ``LoggerBase``."""

    def __init__(self, **configs: Any) -> None:
        self.configs = {"APP_NAME": "fake-app", **configs}
        self.app_name = self.configs["APP_NAME"]

    def get_conf(self, name: str, default: Any = None) -> Any:
        return self.configs.get(name, default)


class FileLogger(LoggerBase):
    pass


class AuditLogger(LoggerBase):
    pass


class MyHttpAccessLogger(LoggerBase):
    pass


@pytest.fixture
def sink_ids() -> Iterator[list[int]]:
    """Sink ids added by a test; removed afterwards so tests stay independent."""
    ids: list[int] = []
    yield ids
    remove_sinks(ids)


def collecting(into: list[str]) -> Any:
    """A callable sink storing each formatted message without its newline."""
    return lambda message: into.append(str(message).rstrip("\n"))


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )


# ---------------------------------------------------------------------------- enums and config


def test_log_level_members() -> None:
    assert [m.value for m in LogLevel] == ["TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    assert LogLevel.DEBUG == "DEBUG"


def test_logger_config_defaults() -> None:
    cfg = LoggerConfig()
    assert cfg.SINK == OutputSink.STDERR
    assert cfg.LEVEL == LogLevel.TRACE
    assert cfg.FORMAT == DEFAULT_LOG_FORMAT
    assert (cfg.ENQUEUE, cfg.BACKTRACE, cfg.DIAGNOSE) == (False, True, True)
    assert cfg.COLORIZE is None  # loguru's own detection (SPEC §13.1)
    assert (cfg.DELAY, cfg.SERIALIZE) == (True, False)
    assert (cfg.ROTATION, cfg.RETENTION, cfg.COMPRESSION) == ("5 MB", "10 days", "zip")
    assert (cfg.ENCODING, cfg.MODE) == ("utf-8", "a")


@pytest.mark.parametrize(
    ("cls", "key"),
    [(FileLogger, "FILE_LOGGER"), (AuditLogger, "AUDIT_LOGGER"), (MyHttpAccessLogger, "MY_HTTP_ACCESS_LOGGER")],
    ids=["file", "audit", "multi-word"],
)
def test_reads_upper_snake_config(cls: type[LoggerBase], key: str) -> None:
    instance = cls(FakeApp(**{key: {"LEVEL": "ERROR"}}))
    assert instance.get_level() == "ERROR"


def test_missing_config_uses_defaults() -> None:
    instance = FileLogger(FakeApp())
    assert instance.get_level() == "TRACE"
    assert instance.get_sink() is sys.stderr
    assert instance.logger_name == "FileLogger"


def test_configs_name_override() -> None:
    class Custom(LoggerBase):
        configs_name = "SOMETHING_ELSE"

    assert Custom(FakeApp(SOMETHING_ELSE={"LEVEL": "info"})).get_level() == "INFO"


def test_lower_case_keys_and_level_accepted() -> None:
    instance = FileLogger(FakeApp(FILE_LOGGER={"level": "warning"}))
    assert instance.get_level() == "WARNING"


@pytest.mark.parametrize(
    "bad",
    [{"ENQUEUE": "not-a-bool"}, {"ROTATION": [1, 2]}, "not a dict"],
    ids=["bool", "rotation", "not-dict"],
)
def test_invalid_config_refused(bad: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="FILE_LOGGER"):
        FileLogger(FakeApp(FILE_LOGGER=bad))


def test_get_conf_value_prefers_user_value_then_given_default() -> None:
    instance = FileLogger(FakeApp(FILE_LOGGER={"FORMAT": "{message}", "CUSTOM_KEY": 5}))
    assert instance.get_conf_value("FORMAT", "fallback") == "{message}"
    assert instance.get_conf_value("CUSTOM_KEY") == 5
    assert instance.get_conf_value("LEVEL", "DEBUG") == "DEBUG"  # not configured: caller's default
    assert instance.get_conf_value("LEVEL") == LogLevel.TRACE  # no default given: model default
    assert instance.get_conf_value("ABSENT") is None


def test_custom_configs_model() -> None:
    class PerfConfig(LoggerConfig):
        THRESHOLD_MS: int = 100

    class PerfLogger(LoggerBase):
        configs_model = PerfConfig

    instance = PerfLogger(FakeApp(PERF_LOGGER={"THRESHOLD_MS": "250"}))
    assert instance.get_conf_value("THRESHOLD_MS") == 250


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("STDERR", "stderr"),
        ("stderr", "stderr"),
        ("sys.err", "stderr"),
        ("console", "stderr"),
        (OutputSink.STDERR, "stderr"),
        ("STDOUT", "stdout"),
        ("out", "stdout"),
        ("sys.stdout", "stdout"),
        ("NULL", "null"),
        ("devnull", "null"),
    ],
)
def test_resolve_named_sinks(value: Any, expected: str) -> None:
    resolved = resolve_sink(value)
    if expected == "stderr":
        assert resolved is sys.stderr
    elif expected == "stdout":
        assert resolved is sys.stdout
    else:
        assert callable(resolved)
        assert resolved("ignored") is None


def test_resolve_paths_and_passthrough(tmp_path: Path) -> None:
    assert resolve_sink("logs/app.log") == Path("logs/app.log")
    assert resolve_sink(tmp_path / "a.log") == tmp_path / "a.log"
    stream = io.StringIO()
    assert resolve_sink(stream) is stream
    assert resolve_sink(print) is print


# ---------------------------------------------------------------------------- sinks


def test_file_sink_rotation_writes_expected_lines(tmp_path: Path, sink_ids: list[int]) -> None:
    path = tmp_path / "nested" / "dir" / "app.log"
    app = FakeApp(
        FILE_LOGGER={
            "SINK": str(path),
            "FORMAT": "{extra[logger_name]} | {level} | {message}",
            "ROTATION": "300 B",
            "RETENTION": 100,
            "COMPRESSION": None,
        }
    )
    sink_ids.append(FileLogger(app).configure())
    for i in range(30):
        logger.info("line {:02d} padding padding", i)
    remove_sinks(sink_ids)

    files = sorted(path.parent.iterdir())
    assert len(files) > 1, "rotation never happened"
    assert path in files
    lines = [
        line for file in files for line in file.read_text(encoding="utf-8").splitlines() if line
    ]
    assert sorted(lines) == [f"FileLogger | INFO | line {i:02d} padding padding" for i in range(30)]
    assert "\x1b[" not in "".join(lines)  # no ANSI codes in files unless COLORIZE is set


def test_file_sink_compression(tmp_path: Path, sink_ids: list[int]) -> None:
    path = tmp_path / "zipped.log"
    app = FakeApp(FILE_LOGGER={"SINK": path, "ROTATION": "200 B", "COMPRESSION": "zip", "FORMAT": "{message}"})
    sink_ids.append(FileLogger(app).configure())
    for i in range(20):
        logger.info("compress me {}", i)
    remove_sinks(sink_ids)
    assert any(p.suffix == ".zip" for p in tmp_path.iterdir())


def test_file_sink_colorize_explicit(tmp_path: Path, sink_ids: list[int]) -> None:
    path = tmp_path / "color.log"
    app = FakeApp(FILE_LOGGER={"SINK": str(path), "COLORIZE": True, "FORMAT": "<red>{message}</red>"})
    sink_ids.append(FileLogger(app).configure())
    logger.info("colored")
    remove_sinks(sink_ids)
    assert "\x1b[" in path.read_text(encoding="utf-8")


def test_serialize_json_lines(tmp_path: Path, sink_ids: list[int]) -> None:
    path = tmp_path / "app.jsonl"
    app = FakeApp(FILE_LOGGER={"SINK": str(path), "SERIALIZE": True})
    sink_ids.append(FileLogger(app).configure())
    logger.warning("as json")
    remove_sinks(sink_ids)
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])["record"]
    assert record["message"] == "as json"
    assert record["extra"]["logger_name"] == "FileLogger"


def test_stream_sink_drops_file_only_options(sink_ids: list[int]) -> None:
    stream = io.StringIO()
    # loguru raises TypeError if rotation/retention/... reach a stream sink.
    app = FakeApp(
        FILE_LOGGER={"SINK": stream, "ROTATION": "1 KB", "RETENTION": 3, "MODE": "w", "FORMAT": "{message}"}
    )
    sink_ids.append(FileLogger(app).configure())
    logger.info("to the stream")
    assert stream.getvalue() == "to the stream\n"


class _RecordingLogger:
    """Stands in for loguru's logger to capture what ``configure`` passes to ``add``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def add(self, sink: Any, **kwargs: Any) -> int:
        self.calls.append((sink, kwargs))
        return 42


def test_none_values_not_passed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _RecordingLogger()
    monkeypatch.setattr(patera_logging, "logger", fake)
    app = FakeApp(FILE_LOGGER={"SINK": str(tmp_path / "x.log"), "ROTATION": None, "COMPRESSION": None})
    assert FileLogger(app).configure() == 42
    sink, kwargs = fake.calls[0]
    assert sink == tmp_path / "x.log"
    assert "rotation" not in kwargs
    assert "compression" not in kwargs
    assert kwargs["retention"] == "10 days"
    assert kwargs["delay"] is True
    assert callable(kwargs["filter"])


def test_stream_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _RecordingLogger()
    monkeypatch.setattr(patera_logging, "logger", fake)
    FileLogger(FakeApp(FILE_LOGGER={"SINK": "stdout"})).configure()
    sink, kwargs = fake.calls[0]
    assert sink is sys.stdout
    # COLORIZE defaults to None, which is not passed: loguru detects a terminal itself.
    assert set(kwargs) == {"level", "format", "filter", "enqueue", "backtrace", "diagnose", "serialize"}


def test_level_threshold(sink_ids: list[int]) -> None:
    seen: list[str] = []
    config = {"SINK": collecting(seen), "LEVEL": LogLevel.WARNING, "FORMAT": "{message}"}
    sink_ids.append(FileLogger(FakeApp(FILE_LOGGER=config)).configure())
    logger.info("quiet")
    logger.warning("loud")
    assert seen == ["loud"]


def test_logger_name_per_sink(sink_ids: list[int]) -> None:
    first: list[str] = []
    second: list[str] = []
    fmt = "{extra[logger_name]}: {message}"
    sink_ids.append(FileLogger(FakeApp(FILE_LOGGER={"SINK": collecting(first), "FORMAT": fmt})).configure())
    sink_ids.append(AuditLogger(FakeApp(AUDIT_LOGGER={"SINK": collecting(second), "FORMAT": fmt})).configure())
    logger.info("hello")
    assert first == ["FileLogger: hello"]
    assert second == ["AuditLogger: hello"]


def test_logger_name_property_override(sink_ids: list[int]) -> None:
    class Named(LoggerBase):
        @property
        def logger_name(self) -> str:
            return "custom-name"

    seen: list[str] = []
    app = FakeApp(NAMED={"SINK": collecting(seen), "FORMAT": "{extra[logger_name]}"})
    sink_ids.append(Named(app).configure())
    logger.info("x")
    assert seen == ["custom-name"]


def _emit_from_other_module() -> None:
    # A record whose module name is not this test module's.
    code = compile("logger.info('from elsewhere')", "elsewhere.py", "exec")
    exec(code, {"logger": logger, "__name__": "some.other.module"})


@pytest.mark.parametrize(
    ("filter_spec", "expected"),
    [
        (None, ["plain", "audit", "PERF slow", "from elsewhere"]),
        (__name__, ["plain", "audit", "PERF slow"]),
        (__name__.rpartition(".")[0] or __name__, ["plain", "audit", "PERF slow"]),
        ("some.other", ["from elsewhere"]),
        ("some.oth", []),
        ({"channel": "audit"}, ["audit"]),
        ({"channel": "audit", "user": 1}, []),
        (lambda record: "PERF" in record["message"], ["PERF slow"]),
    ],
    ids=[
        "none",
        "module-name",
        "package-prefix",
        "other-module",
        "partial-name-no-match",
        "extra-dict",
        "extra-dict-all-keys",
        "callable",
    ],
)
def test_filters(filter_spec: FilterType, expected: list[str], sink_ids: list[int]) -> None:
    seen: list[str] = []
    app = FakeApp(FILE_LOGGER={"SINK": collecting(seen), "FORMAT": "{message}", "FILTER": filter_spec})
    sink_ids.append(FileLogger(app).configure())
    logger.info("plain")
    logger.bind(channel="audit").info("audit")
    logger.info("PERF slow")
    _emit_from_other_module()
    assert seen == expected


def test_get_filter_and_get_format_overrides(sink_ids: list[int]) -> None:
    class PerfLogger(LoggerBase):
        def get_format(self) -> str:
            return self.get_conf_value("FORMAT", "[{extra[logger_name]}] {message}")

        def get_filter(self) -> FilterType:
            return lambda record: "PERFORMANCE" in record["message"]

    seen: list[str] = []
    sink_ids.append(PerfLogger(FakeApp(PERF_LOGGER={"SINK": collecting(seen)})).configure())
    logger.info("PERFORMANCE: 12ms")
    logger.info("ignored")
    assert seen == ["[PerfLogger] PERFORMANCE: 12ms"]


def test_filter_sees_logger_name(sink_ids: list[int]) -> None:
    seen: list[str] = []
    app = FakeApp(
        FILE_LOGGER={"SINK": collecting(seen), "FORMAT": "{message}", "FILTER": {"logger_name": "FileLogger"}}
    )
    sink_ids.append(FileLogger(app).configure())
    logger.info("named")
    assert seen == ["named"]


def test_remove_sinks_ignores_removed_ids(sink_ids: list[int]) -> None:
    seen: list[str] = []
    sink_id = FileLogger(FakeApp(FILE_LOGGER={"SINK": collecting(seen), "FORMAT": "{message}"})).configure()
    remove_sinks([sink_id])
    remove_sinks([sink_id, 987654])
    logger.info("after removal")
    assert seen == []


def test_remove_sinks_async() -> None:
    seen: list[str] = []
    sink_id = FileLogger(FakeApp(FILE_LOGGER={"SINK": collecting(seen), "FORMAT": "{message}"})).configure()
    logger.info("before")
    asyncio.run(remove_sinks_async([sink_id]))
    logger.info("after")
    assert seen == ["before"]


# ---------------------------------------------------------------------------- process-level behaviour


def test_import_adds_and_removes_no_sinks() -> None:
    result = run_python(
        """
        from loguru import logger
        seen = []
        logger.add(seen.append, format="{message}")
        import patera.logging, patera
        logger.info("still default")
        assert seen == ["still default\\n"], seen
        """
    )
    assert result.returncode == 0, result.stderr
    assert "still default" in result.stderr  # loguru's own handler 0 is still installed


def test_configure_default_logger_keeps_host_sinks() -> None:
    result = run_python(
        """
        from loguru import logger
        host = []
        host_id = logger.add(host.append, format="{message}", level="TRACE")
        from patera.logging import configure_default_logger, remove_sinks
        configs = {"APP_NAME": "demo-app",
                   "DEFAULT_LOGGER": {"SINK": "STDOUT", "COLORIZE": False, "LEVEL": "DEBUG"}}
        sink_id = configure_default_logger(configs)
        logger.debug("after configure")
        logger.trace("below level")
        second = configure_default_logger(configs)   # idempotent w.r.t. handler 0
        remove_sinks([sink_id, second])
        logger.info("host only")
        assert host == ["after configure\\n", "below level\\n", "host only\\n"], host
        print("host id", host_id, "sink", sink_id)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "demo-app | after configure" in result.stdout
    assert "below level" not in result.stdout
    assert "host only" not in result.stdout
    # loguru's default stderr handler (id 0) was replaced, so nothing reached stderr.
    assert result.stderr == ""


def test_configure_default_logger_defaults_and_format() -> None:
    result = run_python(
        """
        import sys
        from loguru import logger
        from patera.config import BaseConfig
        from patera.logging import configure_default_logger
        cfg = BaseConfig(APP_NAME="cfg-app", VERSION="1", BASE_PATH="/")
        configure_default_logger(cfg.to_dict())
        logger.info("via defaults")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "cfg-app" in result.stderr
    assert "via defaults" in result.stderr
    assert " | INFO" in result.stderr.replace("\x1b[1m", "").replace("\x1b[0m", "")


def test_configure_default_logger_invalid_keeps_handler() -> None:
    result = run_python(
        """
        from loguru import logger
        from patera.exceptions import ImproperlyConfigured
        from patera.logging import configure_default_logger
        try:
            configure_default_logger({"APP_NAME": "x", "DEFAULT_LOGGER": {"ENQUEUE": "nope"}})
        except ImproperlyConfigured:
            logger.info("old handler kept")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "old handler kept" in result.stderr


def test_enqueue_sink_removed_without_leaked_semaphores(tmp_path: Path) -> None:
    log_path = tmp_path / "queued.log"
    result = run_python(
        f"""
        import multiprocessing
        # spawn is where semaphores leak (macOS default); use it here too.
        multiprocessing.set_start_method("spawn", force=True)
        from loguru import logger
        from patera.logging import LoggerBase, remove_sinks

        class App:
            def get_conf(self, name, default=None):
                return {{"QUEUED_LOGGER": {{"SINK": {str(log_path)!r}, "ENQUEUE": True,
                                           "FORMAT": "{{message}}"}}}}.get(name, default)

        class QueuedLogger(LoggerBase):
            pass

        logger.remove()
        sink_id = QueuedLogger(App()).configure()
        for i in range(50):
            logger.info("queued {{}}", i)
        remove_sinks([sink_id])
        """
    )
    assert result.returncode == 0, result.stderr
    assert "leaked semaphore" not in result.stderr
    assert "resource_tracker" not in result.stderr
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert lines == [f"queued {i}" for i in range(50)]


# ---------------------------------------------------------------------------- LogBuffer


def test_log_buffer_records(sink_ids: list[int]) -> None:
    buffer = LogBuffer(maxsize=10)
    sink_ids.append(buffer.attach(logger_name="buffered"))
    logger.info("hello {}", "world")
    (record,) = buffer.get_all()
    assert set(record) == {"time", "level", "message", "logger_name", "file", "line", "name", "function"}
    assert record["level"] == "INFO"
    assert record["message"] == "hello world"
    assert record["logger_name"] == "buffered"
    assert record["function"] == "test_log_buffer_records"
    assert record["name"] == __name__
    assert record["file"].endswith("test_logging.py")
    assert isinstance(record["line"], int)
    json.dumps(record)  # JSON friendly


def test_log_buffer_bounded_and_queries(sink_ids: list[int]) -> None:
    buffer = LogBuffer(maxsize=5)
    sink_ids.append(logger.add(buffer.sink, level="TRACE"))
    for i in range(4):
        logger.info("info {}", i)
    logger.error("error 1")
    logger.critical("critical 1")
    logger.debug("debug last")
    assert len(buffer) == 5
    assert [r["message"] for r in buffer.get_all()] == ["info 2", "info 3", "error 1", "critical 1", "debug last"]
    assert [r["message"] for r in buffer.get_last(2)] == ["critical 1", "debug last"]
    assert [r["message"] for r in buffer.get_last()] == [r["message"] for r in buffer.get_all()]
    assert buffer.get_last(0) == []
    assert [r["message"] for r in buffer.get_severe()] == ["error 1", "critical 1"]
    assert [r["message"] for r in buffer.get_last_severe(1)] == ["critical 1"]
    buffer.clear()
    assert buffer.get_all() == []


def test_log_buffer_copies_records(sink_ids: list[int]) -> None:
    buffer = LogBuffer(maxsize=3)
    sink_ids.append(buffer.attach())
    logger.info("original")
    buffer.get_all()[0]["message"] = "tampered"
    assert buffer.get_all()[0]["message"] == "original"


def test_log_buffer_keeps_name_from_configured_sink(sink_ids: list[int]) -> None:
    buffer = LogBuffer(maxsize=3)
    app = FakeApp(FILE_LOGGER={"SINK": "NULL"})
    sink_ids.append(FileLogger(app).configure())
    sink_ids.append(buffer.attach())
    logger.info("labelled")
    assert buffer.get_all()[0]["logger_name"] == "FileLogger"
