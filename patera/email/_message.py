"""Building the MIME message: headers checked for injection, attachments typed by filename."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

__all__ = ("build_message", "check_header_value", "envelope_sender", "recipients_of")


def check_header_value(name: str, value: str) -> str:
    """``value`` unchanged, or ``ValueError`` when it could smuggle in another header."""
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError(f"email {name} must not contain CR, LF or NUL characters: {value!r}")
    return value


def recipients_of(to_address: str | Sequence[str]) -> list[str]:
    """One address or a list of them → a non-empty, checked list."""
    addresses = [to_address] if isinstance(to_address, str) else list(to_address)
    if not addresses or not all(isinstance(a, str) and a.strip() for a in addresses):
        raise ValueError("to_address must be an address or a non-empty list of addresses")
    return [check_header_value("recipient", a.strip()) for a in addresses]


def envelope_sender(sender: str, username: str | None) -> tuple[str, str]:
    """``(From header, MAIL FROM address)`` for ``SENDER_NAME_OR_ADDRESS``.

    A bare display name ("Patera App") is paired with the login name when that is an
    address, so the message still has a usable return path.
    """
    _, address = parseaddr(sender)
    if "@" in address:
        return sender, address
    if username and "@" in username:
        return f"{sender} <{username}>", username
    return sender, sender


def build_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    body: str,
    subtype: str,
    attachments: Mapping[str, bytes] | None,
) -> EmailMessage:
    """A ``text/<subtype>`` message, or ``multipart/mixed`` when there are attachments."""
    message = EmailMessage()
    message["From"] = check_header_value("sender", sender)
    message["To"] = ", ".join(recipients)
    message["Subject"] = check_header_value("subject", subject)
    message["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "patera.localhost"
    # NOTE: an explicit domain: make_msgid's default asks DNS for this host's FQDN
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body, subtype=subtype)
    for filename, data in (attachments or {}).items():
        check_header_value("attachment filename", filename)
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        maintype, _, subtype_ = content_type.partition("/")
        message.add_attachment(bytes(data), maintype=maintype, subtype=subtype_, filename=filename)
    return message
