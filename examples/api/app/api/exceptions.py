"""Domain errors and the handler that turns them into JSON responses."""

from __future__ import annotations

from patera import HttpStatus, Request, Response
from patera.exceptions import ExceptionHandler, handles


class ItemNotFound(Exception):
    """Raised by the store; it knows nothing about HTTP."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"Item {item_id} not found")
        self.item_id = item_id


class ApiExceptionHandler(ExceptionHandler):
    """Maps domain errors to HTTP answers in one place."""

    @handles(ItemNotFound)
    async def item_not_found(self, req: Request, exc: ItemNotFound) -> Response:
        return req.response.json(
            {"status": "error", "message": str(exc), "data": {"id": exc.item_id}}
        ).status(HttpStatus.NOT_FOUND)
