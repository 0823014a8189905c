"""The ``Response`` object handlers fill in, and the only writer of ``http.response.*``."""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic_core
from pydantic import BaseModel

from ._cookies import dump_delete_cookie, dump_set_cookie
from .datastructures import MutableHeaders, check_header_value

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from ._types import Receive, Send

__all__ = ("FILE_CHUNK_SIZE", "TEXT_LIKE", "Response", "ResponseValidationError", "file_chunks")

T = TypeVar("T")
FILE_CHUNK_SIZE = 64 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})
#: Content types that get ``; charset=utf-8`` when guessed from a file name.
TEXT_LIKE = ("text/", "application/javascript", "application/json")


class ResponseValidationError(Exception):
    """The body does not fit the endpoint's ``Response[T]``: a server bug, answered with 500."""


def is_json_type(content_type: str | None) -> bool:
    """True for ``application/json``, ``application/problem+json``, ndjson and any ``+json``."""
    if not content_type:
        return False
    base = content_type.partition(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or base == "application/x-ndjson"


_JSON_TYPE_CACHE: dict[bytes, bool] = {}


def _is_json_raw(content_type: bytes | None) -> bool:
    # PERF: responses reuse a handful of content types; decide each once.
    if content_type is None:
        return False
    try:
        return _JSON_TYPE_CACHE[content_type]
    except KeyError:
        result = is_json_type(content_type.decode("latin-1"))
        if len(_JSON_TYPE_CACHE) < 256:
            _JSON_TYPE_CACHE[content_type] = result
        return result


_CT = b"content-type"
_CT_JSON = b"application/json"
_CT_TEXT = b"text/plain; charset=utf-8"
_new_object = object.__new__
_CT_TEXT_PAIR = (_CT, _CT_TEXT)
_CT_JSON_PAIR = (_CT, _CT_JSON)


def guess_content_type(filename: str) -> str:
    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if kind.startswith(TEXT_LIKE) and "charset" not in kind:
        kind += "; charset=utf-8"
    return kind


def _dump_declared(adapter: TypeAdapter[Any], body: Any) -> bytes:
    """``body`` validated as ``T`` (extra keys dropped), serialised; ``ResponseValidationError`` if it does not fit."""
    # PERF: the adapter's compiled validator and serialiser, without TypeAdapter's per-call wrappers
    try:
        value = adapter.validator.validate_python(body)
    except Exception as exc:  # pydantic.ValidationError and friends
        raise ResponseValidationError(f"response body does not match the declared type: {exc}") from exc
    return adapter.serializer.to_json(value)


class Response(Generic[T]):
    """Built by handlers through chainable setters; serialised once, when sent.

    ``Response[Model]`` in a return annotation declares the body type used for
    validation, serialisation and OpenAPI.
    """

    __slots__ = ("_cookies", "_status_set", "_stream", "app", "body", "body_type", "headers", "status_code")

    #: The ``TypeAdapter`` of ``T`` when the endpoint or exception handler that produced this
    #: response is annotated ``-> Response[T]``; the body is validated and serialised with it.
    body_type: TypeAdapter[Any] | None

    def __init__(
        self,
        app: Any = None,
        status_code: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.status_code = status_code if type(status_code) is int else int(status_code)
        self.body = body
        if headers:
            self.headers = MutableHeaders(headers)
        else:
            # PERF: what MutableHeaders() does, without a Python-level __init__ call
            self.headers = empty = _new_object(MutableHeaders)
            empty.raw = []
        self._status_set = False
        self._stream: AsyncIterator[bytes] | Iterable[Any] | None = None
        self.body_type: TypeAdapter[Any] | None = None
        self._cookies: dict[tuple[str, str | None, str | None], str] | None = None

    # ------------------------------------------------------------------ status and headers

    def status(self, code: int) -> Response[T]:
        self.status_code = code if type(code) is int else int(code)
        self._status_set = True
        return self

    @property
    def status_explicit(self) -> bool:
        """Whether a handler chose the status (``@produces`` only fills in a default)."""
        return self._status_set

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            self.headers.pop("content-type", None)
        else:
            self.headers["content-type"] = value

    def set_header(self, key: str, value: str) -> Response[T]:
        self.headers[key] = value
        return self

    def set_headers(self, headers: dict[str, str]) -> Response[T]:
        for key, value in headers.items():
            self.headers[key] = value
        return self

    # ------------------------------------------------------------------ bodies

    def json(self, data: Any) -> Response[T]:
        self.body = data
        self._stream = None
        self.headers.set_raw(_CT, _CT_JSON)
        return self

    def text(self, text: str) -> Response[T]:
        self.body = text
        self._stream = None
        self.headers.set_raw(_CT, _CT_TEXT)
        return self

    def no_content(self) -> Response[T]:
        self.status(204)
        self.body = None
        self._stream = None
        self.headers.pop("content-type", None)
        self.headers.pop("content-length", None)
        return self

    def redirect(self, location: str, status_code: int = 303) -> Response[T]:
        self.headers["location"] = check_header_value(location)
        self.status(status_code)
        self.body = None
        self._stream = None
        return self

    def html(self, template_path: str, context: dict[str, Any] | None = None) -> _PendingHtml:
        """Render a template file; await the result (``.status()`` may be chained first)."""
        from ._templates import render_template

        return _PendingHtml(self, render_template(self.app, template_path, context, is_file=True))

    def html_from_string(self, text: str, context: dict[str, Any] | None = None) -> _PendingHtml:
        from ._templates import render_template

        return _PendingHtml(self, render_template(self.app, text, context, is_file=False))

    def stream(
        self, iterable: Iterable[Any] | AsyncIterable[Any], content_type: str = "application/octet-stream"
    ) -> Response[T]:
        """Send chunks as they come (chunked transfer); the iterator is closed on disconnect."""
        self.body = None
        self._stream = iterable  # type: ignore[assignment]
        self.headers["content-type"] = content_type
        self.headers.pop("content-length", None)
        return self

    def stream_text(self, iterable: Iterable[str] | AsyncIterable[str]) -> Response[T]:
        return self.stream(iterable, "text/plain; charset=utf-8")

    def send_file(self, body: Any, headers: dict[str, str] | None = None) -> Response[T]:
        """Bytes are sent as they are; a path or binary file object is streamed in chunks."""
        self._stream = None
        if isinstance(body, (bytes, bytearray, memoryview)):
            self.body = bytes(body)
            self.headers.setdefault("content-type", "application/octet-stream")
        elif isinstance(body, (str, os.PathLike)):
            path = os.fspath(body)
            size = os.stat(path).st_size
            self.body = None
            self._stream = file_chunks(path, 0, size)
            self.headers["content-type"] = guess_content_type(path)
            self.headers["content-length"] = str(size)
        elif hasattr(body, "read"):
            self.body = None
            self._stream = _filelike_chunks(body)
            self.headers.setdefault("content-type", "application/octet-stream")
        else:
            raise TypeError(f"send_file() expects bytes, a path or a binary file object, got {type(body).__name__}")
        if headers:
            self.set_headers(headers)
        return self

    # ------------------------------------------------------------------ cookies

    def set_cookie(
        self,
        cookie_name: str,
        value: str,
        max_age: int | timedelta | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        http_only: bool = True,
        *,
        expires: datetime | int | float | str | None = None,
        samesite: str | None = "Lax",
        partitioned: bool = False,
    ) -> Response[T]:
        line = dump_set_cookie(
            cookie_name, value, max_age, path, domain, secure, http_only,
            expires=expires, samesite=samesite, partitioned=partitioned,
        )
        if self._cookies is None:
            self._cookies = {}
        self._cookies[(cookie_name, path, domain)] = line
        return self

    def delete_cookie(
        self,
        cookie_name: str,
        path: str = "/",
        domain: str | None = None,
        *,
        secure: bool = False,
        samesite: str | None = None,
    ) -> Response[T]:
        if self._cookies is None:
            self._cookies = {}
        self._cookies[(cookie_name, path, domain)] = dump_delete_cookie(
            cookie_name, path, domain, secure=secure, samesite=samesite
        )
        return self

    @property
    def cookies(self) -> list[str]:
        """The ``Set-Cookie`` lines this response will send."""
        return list(self._cookies.values()) if self._cookies else []

    # ------------------------------------------------------------------ websocket

    async def send(self, message: dict[str, Any]) -> None:
        raise RuntimeError("Response.send() is only available on WebSocket connections")

    # ------------------------------------------------------------------ serialisation

    def render_body(self) -> bytes:
        """Serialise ``body`` according to the content type and declared ``Response[T]``."""
        body = self.body
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        kind = type(body)
        adapter = self.body_type
        # PERF: what the branches below give for these, decided without a header scan
        if kind is str:
            raw = self.headers.raw
            if raw and raw[0] == _CT_TEXT_PAIR:  # text(): its content type comes first (never validated)
                encoded: bytes = body.encode()
                return encoded
        elif adapter is None:
            if kind is dict or kind is list:
                return pydantic_core.to_json(body)
            if isinstance(body, BaseModel):
                return body.__pydantic_serializer__.to_json(body)
        else:
            raw = self.headers.raw
            if raw and raw[0] == _CT_JSON_PAIR:  # json(): validated and serialised as Response[T]
                return _dump_declared(adapter, body)
        if isinstance(body, str) and self.headers.get_raw(_CT) == _CT_TEXT:
            return body.encode()  # PERF: the text() fast path
        if isinstance(body, (bytearray, memoryview)):
            return bytes(body)
        if _is_json_raw(self.headers.get_raw(_CT)):
            if adapter is not None:
                return _dump_declared(adapter, body)
            if isinstance(body, BaseModel):
                return body.__pydantic_serializer__.to_json(body)  # PERF: bytes, no str round trip
            return pydantic_core.to_json(body)
        if isinstance(body, str):
            return body.encode()
        if isinstance(body, BaseModel):
            return body.__pydantic_serializer__.to_json(body)  # PERF: bytes, no str round trip
        return pydantic_core.to_json(body) if isinstance(body, (dict, list, tuple)) else str(body).encode()

    async def send_to(self, send: Send, *, head: bool = False, receive: Receive | None = None) -> None:
        """Write this response to ASGI ``send``; ``head`` drops the body but keeps its length."""
        if self._stream is not None:
            await self._send_stream(send, head, receive)
            return
        start, body = self.messages(head)  # type: ignore[misc]  # not a stream: checked above
        await send(start)
        await send(body)

    def messages(self, head: bool = False) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The ``http.response.start`` and ``.body`` messages; None for a streamed body.

        Serialises the body (``ResponseValidationError`` when it does not fit ``Response[T]``).
        A streamed response is sent with :meth:`send_to`.
        """
        if self._stream is not None:
            return None
        status = self.status_code
        body = self.body
        headers = self.headers.raw
        if type(body) is not bytes:
            body = self.render_body()
        if self._cookies:
            headers = headers + [(b"set-cookie", line.encode("latin-1")) for line in self._cookies.values()]
        if status in _NO_BODY_STATUSES or status < 200:
            body = b""
        else:
            # PERF: a Content-Length set by the handler (HEAD of a file) is kept as is.
            for key, _ in headers:
                if key == b"content-length":
                    break
            else:
                headers = [*headers, (b"content-length", b"%d" % len(body))]
        return (
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": b"" if head else body},
        )

    async def _send_stream(self, send: Send, head: bool, receive: Receive | None) -> None:
        headers = self.headers.raw
        if self._cookies:
            headers = headers + [(b"set-cookie", line.encode("latin-1")) for line in self._cookies.values()]
        chunks = _as_async_iterator(self._stream)
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        if head:
            await _close_iterator(chunks)
            await send({"type": "http.response.body", "body": b""})
            return
        watcher = asyncio.ensure_future(_wait_disconnect(receive)) if receive is not None else None
        task = asyncio.current_task()
        hung_up = finished = False
        if watcher is not None and task is not None and _interruptible(self._stream):

            def interrupt(fut: asyncio.Future[None]) -> None:
                # NOTE: an idle async generator (SSE waiting for its next event) would
                # otherwise outlive its client forever: cancel the wait, close it below.
                nonlocal hung_up
                if not finished and not fut.cancelled() and fut.exception() is None:
                    hung_up = True
                    task.cancel()

            watcher.add_done_callback(interrupt)
        try:
            async for chunk in chunks:
                if isinstance(chunk, str):
                    chunk = chunk.encode()
                elif not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise TypeError(f"stream chunks must be bytes or str, got {type(chunk).__name__}")
                if watcher is not None and watcher.done():
                    return
                await send({"type": "http.response.body", "body": bytes(chunk), "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except asyncio.CancelledError:
            # Our own cancellation (the client left) ends the response quietly; any other
            # cancellation request still pending propagates.
            if not hung_up or task is None or task.uncancel() > 0:
                raise
        finally:
            finished = True
            if watcher is not None:
                watcher.cancel()
            await _close_iterator(chunks)


class _PendingHtml:
    """Awaitable returned by ``html()``: setters chained before ``await`` apply after rendering."""

    __slots__ = ("_ops", "_render", "_response")

    def __init__(self, response: Response[Any], render: Awaitable[str]) -> None:
        self._response = response
        self._render = render
        self._ops: list[tuple[str, tuple[Any, ...]]] = []

    def status(self, code: int) -> _PendingHtml:
        self._ops.append(("status", (code,)))
        return self

    def set_header(self, key: str, value: str) -> _PendingHtml:
        self._ops.append(("set_header", (key, value)))
        return self

    def __await__(self) -> Generator[Any, None, Response[Any]]:
        return self._finish().__await__()

    async def _finish(self) -> Response[Any]:
        res = self._response
        res.body = await self._render
        res._stream = None
        res.headers["content-type"] = "text/html; charset=utf-8"
        for name, args in self._ops:
            getattr(res, name)(*args)
        return res


def _interruptible(source: Any) -> bool:
    """A handler's async iterable may wait indefinitely; our file readers never do.

    Those run reads in the thread pool, where a cancellation would close the file
    under a running read, so they keep the between-chunks disconnect check only.
    """
    code = getattr(source, "ag_code", None)
    return hasattr(source, "__aiter__") and code is not file_chunks.__code__ and code is not _filelike_chunks.__code__


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def _as_async_iterator(source: Any) -> AsyncIterator[Any]:
    if hasattr(source, "__aiter__"):
        return source.__aiter__()  # type: ignore[no-any-return]
    return _iterate_in_thread(iter(source))


async def _iterate_in_thread(iterator: Iterator[Any]) -> AsyncIterator[Any]:
    """Sync generators may block, so each ``next()`` runs in the default thread pool."""
    item: Any
    if isinstance(iterator, (type(iter(())), type(iter([])))):
        for item in iterator:  # PERF: plain sequences never block
            yield item
        return
    loop = asyncio.get_running_loop()
    done = object()
    try:
        while True:
            item = await loop.run_in_executor(None, _next_or, iterator, done)
            if item is done:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _next_or(iterator: Iterator[Any], default: object) -> Any:
    """``next(iterator, default)``, as one plain function for the thread pool."""
    return next(iterator, default)


async def _close_iterator(iterator: Any) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


async def file_chunks(path: str, start: int, length: int) -> AsyncIterator[bytes]:
    """Read ``length`` bytes from ``start`` in chunks, each read in the thread pool."""
    loop = asyncio.get_running_loop()
    handle = await loop.run_in_executor(None, open, path, "rb")
    try:
        if start:
            await loop.run_in_executor(None, handle.seek, start)
        remaining = length
        while remaining > 0:
            chunk = await loop.run_in_executor(None, handle.read, min(FILE_CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await loop.run_in_executor(None, handle.close)


async def _filelike_chunks(handle: Any) -> AsyncIterator[bytes]:
    read: Callable[[int], Any] = handle.read
    if asyncio.iscoroutinefunction(read):
        while chunk := await read(FILE_CHUNK_SIZE):
            yield chunk
        return
    loop = asyncio.get_running_loop()
    while chunk := await loop.run_in_executor(None, read, FILE_CHUNK_SIZE):
        yield chunk
