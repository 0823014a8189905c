"""Request bodies through the whole app: limits, Content-Length, JSON rules, form injection."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest
from pydantic import BaseModel

from patera import MediaType, Request, Response, UploadedFile
from patera.controller import Controller, consumes, limits, path, post
from patera.testing import PateraTestClient

from .conftest import build_app


class Item(BaseModel):
    name: str
    qty: int = 1


class Survey(BaseModel):
    name: str
    colors: list[str] = []
    age: int


class Upload(BaseModel):
    title: str
    document: UploadedFile
    extras: list[UploadedFile] = []


@path("/b")
class Bodies(Controller):
    @post("/raw")
    async def raw(self, req: Request) -> Response:
        body = await req.body()
        return req.response.json({"size": len(body)})

    @post("/json")
    @consumes(MediaType.APPLICATION_JSON)
    async def item(self, req: Request, item: Item) -> Response[Item]:
        return req.response.json(item)

    @post("/problem")
    @consumes(MediaType.APPLICATION_PROBLEM_JSON)
    async def problem(self, req: Request, item: Item) -> Response[Item]:
        return req.response.json(item)

    @post("/any-json")
    async def any_json(self, req: Request) -> Response:
        return req.response.json({"parsed": await req.json()})

    @post("/form")
    @consumes(MediaType.APPLICATION_X_WWW_FORM_URLENCODED)
    async def form(self, req: Request, survey: Survey) -> Response[Survey]:
        return req.response.json(survey)

    @post("/upload")
    @consumes(MediaType.MULTIPART_FORM_DATA)
    async def upload(self, req: Request, data: Upload) -> Response:
        content = data.document.read()
        return req.response.json(
            {
                "title": data.title,
                "filename": data.document.filename,
                "sha256": hashlib.sha256(content).hexdigest(),
                "extras": [f.filename for f in data.extras],
            }
        )

    @post("/small")
    @limits(max_content_length=10)
    async def small(self, req: Request) -> Response:
        return req.response.json({"size": len(await req.body())})

    @post("/form-then-body")
    async def form_then_body(self, req: Request) -> Response:
        await req.form()
        try:
            await req.body()
        except RuntimeError as exc:
            return req.response.text(str(exc))
        return req.response.text("body available")


def app_with_limit(limit: int | None = 100) -> Any:
    return build_app(Bodies, MAX_CONTENT_LENGTH=limit, DEBUG=False)


async def call_raw(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes],
                   disconnect: bool = False) -> tuple[int | None, bytes]:
    """Drive the app with hand-made ASGI messages (lying Content-Length, chunking, disconnects)."""
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or disconnect}
        for i, c in enumerate(chunks)
    ]
    if disconnect:
        queue.append({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)  # a server never answers twice with the end of the body
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), 5)
    status = sent[0]["status"] if sent else None
    return status, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("value", ["-1", "+10", "1_0", "١٠", "ten", "10, 10", " "], ids=repr)
async def test_invalid_content_length_is_400(value: str) -> None:
    status, body = await call_raw(
        app_with_limit(), "POST", "/b/raw", [(b"content-length", value.encode())], [b"0123456789"]
    )
    assert status == 400 and json.loads(body)["message"] == "Invalid Content-Length header"


async def test_declared_too_large_is_413_before_reading() -> None:
    status, body = await call_raw(app_with_limit(), "POST", "/b/raw", [(b"content-length", b"1000")], [])
    assert status == 413 and json.loads(body) == {"status": "error", "message": "Request body too large"}


async def test_streamed_too_large_without_length_is_413() -> None:
    status, _ = await call_raw(app_with_limit(), "POST", "/b/raw", [], [b"x" * 60, b"x" * 60, b"x" * 60])
    assert status == 413


@pytest.mark.parametrize(
    ("declared", "chunks"), [(b"5", [b"0123456789"]), (b"50", [b"0123456789"])], ids=["body-longer", "body-shorter"]
)
async def test_lying_content_length_is_400(declared: bytes, chunks: list[bytes]) -> None:
    status, _ = await call_raw(app_with_limit(), "POST", "/b/raw", [(b"content-length", declared)], chunks)
    assert status == 400


async def test_client_disconnect_mid_body_sends_nothing() -> None:
    status, _ = await call_raw(
        app_with_limit(None), "POST", "/b/raw", [(b"content-length", b"100")], [b"abc"], disconnect=True
    )
    assert status is None


async def test_per_route_limit_overrides_app_limit() -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        assert (await client.post("/b/small", content=b"x" * 10)).json() == {"size": 10}
        assert (await client.post("/b/small", content=b"x" * 11)).status_code == 413
        assert (await client.post("/b/raw", content=b"x" * 10_000)).json() == {"size": 10_000}


@pytest.mark.parametrize(
    "body",
    [
        b"{bad",
        b'{"name": NaN}',
        b'{"name": Infinity}',
        b'{"name": "x"} trailing',
        b'{"name": "\xff"}',
        b"[" * 200_000,
        b'{"qty": ' + b"9" * 5000 + b"}",
        b'\x00{"name":"x"}',
    ],
    ids=["syntax", "nan", "infinity", "trailing", "invalid-utf8", "deep-nesting", "huge-int", "nul"],
)
async def test_malformed_json_is_400(body: bytes) -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post("/b/json", content=body, headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (400, {"status": "error", "message": "Malformed JSON body"})
        r = await client.post("/b/any-json", content=body, headers={"content-type": "application/json"})
        assert r.json() == {"parsed": None}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name":"x"}'.encode("utf-16"), "application/json"),
        ('{"name":"x"}'.encode("utf-32"), "application/json"),
        (b'\xef\xbb\xbf{"name":"x"}', "application/json"),
        (b'{"name":"y","name":"x"}', "application/json"),
        (b'{"name":"x"}', "application/vnd.api+json; charset=utf-8"),
        (b'{"name":"x"}', "APPLICATION/JSON"),
    ],
    ids=["utf16", "utf32", "utf8-bom", "duplicate-last-wins", "plus-json", "upper-case"],
)
async def test_json_decoding(body: bytes, content_type: str) -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post("/b/json", content=body, headers={"content-type": content_type})
        assert r.json() == {"name": "x", "qty": 1}


@pytest.mark.parametrize(
    "body",
    [b'{"name": 5, "qty": "many"}', b'{"qty": 2}', b"[1, 2]", b'"x"'],
    ids=["wrong-types", "missing", "array", "string"],
)
async def test_validation_errors_are_the_same_on_both_json_paths(body: bytes) -> None:
    # UTF-8 bodies are parsed and validated by pydantic in one pass; a BOM takes the strict
    # path (parse, then validate the Python value). Users must not see the difference.
    async with PateraTestClient(app_with_limit(None)) as client:
        fast = await client.post("/b/json", content=body, headers={"content-type": "application/json"})
        strict = await client.post(
            "/b/json", content=b"\xef\xbb\xbf" + body, headers={"content-type": "application/json"}
        )
    assert fast.status_code == strict.status_code == 422
    assert fast.json() == strict.json()


async def test_empty_json_body_validates_as_empty_object() -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post("/b/json", content=b"", headers={"content-type": "application/json"})
        assert r.status_code == 422


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "multipart/form-data; boundary=x"])
async def test_wrong_content_type_is_415(content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post("/b/json", content=b'{"name":"x"}', headers=headers)
        assert r.status_code == 415
        assert r.json() == {
            "status": "error",
            "message": "Unsupported Media Type",
            "detail": "Unsupported Media Type",
            "expected": "application/json",
            "received": content_type,
        }


async def test_problem_json_accepts_plain_json() -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post("/b/problem", json={"name": "x"})
        assert r.status_code == 200


async def test_urlencoded_form_into_model() -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post(
            "/b/form",
            content=b"name=Ana+B&colors=red&colors=blue&age=31",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.json() == {"name": "Ana B", "colors": ["red", "blue"], "age": 31}
        r = await client.post("/b/form", data={"name": "x", "colors": "red", "age": "3"})
        assert r.json() == {"name": "x", "colors": ["red"], "age": 3}
        r = await client.post("/b/form", data={"name": "x", "age": "old"})
        assert r.status_code == 422


async def test_multipart_upload_into_model() -> None:
    payload = bytes(range(256)) * 1000
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post(
            "/b/upload",
            data={"title": "report"},
            files=[
                ("document", ("r.bin", payload, "application/octet-stream")),
                ("extras", ("a.txt", b"a", "text/plain")),
                ("extras", ("b.txt", b"b", "text/plain")),
            ],
        )
        assert r.json() == {
            "title": "report",
            "filename": "r.bin",
            "sha256": hashlib.sha256(payload).hexdigest(),
            "extras": ["a.txt", "b.txt"],
        }


async def test_body_after_streamed_form_is_refused() -> None:
    async with PateraTestClient(app_with_limit(None)) as client:
        r = await client.post("/b/form-then-body", files={"f": ("a", b"1")})
        assert r.text == "request body was consumed by the form parser"
        r = await client.post("/b/form-then-body", data={"a": "1"})
        assert r.text == "body available"


@path("/echo")
class Echo(Controller):
    @post("/form")
    async def form(self, req: Request) -> Response:
        return req.response.json(await req.form())


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=utf-7", b"a=%2B2AA-"),
        ("application/x-www-form-urlencoded; charset=unicode_escape", b"a=%5Cud800"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n'
            b"Content-Type: text/plain; charset=utf-7\r\n\r\n+2AA-\r\n--b--\r\n",
        ),
    ],
    ids=["urlencoded-utf7", "urlencoded-unicode-escape", "multipart-utf7"],
)
async def test_client_codecs_never_yield_unencodable_text(content_type: str, body: bytes) -> None:
    async with PateraTestClient(build_app(Echo, DEBUG=False)) as client:
        r = await client.post("/echo/form", content=body, headers={"content-type": content_type})
        assert r.status_code == 200
        r.json()["a"].encode("utf-8")
