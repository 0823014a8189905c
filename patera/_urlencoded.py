"""``application/x-www-form-urlencoded`` (and query string) decoding, SPEC §5."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import unquote_plus, unquote_to_bytes

from ._text import scrub_surrogates
from .exceptions import RequestEntityTooLarge

__all__ = ("parse_urlencoded", "to_multidict")

V = TypeVar("V")


def _decode(raw: bytes, charset: str) -> str:
    try:
        return scrub_surrogates(raw.decode(charset, "replace"))
    except (LookupError, ValueError):
        # NOTE: a client-named codec may be unusable here: idna/undefined refuse "replace",
        # punycode raises on some input, base64 & co. are not text codecs.
        return raw.decode("utf-8", "replace")


def _unquote_plus(text: str, charset: str) -> str:
    try:
        return scrub_surrogates(unquote_plus(text, charset, "replace"))
    except (LookupError, ValueError):  # see _decode()
        return unquote_plus(text, "utf-8", "replace")


def parse_urlencoded(
    data: bytes | str,
    *,
    charset: str = "utf-8",
    max_fields: int | None = None,
    max_field_size: int | None = None,
) -> list[tuple[str, str]]:
    """Decode ``a=1&b=&c`` into pairs in order.

    Only ``&`` separates, empty pairs are skipped, the first ``=`` splits, ``+`` is a
    space, ``%XX`` is decoded (an invalid escape stays verbatim) and the bytes are
    decoded with ``charset`` (errors replaced). A pair without ``=`` has value ``""``.

    Raises:
        RequestEntityTooLarge: more than ``max_fields`` pairs, or a value whose
            decoded size exceeds ``max_field_size`` bytes.
    """
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        charset = "utf-8"
    if isinstance(data, str):
        return _parse_text(data, charset, max_fields, max_field_size)
    out: list[tuple[str, str]] = []
    append = out.append
    count = 0
    for pair in data.split(b"&"):
        if not pair:
            continue
        count += 1
        if max_fields is not None and count > max_fields:
            raise RequestEntityTooLarge("Too many form fields")
        key, _, value = pair.partition(b"=")
        # PERF: most keys and many values need no unescaping; skip the C-level
        # replace/unquote calls for them.
        if b"+" in key:
            key = key.replace(b"+", b" ")
        if b"%" in key:
            key = unquote_to_bytes(key)
        if b"+" in value:
            value = value.replace(b"+", b" ")
        if b"%" in value:
            value = unquote_to_bytes(value)
        if max_field_size is not None and len(value) > max_field_size:
            raise RequestEntityTooLarge("Form field too large")
        append((_decode(key, charset), _decode(value, charset)))
    return out


def _parse_text(
    data: str, charset: str, max_fields: int | None, max_field_size: int | None
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    count = 0
    for pair in data.split("&"):
        if not pair:
            continue
        count += 1
        if max_fields is not None and count > max_fields:
            raise RequestEntityTooLarge("Too many form fields")
        key, _, value = pair.partition("=")
        if "+" in key or "%" in key:
            key = _unquote_plus(key, charset)
        if "+" in value or "%" in value:
            value = _unquote_plus(value, charset)
        # NOTE: surrogatepass: punycode/utf-7 can decode to lone surrogates, which strict UTF-8 refuses.
        if (
            max_field_size is not None
            and len(value) > max_field_size
            and len(value.encode("utf-8", "surrogatepass")) > max_field_size
        ):
            raise RequestEntityTooLarge("Form field too large")
        out.append((key, value))
    return out


def to_multidict(pairs: Iterable[tuple[str, V]]) -> dict[str, V | list[V]]:
    """Single name -> value; repeated name -> list of values in arrival order."""
    grouped: dict[str, list[V]] = {}
    for key, value in pairs:
        if (values := grouped.get(key)) is None:
            grouped[key] = [value]
        else:
            values.append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}
