"""URL router with Werkzeug 3.1 matching semantics, written in-house.

Rules are split on ``/`` into parts and inserted into a trie of states. Static
parts are dict transitions; dynamic parts are precompiled regexes sorted by
weight. Matching walks the trie depth-first, static transitions before dynamic
ones, backtracking on failure, exactly like Werkzeug's ``StateMachineMatcher``.
Paths whose every segment is static are answered from one dict lookup.

Deliberate differences from Werkzeug (SPEC §2): int/float match ASCII digits
only, ``fixed_digits`` ignores a leading ``-``, a float overflowing to ``inf``
fails validation; ``build()`` rejects out-of-range or wrongly signed numbers,
writes floats in plain decimal notation, percent-encodes ``any`` values and
writes UUIDs canonically. Converter arguments are read and coerced as Werkzeug
does, so every rule Werkzeug registers registers here too, plus negative number
literals (``int(min=-5, signed=True)``). A converter pattern that cannot compile
(``string(minlength=3, maxlength=2)``) never matches instead of failing each
request. Stricter: ``any`` items containing ``/`` are a ``ValueError``, and a rule
shadowing another is ``DuplicateRoutePath``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from ._converters import (
    _PATH_SAFE,
    CONVERTERS,
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntConverter,
    PathConverter,
    StringConverter,
    UUIDConverter,
)
from .exceptions import DuplicateRoutePath, MethodNotAllowed, NotFound

__all__ = (
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "RequestRedirect",
    "Router",
    "Rule",
    "StringConverter",
    "UUIDConverter",
)

# NOTE: what Werkzeug leaves unescaped in query strings (form-encoded, so spaces become "+").
_QUERY_SAFE = "!$'()*,/:;?@"
_MULTI_SLASH = re.compile("/{2,}")
_NEVER = re.compile("(?!)").match  # stands in for a converter regex that does not compile
# Trie depth bound: freezing and matching recurse once per segment.
_MAX_SEGMENTS = 128


class RequestRedirect(Exception):
    """Internal signal: answer with a 308 to ``location`` (path only, no query)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class _SlashRequired(Exception):
    """The path matches a strict branch rule once a trailing slash is added."""


# --------------------------------------------------------------------------- rule parsing

_TOKEN = re.compile(
    r"(?P<slash>/)"
    r"|(?P<static>[^</]+)"
    r"|<(?:(?P<conv>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<args>.*?)\))?:)?(?P<var>[A-Za-z_][A-Za-z0-9_]*)>"
)
# The converter-argument grammar of Werkzeug 3.1 (rules.py ``parse_converter_args``), quirks
# included: ``\d+.\d+`` takes any middle character, so ``1,2`` is one string argument, and
# text after the last item that matches nothing is ignored. One addition (``negative``):
# ``-5``/``-1.5`` literals, which Werkzeug refuses, so that bounds can be negative.
_ARG = re.compile(
    r"""\s*(?:(?P<key>\w+)\s*=\s*)?
    (?P<value>True|False|\d+.\d+|\d+.|\d+|[\w.]+|[urUR]?(?P<quoted>"[^"]*?"|'[^']*')|(?P<negative>-\d[\w.]*))
    \s*,""",
    re.VERBOSE,
)
_CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None}


def _pythonize(text: str) -> Any:
    """An unquoted argument as Werkzeug reads it: a constant, else int(), else float(), else text."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:  # NOTE: int() also refuses more than 4300 digits; float() then gives inf
            pass
    return text


def _parse_args(argstr: str) -> tuple[list[Any], list[str], dict[str, Any]]:
    """Parse ``a, "b,c", min=1, signed=True`` exactly as Werkzeug 3.1 does.

    Returns the positional values, the same positionals as written (``any()``
    items are text, so ``1`` stays ``"1"``), and the keyword values (a repeated
    keyword: the last wins; positionals may follow keywords).
    """
    args: list[Any] = []
    raw: list[str] = []
    kwargs: dict[str, Any] = {}
    text = argstr + ","
    position = 0
    for m in _ARG.finditer(text):
        if m.start() != position:
            raise ValueError(f"cannot parse converter argument {text[position : m.start()]!r}")
        position = m.end()
        quoted = m.group("quoted")
        written = quoted[1:-1] if quoted is not None else m.group("value")
        value = written if quoted is not None else _pythonize(written)  # quoted values stay text
        key = m.group("key")
        if key is None:
            args.append(value)
            raw.append(written)
        else:
            kwargs[key] = value
    return args, raw, kwargs


class _Part:
    """One ``/``-delimited piece of a rule: static text or a regex with groups."""

    __slots__ = ("content", "final", "static", "suffixed", "weight")

    def __init__(self, static: bool, content: str, final: bool, suffixed: bool, weight: tuple[Any, ...]) -> None:
        self.static, self.content, self.final, self.suffixed, self.weight = static, content, final, suffixed, weight

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.static, self.content, self.final, self.suffixed, self.weight)


def _split_rule(rule: str) -> tuple[list[_Part], list[tuple[bool, str]], list[tuple[str, BaseConverter]]]:
    """Turn a rule string into trie parts, a build trace and its ordered variables."""
    parts: list[_Part] = []
    trace: list[tuple[bool, str]] = []
    variables: list[tuple[str, BaseConverter]] = []
    seen_names: set[str] = set()

    pieces: list[str] = []  # regex (or raw static text while `static`)
    static = True
    final = False
    static_weights: list[tuple[int, int]] = []
    arg_weights: list[int] = []

    def weight() -> tuple[Any, ...]:
        # More static chunks first, longer ones earlier, then more variables, then lighter converters.
        return (-len(static_weights), tuple(static_weights), -len(arg_weights), tuple(arg_weights))

    pos = 0
    while pos < len(rule):
        m = _TOKEN.match(rule, pos)
        if m is None:
            raise ValueError(f"malformed variable at position {pos}")
        pos = m.end()
        text = m.group("static")
        if text is not None:
            static_weights.append((len(static_weights), -len(text)))
            trace.append((False, text))
            pieces.append(text if static else re.escape(text))
            continue
        var = m.group("var")
        if var is not None:
            if var in seen_names:
                raise ValueError(f"variable {var!r} appears twice")
            seen_names.add(var)
            conv_name = m.group("conv") or "default"
            factory = CONVERTERS.get(conv_name)
            if factory is None:
                raise ValueError(f"unknown converter {conv_name!r}")
            args, raw, kwargs = _parse_args(m.group("args") or "")
            try:
                conv = factory(*(raw if conv_name == "any" else args), **kwargs)
            except (TypeError, ValueError, OverflowError) as exc:  # what Werkzeug refuses, as it does
                raise ValueError(f"bad arguments for converter {conv_name!r}: {exc}") from None
            if static:
                pieces = [re.escape("".join(pieces))]
                static = False
            if not conv.part_isolating:
                final = True
            pieces.append(f"({conv.regex})")
            arg_weights.append(conv.weight)
            variables.append((var, conv))
            trace.append((True, var))
            continue
        # a slash
        trace.append((False, "/"))
        if final:
            pieces.append("/")
            continue
        content = "".join(pieces)
        parts.append(_Part(static, content if static else content + r"\Z", False, False, weight()))
        pieces, static, static_weights, arg_weights = [], True, [], []

    content = "".join(pieces)
    suffixed = final and content.endswith("/")
    if suffixed:
        # A trailing slash after a path variable: capture it separately so the
        # strict-slash redirect logic sees it like any other trailing slash.
        content = content[:-1] + "(?<!/)(/?)"
    w = weight()
    parts.append(_Part(static, content if static else content + r"\Z", final, suffixed, w))
    if suffixed:
        parts.append(_Part(True, "", False, False, w))
    if len(parts) - 1 > _MAX_SEGMENTS:  # parts[0] is the root
        raise ValueError(f"more than {_MAX_SEGMENTS} segments")
    return parts, trace, variables


# --------------------------------------------------------------------------- rules and states


class Rule:
    """One registered route: its text, methods, endpoint and ordered variables."""

    __slots__ = (
        "_argnames",
        "_build_ops",
        "_convert",
        "_names",
        "_parts",
        "_plain",
        "arguments",
        "endpoint",
        "methods",
        "name",
        "rule",
    )

    def __init__(self, rule: str, methods: frozenset[str], endpoint: object, name: str, merge_slashes: bool) -> None:
        if not isinstance(rule, str) or not rule.startswith("/"):
            raise ValueError(f"URL rule {rule!r} must start with a slash.")
        self.rule = rule
        self.methods = methods
        self.endpoint = endpoint
        self.name = name
        try:
            parts, trace, variables = _split_rule(_MULTI_SLASH.sub("/", rule) if merge_slashes else rule)
        except ValueError as exc:
            raise ValueError(f"Invalid URL rule {rule!r}: {exc}") from None
        self._parts = parts
        self.arguments: list[tuple[str, BaseConverter]] = variables
        self._argnames = frozenset(name for name, _ in variables)
        convs = dict(variables)
        self._build_ops: tuple[tuple[bool, str, BaseConverter | None], ...] = tuple(
            (True, text, convs[text]) if is_var else (False, quote(text, safe=_PATH_SAFE), None)
            for is_var, text in trace
        )
        # PERF: identity converters (string, path, any) are skipped when converting matches.
        self._convert: tuple[tuple[str, Callable[[str], Any] | None], ...] = tuple(
            (var, None if conv.identity else conv.fast_to_python()) for var, conv in variables
        )
        self._names = tuple(var for var, _ in variables)
        self._plain = all(convert is None for _, convert in self._convert)

    def __repr__(self) -> str:
        return f"<Rule {self.rule!r} {sorted(self.methods)} -> {self.name}>"


class _State:
    """A trie node: rules ending here plus static and dynamic transitions."""

    __slots__ = ("_dyn", "dynamic", "rules", "static")

    def __init__(self) -> None:
        self.static: dict[str, _State] = {}
        # (part, state) in insertion order; sorted by weight at freeze
        self._dyn: list[tuple[_Part, _State]] = []
        # compiled form used while matching: (regex.match, final, suffixed, state)
        self.dynamic: tuple[tuple[Callable[[str], re.Match[str] | None], bool, bool, _State], ...] = ()
        self.rules: list[Rule] = []


_TAIL = [""]  # the parts left when a path variable swallowed a trailing slash


def _walk(
    state: _State,
    parts: list[str],
    i: int,
    n: int,
    values: tuple[str, ...],
    method: str,
    seen: set[str],
    strict: bool,
) -> tuple[Rule, tuple[str, ...]] | None:
    """Depth-first match of ``parts[i:]``: static first, then dynamic by weight, backtracking."""
    if i == n:
        for rule in state.rules:
            if method in rule.methods:
                return rule, values
            seen.update(rule.methods)
        tail = state.static.get("")
        if tail is not None:
            for rule in tail.rules:
                if method in rule.methods:
                    if strict:
                        raise _SlashRequired
                    return rule, values
        return None

    part = parts[i]
    nxt = state.static.get(part)
    if nxt is not None:
        rv = _walk(nxt, parts, i + 1, n, values, method, seen, strict)
        if rv is not None:
            return rv
    for match, final, suffixed, target in state.dynamic:
        if final:
            m = match("/".join(parts[i:]))
            if m is None:
                continue
            groups = m.groups()
            if suffixed:
                if groups[-1] == "/":
                    rv = _walk(target, _TAIL, 0, 1, values + groups[:-1], method, seen, strict)
                else:
                    rv = _walk(target, parts, n, n, values + groups[:-1], method, seen, strict)
            else:
                rv = _walk(target, parts, n, n, values + groups, method, seen, strict)
        else:
            m = match(part)
            if m is None:
                continue
            rv = _walk(target, parts, i + 1, n, values + m.groups(), method, seen, strict)
        if rv is not None:
            return rv

    # "/x/" may still reach a leaf rule "/x" when slashes are not strict
    if not strict and part == "" and i == n - 1:
        for rule in state.rules:
            if method in rule.methods:
                return rule, values
            seen.update(rule.methods)
    return None


class _NoMethod:
    """A method no rule accepts; used to collect every method a path allows."""

    __slots__ = ()


_NO_METHOD: Any = _NoMethod()


class Router:
    """Werkzeug-compatible router: ``Map(strict_slashes=..., merge_slashes=...)`` plus adapter."""

    __slots__ = (
        "_by_name",
        "_dirty",
        "_regex_cache",
        "_root",
        "_rules",
        "_start",
        "_static",
        "merge_slashes",
        "strict_slashes",
    )

    def __init__(self, *, strict_slashes: bool = False, merge_slashes: bool = True) -> None:
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self._rules: list[Rule] = []
        self._root = _State()
        self._static: dict[str, dict[str, Rule]] = {}
        self._by_name: dict[str, list[Rule]] = {}
        self._dirty = True
        self._regex_cache: dict[str, Callable[[str], re.Match[str] | None]] = {}
        self._start: _State | None = None

    @property
    def rules(self) -> list[Rule]:
        """All rules in registration order."""
        return list(self._rules)

    def add(self, rule: str, methods: Iterable[str], endpoint: object, name: str) -> Rule:
        """Register a rule.

        Raises:
            ValueError: the rule text is invalid.
            DuplicateRoutePath: an identical rule already accepts one of these methods.
        """
        if isinstance(methods, str):
            raise TypeError("methods must be an iterable of strings, not a string")
        method_set = {m.upper() for m in methods}
        if "GET" in method_set:
            method_set.add("HEAD")
        new = Rule(rule, frozenset(method_set), endpoint, name, self.merge_slashes)

        state = self._root
        for part in new._parts:
            if part.static:
                state = state.static.setdefault(part.content, _State())
                continue
            if part.content not in self._regex_cache:  # PERF: compiled once, at registration
                try:
                    self._regex_cache[part.content] = re.compile(part.content).match
                except (re.error, OverflowError):  # e.g. string(minlength=3, maxlength=2), length=1e11
                    # NOTE: Werkzeug accepts such a rule and raises on every request that reaches
                    # it; here the part never matches, so neither the app nor a request fails.
                    self._regex_cache[part.content] = _NEVER
            key = part.key
            for existing, nxt in state._dyn:
                if existing.key == key:
                    state = nxt
                    break
            else:
                nxt = _State()
                state._dyn.append((part, nxt))
                state = nxt
        for other in state.rules:
            overlap = other.methods & new.methods
            if overlap:
                raise DuplicateRoutePath(
                    f"Rule {rule!r} ({name}) duplicates {other.rule!r} ({other.name}) "
                    f"for methods {', '.join(sorted(overlap))}"
                )
        state.rules.append(new)
        self._rules.append(new)
        self._by_name.setdefault(name, []).append(new)
        self._dirty = True
        return new

    def freeze(self) -> None:
        """Sort transitions, compile regexes and build the static table; done once after adds."""
        static: dict[str, dict[str, Rule]] = {}
        cache = self._regex_cache

        def visit(state: _State, keys: list[str] | None) -> None:
            ordered = sorted(state._dyn, key=lambda entry: entry[0].weight)  # stable: ties keep registration order
            compiled: list[tuple[Callable[[str], re.Match[str] | None], bool, bool, _State]] = []
            for part, nxt in ordered:
                compiled.append((cache[part.content], part.final, part.suffixed, nxt))
                visit(nxt, None)  # below a dynamic part nothing is reachable by static lookup
            state.dynamic = tuple(compiled)
            for key, nxt in state.static.items():
                if keys is None:
                    visit(nxt, None)
                    continue
                keys.append(key)
                self._add_static(static, "/".join(keys), nxt)
                visit(nxt, keys)
                keys.pop()

        visit(self._root, [])
        self._static = static
        self._start = self._root.static.get("")
        for rules in self._by_name.values():
            rules.sort(key=lambda r: -len(r.arguments))
        self._dirty = False

    def _add_static(self, table: dict[str, dict[str, Rule]], path: str, state: _State) -> None:
        """Record what the all-static first branch of the walk returns for ``path``, per method."""
        if not path.startswith("/") or path.startswith("//"):
            return  # such paths are normalised first; leave them to the full walk
        by_method: dict[str, Rule] = {}
        for rule in state.rules:
            for method in rule.methods:
                by_method.setdefault(method, rule)
        tail = state.static.get("")
        if tail is not None and not self.strict_slashes:
            for rule in tail.rules:
                for method in rule.methods:
                    by_method.setdefault(method, rule)
        if by_method:
            table[path] = by_method

    def match(self, path: str, method: str) -> tuple[Any, dict[str, Any]]:
        """Find the endpoint and converted values for an ASGI ``path`` and ``method``.

        The endpoint is the object given to :meth:`add`; the caller knows its type.

        Raises:
            NotFound: no rule matches the path.
            MethodNotAllowed: rules match the path, but not with this method.
            RequestRedirect: a trailing slash is required or repeated slashes must be merged.
        """
        if self._dirty:
            self.freeze()
        # PERF: fully static paths are one dict lookup (plus one per method).
        hit = self._static.get(path)
        if hit is not None:
            rule = hit.get(method)
            if rule is not None:
                return rule.endpoint, {}
        rule, values = self._match(path, method.upper())
        return rule.endpoint, values

    def _match(self, path: str, method: str) -> tuple[Rule, dict[str, Any]]:
        if path[:1] != "/" or path[1:2] == "/":
            # NOTE: Werkzeug matches "/" + path.lstrip("/"), so "//evil.com/x" is "/evil.com/x".
            path = "/" + path.lstrip("/") if path else ""
        seen: set[str] = set()
        strict = self.strict_slashes
        parts = path.split("/")
        # PERF: every rule starts with "/", so the root only has the "" transition and
        # parts[0] is "" for every normalised path: start one level down.
        start = self._start
        if start is None:
            raise NotFound()
        try:
            rv = _walk(start, parts, 1, len(parts), (), method, seen, strict)
        except _SlashRequired:
            raise RequestRedirect(_location(path + "/")) from None
        if rv is None:
            if self.merge_slashes and "//" in path:
                merged = _MULTI_SLASH.sub("/", path)
                parts = merged.split("/")
                try:
                    rv = _walk(start, parts, 1, len(parts), (), method, seen, strict)
                except _SlashRequired:
                    raise RequestRedirect(_location(merged + "/")) from None
                if rv is not None:
                    raise RequestRedirect(_location(merged))
            if seen:
                raise MethodNotAllowed(seen)
            raise NotFound()
        rule, raw = rv
        if rule._plain:
            return rule, dict(zip(rule._names, raw))  # noqa: B905 - PERF: only identity converters; equal lengths
        result: dict[str, Any] = {}
        try:
            for (var, convert), value in zip(rule._convert, raw):  # noqa: B905 - PERF: equal by construction
                result[var] = value if convert is None else convert(value)
        except ValueError:  # _Reject, or int() refusing more than 4300 digits
            # NOTE: (Werkzeug) a converter rejection ends matching; no lower-priority rule is tried.
            if seen:
                raise MethodNotAllowed(seen) from None
            raise NotFound() from None
        return rule, result

    def allowed_methods(self, path: str) -> set[str]:
        """Methods any rule accepts for ``path`` (for ``Allow`` and automatic OPTIONS)."""
        if self._dirty:
            self.freeze()
        try:
            self._match(path, _NO_METHOD)
        except MethodNotAllowed as exc:
            return set(exc.valid_methods)
        except (NotFound, RequestRedirect):
            pass
        return set()

    def build(self, name: str, values: Mapping[str, Any] | None = None) -> str:
        """Build the path for rule ``name``; unknown values become the query string.

        Raises:
            ValueError: unknown name, a missing variable, or a value a converter rejects.
        """
        if self._dirty:
            self.freeze()
        rules = self._by_name.get(name)
        if not rules:
            raise ValueError(f"Endpoint '{name}' does not exist.")
        vals = {k: v for k, v in values.items() if v is not None} if values else {}
        chosen: Rule | None = None
        # Werkzeug prefers rules that accept GET, then any rule; more variables first.
        for rule in rules:
            if "GET" in rule.methods and rule._argnames.issubset(vals):
                chosen = rule
                break
        else:
            for rule in rules:
                if rule._argnames.issubset(vals):
                    chosen = rule
                    break
        if chosen is None:
            missing = sorted(rules[0]._argnames.difference(vals))
            raise ValueError(
                f"Could not build url for endpoint '{name}': missing value for variable(s) "
                + ", ".join(f"'{var}'" for var in missing)
            )
        pieces: list[str] = []
        for _is_var, text, conv in chosen._build_ops:
            if conv is None:
                pieces.append(text)
                continue
            try:
                pieces.append(conv.to_url(vals[text]))
            except (ValueError, TypeError, OverflowError) as exc:
                raise ValueError(
                    f"Could not build url for endpoint '{name}': bad value for variable '{text}': {exc}"
                ) from None
        url = "/" + "".join(pieces).lstrip("/")
        argnames = chosen._argnames
        query: list[tuple[str, Any]] = []
        for key, value in vals.items():
            if key in argnames:
                continue
            if isinstance(value, (list, tuple, set)):
                query.extend((key, item) for item in value if item is not None)
            else:
                query.append((key, value))
        if query:
            qs = urlencode(query, safe=_QUERY_SAFE)
            if qs:
                url += "?" + qs
        return url


def _location(path: str) -> str:
    """Percent-encode a redirect path as Werkzeug does, with exactly one leading slash."""
    return "/" + quote(path, safe=_PATH_SAFE).lstrip("/")
