"""``examples/api`` exercised in-process with ``PateraTestClient``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from examples.api.app import Application
from patera.testing import PateraTestClient


@pytest.fixture
async def client() -> AsyncIterator[PateraTestClient]:
    async with PateraTestClient(Application()) as c:
        yield c


async def test_crud_flow(client: PateraTestClient) -> None:
    listing = await client.get("/api/v1/items")
    assert listing.status_code == 200
    assert listing.json()["total"] == 1  # seeded by the startup hook

    created = await client.post("/api/v1/items", json={"name": "Lamp", "price": 12.5, "tags": ["home"]})
    assert created.status_code == 201
    item = created.json()
    assert item == {"id": 2, "name": "Lamp", "price": 12.5, "tags": ["home"]}
    assert created.headers["location"] == "/api/v1/items/2"

    assert (await client.get("/api/v1/items/2")).json() == item
    assert [i["id"] for i in (await client.get("/api/v1/items", params={"tag": "home"})).json()["items"]] == [2]

    replaced = await client.put("/api/v1/items/2", json={"name": "Desk lamp", "price": 15})
    assert replaced.status_code == 200
    assert replaced.json() == {"id": 2, "name": "Desk lamp", "price": 15.0, "tags": []}

    patched = await client.patch("/api/v1/items/2", json={"price": 14})
    assert patched.json() == {"id": 2, "name": "Desk lamp", "price": 14.0, "tags": []}

    deleted = await client.delete("/api/v1/items/2")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get("/api/v1/items")).json()["total"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/items/42"), ("PUT", "/api/v1/items/42"), ("PATCH", "/api/v1/items/42"),
     ("DELETE", "/api/v1/items/42")],
)
async def test_missing_item_is_404_from_the_exception_handler(client: PateraTestClient, method: str, path: str) -> None:
    body = {"name": "x", "price": 1} if method in ("PUT", "PATCH") else None
    res = await client.request(method, path, json=body)
    assert res.status_code == 404
    assert res.json() == {"status": "error", "message": "Item 42 not found", "data": {"id": 42}}


async def test_invalid_bodies(client: PateraTestClient) -> None:
    assert (await client.post("/api/v1/items", json={"name": "", "price": -1})).status_code == 422
    assert (
        await client.post("/api/v1/items", content=b"{", headers={"content-type": "application/json"})
    ).status_code == 400
    assert (await client.post("/api/v1/items", content=b"x", headers={"content-type": "text/plain"})).status_code == 415


async def test_middleware_times_every_response(client: PateraTestClient) -> None:
    for path in ("/api/v1/items", "/api/v1/items/42", "/no/such/route"):
        res = await client.get(path)
        assert float(res.headers["x-process-time-ms"]) >= 0, path


async def test_static_file_and_url_for(client: PateraTestClient) -> None:
    info = (await client.get("/api/v1/")).json()
    assert info == {"name": "Example API", "version": "1.0", "readme": "/static/readme.txt", "echo": "/api/v1/echo"}
    res = await client.get(info["readme"])
    assert res.status_code == 200
    assert res.text == "Hello from the example API static folder.\n"
    assert res.headers["content-type"].startswith("text/plain")
    assert (await client.get("/static/../app/configs.py")).status_code == 404


async def test_websocket_echo(client: PateraTestClient) -> None:
    async with client.websocket_connect("/api/v1/echo") as ws:
        await ws.send_text("hi")
        assert await ws.receive_text() == "echo: hi"
        await ws.send_bytes(b"\x00\x01")
        assert await ws.receive_bytes() == b"\x00\x01"


async def test_openapi_lists_the_api(client: PateraTestClient) -> None:
    spec = (await client.get("/openapi/specs.json")).json()
    assert spec["info"]["title"] == "Example API"
    assert {"/api/v1/items", "/api/v1/items/{item_id}"} <= set(spec["paths"])
    assert not any(p.startswith("/static") or p.endswith("/echo") for p in spec["paths"])


def test_cli_command(capsys: pytest.CaptureFixture[str]) -> None:
    application = Application(cli_mode=True)
    assert application.run_cli(["count"], lifespan=True) == 0
    assert application.run_cli(["add-item", "--name", "Pen", "--price", "1.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1"
    assert '"name":"Pen"' in out[1]
