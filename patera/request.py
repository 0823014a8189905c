"""``Request``: a lazy, slotted view over one ASGI connection.

Only this module (and ``websockets.py``) reads ``receive``. Headers, query, cookies and
body are parsed on first access and cached.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pydantic_core

from ._header_params import parse_options_header
from ._limits import BodyLimits
from ._multipart_stream import parse_multipart
from ._urlencoded import parse_urlencoded, to_multidict
from .datastructures import Headers
from .exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from ._types import Receive, Scope
    from .response import Response
    from .uploads import UploadedFile

__all__ = ("Request", "current_request", "parse_json", "routed_path")

#: The request being handled (templates read it for their ``request`` variable).
current_request: ContextVar[Request | None] = ContextVar("patera_current_request", default=None)

_DEFAULT_LIMITS = BodyLimits()
#: Headers a request may carry once at most (RFC 9112 §3.2 and §6.3, RFC 6454 §7.3), with
#: their names as ``DuplicateHeader`` (400) reports them.
SINGLE_HEADERS = {
    b"host": "Host",
    b"content-length": "Content-Length",
    b"content-type": "Content-Type",
    b"origin": "Origin",
}
_UNSET: Any = object()
# NOTE: bytes a JSON text can start with in UTF-8 without a BOM (RFC 8259 §2).
PLAIN_JSON_START = frozenset(b'{["-0123456789tfn \t\r\n')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """Decode a JSON body strictly; ``ValueError`` for anything RFC 8259 does not allow.

    UTF-8/16/32 (with or without BOM) are accepted; NaN/Infinity, trailing garbage,
    invalid UTF-8, oversized integers and too-deep nesting are refused.
    """
    try:
        if body[0] in PLAIN_JSON_START:
            # PERF: the Rust parser handles the common case; it refuses NaN when asked.
            return pydantic_core.from_json(body, allow_inf_nan=False)
        return json.loads(body, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def parse_json_body(body: bytes) -> Any:
    """:func:`parse_json` for ``@consumes`` bodies: empty → ``{}``; invalid → ``BadRequest``."""
    if not body:
        return {}
    try:
        return parse_json(body)
    except ValueError:
        raise BadRequest("Malformed JSON body") from None


def routed_path(path: str) -> str:
    """The path as the router matches it: leading slashes collapsed, relative made absolute.

    ``//admin/x``, ``///admin/x`` and ``admin/x`` are all served by ``/admin/x`` (Werkzeug's
    rule), so ``req.path`` must say ``/admin/x`` too: a guard written against ``req.path``
    then sees exactly what routing saw (SPEC §4.1).
    """
    return "/" + path.lstrip("/")


class Request:
    """One HTTP request (or WebSocket connection) as handlers see it.

    Fields the framework's layers share (all documented, none private):

    - ``path``: the routed path (:func:`routed_path`), set once here.
    - ``endpoint`` / ``route_parameters`` / ``route_error``: the route match, recorded by
      the ASGI entry before the chain runs (``route_error`` is the ``NotFound``,
      ``MethodNotAllowed`` or redirect the routing-outcome layer turns into an answer).
    - ``single_headers``: Host, Content-Length, Content-Type and Origin, recorded when the
      request is made; ``duplicate_header`` names one that came twice, and the error
      boundary's first step refuses it (``DuplicateHeader``).
    - ``body_validation_error``: the ``pydantic.ValidationError`` the endpoint wrapper
      raised for this request's body model; the error boundary renders exactly that one
      as 422 (any other ValidationError is a server bug, 500).
    - ``cors_grant``: headers the CORS layer granted; the error boundary adds them to an
      error it renders, so a browser can read cross-origin errors.
    - ``websocket``: the connection, for WebSocket scopes (``websockets.py``).
    """

    __slots__ = (
        "_body",
        "_context",
        "_cookies",
        "_files",
        "_form",
        "_headers",
        "_json",
        "_query",
        "_receive",
        "_response",
        "_state",
        "_streamed",
        "app",
        "body_validation_error",
        "cors_grant",
        "duplicate_header",
        "endpoint",
        "open_uploads",
        "path",
        "route_error",
        "route_parameters",
        "scope",
        "single_headers",
        "user",
        "websocket",
    )

    def __init__(self, scope: Scope, receive: Receive, app: Any = None) -> None:
        self.scope = scope
        self.app = app
        path: str = scope["path"]
        self.path = path if path[:1] == "/" and path[1:2] != "/" else routed_path(path)
        self._receive = receive
        self.route_parameters: dict[str, Any] = {}
        self.endpoint: Any = None
        self.route_error: Exception | None = None
        self.user: Any = None
        self._headers: Headers | None = None
        self._query: dict[str, Any] | None = None
        self._cookies: dict[str, str] | None = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._form: dict[str, Any] | None = None
        self._files: dict[str, Any] | None = None
        self._streamed = False
        self._response: Response[Any] | None = None
        self._state: SimpleNamespace | None = None
        self._context: dict[str, Any] | None = None
        #: uploads spooled for this request, closed by :meth:`finish`
        self.open_uploads: list[UploadedFile] | None = None
        self.websocket: Any = None
        self.body_validation_error: BaseException | None = None
        self.cors_grant: list[tuple[bytes, bytes]] | None = None
        # NOTE: one Host (RFC 9112 §3.2), Content-Length (§6.3), Content-Type and Origin
        # (RFC 6454 §7.3). First-wins would let the framework (CORS, body framing) and a
        # handler reading the joined req.headers[...] disagree: a repeat is refused.
        single: dict[bytes, bytes] = {}
        duplicate = None
        for key, value in scope["headers"]:
            if key in SINGLE_HEADERS:
                if key in single:
                    duplicate = key
                    break
                single[key] = value
        self.duplicate_header: bytes | None = duplicate
        self.single_headers: dict[bytes, bytes] | None = None if duplicate is not None else single

    # ------------------------------------------------------------------ connection facts

    @property
    def route_handler(self) -> Any:
        """The matched handler (a bound controller method), or None."""
        endpoint = self.endpoint
        return None if endpoint is None else endpoint.handler

    @property
    def limits(self) -> BodyLimits:
        """Body limits of the matched endpoint (``@limits``), else the app's."""
        endpoint = self.endpoint
        if endpoint is not None:
            return endpoint.limits  # type: ignore[no-any-return]
        app = self.app
        return app.body_limits if app is not None else _DEFAULT_LIMITS

    def _raw_header(self, name: bytes) -> str | None:
        # PERF: the body path needs two headers; scanning beats building the dict.
        single = self.single_headers
        if single is not None and name in SINGLE_HEADERS:
            value = single.get(name)
            return None if value is None else value.decode("latin-1")
        if self._headers is not None:
            return self._headers.get(name.decode())
        found = None
        for key, value in self.scope["headers"]:
            if key == name:
                if found is not None:
                    return self.headers.get(name.decode())  # repeated: the joined view
                found = value.decode("latin-1")
        return found

    @property
    def method(self) -> str:
        if self.scope["type"] == "websocket":
            return "SOCKET"
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def query_string(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> dict[str, Any]:
        if self._query is None:
            raw = self.scope.get("query_string", b"")
            self._query = to_multidict(parse_urlencoded(raw)) if raw else {}
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            header = self.headers.get("cookie")
            if header:
                from ._cookies import parse_cookie_header

                self._cookies = parse_cookie_header(header)
            else:
                self._cookies = {}
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def scheme(self) -> str:
        scheme: str = self.scope.get("scheme") or ("ws" if self.scope["type"] == "websocket" else "http")
        return scheme

    @property
    def content_type(self) -> str | None:
        return self._raw_header(b"content-type")

    @property
    def content_length(self) -> int | None:
        """Declared body length; ``BadRequest`` when the header is not a plain ASCII number."""
        value = self._raw_header(b"content-length")
        if value is None:
            return None
        value = value.strip()
        # NOTE: RFC 9110 §8.6 — 1*DIGIT only: "-1", "+10", "1_0", Arabic-Indic digits and repeated headers are refused.
        if not (value.isascii() and value.isdigit()):
            raise BadRequest("Invalid Content-Length header")
        if len(value) > 19:
            # int() refuses more than 4300 digits (a 500); no real body is above 10**19 bytes.
            value = value.lstrip("0") or "0"
            if len(value) > 19:
                raise RequestEntityTooLarge("Request body too large")
        return int(value)

    # ------------------------------------------------------------------ per-request state

    @property
    def state(self) -> Any:
        """Free per-request attributes (a ``SimpleNamespace``); assignable, as the original allowed."""
        if self._state is None:
            self._state = SimpleNamespace()
        return self._state

    @state.setter
    def state(self, value: Any) -> None:
        self._state = value

    @property
    def context(self) -> dict[str, Any]:
        if self._context is None:
            self._context = {}
        return self._context

    @property
    def response(self) -> Response[Any]:
        if self._response is None:
            app = self.app
            if app is None:
                from .response import Response

                self._response = Response()
            else:
                self._response = app.response_class(app)
        return self._response

    @response.setter
    def response(self, value: Response[Any]) -> None:
        self._response = value

    res = response

    def set_user(self, user: Any) -> None:
        self.user = user

    def remove_user(self) -> None:
        self.user = None

    # ------------------------------------------------------------------ body

    def _start_reading(self) -> _BodyReader:
        if self.scope["type"] != "http":
            raise RuntimeError("WebSocket connections have no request body")
        if self._streamed:
            raise RuntimeError("request body was consumed by the form parser")
        self._streamed = True
        declared = self.content_length
        limit = self.limits.max_content_length
        if declared is not None and limit is not None and declared > limit:
            raise RequestEntityTooLarge("Request body too large")
        return _BodyReader(self._receive, declared, limit)

    def stream(self) -> AsyncIterator[bytes]:
        """Body chunks as they arrive, enforcing ``MAX_CONTENT_LENGTH`` and Content-Length."""
        return _BodyStream(self)

    async def body(self) -> bytes:
        if self._body is None:
            # PERF: the receive loop runs here, not in a coroutine of the reader
            reader = self._start_reading()
            receive = self._receive
            chunk = reader.take(await receive())
            more = not reader._done
            if more:
                parts = [chunk]
                while more:
                    parts.append(reader.take(await receive()))
                    more = not reader._done
                chunk = b"".join(parts)
            self._body = chunk
        return self._body

    async def json(self) -> Any:
        """Parsed JSON body, or ``None`` for an empty or invalid body."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = parse_json(body) if body else None
            except ValueError:
                self._json = None
        return self._json

    async def json_strict(self) -> Any:
        """Parsed JSON for ``@consumes``: empty → ``{}``; invalid → ``BadRequest``."""
        return parse_json_body(await self.body())

    async def _parse_form(self) -> None:
        if self._form is not None:
            return
        if self.scope["type"] != "http":
            raise RuntimeError("WebSocket connections have no request body")
        base, params = parse_options_header(self.content_type)
        limits = self.limits
        if base == "application/x-www-form-urlencoded":
            body = await self._urlencoded_body(limits) if self._body is None else self._body
            pairs = parse_urlencoded(
                body,
                charset=params.get("charset", "utf-8"),
                max_fields=limits.max_form_fields,
                max_field_size=limits.max_form_memory_size,
            )
            self._form, self._files = to_multidict(pairs), {}
        elif base == "multipart/form-data":
            fields, files = await parse_multipart(self.stream(), self.content_type or "", limits)
            uploads = [upload for _, upload in files]
            self.open_uploads = uploads if self.open_uploads is None else self.open_uploads + uploads
            self._form, self._files = to_multidict(fields), to_multidict(files)
        else:
            self._form, self._files = {}, {}

    async def _urlencoded_body(self, limits: BodyLimits) -> bytes:
        """The body (cached as by :meth:`body`), refused while it streams once it must fail.

        Without ``MAX_CONTENT_LENGTH`` the whole body used to be buffered (and split into
        one object per ``&``) before the form limits applied: a GB of ``a=1&`` or of ``&``,
        or one endless pair, is now refused after ``max_form_fields`` separators (empty
        pairs count, as in Werkzeug) or one pair longer than a key and a value within
        ``max_form_memory_size`` can be when fully percent-encoded.
        """
        max_fields = limits.max_form_fields
        max_pair = 6 * limits.max_form_memory_size + 1
        parts: list[bytes] = []
        separators = 0
        tail = 0  # length of the unfinished pair at the end of what was received
        async for chunk in self.stream():
            parts.append(chunk)
            amp = chunk.rfind(b"&")
            if amp < 0:
                tail += len(chunk)
            else:
                separators += chunk.count(b"&")
                if separators > max_fields:
                    raise RequestEntityTooLarge("Too many form fields")
                tail = len(chunk) - amp - 1
            if tail > max_pair:
                raise RequestEntityTooLarge("Form field too large")
        self._body = parts[0] if len(parts) == 1 else b"".join(parts)
        return self._body

    async def form(self) -> dict[str, Any]:
        await self._parse_form()
        assert self._form is not None
        return self._form

    async def files(self) -> dict[str, Any]:
        await self._parse_form()
        assert self._files is not None
        return self._files

    async def form_and_files(self) -> dict[str, Any]:
        await self._parse_form()
        assert self._form is not None and self._files is not None
        return {**self._form, **self._files}

    async def get_data(self, location: str = "json") -> Any:
        if location == "json":
            return await self.json()
        if location == "form":
            return await self.form()
        if location == "files":
            return await self.files()
        if location == "form_and_files":
            return await self.form_and_files()
        if location == "query":
            return self.query_params
        return None

    def close_uploads(self) -> None:
        """Delete spooled upload files; called by the framework when the request ends."""
        uploads, self.open_uploads = self.open_uploads, None
        for upload in uploads or ():
            upload.close()

    def finish(self) -> None:
        """End of request: delete spooled uploads, drop the body and routing errors.

        PERF: a body ValidationError holds (via its traceback) a frame holding this request;
        dropping it frees both by reference counting instead of the cyclic GC.
        """
        if self.open_uploads:
            self.close_uploads()
        self.body_validation_error = self.route_error = None
    # ------------------------------------------------------------------ websocket (see websockets.py)

    def _websocket(self) -> Any:
        if self.websocket is None:
            raise RuntimeError("this method is only available on WebSocket connections")
        return self.websocket

    async def accept(self, subprotocol: str | None = None, headers: list[tuple[str, str]] | None = None) -> None:
        await self._websocket().accept(subprotocol, headers)

    async def receive(self) -> dict[str, Any]:
        return await self._websocket().receive()  # type: ignore[no-any-return]

    async def send(self, message: dict[str, Any]) -> None:
        await self._websocket().send(message)

    async def receive_text(self) -> str:
        return await self._websocket().receive_text()  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        return await self._websocket().receive_bytes()  # type: ignore[no-any-return]

    async def receive_json(self) -> Any:
        return await self._websocket().receive_json()

    async def send_text(self, data: str) -> None:
        await self._websocket().send_text(data)

    async def send_bytes(self, data: bytes) -> None:
        await self._websocket().send_bytes(data)

    async def send_json(self, data: Any) -> None:
        await self._websocket().send_json(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._websocket().close(code, reason)

    def iter_text(self) -> AsyncIterator[str]:
        return self._websocket().iter_text()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method} {self.path}>"


class _BodyStream:
    """What :meth:`Request.stream` returns: the body once read, else chunks as they come.

    An iterator class rather than an async generator: one left unfinished (the multipart
    parser stops at the closing boundary) needs no finaliser scheduled on the event loop.
    """

    __slots__ = ("_done", "_reader", "_req")

    def __init__(self, req: Request) -> None:
        self._req = req
        self._reader: _BodyReader | None = None
        self._done = False

    def __aiter__(self) -> _BodyStream:
        return self

    async def __anext__(self) -> bytes:
        reader = self._reader
        if reader is None:
            if self._done:
                raise StopAsyncIteration
            body = self._req._body
            if body is not None:
                self._done = True
                if body:
                    return body
                raise StopAsyncIteration
            reader = self._reader = self._req._start_reading()
        chunk = await reader.next()
        if chunk is None:
            raise StopAsyncIteration
        return chunk


class _BodyReader:
    """Pulls ``http.request`` messages one chunk at a time and enforces the body limits."""

    __slots__ = ("_declared", "_done", "_limit", "_receive", "_received")

    def __init__(self, receive: Receive, declared: int | None, limit: int | None) -> None:
        self._receive = receive
        self._declared = declared
        self._limit = limit
        self._received = 0
        self._done = False

    def take(self, message: Mapping[str, Any]) -> bytes:
        """Account for one received message; its body chunk (``b""`` when it has none)."""
        kind = message["type"]
        if kind == "http.request":
            chunk: bytes = message.get("body", b"")
            if chunk:
                self._received += len(chunk)
                if self._limit is not None and self._received > self._limit:
                    raise RequestEntityTooLarge("Request body too large")
                if self._declared is not None and self._received > self._declared:
                    raise BadRequest("Request body is longer than its Content-Length")
            if not message.get("more_body", False):
                self._done = True
                if self._declared is not None and self._received != self._declared:
                    raise BadRequest("Request body is shorter than its Content-Length")
            return chunk
        if kind == "http.disconnect":
            raise ClientDisconnected("client disconnected while sending the body")
        return b""

    async def next(self) -> bytes | None:
        """The next non-empty chunk, or None at the end of the body."""
        receive = self._receive
        while not self._done:
            chunk = self.take(await receive())
            if chunk:
                return chunk
        return None
