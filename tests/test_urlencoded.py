"""application/x-www-form-urlencoded decoding (SPEC §5)."""

from __future__ import annotations

import codecs
import re
import time
from collections.abc import Callable
from urllib.parse import unquote_to_bytes, urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from patera._urlencoded import (
    _LOCAL_CODECS,
    _parse_pairs,
    _parse_whole,
    _unquote_all,
    parse_urlencoded,
    to_multidict,
)
from patera.exceptions import RequestEntityTooLarge


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "str"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a=1&b=2", [("a", "1"), ("b", "2")]),
        ("a=1&&b=2&", [("a", "1"), ("b", "2")]),
        ("&&&", []),
        ("", []),
        ("flag&empty=&x", [("flag", ""), ("empty", ""), ("x", "")]),
        ("eq=a=b=c", [("eq", "a=b=c")]),
        ("sp=a+b%20c&plus=%2B", [("sp", "a b c"), ("plus", "+")]),
        ("k%20ey+x=v", [("k ey x", "v")]),
        ("euro=%E2%82%AC&name=J%C3%BCrgen", [("euro", "€"), ("name", "Jürgen")]),
        ("bad=%zz%4&pct=100%", [("bad", "%zz%4"), ("pct", "100%")]),
        ("invalid=%FF%FE", [("invalid", "\ufffd\ufffd")]),
        ("semi=a;b", [("semi", "a;b")]),
        ("a=1&a=2&a=", [("a", "1"), ("a", "2"), ("a", "")]),
    ],
)
def test_rules(raw: str, expected: list[tuple[str, str]], as_text: bool) -> None:
    assert parse_urlencoded(raw if as_text else raw.encode()) == expected


def test_raw_utf8_bytes_and_charset() -> None:
    assert parse_urlencoded("ä=ö".encode()) == [("ä", "ö")]
    assert parse_urlencoded(b"a=%E9t%E9", charset="latin-1") == [("a", "été")]
    assert parse_urlencoded(b"a=%E9", charset="no-such-codec") == [("a", "\ufffd")]
    assert parse_urlencoded(b"a=\xff") == [("a", "\ufffd")]


def test_roundtrip_with_stdlib_encoder() -> None:
    pairs = [("näme", "välue & more = yes"), ("x", " +%/?#"), ("empty", ""), ("x", "2")]
    assert parse_urlencoded(urlencode(pairs).encode()) == pairs


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "str"])
def test_field_count_limit(as_text: bool) -> None:
    data = "&".join(f"f{i}=v" for i in range(11)) + "&&&"
    body = data if as_text else data.encode()
    assert len(parse_urlencoded(body, max_fields=11)) == 11
    with pytest.raises(RequestEntityTooLarge, match=r"^Too many form fields$") as info:
        parse_urlencoded(body, max_fields=10)
    assert info.value.status_code == 413


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "str"])
def test_field_size_limit(as_text: bool) -> None:
    data = "a=" + "x" * 10 + "&b=" + "%41" * 10
    body = data if as_text else data.encode()
    assert parse_urlencoded(body, max_field_size=10) == [("a", "x" * 10), ("b", "A" * 10)]  # decoded size counts
    with pytest.raises(RequestEntityTooLarge, match=r"^Form field too large$"):
        parse_urlencoded(body, max_field_size=9)


def test_many_fields_stop_early_and_fast() -> None:
    body = b"&".join(b"f%d=value" % i for i in range(100_000))
    start = time.perf_counter()
    with pytest.raises(RequestEntityTooLarge):
        parse_urlencoded(body, max_fields=1000)
    pairs = parse_urlencoded(body)
    assert len(pairs) == 100_000
    assert time.perf_counter() - start < 5  # generous: shared CI machines


def test_to_multidict() -> None:
    pairs = [("a", "1"), ("b", "2"), ("a", "3"), ("c", ""), ("a", "4")]
    assert to_multidict(pairs) == {"a": ["1", "3", "4"], "b": "2", "c": ""}
    assert list(to_multidict(pairs)) == ["a", "b", "c"]
    assert to_multidict([]) == {}
    # values that are lists themselves are not confused with repeats
    assert to_multidict([("x", [1])]) == {"x": [1]}
    assert to_multidict([("x", [1]), ("x", [2])]) == {"x": [[1], [2]]}


# --------------------------------------------------------------- whole-body fast path


def _outcome(parse: Callable[[], list[tuple[str, str]] | None]) -> object:
    try:
        return parse()
    except RequestEntityTooLarge as exc:
        return ("413", exc.message)


_PIECES = [
    b"a", b"b", b"&", b"=", b"+", b"%", b"%2", b"%26", b"%3D", b"%3d", b"%25", b"%41", b"%7e", b"%C3%A4", b"%c3",
    b"%ff", b"%e2%82", b"%ED%A0%80", b"%zz", b"\xc3\xa4", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xff", b"\x80",
    b"\xed\xa0\x80", b"\xe2\x82\xac", b"\xef\xbf\xbd", b"%EF%BF%BD", b"%2B", b"AGE", b"-", b"\x81", b"%1b$B",
    b"\\", b"\\x4", b"%5C", b"%5cx41", b"\\%41", b"%00", b"\x00",
]
_BODIES = st.binary(max_size=60) | st.lists(st.sampled_from(_PIECES), max_size=24).map(b"".join)
_CHARSETS = [
    "utf-8", "latin-1", "ascii", "cp1252", "iso8859-7", "iso8859-15",  # decoded whole
    "utf-16", "shift_jis", "utf-7", "iso2022_jp", "punycode",  # decoded per field
]
_LIMIT = st.one_of(st.none(), st.integers(0, 12))
_DIFFERENTIAL = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@_DIFFERENTIAL
@given(_BODIES, st.sampled_from(_CHARSETS), _LIMIT, _LIMIT)
@example(b"a=\xe2\x82&b=\xc3=c", "utf-8", None, None)  # incomplete sequences before separators
@example(b"a=%e2%82&%c3=%ff%fe", "utf-8", None, None)
@example(b"k=\xc3\xa4\xc3\xa4&x", "utf-8", None, 3)  # 4 bytes, 2 characters: over a limit of 3
@example(b"k=\xff\xff\xff\xff", "utf-8", None, 3)  # 4 invalid bytes, 4 U+FFFD: over
@example(b"k=\xe2\x82\xe2\x82", "utf-8", None, 3)  # 4 invalid bytes, 2 U+FFFD: undecidable from the text
@example(b"a=1&b=2&c=3", "utf-8", 2, 1)  # count and size both crossed: the earlier pair decides
@example(b"a=12&b=2&c=3", "utf-8", 2, 1)
def test_fast_path_equals_per_field_path(
    data: bytes, charset: str, max_fields: int | None, max_size: int | None
) -> None:
    """The whole-body decode gives exactly the per-field result, limits and messages included."""
    reference = _outcome(lambda: _parse_pairs(data, charset, max_fields, max_size))
    parsed = _outcome(lambda: parse_urlencoded(data, charset=charset, max_fields=max_fields, max_field_size=max_size))
    assert parsed == reference
    codec = codecs.lookup(charset).name
    if codec in _LOCAL_CODECS and not re.search(rb"%(26|3[dD])", data):
        fast = _outcome(lambda: _parse_whole(data, codec, max_fields, max_size))
        assert fast is None or fast == reference


@_DIFFERENTIAL
@given(_BODIES)
@example(b"\\%41\\x41\\\\%5c%5C\\")
@example(b"%41%%41%4")
def test_unquote_all_equals_stdlib(data: bytes) -> None:
    assert _unquote_all(data) == unquote_to_bytes(data)


@pytest.mark.parametrize("codec", sorted(_LOCAL_CODECS - {"utf-8"}))
def test_local_codecs_decode_one_character_per_byte(codec: str) -> None:
    """What the fast path relies on: ``&``/``=`` only from themselves, no surrogates, 1 byte = 1 character."""
    text = bytes(range(256)).decode(codec, "replace")
    assert codecs.lookup(codec).name == codec
    assert len(text) == 256
    assert text.index("&") == 0x26 and text.count("&") == 1
    assert text.index("=") == 0x3D and text.count("=") == 1
    assert text.encode("utf-8")  # no lone surrogates


_LEADS = (0xC3, 0xE2, 0xF0, 0xED, 0xFF, 0x80)


@pytest.mark.parametrize("head", [bytes([a, b]) for a in _LEADS for b in (0x82, 0x9F, 0xA0, 0x41)])
@pytest.mark.parametrize("tail", [b"", b"\x80", b"\xbf", b"\xa4x", b"\x82\xac"])
def test_utf8_decoding_is_local_at_separators(head: bytes, tail: bytes) -> None:
    """An ASCII separator ends any (in)complete UTF-8 sequence: decoding joined bytes = joining decoded pieces."""
    for sep in (b"&", b"="):
        joined = (head + sep + tail).decode("utf-8", "replace")
        assert joined == head.decode("utf-8", "replace") + sep.decode() + tail.decode("utf-8", "replace")


def test_to_multidict_accepts_any_iterable_and_keeps_first_order() -> None:
    assert to_multidict(iter([("b", 1), ("a", 2), ("b", 3)])) == {"b": [1, 3], "a": 2}
    assert list(to_multidict([("b", 1), ("a", 2), ("b", 3), ("c", 4), ("b", 5)])) == ["b", "a", "c"]
    assert to_multidict([]) == {}
