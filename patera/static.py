"""Static files (SPEC §10): the framework's ``Static`` controller.

Every request path is vetted as text before the filesystem is touched, then the
resolved real path must still lie inside the real static root. Files are streamed in
chunks with validators (ETag, Last-Modified), conditional requests and single byte
ranges; blocking filesystem calls run in the default thread pool.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import stat
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final

from ._cookies import http_date
from .controller import Controller
from .controller.decorators import get
from .exceptions import RangeNotSatisfiable, StaticAssetNotFound
from .response import TEXT_LIKE, Response, file_chunks

if TYPE_CHECKING:
    from .app import Patera
    from .request import Request

__all__ = (
    "UNSATISFIABLE",
    "Static",
    "etag_for",
    "file_response",
    "parse_range",
    "register_static",
    "split_static_path",
    "static_content_type",
)

# NOTE: names Windows maps to devices in every directory, with or without an extension.
_DEVICE_NAMES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{kind}{n}" for kind in ("COM", "LPT") for n in (*"123456789", "\u00b9", "\u00b2", "\u00b3")}
)
_DRIVE_RE: Final = re.compile(r"[A-Za-z]:")
# Content types for files mimetypes sees as "compressed X": the bytes are the archive.
_ENCODED_TYPES: Final = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
}
#: ``parse_range`` result meaning "answer 416".
UNSATISFIABLE: Final = (-1, -1)
# Digit strings longer than this are beyond any file size; int() is never asked to parse them
# (a 10,000-digit number would otherwise cost quadratic time or hit the int-digits limit).
_MAX_DIGITS: Final = 19
_HUGE: Final = 1 << 64


def split_static_path(filename: str) -> list[str]:
    """The path segments of ``filename``, or ``StaticAssetNotFound`` for anything hostile.

    Purely textual, so nothing reaches the filesystem before it passes: NUL, backslashes,
    absolute paths, drive letters, ``..`` (and Windows' dot/space variants of it) and
    Windows device names are refused on every platform.

    Raises:
        StaticAssetNotFound: ``filename`` is empty or unsafe.
    """
    if not filename or "\x00" in filename or "\\" in filename or filename.startswith("/"):
        raise StaticAssetNotFound()
    parts: list[str] = []
    for segment in filename.split("/"):
        if segment in ("", "."):
            continue
        # NOTE: Windows drops trailing dots and spaces, so ".. " and "..." may act like "..".
        if not segment.strip(". ") or _DRIVE_RE.match(segment):
            raise StaticAssetNotFound()
        if segment.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_NAMES:
            raise StaticAssetNotFound()
        if os.name == "nt" and ":" in segment:  # NTFS alternate data streams
            raise StaticAssetNotFound()
        parts.append(segment)
    if not parts:
        raise StaticAssetNotFound()
    return parts


def _lookup(root: str, parts: list[str]) -> tuple[str, os.stat_result] | None:
    """Resolve ``parts`` under ``root`` (blocking: run it in the thread pool)."""
    try:
        real_root = os.path.realpath(root)
        candidate = os.path.realpath(os.path.join(real_root, *parts))
        # NOTE: commonpath compares whole segments, so "/srv/static_evil" is outside "/srv/static".
        if os.path.commonpath((real_root, candidate)) != real_root or candidate == real_root:
            return None
        info = os.stat(candidate)
    except (OSError, ValueError):  # incl. UnicodeEncodeError for names the OS cannot spell
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return candidate, info


def static_content_type(filename: str) -> str:
    """``Content-Type`` for a file name; text-like types get ``charset=utf-8``."""
    kind, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding is not None:
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    if kind is None:
        return "application/octet-stream"
    if kind.startswith(TEXT_LIKE) and "charset" not in kind:
        kind += "; charset=utf-8"
    return kind


def etag_for(info: os.stat_result) -> str:
    """A strong validator that changes whenever the file's mtime or size does."""
    return f'"{info.st_mtime_ns:x}-{info.st_size:x}"'


def _parse_http_date(value: str) -> int | None:
    """Epoch seconds of an HTTP date, or None when it is not one."""
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: a year beyond a C int
        return None
    if parsed.tzinfo is None:  # "-0000" zone: RFC 5322 says UTC with unknown origin

        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _none_match(header: str, etag: str) -> bool:
    """``If-None-Match`` uses the weak comparison (RFC 9110 §13.1.2)."""
    ours = _opaque(etag)
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or (candidate and _opaque(candidate) == ours):
            return True
    return False


def _not_modified(headers: dict[str, str], etag: str, mtime: int) -> bool:
    none_match = headers.get("if-none-match")
    if none_match is not None:
        # NOTE: (RFC 9110 §13.1.3) If-Modified-Since is ignored when If-None-Match is present.
        return _none_match(none_match, etag)
    since = headers.get("if-modified-since")
    if since is not None:
        when = _parse_http_date(since)
        return when is not None and mtime <= when
    return False


def _if_range_holds(value: str, etag: str, mtime: int) -> bool:
    """``If-Range`` needs a strong match: an exact ETag or the exact Last-Modified."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag
    when = _parse_http_date(value)
    return when is not None and when == mtime


def _number(text: str) -> int | None:
    text = text.strip(" \t")
    if not text or not text.isascii() or not text.isdigit():
        return None  # NOTE: str.isdigit alone accepts "\u0661" (Arabic-Indic one) and "²"; HTTP digits are ASCII
    text = text.lstrip("0") or "0"
    return _HUGE if len(text) > _MAX_DIGITS else int(text)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Inclusive ``(first, last)`` for one byte range, ``UNSATISFIABLE``, or None to ignore it.

    Anything but a single well-formed ``bytes`` range (other units, bad syntax,
    several ranges) is ignored, so the client gets the whole file. Linear in the
    header length.
    """
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip(" \t").lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.partition("-")
    if not dash:
        return None
    if not first_text.strip(" \t"):
        suffix = _number(last_text)
        if suffix is None:
            return None
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    first = _number(first_text)
    if first is None:
        return None
    if last_text.strip(" \t"):
        last = _number(last_text)
        if last is None or last < first:
            return None
    else:
        last = size - 1
    if first >= size:
        return UNSATISFIABLE
    return first, min(last, size - 1)


class Static(Controller):
    """Serves ``app.static_files_path``; registered by the app at build time."""

    __patera_no_app_path__ = True

    @get("/<path:filename>", open_api_spec=False)
    async def get(self, req: Request, filename: str) -> Response[Any]:
        """One file, honouring conditional and range requests."""
        parts = split_static_path(filename)
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, _lookup, self.app.static_files_path, parts)
        if found is None:
            raise StaticAssetNotFound()
        path, info = found
        # The requested name picks the type, so a symlink "latest.css" -> "v3" is still CSS.
        return file_response(req, path, info, parts[-1])


def file_response(req: Request, path: str, info: os.stat_result, name: str | None = None) -> Response[Any]:
    """Headers, conditional answer and body (streamed from disk) for a resolved file."""
    res = req.response
    headers = req.headers
    size = info.st_size
    mtime = int(info.st_mtime)
    etag = etag_for(info)
    last_modified = http_date(mtime)
    if req.method in ("GET", "HEAD") and _not_modified(headers, etag, mtime):
        res.status(304)
        res.headers["etag"] = etag
        res.headers["last-modified"] = last_modified
        return res

    first, last = 0, size - 1
    status = 200
    range_header = headers.get("range")
    if range_header is not None:
        wanted = parse_range(range_header, size)
        if_range = headers.get("if-range")
        if wanted is not None and (if_range is None or _if_range_holds(if_range, etag, mtime)):
            if wanted == UNSATISFIABLE:
                raise RangeNotSatisfiable(size)
            first, last = wanted
            status = 206

    length = last - first + 1
    res.stream(file_chunks(path, first, length), static_content_type(name or path))
    res.status(status)
    res.headers["content-length"] = str(length)
    res.headers["accept-ranges"] = "bytes"
    res.headers["last-modified"] = last_modified
    res.headers["etag"] = etag
    if status == 206:
        res.headers["content-range"] = f"bytes {first}-{last}/{size}"
    return res


def register_static(app: Patera) -> None:
    """Build hook: mount ``Static`` at ``STATIC_URL`` and alias it as ``STATIC_CONTROLLER_NAME``.

    Always registered, so a missing folder answers 404 rather than "no such endpoint".
    """
    url = str(app.get_conf("STATIC_URL") or "/static")
    # A subclass per app carries this app's URL; its name keeps the endpoint "Static.get".
    mounted = type("Static", (Static,), {"__module__": __name__, "__qualname__": "Static"})
    mounted.__patera_path__ = (url, False, ["Static"])  # type: ignore[attr-defined]
    app.register_controller(mounted)
    app.register_alias(str(app.get_conf("STATIC_CONTROLLER_NAME") or "static"), "Static.get")
