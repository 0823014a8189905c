"""Adds ``X-Process-Time-Ms`` to every HTTP response, errors included."""

from __future__ import annotations

import time

from patera import MiddlewareBase, Request, Response


class TimingMiddleware(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        started = time.perf_counter()
        try:
            res = await self.next(req)
        finally:
            # An error travels on to the exception handlers, which run after this block:
            # they read the figure from req.state (see api/exceptions.py).
            req.state.process_time_ms = f"{(time.perf_counter() - started) * 1000:.3f}"
        res.headers["X-Process-Time-Ms"] = req.state.process_time_ms
        return res
