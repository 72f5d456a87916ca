"""Email over a protected connection: STARTTLS with credentials, and implicit TLS,
against aiosmtpd on loopback with a certificate made for the test."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from notification_management.senders import DeliveryFailed, EmailSender, SmtpSettings

from service_kit.fakes import free_port

from ..fakes import MailSink


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"garage",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture
def starttls_server(certificate) -> Iterator[tuple[MailSink, int]]:
    sink, port = MailSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        loop=asyncio.new_event_loop(),
        tls_context=server_context(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def tls_server(certificate) -> Iterator[tuple[MailSink, int]]:
    sink, port = MailSink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        loop=asyncio.new_event_loop(),
        ssl_context=server_context(certificate),
    )
    controller.start()
    yield sink, port
    controller.stop()


def send(settings: SmtpSettings) -> str:
    return EmailSender(settings).send(to="ann@example.com", subject="Hello", body="Body", reference="ref-1")


def test_starttls_with_credentials(starttls_server, certificate):
    sink, port = starttls_server
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username="garage",
        password="s3cret",  # pragma: allowlist secret - the loopback test server's account
        ca_file=str(certificate[0]),
    )
    assert send(settings) == "<ref-1@localhost>"
    assert [m["Subject"] for m in sink.messages] == ["Hello"]


def test_a_server_demanding_starttls_refuses_a_plain_connection(starttls_server):
    _, port = starttls_server
    with pytest.raises(DeliveryFailed):
        send(SmtpSettings(host="127.0.0.1", port=port, security="none"))


def test_an_untrusted_certificate_is_refused(starttls_server):
    _, port = starttls_server
    with pytest.raises(DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
        send(
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                security="starttls",
                username="garage",
                password="s3cret",  # pragma: allowlist secret
            )
        )


def test_implicit_tls(tls_server, certificate):
    sink, port = tls_server
    send(SmtpSettings(host="127.0.0.1", port=port, security="tls", ca_file=str(certificate[0])))
    assert len(sink.messages) == 1
