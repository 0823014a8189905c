"""A small ``.env`` reader, so the core needs no python-dotenv.

Only what SPEC §1.3 promises: ``KEY=VALUE`` lines, an optional ``export`` prefix, comments,
single-quoted literals and double-quoted values with a few escapes. There is deliberately no
``${VAR}`` interpolation: values are taken as written. Nothing here touches ``os.environ``.
"""

from __future__ import annotations

import os
import re

from loguru import logger

__all__ = ("parse_dotenv", "read_dotenv")

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_EXPORT_RE = re.compile(r"export\s+")
# An unquoted value ends at whitespace followed by "#"; a bare "#" inside a value is kept
# (``URL=http://host/#frag``), matching the shells' and python-dotenv's reading.
_INLINE_COMMENT_RE = re.compile(r"\s#")
_DOUBLE_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class _Malformed(ValueError):
    """A line that cannot be read; the caller logs it and moves on."""


def _unescape_double(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in _DOUBLE_ESCAPES:
            out.append(_DOUBLE_ESCAPES[raw[i + 1]])
            i += 2
            continue
        out.append(ch)  # unknown escapes such as "\x" are kept as written
        i += 1
    return "".join(out)


def _closing_double_quote(text: str, start: int) -> int:
    """Index of the first unescaped ``"`` at or after ``start``, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def _check_trailer(trailer: str) -> None:
    """After a closing quote only whitespace and an optional comment may follow."""
    rest = trailer.strip()
    if rest and not rest.startswith("#"):
        raise _Malformed(f"unexpected text after closing quote: {rest!r}")


def _parse_value(raw: str, more_lines: list[str]) -> tuple[str, int]:
    """Read one value; returns it and the number of extra lines a quoted value spanned.

    ``more_lines`` are the lines after the current one, used only by quoted values that
    continue over several lines (PEM keys and the like).
    """
    stripped = raw.lstrip()
    if not stripped or stripped[0] not in "'\"":
        # Search before stripping so "KEY= # note" reads as an empty value.
        match = _INLINE_COMMENT_RE.search(raw)
        value = raw[: match.start()] if match else raw
        return value.strip(), 0
    raw = stripped
    quote = raw[0]
    text = raw[1:]
    consumed = 0
    while True:
        end = text.find("'") if quote == "'" else _closing_double_quote(text, 0)
        if end != -1:
            _check_trailer(text[end + 1 :])
            body = text[:end]
            return (body if quote == "'" else _unescape_double(body)), consumed
        if consumed >= len(more_lines):
            raise _Malformed(f"unterminated {quote}-quoted value")
        text += "\n" + more_lines[consumed]
        consumed += 1


def parse_dotenv(text: str, *, source: str = "<string>") -> dict[str, str]:
    """Parse ``.env`` text into a dict; later assignments of a key win.

    Malformed lines are skipped with a WARNING naming ``source`` and the 1-based line number,
    so one typo does not stop the application from starting.
    """
    result: dict[str, str] = {}
    lines = text.removeprefix("\ufeff").splitlines()
    index = 0
    while index < len(lines):
        lineno = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if (export := _EXPORT_RE.match(line)) is not None:
            line = line[export.end() :]
        key, sep, raw_value = line.partition("=")
        key = key.strip()
        try:
            if not sep:
                raise _Malformed("missing '='")
            if not _KEY_RE.fullmatch(key):
                raise _Malformed(f"invalid variable name {key!r}")
            value, extra_lines = _parse_value(raw_value, lines[index:])
        except _Malformed as exc:
            logger.warning("{}: line {} skipped ({})", source, lineno, exc)
            continue
        index += extra_lines
        result[key] = value
    return result


def read_dotenv(path: str | os.PathLike[str], encoding: str = "utf-8") -> dict[str, str]:
    """Read and parse one ``.env`` file; a missing file gives ``{}`` (it is optional)."""
    try:
        with open(path, encoding=encoding) as fh:
            text = fh.read()
    except FileNotFoundError:
        return {}
    return parse_dotenv(text, source=os.fspath(path))
