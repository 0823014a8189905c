"""Fuzz targets for patera's pure parsers: one ``check(data: bytes)`` per parser.

A target returns True when the input reached the interesting part (it parsed, it
matched), False otherwise, and raises on a finding: an ``AssertionError`` for a
broken invariant, or whatever unexpected exception the parser let escape. Both
engines in ``run.py`` (atheris, and the built-in seeded mutator) drive these.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

from patera._cookies import dump_set_cookie, parse_cookie_header
from patera._header_params import parse_options_header
from patera._limits import BodyLimits
from patera._multipart import PART_END, MultipartParser, Part
from patera._multipart_stream import parse_multipart
from patera._router import RequestRedirect, Router
from patera._urlencoded import _parse_pairs, parse_urlencoded
from patera.exceptions import BadRequest, DuplicateRoutePath, MethodNotAllowed, NotFound, RequestEntityTooLarge

__all__ = ("TARGETS", "Target")

ROOT = Path(__file__).resolve().parent.parent
MULTIPART_DATA = ROOT / "tests" / "data" / "multipart"

# Charsets a client can name; the odd ones are text codecs that refuse some inputs or
# error handlers (idna, punycode, undefined) or are not text codecs at all (base64).
CHARSETS = (
    "utf-8", "latin-1", "utf-16", "ascii", "cp1252", "shift_jis", "utf-7", "idna", "punycode",
    "undefined", "base64", "rot13", "unicode_escape", "no-such-codec", "",
)


@dataclass
class Target:
    name: str
    check: Callable[[bytes], bool]
    seeds: list[bytes]
    tokens: list[bytes] = field(default_factory=list)
    #: largest generated input; the multipart seeds are real ~2 KB browser uploads
    max_len: int = 1024


# ----------------------------------------------------------------------------- router

BASE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/", ("GET",)),
    ("/users/", ("GET", "POST")),
    ("/users/<int:user_id>", ("GET", "PUT", "DELETE")),
    ("/users/<int:user_id>/files/<path:rest>", ("GET",)),
    ("/n/<int(signed=True):n>", ("GET",)),
    ("/fixed/<int(fixed_digits=4):n>", ("GET",)),
    ("/range/<int(min=1, max=999):n>", ("GET",)),
    ("/f/<float:x>", ("GET",)),
    ("/fs/<float(signed=True, min=-1e300):x>", ("GET",)),
    ("/u/<uuid:id>", ("GET",)),
    ("/any/<any(a, 'b c', \"\u00fc\", '%41', x.y):kind>", ("GET", "POST")),
    ("/s/<string(minlength=2, maxlength=5):s>", ("GET",)),
    ("/s3/<string(length=3):s>/x", ("GET",)),
    ("/pre<name>suf/end", ("GET",)),
    ("/docs/<path:p>/edit", ("GET",)),
    ("/a/<x>/<y>", ("GET",)),
    ("/a/<x>/<y>/", ("POST",)),
    ("/static/<path:filename>", ("GET",)),
    ("/tail/<path:p>/", ("GET",)),
    ("/<path:catchall>", ("PATCH",)),
)
METHODS = ("GET", "POST", "PUT", "HEAD", "PATCH", "OPTIONS")
ROUTER_OK = (NotFound, MethodNotAllowed, RequestRedirect)


def _router(strict: bool, merge: bool, extra: list[str] | None = None) -> Router:
    router = Router(strict_slashes=strict, merge_slashes=merge)
    for i, (rule, methods) in enumerate(BASE_RULES):
        router.add(rule, methods, f"ep{i}", f"ep{i}")
    for i, rule in enumerate(extra or ()):
        with contextlib.suppress(ValueError, DuplicateRoutePath):
            router.add(rule, ("GET",), f"extra{i}", f"extra{i}")
    router.freeze()
    return router


_ROUTERS = {(s, m): _router(s, m) for s in (False, True) for m in (True, False)}


def _same_values(a: dict[str, object], b: dict[str, object]) -> bool:
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if type(value) is not type(other):
            return False
        if isinstance(value, float) and not (value == other or (math.isnan(value) and math.isnan(other))):  # type: ignore[arg-type]
            return False
        if not isinstance(value, float) and value != other:
            return False
    return True


def check_router(data: bytes) -> bool:
    """Rules from the input register or raise ValueError; any path matches or raises a routing error.

    Input: byte 0 picks strict/merge/method; the rest, split on NUL, is
    ``[extra rule, ...] path`` (extra rules build a fresh router).
    """
    if not data:
        return False
    flags = data[0]
    strict, merge = bool(flags & 1), bool(flags & 2)
    method = METHODS[(flags >> 2) % len(METHODS)]
    *rules, path = data[1:].decode("utf-8", "replace").split("\x00")
    rules = rules[:4]
    if rules:
        router = Router(strict_slashes=strict, merge_slashes=merge)
        for i, rule in enumerate(rules):
            with contextlib.suppress(ValueError, DuplicateRoutePath):
                router.add(rule, ("GET", "POST"), f"x{i}", f"x{i}")
        if not router.rules:
            return False
    else:
        router = _ROUTERS[(strict, merge)]
    router.allowed_methods(path)
    try:
        endpoint, values = router.match(path, method)
    except ROUTER_OK:
        return False
    if rules:
        # Build must succeed for the values the rule produced (or refuse with ValueError).
        try:
            router.build(str(endpoint), values)
        except ValueError as exc:
            raise AssertionError(f"build refused matched values {values!r}: {exc}") from None
        return True
    built = router.build(str(endpoint), values)
    assert "?" not in built, (path, built)
    again, values2 = router.match(unquote(built), method)
    assert again == endpoint and _same_values(values, values2), (path, built, endpoint, values, again, values2)
    return True


ROUTER_SEEDS = [
    bytes([i]) + p.encode()
    for i, p in enumerate(
        [
            "/", "/users/", "/users/42", "/users/7/files/a/b.txt", "/n/-12", "/fixed/0012", "/range/5", "/f/1.5",
            "/fs/-0.25", "/u/12345678-1234-5678-1234-567812345678", "/any/b c", "/any/\u00fc", "/s/abc", "/s3/abc/x",
            "/prexsuf/end", "/docs/a/b/edit", "/a/1/2", "/a/1/2/", "/static/css/x.css", "/tail/a/b/", "//users//3",
            "/users", "/x/%41",
        ]
    )
] + [
    b"\x00/<int:a>/<b>\x00/<path:p>/x\x00/3/y",
    b"\x01/<any(a, 'b'):k>/<float(min=0.5):f>\x00/a/1.5",
    b"\x02/x<string(length=2):s>y\x00/xaby",
    b"\x03/<uuid:u>\x00/<int(fixed_digits=3, signed=True):n>/\x00/-012/",
    # issue 12: converter arguments as Werkzeug 3.1 reads them (odd literals, spacing, junk)
    b"\x00/e/<int(min=1e3):a>\x00/e/1000",
    b"\x00/e/<int(min=1.5, max=1_000):a>\x00/e/<int(True):b>/x\x00/e/7/x",
    b"\x01/e/<int(signed=1):a>\x00/e/<path(1):p>/<uuid(x):u>\x00/e/-3",
    b"\x02/e/<int(1,2):a>\x00/e/<string(minlength=3, maxlength=2):s>\x00/e/abc",
    b"\x00/e/<any():a>\x00/e/<any(u'x', r\"y\",a ,):b>/z\x00/e/",
    b"\x03/e/<int(min=-5, signed=True):a>\x00/e/<float(min=-1.5,signed='no'):f>/f\x00/e/-5",
    b"\x00/e/<string(length='2', minlength=x):s>\x00/e/<int(fixed_digits=None, min=abc):n>/n\x00/e/ab",
    b"\x00/e/<int( min = 1 ,, max=\xd9\xa3 ,):a>\x00/e/<int(min=1, 2):b>/b\x00/e/3",
    b"\x00noslash\x00/<default(2.,):x>\x00/ab",
]
ROUTER_TOKENS = [
    t.encode()
    for t in (
        "<", ">", "/", ":", "(", ")", ",", "=", "'", '"', "<int:", "<float:", "<path:", "<uuid:", "<any(", "<string(",
        "<default(", "length=", "minlength=", "maxlength=", "fixed_digits=", "min=", "max=", "signed=True", "signed=",
        "True", "None", "1e3", "-1", "4294967296", "99999999999", "\x00", "//", "..", "%2F", "%", "-", ".", "0.5",
        "12345678-1234-5678-1234-567812345678", "\u00fc", "\\",
        "1_000", "1.5", "1e999", "u'", 'r"', ",,", " , ", "\u0663", "False", "nan", "inf", "(1,2)", "any()",
    )
]


# ----------------------------------------------------------------------------- multipart

MP_LIMITS = BodyLimits(max_form_fields=50, max_form_files=50, max_part_header_size=1024, max_form_memory_size=20_000)
ROUNDTRIP_LIMITS = BodyLimits(
    max_form_fields=50, max_form_files=50, max_part_header_size=1 << 20, max_form_memory_size=1 << 20
)
_LOOP: asyncio.AbstractEventLoop | None = None


def _chunks(body: bytes, pattern: bytes) -> Iterator[bytes]:
    i, k = 0, 0
    while i < len(body):
        n = pattern[k % len(pattern)] % 23 + 1 if pattern else len(body)
        if n == 23:
            n = 4096
        yield body[i : i + n]
        i += n
        k += 1


def _run_sansio(boundary: bytes, chunks: Iterator[bytes], limits: BodyLimits = MP_LIMITS) -> tuple[str, list[object]]:
    """Outcome of a parse: ("ok", merged events) or (exception name, [])."""
    events: list[object] = []
    try:
        parser = MultipartParser(boundary, limits)
        for chunk in chunks:
            for event in parser.feed(chunk):
                if isinstance(event, Part):
                    events.append(("part", event.name, event.filename, event.content_type))
                elif event is PART_END:
                    events.append(PART_END)
                else:
                    assert isinstance(event, bytes) and event, event
                    if events and isinstance(events[-1], bytes):
                        events[-1] += event
                    else:
                        events.append(event)
        parser.close()
    except (BadRequest, RequestEntityTooLarge) as exc:
        return type(exc).__name__, []
    return "ok", events


def _parts_of(events: list[object]) -> list[tuple[str, str | None, bytes]]:
    parts: list[tuple[str, str | None, bytes]] = []
    current: tuple[str, str | None] | None = None
    data = b""
    for event in events:
        if isinstance(event, tuple):
            current, data = (event[1], event[2]), b""
        elif event is PART_END:
            assert current is not None
            parts.append((current[0], current[1], data))
            current = None
        else:
            assert isinstance(event, bytes)
            data += event
    assert current is None, "part without PART_END"
    return parts


def encode_multipart(parts: list[tuple[str, str | None, bytes]], boundary: bytes) -> bytes:
    """A valid body: names as RFC 5987 ``name*`` so any text round-trips."""
    out = bytearray()
    for name, filename, data in parts:
        disp = "form-data; name*=utf-8''" + quote(name, safe="")
        if filename is not None:
            disp += "; filename*=utf-8''" + quote(filename, safe="")
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disp.encode("ascii") + b"\r\n\r\n" + data + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return bytes(out)


def _fresh_boundary(parts: list[tuple[str, str | None, bytes]], salt: int) -> bytes:
    boundary = b"fz" + str(salt).encode()
    while any(b"--" + boundary in data for _, _, data in parts):
        boundary += b"Q"
    return boundary


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _run_async(body: bytes, content_type: str, pattern: bytes) -> str:
    chunks = _aiter(_chunks(body, pattern))
    try:
        _fields, files = await parse_multipart(chunks, content_type, MP_LIMITS)
    except (BadRequest, RequestEntityTooLarge) as exc:
        return type(exc).__name__
    finally:
        await chunks.aclose()  # the parser stops reading at the close delimiter
    for _name, upload in files:
        upload.close()
    return "ok"


def check_multipart(data: bytes) -> bool:
    """Only BadRequest/413; the outcome does not depend on chunking; valid parses re-encode exactly.

    Input: byte 0 = charset choice, bytes 1-4 = chunking pattern, rest = body. The
    boundary is the body's first line after ``--`` (or ``xYz``).
    """
    global _LOOP
    if len(data) < 5:
        return False
    charset = CHARSETS[data[0] % len(CHARSETS)]
    pattern, body = data[1:5], data[5:]
    boundary = b"xYz"
    if body.startswith(b"--"):
        line = body[2:].split(b"\n", 1)[0].rstrip(b"\r")
        if 1 <= len(line) <= 70:
            boundary = line
    whole = _run_sansio(boundary, iter((body,)))
    split = _run_sansio(boundary, _chunks(body, pattern))
    assert whole == split, ("chunking changed the outcome", whole, split)
    # The async driver (field decoding with charsets, UploadedFile) on the same body.
    ctype = (
        'multipart/form-data; boundary="' + boundary.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"') + '"'
    )
    if data[0] & 0x80:
        ctype += "; charset=" + charset
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
    _LOOP.run_until_complete(_run_async(body.replace(b"_charset_", charset.encode()), ctype, pattern))
    if whole[0] != "ok":
        return False
    parts = _parts_of(whole[1])
    fresh = _fresh_boundary(parts, data[1])
    # name*= percent-encoding triples the header size: the header limit is not under test here
    again = _run_sansio(fresh, _chunks(encode_multipart(parts, fresh), pattern[::-1]), ROUNDTRIP_LIMITS)
    assert again[0] == "ok", ("re-encoded body refused", again[0])
    assert _parts_of(again[1]) == parts, ("round trip", parts, _parts_of(again[1]))
    return True


def _multipart_seeds() -> list[bytes]:
    seeds = []
    for path in sorted(MULTIPART_DATA.rglob("*.http")):
        body = path.read_bytes()
        seeds.append(b"\x00\x05\x01\x11\x16" + body)
    seeds.append(
        b'\x81\x02\x03\x04\x05--xYz\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n_charset_\r\n'
        b'--xYz\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text/plain; charset=punycode\r\n\r\n'
        b"v\\+\r\n--xYz--\r\n"
    )
    seeds.append(
        b'\x00\x01\x01\x01\x01--b\r\nContent-Disposition: form-data; name="q"\r\nContent-Transfer-Encoding: '
        b'quoted-printable\r\n\r\na=3Db=\r\nc\r\n--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b--\r\n"
    )
    # issue 12: escaped (httpx, aiohttp, email) and old-IE filenames; unterminated quotes
    seeds.append(
        b'\x00\x03\x05\x07\x0b--xYz\r\nContent-Disposition: form-data; name="f"; '
        b'filename="C:\\\\Users\\\\me\\\\doc.txt"\r\n\r\nx\r\n--xYz\r\nContent-Disposition: form-data; '
        b'name="g"; filename="C:\\Documents\\a.txt"\r\n\r\ny\r\n--xYz\r\nContent-Disposition: form-data; '
        b'name="h"; filename="\\\\host\\share\\b.txt"\r\n\r\nz\r\n--xYz--\r\n'
    )
    seeds.append(b'\x00\x01\x02\x03\x04--xYz\r\nContent-Disposition: form-data; name="abc\r\n\r\nv\r\n--xYz--\r\n')
    seeds.append(
        b'\x00\x01\x02\x03\x04--xYz\r\nContent-Disposition: form-data; name="a"; filename="b\\"\r\n\r\nv\r\n--xYz--\r\n'
    )
    return seeds


MULTIPART_TOKENS = [
    b"--",
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n\r\n",
    b"--xYz",
    b"--xYz--",
    b'Content-Disposition: form-data; name="a"',
    b'; filename="f.txt"',
    b"; name*=utf-8''%C3%BC",
    b"Content-Type: text/plain; charset=",
    b"_charset_",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"QUJD",
    b"=\r\n",
    b"=4",
    b'\\"',
    b"\\",
    b" \t",
    b":",
    b"\x00",
    b"\xff",
    b'filename="C:\\dir\\f.png"',
    b"form-data",
    b'filename="C:\\\\Users\\\\f.txt"',
    b"\\\\",
    b'name="unterminated',
]


# ----------------------------------------------------------------------------- urlencoded


def check_urlencoded(data: bytes) -> bool:
    """Only 413 escapes; the result equals the per-field reference; bytes and text agree on
    ASCII; urlencode() output round-trips.

    Input: byte 0 = charset, byte 1 = limits, rest = body (split on NUL for the round trip).
    """
    if len(data) < 2:
        return False
    charset = CHARSETS[data[0] % len(CHARSETS)]
    max_fields = None if data[1] & 1 else data[1] % 16
    max_size = None if data[1] & 2 else data[1] % 64
    body = data[2:]
    outcomes: list[object] = []
    for form in (body, body.decode("latin-1")):
        try:
            pairs = parse_urlencoded(form, charset=charset, max_fields=max_fields, max_field_size=max_size)
        except RequestEntityTooLarge as exc:
            outcomes.append(exc.message)
            continue
        outcomes.append(pairs)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)
    try:
        reference: object = _parse_pairs(body, charset, max_fields, max_size)
    except RequestEntityTooLarge as exc:
        reference = exc.message
    assert outcomes[0] == reference, ("whole-body and per-field decoding differ", outcomes[0], reference)
    if body.isascii():
        text = body.decode("ascii")
        assert parse_urlencoded(body) == parse_urlencoded(text), "bytes and str parse differ"
    items = body.decode("utf-8", "replace").split("\x00")
    expected = list(zip(items[::2], items[1::2], strict=False))
    encoded = urlencode(expected)
    assert parse_urlencoded(encoded.encode()) == expected, ("round trip (bytes)", expected, encoded)
    assert parse_urlencoded(encoded) == expected, ("round trip (str)", expected, encoded)
    return bool(expected)


URLENCODED_SEEDS = [
    b"\x00\x03a=1&b=2&c",
    b"\x01\x03n%C3%A4me=v%C3%A4lue+%26+more",
    b"\x07\x00a=%E9&b=%zz&&=x",
    b"\x00\x03k\x00v\x00k2\x00+%",
    b"\x08\x03a=b",
    b"\x09\x03a=%ff",
    b"\x0a\x03x=%41",
]
URLENCODED_TOKENS = [b"&", b"=", b"+", b"%", b"%2", b"%C3%A4", b"%ff", b"%zz", b"\x00", b"\xc3\xa4", b"&&", b"=="]


# ----------------------------------------------------------------------------- cookies


def check_cookie_header(data: bytes) -> bool:
    """Never raises; names are non-empty, stripped, without ';' or '='."""
    cookies = parse_cookie_header(data.decode("latin-1"))
    for name, value in cookies.items():
        assert isinstance(name, str) and isinstance(value, str)
        assert name and name == name.strip(" \t") and ";" not in name and "=" not in name, name
        assert ";" not in value, value
    return bool(cookies)


COOKIE_SEEDS = [
    b"a=1; b=2",
    b'sid="a\\"b\\\\c\\303\\251"; x=y',
    b"=__Host-sid=x; __Host-sid=real",
    b"a=\xc3\xa9; b=\xff",
    b"a; b=; =c; d=e=f",
    b' q="\\\\\\\\\\\\" ',
]
COOKIE_TOKENS = [b";", b"=", b'"', b"\\", b"\\303", b'\\"', b" ", b"\t", b"\xc3", b"\xa9", b"__Host-", b"\\\\"]


# ----------------------------------------------------------------------------- options header


def _options_roundtrip(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    items = text.split("\x00")
    params: dict[str, str] = {}
    for raw_name, value in zip(items[::2], items[1::2], strict=False):
        name = "".join(c for c in raw_name.lower() if c.isascii() and (c.isalnum() or c in "!#$%&'+-.^_`|~"))
        if not name:
            continue
        params[name] = value
    extended = bool(data[:1]) and data[0] & 1
    pieces = ["form-data"]
    for name, value in params.items():
        if extended:
            pieces.append(f"{name}*=utf-8''{quote(value, safe='')}")
        else:
            pieces.append(f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    header = "; ".join(pieces)
    assert parse_options_header(header) == ("form-data", params), ("round trip", header, params)


def check_options_header(data: bytes) -> bool:
    """Never raises; returns str -> str; quoted and RFC 5987 parameters round-trip.

    ``strict=True`` raises only ValueError (an unterminated quote), else agrees with lenient.
    """
    for text in (data.decode("latin-1"), data.decode("utf-8", "replace")):
        base, params = parse_options_header(text)
        assert isinstance(base, str)
        for name, value in params.items():
            assert isinstance(name, str) and isinstance(value, str)
            assert ";" not in name and "=" not in name, name
        try:
            strict = parse_options_header(text, strict=True)
        except ValueError:
            pass
        else:
            assert strict == (base, params), ("strict and lenient disagree", text)
    _options_roundtrip(data)
    return bool(params)


OPTIONS_SEEDS = [
    b'form-data; name="a"; filename="b.txt"',
    b"text/html; charset=UTF-8",
    b"attachment; filename*=utf-8''%C3%A4.txt",
    b'form-data; name="a\\"b"; filename="C:\\dir\\f.png"',
    b'a/b; x; y=; =z; q="unterminated',
    b"x; name*=punycode''%2B; name*=idna''%ff",
    b"x; a*=undefined''b",
    b'form-data; name="f"; filename="C:\\\\Users\\\\me\\\\doc.txt"',
    b'form-data; filename="\\\\host\\share\\a"',
    b'form-data; name="abc',
    b'form-data; name="a"; filename="b\\"',
    b'\x00filename\x00C:\\Users\\doc.txt\x00name\x00a"b',
]
OPTIONS_TOKENS = [
    b";",
    b"=",
    b'"',
    b"\\",
    b"*=",
    b"''",
    b"utf-8''",
    b"punycode''",
    b"idna''",
    b"undefined''",
    b"%",
    b"%ff",
    b'filename="',
    b"name=",
    b"\x00",
    b"C:\\",
]


# ----------------------------------------------------------------------------- Set-Cookie


_ATTRIBUTES = ("Expires=", "Max-Age=", "Domain=", "Path=", "Secure", "HttpOnly", "SameSite=", "Partitioned")
_SAMESITES = ("Lax", "Strict", "None", None, "lax", "bogus")


def check_set_cookie(data: bytes) -> bool:
    """Either ValueError or a header without CR/LF/NUL whose pair parses back exactly."""
    if len(data) < 2:
        return False
    flags, age = data[0], data[1]
    fields = [*data[2:].decode("utf-8", "surrogateescape" if flags & 0x40 else "replace").split("\x00"), "", "", "", ""]
    name, value, path, domain = fields[:4]
    try:
        header = dump_set_cookie(
            name,
            value,
            max_age=None if flags & 1 else age - 128,
            path=None if flags & 2 else path,
            domain=domain if flags & 4 else None,
            secure=bool(flags & 8),
            http_only=bool(flags & 16),
            expires=fields[4] if flags & 32 else None,
            samesite=_SAMESITES[age % len(_SAMESITES)],
            partitioned=bool(flags & 0x80),
        )
    except ValueError:
        return False
    assert not any(c in header for c in "\r\n\x00"), header
    header.encode("latin-1")  # must be sendable
    pair, *attributes = header.split("; ")
    assert parse_cookie_header(pair) == {name: value}, (name, value, header)
    assert parse_cookie_header(header)[name] == value, header
    for attribute in attributes:
        assert attribute.startswith(_ATTRIBUTES), ("injected attribute", attribute, header)
    return True


SET_COOKIE_SEEDS = [
    b"\x00\x80sid\x00abc\x00/\x00example.com",
    b'\x08\x00__Host-x\x00v\xc3\xa9"\\\x00/',
    b"\x2c\x10n\x00v\x00/p\x00d\x00Wed",
    b"\x48\x00n\x00\xed\xa0\x80",
]
SET_COOKIE_TOKENS = [
    b"\x00",
    b";",
    b"\r\n",
    b'"',
    b"\\",
    b"__Host-",
    b"__Secure-",
    b"/",
    b"\xc3\xa9",
    b"\x7f",
    b" ",
    b",",
]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("router", check_router, ROUTER_SEEDS, ROUTER_TOKENS),
        Target("multipart", check_multipart, _multipart_seeds(), MULTIPART_TOKENS, max_len=4096),
        Target("urlencoded", check_urlencoded, URLENCODED_SEEDS, URLENCODED_TOKENS),
        Target("cookie_header", check_cookie_header, COOKIE_SEEDS, COOKIE_TOKENS, max_len=4096),
        Target("options_header", check_options_header, OPTIONS_SEEDS, OPTIONS_TOKENS),
        Target("set_cookie", check_set_cookie, SET_COOKIE_SEEDS, SET_COOKIE_TOKENS),
    )
}
