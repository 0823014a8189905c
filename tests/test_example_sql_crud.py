"""``examples/sql_crud``: the books CRUD flow on embedded SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from examples.sql_crud.app import Application
from examples.sql_crud.app.extensions import db
from examples.sql_crud.app.models import Base
from patera.testing import PateraTestClient
from tests._sql import ENGINES, database_uri_for


@pytest.fixture(params=ENGINES)
async def client(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[PateraTestClient]:
    uri = database_uri_for(request, tmp_path, str(request.param), name="books")
    monkeypatch.setenv("SQL_DATABASE", json.dumps({"DATABASE_URI": uri}))
    async with PateraTestClient(Application()) as c:
        yield c
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)


async def test_books_crud(client: PateraTestClient) -> None:
    dune = {"title": "Dune", "author": "Frank Herbert", "year": 1965}
    created = await client.post("/api/v1/books/", json=dune)
    assert created.status_code == 201
    book = created.json()
    assert book == {"id": book["id"], **dune}
    assert created.headers["location"] == f"/api/v1/books/{book['id']}"
    for title in ("Emma", "Dubliners"):
        await client.post("/api/v1/books/", json={"title": title, "author": "Someone"})

    assert (await client.get(f"/api/v1/books/{book['id']}")).json() == book
    page = (await client.get("/api/v1/books/", params={"per_page": 2})).json()
    assert [b["title"] for b in page["items"]] == ["Dune", "Emma"]
    assert (page["total"], page["pages"], page["has_next"], page["has_prev"]) == (3, 2, True, False)
    search = (await client.get("/api/v1/books/", params={"q": "DU"})).json()
    assert sorted(b["title"] for b in search["items"]) == ["Dubliners", "Dune"]

    patched = await client.patch(f"/api/v1/books/{book['id']}", json={"year": 1966})
    assert patched.json() == {**book, "year": 1966}
    assert (await client.get(f"/api/v1/books/{book['id']}")).json()["year"] == 1966

    assert (await client.delete(f"/api/v1/books/{book['id']}")).status_code == 204
    missing = await client.get(f"/api/v1/books/{book['id']}")
    assert (missing.status_code, missing.json()["message"]) == (404, f"Book {book['id']} not found")
    assert (await client.get("/api/v1/books/")).json()["total"] == 2


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("POST", "/api/v1/books/", {"title": "", "author": "x"}, 422),
        ("PATCH", "/api/v1/books/999", {"year": 1}, 404),
        ("DELETE", "/api/v1/books/999", None, 404),
        ("GET", "/api/v1/books/?page=x", None, 400),
        ("GET", "/api/v1/books/?per_page=0", None, 400),
    ],
)
async def test_bad_requests_are_not_500(
    client: PateraTestClient, method: str, url: str, body: dict[str, object] | None, status: int,
) -> None:
    assert (await client.request(method, url, json=body)).status_code == status


def test_cli_migrations_in_cli_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's cli.py flow: db-init, db-migrate, db-upgrade on the example's models."""
    monkeypatch.setenv("SQL_DATABASE", json.dumps({
        "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/books.db",
        "ALEMBIC_MIGRATION_DIR": str(tmp_path / "migrations"),
    }))
    cli_app = Application(cli_mode=True)
    for argv in (["db-init"], ["db-migrate", "--message", "books"], ["db-upgrade"], ["db-current"]):
        assert cli_app.run_cli(argv) == 0
    [revision] = (tmp_path / "migrations" / "versions").glob("*_books.py")
    assert "op.create_table('books'" in revision.read_text()
    assert revision.name.split("_", 1)[0] in capsys.readouterr().out
