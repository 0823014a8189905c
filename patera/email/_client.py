"""``EmailClient``: send plain-text or templated HTML email through SMTP (SPEC §17.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..extension import AppLike, BaseExtension, resolve_configs
from ._message import build_message, check_header_value, envelope_sender, recipients_of
from ._transport import SmtpSettings, aiosmtplib_module, deliver

__all__ = ("EmailClient",)

Transport = Literal["auto", "aiosmtplib", "smtplib"]


class _EmailConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    SENDER_NAME_OR_ADDRESS: str
    SMTP_SERVER: str
    SMTP_PORT: int
    USERNAME: str | None = None
    PASSWORD: str | None = None
    USE_TLS: bool = True
    USE_SSL: bool = False
    TIMEOUT: float = 30
    CA_FILE: str | None = None
    NICE_NAME: str | None = None


class EmailClient(BaseExtension):
    """SMTP email for the app. Each send opens its own connection, so there is nothing to
    connect at startup and nothing shared between concurrent sends.

    Args:
        configs_name: the config dict (and flat-key prefix) to read.
        transport: ``"auto"`` (aiosmtplib if installed, else smtplib in the thread pool),
            or force one of them.
    """

    def __init__(self, configs_name: str = "EMAIL_CLIENT", *, transport: Transport = "auto") -> None:
        if transport not in ("auto", "aiosmtplib", "smtplib"):
            raise ValueError(f"transport must be 'auto', 'aiosmtplib' or 'smtplib', got {transport!r}")
        self._configs_name = configs_name
        self._transport: Transport = transport
        self._settings: SmtpSettings | None = None

    def init_app(self, app: AppLike) -> None:
        configs = self.validate_configs(resolve_configs(app, self._configs_name), _EmailConfig)
        check_header_value("SENDER_NAME_OR_ADDRESS", configs["SENDER_NAME_OR_ADDRESS"])
        if configs["TIMEOUT"] <= 0:
            raise ValueError(f"Invalid configuration for {self._configs_name}: TIMEOUT must be positive")
        if self._transport == "aiosmtplib":
            aiosmtplib_module(required=True)
        self._configs = configs
        self._settings = SmtpSettings(
            host=configs["SMTP_SERVER"],
            port=configs["SMTP_PORT"],
            username=configs["USERNAME"],
            password=configs["PASSWORD"],
            starttls=configs["USE_TLS"] and not configs["USE_SSL"],
            implicit_tls=configs["USE_SSL"],
            timeout=float(configs["TIMEOUT"]),
            ca_file=configs["CA_FILE"],
        )
        self._app = app
        app.add_extension(self)

    @property
    def settings(self) -> SmtpSettings:
        if self._settings is None:
            raise RuntimeError(f"{type(self).__name__} is not initialised: call init_app(app) first")
        return self._settings

    async def send_email(
        self,
        to_address: str | Sequence[str],
        subject: str,
        body: str,
        attachments: Mapping[str, bytes] | None = None,
    ) -> None:
        """Send a plain-text email; attachments are ``{filename: content}``.

        Raises:
            ValueError: no recipient, or CR/LF in a header value (recipient, subject, filename).
            EmailDeliveryError: the server could not be reached or refused the message.
        """
        await self._send(to_address, subject, body, "plain", attachments)

    async def send_email_with_template(
        self,
        to_address: str | Sequence[str],
        subject: str,
        template_path: str,
        attachments: Mapping[str, bytes] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Render ``template_path`` like ``html()`` responses do and send it as ``text/html``.

        Raises:
            MissingDependency: Jinja2 is not installed (``patera[templates]``).
            jinja2.TemplateNotFound: no template path holds ``template_path``.
            ValueError, EmailDeliveryError: as for :meth:`send_email`.
        """
        from .._templates import render_template

        # bad input fails before the template is rendered
        recipients_of(to_address)
        check_header_value("subject", subject)
        for filename in attachments or {}:
            check_header_value("attachment filename", filename)
        html = await render_template(self.app, template_path, dict(context or {}), is_file=True)
        await self._send(to_address, subject, html, "html", attachments)

    async def _send(
        self,
        to_address: str | Sequence[str],
        subject: str,
        body: str,
        subtype: str,
        attachments: Mapping[str, bytes] | None,
    ) -> None:
        settings = self.settings
        recipients = recipients_of(to_address)
        from_header, sender = envelope_sender(self.configs["SENDER_NAME_OR_ADDRESS"], settings.username)
        message = build_message(
            sender=from_header, recipients=recipients, subject=subject, body=body, subtype=subtype,
            attachments=attachments,
        )
        await deliver(settings, message, sender, recipients, transport=self._transport)
