"""Delivering a message over SMTP: aiosmtplib when installed, else stdlib ``smtplib``.

Both paths do the same thing in the same order (connect, EHLO, STARTTLS when asked and
refuse to go on without it, login when both credentials are set, send, QUIT) and fail
with the same ``EmailDeliveryError``.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from ..exceptions import MissingDependency, PateraError

__all__ = ("EmailDeliveryError", "SmtpSettings", "aiosmtplib_module", "deliver")


class EmailDeliveryError(PateraError):
    """The SMTP server could not be reached, refused the message, or did not offer STARTTLS."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    implicit_tls: bool
    timeout: float
    ca_file: str | None

    @property
    def login(self) -> bool:
        return bool(self.username) and bool(self.password)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def describe(self) -> str:
        return f"{self.host}:{self.port}"


def aiosmtplib_module(required: bool) -> Any:
    """aiosmtplib, or ``None`` when it is missing and not ``required``."""
    try:
        import aiosmtplib
    except ImportError as exc:
        if required:
            raise MissingDependency("aiosmtplib", extra="email", feature="EmailClient(transport='aiosmtplib')") from exc
        return None
    return aiosmtplib


_NO_STARTTLS = "the server does not offer STARTTLS; not sending in plaintext (USE_TLS=True)"


async def _deliver_aiosmtplib(aiosmtplib: Any, settings: SmtpSettings, message: EmailMessage,
                              sender: str, recipients: list[str]) -> None:
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        timeout=settings.timeout,
        use_tls=settings.implicit_tls,
        start_tls=False,
        tls_context=settings.tls_context() if settings.implicit_tls else None,
    )
    await client.connect()
    try:
        await client.ehlo()
        if settings.starttls:
            if not client.supports_extension("starttls"):
                raise EmailDeliveryError(_NO_STARTTLS)
            await client.starttls(tls_context=settings.tls_context())
            await client.ehlo()
        if settings.login:
            await client.login(settings.username, settings.password)
        await client.send_message(message, sender=sender, recipients=recipients)
        await client.quit()
    finally:
        if client.is_connected:
            client.close()


def _deliver_smtplib(settings: SmtpSettings, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    client: smtplib.SMTP
    if settings.implicit_tls:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=settings.tls_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.starttls:
            if not client.has_extn("starttls"):
                raise EmailDeliveryError(_NO_STARTTLS)
            client.starttls(context=settings.tls_context())
            client.ehlo()
        if settings.login:
            client.login(settings.username or "", settings.password or "")
        client.send_message(message, from_addr=sender, to_addrs=recipients)


async def deliver(settings: SmtpSettings, message: EmailMessage, sender: str, recipients: list[str],
                  *, transport: str) -> None:
    """Send ``message``; any failure becomes ``EmailDeliveryError`` naming the server.

    Raises:
        EmailDeliveryError: connection refused or timed out, TLS failure, login or send refused.
    """
    aiosmtplib = None if transport == "smtplib" else aiosmtplib_module(required=transport == "aiosmtplib")
    try:
        if aiosmtplib is not None:
            await _deliver_aiosmtplib(aiosmtplib, settings, message, sender, recipients)
        else:
            await asyncio.to_thread(_deliver_smtplib, settings, message, sender, recipients)
    except EmailDeliveryError as exc:
        raise EmailDeliveryError(f"sending email via {settings.describe()} failed: {exc}") from None
    except (TimeoutError, OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise EmailDeliveryError(
            f"sending email via {settings.describe()} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        if aiosmtplib is not None and isinstance(exc, aiosmtplib.SMTPException):
            raise EmailDeliveryError(
                f"sending email via {settings.describe()} failed: {type(exc).__name__}: {exc}"
            ) from exc
        raise
