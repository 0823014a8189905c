"""``/api/v1/books``: create, list (paginated, searchable), read, update and delete books."""

from __future__ import annotations

from pydantic import BaseModel, Field

from patera import HttpStatus, MediaType, Request, Response, abort
from patera.controller import (
    Controller,
    consumes,
    delete,
    get,
    patch,
    path,
    post,
    produces,
)
from patera.database.sql import AsyncSession

from .extensions import db
from .models import Book


class BookIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=100)
    year: int | None = None


class BookPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    author: str | None = Field(default=None, min_length=1, max_length=100)
    year: int | None = None


def as_dict(book: Book) -> dict[str, object]:
    return {"id": book.id, "title": book.title, "author": book.author, "year": book.year}


async def find(session: AsyncSession, book_id: int) -> Book:
    book = await Book.query(session).filter_by(id=book_id).first()
    if book is None:
        abort(f"Book {book_id} not found", HttpStatus.NOT_FOUND)
    assert book is not None
    return book


@path("/api/v1/books", tags=["Books"])
class BooksApi(Controller):
    @get("/")
    @produces(MediaType.APPLICATION_JSON)
    @db.readonly_session
    async def list_books(self, req: Request, session: AsyncSession) -> Response:
        """``?q=`` searches titles (case-insensitive); ``?page=&per_page=`` paginate."""
        try:
            page, per_page = int(req.query_params.get("page", 1)), int(req.query_params.get("per_page", 10))
        except ValueError:
            abort("page and per_page must be integers", HttpStatus.BAD_REQUEST)
        if not 1 <= per_page <= 100:
            abort("per_page must be between 1 and 100", HttpStatus.BAD_REQUEST)
        query = Book.query(session).order_by_strings("id")
        if q := req.query_params.get("q"):
            query = query.ilike(Book.title, f"%{q}%")
        result = await query.paginate(page, per_page)
        result["items"] = [as_dict(book) for book in result["items"]]
        return req.response.json(result)

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    @db.managed_session
    async def create_book(self, req: Request, data: BookIn, session: AsyncSession) -> Response:
        book = Book(**data.model_dump())
        session.add(book)
        await session.flush()  # assigns book.id; the commit happens after the handler returns
        return req.response.json(as_dict(book)).set_header("Location", f"/api/v1/books/{book.id}")

    @get("/<int:book_id>")
    @produces(MediaType.APPLICATION_JSON)
    @db.readonly_session
    async def get_book(self, req: Request, book_id: int, session: AsyncSession) -> Response:
        return req.response.json(as_dict(await find(session, book_id)))

    @patch("/<int:book_id>")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON)
    @db.managed_session
    async def update_book(self, req: Request, book_id: int, data: BookPatch, session: AsyncSession) -> Response:
        book = await find(session, book_id)
        for key, value in data.model_dump(exclude_unset=True).items():
            setattr(book, key, value)
        return req.response.json(as_dict(book))

    @delete("/<int:book_id>")
    @produces(MediaType.NO_CONTENT, HttpStatus.NO_CONTENT)
    @db.managed_session
    async def delete_book(self, req: Request, book_id: int, session: AsyncSession) -> Response:
        await session.delete(await find(session, book_id))
        return req.response.no_content()
