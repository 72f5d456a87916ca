"""The channels: email over SMTP, SMS through a provider adapter.

Each ``send`` returns the provider's reference once the provider has *accepted* the
message, and raises ``DeliveryFailed`` otherwise, saying whether another try could
succeed. Each is told the notification id as an idempotency reference: the SMTP
Message-ID, the SMS provider's ``Idempotency-Key``, so a message re-sent after a
crash between "accepted" and "recorded" can be recognised as the same one."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol

from notification_management.clients.attachments import Attachment
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient

log = logging.getLogger("notification_management.senders")

RequestIdSource = Callable[[], str | None]
# Answers that may be different next time; any other 4xx is the provider refusing.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


# ------------------------------------------------------------------------------ email


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    ca_file: str = ""
    timeout: float = 10.0
    sender: str = "Garage <garage@localhost>"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            security=config["SMTP_SECURITY"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            ca_file=config["SMTP_CA_FILE"],
            timeout=config["SMTP_TIMEOUT_SECONDS"],
            sender=config["MAIL_FROM"],
        )


class EmailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
        # Our name in EHLO, looked up once: smtplib would ask DNS on every connection.
        self.local_hostname = socket.getfqdn()

    def message(
        self, *, to: str, subject: str, body: str, attachments: Iterable[Attachment], reference: str
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<{reference}@{self.domain}>"
        message["X-Garage-Notification-ID"] = reference
        message.set_content(body)
        for attachment in attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
        return message

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(
                s.host, s.port, local_hostname=self.local_hostname, timeout=s.timeout, context=self._tls()
            )
        connection = smtplib.SMTP(s.host, s.port, local_hostname=self.local_hostname, timeout=s.timeout)
        if s.security == "starttls":
            connection.starttls(context=self._tls())
        return connection

    def send(
        self, *, to: str, subject: str, body: str, attachments: Iterable[Attachment] = (), reference: str
    ) -> str:
        message = self.message(
            to=to, subject=subject, body=body, attachments=attachments, reference=reference
        )
        try:
            with self._connect() as connection:
                if self.settings.username:
                    connection.login(self.settings.username, self.settings.password)
                connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryFailed(
                _smtp_error("recipient refused", code, reply), permanent=code >= 500
            ) from exc
        except smtplib.SMTPDataError as exc:
            raise DeliveryFailed(
                _smtp_error("message refused", exc.smtp_code, exc.smtp_error), permanent=exc.smtp_code >= 500
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, authentication failed ...: our configuration, not this message.
            raise DeliveryFailed(_smtp_error("SMTP server refused", exc.smtp_code, exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP server {self.settings.host}:{self.settings.port}: {exc}") from exc
        return message["Message-ID"]


def _smtp_error(what: str, code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"SMTP {what}: {code} {text}"


# -------------------------------------------------------------------------------- SMS


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> str: ...


class LoggingSmsProvider:
    """Development: the message goes to the log, nowhere else."""

    def send(self, *, to: str, text: str, reference: str) -> str:
        log.info("SMS (logging provider, not sent) to %s, reference %s: %s", to, reference, text)
        return f"logged-{reference}"


class HttpSmsProvider:
    """A generic SMS gateway: ``POST <url>`` with ``{to, from, text, reference}``, a
    bearer token, and ``Idempotency-Key: <reference>``; any 2xx means accepted, and an
    ``id`` in the answer is kept as the provider's reference."""

    NAME = "sms-provider"

    def __init__(self, client: ServiceClient, *, sender: str) -> None:
        self.client = client
        self.sender = sender

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, request_id: RequestIdSource) -> HttpSmsProvider:
        token = config["SMS_PROVIDER_TOKEN"]
        settings = ClientSettings(
            base_url=config["SMS_PROVIDER_URL"].rstrip("/"),
            read_timeout=config["SMS_PROVIDER_TIMEOUT_SECONDS"],
            retries=config["SMS_PROVIDER_RETRIES"],
        )
        client = ServiceClient(
            cls.NAME,
            settings,
            token=lambda: token or None,
            request_id=request_id,
            user_agent=f"garage-{config.get('SERVICE_NAME', 'notifications')}",
        )
        return cls(client, sender=config["SMS_SENDER"])

    def send(self, *, to: str, text: str, reference: str) -> str:
        body = {"to": to, "from": self.sender, "text": text, "reference": reference}
        try:
            response = self.client.post("", json=body, idempotency_key=reference)
        except DependencyFailed as exc:
            raise DeliveryFailed(exc.detail or f"{self.NAME} failed") from exc
        if 200 <= response.status_code < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            provider_id = answer.get("id") if isinstance(answer, dict) else None
            return str(provider_id or reference)
        raise DeliveryFailed(
            f"{self.NAME} answered {response.status_code}: {response.text[:500]}",
            permanent=response.status_code not in RETRYABLE_4XX,
        )


def make_sms_provider(config: Mapping[str, Any], *, request_id: RequestIdSource) -> SmsProvider:
    if config["SMS_PROVIDER"] == "http":
        return HttpSmsProvider.from_config(config, request_id=request_id)
    return LoggingSmsProvider()
