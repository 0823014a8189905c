"""Hostile input through the whole app (issue 7): never a 500, a hang, unbounded memory,
or a header/path the client controls.

Most tests drive the ASGI app by hand (exact bytes, chunking, duplicate headers, lying
``Content-Length``) under an ``asyncio.wait_for`` hang guard; a few run a real hypercorn
on 127.0.0.1 where the server's framing matters. Time bounds are hang guards only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from patera import BaseConfig, MediaType, Patera, Request, Response, app
from patera.controller import Controller, consumes, get, path, post

from ._servers import hypercorn_server
from .conftest import build_app

HANG_GUARD = 10.0
MiB = 1 << 20
BOUNDARY = b"hostileBoundary42"
MULTIPART = b"multipart/form-data; boundary=" + BOUNDARY
JSON_ERROR = b'{"status":"error","message":"Malformed JSON body"}'


# ---------------------------------------------------------------------- raw ASGI driver


class Result:
    """What the app sent back, plus how much of the request body it pulled."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.body_messages = 0
        self.consumed = 0  # request body bytes handed to the app
        self.messages: list[dict[str, Any]] = []

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_list(self, name: bytes) -> list[bytes]:
        return [v for k, v in self.headers if k == name]


def scope_for(
    method: str = "GET",
    target: str = "/",
    headers: Iterable[tuple[bytes, bytes]] = (),
    query: bytes = b"",
    host: bytes | None = b"testserver",
) -> dict[str, Any]:
    raw = [(b"host", host)] if host is not None else []
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": target,
        "raw_path": target.encode("utf-8", "surrogatepass"), "query_string": query, "root_path": "",
        "headers": raw + list(headers), "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }


async def call(
    asgi: Any,
    method: str = "GET",
    target: str = "/",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | Iterable[bytes] = b"",
    *,
    query: bytes = b"",
    host: bytes | None = b"testserver",
    disconnect_after_body: bool = False,
    disconnect_after_sends: int | None = None,
    timeout: float = HANG_GUARD,
) -> Result:
    """Run one request; ``body`` may be a lazy iterable of chunks (pulled only on demand).

    ``disconnect_after_body``: once the chunks run out, report ``http.disconnect`` instead
    of the final ``more_body=False`` message (a client vanishing mid-upload).
    ``disconnect_after_sends``: after that many response messages, a waiting ``receive``
    reports ``http.disconnect`` (a client vanishing mid-stream).
    """
    result = Result()
    chunks: Iterator[bytes] = iter([body] if isinstance(body, bytes) else body)
    body_done = False
    hang_up = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal body_done
        if not body_done:
            chunk = next(chunks, None)
            if chunk is not None:
                result.consumed += len(chunk)
                return {"type": "http.request", "body": chunk, "more_body": True}
            body_done = True
            if not disconnect_after_body:
                return {"type": "http.request", "body": b"", "more_body": False}
        else:
            await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        result.messages.append(message)
        if message["type"] == "http.response.start":
            assert result.status is None, "second http.response.start"
            result.status = message["status"]
            result.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")
            result.body_messages += 1
        if disconnect_after_sends is not None and len(result.messages) >= disconnect_after_sends:
            hang_up.set()

    scope = scope_for(method, target, headers, query, host)
    await asyncio.wait_for(asgi(scope, receive, send), timeout)
    for key, value in result.headers:  # no response of ours may ever split a header block
        assert b"\r" not in value and b"\n" not in value and b"\x00" not in value, (key, value)
    return result


def lazy(*pieces: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """Chain byte strings and chunk generators without materialising anything."""
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
        else:
            yield from piece


def repeated(unit: bytes, count: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """``unit * count`` in chunks of about ``chunk`` bytes, generated lazily."""
    per = max(1, chunk // len(unit))
    block = unit * per
    whole, rest = divmod(count, per)
    for _ in range(whole):
        yield block
    if rest:
        yield unit * rest


def part(name: str, value: bytes, filename: str | None = None, extra: bytes = b"") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    return (
        b"--"
        + BOUNDARY
        + b"\r\nContent-Disposition: "
        + disposition.encode()
        + b"\r\n"
        + extra
        + b"\r\n"
        + value
        + b"\r\n"
    )


CLOSE = b"--" + BOUNDARY + b"--\r\n"


def mp_headers(length: int | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", MULTIPART)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return headers


def error_message(result: Result) -> str:
    return str(json.loads(result.body)["message"])


# ---------------------------------------------------------------------- the app under attack


class Item(BaseModel):
    name: str
    qty: int = 1


STREAM_STATE: dict[str, Any] = {}


@path("/h")
class Hostile(Controller):
    @post("/form")
    async def form(self, req: Request) -> Response:
        form = await req.form()
        files = await req.files()
        return req.response.json({"fields": len(form), "files": len(files)})

    @post("/files")
    async def files(self, req: Request) -> Response:
        files = await req.files()
        out = []
        for value in files.values():
            for f in value if isinstance(value, list) else [value]:
                out.append({"filename": f.filename, "safe": f.safe_filename, "size": f.size})
        return req.response.json(out)

    @post("/raw")
    async def raw(self, req: Request) -> Response:
        return req.response.json({"size": len(await req.body())})

    @post("/json")
    @consumes(MediaType.APPLICATION_JSON)
    async def item(self, req: Request, item: Item) -> Response[Item]:
        return req.response.json(item)

    @post("/any-json")
    async def any_json(self, req: Request) -> Response:
        value = await req.json()
        return req.response.json({"none": value is None})

    @get("/query")
    async def query(self, req: Request) -> Response:
        params = req.query_params
        return req.response.json({"keys": len(params), "a": len(params.get("a", []))})

    @get("/cookies")
    async def cookies(self, req: Request) -> Response:
        return req.response.json(req.cookies)

    @get("/users/<int:user_id>")
    async def get_user(self, req: Request, user_id: int) -> Response:
        return req.response.json({"id": user_id})

    @post("/upload-then-stream")
    async def upload_then_stream(self, req: Request) -> Response:
        files = await req.files()
        STREAM_STATE["spooled"] = [not f.in_memory for f in files.values()]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                for i in range(100_000):
                    yield b"x" * 100
                    await asyncio.sleep(0)
                    STREAM_STATE["sent"] = i
            finally:
                STREAM_STATE["finally"] = True

        return req.response.stream(chunks())

    @get("/idle-stream")
    async def idle_stream(self, req: Request) -> Response:
        """A server-sent-events style stream that waits (here: forever) for its next event."""

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b"data: hello\n\n"
                await asyncio.Event().wait()
                yield b"never"
            finally:
                STREAM_STATE["idle_finally"] = True

        return req.response.stream(events())

    @get("/stream-sync")
    async def stream_sync(self, req: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            try:
                for _ in range(100_000):
                    yield b"y" * 100
            finally:
                STREAM_STATE["sync_finally"] = True

        return req.response.stream(chunks())

    @get("/inject")
    async def inject(self, req: Request) -> Response:
        """Tries every way a handler could put client data into a header; reports refusals."""
        evil = req.query_params["v"]
        res = req.response
        attempts: dict[str, Callable[[], Any]] = {
            "set_header": lambda: res.set_header("x-a", evil),
            "set_headers": lambda: res.set_headers({"x-b": evil}),
            "item": lambda: res.headers.__setitem__("x-c", evil),
            "add": lambda: res.headers.add("x-d", evil),
            "name": lambda: res.set_header(evil, "1"),
            "redirect": lambda: res.redirect("/next?x=" + evil),
            "cookie_value": lambda: res.set_cookie("c", evil),
            "cookie_domain": lambda: res.set_cookie("c", "1", domain="x" + evil),
            "cookie_path": lambda: res.set_cookie("c", "1", path="/" + evil),
            "send_file_headers": lambda: res.send_file(b"", headers={"x-e": evil}),
            "stream_type": lambda: res.stream([b""], content_type="text/plain" + evil),
        }
        refused = []
        for name, attempt in attempts.items():
            try:
                attempt()
            except ValueError:
                refused.append(name)
        try:
            res.set_cookie("sid", "1", domain="x; SameSite=None")
        except ValueError:
            refused.append("domain_attribute")
        fresh = req.app.response_class(req.app)
        return fresh.json({"refused": refused})


@pytest.fixture(scope="module")
def hostile_app() -> Patera:
    return build_app(Hostile)


@pytest.fixture(scope="module")
def limited_app() -> Patera:
    return build_app(Hostile, MAX_CONTENT_LENGTH=100_000)


# ---------------------------------------------------------------------- 1. many tiny parts


@pytest.mark.parametrize("kind", ["fields", "files"])
async def test_1_hundred_thousand_tiny_parts_413_while_streaming(hostile_app: Patera, kind: str) -> None:
    count = 100_000
    one = part("f", b"1", filename="a" if kind == "files" else None)
    total = len(one) * count + len(CLOSE)
    r = await call(hostile_app, "POST", "/h/form", mp_headers(total), lazy(repeated(one, count), CLOSE))
    assert r.status == 413, r.body
    assert error_message(r) == ("Too many form fields" if kind == "fields" else "Too many files")
    assert r.consumed < total // 10, "the limit must stop the upload while it streams"


# ---------------------------------------------------------------------- 2. one huge field


async def test_2_one_gigabyte_field_413_early(hostile_app: Patera) -> None:
    size = 1 << 30
    head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="big"\r\n\r\n'
    total = len(head) + size + 2 + len(CLOSE)
    tracemalloc.start()
    try:
        r = await call(
            hostile_app,
            "POST",
            "/h/form",
            mp_headers(total),
            lazy(head, repeated(b"A", size, 256 * 1024), b"\r\n", CLOSE),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status == 413, r.body
    assert error_message(r) == "Form field too large"
    assert r.consumed < 4 * MiB
    assert peak < 64 * MiB


async def test_2_gigabyte_field_under_hypercorn_answered_while_uploading(hostile_app: Patera) -> None:
    """Through a real server the 413 reaches a client that is still sending its gigabyte."""
    async with hypercorn_server(hostile_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="big"\r\n\r\n'
        writer.write(
            b"POST /h/form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            + MULTIPART
            + b"\r\nContent-Length: %d\r\n\r\n" % (1 << 30)
            + head
        )
        sent = 0

        async def upload() -> None:
            nonlocal sent
            chunk = b"A" * 65536
            with contextlib.suppress(ConnectionError, OSError):
                while sent < 1 << 30:
                    writer.write(chunk)
                    await writer.drain()
                    sent += len(chunk)

        pump = asyncio.create_task(upload())
        try:
            head_block = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HANG_GUARD)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            writer.close()
        assert head_block.startswith(b"HTTP/1.1 413"), head_block
        assert sent < 64 * MiB


# ---------------------------------------------------------------------- 3. urlencoded / query volume


URLENCODED = [(b"content-type", b"application/x-www-form-urlencoded")]


async def test_3_million_urlencoded_pairs_413(hostile_app: Patera) -> None:
    r = await call(hostile_app, "POST", "/h/form", URLENCODED, repeated(b"a=1&", 1_000_000))
    assert r.status == 413, r.body
    assert error_message(r) == "Too many form fields"
    assert r.consumed < 1 * MiB, "the pair limit must stop the upload while it streams"


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        (b"a=1&", "Too many form fields"),
        (b"&", "Too many form fields"),
        (b"k", "Form field too large"),
        (b"%41", "Form field too large"),
    ],
    ids=["pairs", "empty-pairs", "endless-key", "endless-escapes"],
)
async def test_3_gigabyte_urlencoded_refused_early_bounded_memory(
    hostile_app: Patera, unit: bytes, message: str
) -> None:
    tracemalloc.start()
    try:
        r = await call(hostile_app, "POST", "/h/form", URLENCODED, repeated(unit, (1 << 30) // len(unit), 256 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status == 413, r.body
    assert error_message(r) == message
    assert r.consumed < 8 * MiB
    assert peak < 64 * MiB


async def test_3_urlencoded_within_limits_still_parsed(hostile_app: Patera) -> None:
    body = b"&".join(b"k%d=%s" % (i, b"%41" * 100) for i in range(1000))
    r = await call(hostile_app, "POST", "/h/form", URLENCODED, [body[i : i + 777] for i in range(0, len(body), 777)])
    assert r.status == 200, r.body
    assert r.body == b'{"fields":1000,"files":0}'
    big = b"v=" + b"%41" * 500_000  # one value exactly at the limit, fully percent-encoded
    r = await call(hostile_app, "POST", "/h/form", URLENCODED, [big[i : i + 65536] for i in range(0, len(big), 65536)])
    assert r.status == 200, r.body


async def test_3_hundred_thousand_query_params_handled(hostile_app: Patera) -> None:
    r = await call(hostile_app, "GET", "/h/query", query=b"&".join([b"a=1"] * 100_000) + b"&b=2")
    assert r.status == 200, r.body
    assert r.body == b'{"keys":2,"a":100000}'


# ---------------------------------------------------------------------- 4. lying / missing lengths


async def test_4_body_over_limit_without_content_length(limited_app: Patera) -> None:
    r = await call(limited_app, "POST", "/h/raw", [], repeated(b"z", 100 * MiB, 64 * 1024))
    assert r.status == 413, r.body
    assert r.consumed < 1 * MiB


async def test_4_multipart_over_limit_without_content_length(limited_app: Patera) -> None:
    head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n'
    r = await call(limited_app, "POST", "/h/form", mp_headers(), lazy(head, repeated(b"z", 100 * MiB)))
    assert r.status == 413, r.body
    assert r.consumed < 1 * MiB


async def test_4_declared_length_over_limit_refused_before_reading(limited_app: Patera) -> None:
    r = await call(limited_app, "POST", "/h/raw", [(b"content-length", b"100000000")], repeated(b"z", 100 * MiB))
    assert r.status == 413, r.body
    assert r.consumed == 0


async def test_4_more_bytes_than_content_length(hostile_app: Patera) -> None:
    r = await call(hostile_app, "POST", "/h/raw", [(b"content-length", b"10")], repeated(b"z", 10 * MiB))
    assert r.status == 400, r.body
    assert r.consumed < 1 * MiB


async def test_4_fewer_bytes_than_content_length(hostile_app: Patera) -> None:
    r = await call(hostile_app, "POST", "/h/raw", [(b"content-length", b"100")], b"short")
    assert r.status == 400, r.body


@pytest.mark.parametrize(
    "value",
    [b"-1", b"+10", b"1_0", "١٠".encode(), b"0x10", b"1e1", b"10, 10", b"", b" ", b"9" * 5000, b"0" * 5000 + b"10"],
    ids=[
        "negative",
        "plus",
        "underscore",
        "arabic-indic",
        "hex",
        "exp",
        "list",
        "empty",
        "space",
        "5000-digits",
        "zero-padded",
    ],
)
async def test_4_unparseable_content_length_400(hostile_app: Patera, value: bytes) -> None:
    r = await call(hostile_app, "POST", "/h/raw", [(b"content-length", value)], b"0123456789")
    if value == b"9" * 5000:
        assert r.status == 413, r.body  # a number, just not one any body could match
    elif value.startswith(b"0" * 10):
        assert r.status == 200 and r.body == b'{"size":10}'  # 1*DIGIT: leading zeros are fine
    else:
        assert r.status == 400, r.body


async def test_4_lying_content_length_under_hypercorn(limited_app: Patera) -> None:
    """Through a real server: a body over the limit without Content-Length is cut off."""
    async with hypercorn_server(limited_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /h/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            chunk = b"z" * 65536
            for _ in range(4):  # 256 KiB > 100 kB limit
                writer.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), HANG_GUARD)
        finally:
            writer.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        for bad in (b"-1", b"+10", b"1_0"):
            answer = await raw_http(
                port,
                b"POST /h/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                + bad
                + b"\r\nConnection: close\r\n\r\n0123456789",
            )
            assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


# ---------------------------------------------------------------------- 5. preamble and look-alikes


async def test_5_ten_megabyte_crlf_preamble(hostile_app: Patera) -> None:
    body = lazy(repeated(b"\r\n", 5 * MiB), part("a", b"1"), CLOSE)
    r = await call(hostile_app, "POST", "/h/form", mp_headers(), body)
    assert r.status in (200, 400), r.body
    if r.status == 200:
        assert r.body == b'{"fields":1,"files":0}'


@pytest.mark.parametrize(
    "unit",
    [
        b"\r\n--" + BOUNDARY + b"X",  # near miss: boundary followed by a non-delimiter byte
        b"\r\n--" + BOUNDARY[:-1],  # a prefix of the delimiter, over and over
        b"\r\n--" + BOUNDARY + b" " * 70 + b"Q",  # padding longer than allowed
        b"\r\r\r\n-",
    ],
    ids=["near-miss", "prefix", "long-padding", "cr-runs"],
)
@pytest.mark.parametrize("chunk", [64 * 1024, 4093])
async def test_5_boundary_lookalikes_in_file_content(hostile_app: Patera, unit: bytes, chunk: int) -> None:
    count = (4 * MiB) // len(unit)
    head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n\r\n'
    r = await call(
        hostile_app,
        "POST",
        "/h/files",
        mp_headers(),
        lazy(repeated(unit, 1000, chunk), b"\r\n", head, repeated(unit, count, chunk), b"\r\n", CLOSE),
    )
    assert r.status == 200, r.body
    (info,) = json.loads(r.body)
    assert info["size"] == len(unit) * count


# ---------------------------------------------------------------------- 6. boundary and Content-Type params


@pytest.mark.parametrize(
    "content_type",
    [
        b"multipart/form-data; boundary=" + b"b" * 10_000,
        b'multipart/form-data; boundary="' + b"b" * 10_000 + b'"',
        b'multipart/form-data; boundary="' + b'\\"' * 50_000,
        b'multipart/form-data; boundary="' + b"\\" * 100_001,
        b"multipart/form-data; " + b'a="' * 100_000,
        b"multipart/form-data" + b"; a=b" * 100_000,
        b"multipart/form-data; boundary*=UTF-8''" + b"%" * 100_000,
        b"multipart/form-data; boundary=",
        b'multipart/form-data; boundary=""',
        b"multipart/form-data",
    ],
    ids=[
        "10kB",
        "10kB-quoted",
        "escaped-quotes",
        "backslashes",
        "open-quotes",
        "many-params",
        "ext-percent",
        "empty",
        "empty-quoted",
        "missing",
    ],
)
async def test_6_hostile_boundary_400(hostile_app: Patera, content_type: bytes) -> None:
    r = await call(hostile_app, "POST", "/h/form", [(b"content-type", content_type)], part("a", b"1") + CLOSE)
    assert r.status == 400, r.body
    assert error_message(r).startswith("Malformed multipart body")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (b"application/x-www-form-urlencoded; charset=idna", b"a=%ff%00.&b=\xff"),
        (b"application/x-www-form-urlencoded; charset=undefined", b"a=1"),
        (b"application/x-www-form-urlencoded; charset=base64", b"a=1"),
        (b"application/x-www-form-urlencoded; charset=utf\x008", b"a=1"),
        (MULTIPART, part("a", b"\xff..x", extra=b"Content-Type: text/plain; charset=idna\r\n") + CLOSE),
        (MULTIPART, part("_charset_", b"idna") + part("a", b"\xff..") + CLOSE),
        (MULTIPART, part("_charset_", b"rot13") + part("a", b"\xff..") + CLOSE),
        (MULTIPART, part("_charset_", b"undefined") + part("a", b"x") + CLOSE),
        (
            MULTIPART,
            b"--"
            + BOUNDARY
            + b"\r\nContent-Disposition: form-data; name=\"f\"; filename*=idna''%ff..\r\n\r\nx\r\n"
            + CLOSE,
        ),
    ],
    ids=[
        "ue-idna",
        "ue-undefined",
        "ue-base64",
        "ue-nul",
        "part-idna",
        "form-idna",
        "form-rot13",
        "form-undefined",
        "filename-idna",
    ],
)
async def test_6_client_named_codecs_never_500(hostile_app: Patera, content_type: bytes, body: bytes) -> None:
    r = await call(hostile_app, "POST", "/h/form", [(b"content-type", content_type)], body)
    assert r.status == 200, r.body


# ---------------------------------------------------------------------- 7. part headers


async def test_7_thousand_header_lines_413(hostile_app: Patera) -> None:
    extra = b"".join(b"X-Header-%d: value\r\n" % i for i in range(1000))
    r = await call(hostile_app, "POST", "/h/form", mp_headers(), part("a", b"1", extra=extra) + CLOSE)
    assert r.status == 413, r.body
    assert error_message(r) == "Part header too large"


async def test_7_thousand_tiny_header_lines_within_the_size_limit(hostile_app: Patera) -> None:
    """The limit is on bytes (MAX_PART_HEADER_SIZE), so short lines under it are simply parsed."""
    extra = b"".join(b"%d:1\r\n" % i for i in range(1000))
    assert len(extra) < 8192
    r = await call(hostile_app, "POST", "/h/form", mp_headers(), part("a", b"1", extra=extra) + CLOSE)
    assert r.status == 200, r.body


@pytest.mark.parametrize("terminated", [True, False])
async def test_7_megabyte_header_name_413(hostile_app: Patera, terminated: bool) -> None:
    tail = b": v\r\n\r\n1\r\n" + CLOSE if terminated else b""
    body = lazy(b"--" + BOUNDARY + b"\r\n", repeated(b"N", MiB, 4096), tail)
    r = await call(hostile_app, "POST", "/h/form", mp_headers(), body)
    assert r.status == 413, r.body
    assert r.consumed < 64 * 1024


# ---------------------------------------------------------------------- 8. filenames


@pytest.mark.parametrize(
    ("disposition", "filename", "safe"),
    [
        (b'filename="../../etc/passwd"', "../../etc/passwd", "passwd"),
        (b'filename="C:\\x\\..\\evil"', "C:\\x\\..\\evil", "evil"),
        (b"filename*=UTF-8''..%2F..%2Fa%0D%0Ab.txt", "../../a\r\nb.txt", "ab.txt"),
        (b"filename*=UTF-8''%0D%0A..%00.htaccess", "\r\n..\x00.htaccess", "htaccess"),
        (b'filename="\\\\server\\share\\x.exe"', "\\\\server\\share\\x.exe", "x.exe"),
        (b'filename=".."', "..", ""),
        (b'filename="/"', "/", ""),
    ],
    ids=["unix-traversal", "windows-traversal", "crlf", "ctl-dotfile", "unc", "dotdot", "slash"],
)
async def test_8_filenames_basename_only(hostile_app: Patera, disposition: bytes, filename: str, safe: str) -> None:
    body = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; ' + disposition + b"\r\n\r\ndata\r\n" + CLOSE
    )
    r = await call(hostile_app, "POST", "/h/files", mp_headers(), body)
    assert r.status == 200, r.body
    (info,) = json.loads(r.body)
    assert info["filename"] == filename
    assert info["safe"] == safe


async def test_8_raw_cr_in_filename_400(hostile_app: Patera) -> None:
    body = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="a\rb"\r\n\r\nd\r\n' + CLOSE
    r = await call(hostile_app, "POST", "/h/files", mp_headers(), body)
    assert r.status == 400, r.body


# ---------------------------------------------------------------------- 9. wrong media type


@pytest.mark.parametrize("content_type", [b"text/plain", b"text/plain; charset=utf-8", b"application/jsonx", b""])
async def test_9_json_as_text_plain_415(hostile_app: Patera, content_type: bytes) -> None:
    headers = [(b"content-type", content_type)] if content_type else []
    r = await call(hostile_app, "POST", "/h/json", headers, b'{"name":"a"}')
    assert r.status == 415, r.body


# ---------------------------------------------------------------------- 10. malformed JSON


JSON_BODIES = {
    "deep-array": b"[" * 200_000,
    "deep-closed": b"[" * 200_000 + b"]" * 200_000,
    "deep-object": b'{"a":' * 100_000,
    "big-int": b'{"name":"a","qty":' + b"9" * 5000 + b"}",
    "invalid-utf8": b'{"name":"\xff\xfe\xc3("}',
    "lone-surrogate": b'{"name":"\\ud800"}',
    "nan": b'{"name":"a","qty":NaN}',
    "infinity": b'{"name":"a","qty":-Infinity}',
    "trailing": b'{"name":"a"} x',
    "utf16-odd": b"\xff\xfe{\x00",
    "nul": b"\x00",
}


@pytest.mark.parametrize("body", list(JSON_BODIES.values()), ids=list(JSON_BODIES))
async def test_10_malformed_json_400(hostile_app: Patera, body: bytes) -> None:
    r = await call(hostile_app, "POST", "/h/json", [(b"content-type", b"application/json")], body)
    if body == JSON_BODIES["lone-surrogate"]:
        assert r.status in (200, 400, 422), r.body  # valid JSON text; what matters is no 500
        return
    assert r.status == 400, r.body
    assert r.body == JSON_ERROR


@pytest.mark.parametrize("body", list(JSON_BODIES.values()), ids=list(JSON_BODIES))
async def test_10_req_json_is_none_for_malformed(hostile_app: Patera, body: bytes) -> None:
    r = await call(hostile_app, "POST", "/h/any-json", [(b"content-type", b"application/json")], body)
    assert r.status == 200, r.body
    if body != JSON_BODIES["lone-surrogate"]:
        assert r.body == b'{"none":true}'


# ---------------------------------------------------------------------- 11. disconnects


@contextlib.contextmanager
def tracked_spool_files(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Iterator[list[Any]]:
    """Every spool file the uploads module creates, placed in ``directory``."""
    import patera.uploads as uploads_module

    created: list[Any] = []
    original = tempfile.TemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("dir", str(directory))
        f = original(*args, **kwargs)
        created.append(f)
        return f

    monkeypatch.setattr(uploads_module.tempfile, "TemporaryFile", spy)
    yield created


def open_fds_in(directory: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(directory)):
                found.append(target)
    return found


async def wait_closed(created: list[Any], directory: Path) -> None:
    for _ in range(200):  # the upload writer thread closes files queued behind its writes
        if all(f.closed for f in created) and not open_fds_in(directory):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"spool files left open: {open_fds_in(directory)}")


async def test_11_disconnect_mid_body_removes_spooled_files(
    hostile_app: Patera, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n'
    with tracked_spool_files(monkeypatch, tmp_path) as created:
        r = await call(
            hostile_app,
            "POST",
            "/h/files",
            mp_headers(),
            lazy(head, repeated(b"q", 20 * MiB, 256 * 1024)),
            disconnect_after_body=True,
        )
        assert created, "the upload should have been spooled to disk before the disconnect"
        await wait_closed(created, tmp_path)
    assert r.status is None and not r.messages  # nobody is listening: no response attempted


async def test_11_disconnect_mid_raw_body(hostile_app: Patera) -> None:
    r = await call(hostile_app, "POST", "/h/raw", [], repeated(b"q", MiB), disconnect_after_body=True)
    assert r.status is None and not r.messages


async def test_11_disconnect_mid_stream_closes_iterator_and_files(
    hostile_app: Patera, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    STREAM_STATE.clear()
    body = lazy(part("big", b"u" * (3 * MiB), filename="big.bin"), CLOSE)
    with tracked_spool_files(monkeypatch, tmp_path) as created:
        r = await call(hostile_app, "POST", "/h/upload-then-stream", mp_headers(), body, disconnect_after_sends=5)
        assert STREAM_STATE["spooled"] == [True]
        assert created
        await wait_closed(created, tmp_path)
    assert r.status == 200
    assert STREAM_STATE.get("finally") is True, "the streaming generator was not closed"
    assert STREAM_STATE["sent"] < 99_000


async def test_11_disconnect_mid_sync_stream_closes_generator(hostile_app: Patera) -> None:
    STREAM_STATE.clear()
    r = await call(hostile_app, "GET", "/h/stream-sync", disconnect_after_sends=5)
    assert r.status == 200
    for _ in range(200):
        if STREAM_STATE.get("sync_finally"):
            break
        await asyncio.sleep(0.01)
    assert STREAM_STATE.get("sync_finally") is True
    assert r.body_messages < 99_000


async def test_11_disconnect_while_stream_idles_closes_it(hostile_app: Patera) -> None:
    STREAM_STATE.clear()
    r = await call(hostile_app, "GET", "/h/idle-stream", disconnect_after_sends=2)
    assert r.status == 200 and r.body == b"data: hello\n\n"
    assert STREAM_STATE.get("idle_finally") is True, "an idle stream outlived its client"


async def test_11_outside_cancellation_of_a_stream_still_propagates(hostile_app: Patera) -> None:
    STREAM_STATE.clear()
    started = asyncio.Event()
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not started.is_set():
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message.get("body"):
            started.set()

    task = asyncio.create_task(hostile_app(scope_for("GET", "/h/idle-stream"), receive, send))
    await asyncio.wait_for(started.wait(), HANG_GUARD)
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, HANG_GUARD)
    assert STREAM_STATE.get("idle_finally") is True


async def test_11_disconnect_under_hypercorn(
    hostile_app: Patera, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A real client that hangs up mid-upload and mid-stream: the server stays healthy."""
    STREAM_STATE.clear()
    async with hypercorn_server(hostile_app) as port:
        with tracked_spool_files(monkeypatch, tmp_path) as created:
            head = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n'
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /h/files HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                + MULTIPART
                + b"\r\nContent-Length: 100000000\r\n\r\n"
                + head
            )
            for _ in range(40):  # 10 MiB: past the spool size and a write batch
                writer.write(b"q" * (256 * 1024))
                await writer.drain()
            for _ in range(100):
                if created:
                    break
                await asyncio.sleep(0.02)
            writer.close()
            assert created
            await wait_closed(created, tmp_path)
            # mid-stream: read a little of an endless stream, then hang up
            body = part("big", b"u" * (3 * MiB), filename="big.bin") + CLOSE
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /h/upload-then-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                + MULTIPART
                + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
                + body
            )
            await writer.drain()
            await asyncio.wait_for(reader.readexactly(4096), HANG_GUARD)
            writer.close()
            for _ in range(400):
                if STREAM_STATE.get("finally"):
                    break
                await asyncio.sleep(0.025)
            assert STREAM_STATE.get("finally") is True
            await wait_closed(created, tmp_path)
            # an idle event stream: the client leaves while the generator waits
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /h/idle-stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            await asyncio.wait_for(reader.readuntil(b"hello\n\n"), HANG_GUARD)
            writer.close()
            for _ in range(400):
                if STREAM_STATE.get("idle_finally"):
                    break
                await asyncio.sleep(0.025)
            assert STREAM_STATE.get("idle_finally") is True, "an idle stream outlived its client"
        answer = await raw_http(port, b"GET /h/query?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")


# ---------------------------------------------------------------------- 12. static paths


class StaticCfg(BaseConfig):
    APP_NAME: str = "hostile-static"
    VERSION: str = "1"
    BASE_PATH: str = "."
    ACCESS_LOG: bool = False
    STATIC_DIR: str = "/static"


@app("__main__", configs=StaticCfg)
class StaticApp(Patera):
    """Rooted at the working directory at construction time."""


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-static")
    static = root / "static"
    static.mkdir()
    (static / "a.txt").write_bytes(b"0123456789" * 10)
    (root / "secret.txt").write_text("top secret")
    sibling = root / "static-private"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("sibling secret")
    (static / "out.txt").symlink_to(root / "secret.txt")
    (static / "CON").write_text("device secret")
    return root


@pytest.fixture(scope="module")
def static_app(static_root: Path) -> Patera:
    cwd = os.getcwd()
    os.chdir(static_root)
    try:
        return StaticApp()
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    "target",
    [
        "/static/..%2fsecret.txt",
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/../static-private/secret.txt",
        "/static/..\\static-private\\secret.txt",
        "/static/out.txt",
        "/static///server/share/secret.txt",
        "/static/\\\\server\\share\\secret.txt",
        "/static/C:/secret.txt",
        "/static/C:secret.txt",
        "/static/CON",
        "/static/con.txt",
        "/static/a.txt\x00",
        "/static/" + "/".join([".."] * 50) + "/etc/passwd",
    ],
    ids=[
        "pct-2f",
        "dotdot",
        "pct-2e",
        "sibling-prefix",
        "sibling-backslash",
        "symlink-out",
        "unc",
        "unc-backslash",
        "drive",
        "drive-relative",
        "con",
        "con-ext",
        "nul",
        "deep-dotdot",
    ],
)
async def test_12_static_escapes_404(static_app: Patera, target: str) -> None:
    r = await call(static_app, "GET", target)
    if r.status == 308:  # repeated slashes are merged first; the merged path is checked again
        assert_local_location(r)
        r = await call(static_app, "GET", r.header(b"location").decode())  # type: ignore[union-attr]
    assert r.status == 404, (target, r.body)
    assert b"secret" not in r.body


async def test_12_static_serves_normal_file(static_app: Patera) -> None:
    r = await call(static_app, "GET", "/static/a.txt")
    assert r.status == 200 and r.body == b"0123456789" * 10


# ---------------------------------------------------------------------- 13. ranges


async def test_13_ten_thousand_ranges_full_200(static_app: Patera) -> None:
    header = b"bytes=" + b",".join(b"%d-%d" % (i % 100, i % 100) for i in range(10_000))
    r = await call(static_app, "GET", "/static/a.txt", [(b"range", header)])
    assert r.status == 200
    assert r.body == b"0123456789" * 10


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("bytes=١-٢".encode(), 200),
        (b"bytes=-0", 416),
        (b"bytes=0-0,1-1", 200),
        (b"bytes=+1-2", 200),
        (b"bytes=1_0-2_0", 200),
        (b"bytes=" + b"9" * 5000 + b"-", 416),
        (b"bytes=0-" + b"9" * 5000, 206),
        (b"bytes=" + b"-" * 100_000, 200),
        (b"bytes=" + b" " * 100_000 + b"0-1", 200),
        (b"bytes=100-", 416),
        (b"items=0-1", 200),
    ],
    ids=[
        "arabic-digits",
        "suffix-zero",
        "two",
        "plus",
        "underscore",
        "huge-start",
        "huge-end",
        "dashes",
        "spaces",
        "past-end",
        "unit",
    ],
)
async def test_13_hostile_ranges(static_app: Patera, value: bytes, status: int) -> None:
    r = await call(static_app, "GET", "/static/a.txt", [(b"range", value)])
    if value.startswith(b"bytes=" + b" " * 10):  # whitespace before a range is tolerated (RFC 9110 OWS)
        assert r.status in (200, 206)
        return
    assert r.status == status, (value[:40], r.status, r.body[:100])
    if status == 416:
        assert r.header(b"content-range") == b"bytes */100"
    if status == 200:
        assert r.body == b"0123456789" * 10


# ---------------------------------------------------------------------- 14. conditionals


async def test_14_if_none_match_wins_over_if_modified_since(static_app: Patera) -> None:
    first = await call(static_app, "GET", "/static/a.txt")
    etag = first.header(b"etag")
    modified = first.header(b"last-modified")
    assert etag and modified
    stale = b"Thu, 01 Jan 1970 00:00:00 GMT"
    # matching tag, stale date: 304 (the date is ignored when If-None-Match is present)
    r = await call(static_app, "GET", "/static/a.txt", [(b"if-none-match", etag), (b"if-modified-since", stale)])
    assert r.status == 304 and r.body == b""
    # other tag, fresh date: 200 (a fresh date must not override a non-matching tag)
    r = await call(
        static_app, "GET", "/static/a.txt", [(b"if-none-match", b'"nope"'), (b"if-modified-since", modified)]
    )
    assert r.status == 200 and r.body == b"0123456789" * 10
    # garbage dates never break anything
    for date in (
        b"\xff" * 100,
        b"Thu, 99 Foo 99999 99:99:99 GMT",
        b"9" * 5000,
        b"Mon, 01 Jan 99999999999 00:00:00 GMT",
        b"Mon, 01 Jan " + b"9" * 5000 + b" 00:00:00 GMT",
        b"Mon, -1 Jan 1970 00:00:00 GMT",
    ):
        for method in ("GET", "HEAD"):
            r = await call(static_app, method, "/static/a.txt", [(b"if-modified-since", date)])
            assert r.status == 200, (date[:40], r.body)
            r = await call(static_app, method, "/static/a.txt", [(b"range", b"bytes=0-1"), (b"if-range", date)])
            assert r.status == 200, (date[:40], r.body)


@pytest.mark.parametrize(
    "header",
    [b"," * 1_000_000, b"W/" * 500_000, b'"' * 1_000_000, b'"x", ' * 100_000 + b"*"],
    ids=["commas", "weak-prefixes", "quotes", "many-then-star"],
)
async def test_14_huge_if_none_match_linear(static_app: Patera, header: bytes) -> None:
    r = await call(static_app, "GET", "/static/a.txt", [(b"if-none-match", header)])
    assert r.status == (304 if header.endswith(b"*") else 200)


# ---------------------------------------------------------------------- 15. cookies


async def test_15_nameless_cookie_stays_nameless(hostile_app: Patera) -> None:
    r = await call(hostile_app, "GET", "/h/cookies", [(b"cookie", b"=__Host-sid=x; a=1")])
    assert r.status == 200
    assert r.body == b'{"a":"1"}'


async def test_15_backslash_run_in_quoted_value_linear(hostile_app: Patera) -> None:
    value = b'a="' + b"\\" * 100_000 + b'"; b=2'
    r = await call(hostile_app, "GET", "/h/cookies", [(b"cookie", value)])
    assert r.status == 200
    cookies = json.loads(r.body)
    assert cookies["a"] == "\\" * 50_000 and cookies["b"] == "2"


async def test_15_ten_thousand_cookies(hostile_app: Patera) -> None:
    value = b"; ".join(b"c%d=%d" % (i, i) for i in range(10_000))
    r = await call(hostile_app, "GET", "/h/cookies", [(b"cookie", value)])
    assert r.status == 200
    cookies = json.loads(r.body)
    assert cookies.get("c0") == "0"
    assert len(cookies) <= 10_000
    # many repeated Cookie header lines are joined, first occurrence wins
    r = await call(hostile_app, "GET", "/h/cookies", [(b"cookie", b"x=%d" % i) for i in range(5_000)])
    assert r.status == 200 and r.body == b'{"x":"0"}'


async def test_15_cookie_flood_capped_by_the_server(hostile_app: Patera) -> None:
    """The cap on a Cookie header is the server's header-size limit (hypercorn: 431)."""
    value = b"; ".join(b"c%d=%d" % (i, i) for i in range(10_000))
    async with hypercorn_server(hostile_app) as port:
        answer = await raw_http(
            port, b"GET /h/cookies HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + value + b"\r\nConnection: close\r\n\r\n"
        )
    assert answer.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), answer[:100]


# ---------------------------------------------------------------------- 16. header injection


@pytest.mark.parametrize("evil", ["%0D%0ASet-Cookie:%20x=1", "%0Aa", "%0Da", "%00a"], ids=["crlf", "lf", "cr", "nul"])
async def test_16_handler_cannot_inject_headers(hostile_app: Patera, evil: str) -> None:
    r = await call(hostile_app, "GET", "/h/inject", query=b"v=" + evil.encode())
    assert r.status == 200, r.body
    refused = set(json.loads(r.body)["refused"])
    expected = {
        "set_header",
        "set_headers",
        "item",
        "add",
        "name",
        "redirect",
        "cookie_value",
        "cookie_domain",
        "cookie_path",
        "send_file_headers",
        "stream_type",
        "domain_attribute",
    }
    assert refused == expected


# ---------------------------------------------------------------------- 17. open redirects


@path("")
class Slashes(Controller):
    __patera_no_app_path__ = True

    @get("/<site>/")
    async def branch(self, req: Request, site: str) -> Response:
        return req.response.text(site)

    @get("/<site>/x")
    async def leaf(self, req: Request, site: str) -> Response:
        return req.response.text(site)


def assert_local_location(r: Result) -> None:
    assert r.status == 308, r.body
    location = r.header(b"location")
    assert location is not None
    assert location.startswith(b"/") and location[1:2] not in (b"/", b"\\"), location
    assert b"\r" not in location and b"\n" not in location


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    "target", ["//evil.com/x", "///evil.com/x", "//evil.com//x", "/\\evil.com//x", "//\\evil.com/x", "/\\\\evil.com//x"]
)
async def test_17_merged_slash_redirect_stays_local(strict: bool, target: str) -> None:
    a = build_app(Slashes, STRICT_SLASHES=strict)
    r = await call(a, "GET", target, query=b"q=1")
    if r.status == 200:  # leading slashes are collapsed silently (Werkzeug), no redirect to forge
        assert "//" not in target.lstrip("/"), "an inner // must be merged by a redirect"
        return
    assert_local_location(r)
    assert r.header(b"location").endswith(b"?q=1")  # type: ignore[union-attr]


@pytest.mark.parametrize("target", ["//evil.com", "/\\evil.com", "//\\evil.com", "/%5Cevil.com", "///evil.com"])
async def test_17_strict_branch_redirect_stays_local(target: str) -> None:
    a = build_app(Slashes, STRICT_SLASHES=True)
    r = await call(a, "GET", target)
    if r.status == 404:  # e.g. a backslash-only segment that matches nothing
        return
    assert_local_location(r)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"a=\r\nSet-Cookie:%20x=1", b"/evil.com/?a=%0D%0ASet-Cookie:%20x=1"),
        (b"a=\x00", b"/evil.com/?a=%00"),
        (b"a=\xff\xfe", b"/evil.com/?a=%FF%FE"),
        (b"a= b", b"/evil.com/?a=%20b"),
        (bytes(range(33, 127)), b"/evil.com/?" + bytes(range(33, 127))),  # printable ASCII kept as sent
    ],
    ids=["crlf", "nul", "non-ascii", "space", "printable"],
)
async def test_17_redirect_query_cannot_split_headers(query: bytes, expected: bytes) -> None:
    """Real servers refuse such targets; a hand-made scope still gets a 308, not a 500."""
    a = build_app(Slashes, STRICT_SLASHES=True)
    r = await call(a, "GET", "/evil.com", query=query)
    assert r.status == 308, r.body
    assert r.header(b"location") == expected


# ---------------------------------------------------------------------- 18. CORS


@path("/c")
class Cors(Controller):
    @get("/")
    async def index(self, req: Request) -> Response:
        return req.response.json({"ok": True})


def cors_headers(r: Result) -> dict[bytes, list[bytes]]:
    out: dict[bytes, list[bytes]] = {}
    for key, value in r.headers:
        if key.startswith(b"access-control-"):
            out.setdefault(key, []).append(value)
    return out


@pytest.mark.parametrize(
    "origin",
    [
        b"https://trusted.com.evil.io",
        b"https://evil.io/https://trusted.com",
        b"https://trusted.com@evil.io",
        b"null",
        b"https://trusted.com, https://evil.io",
        b"https://TRUSTED.com.",
        b"http://trusted.com",
        b"https://trusted.com:443.evil.io",
        b"https://trusted.com\tx",
        b"\xff" * 300,
    ],
)
@pytest.mark.parametrize("preflight", [False, True])
async def test_18_cors_lookalike_origins_refused(origin: bytes, preflight: bool) -> None:
    a = build_app(Cors, CORS_ALLOW_ORIGINS=["https://trusted.com"], CORS_ALLOW_CREDENTIALS=True)
    headers = [(b"origin", origin)]
    if preflight:
        headers.append((b"access-control-request-method", b"GET"))
    r = await call(a, "OPTIONS" if preflight else "GET", "/c/", headers)
    assert r.status == 403, (origin, r.status, r.body)
    assert r.header(b"access-control-allow-origin") is None
    assert r.header(b"access-control-allow-credentials") is None
    assert all(origin not in value for _, value in r.headers)


@pytest.mark.parametrize("origin", [b"https://evil.io", b"null"])
async def test_18_wildcard_with_credentials_never_reflects(origin: bytes) -> None:
    a = build_app(Cors, CORS_ALLOW_ORIGINS=["*"], CORS_ALLOW_CREDENTIALS=True)
    for method, extra in (("GET", []), ("OPTIONS", [(b"access-control-request-method", b"GET")])):
        r = await call(a, method, "/c/", [(b"origin", origin), *extra])
        if origin == b"null":  # "null" only matches an explicit "null" entry (SPEC 7)
            assert r.status == 403, r.body
            assert r.header(b"access-control-allow-origin") is None
        else:
            assert r.status == 200, r.body
            assert r.header_list(b"access-control-allow-origin") == [b"*"]
        assert r.header(b"access-control-allow-credentials") is None
        assert all(origin not in value for _, value in r.headers)


async def test_18_trusted_origin_still_granted() -> None:
    a = build_app(Cors, CORS_ALLOW_ORIGINS=["https://trusted.com"], CORS_ALLOW_CREDENTIALS=True)
    r = await call(a, "GET", "/c/", [(b"origin", b"https://trusted.com")])
    assert r.status == 200
    assert cors_headers(r)[b"access-control-allow-origin"] == [b"https://trusted.com"]


# ---------------------------------------------------------------------- 19. methods and converters


@pytest.mark.parametrize("method", ["FOO", "__INIT__", "get_user", "GET ", "CONNECT", "TRACE", "A" * 5000])
async def test_19_odd_methods_405(hostile_app: Patera, method: str) -> None:
    r = await call(hostile_app, method, "/h/users/1")
    assert r.status == 405, (method, r.body)
    assert r.header(b"allow") is not None
    r = await call(hostile_app, method, "/nowhere")
    assert r.status == 404


@pytest.mark.parametrize("value", ["١٢٣", "+1", "1_000", "9" * 5000, "-1", "1.0", "0x1", " 1", "1 ", "１"])
async def test_19_int_converter_refuses_odd_digits(hostile_app: Patera, value: str) -> None:
    r = await call(hostile_app, "GET", "/h/users/" + value)
    assert r.status == 404, (value, r.body)


# ---------------------------------------------------------------------- 20. duplicate headers


@pytest.mark.parametrize(
    ("name", "values"),
    [
        (b"host", (b"testserver", b"evil.com")),
        (b"host", (b"testserver", b"testserver")),
        (b"content-length", (b"3", b"3")),
        (b"content-length", (b"3", b"30")),
        (b"content-type", (b"application/json", b"text/plain")),
        (b"origin", (b"https://a.example", b"https://a.example")),
    ],
    ids=["host", "host-same", "cl-same", "cl-differ", "content-type", "origin"],
)
@pytest.mark.parametrize("target", ["/h/raw", "/h/json", "/nowhere"])
async def test_20_duplicate_critical_headers_400(
    hostile_app: Patera, name: bytes, values: tuple[bytes, ...], target: str
) -> None:
    headers = [(name, v) for v in values if name != b"host"]
    host = None if name == b"host" else b"testserver"
    if name == b"host":
        headers = [(b"host", v) for v in values]
    r = await call(hostile_app, "POST", target, headers, b"{}\n", host=host)
    assert r.status == 400, r.body
    assert (
        r.body
        == b'{"status":"error","message":"Duplicate %s header"}'
        % {
            b"host": b"Host",
            b"content-length": b"Content-Length",
            b"content-type": b"Content-Type",
            b"origin": b"Origin",
        }[name]
    )
    assert r.consumed == 0


async def test_20_duplicates_under_hypercorn(hostile_app: Patera) -> None:
    async with hypercorn_server(hostile_app) as port:
        for name, a, b in (
            (b"Host", b"127.0.0.1", b"evil.com"),
            (b"Content-Type", b"application/json", b"text/plain"),
            (b"Origin", b"https://a.example", b"https://b.example"),
            (b"Content-Length", b"2", b"3"),  # h11 refuses differing ones itself, merges equal ones
        ):
            lines = b"POST /h/raw HTTP/1.1\r\n"
            if name != b"Host":
                lines += b"Host: 127.0.0.1\r\n"
            if name != b"Content-Length":
                lines += b"Content-Length: 2\r\n"
            lines += name + b": " + a + b"\r\n" + name + b": " + b + b"\r\nConnection: close\r\n\r\n{}"
            answer = await raw_http(port, lines)
            assert answer.startswith(b"HTTP/1.1 400"), (name, answer[:200])


async def test_20_hundred_thousand_headers_linear(hostile_app: Patera) -> None:
    r = await call(hostile_app, "POST", "/h/raw", [(b"x-%d" % i, b"v") for i in range(100_000)], b"x")
    assert r.status == 200 and r.body == b'{"size":1}'
    r = await call(hostile_app, "GET", "/h/cookies", [(b"cookie", b"a=" + b"b" * 10_000_000)])
    assert r.status == 200 and len(r.body) == 10_000_008


async def test_20_repeated_ordinary_headers_still_fine(hostile_app: Patera) -> None:
    headers = [(b"accept", b"a/b"), (b"accept", b"c/d"), (b"x-y", b"1"), (b"x-y", b"2")] * 50
    r = await call(hostile_app, "POST", "/h/raw", headers, b"ok")
    assert r.status == 200 and r.body == b'{"size":2}'


# ---------------------------------------------------------------------- real server helpers


async def raw_http(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), HANG_GUARD)
    finally:
        writer.close()
