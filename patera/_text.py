"""Text that must survive being encoded again (JSON bodies, templates, log lines)."""

from __future__ import annotations

__all__ = ("scrub_surrogates",)


def scrub_surrogates(text: str) -> str:
    """Replace lone surrogates a client-chosen codec (utf-7, punycode, unicode_escape…) produced.

    Text with them cannot be encoded again, so echoing such a form value as JSON or in a
    template would fail with a 500.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text
