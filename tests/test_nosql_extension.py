"""``NoSqlDatabase`` in an app (SPEC §17.7): configuration, lifespan, ``@managed_database``
over HTTP, the README's custom-backend interface, and MongoBackend's connection handling."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from pydantic import BaseModel

from patera import MediaType, Patera, Request, Response
from patera.controller import Controller, consumes, get, path, post, produces
from patera.database.nosql import InvalidQuery, NoSqlDatabase, NoSqlHandle
from patera.database.nosql.backends import (
    AsyncNoSqlBackendBase,
    MongoBackend,
    SqliteDocumentBackend,
)
from patera.exceptions import ImproperlyConfigured
from patera.testing import PateraTestClient
from tests._mongomock_async import AsyncMongomockClient
from tests.conftest import build_app


class TestModel(BaseModel):  # the README's names
    __test__ = False
    email: str
    fullname: str
    age: int


class TestModelOut(BaseModel):
    __test__ = False
    message: str
    status: str


def users_controller(nosqldb: NoSqlDatabase) -> type[Controller]:
    """The README's managed-database example, plus a listing, a search and a failing insert."""

    @path("/users")
    class Users(Controller):
        @post("/")
        @consumes(MediaType.APPLICATION_JSON)
        @produces(MediaType.APPLICATION_JSON)
        @nosqldb.managed_database
        async def create_user(
            self, req: Request, data: TestModel, db: Any, session: Any = None
        ) -> Response[TestModelOut]:
            """Consumes and produces json"""
            await db.insert_one(
                "users", {"email": data.email, "fullname": data.fullname, "age": data.age}, session=session
            )
            return req.response.json({"message": "User added successfully", "status": "success"}).status(200)

        @post("/twice")
        @consumes(MediaType.APPLICATION_JSON)
        @nosqldb.managed_database
        async def create_then_fail(self, req: Request, data: TestModel, db: NoSqlHandle) -> Response[Any]:
            await db.insert_one("users", {"email": data.email})  # joins the transaction without session=
            raise LookupError("second step failed")

        @get("/")
        async def list_users(self, req: Request) -> Response[Any]:
            docs = await nosqldb.find_many("users", {}, sort=[("email", 1)])
            return req.response.json([{"email": d["email"]} for d in docs])

        @get("/older-than/<min_age>")
        async def older(self, req: Request, min_age: str) -> Response[Any]:
            # The operator comes from the client: a wrong one must be a 400, not a 500.
            op = req.query_params.get("op", "$gt")
            docs = await nosqldb.find_many("users", {"age": {op: int(min_age)}})
            return req.response.json(sorted(d["email"] for d in docs))

        @post("/with-id/<key>")
        @nosqldb.managed_database
        async def with_id(self, req: Request, key: str, db: Any) -> Response[Any]:
            await db.insert_one("users", {"_id": key, "email": f"{key}@x"})
            return req.response.json({"ok": True})

    return Users


def sqlite_app(tmp_path: Path, **extra: Any) -> tuple[Patera, NoSqlDatabase]:
    nosqldb = NoSqlDatabase()
    config = {"BACKEND": SqliteDocumentBackend, "DATABASE_URI": f"sqlite:///{tmp_path / 'docs.db'}", **extra}
    application = build_app(NOSQL_DATABASE=config)
    nosqldb.init_app(application)
    application.register_controller(users_controller(nosqldb))
    return application, nosqldb


ANN = {"email": "ann@x", "fullname": "Ann", "age": 31}


async def test_readme_managed_database_example(tmp_path: Path) -> None:
    application, nosqldb = sqlite_app(tmp_path)
    async with PateraTestClient(application) as client:
        res = await client.post("/users/", json=ANN)
        assert res.status_code == 200
        assert res.json() == {"message": "User added successfully", "status": "success"}
        assert (await client.get("/users/")).json() == [{"email": "ann@x"}]
        stored = await nosqldb.find_one("users", {"email": "ann@x"})
        assert stored is not None and stored["age"] == 31


async def test_managed_transaction_aborts_when_the_handler_raises(tmp_path: Path) -> None:
    application, nosqldb = sqlite_app(tmp_path)
    async with PateraTestClient(application, raise_app_exceptions=False) as client:
        res = await client.post("/users/twice", json=ANN)
        assert res.status_code == 500
        assert await nosqldb.find_many("users") == []


async def test_data_survives_a_restart_of_the_app(tmp_path: Path) -> None:
    application, _ = sqlite_app(tmp_path)
    async with PateraTestClient(application) as client:
        await client.post("/users/", json=ANN)
    application, _ = sqlite_app(tmp_path)
    async with PateraTestClient(application) as client:
        assert (await client.get("/users/")).json() == [{"email": "ann@x"}]


@pytest.mark.parametrize("op", ["$where", "$regex", "$expr", "$size"])
async def test_bad_operator_from_the_client_is_a_400(tmp_path: Path, op: str) -> None:
    application, _ = sqlite_app(tmp_path)
    async with PateraTestClient(application, raise_app_exceptions=False) as client:
        res = await client.get("/users/older-than/20", params={"op": op})
    assert res.status_code == 400
    assert res.json()["status"] == "error" and op in res.json()["message"]


async def test_duplicate_id_is_a_409(tmp_path: Path) -> None:
    application, _ = sqlite_app(tmp_path)
    async with PateraTestClient(application, raise_app_exceptions=False) as client:
        assert (await client.post("/users/with-id/k1")).status_code == 200
        res = await client.post("/users/with-id/k1")
    assert res.status_code == 409 and "k1" in res.json()["message"]


async def test_valid_operator_from_the_client(tmp_path: Path) -> None:
    application, _ = sqlite_app(tmp_path)
    async with PateraTestClient(application) as client:
        await client.post("/users/", json=ANN)
        await client.post("/users/", json={**ANN, "email": "kid@x", "age": 9})
        assert (await client.get("/users/older-than/20", params={"op": "$lt"})).json() == ["kid@x"]


# ---------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("config", "prefix"),
    [
        ({"NOSQL_DATABASE": {"BACKEND": "sqlite", "DATABASE_URI": "sqlite://", "INJECT_NAME": "store"}}, None),
        (
            {
                "NOSQL_DATABASE_BACKEND": "patera.database.nosql.backends:SqliteDocumentBackend",
                "NOSQL_DATABASE_DATABASE_URI": "sqlite:///:memory:",
                "NOSQL_DATABASE_DB_INJECT_NAME": "store",
            },
            None,
        ),
        (
            {"MY_NOSQL_DATABASE": {"DATABASE_URI": "sqlite://", "DB_INJECT_NAME": "store", "DATABASE_NAME": "main"}},
            "MY_",
        ),
    ],
    ids=["dict-with-aliases", "flat-keys-and-import-string", "variable-prefix"],
)
async def test_configuration_forms(config: dict[str, Any], prefix: str | None) -> None:
    nosqldb = NoSqlDatabase(variable_prefix=prefix)
    application = build_app(**config)
    nosqldb.init_app(application)
    assert isinstance(nosqldb.backend, SqliteDocumentBackend)
    assert nosqldb.inject_name == "store" and nosqldb.variable_prefix == (prefix or "")
    assert application.extensions["NOSQL_DATABASE"] is nosqldb

    @nosqldb.managed_database
    async def count(store: NoSqlHandle) -> int:
        await store.insert_one("things", {"n": 1})
        return len(await store.find_many("things"))

    async with PateraTestClient(application):
        assert await count() == 1


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"NOSQL_DATABASE": {"BACKEND": "sqlite"}},
        {"NOSQL_DATABASE": {"BACKEND": dict, "DATABASE_URI": "x"}},
        {"NOSQL_DATABASE": {"BACKEND": "no.such.module:Backend", "DATABASE_URI": "x"}},
        {"NOSQL_DATABASE": {"BACKEND": "sqlite", "DATABASE_URI": "postgres://db/x"}},
    ],
    ids=["missing", "no-uri", "not-a-backend", "unimportable", "wrong-scheme"],
)
def test_bad_configuration_fails_at_init(config: dict[str, Any]) -> None:
    with pytest.raises((ImproperlyConfigured, ValueError)):
        NoSqlDatabase().init_app(build_app(**config))


def test_backend_before_init_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        NoSqlDatabase().backend  # noqa: B018


def test_importing_the_extensions_pulls_in_no_optional_package() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, patera.database.nosql, patera.ai_interface;"
        "print(sorted(m for m in ('pymongo', 'bson', 'httpx', 'sqlalchemy') if m in sys.modules))"
    )
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )


# ---------------------------------------------------------------------- a user's own backend, README style


class DictBackend(AsyncNoSqlBackendBase):
    """Written the way the original README describes: ``configure_from_app(cls, app, variable_prefix)``,
    no transactions, equality filters over an in-memory dict."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.collections: dict[str, list[dict[str, Any]]] | None = None

    @classmethod
    def configure_from_app(cls, app: Patera, variable_prefix: str) -> AsyncNoSqlBackendBase:  # type: ignore[override]
        return cls(app.get_conf(f"{variable_prefix}NOSQL_DATABASE")["DATABASE_URI"])

    async def connect(self) -> None:
        self.collections = {}

    async def disconnect(self) -> None:
        self.collections = None

    def database_handle(self) -> Any:
        return self.collections

    def supports_transactions(self) -> bool:
        return False

    async def start_session(self) -> Any:
        return None

    async def with_transaction(self, fn: Callable[..., Any], *args: Any, session: Any = None, **kwargs: Any) -> Any:
        return await fn(*args, **kwargs)

    def get_collection(self, name: str) -> Any:
        assert self.collections is not None
        return self.collections.setdefault(name, [])

    def _match(self, doc: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
        return all(doc.get(k) == v for k, v in (filter or {}).items())

    async def find_one(self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any) -> Any:
        return next((d for d in self.get_collection(collection) if self._match(d, filter)), None)

    async def find_many(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        session: Any = None,
        limit: int | None = None,
        skip: int | None = None,
        sort: Iterable[tuple[str, int]] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        return [d for d in self.get_collection(collection) if self._match(d, filter)]

    async def insert_one(self, collection: str, doc: Mapping[str, Any], *, session: Any = None, **kwargs: Any) -> Any:
        self.get_collection(collection).append(dict(doc))
        return len(self.get_collection(collection))

    async def insert_many(
        self, collection: str, docs: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> Any:
        return [await self.insert_one(collection, d) for d in docs]

    async def update_one(
        self,
        collection: str,
        filter: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        upsert: bool = False,
        session: Any = None,
        **kwargs: Any,
    ) -> Any:
        doc = await self.find_one(collection, filter)
        if doc is not None:
            doc.update(update.get("$set", {}))
        return doc is not None

    async def delete_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any:
        doc = await self.find_one(collection, filter)
        if doc is not None:
            self.get_collection(collection).remove(doc)
        return doc is not None

    async def aggregate(
        self, collection: str, pipeline: Iterable[Mapping[str, Any]], *, session: Any = None, **kwargs: Any
    ) -> list[Any]:
        raise NotImplementedError

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        return ("raw", args)


async def test_readme_style_custom_backend_works_unchanged() -> None:
    nosqldb = NoSqlDatabase(variable_prefix="SHOP_")
    application = build_app(SHOP_NOSQL_DATABASE={"BACKEND": DictBackend, "DATABASE_URI": "memory://shop"})
    nosqldb.init_app(application)
    application.register_controller(users_controller(nosqldb))
    backend = nosqldb.backend
    assert isinstance(backend, DictBackend) and backend.uri == "memory://shop"
    async with PateraTestClient(application) as client:
        assert (await client.post("/users/", json=ANN)).status_code == 200
        assert (await client.get("/users/")).json() == [{"email": "ann@x"}]
        assert await nosqldb.update_one("users", {"email": "ann@x"}, {"$set": {"age": 32}}) is True
        assert (await nosqldb.find_one("users", {"email": "ann@x"}))["age"] == 32
        assert await nosqldb.execute_raw("anything") == ("raw", ("anything",))
    assert backend.collections is None  # disconnected at shutdown


# ---------------------------------------------------------------------- MongoBackend in the app


class MongomockBackend(MongoBackend):
    """MongoBackend exactly as shipped, with the client swapped for the mongomock adapter."""

    def create_client(self) -> Any:
        return AsyncMongomockClient()


async def test_mongo_backend_through_the_extension() -> None:
    nosqldb = NoSqlDatabase()
    application = build_app(
        NOSQL_DATABASE={"BACKEND": MongomockBackend, "DATABASE_URI": "mongodb://127.0.0.1", "DATABASE": "shop"}
    )
    nosqldb.init_app(application)
    application.register_controller(users_controller(nosqldb))
    async with PateraTestClient(application, raise_app_exceptions=False) as client:
        assert not nosqldb.backend.supports_transactions()  # a standalone server
        assert (await client.post("/users/", json=ANN)).status_code == 200
        assert (await client.get("/users/")).json() == [{"email": "ann@x"}]
        assert (await client.get("/users/older-than/1", params={"op": "$bogus"})).status_code == 400
        assert (await nosqldb.execute_raw("ping"))["ok"] == 1.0


@pytest.mark.parametrize(
    ("hello", "expected"),
    [
        ({"isWritablePrimary": True}, False),
        ({"isWritablePrimary": True, "setName": "rs0"}, True),
        ({"isWritablePrimary": True, "msg": "isdbgrid"}, True),
    ],
    ids=["standalone", "replica-set", "mongos"],
)
async def test_transactions_detected_from_the_topology(hello: dict[str, Any], expected: bool) -> None:
    client = AsyncMongomockClient()

    async def command(cmd: Any, **kwargs: Any) -> Any:
        return {**hello, "ok": 1.0} if cmd in ("hello", "isMaster") else {"ok": 1.0}

    client.admin.command = command  # type: ignore[method-assign]
    backend = MongoBackend("mongodb://127.0.0.1", "x", client=client)
    await backend.connect()
    assert backend.supports_transactions() is expected
    await backend.disconnect()
    assert client.closed


async def test_unreachable_mongo_fails_fast_without_leaking_the_password() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    records: list[str] = []
    sink = logger.add(records.append, level="DEBUG")
    try:
        backend = MongoBackend(f"mongodb://app:s3cret-pw@127.0.0.1:{port}/shop", serverSelectionTimeoutMS=300)
        with pytest.raises(ConnectionError) as info:
            await backend.connect()
    finally:
        logger.remove(sink)
    assert "s3cret-pw" not in str(info.value) and "***@127.0.0.1" in str(info.value)
    assert not any("s3cret-pw" in r for r in records)


async def test_invalid_query_is_a_value_error_outside_http() -> None:
    backend = SqliteDocumentBackend()
    await backend.connect()
    try:
        with pytest.raises(ValueError, match="Unknown operator"):
            await backend.find_many("x", {"a": {"$bad": 1}})
        with pytest.raises(InvalidQuery, match="collection name"):
            await backend.find_many('x" ; DROP TABLE y; --', {})
    finally:
        await backend.disconnect()


async def test_concurrent_managed_transactions_are_serialised(tmp_path: Path) -> None:
    import asyncio

    application, nosqldb = sqlite_app(tmp_path)

    @nosqldb.managed_database
    async def bump(db: NoSqlHandle, session: Any, fail: bool) -> None:
        doc = await db.find_one("counters", {"_id": "hits"})
        await asyncio.sleep(0)  # let the others try to interleave
        await db.update_one("counters", {"_id": "hits"}, {"$set": {"n": (doc or {}).get("n", 0) + 1}}, upsert=True)
        if fail:
            raise LookupError("abort this one")

    async with PateraTestClient(application):
        results = await asyncio.gather(*(bump(fail=i % 3 == 0) for i in range(12)), return_exceptions=True)
        failures = [r for r in results if isinstance(r, LookupError)]
        assert len(failures) == 4
        assert (await nosqldb.find_one("counters", {"_id": "hits"}))["n"] == 8  # read-modify-write never lost an update


def test_abstract_methods_are_exactly_the_readme_ones() -> None:
    readme = {
        "configure_from_app",
        "connect",
        "disconnect",
        "database_handle",
        "supports_transactions",
        "start_session",
        "with_transaction",
        "get_collection",
        "find_one",
        "find_many",
        "insert_one",
        "insert_many",
        "update_one",
        "delete_one",
        "aggregate",
        "execute_raw",
    }
    assert set(AsyncNoSqlBackendBase.__abstractmethods__) == readme
