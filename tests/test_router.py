"""Router behaviour, case by case (SPEC §2). The Werkzeug differential run is in test_router_werkzeug.py."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest

from patera._router import RequestRedirect, Router, Rule
from patera.exceptions import DuplicateRoutePath, MethodNotAllowed, NotFound

NOT_FOUND = object()


def one_rule(rule: str, methods: tuple[str, ...] = ("GET",), **kwargs: Any) -> Router:
    router = Router(**kwargs)
    router.add(rule, methods, "endpoint", "Ctrl.endpoint")
    return router


def outcome(router: Router, path: str, method: str = "GET") -> Any:
    """A comparable summary: values dict, NOT_FOUND, ("405", methods) or ("308", location)."""
    try:
        _endpoint, values = router.match(path, method)
    except RequestRedirect as exc:
        return ("308", exc.location)
    except MethodNotAllowed as exc:
        return ("405", sorted(exc.valid_methods))
    except NotFound:
        return NOT_FOUND
    return values


# --------------------------------------------------------------------------- §2.1 examples table

EXAMPLES = [
    ("/u/<int:id>", "/u/42", {"id": 42}, "int"),
    ("/u/<int:id>", "/u/007", {"id": 7}, "int-leading-zeros"),
    ("/u/<int:id>", "/u/-1", NOT_FOUND, "int-unsigned-rejects-minus"),
    ("/u/<int:id>", "/u/4.2", NOT_FOUND, "int-rejects-float"),
    ("/u/<int:id>", "/u/٣", NOT_FOUND, "int-rejects-arabic-indic-digit"),
    ("/t/<int(signed=True):n>", "/t/-5", {"n": -5}, "int-signed"),
    ("/y/<int(fixed_digits=4):y>", "/y/2024", {"y": 2024}, "int-fixed-digits"),
    ("/y/<int(fixed_digits=4):y>", "/y/24", NOT_FOUND, "int-fixed-digits-too-short"),
    ("/p/<int(min=1,max=10):n>", "/p/11", NOT_FOUND, "int-above-max"),
    ("/f/<float:x>", "/f/1.5", {"x": 1.5}, "float"),
    ("/f/<float:x>", "/f/1", NOT_FOUND, "float-needs-dot"),
    ("/s/<string(length=2):c>", "/s/en", {"c": "en"}, "string-length"),
    ("/s/<string(length=2):c>", "/s/eng", NOT_FOUND, "string-length-too-long"),
    ("/s/<string(minlength=2,maxlength=3):c>", "/s/a", NOT_FOUND, "string-below-minlength"),
    (
        "/o/<uuid:id>",
        "/o/6F9619FF-8B86-D011-B42D-00C04FC964FF",
        {"id": uuid.UUID("6F9619FF-8B86-D011-B42D-00C04FC964FF")},
        "uuid-upper-case",
    ),
    ('/k/<any(a, "b c"):k>', "/k/b c", {"k": "b c"}, "any-quoted-item"),
    ('/k/<any(a, "b c"):k>', "/k/d", NOT_FOUND, "any-not-an-item"),
    ("/files/<path:p>", "/files/a/b/c.txt", {"p": "a/b/c.txt"}, "path-spans-slashes"),
    ("/files/<path:p>", "/files/", NOT_FOUND, "path-needs-one-char"),
    ("/files/<path:p>/edit", "/files/a/b/edit", {"p": "a/b"}, "path-then-static"),
    ("/page/<name>", "/page/a/b", NOT_FOUND, "default-is-one-segment-after-%2F-decoding"),
]


@pytest.mark.parametrize(("rule", "path", "expected"), [e[:3] for e in EXAMPLES], ids=[e[3] for e in EXAMPLES])
def test_spec_examples(rule: str, path: str, expected: Any) -> None:
    assert outcome(one_rule(rule), path) == expected


# --------------------------------------------------------------------------- converters and argument forms

CONVERTER_CASES = [
    ("/<v>", "/héllo", {"v": "héllo"}, "default-unicode"),
    ("/<string:v>", "/x", {"v": "x"}, "string-plain"),
    ("/<default(minlength=2):v>", "/x", NOT_FOUND, "default-takes-string-args"),
    ("/<string(2):v>", "/x", NOT_FOUND, "string-positional-minlength"),
    ("/<string(maxlength=2):v>", "/abc", NOT_FOUND, "string-maxlength"),
    ("/a/<string(minlength=0):v>/x", "/a//x", {"v": ""}, "string-minlength-zero-matches-empty"),
    ("/<int:v>", "/+1", NOT_FOUND, "int-plus-sign"),
    ("/<int:v>", "/1_000", NOT_FOUND, "int-underscore"),
    ("/<int:v>", "/١٢٣", NOT_FOUND, "int-unicode-digits"),
    ("/<int:v>", "/" + "9" * 4301, NOT_FOUND, "int-beyond-int-max-str-digits"),
    ("/<int(4):v>", "/0042", {"v": 42}, "int-positional-fixed-digits"),
    ("/<int(fixed_digits=4, signed=True):v>", "/-0042", {"v": -42}, "int-fixed-digits-exclude-sign"),
    ("/<int(fixed_digits=4, signed=True):v>", "/-042", NOT_FOUND, "int-fixed-digits-signed-too-short"),
    ("/<int(min=-5, signed=True):v>", "/-6", NOT_FOUND, "int-negative-min"),
    ("/<int(min=-5, signed=True):v>", "/-5", {"v": -5}, "int-negative-min-boundary"),
    ("/<int(min=1):v>", "/0", NOT_FOUND, "int-below-min"),
    ("/<float:v>", "/1.", NOT_FOUND, "float-trailing-dot"),
    ("/<float:v>", "/.5", NOT_FOUND, "float-leading-dot"),
    ("/<float:v>", "/1e3", NOT_FOUND, "float-exponent"),
    ("/<float:v>", "/-1.5", NOT_FOUND, "float-unsigned"),
    ("/<float(signed=True):v>", "/-1.5", {"v": -1.5}, "float-signed"),
    ("/<float(min=0.5, max=2.5):v>", "/3.0", NOT_FOUND, "float-above-max"),
    ("/<float:v>", "/" + "9" * 400 + ".5", NOT_FOUND, "float-overflow-to-inf"),
    ("/<float:v>", "/١.٥", NOT_FOUND, "float-unicode-digits"),
    ("/<uuid:v>", "/6f9619ff-8b86-d011-b42d-00c04fc964f", NOT_FOUND, "uuid-too-short"),
    ("/<any(about, help, 'foo,bar'):v>", "/foo,bar", {"v": "foo,bar"}, "any-single-quoted-comma"),
    ("/<any(about, help, 'foo,bar'):v>", "/help", {"v": "help"}, "any-bare-word"),
    ("/<any(about, help):v>", "/About", NOT_FOUND, "any-case-sensitive"),
    ("/<any(a.b):v>", "/axb", NOT_FOUND, "any-items-regex-escaped"),
    ("/<path:v>", "/a//b", {"v": "a//b"}, "path-keeps-double-slash"),
    ("/file.<ext>", "/file.tar.gz", {"ext": "tar.gz"}, "mixed-static-prefix"),
    ("/<a>-<b>", "/x-y", {"a": "x", "b": "y"}, "two-variables-one-part"),
    ("/v<int:n>", "/v2", {"n": 2}, "static-then-int"),
]


@pytest.mark.parametrize(
    ("rule", "path", "expected"), [c[:3] for c in CONVERTER_CASES], ids=[c[3] for c in CONVERTER_CASES]
)
def test_converters(rule: str, path: str, expected: Any) -> None:
    assert outcome(one_rule(rule), path) == expected


def test_converter_attributes_for_openapi() -> None:
    router = Router()
    rule = router.add(
        "/x/<int(fixed_digits=3, min=1, max=999, signed=True):a>/<float(min=0.5):b>/<string(2, 5):c>"
        "/<string(length=2):d>/<any(x, 'y z'):e>/<uuid:f>/<g>/<path:h>",
        ["GET"],
        None,
        "X.y",
    )
    convs = dict(rule.arguments)
    assert [name for name, _ in rule.arguments] == list("abcdefgh")
    assert [c.name for c in convs.values()] == ["int", "float", "string", "string", "any", "uuid", "default", "path"]
    a = convs["a"]
    assert (a.fixed_digits, a.min, a.max, a.signed) == (3, 1, 999, True)
    assert (convs["b"].min, convs["b"].max, convs["b"].signed) == (0.5, None, False)
    assert (convs["c"].minlength, convs["c"].maxlength, convs["c"].length) == (2, 5, None)
    assert convs["d"].length == 2
    assert convs["e"].items == ("x", "y z")
    assert (convs["g"].minlength, convs["g"].maxlength) == (1, None)


# --------------------------------------------------------------------------- registration errors

BAD_RULES = [  # Werkzeug 3.1 refuses all of these too, except the one marked SPEC
    ("/u/<int:id", "unclosed-angle"),
    ("/u/<", "lone-angle"),
    ("/u/<foo:id>", "unknown-converter"),
    ("/u/<int(bogus=1):id>", "unknown-kwarg"),
    ("/u/<int(1, 2, 3, 4, 5):id>", "too-many-args"),
    ("/u/<int(min=-, max=2):id>", "unparseable-args"),
    ("/u/<int(x y):id>", "unparseable-item"),
    ("/u/<string(minlength=x):id>", "string-length-not-int"),
    ("/u/<string(minlength=None):id>", "string-length-none"),
    ("/u/<string(length=1e999):id>", "string-length-inf"),
    ("/u/<any(a, b=1):id>", "any-keyword"),
    ("/u/<any(a, 'b/c'):id>", "any-item-with-slash"),  # SPEC §2.1; Werkzeug accepts and never matches
    ("/u/<a>/<int:a>", "duplicate-variable"),
    ("/u/<1a>", "bad-variable-name"),
    ("u/<int:id>", "no-leading-slash"),
    ("", "empty"),
]


@pytest.mark.parametrize("rule", [b[0] for b in BAD_RULES], ids=[b[1] for b in BAD_RULES])
def test_bad_rules_raise_value_error_naming_the_rule(rule: str) -> None:
    router = Router()
    with pytest.raises(ValueError) as info:
        router.add(rule, ["GET"], None, "X.y")
    assert repr(rule) in str(info.value)
    assert router.rules == []


# SPEC §2.1: rules Werkzeug 3.1 registers register here, with its coercion (rule, path, outcome).
WERKZEUG_ACCEPTS = [
    ("/e/<int(min=1e3):a>", "/e/1000", {"a": 1000}),
    ("/e/<int(min=1e3):a>", "/e/999", None),
    ("/e/<int(min=1.5):a>", "/e/2", {"a": 2}),
    ("/e/<int(min=1.5):a>", "/e/1", None),
    ("/e/<int(max=1_000):a>", "/e/1000", {"a": 1000}),
    ("/e/<int(max=1_000):a>", "/e/1001", None),
    ("/e/<int(True):a>", "/e/7", {"a": 7}),  # fixed_digits=True is one digit
    ("/e/<int(True):a>", "/e/17", None),
    ("/e/<int(signed=1):a>", "/e/-3", {"a": -3}),
    ("/e/<int(signed=0):a>", "/e/-3", None),
    ("/e/<int(signed='no'):a>", "/e/-3", {"a": -3}),  # any non-empty text is true
    ("/e/<int(fixed_digits=x):a>", "/e/1", None),  # accepted, never matches (as in Werkzeug)
    ("/e/<int(fixed_digits=None):a>", "/e/12", {"a": 12}),
    ("/e/<int(min=abc):a>", "/e/1", None),  # Werkzeug raises TypeError per request; here: no match
    ("/e/<int(min=1,):a>", "/e/1", None),  # `1,` is one text item (Werkzeug's grammar), a bound like `abc`
    ("/e/<int(min=1 ,):a>", "/e/1", {"a": 1}),  # an empty item after the last comma is ignored
    ("/e/<int(min==,):a>", "/e/0", {"a": 0}),  # an argument list matching nothing is ignored
    ("/e/<int(min=1, min=5):a>", "/e/3", None),  # the last keyword wins
    ("/e/<int(min=1, 2):a>", "/e/12", {"a": 12}),  # a positional after a keyword: fixed_digits=2
    ("/e/<int(1,2):a>", "/e/1", None),  # `1,2` is one text argument in Werkzeug's grammar
    ("/e/<float(min=1e0):a>", "/e/0.5", None),
    ("/e/<float(min=1e0):a>", "/e/1.5", {"a": 1.5}),
    ("/e/<float(1, 2, True):a>", "/e/-1.5", None),
    ("/e/<float(1, 2, True):a>", "/e/1.5", {"a": 1.5}),
    ("/e/<path(1):a>", "/e/x/y", {"a": "x/y"}),
    (
        "/e/<uuid(x):a>",
        "/e/6f9619ff-8b86-d011-b42d-00c04fc964ff",
        {"a": uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff")},
    ),
    ("/e/<string(1.9):a>", "/e/x", {"a": "x"}),  # minlength=int(1.9)=1
    ("/e/<string(length='2'):a>", "/e/ab", {"a": "ab"}),
    ("/e/<string(length=True):a>", "/e/ab", None),
    ("/e/<string(minlength=x, length=2):a>", "/e/ab", {"a": "ab"}),  # length wins; minlength unused
    ("/e/<string(minlength=3, maxlength=2):a>", "/e/abc", None),  # pattern cannot compile: never matches
    ("/e/<string(length=99999999999):a>", "/e/abc", None),
    ("/e/<any():a>", "/e/x", None),  # no items: only an empty segment
    ("/e/<any(u'x', r\"y\"):a>", "/e/y", {"a": "y"}),
    ("/e/<any(a,b):a>", "/e/b", {"a": "b"}),
    ("/e/<int(min=-5, signed=True):a>", "/e/-5", {"a": -5}),  # patera extension: negative literals
    ("/e/<int(min=-5, signed=True):a>", "/e/-6", None),
    ("/e/<float(min=-1.5, signed=True):a>", "/e/-1.0", {"a": -1.0}),
]


@pytest.mark.parametrize(("rule", "path", "values"), WERKZEUG_ACCEPTS)
def test_rules_werkzeug_accepts_register_and_match_like_it(rule: str, path: str, values: dict[str, Any] | None) -> None:
    router = Router()
    router.add(rule, ["GET"], "e", "E.e")
    router.add("/ok", ["GET"], "ok", "E.ok")  # an odd rule does not take the others down
    assert router.match("/ok", "GET") == ("ok", {})
    if values is None:
        with pytest.raises(NotFound):
            router.match(path, "GET")
    else:
        assert router.match(path, "GET") == ("e", values)


def test_duplicate_rule_with_overlapping_methods() -> None:
    router = Router()
    router.add("/u/<int:id>", ["GET"], None, "A.get")
    router.add("/u/<int:uid>", ["POST"], None, "A.post")  # same parts, disjoint methods: fine
    with pytest.raises(DuplicateRoutePath):
        router.add("/u/<int:other>", ["post"], None, "B.post")
    with pytest.raises(DuplicateRoutePath):
        router.add("/u/<int:x>", ["HEAD"], None, "B.head")  # HEAD was added for GET
    router.add("/u/<int:id>/", ["GET"], None, "A.branch")  # trailing slash makes it a different rule


def test_methods_head_added_for_get_only() -> None:
    router = Router()
    get = router.add("/a", ["get"], None, "A.get")
    post = router.add("/a", ["POST"], None, "A.post")
    socket = router.add("/ws", ["SOCKET"], None, "A.ws")
    assert get.methods == frozenset({"GET", "HEAD"})
    assert post.methods == frozenset({"POST"})
    assert socket.methods == frozenset({"SOCKET"})
    assert router.match("/a", "HEAD") == (None, {})
    assert router.match("/ws", "SOCKET") == (None, {})
    assert [r.name for r in router.rules] == ["A.get", "A.post", "A.ws"]
    assert isinstance(get, Rule) and get.rule == "/a" and get.arguments == []


def test_rules_added_after_matching_are_picked_up() -> None:
    router = one_rule("/a")
    assert outcome(router, "/b") is NOT_FOUND
    router.add("/b", ["GET"], "b", "B.get")
    assert router.match("/b", "GET") == ("b", {})


# --------------------------------------------------------------------------- §2.3 priority


def priority_router() -> Router:
    router = Router()
    for rule, name in [
        ("/u/<name>", "by_name"),
        ("/u/<int:id>", "by_id"),
        ("/u/me", "me"),
        ("/u/<path:rest>", "rest"),
        ("/u/<a>-<b>", "pair"),
        ("/u/x<a>", "prefixed"),
        ("/u/xy<a>", "longer_prefix"),
        ("/a/<x>/c", "dyn_then_c"),
        ("/a/b/d", "static_b_d"),
        ("/p/<int(max=10):n>", "small"),
        ("/p/<name>", "p_name"),
    ]:
        router.add(rule, ["GET"], name, name)
    return router


PRIORITY = [
    ("/u/me", "me", "static-beats-dynamic"),
    ("/u/42", "by_id", "int-before-string"),
    ("/u/bob", "by_name", "string-when-int-fails"),
    ("/u/a/b", "rest", "path-last"),
    ("/u/a-b", "pair", "more-variables-first"),
    ("/u/xz", "prefixed", "static-text-first"),
    ("/u/xyz", "longer_prefix", "longer-static-first"),
    ("/a/b/c", "dyn_then_c", "backtrack-from-static-branch"),
    ("/a/b/d", "static_b_d", "static-branch"),
]


@pytest.mark.parametrize(("path", "endpoint"), [p[:2] for p in PRIORITY], ids=[p[2] for p in PRIORITY])
def test_priority(path: str, endpoint: str) -> None:
    assert priority_router().match(path, "GET")[0] == endpoint


def test_validation_failure_ends_matching() -> None:
    router = priority_router()
    assert router.match("/p/10", "GET") == ("small", {"n": 10})
    assert outcome(router, "/p/11") is NOT_FOUND  # no fallback to /p/<name>


def test_validation_failure_after_method_mismatch_is_405() -> None:
    router = Router()
    router.add("/q/<int:n>", ["POST"], "post", "Q.post")
    router.add("/q/<int(max=10):n>", ["GET"], "get", "Q.get")
    assert outcome(router, "/q/5") == {"n": 5}
    assert outcome(router, "/q/11") == ("405", ["POST"])


# --------------------------------------------------------------------------- §2.4 slashes


def slash_router(strict: bool) -> Router:
    router = Router(strict_slashes=strict)
    router.add("/leaf", ["GET"], "leaf", "S.leaf")
    router.add("/branch/", ["GET"], "branch", "S.branch")
    router.add("/dir/<path:p>/", ["GET"], "dir", "S.dir")
    router.add("/é/x/", ["GET"], "encoded", "S.encoded")
    router.add("/evil.com/", ["GET"], "evil", "S.evil")
    return router


SLASHES = [
    (False, "/leaf", "leaf", "lenient-leaf"),
    (False, "/leaf/", "leaf", "lenient-leaf-with-slash"),
    (False, "/branch/", "branch", "lenient-branch"),
    (False, "/branch", "branch", "lenient-branch-without-slash"),
    (False, "/dir/a/b", "dir", "lenient-path-branch-without-slash"),
    (True, "/leaf", "leaf", "strict-leaf"),
    (True, "/leaf/", NOT_FOUND, "strict-leaf-with-slash-404"),
    (True, "/branch/", "branch", "strict-branch"),
    (True, "/branch", ("308", "/branch/"), "strict-branch-redirects"),
    (True, "/dir/a/b", ("308", "/dir/a/b/"), "strict-path-variable-redirects"),
    (True, "/é/x", ("308", "/%C3%A9/x/"), "strict-redirect-percent-encoded"),
    (True, "//evil.com", ("308", "/evil.com/"), "strict-redirect-single-leading-slash"),
]


@pytest.mark.parametrize(("strict", "path", "expected"), [s[:3] for s in SLASHES], ids=[s[3] for s in SLASHES])
def test_slashes(strict: bool, path: str, expected: Any) -> None:
    router = slash_router(strict)
    try:
        result: Any = router.match(path, "GET")[0]
    except RequestRedirect as exc:
        result = ("308", exc.location)
    except NotFound:
        result = NOT_FOUND
    assert result == expected


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/a//b", "/a/b"),
        ("/a///b", "/a/b"),
        ("//a//b", "/a/b"),
        ("/é//x/", "/%C3%A9/x/"),
        ("//evil.com//x", "/evil.com/x"),
        ("///evil.com//x", "/evil.com/x"),
    ],
    ids=["double", "triple", "leading-and-inner", "percent-encoded", "evil-host", "evil-host-triple"],
)
def test_merge_slashes_redirect(strict: bool, path: str, location: str) -> None:
    router = Router(strict_slashes=strict)
    router.add("/a/b", ["GET"], "ab", "M.ab")
    router.add("/é/x/", ["GET"], "ex", "M.ex")
    router.add("/evil.com/x", ["GET"], "evil", "M.evil")
    with pytest.raises(RequestRedirect) as info:
        router.match(path, "GET")
    assert info.value.location == location
    assert info.value.location.startswith("/") and not info.value.location.startswith("//")
    assert "?" not in info.value.location


def test_leading_double_slash_matches_without_redirect() -> None:
    # Werkzeug strips leading slashes before matching; only inner runs redirect.
    assert one_rule("/evil.com/x").match("//evil.com/x", "GET") == ("endpoint", {})


def test_merge_slashes_disabled() -> None:
    router = one_rule("/a/b", merge_slashes=False)
    assert outcome(router, "/a//b") is NOT_FOUND


# --------------------------------------------------------------------------- §2.5 404 / 405


def test_404_and_405_valid_methods() -> None:
    router = Router()
    router.add("/items", ["GET"], "list", "I.list")
    router.add("/items", ["POST"], "create", "I.create")
    router.add("/items/<int:id>", ["DELETE"], "delete", "I.delete")
    assert outcome(router, "/nothing") is NOT_FOUND
    assert outcome(router, "/items", "PUT") == ("405", ["GET", "HEAD", "POST"])
    assert outcome(router, "/items/3", "GET") == ("405", ["DELETE"])
    assert outcome(router, "/items/x", "DELETE") is NOT_FOUND
    assert router.match("/items", "HEAD") == ("list", {})
    assert router.allowed_methods("/items") == {"GET", "HEAD", "POST"}
    assert router.allowed_methods("/items/3") == {"DELETE"}
    assert router.allowed_methods("/nothing") == set()
    with pytest.raises(MethodNotAllowed) as info:
        router.match("/items", "PUT")
    exc = info.value
    assert isinstance(exc, NotFound) and exc.status_code == 405


# --------------------------------------------------------------------------- §2.6 build


def build_router() -> Router:
    router = Router()
    router.add("/api/v1/users/<int:user_id>", ["GET"], None, "Users.get_user")
    router.add("/api/v1/n/<int(fixed_digits=3):n>", ["GET"], None, "N.get")
    router.add("/api/v1/files/<path:p>", ["GET"], None, "Files.get")
    router.add("/s/<name>", ["GET"], None, "S.get")
    router.add("/k/<any(a, 'b c'):k>", ["GET"], None, "K.get")
    router.add("/f/<float:x>", ["GET"], None, "F.get")
    router.add("/t/<int(signed=True, min=-10, max=10):t>", ["GET"], None, "T.get")
    router.add("/o/<uuid:id>", ["GET"], None, "O.get")
    router.add("/", ["GET"], None, "Index.get")
    return router


BUILDS = [
    ("Users.get_user", {"user_id": 5}, "/api/v1/users/5", "int"),
    (
        "Users.get_user",
        {"user_id": 5, "tab": "x y", "tag": ["a", "b"]},
        "/api/v1/users/5?tab=x+y&tag=a&tag=b",
        "query-string-lists-repeat",
    ),
    ("Users.get_user", {"user_id": 5, "a": None, "t": ("x", None)}, "/api/v1/users/5?t=x", "none-dropped"),
    (
        "Users.get_user",
        {"user_id": 5, "q": "a&b=c", "é": "ü"},
        "/api/v1/users/5?q=a%26b%3Dc&%C3%A9=%C3%BC",
        "form-encoded",
    ),
    ("N.get", {"n": 7}, "/api/v1/n/007", "fixed-digits-padded"),
    ("Files.get", {"p": "a/b c"}, "/api/v1/files/a/b%20c", "path-keeps-slash"),
    ("S.get", {"name": "a/b;c=d!é"}, "/s/a/b;c=d!%C3%A9", "string-keeps-safe-chars"),
    ("K.get", {"k": "a"}, "/k/a", "any-item"),
    ("F.get", {"x": 1.5}, "/f/1.5", "float"),
    ("F.get", {"x": 1e20}, "/f/100000000000000000000.0", "float-plain-decimal"),
    ("F.get", {"x": 1e-5}, "/f/0.00001", "float-small-plain-decimal"),
    ("T.get", {"t": -3}, "/t/-3", "signed-int"),
    (
        "O.get",
        {"id": uuid.UUID("6F9619FF-8B86-D011-B42D-00C04FC964FF")},
        "/o/6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "uuid",
    ),
    ("Index.get", {"next": "/a?b"}, "/?next=/a?b", "query-safe-chars"),
]


@pytest.mark.parametrize(("name", "values", "url"), [b[:3] for b in BUILDS], ids=[b[3] for b in BUILDS])
def test_build(name: str, values: dict[str, Any], url: str) -> None:
    assert build_router().build(name, values) == url


BUILD_ERRORS = [
    ("Users.get_user", {}, "user_id", "missing-variable"),
    ("Users.get_user", {"user_id": None}, "user_id", "none-is-missing"),
    ("Users.get_user", {"user_id": -1}, "user_id", "negative-unsigned"),
    ("Users.get_user", {"user_id": "abc"}, "user_id", "not-a-number"),
    ("T.get", {"t": 11}, "t", "above-max"),
    ("K.get", {"k": "d"}, "k", "any-not-an-item"),
    ("F.get", {"x": float("inf")}, "x", "float-inf"),
    ("O.get", {"id": "nope"}, "id", "uuid-invalid"),
]


@pytest.mark.parametrize(("name", "values", "var"), [b[:3] for b in BUILD_ERRORS], ids=[b[3] for b in BUILD_ERRORS])
def test_build_errors_name_endpoint_and_variable(name: str, values: dict[str, Any], var: str) -> None:
    with pytest.raises(ValueError) as info:
        build_router().build(name, values)
    assert name in str(info.value) and repr(var) in str(info.value)


def test_build_unknown_endpoint() -> None:
    with pytest.raises(ValueError, match=r"^Endpoint 'Nope.get' does not exist\.$"):
        build_router().build("Nope.get")


def test_build_round_trips_through_match() -> None:
    router = build_router()
    for name, values, _url, _id in BUILDS:
        url = router.build(name, values).split("?")[0]
        if "%" not in url:  # match() takes the decoded path
            assert router.match(url, "GET")[1] == {
                k: v for k, v in values.items() if k in dict(next(r for r in router.rules if r.name == name).arguments)
            }


# --------------------------------------------------------------------------- structure


def test_router_imports_only_stdlib_and_relative_modules() -> None:
    import ast
    import sys
    from pathlib import Path

    import patera._router as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .exceptions import ...
                continue
            names = [(node.module or "").split(".")[0]]
        else:
            continue
        for name in names:
            assert name == "__future__" or name in sys.stdlib_module_names, name


def test_matching_after_freeze_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    router = priority_router()
    router.add("/a//b", ["GET"], "merged", "merged")
    router.freeze()

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("re.compile on the hot path")

    monkeypatch.setattr(re, "compile", refuse)
    for path in ["/u/me", "/u/42", "/u/bob", "/u/a/b", "/a/b/c", "/p/11", "/nothing", "/a//b//"]:
        with contextlib.suppress(NotFound, RequestRedirect):
            router.match(path, "GET")
