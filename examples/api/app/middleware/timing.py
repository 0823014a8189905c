"""Adds ``X-Process-Time-Ms`` to every HTTP response, errors included."""

from __future__ import annotations

import time

from patera import MiddlewareBase, Request, Response


class TimingMiddleware(MiddlewareBase):
    async def middleware(self, req: Request) -> Response:
        started = time.perf_counter()
        res = await self.next(req)
        res.headers["X-Process-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.3f}"
        return res
