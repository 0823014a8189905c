"""Route converters: Werkzeug's ``<int(min=1):id>`` family as regex + conversion pairs.

A converter's ``regex`` decides what a path segment may look like; ``to_python``
converts (or rejects, which ends matching as in Werkzeug); ``to_url`` builds.
int/float accept ASCII digits only (SPEC §2.1).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

__all__ = (
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "StringConverter",
    "UUIDConverter",
    "CONVERTERS",
)

# NOTE: (WHATWG URL §path-percent-encode-set) what Werkzeug leaves unescaped in paths.
_PATH_SAFE = "!$&'()*+,/:;=@"


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


def _check_int(what: str, value: Any, *, optional: bool = False, minimum: int | None = None) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")


def _check_bool(what: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")


class StringConverter(BaseConverter):
    """``<name>`` / ``<string(minlength=1, maxlength=None, length=None):name>``: one segment."""

    __slots__ = ("minlength", "maxlength", "length")

    def __init__(self, minlength: int = 1, maxlength: int | None = None, length: int | None = None) -> None:
        _check_int("minlength", minlength, minimum=0)
        _check_int("maxlength", maxlength, optional=True, minimum=minlength)
        _check_int("length", length, optional=True, minimum=0)
        self.name = "string"
        self.minlength, self.maxlength, self.length = minlength, maxlength, length
        if length is not None:
            self.regex = f"[^/]{{{length}}}"
        else:
            self.regex = f"[^/]{{{minlength},{'' if maxlength is None else maxlength}}}"


class AnyConverter(BaseConverter):
    """``<any(a, b, "c d"):name>``: exactly one of the items."""

    __slots__ = ("items",)

    def __init__(self, *items: str) -> None:
        if not items:
            raise ValueError("any() needs at least one item")
        for item in items:
            if not isinstance(item, str) or "/" in item:
                raise ValueError(f"any() items must be strings without '/', got {item!r}")
        self.name = "any"
        self.items = tuple(items)
        self.regex = "(?:" + "|".join(re.escape(item) for item in items) + ")"

    def to_url(self, value: Any) -> str:
        if value in self.items:
            return quote(value, safe=_PATH_SAFE)
        choices = ", ".join(repr(item) for item in sorted(self.items))
        raise ValueError(f"{value!r} is not one of {choices}")


class PathConverter(BaseConverter):
    """``<path:name>``: the rest of the path, slashes included; tried last."""

    __slots__ = ()
    weight = 200
    part_isolating = False

    def __init__(self) -> None:
        self.name = "path"
        self.regex = "[^/].*?"


class _NumberConverter(BaseConverter):
    __slots__ = ("min", "max", "signed")
    weight = 50
    identity = False
    # NOTE: (SPEC §2.1) ASCII digits only, unlike Werkzeug's Unicode-aware \d.
    _digits: ClassVar[str] = ""

    def _init_number(self, min: float | None, max: float | None, signed: bool) -> None:
        _check_bool("signed", signed)
        self.min, self.max, self.signed = min, max, signed
        self.regex = ("-?" if signed else "") + self._digits

    def _check_range(self, number: float) -> None:
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise ValueError(f"{number!r} is outside [{self.min}, {self.max}]")
        if number < 0 and not self.signed:
            raise ValueError(f"{number!r} is negative but the converter is unsigned")


class IntConverter(_NumberConverter):
    """``<int(fixed_digits=0, min=None, max=None, signed=False):name>``."""

    __slots__ = ("fixed_digits",)
    _digits = "[0-9]+"

    def __init__(
        self, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False
    ) -> None:
        _check_int("fixed_digits", fixed_digits, minimum=0)
        _check_int("min", min, optional=True)
        _check_int("max", max, optional=True)
        self._init_number(min, max, signed)
        self.name = "int"
        self.fixed_digits = fixed_digits

    def to_python(self, value: str) -> int:
        digits = len(value) - (value[0] == "-")
        if self.fixed_digits and digits != self.fixed_digits:
            raise _Reject
        try:
            number = int(value)
        except ValueError:  # NOTE: more than sys.get_int_max_str_digits() digits
            raise _Reject from None
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise _Reject
        return number

    def fast_to_python(self) -> Callable[[str], Any]:
        if not self.fixed_digits and self.min is None and self.max is None:
            return int  # PERF: the regex already guarantees [0-9]+; int() rejects > 4300 digits
        return self.to_python

    def to_url(self, value: Any) -> str:
        number = int(value)
        self._check_range(number)
        text = str(abs(number)).zfill(self.fixed_digits)
        return "-" + text if number < 0 else text


def _check_number(what: str, value: Any) -> None:
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        raise ValueError(f"{what} must be a number, got {value!r}")


class FloatConverter(_NumberConverter):
    """``<float(min=None, max=None, signed=False):name>``: ``1.5`` but not ``1``, ``1.`` or ``1e3``."""

    __slots__ = ()
    _digits = r"[0-9]+\.[0-9]+"

    def __init__(self, min: float | None = None, max: float | None = None, signed: bool = False) -> None:
        _check_number("min", min)
        _check_number("max", max)
        self._init_number(min, max, signed)
        self.name = "float"

    def to_python(self, value: str) -> float:
        number = float(value)
        if number == math.inf or number == -math.inf:
            raise _Reject
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise _Reject
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

    def __init__(self) -> None:
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
