"""Domain errors and the handler that turns them into JSON responses."""

from __future__ import annotations

from patera import HttpStatus, Request, Response
from patera.exceptions import BaseHttpException, ExceptionHandler, handles


class ItemNotFound(Exception):
    """Raised by the store; it knows nothing about HTTP."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"Item {item_id} not found")
        self.item_id = item_id


def _timed(req: Request, res: Response) -> Response:
    """Errors skip the rest of TimingMiddleware; its ``finally`` left the figure on req.state."""
    elapsed = getattr(req.state, "process_time_ms", None)
    if elapsed is not None:
        res.headers["X-Process-Time-Ms"] = elapsed
    return res


class ApiExceptionHandler(ExceptionHandler):
    """Maps domain errors to HTTP answers in one place."""

    @handles(ItemNotFound)
    async def item_not_found(self, req: Request, exc: ItemNotFound) -> Response:
        res = req.response.json({"status": "error", "message": str(exc), "data": {"id": exc.item_id}})
        return _timed(req, res.status(HttpStatus.NOT_FOUND))

    @handles(BaseHttpException)
    async def http_error(self, req: Request, exc: BaseHttpException) -> Response:
        """The framework's own errors (404, 405, 422 …) with their usual body, timed too."""
        res = req.response.json(exc.to_dict()).status(exc.status_code).set_headers(exc.response_headers())
        return _timed(req, res)
