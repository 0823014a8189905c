"""Cookie parsing and ``Set-Cookie`` serialisation (SPEC §6), pure and linear-time.

Written in-house instead of using :mod:`http.cookies`: that module discards every cookie
in the header when one pair is malformed, raises ``CookieError`` on input such as
``=__Host-sid=x``, and its unquoting was quadratic on backslash runs (CVE-2024-7592).
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta

__all__ = ("dump_delete_cookie", "dump_set_cookie", "http_date", "parse_cookie_header")

# NOTE: (RFC 9110 §5.6.2) token characters; a cookie name must be a token.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# NOTE: (RFC 6265 §4.1.1) cookie-octet: printable ASCII minus space, DQUOTE, comma, ";" and "\".
_COOKIE_OCTETS_RE = re.compile(r"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")
# CTLs and ";" can never appear in a cookie value or attribute (header splitting, attribute injection).
_FORBIDDEN_RE = re.compile(r"[\x00-\x1F\x7F;]")
# PERF: one left-to-right pass; each backslash is consumed once, so runs of them stay linear.
_UNESCAPE_RE = re.compile(r'\\(?:([0-3][0-7]{2})|(["\\]))')

# Quoting works on the UTF-8 bytes viewed as latin-1 code points: '"' and '\' are escaped,
# every non-ASCII byte becomes a \ooo octal escape, so the emitted header is pure ASCII.
_QUOTE_MAP: dict[int, str] = {0x22: '\\"', 0x5C: "\\\\"}
_QUOTE_MAP.update({b: f"\\{b:03o}" for b in range(0x80, 0x100)})

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# datetime's range; timestamps outside it are clamped instead of raising OverflowError.
_MIN_TS = -62135596800.0  # 0001-01-01T00:00:00Z
_MAX_TS = 253402300799.0  # 9999-12-31T23:59:59Z
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
_EPOCH_DATE = "Thu, 01 Jan 1970 00:00:00 GMT"


# --------------------------------------------------------------------------- parsing


def _unescape(match: re.Match[str]) -> str:
    octal = match.group(1)
    return chr(int(octal, 8)) if octal is not None else match.group(2)


def _redecode(text: str) -> str:
    """Re-read latin-1 text as UTF-8; servers hand us header bytes decoded as latin-1."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not UTF-8 (or not latin-1 code points at all): keep as received
        return text


def parse_cookie_header(value: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header into ``{name: value}``.

    Lenient by design (SPEC §6.1): a malformed pair is skipped without losing the others,
    nameless pairs are dropped (so ``=__Host-sid=x`` cannot pose as ``__Host-sid``), the
    first occurrence of a name wins (browsers send the most specific cookie first), and
    nothing is percent-decoded. Runs in linear time and never raises.

    Args:
        value: the header value as the server decoded it (latin-1).

    Returns:
        The cookies; non-ASCII names and values are re-decoded as UTF-8 when possible.
    """
    cookies: dict[str, str] = {}
    for pair in value.split(";"):
        name, eq, val = pair.partition("=")
        if not eq:
            continue
        name = name.strip(" \t")
        if not name or name in cookies:
            continue
        val = val.strip(" \t")
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = val[1:-1]
            if "\\" in val:
                val = _UNESCAPE_RE.sub(_unescape, val)
        if not val.isascii():
            val = _redecode(val)
        if not name.isascii():
            name = _redecode(name)
            if name in cookies:
                continue
        cookies[name] = val
    return cookies


# --------------------------------------------------------------------------- serialising


def http_date(ts: datetime | float) -> str:
    """Format an IMF-fixdate (RFC 9110 §5.6.7), e.g. ``Thu, 01 Jan 1970 00:00:00 GMT``.

    Built by hand because ``strftime("%a %b")`` follows the process locale. A naive
    datetime is taken as UTC; epoch seconds outside years 1–9999 are clamped.

    Raises:
        ValueError: ``ts`` is NaN.
    """
    if isinstance(ts, datetime):
        dt = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    else:
        seconds = float(ts)
        if math.isnan(seconds):
            raise ValueError("cannot format NaN as an HTTP date")
        seconds = min(max(seconds, _MIN_TS), _MAX_TS)
        dt = _EPOCH + timedelta(seconds=math.floor(seconds))
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def _quote_value(value: str) -> str:
    if _COOKIE_OCTETS_RE.fullmatch(value):
        return value
    if _FORBIDDEN_RE.search(value):
        raise ValueError("cookie value must not contain control characters or ';'")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("cookie value is not encodable as UTF-8 (lone surrogate)") from None
    return '"' + raw.decode("latin-1").translate(_QUOTE_MAP) + '"'


def _check_attribute(what: str, text: str) -> str:
    if _FORBIDDEN_RE.search(text):
        raise ValueError(f"cookie {what} must not contain control characters or ';'")
    if not text.isascii():
        # NOTE: response headers go out as latin-1; punycode the domain / percent-encode the path.
        raise ValueError(f"cookie {what} must be ASCII")
    return text


def _max_age_seconds(max_age: int | timedelta) -> int:
    if isinstance(max_age, timedelta):
        return int(max_age.total_seconds())
    if isinstance(max_age, bool) or not isinstance(max_age, int):
        raise ValueError(f"max_age must be an int or a timedelta, not {type(max_age).__name__}")
    return max_age


def dump_set_cookie(
    name: str,
    value: str,
    max_age: int | timedelta | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    http_only: bool = True,
    *,
    expires: datetime | int | float | str | None = None,
    samesite: str | None = "Lax",
    partitioned: bool = False,
) -> str:
    """Serialise one ``Set-Cookie`` header value (SPEC §6.2).

    Values made only of RFC 6265 cookie-octets are emitted verbatim; anything else is
    wrapped in double quotes with ``"``/``\\`` escaped and non-ASCII written as octal
    escapes of its UTF-8 bytes, which :func:`parse_cookie_header` decodes back exactly.

    Raises:
        ValueError: the name is not a token; value, path, domain or a string ``expires``
            contains a CTL or ``;``; ``samesite`` is not Lax/Strict/None; ``SameSite=None``
            or ``partitioned`` without ``secure``; or a ``__Secure-``/``__Host-`` prefix
            requirement is not met (RFC 6265bis §4.1.3, prefixes matched case-insensitively).
    """
    if not isinstance(name, str) or not _TOKEN_RE.fullmatch(name):
        raise ValueError(f"cookie name {name!r} is not an HTTP token")
    if not isinstance(value, str):
        raise ValueError(f"cookie value must be str, not {type(value).__name__}")
    parts = [f"{name}={_quote_value(value)}"]

    age = _max_age_seconds(max_age) if max_age is not None else None
    if expires is not None:
        if isinstance(expires, str):
            parts.append(f"Expires={_check_attribute('expires', expires)}")
        else:
            parts.append(f"Expires={http_date(expires)}")
    elif age is not None:
        parts.append(f"Expires={http_date(time.time() + age)}")
    if age is not None:
        parts.append(f"Max-Age={age}")
    if domain is not None:
        parts.append(f"Domain={_check_attribute('domain', domain)}")
    if path is not None:
        parts.append(f"Path={_check_attribute('path', path)}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if samesite is not None:
        canonical = _SAMESITE.get(samesite.lower()) if isinstance(samesite, str) else None
        if canonical is None:
            raise ValueError(f"samesite must be 'Lax', 'Strict', 'None' or None, not {samesite!r}")
        if canonical == "None" and not secure:
            raise ValueError("SameSite=None requires secure=True")
        parts.append(f"SameSite={canonical}")
    if partitioned:
        if not secure:
            raise ValueError("partitioned cookies require secure=True")
        parts.append("Partitioned")

    prefix = name[:9].lower()
    if prefix == "__secure-" and not secure:
        raise ValueError("__Secure- cookies require secure=True")
    if name[:7].lower() == "__host-" and (not secure or domain is not None or path != "/"):
        raise ValueError("__Host- cookies require secure=True, no domain and path='/'")
    return "; ".join(parts)


def dump_delete_cookie(
    name: str,
    path: str | None = "/",
    domain: str | None = None,
    *,
    secure: bool = False,
    samesite: str | None = None,
) -> str:
    """Serialise a ``Set-Cookie`` that makes the browser drop ``name`` at ``path``/``domain``.

    Path and domain must equal the ones the cookie was set with, or the browser keeps it.

    Raises:
        ValueError: for the same reasons as :func:`dump_set_cookie` (a ``__Host-`` cookie
            can only be deleted by a ``secure`` header, so the refusal points at the bug).
    """
    return dump_set_cookie(
        name, "", 0, path, domain, secure, False, expires=_EPOCH_DATE, samesite=samesite
    )
