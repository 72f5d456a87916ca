"""Fixtures: the app on a fresh database, and real servers on loopback for everything
the dispatcher talks to — customer-management (every canned answer checked against
its committed contract), invoicing serving a PDF, an SMS provider, an SMTP server."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from notification_management import create_app
from notification_management.dispatcher import Dispatcher
from notification_management.models import SCHEMA, db

from service_kit.contract_testing import find_contract, validate_response
from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema

CUSTOMER_CONTRACT = find_contract("customer-management")
GET_CUSTOMER = "/api/v1/customers/{customer_id}"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SMS_TOKEN = "sms-provider-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------ HTTP servers

Answer = tuple[int, dict[str, str], bytes]


class LoopbackHTTP:
    """A real HTTP server on 127.0.0.1 that records every request and answers through
    ``respond(method, path, headers, body)``."""

    def __init__(self, respond: Callable[[str, str, dict[str, str], bytes], Answer]) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body in separate writes must not wait 40 ms

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers)
                with server.lock:
                    server.requests.append(
                        {"method": self.command, "path": self.path, "headers": headers, "body": body}
                    )
                status, answer_headers, payload = respond(self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _json(status: int, body: Any, content_type: str = "application/json") -> Answer:
    return status, {"Content-Type": content_type}, json.dumps(body).encode()


def _problem(status: int, detail: str) -> Answer:
    titles = {404: "Not Found", 503: "Service Unavailable"}
    return _json(
        status,
        {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail},
        "application/problem+json",
    )


class FakeCustomerManagement:
    """customer-management at the HTTP boundary; answers only what its contract allows."""

    BASE: dict[str, Any] = {
        "kind": "person",
        "name": "Ann de Vries",
        "vat_number": None,
        "contact_person": None,
        "email": "ann@example.com",
        "phone": "+31612345678",
        "address": {"street": None, "postal_code": None, "city": None, "country": None},
        "preferred_channel": "email",
        "preferred_language": "en",
        "notes": None,
        "consents": {
            "email": {"service": True, "marketing": False},
            "sms": {"service": True, "marketing": False},
        },
        "marketing_consent": False,
        "status": "active",
        "created_at": "2026-01-02T03:04:05+00:00",
        "updated_at": "2026-01-02T03:04:05+00:00",
        "erased_at": None,
        "version": 1,
    }

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.down = False
        self.server = LoopbackHTTP(self._respond)
        self.url = self.server.url

    def add(self, **changes: Any) -> dict[str, Any]:
        body = copy.deepcopy(self.BASE)
        body["id"] = str(uuid.uuid4())
        body.update(changes)
        validate_response(CUSTOMER_CONTRACT, "GET", GET_CUSTOMER, 200, body)
        self.customers[body["id"]] = body
        return body

    def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self.down:
            answer = _problem(503, "customer-management is down for maintenance")
        else:
            customer_id = path.rsplit("/", 1)[-1]
            if method == "GET" and path.startswith("/api/v1/customers/") and customer_id in self.customers:
                answer = _json(200, self.customers[customer_id])
            else:
                answer = _problem(404, f"customer {customer_id} does not exist")
        status, _, payload = answer
        validate_response(CUSTOMER_CONTRACT, "GET", GET_CUSTOMER, status, json.loads(payload))
        return answer

    def reset(self) -> None:
        self.customers.clear()
        self.down = False
        self.server.requests.clear()


class FakeInvoicing:
    """Serves invoice PDFs, or fails as scripted."""

    def __init__(self) -> None:
        self.failures: deque[int] = deque()
        self.server = LoopbackHTTP(self._respond)
        self.url = self.server.url

    def pdf_url(self, invoice_id: str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5f") -> str:
        return f"{self.url}/api/v1/invoices/{invoice_id}/pdf"

    def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self.failures:
            return _problem(self.failures.popleft(), "not now")
        if method == "GET" and path.startswith("/api/v1/invoices/") and path.endswith("/pdf"):
            return 200, {"Content-Type": "application/pdf"}, PDF
        return _problem(404, "no such invoice")

    def reset(self) -> None:
        self.failures.clear()
        self.server.requests.clear()


class FakeSmsProvider:
    """A generic SMS gateway: answers each request with the next scripted status,
    then 200 with a message id. ``accepted`` are the messages it took."""

    def __init__(self) -> None:
        self.script: deque[int] = deque()
        self.default = 200
        self.accepted: list[dict[str, Any]] = []
        self.server = LoopbackHTTP(self._respond)
        self.url = self.server.url + "/v1/messages"

    def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self.server.lock:
            status = self.script.popleft() if self.script else self.default
            if status < 300:
                message = {**json.loads(body), "headers": headers}
                self.accepted.append(message)
                return _json(202, {"id": f"sms-{len(self.accepted)}", "status": "queued"})
        return _json(status, {"error": f"provider says {status}"})

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.server.requests

    def reset(self) -> None:
        self.script.clear()
        self.default = 200
        self.accepted.clear()
        self.server.requests.clear()


# ------------------------------------------------------------------------------- SMTP


class MailSink:
    """aiosmtpd handler keeping every message it accepted; can refuse as scripted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse_recipients: set[str] = set()
        self.data_failures: deque[str] = deque()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.data_failures:
                return self.data_failures.popleft()
            self.envelopes.append(envelope)
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
            self.refuse_recipients.clear()
            self.data_failures.clear()


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def customers() -> Iterator[FakeCustomerManagement]:
    fake = FakeCustomerManagement()
    yield fake
    fake.server.stop()


@pytest.fixture(scope="session")
def invoicing() -> Iterator[FakeInvoicing]:
    fake = FakeInvoicing()
    yield fake
    fake.server.stop()


@pytest.fixture(scope="session")
def sms_provider() -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider()
    yield fake
    fake.server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, loop=asyncio.new_event_loop())
    controller.start()
    yield sink, port
    controller.stop()


def _config(
    database_url: str,
    customers: FakeCustomerManagement,
    invoicing: FakeInvoicing,
    sms_provider: FakeSmsProvider,
    smtp_port: int,
) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "CUSTOMER_MANAGEMENT_URL": customers.url,
        "CUSTOMER_MANAGEMENT_RETRIES": 0,
        "CUSTOMER_MANAGEMENT_BREAKER_FAILURES": 1000,
        "INVOICING_URL": invoicing.url,
        "INVOICING_RETRIES": 0,
        "INVOICING_BREAKER_FAILURES": 1000,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_TIMEOUT_SECONDS": 5.0,
        "MAIL_FROM": "Garage Jansen <service@garage.test>",
        "SMS_PROVIDER": "http",
        "SMS_PROVIDER_URL": sms_provider.url,
        "SMS_PROVIDER_TOKEN": SMS_TOKEN,
        "SMS_PROVIDER_RETRIES": 0,
        "GARAGE_NAME": "Garage Jansen",
        # Retries are never due on their own during a test: tests pass a later `now`.
        "DISPATCH_MAX_ATTEMPTS": 3,
        "DISPATCH_BACKOFF_BASE_SECONDS": 30.0,
        "DISPATCH_BACKOFF_MAX_SECONDS": 60.0,
        "DISPATCH_POLL_SECONDS": 0.02,
    }


@pytest.fixture(scope="session")
def app(
    fresh_database_url: str,
    customers: FakeCustomerManagement,
    invoicing: FakeInvoicing,
    sms_provider: FakeSmsProvider,
    smtp_server: tuple[MailSink, int],
) -> Flask:
    app = create_app(_config(fresh_database_url, customers, invoicing, sms_provider, smtp_server[1]))
    upgrade(app)
    return app


@pytest.fixture(scope="session")
def default_templates(app: Flask) -> list[tuple[Any, ...]]:
    """The seeded templates as the migration wrote them, to restore after each test."""
    with app.app_context(), db.engine.connect() as connection:
        return [
            tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {SCHEMA}.notification_templates")
        ]


@pytest.fixture
def clean(app, customers, invoicing, sms_provider, smtp_server, default_templates) -> Iterator[None]:
    for fake in (customers, invoicing, sms_provider, smtp_server[0]):
        fake.reset()
    yield
    with app.app_context():
        db.session.remove()
        truncate_schema(db.engine, SCHEMA)
        with db.engine.begin() as connection:
            placeholders = ", ".join(["%s"] * len(default_templates[0]))
            for row in default_templates:
                connection.exec_driver_sql(
                    f"INSERT INTO {SCHEMA}.notification_templates VALUES ({placeholders})", row
                )


@pytest.fixture
def client(app: Flask, clean: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def mail(smtp_server: tuple[MailSink, int]) -> MailSink:
    return smtp_server[0]


@pytest.fixture
def advisor(auth_headers):
    return auth_headers("advisor")


@pytest.fixture
def service_headers(auth_headers):
    return auth_headers("service", subject="invoicing")


@pytest.fixture
def notify(client, service_headers):
    """POST a notification request and return the 202 body."""

    def make(customer_id: str, type_: str = "vehicle_ready", data: dict | None = None, **fields: Any):
        body = {"customer_id": customer_id, "type": type_, "data": data if data is not None else {}}
        body.update(fields)
        response = client.post("/api/v1/notifications", json=body, headers=service_headers)
        assert response.status_code == 202, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def dispatcher(app: Flask, clean: None) -> Callable[..., Dispatcher]:
    def make(**overrides: Any) -> Dispatcher:
        return Dispatcher.for_app(app, **overrides)

    return make


@pytest.fixture
def fetch(client, advisor):
    def get(notification_id: str) -> dict[str, Any]:
        response = client.get(f"/api/v1/notifications/{notification_id}", headers=advisor)
        assert response.status_code == 200
        return response.get_json()

    return get


@pytest.fixture
def later_time() -> Callable[[], datetime]:
    """Each call an hour further on: past any backoff the test configuration makes,
    and past the previous call's, so every failed notification is due again."""
    hours = iter(range(1, 10_000))
    start = datetime.now(UTC)
    return lambda: start + timedelta(hours=next(hours))


@pytest.fixture
def pdf() -> bytes:
    return PDF


@pytest.fixture
def sms_token() -> str:
    return SMS_TOKEN


@pytest.fixture
def unused_port() -> int:
    return free_port()
