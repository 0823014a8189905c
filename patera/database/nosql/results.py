"""Write results shared by all backends; attribute names follow pymongo's result classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ("DeleteResult", "InsertManyResult", "InsertOneResult", "UpdateResult")


@dataclass(frozen=True)
class InsertOneResult:
    inserted_id: Any
    acknowledged: bool = True


@dataclass(frozen=True)
class InsertManyResult:
    inserted_ids: list[Any] = field(default_factory=list)
    acknowledged: bool = True


@dataclass(frozen=True)
class UpdateResult:
    matched_count: int
    modified_count: int
    upserted_id: Any = None
    acknowledged: bool = True


@dataclass(frozen=True)
class DeleteResult:
    deleted_count: int
    acknowledged: bool = True
