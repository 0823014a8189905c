"""Route converters: Werkzeug's ``<int(min=1):id>`` family as regex + conversion pairs.

A converter's ``regex`` decides what a path segment may look like; ``to_python``
converts (or rejects, which ends matching as in Werkzeug); ``to_url`` builds.
int/float accept ASCII digits only (SPEC §2.1).

Arguments arrive as the rule parser pythonized them (bool, None, int, float or
str) and are taken as Werkzeug 3.1 takes them: ``string`` lengths through
``int()``, number bounds and ``fixed_digits`` as given, ``signed`` by truth
value, and ``path``/``uuid`` ignore whatever they are passed. A bound that
cannot be compared with a number (``min=abc``) makes the converter reject every
value, where Werkzeug would raise on each request.
"""

from __future__ import annotations

import math
import re
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

__all__ = (
    "CONVERTERS",
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "StringConverter",
    "UUIDConverter",
)

# NOTE: (WHATWG URL §path-percent-encode-set) what Werkzeug leaves unescaped in paths.
_PATH_SAFE = "!$&'()*+,/:;=@"
# int() refuses longer digit strings, so no int variable is ever longer (0: no limit).
_MAX_DIGITS = sys.get_int_max_str_digits() or 1 << 62


class _Reject(ValueError):
    """A converter refused a value that its regex accepted; ends matching (Werkzeug)."""


class BaseConverter:
    """A regex for matching plus the conversions to and from the URL text."""

    __slots__ = ("name", "regex")
    weight: ClassVar[int] = 100
    #: False when the regex may span slashes; such a part consumes the rest of the path.
    part_isolating: ClassVar[bool] = True
    #: True when ``to_python`` is the identity, so matching can skip the call.
    identity: ClassVar[bool] = True

    def __init__(self) -> None:
        self.name = "default"
        self.regex = "[^/]+"

    def to_python(self, value: str) -> Any:
        return value

    def fast_to_python(self) -> Callable[[str], Any]:
        """The cheapest callable equivalent to ``to_python`` (may raise any ValueError to reject)."""
        return self.to_python

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe=_PATH_SAFE)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.regex!r}>"


class StringConverter(BaseConverter):
    """``<name>`` / ``<string(minlength=1, maxlength=None, length=None):name>``: one segment."""

    __slots__ = ("length", "maxlength", "minlength")

    def __init__(self, minlength: Any = 1, maxlength: Any = None, length: Any = None) -> None:
        # NOTE: (Werkzeug) int() coercion: 1.5 -> 1, True -> 1, "3" -> 3; "x" or None raise.
        # Only what the regex uses is coerced: with `length`, the other two are not looked at.
        self.name = "string"
        self.minlength: Any = minlength
        self.maxlength: Any = maxlength
        self.length: Any = length
        if length is not None:
            self.regex = f"[^/]{{{int(length)}}}"
        else:
            upper = "" if maxlength is None else str(int(maxlength))
            self.regex = f"[^/]{{{int(minlength)},{upper}}}"


class AnyConverter(BaseConverter):
    """``<any(a, b, "c d"):name>``: exactly one of the items."""

    __slots__ = ("items",)

    def __init__(self, *items: str) -> None:
        # NOTE: (Werkzeug) no items is allowed: the regex then matches only an empty segment.
        for item in items:
            if not isinstance(item, str) or "/" in item:
                # Werkzeug accepts a "/" here and never matches it; SPEC §2.1 refuses it.
                raise ValueError(f"any() items must be strings without '/', got {item!r}")
        self.name = "any"
        self.items = tuple(items)
        self.regex = "(?:" + "|".join(re.escape(item) for item in items) + ")"

    def to_url(self, value: Any) -> str:
        if value in self.items or (value == "" and not self.items):  # builds the "" it matches
            return quote(value, safe=_PATH_SAFE)
        choices = ", ".join(repr(item) for item in sorted(self.items))
        raise ValueError(f"{value!r} is not one of {choices}")


class PathConverter(BaseConverter):
    """``<path:name>``: the rest of the path, slashes included; tried last."""

    __slots__ = ()
    weight = 200
    part_isolating = False

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # NOTE: (Werkzeug) arguments are accepted and ignored: `path(1)` is `path`.
        self.name = "path"
        self.regex = "[^/].*?"


class _NumberConverter(BaseConverter):
    __slots__ = ("max", "min", "signed")
    weight = 50
    identity = False
    # NOTE: (SPEC §2.1) ASCII digits only, unlike Werkzeug's Unicode-aware \d.
    _digits: ClassVar[str] = ""

    def _init_number(self, min: Any, max: Any, signed: Any) -> None:
        # NOTE: (Werkzeug) bounds are kept as given (1e3 stays 1000.0); `signed` counts by truth value.
        self.min, self.max, self.signed = min, max, bool(signed)
        self.regex = ("-?" if self.signed else "") + self._digits

    def _check_range(self, number: float) -> None:
        """Refuse to build a number the converter would not match (TypeError if a bound is text)."""
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise ValueError(f"{number!r} is outside [{self.min}, {self.max}]")
        if number < 0 and not self.signed:
            raise ValueError(f"{number!r} is negative but the converter is unsigned")


class IntConverter(_NumberConverter):
    """``<int(fixed_digits=0, min=None, max=None, signed=False):name>``."""

    __slots__ = ("_pad", "fixed_digits")
    _digits = "[0-9]+"

    def __init__(self, fixed_digits: Any = 0, min: Any = None, max: Any = None, signed: Any = False) -> None:
        self._init_number(min, max, signed)
        self.name = "int"
        # NOTE: (Werkzeug) compared as given: `fixed_digits=True` is 1, "4" or 1.5 never match.
        self.fixed_digits = fixed_digits
        # What build pads to; 1e3 pads like 1000 so that every matched value builds.
        pad: Any = fixed_digits
        if isinstance(pad, float) and pad.is_integer():
            pad = int(pad)
        if isinstance(pad, int) and pad > _MAX_DIGITS:
            pad = None  # no value that long matches (int() refuses it): refuse to build, not allocate
        self._pad = pad

    def to_python(self, value: str) -> int:
        digits = len(value) - (value[0] == "-")
        if self.fixed_digits and digits != self.fixed_digits:
            raise _Reject
        try:
            number = int(value)
        except ValueError:  # NOTE: more than sys.get_int_max_str_digits() digits
            raise _Reject from None
        try:
            if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
                raise _Reject
        except TypeError:  # a text bound (`min=abc`): Werkzeug raises on each request; never match
            raise _Reject from None
        return number

    def fast_to_python(self) -> Callable[[str], Any]:
        if not self.fixed_digits and self.min is None and self.max is None:
            return int  # PERF: the regex already guarantees [0-9]+; int() rejects > 4300 digits
        return self.to_python

    def to_url(self, value: Any) -> str:
        number = int(value)
        self._check_range(number)
        text = str(abs(number))
        if self.fixed_digits:
            text = text.zfill(self._pad)  # TypeError for a pad that never matches ("4", 1.5, huge)
        return "-" + text if number < 0 else text


class FloatConverter(_NumberConverter):
    """``<float(min=None, max=None, signed=False):name>``: ``1.5`` but not ``1``, ``1.`` or ``1e3``."""

    __slots__ = ()
    _digits = r"[0-9]+\.[0-9]+"

    def __init__(self, min: Any = None, max: Any = None, signed: Any = False) -> None:
        self._init_number(min, max, signed)
        self.name = "float"

    def to_python(self, value: str) -> float:
        number = float(value)
        if number == math.inf or number == -math.inf:
            raise _Reject
        try:
            if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
                raise _Reject
        except TypeError:  # a text bound, as for int
            raise _Reject from None
        return number

    def to_url(self, value: Any) -> str:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{number!r} is not a finite number")
        self._check_range(number)
        text = repr(number)
        if "e" in text or "E" in text:  # plain decimal notation, so the URL matches the rule again
            text = format(Decimal(text), "f")
            if "." not in text:
                text += ".0"
        return text


class UUIDConverter(BaseConverter):
    """``<uuid:name>``: 8-4-4-4-12 hex digits in any case, converted to :class:`uuid.UUID`."""

    __slots__ = ()
    identity = False

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        # NOTE: (Werkzeug) arguments are accepted and ignored, as for `path`.
        self.name = "uuid"
        self.regex = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _default_converter(*args: Any, **kwargs: Any) -> BaseConverter:
    conv = StringConverter(*args, **kwargs)
    conv.name = "default"
    return conv


CONVERTERS: dict[str, Callable[..., BaseConverter]] = {
    "default": _default_converter,
    "string": StringConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
