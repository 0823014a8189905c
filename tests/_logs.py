"""Capture loguru records in a test (loguru does not go through the logging module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loguru import logger


@pytest.fixture
def caplog_loguru() -> Iterator[list[str]]:
    """``"LEVEL message"`` lines logged at WARNING or above while the test runs."""
    lines: list[str] = []
    sink = logger.add(
        lambda m: lines.append(f"{m.record['level'].name} {m.record['message']}"), level="WARNING", format="{message}"
    )
    try:
        yield lines
    finally:
        logger.remove(sink)
