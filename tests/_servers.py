"""A real hypercorn server on loopback for the tests that need the wire (in-process, bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

START_TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def hypercorn_server(asgi: Any) -> AsyncIterator[int]:
    """Serve ``asgi`` on a free 127.0.0.1 port until the block ends; yields the port.

    The socket is bound here and handed to hypercorn by descriptor, so no other process
    can take the port between choosing and binding it.
    """
    hypercorn_asyncio = pytest.importorskip("hypercorn.asyncio")
    from hypercorn.config import Config

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        config = Config()
        config.bind = [f"fd://{os.dup(sock.fileno())}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 1
    stop = asyncio.Event()
    task = asyncio.create_task(hypercorn_asyncio.serve(asgi, config, shutdown_trigger=stop.wait))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    try:
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if task.done() or loop.time() > deadline:
                    if task.done():
                        task.result()
                    pytest.fail("hypercorn did not start")
                await asyncio.sleep(0.02)
            else:
                writer.close()
                await writer.wait_closed()
                break
        yield port
    finally:
        stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, START_TIMEOUT)
