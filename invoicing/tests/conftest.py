"""Fixtures: the app on a fresh database, and the services invoicing talks to as real
HTTP servers on loopback (tests/fakes.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from invoicing.clients import EXTENSION
from invoicing.models import db
from invoicing.service import invoices, payments, reminders, sending, settings
from sqlalchemy import text

from invoicing import create_app
from service_kit.auth import mint_token
from service_kit.links import LINK_HEADER
from service_kit.migrations import upgrade
from service_kit.testing import empty_tables

from .fakes import FakeCustomers, FakeJobs, FakeVehicles, NotificationReceiver, labour, part

URL = "/api/v1/invoices"
CREDIT_NOTES = "/api/v1/credit-notes"
PORTAL = "/api/v1/portal/invoice"
# Generous enough for 20 issues at once on a busy two-CPU machine (0.5 s once made the
# numbering test flaky in CI); the slow-dependency test waits past it.
READ_TIMEOUT = 2.0


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def fake_jobs() -> Iterator[FakeJobs]:
    fake = FakeJobs()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_customers() -> Iterator[FakeCustomers]:
    fake = FakeCustomers()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_vehicles() -> Iterator[FakeVehicles]:
    fake = FakeVehicles()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def notifications() -> Iterator[NotificationReceiver]:
    fake = NotificationReceiver()
    yield fake
    fake.stop()


def _client_settings(name: str, url: str) -> dict[str, Any]:
    prefix = name.upper().replace("-", "_")
    return {
        f"{prefix}_URL": url,
        f"{prefix}_RETRIES": 0,
        f"{prefix}_BACKOFF_SECONDS": 0.001,
        f"{prefix}_CONNECT_TIMEOUT_SECONDS": 0.5,
        f"{prefix}_READ_TIMEOUT_SECONDS": READ_TIMEOUT,
        # Failure tests must see each call fail on its own, not a breaker opened by the last test.
        f"{prefix}_BREAKER_FAILURES": 1000,
    }


@pytest.fixture(scope="session")
def app(
    fresh_database_url: str,
    fake_jobs: FakeJobs,
    fake_customers: FakeCustomers,
    fake_vehicles: FakeVehicles,
    notifications: NotificationReceiver,
) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "DB_POOL_SIZE": 12,
            "DB_MAX_OVERFLOW": 12,
            "INVOICING_URL": "http://invoicing.test",
            "GARAGE_NAME": "Garage De Vries",
            "GARAGE_ADDRESS": "Werkplaatsweg 7|3511 AB Utrecht|Netherlands",
            "GARAGE_VAT_NUMBER": "NL123456789B01",
            "GARAGE_IBAN": "NL91ABNA0417164300",
            "GARAGE_BIC": "ABNANL2A",
            "GARAGE_CHAMBER_OF_COMMERCE": "12345678",
            "GARAGE_PHONE": "030 123 4567",
            "GARAGE_EMAIL": "werkplaats@devries.example",
            **_client_settings("maintenance-job-management", fake_jobs.url),
            **_client_settings("customer-management", fake_customers.url),
            **_client_settings("vehicle-management", fake_vehicles.url),
            **_client_settings("notification-management", notifications.url),
        }
    )
    upgrade(app)
    return app


@pytest.fixture
def clean(app, fake_jobs, fake_customers, fake_vehicles, notifications) -> Iterator[None]:
    for fake in (fake_jobs, fake_customers, fake_vehicles, notifications):
        fake.reset()
    downstreams = app.extensions[EXTENSION]
    for client in (downstreams.jobs, downstreams.customers, downstreams.vehicles):
        client.http.breaker.reset()
    yield
    violations = [v for fake in (fake_jobs, fake_customers, fake_vehicles) for v in fake.violations]
    for fake in (fake_jobs, fake_customers, fake_vehicles, notifications):
        fake.reset()
    with app.app_context():
        empty_tables(db)
    assert violations == [], "a fake answered outside its provider's contract"


@pytest.fixture
def client(app: Flask, clean: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def service_headers(auth_headers):
    return auth_headers("service", subject="maintenance-job-management")


@pytest.fixture
def accountant(auth_headers):
    return auth_headers("accountant", subject="acc-1")


@pytest.fixture
def advisor(auth_headers):
    return auth_headers("advisor", subject="adv-1")


class Garage:
    """Sets the scene (a customer, a vehicle, a completed job in the fakes) and drives
    invoicing through its API."""

    def __init__(self, client, jobs, customers, vehicles, notifications, auth_headers) -> None:
        self.client = client
        self.jobs = jobs
        self.customers = customers
        self.vehicles = vehicles
        self.notifications = notifications
        self.service = auth_headers("service", subject="maintenance-job-management")
        self.accountant = auth_headers("accountant", subject="acc-1")
        self.advisor = auth_headers("advisor", subject="adv-1")
        self.admin = auth_headers("admin", subject="admin-1")
        self._names = itertools.count(1)

    def job(self, lines: list[dict[str, Any]] | None = None, *, customer: dict | None = None, **fields: Any):
        customer = customer or self.customers.add(name=f"Customer {next(self._names)}")
        vehicle = self.vehicles.add(customer["id"])
        return self.jobs.add(customer_id=customer["id"], vehicle_id=vehicle["id"], lines=lines, **fields)

    def create(self, job_id: str, headers: dict | None = None, **body: Any):
        return self.client.post(URL, json={"job_id": job_id, **body}, headers=headers or self.service)

    def invoice(self, lines: list[dict[str, Any]] | None = None, **body: Any) -> dict[str, Any]:
        job_fields = {key: body.pop(key) for key in ("customer",) if key in body}
        job = self.job(lines, **job_fields)
        response = self.create(job["id"], **body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def get(self, invoice_id: str) -> dict[str, Any]:
        response = self.client.get(f"{URL}/{invoice_id}", headers=self.accountant)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def pay(self, invoice_id: str, amount: int, headers: dict | None = None, **more: Any):
        body = {"amount": amount, "method": more.pop("method", "bank_transfer"), **more}
        return self.client.post(f"{URL}/{invoice_id}/payments", json=body, headers=headers or self.accountant)

    def credit(self, invoice_id: str, headers: dict | None = None, **body: Any):
        body = {"invoice_id": invoice_id, "reason": body.pop("reason", "goodwill"), **body}
        return self.client.post(CREDIT_NOTES, json=body, headers=headers or self.accountant)


@pytest.fixture
def garage(client, fake_jobs, fake_customers, fake_vehicles, notifications, auth_headers) -> Garage:
    return Garage(client, fake_jobs, fake_customers, fake_vehicles, notifications, auth_headers)


@pytest.fixture
def counters(app: Flask) -> Callable[[], dict[tuple[str, int], int]]:
    def read() -> dict[tuple[str, int], int]:
        with app.app_context(), db.engine.connect() as connection:
            return {
                (row.series, row.year): row.last_number
                for row in connection.execute(text("SELECT * FROM invoicing.document_counters"))
            }

    return read


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """``clock(moment)``: the use cases read ``moment`` as now, in every part that reads
    the time, until ``monkeypatch.undo()`` or the end of the test."""

    def set_to(moment: datetime) -> None:
        for module in (settings, invoices, payments, sending, reminders):
            monkeypatch.setattr(module, "utcnow", lambda: moment)

    return set_to


@pytest.fixture(name="labour")
def labour_fixture() -> Callable[..., dict[str, Any]]:
    """``labour(hours_hundredths, rate, vat="21.00", approved=True, description=...)``: a job line."""
    return labour


@pytest.fixture(name="part")
def part_fixture() -> Callable[..., dict[str, Any]]:
    """``part(quantity_hundredths, price, vat="21.00", approved=True, ...)``: a job line."""
    return part


class Portal:
    """The customer portal as invoicing sees it: its own service token (role portal,
    as identity issues it to the client customer-portal) and the pay links invoicing
    put in its messages."""

    def __init__(self, app: Flask, client: FlaskClient, outbox_rows: Callable[..., list[Any]]) -> None:
        self.client = client
        self.outbox_rows = outbox_rows
        token = mint_token(app.config, roles=["portal"], subject="customer-portal")
        self.token = {"Authorization": f"Bearer {token}"}

    def link(self, invoice_id: str) -> str:
        """The token of the latest pay link a message about ``invoice_id`` carries."""
        urls = [
            row.body["data"]["pay_url"]
            for row in self.outbox_rows(target="notification-management")
            if row.body["data"].get("invoice_id") == invoice_id
        ]
        assert urls, f"no message about invoice {invoice_id} carries a pay link"
        return str(urls[-1].rsplit("/", 1)[1])

    def headers(self, link: str | None, **more: str) -> dict[str, str]:
        return {**self.token, **({LINK_HEADER: link} if link is not None else {}), **more}

    def get(self, link: str | None, headers: dict[str, str] | None = None):
        return self.client.get(PORTAL, headers=headers or self.headers(link))

    def pdf(self, link: str | None, headers: dict[str, str] | None = None):
        return self.client.get(f"{PORTAL}/pdf", headers=headers or self.headers(link))

    def pay(
        self, link: str | None, headers: dict[str, str] | None = None, key: str | None = None, **body: Any
    ):
        body = {
            "amount": 1000,
            "provider": "mollie",
            "provider_payment_id": "tr_WDqYK6vllg",
            "paid_at": "2026-03-05T10:15:00+00:00",
            "method": "ideal",
            **body,
        }
        extra = {"Idempotency-Key": key} if key else {}
        return self.client.post(
            f"{PORTAL}/payments", json=body, headers={**(headers or self.headers(link)), **extra}
        )


@pytest.fixture
def portal(app: Flask, client: FlaskClient, outbox_rows) -> Portal:
    return Portal(app, client, outbox_rows)
