"""application/x-www-form-urlencoded decoding (SPEC §5)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from patera._urlencoded import parse_urlencoded, to_multidict
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
