"""One backend contract, run against every bundled NoSQL backend.

``SqliteDocumentBackend`` runs for real (in memory and on a file). ``MongoBackend`` runs the
same tests through ``tests/_mongomock_async.py`` because no MongoDB server can be installed
here; that is the only mock in the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from patera.database.nosql import DuplicateKeyError, InvalidQuery
from patera.database.nosql.backends import (
    AsyncNoSqlBackendBase,
    MongoBackend,
    SqliteDocumentBackend,
)
from tests._mongomock_async import AsyncMongomockClient

PEOPLE: list[dict[str, Any]] = [
    {"name": "ann", "age": 31, "city": "Oslo", "tags": ["a", "b"], "profile": {"score": 7}, "active": True},
    {"name": "bob", "age": 25, "city": "Rome", "tags": ["b"], "profile": {"score": 3}, "active": False},
    {"name": "cid", "age": 40, "tags": [], "profile": {"score": 9}, "active": True, "nick": None},
    {"name": "dee", "age": 25.5, "city": "Oslo", "active": True},
]


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "mongo-mongomock"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncNoSqlBackendBase]:
    store: AsyncNoSqlBackendBase
    if request.param == "sqlite-memory":
        store = SqliteDocumentBackend(":memory:")
    elif request.param == "sqlite-file":
        store = SqliteDocumentBackend(str(tmp_path / "documents.db"))
    else:
        store = MongoBackend("mongodb://app:secret@127.0.0.1:27017", "contract", client=AsyncMongomockClient())
    await store.connect()
    try:
        yield store
    finally:
        await store.disconnect()


@pytest.fixture
async def people(backend: AsyncNoSqlBackendBase) -> AsyncNoSqlBackendBase:
    await backend.insert_many("people", [dict(p) for p in PEOPLE])
    return backend


async def names(backend: AsyncNoSqlBackendBase, filter: Any = None, **kwargs: Any) -> list[str]:
    return [doc["name"] for doc in await backend.find_many("people", filter, **kwargs)]


# ---------------------------------------------------------------------- CRUD


async def test_insert_one_generates_an_id_and_find_one_returns_the_document(backend: AsyncNoSqlBackendBase) -> None:
    result = await backend.insert_one("items", {"title": "pen", "price": 2.5})
    assert result.inserted_id is not None
    found = await backend.find_one("items", {"_id": result.inserted_id})
    assert found == {"_id": result.inserted_id, "title": "pen", "price": 2.5}


async def test_explicit_ids_are_kept_and_the_input_is_not_modified(backend: AsyncNoSqlBackendBase) -> None:
    doc = {"_id": "sku-1", "title": "pen"}
    assert (await backend.insert_one("items", doc)).inserted_id == "sku-1"
    plain = {"title": "cup"}
    await backend.insert_one("items", plain)
    assert plain == {"title": "cup"}
    assert await backend.find_one("items", {"_id": "sku-1"}) == {"_id": "sku-1", "title": "pen"}


async def test_insert_many_returns_ids_in_order(backend: AsyncNoSqlBackendBase) -> None:
    result = await backend.insert_many("items", [{"_id": 1, "n": "a"}, {"_id": 2, "n": "b"}, {"n": "c"}])
    assert result.inserted_ids[:2] == [1, 2] and len(result.inserted_ids) == 3
    assert [d["n"] for d in await backend.find_many("items", {}, sort=[("n", 1)])] == ["a", "b", "c"]


async def test_missing_documents_and_collections(backend: AsyncNoSqlBackendBase) -> None:
    assert await backend.find_one("nothing_here", {"a": 1}) is None
    assert await backend.find_many("nothing_here") == []
    assert (await backend.delete_one("nothing_here", {"a": 1})).deleted_count == 0
    assert (await backend.update_one("nothing_here", {"a": 1}, {"$set": {"b": 2}})).matched_count == 0


async def test_duplicate_id_is_refused_and_the_original_kept(backend: AsyncNoSqlBackendBase) -> None:
    await backend.insert_one("items", {"_id": "k", "v": 1})
    with pytest.raises(DuplicateKeyError) as info:
        await backend.insert_one("items", {"_id": "k", "v": 2})
    assert info.value.status_code == 409
    assert await backend.find_one("items", {"_id": "k"}) == {"_id": "k", "v": 1}


async def test_delete_one_removes_exactly_one(people: AsyncNoSqlBackendBase) -> None:
    assert (await people.delete_one("people", {"city": "Oslo"})).deleted_count == 1
    assert len(await names(people, {"city": "Oslo"})) == 1
    assert len(await names(people)) == 3


# ---------------------------------------------------------------------- filters

FILTERS = [
    ({}, ["ann", "bob", "cid", "dee"]),
    ({"city": "Oslo"}, ["ann", "dee"]),
    ({"age": {"$eq": 25}}, ["bob"]),
    ({"city": {"$ne": "Oslo"}}, ["bob", "cid"]),
    ({"age": {"$gt": 25}}, ["ann", "cid", "dee"]),
    ({"age": {"$gte": 25, "$lt": 40}}, ["ann", "bob", "dee"]),
    ({"age": {"$lte": 25}}, ["bob"]),
    ({"name": {"$gt": "b"}}, ["bob", "cid", "dee"]),
    ({"city": {"$in": ["Rome", "Paris"]}}, ["bob"]),
    ({"city": {"$nin": ["Oslo"]}}, ["bob", "cid"]),
    ({"age": {"$in": []}}, []),
    ({"nick": {"$exists": True}}, ["cid"]),
    ({"city": {"$exists": False}}, ["cid"]),
    ({"nick": None}, ["ann", "bob", "cid", "dee"]),
    ({"profile.score": {"$gte": 7}}, ["ann", "cid"]),
    ({"profile": {"score": 3}}, ["bob"]),
    ({"tags": "b"}, ["ann", "bob"]),
    ({"tags": {"$in": ["a"]}}, ["ann"]),
    ({"tags": {"$ne": "b"}}, ["cid", "dee"]),
    ({"active": True}, ["ann", "cid", "dee"]),
    ({"active": False, "age": 25}, ["bob"]),
    ({"$or": [{"age": 40}, {"city": "Rome"}]}, ["bob", "cid"]),
    ({"$and": [{"city": "Oslo"}, {"age": {"$gt": 30}}]}, ["ann"]),
    ({"$or": [{"$and": [{"city": "Oslo"}, {"age": {"$lt": 30}}]}, {"name": "cid"}]}, ["cid", "dee"]),
]


@pytest.mark.parametrize(("filter", "expected"), FILTERS, ids=[repr(f) for f, _ in FILTERS])
async def test_filters(people: AsyncNoSqlBackendBase, filter: dict[str, Any], expected: list[str]) -> None:
    assert sorted(await names(people, filter)) == expected


async def test_filter_values_are_data_not_sql(people: AsyncNoSqlBackendBase) -> None:
    assert await names(people, {"name": "ann' OR 1=1 --"}) == []
    assert await names(people, {"city": {"$in": ["x') OR ('1'='1"]}}) == []


# ---------------------------------------------------------------------- sort, skip, limit

SORTS = [
    ({"sort": [("age", 1)]}, ["bob", "dee", "ann", "cid"]),
    ({"sort": [("age", -1)]}, ["cid", "ann", "dee", "bob"]),
    ({"sort": [("age", 1)], "skip": 1, "limit": 2}, ["dee", "ann"]),
    ({"sort": [("city", 1), ("age", -1)]}, ["cid", "ann", "dee", "bob"]),
    ({"sort": [("profile.score", -1)], "limit": 1}, ["cid"]),
    ({"sort": [("name", 1)], "limit": 0}, ["ann", "bob", "cid", "dee"]),
]


@pytest.mark.parametrize(("options", "expected"), SORTS, ids=[repr(o) for o, _ in SORTS])
async def test_sort_skip_limit(people: AsyncNoSqlBackendBase, options: dict[str, Any], expected: list[str]) -> None:
    assert await names(people, {}, **options) == expected


# ---------------------------------------------------------------------- updates


async def test_set_unset_inc(people: AsyncNoSqlBackendBase) -> None:
    result = await people.update_one(
        "people",
        {"name": "ann"},
        {"$set": {"city": "Bergen", "profile.level": "gold"}, "$unset": {"tags": ""}, "$inc": {"age": 2, "visits": 1}},
    )
    assert (result.matched_count, result.modified_count) == (1, 1)
    ann = await people.find_one("people", {"name": "ann"})
    assert ann is not None
    assert ann["city"] == "Bergen" and ann["profile"] == {"score": 7, "level": "gold"}
    assert "tags" not in ann and ann["age"] == 33 and ann["visits"] == 1


async def test_update_touches_one_document_only(people: AsyncNoSqlBackendBase) -> None:
    await people.update_one("people", {"city": "Oslo"}, {"$inc": {"age": 100}})
    ages = sorted(doc["age"] for doc in await people.find_many("people", {"city": "Oslo"}))
    assert len([a for a in ages if a > 100]) == 1


async def test_update_counts_for_no_match_and_no_change(people: AsyncNoSqlBackendBase) -> None:
    none = await people.update_one("people", {"name": "zed"}, {"$set": {"age": 1}})
    assert (none.matched_count, none.modified_count, none.upserted_id) == (0, 0, None)
    same = await people.update_one("people", {"name": "bob"}, {"$set": {"age": 25}})
    assert (same.matched_count, same.modified_count) == (1, 0)


async def test_upsert_inserts_from_the_filter(people: AsyncNoSqlBackendBase) -> None:
    result = await people.update_one("people", {"name": "eve", "city": "Nice"}, {"$set": {"age": 22}}, upsert=True)
    assert result.upserted_id is not None and result.matched_count == 0
    eve = await people.find_one("people", {"_id": result.upserted_id})
    assert eve is not None and (eve["name"], eve["city"], eve["age"]) == ("eve", "Nice", 22)


# ---------------------------------------------------------------------- aggregate


async def test_aggregate_match_group_sort(people: AsyncNoSqlBackendBase) -> None:
    rows = await people.aggregate(
        "people",
        [
            {"$match": {"age": {"$gte": 25}}},
            {"$group": {"_id": "$city", "people": {"$sum": 1}, "oldest": {"$max": "$age"}}},
            {"$sort": {"_id": 1}},
        ],
    )
    assert rows == [
        {"_id": None, "people": 1, "oldest": 40},
        {"_id": "Oslo", "people": 2, "oldest": 31},
        {"_id": "Rome", "people": 1, "oldest": 25},
    ]


async def test_aggregate_sort_skip_limit_project_count(people: AsyncNoSqlBackendBase) -> None:
    rows = await people.aggregate(
        "people", [{"$sort": {"age": -1}}, {"$skip": 1}, {"$limit": 2}, {"$project": {"_id": 0, "name": 1}}]
    )
    assert rows == [{"name": "ann"}, {"name": "dee"}]
    assert await people.aggregate("people", [{"$match": {"active": True}}, {"$count": "n"}]) == [{"n": 3}]


# ---------------------------------------------------------------------- errors

BAD_FILTERS = [
    {"age": {"$regexx": 1}},
    {"$foo": 1},
    {"age": {"$in": 5}},
    {"$and": []},
    {"$or": 5},
]


@pytest.mark.parametrize("filter", BAD_FILTERS, ids=[repr(f) for f in BAD_FILTERS])
async def test_bad_filters_raise_invalid_query(people: AsyncNoSqlBackendBase, filter: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery) as info:
        await people.find_many("people", filter)
    assert info.value.status_code == 400 and isinstance(info.value, ValueError)


BAD_UPDATES = [
    {"name": "x"},
    {"$foo": {"a": 1}},
    {"$inc": {"name": 1}},
    {"$set": {"_id": "other"}},
]


@pytest.mark.parametrize("update", BAD_UPDATES, ids=[repr(u) for u in BAD_UPDATES])
async def test_bad_updates_raise_invalid_query(people: AsyncNoSqlBackendBase, update: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery):
        await people.update_one("people", {"name": "ann"}, update)
    ann = await people.find_one("people", {"name": "ann"})
    assert ann is not None and ann["age"] == 31


@pytest.mark.parametrize(
    "options",
    [{"filter": "name = 'ann'"}, {"sort": [("age", 2)]}, {"sort": "age"}, {"limit": -1}, {"skip": -3}],
    ids=["filter-not-a-mapping", "sort-direction", "sort-string", "negative-limit", "negative-skip"],
)
async def test_bad_find_options_raise_invalid_query(people: AsyncNoSqlBackendBase, options: dict[str, Any]) -> None:
    options = dict(options)
    with pytest.raises(InvalidQuery):
        await people.find_many("people", options.pop("filter", {}), **options)


async def test_unknown_pipeline_stage_raises_invalid_query(people: AsyncNoSqlBackendBase) -> None:
    with pytest.raises(InvalidQuery):
        await people.aggregate("people", [{"$foo": {}}])


# ---------------------------------------------------------------------- transactions


async def test_transaction_commits_on_return(people: AsyncNoSqlBackendBase) -> None:
    session = await people.start_session()

    async def work(*, session: Any) -> str:
        await people.insert_one("people", {"name": "eve"}, session=session)
        await people.update_one("people", {"name": "ann"}, {"$set": {"city": "Bergen"}}, session=session)
        return "done"

    try:
        assert await people.with_transaction(work, session=session) == "done"
    finally:
        await people.end_session(session)
    assert "eve" in await names(people)
    assert await names(people, {"city": "Bergen"}) == ["ann"]


async def test_transaction_aborts_on_exception(people: AsyncNoSqlBackendBase) -> None:
    session = await people.start_session()

    async def work(*, session: Any) -> None:
        await people.insert_one("people", {"name": "eve"}, session=session)
        await people.delete_one("people", {"name": "ann"}, session=session)
        raise LookupError("boom")

    with pytest.raises(LookupError):
        await people.with_transaction(work, session=session)
    await people.end_session(session)
    if people.supports_transactions():
        assert sorted(await names(people)) == ["ann", "bob", "cid", "dee"]
    else:  # a standalone MongoDB: no session, every write stands on its own
        assert session is None
        assert "eve" in await names(people) and "ann" not in await names(people)


async def test_outside_readers_never_see_uncommitted_writes(people: AsyncNoSqlBackendBase) -> None:
    if not people.supports_transactions():
        pytest.skip("no transactions on this backend/server")
    inserted = asyncio.Event()
    seen: list[list[str]] = []

    async def reader() -> None:  # created before the transaction: not part of it
        await asyncio.wait_for(inserted.wait(), 5)
        seen.append(await names(people, {"name": "eve"}))

    task = asyncio.create_task(reader())

    async def work(*, session: Any) -> None:
        await people.insert_one("people", {"name": "eve"}, session=session)
        inserted.set()
        await asyncio.sleep(0.05)  # give the reader every chance to run
        raise LookupError("abort")

    with pytest.raises(LookupError):
        await people.with_transaction(work, session=await people.start_session())
    await asyncio.wait_for(task, 5)
    assert seen == [[]]


async def test_not_connected_is_a_runtime_error() -> None:
    for store in (SqliteDocumentBackend(), MongoBackend("mongodb://127.0.0.1:1", "x", client=AsyncMongomockClient())):
        with pytest.raises(RuntimeError, match="not connected"):
            await store.find_one("people", {})
