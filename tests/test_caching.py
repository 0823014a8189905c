"""Caching extension (SPEC §17.2) through real requests, on every bundled backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from patera import HttpStatus, MediaType, Request, Response
from patera.auth import Authentication
from patera.caching import Cache
from patera.controller import Controller, after_request, get, path, post, produces
from patera.exceptions import abort
from patera.testing import PateraTestClient

from .conftest import build_app

cache = Cache()
CALLS: dict[str, int] = {}


def count(name: str) -> int:
    CALLS[name] = CALLS.get(name, 0) + 1
    return CALLS[name]


class Auth(Authentication):
    async def user_loader(self, req: Request) -> Any:
        name = req.headers.get("x-user")
        return {"id": name, "name": name} if name in ("alice", "bob") else None


auth = Auth()


class Public(BaseModel):
    name: str


@path("/c")
class Cached(Controller):
    @get("/items/<int:item_id>")
    @cache.cache(duration=60)
    async def item(self, req: Request, item_id: int) -> Response[Any]:
        n = count("item")
        return req.response.json({"id": item_id, "call": n, "q": req.query_params}).set_header("X-Call", str(n))

    @get("/status/<int:code>")
    @cache.cache()
    async def status(self, req: Request, code: int) -> Response[Any]:
        return req.response.json({"call": count(f"status{code}")}).status(code)

    @get("/abort")
    @cache.cache()
    async def aborted(self, req: Request) -> Response[Any]:
        count("abort")
        abort("nope", 409)

    @get("/stream")
    @cache.cache()
    async def stream(self, req: Request) -> Response[Any]:
        n = count("stream")
        return req.response.stream_text(iter([f"call {n}"]))

    @get("/cookie")
    @cache.cache()
    async def cookie(self, req: Request) -> Response[Any]:
        n = count("cookie")
        return req.response.json({"call": n}).set_cookie("session", f"s{n}")

    @get("/cc/<directive>")
    @cache.cache()
    async def cache_control(self, req: Request, directive: str) -> Response[Any]:
        n = count(f"cc-{directive}")
        return req.response.json({"call": n}).set_header("Cache-Control", directive)

    @get("/vary")
    @cache.cache()
    async def vary(self, req: Request) -> Response[Any]:
        n = count("vary")
        lang = req.headers.get("accept-language", "en")
        return req.response.json({"lang": lang, "call": n}).set_header("Vary", "Accept-Language")

    @get("/me")
    @auth.login_required
    @cache.cache()
    async def me(self, req: Request) -> Response[Any]:
        n = count(f"me-{req.user['name']}")
        return req.response.json({"user": req.user["name"], "call": n})

    @get("/model")
    @produces(MediaType.APPLICATION_JSON, status_code=HttpStatus.CREATED)
    @cache.cache()
    async def model(self, req: Request) -> Response[Public]:
        """Response[T] drops the secret on the miss and on every hit."""
        return req.response.json({"name": "pen", "secret": count("model")})

    @cache.cache()
    @get("/above")
    async def above(self, req: Request) -> Response[Any]:
        return req.response.json({"call": count("above")})

    @get("/sync")
    @cache.cache()
    def sync(self, req: Request) -> Response[Any]:
        return req.response.text(f"call {count('sync')}")

    @get("/bare")
    @cache.cache
    async def bare(self, req: Request) -> Response[Any]:
        return req.response.json({"call": count("bare")})

    @post("/echo")
    @cache.cache()
    async def echo(self, req: Request) -> Response[Any]:
        """The key does not hash bodies: other methods are never answered from the cache."""
        return req.response.json({"body": (await req.body()).decode(), "call": count("echo")})

    @after_request
    async def served_by(self, res: Response[Any]) -> None:
        res.set_header("X-After", "yes")  # hooks run on hits too


BACKENDS = ["memory", "sqlite", "redis"]


@pytest.fixture
def cache_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    kind = request.param
    if kind == "memory":
        return {"CACHE": {"BACKEND": "memory"}}
    if kind == "sqlite":
        return {"CACHE": {"BACKEND": "sqlite", "SQLITE_PATH": str(tmp_path / "cache.db")}}
    redis = request.getfixturevalue("redis_service")
    return {"CACHE": {"BACKEND": "redis", "REDIS_URL": redis.url, "KEY_PREFIX": f"test:{uuid.uuid4().hex}:"}}


@pytest.fixture
async def client(cache_config: dict[str, Any]) -> AsyncIterator[PateraTestClient]:
    app = build_app(Cached, SECRET_KEY="k", **cache_config)
    cache.init_app(app)
    auth.init_app(app)
    CALLS.clear()
    async with PateraTestClient(app) as c:
        yield c
        await cache.clear()


pytestmark = pytest.mark.parametrize("cache_config", BACKENDS, indirect=True)


async def test_hit_serves_the_stored_response(client: PateraTestClient) -> None:
    first = await client.get("/c/items/1?b=2&a=1")
    second = await client.get("/c/items/1?a=1&b=2")  # same query, other order
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"id": 1, "call": 1, "q": {"b": "2", "a": "1"}}
    assert first.headers["x-call"] == second.headers["x-call"] == "1"
    assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
    assert second.headers["x-after"] == "yes"
    assert CALLS["item"] == 1


@pytest.mark.parametrize("other", ["/c/items/2", "/c/items/1?a=2", "/c/items/1?a=1&a=1"])
async def test_path_and_query_make_different_entries(client: PateraTestClient, other: str) -> None:
    await client.get("/c/items/1?a=1")
    assert (await client.get(other)).json()["call"] == 2


@pytest.mark.parametrize(("target", "name"), [("/c/status/404", "status404"), ("/c/status/500", "status500"),
                                               ("/c/status/302", "status302"), ("/c/abort", "abort"),
                                               ("/c/stream", "stream"), ("/c/cc/private", "cc-private"),
                                               ("/c/cc/no-store", "cc-no-store"), ("/c/cc/no-cache", "cc-no-cache")])
async def test_responses_that_are_not_stored(client: PateraTestClient, target: str, name: str) -> None:
    for _ in range(2):
        await client.get(target)
    assert CALLS[name] == 2


async def test_2xx_other_than_200_is_stored(client: PateraTestClient) -> None:
    responses = [await client.get("/c/status/203") for _ in range(2)]
    assert [r.status_code for r in responses] == [203, 203]
    assert CALLS["status203"] == 1


async def test_set_cookie_is_never_stored(client: PateraTestClient) -> None:
    first = await client.get("/c/cookie")
    assert first.headers.get_list("set-cookie")[0].startswith("session=s1")
    client.client.cookies.clear()
    second = await client.get("/c/cookie")
    assert second.json() == {"call": 1}
    assert "set-cookie" not in second.headers


async def test_vary_headers_are_part_of_the_key(client: PateraTestClient) -> None:
    de = await client.get("/c/vary", headers={"Accept-Language": "de"})
    fr = await client.get("/c/vary", headers={"Accept-Language": "fr"})
    de_again = await client.get("/c/vary", headers={"Accept-Language": "de"})
    assert (de.json(), fr.json(), de_again.json()) == (
        {"lang": "de", "call": 1},
        {"lang": "fr", "call": 2},
        {"lang": "de", "call": 1},
    )
    assert de_again.headers["vary"] == "Accept-Language"


async def test_two_logged_in_users_never_see_each_other(client: PateraTestClient) -> None:
    alice = await client.get("/c/me", headers={"X-User": "alice"})
    bob = await client.get("/c/me", headers={"X-User": "bob"})
    alice_again = await client.get("/c/me", headers={"X-User": "alice"})
    bob_again = await client.get("/c/me", headers={"X-User": "bob"})
    assert alice.json() == alice_again.json() == {"user": "alice", "call": 1}
    assert bob.json() == bob_again.json() == {"user": "bob", "call": 1}
    assert (await client.get("/c/me")).status_code == 401  # no user: refused before the cache


async def test_only_get_and_head_are_cached(client: PateraTestClient) -> None:
    first = await client.post("/c/echo", content=b"one")
    second = await client.post("/c/echo", content=b"two")
    assert (first.json(), second.json()) == ({"body": "one", "call": 1}, {"body": "two", "call": 2})
    heads = [await client.head("/c/items/5") for _ in range(2)]
    assert [h.headers["x-call"] for h in heads] == ["1", "1"]


@pytest.mark.parametrize(
    "query",
    ["a=" + "x" * 30_000, "%FF%FE=%00&%ZZ", "&&&=&", "a=1&" * 2000, "\u00e9=\u00e8"],
    ids=["30k", "bad-escapes", "empty-pairs", "2000-pairs", "non-ascii"],
)
async def test_hostile_queries_are_cached_safely(client: PateraTestClient, query: str) -> None:
    first = await client.get(f"/c/items/3?{query}")
    second = await client.get(f"/c/items/3?{query}")
    assert first.status_code == second.status_code == 200
    assert first.json()["call"] == second.json()["call"] == 1


async def test_credentials_without_a_user_bypass_the_cache(client: PateraTestClient) -> None:
    """An Authorization header the app did not turn into req.user may shape the answer (RFC 9111 §3.5)."""
    for expected in (1, 2):
        response = await client.get("/c/items/9", headers={"Authorization": "Bearer someone"})
        assert response.json()["call"] == expected
    assert (await client.get("/c/items/9")).json()["call"] == 3
    assert (await client.get("/c/items/9")).json()["call"] == 3


async def test_response_model_and_produces_apply_to_hits(client: PateraTestClient) -> None:
    responses = [await client.get("/c/model") for _ in range(2)]
    assert [(r.status_code, r.json()) for r in responses] == [(201, {"name": "pen"})] * 2
    assert CALLS["model"] == 1


@pytest.mark.parametrize(("target", "name"), [("/c/above", "above"), ("/c/sync", "sync"), ("/c/bare", "bare")])
async def test_decorator_forms(client: PateraTestClient, target: str, name: str) -> None:
    first, second = [await client.get(target) for _ in range(2)]
    assert first.content == second.content
    assert CALLS[name] == 1


async def test_manual_api_and_clear(client: PateraTestClient) -> None:
    await client.get("/c/items/1")
    await cache.set("report", {"rows": [1, 2], "raw": b"\x00\xff"}, duration=30)
    assert await cache.get("report") == {"rows": [1, 2], "raw": b"\x00\xff"}
    response = Response(status_code=202).json({"a": 1}).set_cookie("s", "1").set_header("X-A", "b")
    await cache.set("response", response)
    stored = await cache.get("response")
    assert stored == {
        "status_code": 202,
        "headers": [["content-type", "application/json"], ["x-a", "b"]],
        "body": b'{"a":1}',
    }
    await cache.delete("report")
    assert await cache.get("report") is None
    await cache.clear()
    assert await cache.get("response") is None
    assert (await client.get("/c/items/1")).json()["call"] == 2


async def test_manual_api_refuses_what_json_cannot_hold(client: PateraTestClient) -> None:
    with pytest.raises(TypeError):
        await cache.set("bad", {"when": object()})
    with pytest.raises(TypeError):
        await cache.set("bad", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await cache.set("bad", {"a": 1}, duration=0)
