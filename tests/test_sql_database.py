"""SqlDatabase, sessions and AsyncQuery (SPEC §17.5), each test on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound

from patera import MediaType, Request, Response, abort
from patera.controller import Controller, consumes, get, path, post
from patera.database.sql import AsyncQuery, AsyncSession, SqlDatabase
from patera.testing import PateraTestClient
from tests._sql import (
    ENGINES,
    Counter,
    Note,
    OtherBase,
    Post,
    User,
    database_uri_for,
    make_sql_app,
    reset_schema,
)


class UserIn(BaseModel):
    fullname: str
    email: str


def users_api(db: SqlDatabase) -> list[type]:
    @path("/users")
    class UsersApi(Controller):
        @post("/")
        @consumes(MediaType.APPLICATION_JSON)
        @db.managed_session
        async def create(self, req: Request, data: UserIn, session: AsyncSession) -> Response:
            user = User(fullname=data.fullname, email=data.email)
            session.add(user)
            await session.flush()  # assigns the id
            return req.response.json({"id": user.id, "fullname": user.fullname}).status(201)

        @get("/<int:user_id>")
        @db.readonly_session
        async def read(self, req: Request, user_id: int, session: AsyncSession) -> Response:
            user = await User.query(session).filter_by(id=user_id).first()
            if user is None:
                abort(f"User {user_id} not found", 404)
            return req.response.json({"id": user.id, "fullname": user.fullname, "email": user.email})

        @get("/")
        @db.readonly_session
        async def listing(self, req: Request, session: AsyncSession) -> Response:
            page = await User.query(session).order_by_strings("id").paginate(
                int(req.query_params.get("page", 1)), int(req.query_params.get("per_page", 10)))
            page["items"] = [u.email for u in page["items"]]
            return req.response.json(page)

        @post("/fail")
        @consumes(MediaType.APPLICATION_JSON)
        @db.managed_session
        async def create_then_fail(self, req: Request, data: UserIn, session: AsyncSession) -> Response:
            session.add(User(fullname=data.fullname, email=data.email))
            await session.flush()
            abort("refused after the insert", 409)
            return req.response.no_content()

        @post("/readonly")
        @consumes(MediaType.APPLICATION_JSON)
        @db.readonly_session
        async def write_in_readonly(self, req: Request, data: UserIn, session: AsyncSession) -> Response:
            session.add(User(fullname=data.fullname, email=data.email))
            await session.flush()
            return req.response.json({"flushed": True})

    return [UsersApi]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def uri(request: pytest.FixtureRequest, tmp_path: Path, engine: str) -> str:
    return database_uri_for(request, tmp_path, engine)


@pytest.fixture
async def client_and_db(uri: str) -> AsyncIterator[tuple[PateraTestClient, SqlDatabase]]:
    app, db = make_sql_app(uri, users_api)
    async with PateraTestClient(app) as client:
        await reset_schema(db)
        yield client, db


async def count_users(db: SqlDatabase) -> int:
    rows = await db.execute_raw("SELECT COUNT(*) AS n FROM sqltest_users")
    return int(rows[0]["n"])


# --------------------------------------------------------------------------- sessions


async def test_crud_through_managed_and_readonly_sessions(client_and_db: tuple[PateraTestClient, SqlDatabase]) -> None:
    client, db = client_and_db
    created = await client.post("/users/", json={"fullname": "Ada", "email": "ada@x.io"})
    assert created.status_code == 201
    user_id = created.json()["id"]
    assert isinstance(user_id, int)
    got = await client.get(f"/users/{user_id}")
    assert got.json() == {"id": user_id, "fullname": "Ada", "email": "ada@x.io"}
    missing = await client.get("/users/9999")
    assert (missing.status_code, missing.json()) == (404, {"status": "error", "message": "User 9999 not found"})
    assert await count_users(db) == 1


async def test_managed_session_rolls_back_when_the_handler_raises(
    client_and_db: tuple[PateraTestClient, SqlDatabase],
) -> None:
    client, db = client_and_db
    res = await client.post("/users/fail", json={"fullname": "Bob", "email": "bob@x.io"})
    assert res.status_code == 409
    assert await count_users(db) == 0


async def test_readonly_session_never_commits(client_and_db: tuple[PateraTestClient, SqlDatabase]) -> None:
    client, db = client_and_db
    res = await client.post("/users/readonly", json={"fullname": "Cy", "email": "cy@x.io"})
    assert res.json() == {"flushed": True}
    assert await count_users(db) == 0


async def test_sqlalchemy_error_in_managed_session_is_rolled_back_and_not_503(
    client_and_db: tuple[PateraTestClient, SqlDatabase],
) -> None:
    client, db = client_and_db
    assert (await client.post("/users/", json={"fullname": "A", "email": "dup@x.io"})).status_code == 201
    duplicate = await client.post("/users/", json={"fullname": "B", "email": "dup@x.io"})
    assert duplicate.status_code == 500  # a constraint violation is a bug, not an outage
    assert await count_users(db) == 1
    assert (await client.post("/users/", json={"fullname": "C", "email": "c@x.io"})).status_code == 201


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?per_page=2", {"items": ["u0@x.io", "u1@x.io"], "total": 5, "page": 1, "pages": 3, "per_page": 2,
              "has_next": True, "has_prev": False}),
        ("?page=3&per_page=2", {"items": ["u4@x.io"], "total": 5, "page": 3, "pages": 3, "per_page": 2,
                                "has_next": False, "has_prev": True}),
        ("?page=0&per_page=2", {"items": ["u0@x.io", "u1@x.io"], "total": 5, "page": 1, "pages": 3, "per_page": 2,
                                "has_next": True, "has_prev": False}),
        ("?page=9&per_page=2", {"items": [], "total": 5, "page": 9, "pages": 3, "per_page": 2,
                                "has_next": False, "has_prev": True}),
        ("?per_page=10", {"items": [f"u{i}@x.io" for i in range(5)], "total": 5, "page": 1, "pages": 1,
                          "per_page": 10, "has_next": False, "has_prev": False}),
    ],
)
async def test_paginate_over_http(
    client_and_db: tuple[PateraTestClient, SqlDatabase], query: str, expected: dict[str, Any],
) -> None:
    client, _db = client_and_db
    for i in range(5):
        await client.post("/users/", json={"fullname": f"U{i}", "email": f"u{i}@x.io"})
    res = await client.get("/users/" + query)
    assert res.json() == expected


async def test_session_name_is_configurable_and_alias_is_read(uri: str) -> None:
    def api(db: SqlDatabase) -> list[type]:
        @path("/")
        class Api(Controller):
            @get("/")
            @db.readonly_session
            async def index(self, req: Request, conn: AsyncSession) -> Response:
                return req.response.json({"users": await User.query(conn).count()})

        return [Api]

    app, db = make_sql_app(uri, api, db_config={"DATABASE_SESSION_NAME": "conn"})
    assert db.session_name == "conn"
    async with PateraTestClient(app) as client:
        await reset_schema(db)
        assert (await client.get("/")).json() == {"users": 0}


async def test_two_databases_in_one_app(request: pytest.FixtureRequest, tmp_path: Path, engine: str) -> None:
    main_uri = database_uri_for(request, tmp_path, engine)
    other_uri = f"sqlite+aiosqlite:///{tmp_path}/other.db"
    app, db = make_sql_app(main_uri, models=["tests._sql:User", "tests._sql:Note"],
                           OTHER_DATABASE={"DATABASE_URI": other_uri, "SESSION_NAME": "notes"})
    other = SqlDatabase(db_name="other", configs_name="OTHER_DATABASE")
    other.init_app(app)

    @path("/")
    class Both(Controller):
        @post("/")
        @db.managed_session
        @other.managed_session
        async def both(self, req: Request, session: AsyncSession, notes: AsyncSession) -> Response:
            session.add(User(fullname="A", email="a@x.io"))
            notes.add(Note(text="hello"))
            return req.response.json({"ok": True})

    app.register_controller(Both)
    assert app.extensions["SQL_DATABASE"] is db and app.extensions["OTHER_DATABASE"] is other
    assert [m.__name__ for m in db.models_list] == ["User"] and [m.__name__ for m in other.models_list] == ["Note"]
    async with PateraTestClient(app) as client:
        await reset_schema(db)
        await reset_schema(other, OtherBase)
        assert (await client.post("/")).status_code == 200
        assert await count_users(db) == 1
        assert (await other.execute_raw("SELECT text FROM sqltest_notes"))[0]["text"] == "hello"


# --------------------------------------------------------------------------- AsyncQuery


@pytest.fixture
async def session(uri: str) -> AsyncIterator[AsyncSession]:
    _app, db = make_sql_app(uri)
    await db.connect()
    try:
        await reset_schema(db)
        async with db.create_session() as s:
            ada, bob, cy = User(fullname="Ada", email="ada@x.io"), User(fullname="bob", email="bob@y.io"), \
                User(fullname="Cy", email="cy@x.io")
            s.add_all([ada, bob, cy])
            await s.flush()
            s.add_all([Post(user_id=ada.id, title="one"), Post(user_id=ada.id, title="two"),
                       Post(user_id=cy.id, title="three")])
            await s.commit()
            yield s
    finally:
        await db.disconnect()


async def test_query_builders_and_executors(session: AsyncSession) -> None:
    q = User.query(session)
    assert isinstance(q, AsyncQuery)
    assert await User.query(session).count() == 3
    assert [u.fullname for u in await User.query(session).order_by(User.id).all()] == ["Ada", "bob", "Cy"]
    by_name_desc = await User.query(session).order_by_strings("fullname DESC").all()
    assert [u.fullname for u in by_name_desc] == ["bob", "Cy", "Ada"]
    assert (await User.query(session).where(User.fullname == "Cy").one()).email == "cy@x.io"
    first = await User.query(session).filter(User.id > 0, User.fullname != "Ada").order_by(User.id).first()
    assert first.fullname == "bob"
    assert await User.query(session).filter_by(fullname="nobody").first() is None
    assert [u.fullname for u in await User.query(session).order_by(User.id).offset(1).limit(1).all()] == ["bob"]
    assert await User.query(session).like(User.email, "%@x.io").count() == 2
    assert await User.query(session).like("fullname", "b%").count() == 1
    assert await User.query(session).ilike("fullname", "B%").count() == 1
    assert await User.query(session).like("email", "100\\%%", escape="\\").count() == 0
    joined = await User.query(session).join(Post, Post.user_id == User.id).filter(Post.title == "three").all()
    assert [u.fullname for u in joined] == ["Cy"]
    # count ignores ordering but keeps filters and joins
    assert await User.query(session).join(Post, Post.user_id == User.id).order_by(User.fullname).count() == 3


async def test_one_and_errors_roll_back_and_reraise(session: AsyncSession) -> None:
    with pytest.raises(NoResultFound):
        await User.query(session).filter_by(fullname="nobody").one()
    with pytest.raises(MultipleResultsFound):
        await User.query(session).one()
    session.add(User(fullname="Dup", email="ada@x.io"))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()
    with pytest.raises(Exception, match=r"no_such_column|no such column|does not exist"):
        from sqlalchemy import text

        await User.query(session).where(text("no_such_column = 1")).all()
    # the query rolled the failed transaction back, so the session is usable again
    assert await User.query(session).count() == 3


@pytest.mark.parametrize("spec", ["fullname; DROP TABLE x", "nope", "fullname sideways", ""])
async def test_order_by_strings_refuses_unknown_columns(session: AsyncSession, spec: str) -> None:
    with pytest.raises(ValueError):
        User.query(session).order_by_strings(spec)


async def test_paginate_edge_cases(session: AsyncSession) -> None:
    with pytest.raises(ValueError):
        await User.query(session).paginate(1, 0)
    empty = await User.query(session).filter_by(fullname="nobody").paginate()
    assert empty == {"items": [], "total": 0, "page": 1, "pages": 0, "per_page": 10, "has_next": False,
                     "has_prev": False}
    page = await User.query(session).order_by(User.id).limit(1).paginate(page=2, per_page=2)
    assert [u.fullname for u in page["items"]] == ["Cy"]
    assert (page["total"], page["pages"], page["has_next"], page["has_prev"]) == (3, 2, False, True)


async def test_model_helpers() -> None:
    user = User(fullname="Ada", email="ada@x.io")
    assert (user.fullname, user.email) == ("Ada", "ada@x.io")
    assert User.db_name() == "db" and Note.db_name() == "other"
    assert User.primary_key_names() == ["id"]
    assert [c.name for c in User.primary_keys()] == ["id"]
    assert User.metadata is not Note.metadata
    assert set(User.metadata.tables) == {"sqltest_users", "sqltest_posts", "sqltest_counters"}


# --------------------------------------------------------------------------- extension surface


async def test_execute_raw_autocommit_and_transaction(uri: str) -> None:
    _, db = make_sql_app(uri)
    await db.connect()
    try:
        await reset_schema(db)
        assert await db.execute_raw("INSERT INTO sqltest_counters (id, value) VALUES (1, 5)") == []
        await db.execute_raw("UPDATE sqltest_counters SET value = value + 1", as_transaction=True)
        rows = await db.execute_raw("SELECT id, value FROM sqltest_counters")
        assert [dict(r) for r in rows] == [{"id": 1, "value": 6}]
        with pytest.raises(IntegrityError):
            await db.execute_raw("INSERT INTO sqltest_counters (id, value) VALUES (1, 7)", as_transaction=True)
        assert [dict(r) for r in await db.execute_raw("SELECT value FROM sqltest_counters")] == [{"value": 6}]
    finally:
        await db.disconnect()


async def test_properties_and_lifecycle(uri: str) -> None:
    _app, db = make_sql_app(uri, db_config={"NICE_NAME": "Main DB"})
    assert (db.db_name, db.db_uri, db.session_name, db.nice_name) == ("db", uri, "session", "Main DB")
    with pytest.raises(RuntimeError):
        _ = db.engine
    with pytest.raises(RuntimeError):
        db.create_session()
    await db.connect()
    assert db.engine.url.render_as_string(hide_password=False) == uri
    session = db.create_session()
    await session.close()
    await db.disconnect()
    with pytest.raises(RuntimeError):
        _ = db.engine


@pytest.mark.parametrize(
    "config",
    [{}, {"SQL_DATABASE": {"SHOW_SQL": True}}, {"SQL_DATABASE": {"DATABASE_URI": "sqlite+aiosqlite://",
                                                                  "SESSION_NAME": "not an identifier"}},
     {"SQL_DATABASE": {"DATABASE_URI": "sqlite+aiosqlite://", "CONNECT_TIMEOUT": 0}},
     {"SQL_DATABASE": {"DATABASE_URI": "sqlite:///sync.db"}}, {"SQL_DATABASE": {"DATABASE_URI": "not a uri"}},
     {"SQL_DATABASE": {"DATABASE_URI": "nosuchdb+driver://x/y"}}],
)
def test_bad_configuration_is_a_value_error(config: dict[str, Any]) -> None:
    from tests.conftest import build_app

    app = build_app(**config)
    with pytest.raises(ValueError):
        SqlDatabase().init_app(app)


def test_flat_keys_configure_the_database() -> None:
    from tests.conftest import build_app

    app = build_app(SQL_DATABASE_DATABASE_URI="sqlite+aiosqlite://", SQL_DATABASE_SHOW_SQL=True)
    db = SqlDatabase()
    db.init_app(app)
    assert db.db_uri == "sqlite+aiosqlite://" and db.configs["SHOW_SQL"] is True


async def test_managed_session_for_cli_connects_and_disconnects(tmp_path: Path) -> None:
    _, db = make_sql_app(f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    await db.connect()
    await reset_schema(db)
    await db.disconnect()

    @db.managed_session_for_cli
    async def add_counter(value: int, session: AsyncSession) -> int:
        session.add(Counter(id=1, value=value))
        return value

    assert await add_counter(41) == 41
    with pytest.raises(RuntimeError):
        _ = db.engine  # disconnected again
    await db.connect()
    assert [dict(r) for r in await db.execute_raw("SELECT value FROM sqltest_counters")] == [{"value": 41}]
    await db.disconnect()


def test_core_never_imports_sqlalchemy_and_missing_extra_names_it() -> None:
    probe = (
        "import sys\n"
        "import patera, patera.app, patera.cli, patera.database\n"
        "assert 'sqlalchemy' not in sys.modules, 'core imported sqlalchemy'\n"
        "sys.modules['sqlalchemy'] = None\n"
        "try:\n"
        "    import patera.database.sql\n"
        "except patera.MissingDependency as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert 'pip install "patera[database]"' in out.stdout


def test_database_unavailable_is_exported_and_a_503() -> None:
    from patera import database
    from patera.exceptions import BaseHttpException

    exc = database.DatabaseUnavailable()
    assert isinstance(exc, BaseHttpException)
    assert (exc.status_code, exc.to_dict()) == (503, {"status": "error", "message": "Database unavailable"})
    assert database.AsyncSession is AsyncSession
    with pytest.raises(AttributeError):
        _ = database.no_such_name
