"""Tests for patera._cookies (SPEC §6): parsing, serialising, refusals and hostile input."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_cookie as werkzeug_parse_cookie

from patera._cookies import dump_delete_cookie, dump_set_cookie, http_date, parse_cookie_header

# --------------------------------------------------------------------------- SPEC 6.1 parsing


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2;", {"a": "1", "b": "2"}),
        ('a="x y"', {"a": "x y"}),
        ('a="q\\"x"', {"a": 'q"x'}),
        ("garbage; a=1", {"a": "1"}),
        ("=v; a=1", {"a": "1"}),
        ("a=1; a=2", {"a": "1"}),
        ("a=b=c", {"a": "b=c"}),
        ("a=", {"a": ""}),
        ("", {}),
    ],
    ids=[
        "two-pairs",
        "no-space-trailing-semicolon",
        "quoted-space",
        "quoted-escaped-dquote",
        "garbage-skipped",
        "empty-name-skipped",
        "first-wins",
        "split-at-first-equals",
        "empty-value",
        "empty-header",
    ],
)
def test_spec_parse_examples(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1;\tb=2 ;  c=3\t", {"a": "1", "b": "2", "c": "3"}),
        (" a = 1 ", {"a": "1"}),
        ("token=abc.def-ghi_jkl~", {"token": "abc.def-ghi_jkl~"}),
        ("jwt=eyJhbGciOi.eyJzdWIi.c2ln==", {"jwt": "eyJhbGciOi.eyJzdWIi.c2ln=="}),
        ('prefs={"theme":"dark","n":[1,2]}', {"prefs": '{"theme":"dark","n":[1,2]}'}),
        ('prefs="{\\"theme\\": \\"dark\\"}"', {"prefs": '{"theme": "dark"}'}),
        ("a=%20x%3B", {"a": "%20x%3B"}),
        ("a=x\\y", {"a": "x\\y"}),
        ('a="x\\\\y"', {"a": "x\\y"}),
        ('a="\\101\\102"', {"a": "AB"}),
        ('a="x\\ny"', {"a": "x\\ny"}),
        ('a="x\\', {"a": '"x\\'}),
        ('a="x"y"', {"a": 'x"y'}),
        ('a="', {"a": '"'}),
        ('a=""', {"a": ""}),
        ('a="unterminated; b=2', {"a": '"unterminated', "b": "2"}),
        ("a=1; ; ;b=2", {"a": "1", "b": "2"}),
        ("A=1; a=2", {"A": "1", "a": "2"}),
        ("a=1,b=2", {"a": "1,b=2"}),
    ],
    ids=[
        "tabs-and-spaces-trimmed",
        "spaces-around-equals",
        "token-punctuation",
        "base64-padding",
        "json-raw",
        "json-quoted",
        "no-percent-decoding",
        "unquoted-backslash-verbatim",
        "quoted-backslash",
        "quoted-octal",
        "unknown-escape-verbatim",
        "unbalanced-quote-verbatim",
        "inner-quote-kept",
        "lone-quote",
        "empty-quoted",
        "quote-not-closed-before-semicolon",
        "empty-segments",
        "names-case-sensitive",
        "comma-is-not-a-separator",
    ],
)
def test_browser_style_headers(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"n=caf\xc3\xa9", {"n": "café"}),
        (b"n=caf\xe9", {"n": "café"}),
        (b'n="\\303\\251t\\303\\251"', {"n": "été"}),
        (b"n=\xe2\x82\xac; m=\xff\xfe", {"n": "€", "m": "\xff\xfe"}),
        (b"caf\xc3\xa9=1", {"café": "1"}),
    ],
    ids=["utf8-bytes", "latin1-fallback", "octal-utf8", "bad-utf8-does-not-spoil-others", "utf8-name"],
)
def test_non_ascii_redecoded(raw: bytes, expected: dict[str, str]) -> None:
    assert parse_cookie_header(raw.decode("latin-1")) == expected


def test_text_beyond_latin1_is_kept() -> None:
    assert parse_cookie_header("a=€; b=1") == {"a": "€", "b": "1"}


# --------------------------------------------------------------------------- hostile parsing


def test_nameless_host_cookie_cannot_pose_as_prefixed_name() -> None:
    assert parse_cookie_header("=__Host-sid=x") == {}
    assert parse_cookie_header("=__Host-sid=evil; __Host-sid=real") == {"__Host-sid": "real"}


# A hang guard, not a performance target: linear parsing takes milliseconds here, a
# quadratic one minutes. Generous so a loaded CI machine cannot make it flaky.
HANG_GUARD = 5.0


def _timed(header: str) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    result = parse_cookie_header(header)
    return result, time.perf_counter() - start


@pytest.mark.parametrize("count", [100_000, 100_001], ids=["even", "odd"])
def test_backslash_run_is_linear(count: int) -> None:
    result, elapsed = _timed('a="' + "\\" * count + '"; b=1')
    assert result["a"] == "\\" * (count // 2 + count % 2)
    assert result["b"] == "1"
    assert elapsed < HANG_GUARD


def test_octal_run_is_linear() -> None:
    result, elapsed = _timed('a="' + "\\101" * 100_000 + '"')
    assert result["a"] == "A" * 100_000
    assert elapsed < HANG_GUARD


def test_ten_thousand_cookies() -> None:
    header = "; ".join(f"c{i}=v{i}" for i in range(10_000))
    result, elapsed = _timed(header)
    assert len(result) == 10_000
    assert result["c9999"] == "v9999"
    assert elapsed < HANG_GUARD


def test_many_duplicates_and_separators() -> None:
    result, elapsed = _timed("a=1; " * 50_000 + ";" * 500_000 + "=" * 500_000)
    assert result == {"a": "1"}
    assert elapsed < HANG_GUARD


# --------------------------------------------------------------------------- SPEC 6.2 serialising


def _expires_of(header: str) -> datetime:
    for part in header.split("; "):
        if part.startswith("Expires="):
            return parsedate_to_datetime(part.removeprefix("Expires="))
    raise AssertionError(f"no Expires in {header!r}")


def test_spec_example_sid() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    header = dump_set_cookie("sid", "abc", max_age=60, secure=True)
    after = datetime.now(UTC)
    expires = header.split("; ")[1].removeprefix("Expires=")
    assert header == f"sid=abc; Expires={expires}; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Lax"
    assert before + timedelta(seconds=60) <= _expires_of(header) <= after + timedelta(seconds=60)


def test_attribute_order_with_everything() -> None:
    header = dump_set_cookie(
        "n",
        "v",
        max_age=timedelta(hours=1),
        path="/app",
        domain="example.com",
        secure=True,
        http_only=True,
        expires=datetime(2030, 1, 2, 3, 4, 5),
        samesite="none",
        partitioned=True,
    )
    assert header == (
        "n=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; Domain=example.com; "
        "Path=/app; Secure; HttpOnly; SameSite=None; Partitioned"
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "n=v; Path=/; HttpOnly; SameSite=Lax"),
        ({"path": None, "http_only": False, "samesite": None}, "n=v"),
        ({"samesite": "STRICT"}, "n=v; Path=/; HttpOnly; SameSite=Strict"),
        ({"samesite": "lax"}, "n=v; Path=/; HttpOnly; SameSite=Lax"),
        ({"expires": 0, "samesite": None}, "n=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly"),
        ({"expires": 86400.9, "samesite": None}, "n=v; Expires=Fri, 02 Jan 1970 00:00:00 GMT; Path=/; HttpOnly"),
        (
            {"expires": datetime(2030, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "samesite": None},
            "n=v; Expires=Mon, 31 Dec 2029 23:00:00 GMT; Path=/; HttpOnly",
        ),
        (
            {"expires": "Sun, 06 Nov 1994 08:49:37 GMT", "samesite": None},
            "n=v; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=/; HttpOnly",
        ),
        (
            {"expires": 0, "max_age": 5, "samesite": None},
            "n=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=5; Path=/; HttpOnly",
        ),
        ({"max_age": 0, "path": None, "http_only": False, "samesite": None}, "n=v; Expires=<now>; Max-Age=0"),
        ({"secure": True, "samesite": "None"}, "n=v; Path=/; Secure; HttpOnly; SameSite=None"),
    ],
    ids=[
        "defaults",
        "bare",
        "samesite-any-case-strict",
        "samesite-any-case-lax",
        "expires-epoch-int",
        "expires-float-floored",
        "expires-aware-datetime-to-utc",
        "expires-preformatted",
        "explicit-expires-wins-over-max-age",
        "max-age-zero",
        "samesite-none-with-secure",
    ],
)
def test_dump_variants(kwargs: dict[str, object], expected: str) -> None:
    header = dump_set_cookie("n", "v", **kwargs)  # type: ignore[arg-type]
    if "<now>" in expected:
        expires = header.split("; ")[1].removeprefix("Expires=")
        expected = expected.replace("<now>", expires)
        assert abs(_expires_of(header) - datetime.now(UTC)) < timedelta(seconds=2)
    assert header == expected


def test_max_age_timedelta_and_huge_values() -> None:
    assert "Max-Age=90;" in dump_set_cookie("n", "v", max_age=timedelta(minutes=1, seconds=30))
    header = dump_set_cookie("n", "v", max_age=10**15)
    assert "Expires=Fri, 31 Dec 9999 23:59:59 GMT" in header
    assert f"Max-Age={10**15}" in header


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"),
        (
            {"path": "/app", "domain": "example.com"},
            "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Domain=example.com; Path=/app",
        ),
        ({"path": None}, "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"),
        (
            {"secure": True, "samesite": "None"},
            "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; SameSite=None",
        ),
    ],
    ids=["defaults", "path-and-domain", "no-path", "secure-samesite"],
)
def test_delete_cookie(kwargs: dict[str, object], expected: str) -> None:
    assert dump_delete_cookie("sid", **kwargs) == expected  # type: ignore[arg-type]


def test_delete_host_cookie() -> None:
    assert dump_delete_cookie("__Host-sid", secure=True).startswith("__Host-sid=; Expires=Thu, 01 Jan 1970")
    with pytest.raises(ValueError, match="__Host-"):
        dump_delete_cookie("__Host-sid")


@pytest.mark.parametrize(
    ("value", "emitted"),
    [
        ("abc", "abc"),
        ("", ""),
        ("a=b", "a=b"),
        ("!#$%&'()*+-./:<=>?@[]^_`{|}~", "!#$%&'()*+-./:<=>?@[]^_`{|}~"),
        ("x y", '"x y"'),
        ("a,b", '"a,b"'),
        ('q"x', '"q\\"x"'),
        ("back\\slash", '"back\\\\slash"'),
        (" padded ", '" padded "'),
        ('"already quoted"', '"\\"already quoted\\""'),
        ('{"a": [1, 2]}', '"{\\"a\\": [1, 2]}"'),
        ("café", '"caf\\303\\251"'),
        ("€", '"\\342\\202\\254"'),
        ("\\101", '"\\\\101"'),
    ],
    ids=[
        "plain",
        "empty",
        "equals",
        "all-safe-punctuation",
        "space",
        "comma",
        "dquote",
        "backslash",
        "padding",
        "looks-quoted",
        "json",
        "latin1-char",
        "non-latin1-char",
        "octal-lookalike",
    ],
)
def test_value_quoting_round_trips(value: str, emitted: str) -> None:
    header = dump_set_cookie("n", value, path=None, http_only=False, samesite=None)
    assert header == f"n={emitted}"
    assert header.isascii()
    assert parse_cookie_header(header) == {"n": value}
    # An independent parser agrees on what we emitted.
    assert werkzeug_parse_cookie(header).get("n") == value


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("", "v"), {}, "token"),
        (("a b", "v"), {}, "token"),
        (("a;b", "v"), {}, "token"),
        (("a=b", "v"), {}, "token"),
        (("na\u00efve", "v"), {}, "token"),
        (("a\r\nX-Evil: 1", "v"), {}, "token"),
        (("n", "a\r\nSet-Cookie: evil=1"), {}, "control"),
        (("n", "a\x00b"), {}, "control"),
        (("n", "a\tb"), {}, "control"),
        (("n", "a\x7fb"), {}, "control"),
        (("n", "a;b"), {}, "control"),
        (("n", "a; Domain=evil.com"), {}, "control"),
        (("n", "\ud800"), {}, "surrogate"),
        (("n", "v"), {"path": "/a;Domain=evil"}, "path"),
        (("n", "v"), {"path": "/a\nb"}, "path"),
        (("n", "v"), {"path": "/caf\u00e9"}, "path"),
        (("n", "v"), {"domain": "evil.com; Secure"}, "domain"),
        (("n", "v"), {"domain": "a\x1fb"}, "domain"),
        (("n", "v"), {"expires": "Thu, 01 Jan 1970; Domain=x"}, "expires"),
        (("n", "v"), {"samesite": "Lex"}, "samesite"),
        (("n", "v"), {"samesite": ""}, "samesite"),
        (("n", "v"), {"samesite": "None"}, "SameSite=None"),
        (("n", "v"), {"samesite": "none", "secure": False}, "SameSite=None"),
        (("n", "v"), {"partitioned": True}, "partitioned"),
        (("__Secure-id", "v"), {}, "__Secure-"),
        (("__secure-id", "v"), {}, "__Secure-"),
        (("__Host-id", "v"), {}, "__Host-"),
        (("__Host-id", "v"), {"secure": True, "domain": "example.com"}, "__Host-"),
        (("__Host-id", "v"), {"secure": True, "path": "/app"}, "__Host-"),
        (("__Host-id", "v"), {"secure": True, "path": None}, "__Host-"),
        (("__HOST-id", "v"), {}, "__Host-"),
        (("n", "v"), {"max_age": "60"}, "max_age"),
        (("n", "v"), {"max_age": True}, "max_age"),
    ],
    ids=[
        "name-empty",
        "name-space",
        "name-semicolon",
        "name-equals",
        "name-non-ascii",
        "name-crlf",
        "value-crlf-injection",
        "value-nul",
        "value-tab",
        "value-del",
        "value-semicolon",
        "value-attribute-injection",
        "value-lone-surrogate",
        "path-semicolon",
        "path-newline",
        "path-non-ascii",
        "domain-semicolon",
        "domain-ctl",
        "expires-string-semicolon",
        "samesite-unknown",
        "samesite-empty",
        "samesite-none-insecure",
        "samesite-none-lower-insecure",
        "partitioned-insecure",
        "secure-prefix-insecure",
        "secure-prefix-lowercase",
        "host-prefix-insecure",
        "host-prefix-domain",
        "host-prefix-path",
        "host-prefix-no-path",
        "host-prefix-uppercase",
        "max-age-str",
        "max-age-bool",
    ],
)
def test_refusals(args: tuple[str, str], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dump_set_cookie(*args, **kwargs)  # type: ignore[arg-type]


def test_prefixed_cookies_accepted_when_rules_met() -> None:
    assert dump_set_cookie("__Secure-id", "v", secure=True, domain="example.com").startswith("__Secure-id=v;")
    assert dump_set_cookie("__Host-id", "v", secure=True) == "__Host-id=v; Path=/; Secure; HttpOnly; SameSite=Lax"


# --------------------------------------------------------------------------- http_date


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784111777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (-1.5, "Wed, 31 Dec 1969 23:59:58 GMT"),
        (datetime(1994, 11, 6, 8, 49, 37), "Sun, 06 Nov 1994 08:49:37 GMT"),
        (datetime(1994, 11, 6, 9, 49, 37, tzinfo=timezone(timedelta(hours=1))), "Sun, 06 Nov 1994 08:49:37 GMT"),
        (float("inf"), "Fri, 31 Dec 9999 23:59:59 GMT"),
        (-1e30, "Mon, 01 Jan 0001 00:00:00 GMT"),
    ],
    ids=["epoch", "rfc-example", "negative-floored", "naive-is-utc", "aware", "inf-clamped", "tiny-clamped"],
)
def test_http_date(ts: datetime | float, expected: str) -> None:
    assert http_date(ts) == expected


def test_http_date_nan() -> None:
    with pytest.raises(ValueError):
        http_date(float("nan"))


@given(st.integers(min_value=-(10**10), max_value=253402300799))
def test_http_date_matches_email_utils(ts: int) -> None:
    assert parsedate_to_datetime(http_date(ts)) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=ts)


# --------------------------------------------------------------------------- properties

_names = st.one_of(st.text(max_size=12), st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}", fullmatch=True))


@given(name=_names, value=st.text(max_size=64))
@settings(max_examples=500)
@pytest.mark.slow
def test_dump_then_parse_round_trips(name: str, value: str) -> None:
    try:
        header = dump_set_cookie(name, value)
    except ValueError:
        return
    assert header.isascii()
    pair = header.split(";", 1)[0]
    assert parse_cookie_header(pair) == {name: value}
    # Also when a browser sends it among other cookies.
    assert parse_cookie_header(f"x=1; {pair}; y=2").get(name) == (value if name != "x" else "1")


@given(
    value=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=64).filter(
        lambda v: not any(c in v for c in ";\x7f") and all(ord(c) >= 0x20 for c in v)
    )
)
def test_dump_accepts_every_value_without_ctl_or_semicolon(value: str) -> None:
    assert parse_cookie_header(dump_set_cookie("n", value).split(";", 1)[0]) == {"n": value}


@given(st.text(max_size=200))
@settings(max_examples=500)
@pytest.mark.slow
def test_parser_never_raises(header: str) -> None:
    result = parse_cookie_header(header)
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in result.items())


@given(st.binary(max_size=200))
def test_parser_never_raises_on_latin1_bytes(raw: bytes) -> None:
    parse_cookie_header(raw.decode("latin-1"))
