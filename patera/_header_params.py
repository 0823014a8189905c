"""``Content-Type`` / ``Content-Disposition`` parameters: ``type/sub; name="value"; name*=utf-8''…``."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

__all__ = ("parse_options_header",)

_WS = " \t"


def _decode_extended(value: str) -> str | None:
    """RFC 5987/2231 ``charset'lang'%XX`` value, or None when it is not one."""
    charset, sep, rest = value.partition("'")
    if not sep:
        return None
    _lang, sep, encoded = rest.partition("'")
    if not sep:
        return None
    raw = unquote_to_bytes(encoded)
    try:
        return raw.decode(charset.strip() or "utf-8")
    except (LookupError, ValueError):  # ValueError: UnicodeError of idna/punycode/undefined, a NUL in the name
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _parse_simple_params(rest: str) -> dict[str, str] | None:
    """Parameters without escapes, ``;`` inside quotes or ``name*``; None if unsure.

    PERF: the common ``form-data; name="x"`` costs one split and a partition per
    parameter; anything unusual returns None and takes the general scanner.
    """
    params: dict[str, str] = {}
    for segment in rest.split(";"):
        name, eq, val = segment.partition("=")
        if not eq:
            continue  # blank or junk segment: skipped by the general scanner too
        name = name.strip(_WS).lower()
        val = val.strip(_WS)
        if '"' in val:
            if len(val) < 2 or val[0] != '"' or val[-1] != '"' or val.count('"') != 2:
                return None
            val = val[1:-1]
        if not name or name[-1] == "*":
            return None
        params[name] = val
    return params


def parse_options_header(value: str | None, *, strict: bool = False) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a=b; c="d"`` into the lower-cased base and its parameters.

    Parameter names are lower-cased; quoted strings honour ``\\"`` and ``\\\\``
    (so ``filename="C:\\\\a\\\\b.txt"``, as httpx, aiohttp and ``email`` send it, is
    ``C:\\a\\b.txt``). A ``filename`` with any other backslash is an old-IE
    unescaped path and is kept exactly as sent. RFC 5987 ``name*=`` values are
    decoded and win over the plain ``name``. Junk segments are skipped. One
    forward scan with ``str.find``: linear time, no regex, so a hostile header
    cannot trigger backtracking.

    Raises:
        ValueError: ``strict`` and a quoted value is never closed (``name="abc``).
    """
    if not value:
        return "", {}
    n = len(value)
    semi = value.find(";")
    if semi < 0:
        return value.strip(_WS).lower(), {}
    base = value[:semi].strip(_WS).lower()
    if "\\" not in value:
        fast = _parse_simple_params(value[semi + 1 :])
        if fast is not None:
            return base, fast
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    i = semi + 1
    while i < n:
        if value[i] in " \t;":
            i += 1
            continue
        end = value.find(";", i)
        if end < 0:
            end = n
        eq = value.find("=", i, end)
        if eq < 0:  # a bare word: junk for our purposes
            i = end + 1
            continue
        name = value[i:eq].strip(_WS).lower()
        i = eq + 1
        while i < n and value[i] in _WS:
            i += 1
        if i < n and value[i] == '"':
            i += 1
            start = i
            pieces: list[str] = []
            unknown_escape = False
            quote = value.find('"', i)
            while True:
                # PERF: jump between quotes/backslashes with str.find; `quote`
                # is only recomputed once passed, so the scan stays linear.
                if quote != -1 and quote < i:
                    quote = value.find('"', i)
                slash = value.find("\\", i, quote if quote >= 0 else n)
                if slash < 0:
                    if quote < 0:  # never closed
                        if strict:
                            raise ValueError(f"unterminated quoted value for parameter {name!r}")
                        pieces.append(value[i:])
                        close = i = n
                        break
                    pieces.append(value[i:quote])
                    close, i = quote, quote + 1
                    break
                pieces.append(value[i:slash])
                nxt = value[slash + 1 : slash + 2]
                if nxt in ('"', "\\"):
                    pieces.append(nxt)
                else:  # not an escape we know: keep the backslash literally
                    pieces.append("\\" + nxt)
                    unknown_escape = True
                i = slash + 2
            # NOTE: IE6-8 send full Windows paths unescaped (C:\dir\f.png, \\host\share\f):
            # in a filename, a backslash before anything but a backslash or a quote means
            # nothing was escaped, so the value is kept exactly as sent.
            val = value[start:close] if unknown_escape and name == "filename" else "".join(pieces)
            # skip whatever trails the closing quote up to the next ";"
            nxt_semi = value.find(";", i) if i < n else -1
            i = n if nxt_semi < 0 else nxt_semi + 1
        else:
            val = value[i:end].rstrip(_WS)
            i = end + 1
        if not name:
            continue
        if name[-1] == "*":
            decoded = _decode_extended(val)
            if decoded is not None:
                extended[name[:-1]] = decoded
                continue
        params[name] = val
    if extended:
        params.update(extended)
    return base, params
