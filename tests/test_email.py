"""``EmailClient`` against a real SMTP server (aiosmtpd on a free loopback port).

STARTTLS and implicit TLS use a certificate made for the test by trustme; messages are
parsed back with the standard library's ``email`` package. Every delivery test runs
through both transports: aiosmtplib and the ``smtplib`` fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from patera.email import EmailClient, EmailDeliveryError
from tests._services import free_port
from tests.conftest import build_app

TRANSPORTS = ["aiosmtplib", "smtplib"]
USER, PASSWORD = "mailer@example.test", "s3cret"
ATTACHMENTS = {
    "report.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 4,
    "notes.txt": "line one\r\nline two: čšž\n".encode(),
    "picture.png": b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256))),
    "blob.unknownext": b"\x00\x01\x02\r\n\x03",
}
EXPECTED_TYPES = {"report.pdf": "application/pdf", "notes.txt": "text/plain", "picture.png": "image/png",
                  "blob.unknownext": "application/octet-stream"}


@dataclass
class Received:
    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    tls: bool
    authenticated: bool


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # SMTP carries CRLF line ends; attachments are base64, so this touches text only
        raw = envelope.original_content.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(parsed, envelope.mail_from, list(envelope.rcpt_tos),
                                      _encrypted(server, session), bool(session.authenticated)))
        return "250 OK"


def _encrypted(server: Any, session: Any) -> bool:
    # session.ssl is set by STARTTLS; with implicit TLS the transport itself is the TLS one
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 itself


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, str(ca_file)


@contextlib.contextmanager
def smtp_server(*, starttls: ssl.SSLContext | None = None, implicit: ssl.SSLContext | None = None,
                auth: bool = False) -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    options: dict[str, Any] = {}
    if starttls is not None:
        options["tls_context"] = starttls
    if auth:
        # aiosmtpd's "AUTH only over TLS" knows STARTTLS only; implicit TLS is encrypted from the start
        options.update(authenticator=_authenticator, auth_require_tls=starttls is not None)
    if implicit is not None:
        options["ssl_context"] = implicit
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=10, **options)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def make_client(port: int, transport: str, **config: Any) -> EmailClient:
    settings = {"SENDER_NAME_OR_ADDRESS": "Patera App <noreply@example.test>", "SMTP_SERVER": "127.0.0.1",
                "SMTP_PORT": port, "TIMEOUT": 5, **config}
    client = EmailClient(transport=transport)  # type: ignore[arg-type]
    client.init_app(build_app(EMAIL_CLIENT=settings, TEMPLATES_DIR="/data/templates"))
    return client


def attachment_parts(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    return {part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))  # type: ignore[misc]
            for part in message.iter_attachments()}


# ---------------------------------------------------------------- delivery


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_starttls_with_auth_delivers_text_and_attachments(
    transport: str, certificate: tuple[ssl.SSLContext, str]
) -> None:
    server_context, ca_file = certificate
    with smtp_server(starttls=server_context, auth=True) as (port, inbox):
        client = make_client(port, transport, USERNAME=USER, PASSWORD=PASSWORD, CA_FILE=ca_file)
        await client.send_email(["a@example.test", "b@example.test"], "Quarterly report – Q3",
                                "Hello,\nthe report is attached.\n", ATTACHMENTS)
    [got] = inbox.received
    assert got.tls and got.authenticated
    assert got.mail_from == "noreply@example.test"
    assert got.rcpt_tos == ["a@example.test", "b@example.test"]
    msg = got.message
    assert msg["From"] == "Patera App <noreply@example.test>"
    assert msg["To"] == "a@example.test, b@example.test"
    assert msg["Subject"] == "Quarterly report – Q3"
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content() == "Hello,\nthe report is attached.\n"
    parts = attachment_parts(msg)
    assert {name: data for name, (_, data) in parts.items()} == ATTACHMENTS  # byte for byte
    assert {name: ctype for name, (ctype, _) in parts.items()} == EXPECTED_TYPES


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_plain_server_without_auth_and_without_tls(transport: str) -> None:
    with smtp_server() as (port, inbox):
        # only a USERNAME: no login is attempted (the server offers no AUTH at all)
        client = make_client(port, transport, USE_TLS=False, USERNAME=USER, SENDER_NAME_OR_ADDRESS="Patera App")
        await client.send_email("only@example.test", "Hi", "just text")
    [got] = inbox.received
    assert not got.tls and not got.authenticated
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content() == "just text\n"
    # a bare display name is paired with the login address
    assert got.message["From"] == "Patera App <mailer@example.test>" and got.mail_from == USER


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_implicit_tls(transport: str, certificate: tuple[ssl.SSLContext, str]) -> None:
    server_context, ca_file = certificate
    with smtp_server(implicit=server_context, auth=True) as (port, inbox):
        client = make_client(port, transport, USE_SSL=True, USERNAME=USER, PASSWORD=PASSWORD, CA_FILE=ca_file)
        await client.send_email("x@example.test", "TLS all the way", "body")
    [got] = inbox.received
    assert got.tls and got.authenticated and got.message["Subject"] == "TLS all the way"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_templated_html_email(transport: str) -> None:
    templates = Path(__file__).parent / "data" / "templates"
    assert (templates / "email_welcome.html").is_file()
    with smtp_server() as (port, inbox):
        client = make_client(port, transport, USE_TLS=False)
        client.app.add_global_context_method(lambda: {"site": "Patera <Site>"})
        await client.send_email_with_template("u@example.test", "Welcome", "email_welcome.html",
                                              attachments={"terms.txt": b"terms"}, context={"name": "Ana & Bo"})
    [got] = inbox.received
    html = got.message.get_body(("html",))
    assert html is not None and html.get_content_type() == "text/html"
    text = html.get_content()
    assert "Hello Ana &amp; Bo" in text and "Patera &lt;Site&gt;" in text  # autoescaped like html()
    assert attachment_parts(got.message) == {"terms.txt": ("text/plain", b"terms")}


# ---------------------------------------------------------------- failures are loud and bounded


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_use_tls_against_a_server_without_starttls_refuses_to_send(transport: str) -> None:
    with smtp_server() as (port, inbox):
        client = make_client(port, transport)  # USE_TLS defaults to True
        with pytest.raises(EmailDeliveryError, match="STARTTLS"):
            await client.send_email("x@example.test", "secret", "never in plaintext")
    assert inbox.received == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_untrusted_certificate_fails(transport: str, certificate: tuple[ssl.SSLContext, str]) -> None:
    server_context, _ = certificate
    with smtp_server(starttls=server_context) as (port, inbox):
        client = make_client(port, transport)  # no CA_FILE: the test CA is not trusted
        with pytest.raises(EmailDeliveryError, match=r"127\.0\.0\.1:\d+"):
            await client.send_email("x@example.test", "s", "b")
    assert inbox.received == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wrong_password_is_refused(transport: str, certificate: tuple[ssl.SSLContext, str]) -> None:
    server_context, ca_file = certificate
    with smtp_server(starttls=server_context, auth=True) as (port, inbox):
        client = make_client(port, transport, USERNAME=USER, PASSWORD="wrong", CA_FILE=ca_file)
        with pytest.raises(EmailDeliveryError, match="535"):
            await client.send_email("x@example.test", "s", "b")
    assert inbox.received == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_server_down_fails_fast(transport: str) -> None:
    client = make_client(free_port(), transport, USE_TLS=False, TIMEOUT=2)
    started = time.monotonic()
    with pytest.raises(EmailDeliveryError, match="failed"):
        await asyncio.wait_for(client.send_email("x@example.test", "s", "b"), 10)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_silent_server_times_out_instead_of_hanging(transport: str) -> None:
    with socket.socket() as listener:  # accepts connections, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = make_client(listener.getsockname()[1], transport, USE_TLS=False, TIMEOUT=1)
        with pytest.raises(EmailDeliveryError, match="failed"):
            await asyncio.wait_for(client.send_email("x@example.test", "s", "b"), 10)


@pytest.mark.parametrize(("to", "subject", "attachments"), [
    ("victim@example.test\r\nBcc: all@example.test", "s", None),
    (["ok@example.test", "bad@example.test\nX: y"], "s", None),
    ("ok@example.test", "hello\r\nBcc: all@example.test", None),
    ("ok@example.test", "hello\rX", None),
    ("ok@example.test", "s", {"evil.txt\r\nX-Injected: 1": b"x"}),
    ([], "s", None),
    ("", "s", None),
])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_header_injection_and_empty_recipients_raise_value_error(
    transport: str, to: Any, subject: str, attachments: Any
) -> None:
    with smtp_server() as (port, inbox):
        client = make_client(port, transport, USE_TLS=False)
        with pytest.raises(ValueError):
            await client.send_email(to, subject, "body", attachments)
        with pytest.raises(ValueError):
            await client.send_email_with_template(to, subject, "email_welcome.html", attachments, {"name": "x"})
    assert inbox.received == []


# ---------------------------------------------------------------- configuration


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="EMAIL_CLIENT"):
        EmailClient().init_app(build_app(EMAIL_CLIENT={"SMTP_SERVER": "x", "SMTP_PORT": 25}))
    with pytest.raises(ValueError, match="CR, LF"):
        EmailClient().init_app(build_app(EMAIL_CLIENT={"SENDER_NAME_OR_ADDRESS": "a\r\nBcc: b",
                                                       "SMTP_SERVER": "x", "SMTP_PORT": 25}))
    with pytest.raises(ValueError):
        EmailClient(transport="carrier-pigeon")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        asyncio.run(EmailClient().send_email("a@b.c", "s", "b"))


def test_flat_config_keys_and_defaults() -> None:
    client = EmailClient()
    application = build_app(EMAIL_CLIENT_SENDER_NAME_OR_ADDRESS="me@example.test", EMAIL_CLIENT_SMTP_SERVER="smtp.test",
                            EMAIL_CLIENT_SMTP_PORT="587")
    client.init_app(application)
    assert application.extensions["EMAIL_CLIENT"] is client
    settings = client.settings
    assert (settings.host, settings.port, settings.starttls, settings.implicit_tls, settings.timeout) == (
        "smtp.test", 587, True, False, 30.0)
    assert not settings.login


def test_missing_aiosmtplib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from patera import MissingDependency

    monkeypatch.setitem(sys.modules, "aiosmtplib", None)
    with pytest.raises(MissingDependency, match=r"patera\[email\]"):
        make_client(25, "aiosmtplib")
    make_client(25, "auto")  # falls back to smtplib instead
