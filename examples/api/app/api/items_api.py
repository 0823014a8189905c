"""CRUD over the in-memory item store."""

from __future__ import annotations

from patera import HttpStatus, MediaType, Request, Response
from patera.controller import Controller, consumes, delete, get, patch, path, post, produces, put

from .models import ApiInfo, Item, ItemIn, ItemList, ItemPatch
from .store import ItemStore


@path("/api/v1", tags=["Items"])
class ItemsApi(Controller):
    """``/api/v1/items``: list, read, create, replace, update and delete items."""

    @property
    def store(self) -> ItemStore:
        return self.app.items  # type: ignore[no-any-return]

    @get("/")
    @produces(MediaType.APPLICATION_JSON)
    async def info(self, req: Request) -> Response[ApiInfo]:
        """Where things are: a static file and the WebSocket echo."""
        return req.response.json({
            "name": self.app.app_name,
            "version": self.app.version,
            "readme": self.app.url_for("static", filename="readme.txt"),
            "echo": self.app.url_for("EchoApi.echo"),
        })

    @get("/items")
    @produces(MediaType.APPLICATION_JSON)
    async def list_items(self, req: Request) -> Response[ItemList]:
        """All items, optionally only those with ``?tag=``."""
        items = self.store.list(req.query_params.get("tag"))
        return req.response.json({"items": items, "total": len(items)})

    @get("/items/<int:item_id>")
    @produces(MediaType.APPLICATION_JSON)
    async def get_item(self, req: Request, item_id: int) -> Response[Item]:
        """One item; 404 when it does not exist."""
        return req.response.json(self.store.get(item_id))

    @post("/items")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def create_item(self, req: Request, data: ItemIn) -> Response[Item]:
        """Create an item; the answer carries its id and a Location header."""
        item = self.store.create(data.model_dump())
        location = self.app.url_for("ItemsApi.get_item", item_id=item.id)
        return req.response.json(item).set_header("Location", location)

    @put("/items/<int:item_id>")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    async def replace_item(self, req: Request, item_id: int, data: ItemIn) -> Response[Item]:
        """Replace every field of an item."""
        return req.response.json(self.store.replace(item_id, data.model_dump()))

    @patch("/items/<int:item_id>")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    async def update_item(self, req: Request, item_id: int, data: ItemPatch) -> Response[Item]:
        """Change only the fields present in the body."""
        return req.response.json(self.store.update(item_id, data.model_dump(exclude_unset=True)))

    @delete("/items/<int:item_id>")
    @produces(MediaType.NO_CONTENT, HttpStatus.NO_CONTENT)
    async def delete_item(self, req: Request, item_id: int) -> Response:
        """Delete an item; 204 on success."""
        self.store.delete(item_id)
        return req.response.no_content()
