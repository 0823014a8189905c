"""Differential test: patera's router against Werkzeug 3.1's Map/MapAdapter.

Werkzeug is a test-only dependency. The reference map uses Werkzeug's own
matcher with converter subclasses that carry exactly the documented SPEC §2
deviations (listed in the ``_Spec*`` classes); everything
else (priority, backtracking, slashes, merging, 404/405, query strings) is
Werkzeug's unmodified behaviour.
"""

from __future__ import annotations

import math
import random
import re
import sys
import uuid
from decimal import Decimal
from typing import Any

import pytest

werkzeug_routing = pytest.importorskip("werkzeug.routing")
from urllib.parse import quote  # noqa: E402

from werkzeug.exceptions import MethodNotAllowed as WzMethodNotAllowed  # noqa: E402
from werkzeug.exceptions import NotFound as WzNotFound  # noqa: E402
from werkzeug.routing import Map, Rule  # noqa: E402
from werkzeug.routing import RequestRedirect as WzRequestRedirect  # noqa: E402
from werkzeug.routing.converters import (  # noqa: E402
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)

from patera._router import RequestRedirect, Router, _parse_args  # noqa: E402
from patera.exceptions import DuplicateRoutePath, MethodNotAllowed, NotFound  # noqa: E402

# --------------------------------------------------------------------------- reference

class _SpecInt(IntegerConverter):
    """SPEC §2.1: ASCII digits only; fixed_digits excludes the sign; build rejects out-of-range.

    Issue 12: a bound that cannot be compared (``min=abc``) rejects instead of raising
    TypeError per request; a ``fixed_digits`` like ``1e3`` pads like ``1000`` when building.
    """

    regex = "[0-9]+"

    def to_python(self, value: str) -> Any:
        if self.fixed_digits and len(value.lstrip("-")) != self.fixed_digits:
            raise ValidationError()
        try:
            number = int(value)
        except ValueError as exc:
            raise ValidationError() from exc
        try:
            if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
                raise ValidationError()
        except TypeError as exc:
            raise ValidationError() from exc
        return number

    def to_url(self, value: Any) -> str:
        number = int(value)
        _check_range(self, number)
        text = str(abs(number))
        if self.fixed_digits:
            pad: Any = self.fixed_digits
            pad = int(pad) if isinstance(pad, float) and pad.is_integer() else pad
            if isinstance(pad, int) and pad > sys.get_int_max_str_digits():
                raise ValueError("no value has that many digits")
            text = text.zfill(pad)
        return "-" + text if number < 0 else text


def _check_range(conv: Any, number: float) -> None:
    if (conv.min is not None and number < conv.min) or (conv.max is not None and number > conv.max):
        raise ValueError("out of range")
    if number < 0 and not conv.signed:
        raise ValueError("negative")


class _SpecFloat(FloatConverter):
    """SPEC §2.1: ASCII digits only; a value overflowing to inf fails validation."""

    regex = r"[0-9]+\.[0-9]+"

    def to_python(self, value: str) -> Any:
        try:
            number = super().to_python(value)
        except TypeError as exc:  # issue 12: a text bound rejects instead of raising per request
            raise ValidationError() from exc
        if math.isinf(number):
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not finite")
        _check_range(self, number)
        text = repr(number)
        if "e" in text:  # SPEC §2.6: plain decimal notation
            text = format(Decimal(text), "f")
            text += "" if "." in text else ".0"
        return text


class _SpecAny(AnyConverter):
    """SPEC §2.6: built values are percent-encoded like every other variable.

    Issue 12: ``any()`` without items builds the empty segment, the one value it matches.
    """

    def to_url(self, value: Any) -> str:
        if value == "" and not self.items:
            return ""
        return quote(super().to_url(value), safe="!$&'()*+,/:;=@")


class _SpecString(UnicodeConverter):
    """Issue 12: a length pattern that cannot compile never matches (Werkzeug raises per request)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        try:
            re.compile(self.regex)
        except (re.error, OverflowError):
            self.regex = "(?!)"


class _SpecUUID(UUIDConverter):
    """SPEC §2.6: built as the canonical form of a UUID; other values are rejected."""

    def to_url(self, value: Any) -> str:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


_CONVERTERS = {
    "int": _SpecInt,
    "float": _SpecFloat,
    "any": _SpecAny,
    "uuid": _SpecUUID,
    "string": _SpecString,
    "default": _SpecString,
}


def _reference(rules: list[tuple[str, frozenset[str], str]], strict: bool, merge: bool = True) -> Any:
    wz_map = Map(
        [Rule(rule, methods=sorted(methods), endpoint=name) for rule, methods, name in rules],
        strict_slashes=strict,
        merge_slashes=merge,
        converters=_CONVERTERS,
    )
    return wz_map.bind("localhost", "/")


def _typed(values: Any) -> dict[str, tuple[str, Any]]:
    """Values with their types, so 1 and 1.0 or "1" never compare equal by accident."""
    return {key: (type(value).__name__, value) for key, value in values.items()}


def _wz_outcome(adapter: Any, path: str, method: str) -> tuple[Any, ...]:
    try:
        endpoint, values = adapter.match(path, method)
    except WzRequestRedirect as exc:
        prefix = "http://localhost"
        assert exc.new_url.startswith(prefix), exc.new_url
        return ("redirect", exc.new_url[len(prefix) :])
    except WzMethodNotAllowed as exc:
        return ("405", frozenset(exc.valid_methods or ()))
    except WzNotFound:
        return ("404",)
    return ("ok", endpoint, _typed(values))


def _our_outcome(router: Router, path: str, method: str) -> tuple[Any, ...]:
    try:
        endpoint, values = router.match(path, method)
    except RequestRedirect as exc:
        return ("redirect", exc.location)
    except MethodNotAllowed as exc:
        return ("405", frozenset(exc.valid_methods))
    except NotFound:
        return ("404",)
    return ("ok", endpoint, _typed(values))


def _wz_build(adapter: Any, name: str, values: dict[str, Any]) -> str:
    try:
        return str(adapter.build(name, values))
    except (LookupError, ValueError, TypeError):  # BuildError is a LookupError
        return "<error>"


def _our_build(router: Router, name: str, values: dict[str, Any]) -> str:
    try:
        return router.build(name, values)
    except ValueError:
        return "<error>"


# --------------------------------------------------------------------------- generators

_WORDS = ["a", "b", "users", "me", "x", "file.txt", "v1", "Ab", "é", "items"]
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_QUERY_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def _converter(rnd: random.Random) -> str:
    kind = rnd.choice(["", "string", "int", "int", "float", "any", "uuid", "path"])
    if kind == "" or kind == "uuid" or kind == "path":
        return kind
    if kind == "string":
        return rnd.choice(["string", "string(length=2)", "string(minlength=2, maxlength=3)", "string(maxlength=1)"])
    if kind == "int":
        return rnd.choice(
            [
                "int",
                "int(signed=True)",
                "int(fixed_digits=3)",
                "int(min=1, max=10)",
                "int(fixed_digits=2, signed=True)",
                "int(max=99)",
            ]
        )
    if kind == "float":
        return rnd.choice(["float", "float(signed=True)", "float(min=0.5, max=2.5)"])
    return rnd.choice(["any(a, b)", 'any(me, "b c", x)', "any(users, items)"])


def _gen_rule(rnd: random.Random) -> str:
    segments: list[str] = []
    counter = 0
    for _ in range(rnd.randint(0, 4)):
        roll = rnd.random()
        if roll < 0.45:
            segments.append(rnd.choice(_WORDS))
            continue
        conv = _converter(rnd)
        var = f"<{conv + ':' if conv else ''}v{counter}>"
        counter += 1
        if roll < 0.85:
            segments.append(var)
        elif roll < 0.92:
            segments.append(rnd.choice(["file.", "v", "p-"]) + var)
        else:
            other = f"<v{counter}>"
            counter += 1
            segments.append(var + rnd.choice(["-", ".", "_"]) + other)
    rule = "/" + "/".join(segments)
    if segments and rnd.random() < 0.35:
        rule += "/"
    return rule


def _gen_rules(rnd: random.Random) -> list[tuple[str, frozenset[str], str]]:
    rules: list[tuple[str, frozenset[str], str]] = []
    prefix = rnd.choice(["", "", "/users", "/a"])
    for index in range(rnd.randint(1, 12)):
        rule = _gen_rule(rnd)
        if prefix and rnd.random() < 0.5:
            rule = prefix + rule if rule != "/" else prefix + "/"
        methods = frozenset(rnd.sample(_METHODS, rnd.randint(1, 3)))
        name = f"r{index}" if not rules or rnd.random() < 0.85 else rnd.choice(rules)[2]
        rules.append((rule, methods, name))
    return rules


def _value_for(conv: Any, rnd: random.Random) -> str:
    kind = conv.name
    if kind == "int":
        roll = rnd.random()
        if roll < 0.05:
            return "9" * rnd.choice([4301, 5000])  # beyond int()'s digit limit
        if roll < 0.1:
            return rnd.choice(["٣", "١٢٣", "+1", "1_000", "1.5", "0x1"])
        number = rnd.choice([0, 1, 7, 10, 11, 42, 99, 100, 2024, -1, -5, -42])
        text = str(abs(number)).zfill(rnd.choice([0, 0, 2, 3, 4]))
        return ("-" if number < 0 else "") + text
    if kind == "float":
        roll = rnd.random()
        if roll < 0.05:
            return "9" * 400 + ".5"  # overflows to inf
        if roll < 0.12:
            return rnd.choice(["1", "1.", ".5", "1e3", "١.٥", "-0.5"])
        return rnd.choice(["", "-"]) + rnd.choice(["0.5", "1.5", "2.5", "3.0", "10.25", "0.0"])
    if kind == "uuid":
        text = str(uuid.UUID(int=rnd.getrandbits(128)))
        return text.upper() if rnd.random() < 0.3 else text
    if kind == "any":
        return rnd.choice([*conv.items, "nope", "A"])
    if kind == "path":
        return rnd.choice(["a", "a/b", "a/b/c.txt", "x/", "me", "a//b", "é/ü"])
    return rnd.choice(["x", "ab", "abc", "me", "42", "1.5", "é", "a b", "users", "a", "b", "ÀB"])


def _gen_path(rnd: random.Random, rule: Any) -> str:
    convs = dict(rule.arguments)
    out: list[str] = []
    for is_var, text, _conv in rule._build_ops:
        out.append(_value_for(convs[text], rnd) if is_var else text)
    path = "".join(out)
    for _ in range(rnd.choice([0, 0, 1, 1, 2])):
        path = _mutate(rnd, path)
    return path


def _mutate(rnd: random.Random, path: str) -> str:
    roll = rnd.randrange(10)
    if roll == 0:
        return path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    if roll == 1 and "/" in path:
        idx = rnd.choice([i for i, ch in enumerate(path) if ch == "/"])
        return path[:idx] + "/" * rnd.randint(2, 3) + path[idx + 1 :]
    if roll == 2:
        return "/" + path  # //evil.com style
    if roll == 3:
        return path.swapcase()
    if roll == 4:
        return path.replace("1", "١").replace("2", "٢")
    if roll == 5:
        return path.rsplit("/", 1)[0] or "/"
    if roll == 6:
        return path.rstrip("/") + "/" + rnd.choice(["x", "1", "edit", "me", ""])
    if roll == 7:
        return path + "//"
    if roll == 8:
        return "/" + "/".join(rnd.choice(_WORDS) for _ in range(rnd.randint(1, 3)))
    return path


def _gen_build_values(rnd: random.Random, rule: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for var, conv in rule.arguments:
        kind = conv.name
        if kind == "int":
            low = conv.min if conv.min is not None else (-50 if conv.signed else 0)
            high = conv.max if conv.max is not None else 5000
            values[var] = rnd.randint(low, high)
        elif kind == "float":
            low = conv.min if conv.min is not None else (-5.0 if conv.signed else 0.0)
            high = conv.max if conv.max is not None else 500.0
            values[var] = round(rnd.uniform(low, high), rnd.choice([0, 1, 3]))
        elif kind == "uuid":
            values[var] = uuid.UUID(int=rnd.getrandbits(128))
        elif kind == "any":
            values[var] = rnd.choice(conv.items)
        elif kind == "path":
            values[var] = rnd.choice(["a/b c", "x", "é/ü", "a;b=c", "100%"])
        else:
            values[var] = rnd.choice(["x y", "é", "a/b", "q?", "#", "ok", "~t", 42])
    if rule.arguments and rnd.random() < 0.1:
        values.pop(rnd.choice(rule.arguments)[0])  # missing variable -> error on both sides
    for _ in range(rnd.choice([0, 0, 1, 2])):
        key = rnd.choice(["tab", "q", "tag", "é", "a b"])
        values[key] = rnd.choice(["x y", ["a", "b"], ("c", None), None, 3, "&=+", "é"])
    return values


# --------------------------------------------------------------------------- the test

SEEDS = range(32)
PATHS_PER_RULESET = 40


def _build_pair(
    rules: list[tuple[str, frozenset[str], str]], strict: bool, merge: bool = True
) -> tuple[Router, Any, list[tuple[str, frozenset[str], str]]]:
    router = Router(strict_slashes=strict, merge_slashes=merge)
    kept: list[tuple[str, frozenset[str], str]] = []
    for rule, methods, name in rules:
        try:
            router.add(rule, methods, name, name)
        except DuplicateRoutePath:
            continue  # Werkzeug would silently shadow it; patera refuses it at registration
        kept.append((rule, methods, name))
    return router, _reference(kept, strict, merge), kept


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("seed", SEEDS)
def test_generated_rulesets_match_werkzeug(seed: int, strict: bool) -> None:
    _run_generated(seed, strict, merge=True)


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("seed", range(8))
def test_generated_rulesets_without_merge_slashes(seed: int, strict: bool) -> None:
    """merge_slashes=False is not the app's setting, but the router supports it; keep it honest."""
    _run_generated(seed + 1000, strict, merge=False)


def _run_generated(seed: int, strict: bool, merge: bool) -> None:
    rnd = random.Random(seed * 7919 + strict)
    for _round in range(3):
        router, adapter, kept = _build_pair(_gen_rules(rnd), strict, merge)
        rules = router.rules
        for _ in range(PATHS_PER_RULESET):
            source = rnd.choice(rules)
            path = _gen_path(rnd, source)
            method = rnd.choice(sorted(source.methods)) if rnd.random() < 0.6 else rnd.choice(_QUERY_METHODS)
            expected = _wz_outcome(adapter, path, method)
            got = _our_outcome(router, path, method)
            assert got == expected, (kept, path, method)
            expected_allowed = set(adapter.allowed_methods(path))
            assert router.allowed_methods(path) == expected_allowed, (kept, path)
        for rule in rules:
            values = _gen_build_values(rnd, rule)
            assert _our_build(router, rule.name, values) == _wz_build(adapter, rule.name, values), (kept, rule, values)


HAND_PICKED_RULES: list[tuple[str, frozenset[str], str]] = [
    ("/", frozenset({"GET"}), "index"),
    ("/users/", frozenset({"GET", "POST"}), "users"),
    ("/users/me", frozenset({"GET"}), "me"),
    ("/users/<int:id>", frozenset({"GET", "DELETE"}), "user"),
    ("/users/<name>", frozenset({"GET"}), "user_by_name"),
    ("/users/<int(max=10):id>/posts", frozenset({"GET"}), "posts"),
    ("/files/<path:p>", frozenset({"GET"}), "file"),
    ("/files/<path:p>/edit", frozenset({"POST"}), "edit"),
    ("/dir/<path:p>/", frozenset({"GET"}), "dir"),
    ("/f/<float(signed=True):x>", frozenset({"GET"}), "float"),
    ("/o/<uuid:id>", frozenset({"GET"}), "uuid"),
    ('/k/<any(a, "b c"):k>', frozenset({"PUT"}), "any"),
    ("/y/<int(fixed_digits=4, signed=True):y>", frozenset({"GET"}), "year"),
    ("/file.<ext>", frozenset({"GET"}), "ext"),
    ("/<a>-<b>", frozenset({"GET"}), "pair"),
    ("/s/<string(length=2):c>", frozenset({"GET"}), "lang"),
    ("/a//b", frozenset({"GET"}), "merged"),
    ("/evil.com/", frozenset({"GET"}), "evil"),
]
HAND_PICKED_PATHS = [
    "/",
    "",
    "//",
    "/users",
    "/users/",
    "//users/",
    "/users/me",
    "/users/me/",
    "/USERS/ME",
    "/users/42",
    "/users/٤٢",
    "/users/42/",
    "/users/+1",
    "/users/1_000",
    "/users/" + "9" * 5000,
    "/users/7/posts",
    "/users/11/posts",
    "/users/x/posts",
    "/files/",
    "/files/a",
    "/files/a/b/c.txt",
    "/files/a/b/edit",
    "/files/a//b",
    "/files//a",
    "/dir/a/b",
    "/dir/a/b/",
    "/dir/a/b//",
    "/f/1.5",
    "/f/-1.5",
    "/f/1",
    "/f/" + "9" * 400 + ".0",
    "/o/6F9619FF-8B86-D011-B42D-00C04FC964FF",
    "/o/6f9619ff-8b86-d011-b42d-00c04fc964f",
    "/k/b c",
    "/k/a",
    "/k/d",
    "/y/2024",
    "/y/-2024",
    "/y/024",
    "/file.txt",
    "/file.",
    "/x-y",
    "/x-y-z",
    "/s/en",
    "/s/eng",
    "/a/b",
    "/a//b",
    "/a///b/",
    "//evil.com/",
    "//evil.com",
    "///evil.com//x",
    "/users//42",
    "/users/42//",
    "/a/b%2Fc",
    "/é",
    "/files/a\nb",
    "/\n",
]


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_hand_picked_paths_match_werkzeug(strict: bool) -> None:
    router, adapter, kept = _build_pair(HAND_PICKED_RULES, strict)
    assert len(kept) == len(HAND_PICKED_RULES)
    for path in HAND_PICKED_PATHS:
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "get"):
            assert _our_outcome(router, path, method) == _wz_outcome(adapter, path, method), (path, method)
        assert router.allowed_methods(path) == set(adapter.allowed_methods(path)), path


def test_differential_case_count() -> None:
    """Documents the size of the generated differential run (see module docstring)."""
    matches = (len(SEEDS) + 8) * 2 * 3 * PATHS_PER_RULESET
    assert matches >= 9000


# --------------------------------------------------------------------------- rule definitions (issue 12)
#
# A generated corpus of converter argument lists: every kind of literal Werkzeug's
# grammar knows (ints with underscores, floats, exponents, booleans, None, quoted and
# bare strings, Unicode digits), positional and keyword, with odd spacing, trailing
# commas and junk. Both sides must agree on accepted/refused; for accepted rules,
# on matching and building. The only allowed disagreements are the documented ones:
# patera reads negative literals (Werkzeug refuses them), keeps numeric any() items as
# written (Werkzeug raises TypeError) and refuses any() items containing "/". Rules with
# negative literals are then still compared, against Werkzeug's converters given the same
# arguments (its reader patched to accept them).

_LITERALS = [
    "0",
    "1",
    "2",
    "3",
    "4",
    "10",
    "007",
    "1_000",
    "1_0",
    "٣",
    "99999999999",
    "1" * 4400,
    "1.5",
    "0.5",
    "2.",
    "2.0",
    "1e3",
    "1E2",
    "1.5e3",
    "1_0.5",
    ".5",
    "1e999",
    "inf",
    "nan",
    "True",
    "False",
    "None",
    "true",
    '"a"',
    "'b c'",
    '"1"',
    '"3"',
    '"x,y"',
    '"a/b"',
    "u'x'",
    'r"y"',
    '""',
    "'-1'",
    '"a)b"',
    '"é"',
    "a",
    "abc",
    "x.y",
    "é",
    "a1",
    "_",
    "-5",
    "-1.5",
    "-0",
    "-1_0",
    "-",
    "=",
    "@",
    "1x",
    "1,2",
    "1 2",
]
_KEYS = ["min", "max", "signed", "fixed_digits", "length", "minlength", "maxlength", "bogus", "é", "1"]
_SEPARATORS = [",", ", ", " , ", ",\t", ",  ", ",,"]
_KINDS = ["", "default", "string", "int", "int", "float", "any", "any", "path", "uuid", "nope"]


_ITEM_LITERALS = [lit for lit in _LITERALS if lit[:1] in "\"'ur" or lit.isidentifier()]


def _gen_arglist(rnd: random.Random, kind: str) -> str:
    items: list[str] = []
    plain_items = kind == "any" and rnd.random() < 0.5  # any() as people write it: text items only
    for _ in range(rnd.choice([0, 1, 1, 2, 2, 3, 4])):
        value = rnd.choice(_ITEM_LITERALS if plain_items else _LITERALS)
        if not plain_items and rnd.random() < 0.5:
            eq = rnd.choice(["=", "=", " = ", "= ", " ="])
            items.append(rnd.choice(_KEYS) + eq + value)
        else:
            items.append(value)
    text = ""
    for index, item in enumerate(items):
        text += item if index == 0 else rnd.choice(_SEPARATORS) + item
    if rnd.random() < 0.15:
        text = rnd.choice([" ", "  ", "\t"]) + text
    if rnd.random() < 0.15:
        text += rnd.choice([",", " ", ", ", " ,"])
    return text


def _gen_definition(rnd: random.Random) -> str:
    """One rule with one or two variables whose converters take generated arguments."""
    pieces = ["/r"]
    for index in range(rnd.choice([1, 1, 1, 2])):
        kind = rnd.choice(_KINDS)
        args = f"({_gen_arglist(rnd, kind)})" if kind and rnd.random() < 0.9 else ""
        pieces.append(f"/<{kind}{args}:v{index}>" if kind else f"/<v{index}>")
    if rnd.random() < 0.2:
        pieces.append(rnd.choice(["/", "/edit"]))
    return "".join(pieces)


def _wz_items(argstr: str) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    try:
        return werkzeug_routing.rules.parse_converter_args(argstr)  # type: ignore[no-any-return]
    except ValueError:
        return None


_VARIABLE = re.compile(r"<(?:(\w+)(?:\((.*?)\))?:)?\w+>")


def _documented_acceptance(rule: str) -> bool:
    """Patera registers it, Werkzeug does not, for a documented reason."""
    for conv, argstr in _VARIABLE.findall(rule):
        parsed = _wz_items(argstr or "")
        if parsed is None and re.search(r"-\d", argstr):
            return True  # negative literals
        if conv == "any" and parsed is not None and any(not isinstance(item, str) for item in parsed[0]):
            return True  # any(1, 2): items as written
    return False


def _args_with_negatives(argstr: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Werkzeug's argument reader plus the negative literals patera adds (for the reference map)."""
    args, _written, kwargs = _parse_args(argstr)
    return tuple(args), kwargs


def _documented_refusal(rule: str) -> bool:
    """Werkzeug registers it, patera refuses it (SPEC §2.1): an any() item containing '/'."""
    return any(conv == "any" and "/" in (argstr or "") for conv, argstr in _VARIABLE.findall(rule))


_SEGMENTS = [
    "0",
    "1",
    "7",
    "12",
    "123",
    "1234",
    "1000",
    "999",
    "1001",
    "-3",
    "-1000",
    "1.5",
    "-1.5",
    "0.5",
    "1000.0",
    "a",
    "ab",
    "abc",
    "b c",
    "x,y",
    "1,2",
    "é",
    "y",
    "_",
    "",
    "x{-1}",
    "True",
    "6f9619ff-8b86-d011-b42d-00c04fc964ff",
    "٣",
    "1" * 1000,
]
_BUILD_VALUES: list[Any] = [
    0,
    7,
    12,
    1000,
    -3,
    1.5,
    -0.5,
    1000.0,
    "a",
    "abc",
    "b c",
    "x,y",
    "",
    "é",
    True,
    None,
    uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
]


def _wz_registers(rules: list[str]) -> Any:
    try:
        return _reference([(rule, frozenset({"GET"}), f"e{i}") for i, rule in enumerate(rules)], strict=False)
    except (ValueError, TypeError, LookupError, OverflowError, SyntaxError):
        return None


def _we_register(rules: list[str]) -> Router | None:
    router = Router()
    try:
        for i, rule in enumerate(rules):
            router.add(rule, ["GET"], f"e{i}", f"e{i}")
    except ValueError:
        return None
    return router


DEFINITION_SEEDS = range(10)
DEFINITIONS_PER_SEED = 100


@pytest.mark.parametrize("seed", DEFINITION_SEEDS)
def test_generated_rule_definitions_match_werkzeug(seed: int) -> None:
    rnd = random.Random(f"definitions-{seed}")
    for _ in range(DEFINITIONS_PER_SEED):
        odd = _gen_definition(rnd)
        wz_single, ours_single = _wz_registers([odd]), _we_register([odd])
        negative = False
        if (wz_single is None) != (ours_single is None):
            if ours_single is None:
                assert _documented_refusal(odd), ("patera refuses a rule Werkzeug accepts", odd)
                continue
            assert _documented_acceptance(odd), ("patera accepts a rule Werkzeug refuses", odd)
            if "any(" in odd:
                continue
            negative = True  # compare with Werkzeug's converters given the same (negative) arguments
        if ours_single is None:
            continue
        # One odd rule among ordinary ones: the others keep working, and every path agrees.
        rules = [odd, "/ok", "/r/<name>/x", "/r/static"]
        if negative:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(werkzeug_routing.rules, "parse_converter_args", _args_with_negatives)
                adapter = _wz_registers(rules)
        else:
            adapter = _wz_registers(rules)
        router = _we_register(rules)
        assert adapter is not None and router is not None, rules
        assert _our_outcome(router, "/ok", "GET") == ("ok", "e1", {})
        names = re.findall(r"<(?:[^<>]*:)?(\w+)>", odd)
        template = re.sub(r"<[^<>]*>", "\x00", odd)
        for _ in range(10):
            path = template
            for _name in names:
                path = path.replace("\x00", rnd.choice(_SEGMENTS + ["a/b"] * ("path" in odd)), 1)
            for method in ("GET", "POST"):
                assert _our_outcome(router, path, method) == _wz_outcome(adapter, path, method), (odd, path, method)
        for _ in range(4):
            values = {name: rnd.choice(_BUILD_VALUES) for name in names}
            assert _our_build(router, "e0", values) == _wz_build(adapter, "e0", values), (odd, values)


def test_rule_definition_corpus_is_varied() -> None:
    """The corpus reaches both sides of every documented difference (guards the generator)."""
    seen = {"both accept": 0, "both refuse": 0, "only patera": 0, "only werkzeug": 0}
    rnd = random.Random("definitions-varied")
    for _ in range(500):
        odd = _gen_definition(rnd)
        wz, ours = _wz_registers([odd]) is not None, _we_register([odd]) is not None
        key = (
            "both accept"
            if wz and ours
            else "both refuse"
            if not (wz or ours)
            else "only patera"
            if ours
            else "only werkzeug"
        )
        seen[key] += 1
    assert all(count > 0 for count in seen.values()), seen


_hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PATH_ALPHABET = st.sampled_from([*"/ab.-_0129٣é%\n ", "users", "me", "files", "edit", "//"])


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_arbitrary_paths_match_werkzeug(strict: bool) -> None:
    """Any text as a path: same outcome as Werkzeug, and never an unexpected exception."""
    router, adapter, _kept = _build_pair(HAND_PICKED_RULES, strict)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        st.lists(_PATH_ALPHABET, max_size=12).map(lambda xs: "/" + "".join(xs)), st.sampled_from(["GET", "POST", "PUT"])
    )
    def check(path: str, method: str) -> None:
        assert _our_outcome(router, path, method) == _wz_outcome(adapter, path, method), (path, method)

    check()
