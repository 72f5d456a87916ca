"""Fixtures: the app on a fresh database, and real servers on loopback for everything
the dispatcher talks to (tests/fakes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from notification_management import create_app
from notification_management.dispatcher import Dispatcher
from notification_management.models import SCHEMA, db

from service_kit.fakes import free_port
from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema

from .fakes import (
    PDF,
    FakeCustomerManagement,
    FakeInvoicing,
    FakePushService,
    FakeSmsProvider,
    MailSink,
    vapid_private_key,
)

SMS_TOKEN = "sms-provider-test-token"
TWILIO_AUTH_TOKEN = "twilio-test-auth-token"
SMS_INBOUND_URL = "https://garage.example/webhooks/twilio/sms"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def customers() -> Iterator[FakeCustomerManagement]:
    fake = FakeCustomerManagement()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def invoicing() -> Iterator[FakeInvoicing]:
    fake = FakeInvoicing()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def sms_provider() -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def push_service() -> Iterator[FakePushService]:
    fake = FakePushService()
    yield fake
    fake.stop()


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
    push_service: FakePushService,
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
        "SMS_PROVIDER_URL": sms_provider.messages_url,
        "SMS_PROVIDER_TOKEN": SMS_TOKEN,
        "SMS_PROVIDER_RETRIES": 0,
        "GARAGE_NAME": "Garage Jansen",
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "SMS_INBOUND_URL": SMS_INBOUND_URL,
        "OUTBOX_BACKOFF_BASE_SECONDS": 30.0,
        "PUSH_VAPID_PRIVATE_KEY": vapid_private_key(),
        "PUSH_VAPID_SUBJECT": "mailto:service@garage.test",
        "PUSH_ENDPOINT_PATTERNS": [f"{push_service.url}/push/*"],
        "PUSH_TIMEOUT_SECONDS": 5.0,
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
    push_service: FakePushService,
) -> Flask:
    app = create_app(
        _config(fresh_database_url, customers, invoicing, sms_provider, smtp_server[1], push_service)
    )
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
def clean(
    app, customers, invoicing, sms_provider, smtp_server, push_service, default_templates
) -> Iterator[None]:
    for fake in (customers, invoicing, sms_provider, smtp_server[0], push_service):
        fake.reset()
    yield
    assert customers.violations == [], "customer-management answered outside its contract"
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
