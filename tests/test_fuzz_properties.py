"""Property tests for the pure parsers (hardening issue): the error contract and round trips.

What the other suites already cover is not repeated here: Werkzeug differential paths
(test_router_werkzeug), sans-I/O fragment fuzzing and chunking invariance
(test_multipart), cookie dump/parse round trip and parser robustness (test_cookies).
This file adds rule-grammar fuzzing, build/match round trips, the async multipart
driver with client-named charsets, exact multipart round trips from generated parts,
urlencoded and ``parse_options_header`` properties, and Set-Cookie attributes.
The long run lives in ``fuzz/run.py``.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import math
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from patera._cookies import dump_set_cookie, parse_cookie_header
from patera._header_params import parse_options_header
from patera._limits import BodyLimits
from patera._multipart import PART_END, MultipartParser, Part
from patera._multipart_stream import parse_multipart
from patera._router import RequestRedirect, Router
from patera._urlencoded import parse_urlencoded
from patera.exceptions import BadRequest, DuplicateRoutePath, MethodNotAllowed, NotFound, RequestEntityTooLarge

FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
ROUTING_ERRORS = (NotFound, MethodNotAllowed, RequestRedirect)
# Charsets a client can name: some refuse input or the "replace" handler (idna, punycode,
# undefined), some are not text codecs (base64, rot13), some do not exist.
CHARSETS = (
    "utf-8", "latin-1", "utf-16", "utf-7", "cp1252", "idna", "punycode", "undefined", "base64", "rot13",
    "unicode_escape", "no-such-codec", "utf-8\x00", "",
)

# ----------------------------------------------------------------------------- router: rule grammar

_CONVERTERS = st.sampled_from(["", "default", "string", "int", "float", "uuid", "any", "path", "nope", "Int"])
_ARG_KEYS = st.sampled_from(["minlength", "maxlength", "length", "fixed_digits", "min", "max", "signed", "x", ""])
_ARG_VALUES = st.one_of(
    st.integers(-5, 12).map(str),
    st.sampled_from(["True", "False", "None", "1.5", "-0.5", "1e3", "4294967296", "99999999999", "2**8", ""]),
    st.text("ab c,'\"/()=\\", max_size=5).map(lambda s: f'"{s}"'),
    st.text("ab c,'\"/()=\\", max_size=5).map(lambda s: f"'{s}'"),
    st.text("ab c,'\"/()=<>", max_size=4),
)
_ARG = st.one_of(_ARG_VALUES, st.tuples(_ARG_KEYS, _ARG_VALUES).map(lambda kv: f"{kv[0]}={kv[1]}"))
_ARGS = st.one_of(st.none(), st.lists(_ARG, max_size=4).map(", ".join))
_VAR_NAMES = st.sampled_from(["a", "b", "_x", "a1", "1a", "", "a-b", "é"])


@st.composite
def _variables(draw: st.DrawFn) -> str:
    conv, args, name = draw(_CONVERTERS), draw(_ARGS), draw(_VAR_NAMES)
    head = conv + (f"({args})" if args is not None else "")
    return f"<{head}:{name}>" if head else f"<{name}>"


_RULE_PIECES = st.one_of(
    _variables(), st.sampled_from(["/", "/", "//", "x", "users", ".json", "é", "%2F", "<", ">", "(", ")", ":", " "])
)
_RULES = st.lists(_RULE_PIECES, max_size=8).map("".join).map(lambda r: r if r.startswith("/") else "/" + r)


@FAST
@given(st.lists(_RULES, min_size=1, max_size=4), st.booleans(), st.booleans(), st.text(max_size=20))
@example(["/<string(length=99999999999):x>"], False, True, "/a")
@example(["/<string(minlength=4294967296):x>"], False, True, "/a")
@example(["/a" * 2000], False, True, "/a" * 2000)
def test_any_rule_string_registers_or_raises_value_error(
    rules: list[str], strict: bool, merge: bool, path: str
) -> None:
    router = Router(strict_slashes=strict, merge_slashes=merge)
    for i, rule in enumerate(rules):
        with contextlib.suppress(ValueError, DuplicateRoutePath):
            router.add(rule, ["GET"], f"e{i}", f"e{i}")
    for candidate in (path, "/" + path, "/a", "/x/1", "/users/é/1.5"):
        try:
            endpoint, values = router.match(candidate, "GET")
        except ROUTING_ERRORS:
            continue
        router.build(str(endpoint), values)  # values a rule matched always build
    router.allowed_methods(path)


def test_deep_rule_is_refused_at_registration() -> None:
    router = Router()
    router.add("/a" * 128, ["GET"], "ok", "ok")
    with pytest.raises(ValueError, match="more than 128 segments"):
        router.add("/b" * 129, ["GET"], "deep", "deep")
    assert router.match("/a" * 128, "GET")[0] == "ok"


# Valid by construction: one variable or static word per segment, unique names.
_VALID_SEGMENTS: dict[str, Any] = {
    "static": st.text("abcxyz019-._~", min_size=1, max_size=6).map(lambda s: (s, None)),
    "default": st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1, max_size=6),
    "string(length=3)": st.text(
        st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=3, max_size=3
    ),
    "int": st.integers(0, 10**12),
    "int(signed=True)": st.integers(-(10**6), 10**6),
    "int(fixed_digits=4)": st.integers(0, 9999),
    "int(min=5, max=50)": st.integers(5, 50),
    "float": st.floats(0, 1e30, allow_nan=False, allow_infinity=False),
    "float(signed=True)": st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    "uuid": st.uuids(),
    "any(a, 'b c', \"\u00fc\", '%41')": st.sampled_from(["a", "b c", "\u00fc", "%41"]),
}


@st.composite
def _valid_rule_and_values(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(sorted(_VALID_SEGMENTS)), min_size=1, max_size=5))
    rule, values = "", {}
    for i, kind in enumerate(kinds):
        if kind == "static":
            rule += "/" + draw(_VALID_SEGMENTS[kind])[0]
        else:
            name = f"v{i}"
            rule += f"/<{kind}:{name}>" if kind != "default" else f"/<{name}>"
            values[name] = draw(_VALID_SEGMENTS[kind])
    if draw(st.booleans()):
        rule += "/<path:rest>"
        values["rest"] = draw(
            st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(
                lambda s: not s.startswith("/") and "//" not in s and not s.endswith("/")
            )
        )
    return rule, values


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        type(a[k]) is type(b[k]) and (a[k] == b[k] or (isinstance(a[k], float) and math.isclose(a[k], b[k]))) for k in a
    )


@FAST
@given(_valid_rule_and_values(), st.booleans())
def test_valid_rules_register_and_build_match_round_trips(case: tuple[str, dict[str, Any]], strict: bool) -> None:
    rule, values = case
    router = Router(strict_slashes=strict)
    router.add(rule, ["GET"], "ep", "ep")
    url = router.build("ep", values)
    endpoint, matched = router.match(unquote(url), "GET")
    assert endpoint == "ep"
    assert _same(matched, values), (rule, url, values, matched)
    assert router.build("ep", matched) == url


_RULESET = (
    "/",
    "/users/",
    "/users/<int:user_id>",
    "/users/<int:user_id>/files/<path:rest>",
    "/n/<int(signed=True):n>",
    "/fixed/<int(fixed_digits=4):n>",
    "/range/<int(min=1, max=999):n>",
    "/f/<float:x>",
    "/u/<uuid:id>",
    "/any/<any(a, 'b c', \"\u00fc\"):kind>",
    "/s/<string(minlength=2, maxlength=5):s>",
    "/pre<name>suf/end",
    "/docs/<path:p>/edit",
    "/a/<x>/<y>",
    "/tail/<path:p>/",
    "/<path:catchall>",
)
_PATHS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "/",
                "//",
                "users",
                "files",
                "n",
                "fixed",
                "range",
                "f",
                "u",
                "any",
                "s",
                "docs",
                "edit",
                "a",
                "tail",
                "pre",
                "suf",
                "end",
                "-",
                ".",
                "0",
                "12",
                "1.5",
                "0012",
                "\u00fc",
                "b c",
                "%41",
                "\n",
            ]
        ),
        st.uuids().map(str),
        st.text(max_size=3),
    ),
    max_size=10,
).map("".join)


@pytest.fixture(
    scope="module", params=[(False, True), (True, True), (False, False)], ids=["lenient", "strict", "nomerge"]
)
def ruleset_router(request: pytest.FixtureRequest) -> Router:
    strict, merge = request.param
    router = Router(strict_slashes=strict, merge_slashes=merge)
    for i, rule in enumerate(_RULESET):
        router.add(rule, ["GET", "POST"], f"r{i}", f"r{i}")
    return router


def test_random_paths_raise_only_routing_errors_and_round_trip(ruleset_router: Router) -> None:
    @FAST
    @given(_PATHS, st.sampled_from(["GET", "POST", "PUT", "HEAD"]))
    @example("/n/-0", "GET")
    @example("/f/" + "9" * 400 + ".0", "GET")
    @example("/users/" + "1" * 5000, "GET")
    def check(path: str, method: str) -> None:
        ruleset_router.allowed_methods(path)
        try:
            endpoint, values = ruleset_router.match(path, method)
        except ROUTING_ERRORS:
            return
        built = ruleset_router.build(str(endpoint), values)
        again, values2 = ruleset_router.match(unquote(built), method)
        assert again == endpoint and _same(values, values2), (path, built, values, values2)

    check()


# ----------------------------------------------------------------------------- multipart

LIMITS = BodyLimits(max_form_fields=20, max_form_files=20, max_part_header_size=512, max_form_memory_size=4096)
ROOMY = BodyLimits(max_part_header_size=1 << 20, max_form_memory_size=1 << 20)
_BCHARS = "abcdefXYZ0123456789'()+_,-./:=? "
_NAMES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)


def _chunked(body: bytes, sizes: list[int]) -> Iterator[bytes]:
    i, k = 0, 0
    while i < len(body):
        n = sizes[k % len(sizes)] if sizes else len(body)
        yield body[i : i + n]
        i, k = i + n, k + 1


def _sansio_parts(boundary: bytes, chunks: Iterator[bytes]) -> list[tuple[str, str | None, bytes]]:
    parser = MultipartParser(boundary, ROOMY)
    parts: list[tuple[str, str | None, bytes]] = []
    part: Part | None = None
    data: list[bytes] = []
    for chunk in chunks:
        for event in parser.feed(chunk):
            if isinstance(event, Part):
                part, data = event, []
            elif event is PART_END:
                assert part is not None
                parts.append((part.name, part.filename, b"".join(data)))
            else:
                assert isinstance(event, bytes)
                data.append(event)
    parser.close()
    return parts


def _encode(parts: list[tuple[str, str | None, bytes]], boundary: bytes, plain_names: bool) -> bytes:
    out = bytearray()
    for name, filename, data in parts:
        if plain_names:
            disposition = 'form-data; name="' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            disposition = "form-data; name*=utf-8''" + quote(name, safe="")
        if filename is not None:
            disposition += "; filename*=utf-8''" + quote(filename, safe="")
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n" + data + b"\r\n"
    return bytes(out + b"--" + boundary + b"--\r\n")


_CONTENT = st.lists(
    st.one_of(st.binary(max_size=20), st.sampled_from([b"\r\n", b"\r", b"\n", b"--", b"\r\n--", b"=", b"\r\n\r\n"])),
    max_size=8,
).map(b"".join)


@FAST
@given(
    st.lists(st.tuples(_NAMES, st.one_of(st.none(), _NAMES), _CONTENT), max_size=5),
    st.text(_BCHARS, min_size=1, max_size=70).filter(lambda b: not b.endswith(" ")),
    st.lists(st.integers(1, 40), max_size=5),
    st.booleans(),
)
def test_generated_bodies_round_trip_exactly_for_any_chunking(
    parts: list[tuple[str, str | None, bytes]], boundary_text: str, sizes: list[int], plain_names: bool
) -> None:
    boundary = boundary_text.encode()
    assume(all(b"\n--" + boundary not in data for _, _, data in parts))
    if plain_names:
        parts = [(name.replace("\r", "").replace("\n", ""), filename, data) for name, filename, data in parts]
    body = _encode(parts, boundary, plain_names)
    assert _sansio_parts(boundary, iter((body,))) == parts
    assert _sansio_parts(boundary, _chunked(body, sizes)) == parts


_QP_FRAGMENTS = st.lists(
    st.sampled_from([b"=", b"==", b"\r", b"\n", b"=\r\n", b"=4", b"1", b"A", b"f", b"x", b" ", b"\x00"]), max_size=30
)


@FAST
@given(_QP_FRAGMENTS, st.lists(st.integers(1, 7), min_size=1, max_size=4))
@example([b"a", b"=", b"\r", b"\x00", b"\n", b"c"], [2])  # fuzz finding: "=" CR junk LF split across chunks
@example([b"=", b"=", b"=", b"4", b"1"], [2])
def test_quoted_printable_content_is_independent_of_chunking(fragments: list[bytes], sizes: list[int]) -> None:
    content = b"".join(fragments)
    body = (
        b'--xYz\r\nContent-Disposition: form-data; name="q"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        + content
        + b"\r\n--xYz--\r\n"
    )
    whole = _sansio_parts(b"xYz", iter((body,)))
    assert whole == [("q", None, binascii.a2b_qp(content))]
    assert _sansio_parts(b"xYz", _chunked(body, sizes)) == whole


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


_MP_FRAGMENTS = st.sampled_from(
    [
        b"--xYz\r\n",
        b"--xYz--\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b'Content-Disposition: form-data; name="a"\r\n',
        b'Content-Disposition: form-data; name="_charset_"\r\n',
        b"Content-Disposition: form-data; name*=punycode''%2B\r\n",
        b'Content-Disposition: form-data; name="f"; filename="f"\r\n',
        b"Content-Type: text/plain; charset=punycode\r\n",
        b"Content-Type: text/plain; charset=undefined\r\n",
        b'Content-Type: text/plain; charset="idna"\r\n',
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"punycode",
        b"undefined",
        b"base64",
        b"\\+",
        b"QUJD",
        b"=4",
        b"x",
        b"\x00",
        b"\xff\xfe",
    ]
)


@FAST
@given(st.lists(_MP_FRAGMENTS, max_size=30), st.sampled_from(CHARSETS), st.lists(st.integers(1, 17), max_size=3))
@example(
    [
        b"--xYz\r\n",
        b'Content-Disposition: form-data; name="a"\r\n',
        b"Content-Type: text/plain; charset=punycode\r\n",
        b"\r\n",
        b"\\+",
        b"\r\n",
        b"--xYz--\r\n",
    ],
    "utf-8",
    [],
)
@example(
    [
        b"--xYz\r\n",
        b'Content-Disposition: form-data; name="_charset_"\r\n',
        b"\r\n",
        b"undefined",
        b"\r\n",
        b"--xYz\r\n",
        b'Content-Disposition: form-data; name="a"\r\n',
        b"\r\n",
        b"\xff",
        b"\r\n",
        b"--xYz--\r\n",
    ],
    "utf-8",
    [],
)
def test_async_driver_raises_only_400_or_413(fragments: list[bytes], charset: str, sizes: list[int]) -> None:
    body = b"".join(fragments)
    content_type = f"multipart/form-data; boundary=xYz; charset={charset}"

    async def run() -> None:
        chunks = _aiter(_chunked(body, sizes))
        try:
            fields, files = await parse_multipart(chunks, content_type, LIMITS)
        except (BadRequest, RequestEntityTooLarge):
            return
        finally:
            await chunks.aclose()
        assert all(isinstance(name, str) and isinstance(value, str) for name, value in fields)
        for _name, upload in files:
            upload.close()

    asyncio.run(run())


# ----------------------------------------------------------------------------- urlencoded


@FAST
@given(
    st.binary(max_size=80)
    | st.lists(st.sampled_from([b"a", b"=", b"&", b"+", b"%", b"%e9", b"%zz", b"\xff", b"%2"]), max_size=20).map(
        b"".join
    ),
    st.sampled_from(CHARSETS),
    st.one_of(st.none(), st.integers(0, 5)),
    st.one_of(st.none(), st.integers(0, 10)),
)
@example(b"a=%ff", "undefined", None, None)
@example(b"a=%41", "base64", None, None)
@example(b"a=b", "idna", None, None)
@example(b"\xb9a=b", "punycode", None, None)
@example(b"a=b", "utf-8\x00", None, None)
@example(b"a=%dzf-e91u", "punycode", None, 1)  # decodes to a lone surrogate: the size check must not raise
def test_urlencoded_raises_only_413(data: bytes, charset: str, max_fields: int | None, max_size: int | None) -> None:
    for form in (data, data.decode("latin-1")):
        try:
            pairs = parse_urlencoded(form, charset=charset, max_fields=max_fields, max_field_size=max_size)
        except RequestEntityTooLarge:
            continue
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)
    if data.isascii():
        assert parse_urlencoded(data) == parse_urlencoded(data.decode("ascii"))


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@FAST
@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=8))
def test_stdlib_urlencode_round_trips(pairs: list[tuple[str, str]]) -> None:
    encoded = urlencode(pairs)
    assert parse_urlencoded(encoded.encode()) == pairs
    assert parse_urlencoded(encoded) == pairs


# ----------------------------------------------------------------------------- cookies


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.text(' \t;="\\0137aé', min_size=1, max_size=6))
def test_cookie_parser_is_linear_on_repeated_fragments(fragment: str) -> None:
    header = fragment * (200_000 // len(fragment))
    start = time.perf_counter()
    parse_cookie_header(header)
    parse_cookie_header('a="' + header)
    assert time.perf_counter() - start < 2.0  # ~10 ms in practice; quadratic would be minutes


_ATTRIBUTES = ("Expires=", "Max-Age=", "Domain=", "Path=", "Secure", "HttpOnly", "SameSite=", "Partitioned")


@FAST
@given(
    name=st.one_of(st.text(max_size=8), st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,8}", fullmatch=True)),
    value=st.text(max_size=16),
    path=st.one_of(st.none(), st.text(max_size=8)),
    domain=st.one_of(st.none(), st.text(max_size=8)),
    expires=st.one_of(st.none(), st.text(max_size=8), st.integers(-(10**12), 10**12)),
    max_age=st.one_of(st.none(), st.integers(-(10**9), 10**9)),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    samesite=st.sampled_from(["Lax", "strict", "None", None, "bogus"]),
)
@example(
    name="a",
    value="x\r\nSet-Cookie: evil=1",
    path="/",
    domain=None,
    expires=None,
    max_age=None,
    flags=(False, True, False),
    samesite="Lax",
)
@example(
    name="a",
    value="v",
    path="/\r\nX: y",
    domain="d\x00",
    expires="Wed\n",
    max_age=None,
    flags=(True, True, False),
    samesite="Lax",
)
def test_set_cookie_is_clean_or_refused(
    name: str,
    value: str,
    path: str | None,
    domain: str | None,
    expires: str | int | None,
    max_age: int | None,
    flags: tuple[bool, bool, bool],
    samesite: str | None,
) -> None:
    secure, http_only, partitioned = flags
    try:
        header = dump_set_cookie(
            name,
            value,
            max_age,
            path,
            domain,
            secure,
            http_only,
            expires=expires,
            samesite=samesite,
            partitioned=partitioned,
        )
    except ValueError:
        return
    assert not any(c in header for c in "\r\n\x00"), header
    header.encode("latin-1")
    pair, *attributes = header.split("; ")
    assert parse_cookie_header(pair) == {name: value}
    assert parse_cookie_header(header)[name] == value
    assert all(attribute.startswith(_ATTRIBUTES) for attribute in attributes), header


# ----------------------------------------------------------------------------- parse_options_header


@FAST
@given(
    st.text(max_size=60)
    | st.lists(
        st.sampled_from(
            [
                "a/b",
                ";",
                "=",
                '"',
                "\\",
                "*",
                "''",
                "utf-8''",
                "punycode''",
                "idna''",
                "undefined''",
                "%",
                "%ff",
                "%2B",
                " ",
                "name",
                "filename",
                "C:\\",
                "\x00",
            ]
        ),
        max_size=20,
    ).map("".join)
)
@example("x; name*=punycode''%2B")
@example("x; name*=undefined''b")
@example("x; name*=utf-8\x00''b")
def test_options_header_never_raises(value: str) -> None:
    base, params = parse_options_header(value)
    assert isinstance(base, str)
    for key, item in params.items():
        assert isinstance(key, str) and isinstance(item, str) and ";" not in key and "=" not in key


_PARAM_NAMES = st.text("abcxyz019-_.!#$&+^`|~", min_size=1, max_size=6).filter(lambda n: n != "filename")


@FAST
@given(
    st.dictionaries(_PARAM_NAMES, _TEXT, max_size=5), st.booleans(), st.sampled_from(["form-data", "Text/HTML", "a/b"])
)
def test_options_header_round_trips(params: dict[str, str], extended: bool, base: str) -> None:
    pieces = [base]
    for name, value in params.items():
        if extended:
            pieces.append(f"{name}*=utf-8''{quote(value, safe='')}")
        else:
            pieces.append(f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    assert parse_options_header("; ".join(pieces)) == (base.lower(), params)


def test_uuid_values_are_canonical_after_round_trip() -> None:
    router = Router()
    router.add("/u/<uuid:u>", ["GET"], "u", "u")
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert router.match(router.build("u", {"u": value}).upper().replace("/U/", "/u/"), "GET")[1] == {"u": value}
