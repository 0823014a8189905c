"""Headless Chromium for the real-browser tests: load a page, return its DOM once idle (bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TIMEOUT = 60.0
#: Every host name except the loopback address fails to resolve: the page gets no network.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


async def dump_dom(url: str, profile: Path, *extra_args: str) -> str:
    """Load ``url`` in headless Chromium and return the DOM once the page went idle."""
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        # Virtual time only advances while no fetch is pending, so the budget outlasts every
        # request the page makes; the real-time bound is BROWSER_TIMEOUT below.
        "--virtual-time-budget=30000",
        *extra_args,
        "--dump-dom",
        url,
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: a timeout ends the browser and its children
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), BROWSER_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        pytest.fail(f"chromium did not finish within {BROWSER_TIMEOUT}s")
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}: {stderr.decode(errors='replace')[-2000:]}"
    return stdout.decode("utf-8", "replace")
