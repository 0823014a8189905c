"""A tiny in-memory repository; swap it for a database in a real project."""

from __future__ import annotations

from typing import Any

from .exceptions import ItemNotFound
from .models import Item


class ItemStore:
    """Items by id. Handlers run on one event loop, so no locking is needed."""

    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._items)

    def list(self, tag: str | None = None) -> list[Item]:
        items = sorted(self._items.values(), key=lambda item: item.id)
        return [item for item in items if tag is None or tag in item.tags]

    def get(self, item_id: int) -> Item:
        try:
            return self._items[item_id]
        except KeyError:
            raise ItemNotFound(item_id) from None

    def create(self, data: dict[str, Any]) -> Item:
        item = Item(id=self._next_id, **data)
        self._items[item.id] = item
        self._next_id += 1
        return item

    def replace(self, item_id: int, data: dict[str, Any]) -> Item:
        self.get(item_id)
        item = Item(id=item_id, **data)
        self._items[item_id] = item
        return item

    def update(self, item_id: int, changes: dict[str, Any]) -> Item:
        item = self.get(item_id).model_copy(update=changes)
        self._items[item_id] = item
        return item

    def delete(self, item_id: int) -> None:
        self.get(item_id)
        del self._items[item_id]
