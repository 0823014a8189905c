"""Tests for patera._cors (SPEC §7): options, the outcome matrix, preflights, hostile origins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patera._cors import (
    CREDENTIALS_WARNING,
    CorsOptions,
    CorsPolicy,
    is_same_origin,
    is_valid_origin,
    merge_vary,
)
from patera.exceptions import ImproperlyConfigured

ACAO = b"access-control-allow-origin"
ACAC = b"access-control-allow-credentials"
ACEH = b"access-control-expose-headers"
ACAM = b"access-control-allow-methods"
ACAH = b"access-control-allow-headers"
ACMA = b"access-control-max-age"


def policy(**conf: Any) -> CorsPolicy:
    return CorsPolicy(CorsOptions.from_config({f"CORS_{k.upper()}": v for k, v in conf.items()}))


def as_dict(headers: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    names = [name for name, _ in headers]
    assert len(names) == len(set(names)), "duplicate header"
    assert all(name == name.lower() for name in names)
    return dict(headers)


# --------------------------------------------------------------------------- options


def test_defaults_follow_spec_1_2() -> None:
    options = CorsOptions.from_config({})
    assert options == CorsOptions()
    assert options.enabled is True
    assert options.allow_origins == ("*",)
    assert options.allow_methods == ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    assert options.allow_headers == ("Authorization", "Content-Type")
    assert options.expose_headers == ()
    assert options.allow_credentials is True
    assert options.max_age is None


def test_from_config_normalises() -> None:
    options = CorsOptions.from_config(
        {
            "CORS_ENABLED": False,
            "CORS_ALLOW_ORIGINS": [" https://a.example/ ", "https://b.example", "", "https://a.example"],
            "CORS_ALLOW_METHODS": [" get", "Post ", "get"],
            "CORS_ALLOW_HEADERS": [" X-Token ", ""],
            "CORS_EXPOSE_HEADERS": ["X-Total "],
            "CORS_ALLOW_CREDENTIALS": False,
            "CORS_MAX_AGE": 600,
        }
    )
    assert options == CorsOptions(
        enabled=False,
        allow_origins=("https://a.example", "https://b.example"),
        allow_methods=("GET", "POST"),
        allow_headers=("X-Token",),
        expose_headers=("X-Total",),
        allow_credentials=False,
        max_age=600,
    )


def test_from_config_accepts_comma_string_and_string_bools() -> None:
    options = CorsOptions.from_config(
        {"CORS_ALLOW_ORIGINS": "https://a.example, https://b.example/", "CORS_ALLOW_CREDENTIALS": "false"}
    )
    assert options.allow_origins == ("https://a.example", "https://b.example")
    assert options.allow_credentials is False


@pytest.mark.parametrize(
    "conf",
    [
        {"CORS_ALLOW_METHODS": ["GET\r\nX-Evil: 1"]},
        {"CORS_ALLOW_HEADERS": ["X A"]},
        {"CORS_EXPOSE_HEADERS": ["X;Y"]},
        {"CORS_ALLOW_ORIGINS": [1]},
        {"CORS_MAX_AGE": -1},
        {"CORS_MAX_AGE": "600"},
        {"CORS_MAX_AGE": True},
    ],
    ids=[
        "method-crlf",
        "header-space",
        "expose-semicolon",
        "origin-not-str",
        "max-age-negative",
        "max-age-str",
        "max-age-bool",
    ],
)
def test_bad_config_is_refused_at_startup(conf: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured):
        CorsOptions.from_config(conf)


def test_overlay_overrides_non_none_and_enables() -> None:
    base = CorsOptions.from_config({"CORS_ENABLED": False, "CORS_MAX_AGE": 5})
    endpoint = base.overlay(
        allow_origins=["https://x.example/"], allow_methods=["get"], allow_headers=None, max_age=None
    )
    assert endpoint.enabled is True
    assert endpoint.allow_origins == ("https://x.example",)
    assert endpoint.allow_methods == ("GET",)
    assert endpoint.allow_headers == base.allow_headers
    assert endpoint.max_age == 5
    assert base.overlay(allow_credentials=False).allow_credentials is False
    assert base.overlay() == CorsOptions.from_config({"CORS_MAX_AGE": 5})
    assert base.disabled().enabled is False


def test_overlay_rejects_unknown_option() -> None:
    with pytest.raises(TypeError, match="allow_origin"):
        CorsOptions().overlay(allow_origin=["https://a.example"])
    with pytest.raises(TypeError):
        CorsOptions().overlay(enabled=False)


# --------------------------------------------------------------------------- outcome matrix (SPEC §7)

A = "https://a.example"


@pytest.mark.parametrize(
    ("origins", "credentials", "allow_origin", "allow_credentials"),
    [
        (["*"], False, b"*", None),
        (["*"], True, b"*", None),
        ([A], False, A.encode(), None),
        ([A], True, A.encode(), b"true"),
        (["https://b.example"], False, None, None),
        (["https://b.example"], True, None, None),
    ],
    ids=[
        "wildcard-no-creds",
        "wildcard-creds-never-granted",
        "listed-no-creds",
        "listed-creds",
        "unlisted-no-creds",
        "unlisted-creds",
    ],
)
def test_outcome_matrix(
    origins: list[str], credentials: bool, allow_origin: bytes | None, allow_credentials: bytes | None
) -> None:
    cors = policy(allow_origins=origins, allow_credentials=credentials)
    actual = cors.actual_headers(A)
    status, pre_headers, body = cors.preflight(A, "GET", None)
    if allow_origin is None:
        assert actual is None
        assert not cors.is_allowed(A)
        assert status == 403
        assert json.loads(body) == {"status": "error", "message": "CORS origin not allowed"}
        assert as_dict(pre_headers)[b"vary"] == b"Origin"
        assert ACAO not in as_dict(pre_headers)
        return
    assert actual is not None
    assert cors.is_allowed(A)
    for headers in (as_dict(actual), as_dict(pre_headers)):
        assert headers[ACAO] == allow_origin
        assert headers.get(ACAC) == allow_credentials
    assert status == 200 and body == b""


def test_wildcard_with_credentials_warns() -> None:
    assert policy().warnings == [CREDENTIALS_WARNING]
    assert "credentials need explicit origins" in CREDENTIALS_WARNING
    assert policy(allow_credentials=False).warnings == []
    assert policy(allow_origins=[A]).warnings == []
    assert policy(enabled=False).warnings == []


def test_warnings_for_origins_that_never_match() -> None:
    warnings = policy(allow_origins=["https://a.example/path", "HTTPS://A.EXAMPLE", "a.example"]).warnings
    assert len(warnings) == 3
    assert "never matches" in warnings[0] and "lower-case" in warnings[1]
    assert policy(allow_origins=["null"], allow_credentials=False).warnings == [
        "CORS: the 'null' origin is only honoured when credentials are allowed"
    ]


def test_never_wildcard_with_credentials() -> None:
    cors = policy(allow_origins=["*", A], allow_credentials=True)
    for origin in (A, "https://b.example"):
        headers = as_dict(cors.actual_headers(origin) or [])
        assert headers[ACAO] == b"*" and ACAC not in headers
        pre = as_dict(cors.preflight(origin, "POST", None)[1])
        assert pre[ACAO] == b"*" and ACAC not in pre


def test_expose_headers_on_actual_responses_only_when_configured() -> None:
    cors = policy(allow_origins=[A], expose_headers=["X-Total", "X-Page"])
    assert as_dict(cors.actual_headers(A) or [])[ACEH] == b"X-Total, X-Page"
    assert ACEH not in as_dict(policy(allow_origins=[A]).actual_headers(A) or [])
    assert as_dict(policy(expose_headers=["X-Total"]).actual_headers(A) or [])[ACEH] == b"X-Total"


def test_actual_headers_returns_fresh_lists() -> None:
    cors = policy(allow_origins=[A])
    first = cors.actual_headers(A)
    assert first is not None
    first.append((b"x", b"y"))
    assert cors.actual_headers(A) != first


def test_disabled_policy_grants_nothing() -> None:
    cors = policy(enabled=False, allow_origins=[A])
    assert not cors.enabled
    assert cors.actual_headers(A) == []
    assert cors.preflight(A, "GET", None)[0] == 403


def test_trailing_slash_config_matches_browser_origin() -> None:
    cors = policy(allow_origins=["https://a.example/"])
    assert as_dict(cors.actual_headers(A) or [])[ACAO] == A.encode()
    assert cors.actual_headers(A + "/") is None


# --------------------------------------------------------------------------- hostile origins

HOSTILE = [
    "https://a.example.evil.io",
    "https://evil.io/https://a.example",
    "https://a.example.",
    "https://a.examplee",
    "http://a.example",
    "https://a.example:443",
    "HTTPS://A.EXAMPLE",
    "https://a.example\r\nSet-Cookie: x=1",
    "https://a.example\n",
    " https://a.example",
    "https://a.example ",
    "https://a.example, https://evil.io",
    "https://user@a.example",
    "null",
    "",
]
HOSTILE_IDS = [
    "suffix-domain",
    "path-trick",
    "trailing-dot",
    "longer-label",
    "scheme-downgrade",
    "explicit-default-port",
    "upper-case",
    "crlf-injection",
    "trailing-newline",
    "leading-space",
    "trailing-space",
    "comma-list",
    "userinfo",
    "null",
    "empty",
]


@pytest.mark.parametrize("origin", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("credentials", [True, False], ids=["creds", "no-creds"])
def test_hostile_origins_refused_for_listed_policy(origin: str, credentials: bool) -> None:
    cors = policy(allow_origins=[A, "https://trusted.com"], allow_credentials=credentials)
    assert cors.actual_headers(origin) is None
    assert cors.preflight(origin, "GET", None)[0] == 403


def test_trusted_suffix_attack() -> None:
    cors = policy(allow_origins=["https://trusted.com"])
    assert cors.actual_headers("https://trusted.com.evil.io") is None
    assert cors.actual_headers("https://evil-trusted.com") is None
    assert cors.actual_headers("https://trusted.com") is not None


@pytest.mark.parametrize(
    ("origins", "credentials", "allowed"),
    [
        (["null"], True, True),
        (["null"], False, False),
        (["*"], True, False),
        (["*"], False, False),
        (["*", "null"], True, False),
        ([A], True, False),
    ],
    ids=[
        "explicit-creds",
        "explicit-no-creds",
        "wildcard-creds",
        "wildcard-no-creds",
        "wildcard-and-null",
        "not-listed",
    ],
)
def test_null_origin(origins: list[str], credentials: bool, allowed: bool) -> None:
    cors = policy(allow_origins=origins, allow_credentials=credentials)
    headers = cors.actual_headers("null")
    if not allowed:
        assert headers is None
        assert cors.preflight("null", "GET", None)[0] == 403
        return
    assert as_dict(headers or []) == {ACAO: b"null", ACAC: b"true"}


def test_invalid_configured_origin_is_never_echoed() -> None:
    bad = "https://a.example\r\nX-Evil: 1"
    cors = policy(allow_origins=[bad, "https://a.example/path"])
    assert cors.actual_headers(bad) is None
    assert cors.actual_headers("https://a.example/path") is None
    assert cors.preflight(bad, "GET", None)[0] == 403


def test_wildcard_never_echoes_so_any_syntax_gets_star() -> None:
    cors = policy(allow_credentials=False)
    assert as_dict(cors.actual_headers("https://x\r\ny") or []) == {ACAO: b"*"}


@given(st.text(max_size=40))
def test_only_configured_origins_are_echoed(origin: str) -> None:
    cors = policy(allow_origins=[A, "null"], allow_credentials=True)
    headers = cors.actual_headers(origin)
    if origin in (A, "null"):
        assert headers is not None and as_dict(headers)[ACAO] == origin.encode()
    else:
        assert headers is None


# --------------------------------------------------------------------------- preflight


def test_preflight_allowed_full_headers() -> None:
    cors = policy(allow_origins=[A], max_age=600, allow_headers=["X-Token", "Content-Type"])
    status, headers, body = cors.preflight(A, "PUT", "x-token")
    assert (status, body) == (200, b"")
    assert as_dict(headers) == {
        ACAO: A.encode(),
        b"vary": b"Origin",
        ACAM: b"GET, POST, PUT, PATCH, DELETE, OPTIONS",
        ACAH: b"X-Token, Content-Type",
        ACAC: b"true",
        ACMA: b"600",
        b"content-length": b"0",
    }


def test_preflight_without_credentials_or_max_age() -> None:
    headers = as_dict(policy(allow_origins=[A], allow_credentials=False).preflight(A, "GET", None)[1])
    assert ACAC not in headers and ACMA not in headers
    assert as_dict(policy(allow_origins=[A], max_age=0).preflight(A, "GET", None)[1])[ACMA] == b"0"


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", 200), ("PATCH", 200), (" POST ", 200), ("TRACE", 405), ("get", 405), ("", 405), ("GET\r\n", 405)],
    ids=["get", "patch", "padded", "trace", "lower-case-is-another-method", "empty", "crlf"],
)
def test_preflight_method(method: str, status: int) -> None:
    cors = policy(allow_origins=[A], allow_methods=["get", "post", "patch"])
    got, headers, body = cors.preflight(A, method, None)
    assert got == status
    if status == 405:
        assert json.loads(body) == {"status": "error", "message": "Preflight method not allowed"}
        assert as_dict(headers)[b"content-type"] == b"application/json"
        assert as_dict(headers)[b"content-length"] == str(len(body)).encode()
        assert ACAO not in as_dict(headers)
    else:
        assert as_dict(headers)[ACAM] == b"GET, POST, PATCH"


def test_preflight_refused_origin_checked_before_method() -> None:
    status, _, body = policy(allow_origins=[A]).preflight("https://b.example", "TRACE", None)
    assert status == 403
    assert json.loads(body)["message"] == "CORS origin not allowed"


@pytest.mark.parametrize(
    ("requested", "echoed"),
    [
        ("X-Token", b"X-Token"),
        ("x-token, content-type", b"x-token, content-type"),
        (" x-a ,, x-b ", b"x-a, x-b"),
        ("x-a\r\nSet-Cookie: x=1", None),
        ("x-a\nx-b", None),
        ("x a", None),
        ("x-a;evil", None),
        ("caf\u00e9", None),
        ("", None),
        (None, None),
        (" , ", None),
    ],
    ids=[
        "single",
        "list",
        "whitespace-normalised",
        "crlf",
        "lf",
        "space-inside",
        "semicolon",
        "non-ascii",
        "empty",
        "absent",
        "only-commas",
    ],
)
def test_preflight_echoes_requested_headers_when_list_empty(requested: str | None, echoed: bytes | None) -> None:
    status, headers, _ = policy(allow_origins=[A], allow_headers=[]).preflight(A, "POST", requested)
    assert status == 200
    assert as_dict(headers).get(ACAH) == echoed


def test_configured_headers_are_not_replaced_by_requested() -> None:
    headers = as_dict(policy(allow_origins=[A]).preflight(A, "POST", "x-other")[1])
    assert headers[ACAH] == b"Authorization, Content-Type"


def test_wildcard_methods_and_headers() -> None:
    open_ = policy(allow_credentials=False, allow_methods=["*"], allow_headers=["*"])
    status, headers, _ = open_.preflight(A, "PROPFIND", "x-a")
    assert status == 200
    assert as_dict(headers)[ACAM] == b"*" and as_dict(headers)[ACAH] == b"*"
    # NOTE: with credentials "*" is a literal name for browsers, so the request is echoed.
    creds = policy(allow_origins=[A], allow_methods=["*"], allow_headers=["*"])
    status, headers, _ = creds.preflight(A, "PROPFIND", "x-a, x-b")
    assert status == 200
    assert as_dict(headers)[ACAM] == b"PROPFIND" and as_dict(headers)[ACAH] == b"x-a, x-b"
    assert creds.preflight(A, "BAD METHOD", None)[0] == 405


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("origin", "valid"),
    [
        ("https://a.example", True),
        ("http://localhost:3000", True),
        ("http://127.0.0.1:8080", True),
        ("http://[::1]:8000", True),
        ("https://xn--caf-dma.example", True),
        ("null", True),
        ("HTTPS://A.EXAMPLE", True),
        ("https://a.example:65535", True),
        ("https://a.example:65536", False),
        ("https://a.example:", False),
        ("https://a.example/", False),
        ("https://a.example/path", False),
        ("https://a.example?q", False),
        ("https://user:pw@a.example", False),
        ("a.example", False),
        ("https://", False),
        ("https://a.example\n", False),
        ("https://a.example\r\nX: y", False),
        ("https://a .example", False),
        ("https://a.example,https://b.example", False),
        ("https://caf\u00e9.example", False),
        ("Null", False),
        ("*", False),
        ("", False),
    ],
)
def test_is_valid_origin(origin: str, valid: bool) -> None:
    assert is_valid_origin(origin) is valid


_origin_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A[a-z]{1,5}://[a-z0-9.\[\]:]{0,12}(:[0-9]{0,6})?.{0,3}\Z"),
)


@given(_origin_like)
def test_valid_origins_are_header_safe(origin: str) -> None:
    if is_valid_origin(origin) and origin != "null":
        assert origin.isascii()
        assert not any(c in origin for c in " \t\r\n\x00\x7f,;?#@")
        assert origin.count("/") == 2 and "://" in origin


@pytest.mark.parametrize(
    ("origin", "scheme", "host", "same"),
    [
        ("https://a.example", "https", "a.example", True),
        ("https://a.example", "https", "a.example:443", True),
        ("https://a.example:443", "https", "a.example", True),
        ("http://a.example", "http", "a.example:80", True),
        ("http://a.example:8000", "http", "a.example:8000", True),
        ("http://a.example:8000", "http", "a.example", False),
        ("http://a.example", "http", "a.example:8000", False),
        ("HTTPS://A.Example", "HTTPS", "a.EXAMPLE", True),
        ("https://a.example", "http", "a.example", False),
        ("http://a.example", "https", "a.example", False),
        ("https://a.example", "https", "b.example", False),
        ("https://a.example.evil.io", "https", "a.example", False),
        ("http://[::1]:8000", "http", "[::1]:8000", True),
        ("http://[::1]", "http", "[::1]:80", True),
        ("https://a.example", "wss", "a.example", True),
        ("https://a.example", "https", None, False),
        ("null", "https", "null", False),
        ("https://a.example", "https", "a.example, evil.io", False),
        ("https://a.example", "https", "a.example/x", False),
        ("https://a.example/", "https", "a.example", False),
        ("https://a.example", "https", "a.example:", True),
        ("https://a.example", "https", "a.example:99999", False),
    ],
    ids=[
        "plain",
        "host-explicit-default-port",
        "origin-explicit-default-port",
        "http-default-port",
        "custom-port",
        "origin-port-host-default",
        "host-port-origin-default",
        "case-insensitive",
        "scheme-mismatch",
        "scheme-mismatch-reverse",
        "host-mismatch",
        "suffix-attack",
        "ipv6",
        "ipv6-default-port",
        "websocket-scheme",
        "no-host-header",
        "null-origin",
        "bad-host-header",
        "host-with-path",
        "origin-with-path",
        "empty-port",
        "port-out-of-range",
    ],
)
def test_is_same_origin(origin: str, scheme: str, host: str | None, same: bool) -> None:
    assert is_same_origin(origin, scheme, host) is same


@pytest.mark.parametrize(
    ("existing", "merged"),
    [
        (None, "Origin"),
        ("", "Origin"),
        ("Accept-Encoding", "Accept-Encoding, Origin"),
        ("accept-encoding, origin", "accept-encoding, origin"),
        ("Origin", "Origin"),
        ("*", "*"),
        ("Cookie,Accept", "Cookie,Accept, Origin"),
    ],
)
def test_merge_vary(existing: str | None, merged: str) -> None:
    assert merge_vary(existing) == merged
    assert CorsPolicy.merge_vary(existing) == merged


def test_refusal_body_is_canonical() -> None:
    status, headers, body = policy(allow_origins=[A]).refusal()
    assert status == 403
    assert json.loads(body) == {"status": "error", "message": "CORS origin not allowed"}
    assert as_dict(headers) == {
        b"content-type": b"application/json",
        b"content-length": str(len(body)).encode(),
        b"vary": b"Origin",
    }
