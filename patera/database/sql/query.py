"""``AsyncQuery``: a chainable ``select()`` over one model, executed on an ``AsyncSession``."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

__all__ = ("AsyncQuery",)

T = TypeVar("T")
R = TypeVar("R")

_ORDER_RE = re.compile(r"^\s*([A-Za-z_]\w*)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


class AsyncQuery(Generic[T]):
    """Builders (``where`` … ``ilike``) return the query itself; executors are awaited.

    Any SQLAlchemy error raised by an executor rolls the session back before it propagates,
    so the session stays usable (and a managed session does not try to commit a failed
    transaction).
    """

    __slots__ = ("_model", "_session", "_stmt")

    def __init__(self, session: AsyncSession, model: type[T]) -> None:
        self._session = session
        self._model = model
        self._stmt: Select[Any] = select(model)

    @property
    def statement(self) -> Select[Any]:
        """The ``Select`` built so far (for anything the builders do not cover)."""
        return self._stmt

    # ------------------------------------------------------------------ builders

    def where(self, *conditions: Any) -> AsyncQuery[T]:
        self._stmt = self._stmt.where(*conditions)
        return self

    def filter(self, *conditions: Any) -> AsyncQuery[T]:
        return self.where(*conditions)

    def filter_by(self, **values: Any) -> AsyncQuery[T]:
        self._stmt = self._stmt.filter_by(**values)
        return self

    def join(self, target: Any, *on: Any, **options: Any) -> AsyncQuery[T]:
        self._stmt = self._stmt.join(target, *on, **options)
        return self

    def limit(self, num: int) -> AsyncQuery[T]:
        self._stmt = self._stmt.limit(num)
        return self

    def offset(self, num: int) -> AsyncQuery[T]:
        self._stmt = self._stmt.offset(num)
        return self

    def order_by(self, *columns: Any) -> AsyncQuery[T]:
        self._stmt = self._stmt.order_by(*columns)
        return self

    def with_for_update(self, **options: Any) -> AsyncQuery[T]:
        """``SELECT … FOR UPDATE`` (row locks on PostgreSQL; SQLite ignores it, see managed sessions)."""
        self._stmt = self._stmt.with_for_update(**options)
        return self

    def order_by_strings(self, *specs: str) -> AsyncQuery[T]:
        """Order by ``"column"`` / ``"column DESC"`` strings naming this model's columns.

        Raises:
            ValueError: a spec is malformed or names no column of the model (so query
                strings can be passed through safely).
        """
        clauses = []
        for spec in specs:
            match = _ORDER_RE.match(spec) if isinstance(spec, str) else None
            if match is None:
                raise ValueError(f"invalid order spec {spec!r}: expected 'column' or 'column ASC|DESC'")
            column = self._column(match.group(1))
            clauses.append(column.desc() if (match.group(2) or "").lower() == "desc" else column.asc())
        return self.order_by(*clauses)

    def like(self, column: Any, pattern: str, escape: str | None = None) -> AsyncQuery[T]:
        return self.where(self._column(column).like(pattern, escape=escape))

    def ilike(self, column: Any, pattern: str, escape: str | None = None) -> AsyncQuery[T]:
        return self.where(self._column(column).ilike(pattern, escape=escape))

    def _column(self, column: Any) -> Any:
        if not isinstance(column, str):
            return column
        attr = getattr(self._model, column, None)
        if not isinstance(attr, InstrumentedAttribute) or not hasattr(attr, "like"):
            raise ValueError(f"{getattr(self._model, '__name__', self._model)} has no column {column!r}")
        return attr

    # ------------------------------------------------------------------ executors

    async def all(self) -> list[T]:
        stmt = self._stmt
        return await self._run(lambda: self._scalars(stmt))

    async def first(self) -> T | None:
        stmt = self._stmt.limit(1)

        async def run() -> T | None:
            result = await self._session.execute(stmt)
            return result.scalars().first()  # type: ignore[no-any-return]

        return await self._run(run)

    async def one(self) -> T:
        """Exactly one row; ``NoResultFound`` / ``MultipleResultsFound`` otherwise."""
        stmt = self._stmt

        async def run() -> T:
            result = await self._session.execute(stmt)
            return result.unique().scalars().one()  # type: ignore[no-any-return]

        return await self._run(run)

    async def count(self) -> int:
        """Rows the query selects; ordering is ignored, filters, joins and limits kept."""
        return await self._run(lambda: self._count(self._stmt.order_by(None)))

    async def paginate(self, page: int = 1, per_page: int = 10) -> dict[str, Any]:
        """One page of results plus totals (``page`` below 1 counts as 1).

        Raises:
            ValueError: ``per_page`` is below 1.
        """
        page, per_page = int(page), int(per_page)
        if per_page < 1:
            raise ValueError(f"per_page must be at least 1, got {per_page}")
        page = max(page, 1)
        base = self._stmt.limit(None).offset(None)
        total = await self._run(lambda: self._count(base.order_by(None)))
        pages = math.ceil(total / per_page)
        page_stmt = base.limit(per_page).offset((page - 1) * per_page)
        items = await self._run(lambda: self._scalars(page_stmt)) if total else []
        return {
            "items": items,
            "total": total,
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "has_next": page < pages,
            "has_prev": page > 1,
        }

    async def _scalars(self, stmt: Select[Any]) -> list[T]:
        result = await self._session.execute(stmt)
        return list(result.unique().scalars().all())

    async def _count(self, stmt: Select[Any]) -> int:
        counted = select(func.count()).select_from(stmt.subquery())
        return int((await self._session.execute(counted)).scalar_one())

    async def _run(self, call: Callable[[], Awaitable[R]]) -> R:
        try:
            return await call()
        except SQLAlchemyError:
            # NOTE: a rollback on a dead connection fails too; the original error matters more.
            with contextlib.suppress(Exception):
                await self._session.rollback()
            raise
