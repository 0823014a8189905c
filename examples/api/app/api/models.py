"""Request and response bodies, validated by pydantic."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ItemIn(BaseModel):
    """What a client sends to create or replace an item."""

    name: str = Field(min_length=1, max_length=100)
    price: float = Field(ge=0)
    tags: list[str] = Field(default_factory=list)


class ItemPatch(BaseModel):
    """A partial update: only the fields that are present change."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    price: float | None = Field(default=None, ge=0)
    tags: list[str] | None = None


class Item(ItemIn):
    """An item as stored and returned."""

    id: int


class ItemList(BaseModel):
    items: list[Item]
    total: int


class ApiInfo(BaseModel):
    name: str
    version: str
    readme: str
    echo: str
