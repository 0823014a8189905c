"""``run_sync_or_async`` and ``run_in_background``."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from loguru import logger

__all__ = ("run_in_background", "run_sync_or_async")

_BACKGROUND: set[asyncio.Future[Any]] = set()


async def run_sync_or_async(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Await coroutine functions; run plain callables in the default thread pool."""
    if inspect.iscoroutinefunction(func):
        return await func(*args, **kwargs)
    result = await asyncio.to_thread(func, *args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def _forget(task: asyncio.Future[Any]) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.opt(exception=exc).error("background task failed: {!r}", exc)


def run_in_background(func: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
    """Fire and forget: the framework keeps the task alive and logs its failure."""
    if inspect.iscoroutinefunction(func):
        task: asyncio.Future[Any] = asyncio.ensure_future(func(*args, **kwargs))
    else:
        loop = asyncio.get_running_loop()
        task = loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
    _BACKGROUND.add(task)
    task.add_done_callback(_forget)
    return task
