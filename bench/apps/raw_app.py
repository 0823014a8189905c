"""Raw ASGI: the floor. A dict of static paths, one prefix check, no framework.

The multipart handler splits on the boundary with ``bytes.find`` and is not a
robust parser; it only bounds what reading a 256 KiB upload must cost.
"""

from __future__ import annotations

import json
from typing import Any

from ._common import GREETING, PLAINTEXT, Item, filler_routes

NAME = "raw"
__all__ = ("NAME", "build", "build_upload", "version")

_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]


def version() -> str:
    return "-"


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _reply(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


def _file_size(body: bytes, content_type: str) -> int:
    boundary = ("--" + content_type.partition("boundary=")[2].strip('"')).encode()
    start = body.index(b"\r\n\r\n", body.index(boundary)) + 4
    end = body.index(b"\r\n" + boundary, start)
    return end - start


def build(extra_routes: int = 50) -> Any:
    """``extra_routes`` is accepted for symmetry: a dict lookup does not grow with it."""
    plaintext = PLAINTEXT.encode()
    greeting = json.dumps(GREETING, separators=(",", ":")).encode()
    not_found = b'{"detail":"Not Found"}'
    static = {f"/{route.parts[0][1].strip('/')}" for route in filler_routes(extra_routes) if len(route.parts) == 1}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        method = scope["method"]
        if method == "GET":
            if path == "/plaintext":
                return await _reply(send, 200, _TEXT, plaintext)
            if path == "/json":
                return await _reply(send, 200, _JSON, greeting)
            if path.startswith("/users/") and path[7:].isdigit():
                return await _reply(send, 200, _JSON, b'{"id":%d}' % int(path[7:]))
            if path in static:
                return await _reply(send, 200, _JSON, b"{}")
        elif method == "POST":
            if path == "/items":
                item = Item.model_validate_json(await _read_body(receive))
                return await _reply(send, 200, _JSON, item.model_dump_json().encode())
            if path == "/upload":
                content_type = ""
                for key, value in scope["headers"]:
                    if key == b"content-type":
                        content_type = value.decode("latin-1")
                size = _file_size(await _read_body(receive), content_type)
                return await _reply(send, 200, _JSON, b'{"size":%d}' % size)
            if path == "/form":
                # NOTE: counts the separators, no decoding: the floor, not a parser.
                fields = (await _read_body(receive)).count(b"&") + 1
                return await _reply(send, 200, _JSON, b'{"fields":%d}' % fields)
        await _reply(send, 404, _JSON, not_found)

    return app


def build_upload() -> Any:
    """``POST /upload`` for the large upload: counts the body as it streams, keeps nothing.

    Its "size" is the whole body, not the file: the floor only has to stream the bytes.
    """

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await _reply(send, 200, _JSON, b'{"size":%d}' % size)

    return app
