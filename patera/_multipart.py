"""Streaming ``multipart/form-data`` decoder (RFC 7578, RFC 2046 §5.1).

:class:`MultipartParser` is sans-I/O: ``feed(bytes)`` returns events (a
:class:`Part` when a part's headers are complete, ``bytes`` of its decoded
content, :data:`PART_END`), ``close()`` checks the final delimiter was seen.
Limits raise while streaming. ``_multipart_stream.parse_multipart`` drives it from the
request body and spools large files to disk off the event loop.
"""

from __future__ import annotations

import binascii
import re
from typing import Final

from ._header_params import parse_options_header
from ._limits import BodyLimits
from .exceptions import BadRequest, RequestEntityTooLarge

__all__ = ("PART_END", "Event", "MultipartParser", "Part", "PartEnd", "boundary_from_content_type")

# RFC 9110 tchar: the only bytes allowed in a header name.
_TCHAR: Final = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WS: Final = " \t"
_PASSTHROUGH_CTE: Final = frozenset(("", "7bit", "8bit", "binary"))
# Transport padding allowed between a boundary and its line break. Capped so the
# look-ahead needed to classify a candidate delimiter is bounded.
_MAX_PADDING: Final = 64

# Validated header names -> lower-cased key; shared by all parsers, bounded.
_HEADER_NAMES: dict[bytes, str] = {
    name.encode(): name.lower()
    for name in ("Content-Disposition", "Content-Type", "content-disposition", "content-type")
}
_HEADER_NAMES_MAX: Final = 512
_UNLIMITED: Final = 1 << 62

_PREAMBLE, _HEADERS, _DATA, _DONE, _FAILED = range(5)
# _delimiter_end() results besides "index after the line break"
_NEED_MORE, _NEAR_MISS, _CLOSE = -1, -2, -3
# What the parser starts with: the first delimiter needs no line break before it.
_VIRTUAL_LINE_BREAK = b"\r\n"


def _malformed(reason: str) -> BadRequest:
    return BadRequest(f"Malformed multipart body: {reason}")


class Part:
    """Header information of one body part, emitted once its header block is complete."""

    __slots__ = ("charset", "content_type", "filename", "headers", "name")

    def __init__(
        self, name: str, filename: str | None, headers: dict[str, str], content_type: str | None, charset: str | None
    ) -> None:
        self.name = name
        self.filename = filename  # None for a plain field; "" is still a file
        self.headers = headers
        self.content_type = content_type  # the raw header value, if any
        self.charset = charset

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    def __repr__(self) -> str:
        return f"<Part name={self.name!r} filename={self.filename!r}>"


class PartEnd:
    """Marks the end of the current part's content."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PART_END"


PART_END: Final = PartEnd()
Event = Part | bytes | PartEnd


class _Base64Decoder:
    """Decodes base64 across chunk borders: whole 4-char quanta only, whitespace ignored."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def decode(self, data: bytes) -> bytes:
        data = self._rest + data.translate(None, b" \t\r\n")
        cut = len(data) & ~3
        self._rest = data[cut:]
        return self._b64(data[:cut])

    def flush(self) -> bytes:
        rest, self._rest = self._rest, b""
        if rest:
            raise _malformed("invalid base64 content")
        return b""

    @staticmethod
    def _b64(data: bytes) -> bytes:
        if not data:
            return b""
        try:
            return binascii.a2b_base64(data, strict_mode=True)
        except binascii.Error:
            raise _malformed("invalid base64 content") from None


# binascii.a2b_qp's tokens, matched atomically (linear) from a token boundary. What is left
# unmatched is "=", "=X" (X hex: the escape may complete) or "=\r" without its LF (a soft
# break, after which a2b_qp drops everything up to and including the next LF).
_QP_TOKENS: Final = re.compile(
    rb"(?>[^=]+|==|=[0-9A-Fa-f]{2}|=\r[^\n]*\n|=\n|=(?=[^\r\n=0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]))*+"
)


class _QuotedPrintableDecoder:
    """Decodes quoted-printable across chunk borders exactly as ``a2b_qp`` decodes the whole.

    Cutting only at token boundaries keeps malformed input (``===``, ``=`` CR junk)
    independent of chunking too.
    """

    __slots__ = ("_rest", "_skip")

    def __init__(self) -> None:
        self._rest = b""
        self._skip = False

    def decode(self, data: bytes) -> bytes:
        if self._skip:  # inside a soft break: drop up to and including the LF
            nl = data.find(b"\n")
            if nl < 0:
                return b""
            data = data[nl + 1 :]
            self._skip = False
        data = self._rest + data
        m = _QP_TOKENS.match(data)
        cut = m.end() if m else 0  # `*+` always matches, possibly empty
        if data.startswith(b"=\r", cut):
            self._rest = b""
            self._skip = True
        else:
            self._rest = data[cut:]
        return binascii.a2b_qp(data[:cut])

    def flush(self) -> bytes:
        rest, self._rest = self._rest, b""
        self._skip = False
        return binascii.a2b_qp(rest)


_Decoder = _Base64Decoder | _QuotedPrintableDecoder


def _decode_header_bytes(raw: bytes, charset: str | None) -> str:
    if charset:
        try:
            return raw.decode(charset)
        except (LookupError, ValueError):  # ValueError: UnicodeError of punycode/undefined, a NUL in the name
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def boundary_from_content_type(content_type: str | None) -> bytes:
    """The ``boundary`` parameter as bytes.

    Raises:
        BadRequest: missing, longer than 70 chars, or not printable ASCII (RFC 2046 §5.1.1).
    """
    _base, params = parse_options_header(content_type)
    boundary = params.get("boundary")
    if boundary is None:
        raise _malformed("missing boundary")
    if not 1 <= len(boundary) <= 70 or not boundary.isascii() or not boundary.isprintable():
        raise _malformed("invalid boundary")
    return boundary.encode("ascii")


class MultipartParser:
    """Sans-I/O multipart decoder; see the module docstring for the event protocol.

    The body is scanned with ``bytes.find`` for ``LF "--" boundary``; a CR before
    the LF belongs to the delimiter (a bare LF is tolerated, as Werkzeug does).
    A candidate only counts when followed by ``--`` (close) or optional padding and
    a line break; anything else (``--boundaryQ``, ``--boundary\\rX``) is content.
    """

    __slots__ = (
        "_buf",
        "_charset",
        "_decoder",
        "_fields",
        "_files",
        "_header_size",
        "_headers",
        "_last_header",
        "_limits",
        "_max_field",
        "_needle",
        "_part",
        "_part_size",
        "_scan",
        "_state",
    )

    def __init__(self, boundary: bytes, limits: BodyLimits, *, charset: str | None = None) -> None:
        if not 1 <= len(boundary) <= 70 or b"\r" in boundary or b"\n" in boundary:
            raise _malformed("invalid boundary")
        self._needle = b"\n--" + boundary
        # NOTE: a virtual line break before the body lets the first delimiter be
        # found exactly like the others (RFC 2046 allows it at the very start).
        self._buf = _VIRTUAL_LINE_BREAK
        self._state = _PREAMBLE
        self._limits = limits
        self._charset = charset
        self._fields = 0
        self._files = 0
        self._part: Part | None = None
        self._part_size = 0  # bytes of the current field; files start at -_UNLIMITED
        self._max_field = limits.max_form_memory_size
        self._decoder: _Decoder | None = None
        self._headers: dict[str, str] = {}
        self._last_header = ""
        self._header_size = 0
        self._scan = 0

    @property
    def complete(self) -> bool:
        """True once the close delimiter was seen; later input is epilogue."""
        return self._state == _DONE

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data``; return the events it completes.

        Raises:
            BadRequest: the body is malformed.
            RequestEntityTooLarge: a form limit was crossed.
        """
        state = self._state
        if state == _DONE:
            return []
        if state == _FAILED:
            raise _malformed("parser already failed")
        if type(data) is not bytes:  # bytearray/memoryview: slices must be bytes events
            data = bytes(data)
        buf = self._buf
        pos = 0
        if not buf:
            buf = data
        elif buf is _VIRTUAL_LINE_BREAK and state == _PREAMBLE and data.startswith(self._needle[1:]):
            # PERF: the usual body opens with its first delimiter; classify it in place rather
            # than copy the whole first chunk behind the virtual line break.
            end = self._delimiter_end(data, len(self._needle) - 1)
            if end >= 0:
                self._start_headers()
                buf, pos = data, end
            else:
                buf += data
        else:
            buf += data
        events: list[Event] = []
        try:
            while True:
                state = self._state
                if state == _DATA:
                    pos, go_on = self._feed_data(buf, pos, events)
                elif state == _HEADERS:
                    pos, go_on = self._feed_headers(buf, pos, events)
                elif state == _PREAMBLE:
                    pos, go_on = self._feed_preamble(buf, pos)
                else:  # _DONE: the epilogue is ignored
                    self._buf = b""
                    return events
                if not go_on:
                    break
        except BaseException:
            self._state = _FAILED
            self._buf = b""
            raise
        # PERF: offsets into one buffer while parsing; only the short unconsumed
        # tail is copied, so many parts in one chunk cost O(n), not O(n * parts).
        self._buf = buf[pos:] if pos else buf
        return events

    def close(self) -> None:
        """Declare the end of the body.

        Raises:
            BadRequest: the close delimiter has not been seen (truncated body).
        """
        if self._state != _DONE:
            self._state = _FAILED
            self._buf = b""
            raise _malformed("unexpected end of body (missing final delimiter)")

    # ------------------------------------------------------------------ states

    def _delimiter_end(self, buf: bytes, j: int) -> int:
        """Classify what follows ``LF--boundary`` at ``j``; see the ``_NEED_MORE`` constants."""
        n = len(buf)
        if j + 2 > n:
            return _NEED_MORE
        if buf[j] == 45 and buf[j + 1] == 45:  # "--"
            return _CLOSE
        k = j
        limit = min(n, j + _MAX_PADDING + 1)
        while k < limit and buf[k] in b" \t":
            k += 1
        if k - j > _MAX_PADDING:
            return _NEAR_MISS
        if k >= n:
            return _NEED_MORE
        c = buf[k]
        if c == 10:
            return k + 1
        if c == 13:
            if k + 1 >= n:
                return _NEED_MORE
            return k + 2 if buf[k + 1] == 10 else _NEAR_MISS
        return _NEAR_MISS

    def _safe_end(self, buf: bytes, pos: int) -> int:
        """End of the bytes that cannot be the start of a delimiter split across chunks.

        Only a trailing ``LF--bound`` prefix of the needle (plus the CR before it), or
        a lone trailing CR, must wait for the next chunk. The boundary holds no LF, so
        the last LF in the final ``len(needle) - 1`` bytes is the only candidate.
        """
        needle = self._needle
        n = len(buf)
        k = buf.rfind(b"\n", max(pos, n - len(needle) + 1))
        if k >= 0 and needle.startswith(buf[k:]):
            return k - 1 if k > pos and buf[k - 1] == 13 else k
        if n > pos and buf[n - 1] == 13:
            return n - 1
        return n

    def _feed_preamble(self, buf: bytes, pos: int) -> tuple[int, bool]:
        needle = self._needle
        search = pos
        while True:
            i = buf.find(needle, search)
            if i < 0:
                return max(pos, self._safe_end(buf, pos)), False
            end = self._delimiter_end(buf, i + len(needle))
            if end == _NEED_MORE:
                return i, False
            if end == _NEAR_MISS:
                search = i + 1
                continue
            if end == _CLOSE:  # an empty form
                self._state = _DONE
                return len(buf), True
            self._start_headers()
            return end, True

    def _start_headers(self) -> None:
        self._state = _HEADERS
        self._headers = {}
        self._last_header = ""
        self._header_size = 0
        self._scan = 0

    def _feed_headers(self, buf: bytes, pos: int, events: list[Event]) -> tuple[int, bool]:
        max_size = self._limits.max_part_header_size
        if self._header_size == 0 and self._scan == 0 and not buf.startswith(b"\r\n", pos):
            # PERF: fast path for a complete CRLF header block in the buffer: one find
            # and one split instead of a find per line.
            e = buf.find(b"\r\n\r\n", pos, pos + max_size)
            if e >= 0:
                block = buf[pos:e]
                lines = block.split(b"\r\n")
                breaks = len(lines) - 1
                if block.count(b"\n") == breaks and block.count(b"\r") == breaks:  # no bare CR/LF
                    self._header_size = e + 4 - pos
                    headers = self._headers
                    careful = self._charset is not None
                    for line in lines:
                        # PERF: the common header line inlined (no CR inside: counted above);
                        # a known, already validated name is one dict lookup. Errors,
                        # folding, repeats and new names take the careful path.
                        colon = line.find(b":")
                        key = _HEADER_NAMES.get(line[:colon]) if colon > 0 else None
                        if key is None or careful or key in headers:
                            self._header_line(line)
                            continue
                        raw = line[colon + 1 :]
                        try:
                            value = raw.decode("utf-8")
                        except UnicodeDecodeError:
                            value = raw.decode("latin-1")
                        headers[key] = value.strip(_WS)
                        self._last_header = key
                    self._begin_part(events)
                    return e + 4, True
        while True:
            nl = buf.find(b"\n", pos + self._scan)
            if nl < 0:
                pending = len(buf) - pos
                if self._header_size + pending > max_size:
                    raise RequestEntityTooLarge("Part header too large")
                self._scan = pending  # PERF: do not rescan a long header line per chunk
                return pos, False
            self._scan = 0
            self._header_size += nl + 1 - pos
            if self._header_size > max_size:
                raise RequestEntityTooLarge("Part header too large")
            end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
            line = buf[pos:end]
            pos = nl + 1
            if not line:
                self._begin_part(events)
                return pos, True
            self._header_line(line)

    def _header_line(self, line: bytes) -> None:
        """Validate one header line (without its line break) and record it."""
        headers = self._headers
        if b"\r" in line:
            raise _malformed("CR in part header not followed by LF")
        if line[0] in b" \t":
            # NOTE: obsolete line folding (RFC 5322 §2.2.3); email.generator still folds.
            if not self._last_header:
                raise _malformed("part header starts with whitespace")
            key = self._last_header
            headers[key] = headers[key] + " " + _decode_header_bytes(line, self._charset).strip(_WS)
            return
        colon = line.find(b":")
        if colon < 0:
            raise _malformed("part header without colon")
        raw_name = line[:colon]
        if not raw_name or raw_name.translate(None, _TCHAR):
            raise _malformed("invalid part header name")
        key = raw_name.decode("ascii").lower()
        if len(_HEADER_NAMES) < _HEADER_NAMES_MAX:
            _HEADER_NAMES[raw_name] = key
        value = _decode_header_bytes(line[colon + 1 :], self._charset).strip(_WS)
        if key not in headers:  # the first occurrence wins
            headers[key] = value
            self._last_header = key
        else:
            self._last_header = ""

    def _begin_part(self, events: list[Event]) -> None:
        headers = self._headers
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise _malformed("part without Content-Disposition")
        name: str | None
        filename: str | None = None
        if (
            disposition.startswith('form-data; name="')
            and disposition.find('"', 17) == len(disposition) - 1
            and "\\" not in disposition
        ):
            # PERF: a browser's plain field, `form-data; name="x"`, needs no general parse.
            name = disposition[17:-1]
        else:
            try:
                kind, params = parse_options_header(disposition, strict=True)
            except ValueError:  # `name="abc` is not a field named abc (SPEC §5)
                raise _malformed("unterminated quoted parameter in Content-Disposition") from None
            if kind != "form-data":
                raise _malformed("Content-Disposition is not form-data")
            name = params.get("name")
            filename = params.get("filename")
        if name is None:
            raise _malformed("part without a name")
        limits = self._limits
        if filename is None:
            self._fields += 1
            if self._fields > limits.max_form_fields:
                raise RequestEntityTooLarge("Too many form fields")
        else:
            self._files += 1
            if self._files > limits.max_form_files:
                raise RequestEntityTooLarge("Too many files")
        content_type = charset = cte = None
        decoder: _Decoder | None = None
        if len(headers) > 1:  # PERF: a lone Content-Disposition (browser fields) skips the lookups
            content_type = headers.get("content-type")
            if content_type:
                charset = parse_options_header(content_type)[1].get("charset")
            cte = headers.get("content-transfer-encoding")
        if cte is not None:
            cte = cte.strip(" \t").lower()
            if cte == "base64":
                decoder = _Base64Decoder()
            elif cte == "quoted-printable":
                decoder = _QuotedPrintableDecoder()
            elif cte not in _PASSTHROUGH_CTE:
                raise _malformed("unsupported Content-Transfer-Encoding")
        self._decoder = decoder
        self._part = part = Part(name, filename, headers, content_type, charset)
        self._part_size = 0 if filename is None else -_UNLIMITED  # files are not size-limited here
        self._state = _DATA
        events.append(part)

    def _emit(self, chunk: bytes, events: list[Event]) -> None:
        if self._decoder is not None:
            chunk = self._decoder.decode(chunk)
        self._part_size += len(chunk)
        if self._part_size > self._max_field:
            raise RequestEntityTooLarge("Form field too large")
        if chunk:
            events.append(chunk)

    def _feed_data(self, buf: bytes, pos: int, events: list[Event]) -> tuple[int, bool]:
        needle = self._needle
        nlen = len(needle)
        search = pos
        while True:
            i = buf.find(needle, search)
            if i < 0:
                cut = self._safe_end(buf, pos)
                if cut > pos:
                    # PERF: for a whole chunk of file content this slice is the chunk
                    # itself (no copy) and nothing is carried over to the next feed.
                    self._emit(buf[pos:cut], events)
                    return cut, False
                return pos, False
            j = i + nlen
            # PERF: "--boundary" CRLF is by far the most common case; classify it inline.
            end = j + 2 if buf[j : j + 2] == b"\r\n" else self._delimiter_end(buf, j)
            if end == _NEAR_MISS:
                search = i + 1
                continue
            start = i - 1 if i > pos and buf[i - 1] == 13 else i
            if start > pos:
                if self._decoder is None and self._part_size + start - pos <= self._max_field:
                    # PERF: inlined _emit() for the common undecoded part within limits
                    self._part_size += start - pos
                    events.append(buf[pos:start])
                else:
                    self._emit(buf[pos:start], events)
            if end == _NEED_MORE:
                return start, False
            if self._decoder is not None:
                tail = self._decoder.flush()
                self._decoder = None
                if tail:
                    self._emit(tail, events)
            events.append(PART_END)
            self._part = None
            if end == _CLOSE:
                self._state = _DONE
                return len(buf), True
            # inlined _start_headers()
            self._state = _HEADERS
            self._headers = {}
            self._last_header = ""
            self._header_size = 0
            self._scan = 0
            return end, True
