from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient
from vehicle_management import create_app
from vehicle_management.clients.customer_management import EXTENSION
from vehicle_management.models import SCHEMA, db

from service_kit.contract_testing import ContractFake, find_contract
from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema

CUSTOMER_MANAGEMENT_URL = "http://customer-management.test"
GET_CUSTOMER = "/api/v1/customers/{customer_id}"
# Fast failure handling, so the tests of it stay fast.
CLIENT_SETTINGS = {
    "CUSTOMER_MANAGEMENT_URL": CUSTOMER_MANAGEMENT_URL,
    "CUSTOMER_MANAGEMENT_RETRIES": 1,
    "CUSTOMER_MANAGEMENT_BACKOFF_SECONDS": 0.001,
    "CUSTOMER_MANAGEMENT_BREAKER_FAILURES": 3,
    "CUSTOMER_MANAGEMENT_BREAKER_COOLDOWN_SECONDS": 0.2,
    "CUSTOMER_MANAGEMENT_READ_TIMEOUT_SECONDS": 0.3,
}


@pytest.fixture(scope="session")
def app(fresh_database_url: str) -> Flask:
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url, **CLIENT_SETTINGS})
    upgrade(app)
    return app


@pytest.fixture(autouse=True)
def _closed_breaker(app: Flask) -> None:
    """Each test starts with customer-management in good standing."""
    app.extensions[EXTENSION].http.breaker.reset()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        truncate_schema(db.engine, SCHEMA)


@pytest.fixture
def advisor(auth_headers):
    return auth_headers("advisor")


def customer_body(customer_id: uuid.UUID, *, status: str = "active", name: str = "Ann de Vries") -> dict:
    """A customer as customer-management answers it (checked against its contract)."""
    erased = status == "erased"
    consent = {"service": not erased, "marketing": False}
    return {
        "id": str(customer_id),
        "kind": "person",
        "name": "Erased customer" if erased else name,
        "vat_number": None,
        "contact_person": None,
        "email": None if erased else "ann@example.com",
        "phone": None if erased else "+31612345678",
        "address": {"street": None, "postal_code": None, "city": None, "country": None if erased else "NL"},
        "preferred_channel": "none" if erased else "email",
        "preferred_language": "nl",
        "notes": None,
        "consents": {"email": dict(consent), "sms": dict(consent)},
        "marketing_consent": False,
        "status": status,
        "created_at": "2026-03-01T09:30:00+00:00",
        "updated_at": "2026-03-02T10:00:00+00:00",
        "erased_at": "2026-03-02T10:00:00+00:00" if erased else None,
        "version": 2 if erased else 1,
    }


class FakeCustomerManagement:
    """customer-management faked at the HTTP boundary; every canned answer is
    validated against contracts/customer-management.yaml when it is added."""

    contract = find_contract("customer-management")
    path = GET_CUSTOMER
    body = staticmethod(customer_body)

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.fake = ContractFake(mock, self.contract, CUSTOMER_MANAGEMENT_URL)

    def customer(
        self, customer_id: uuid.UUID | None = None, *, status: str = "active", name: str = "Ann de Vries"
    ) -> uuid.UUID:
        """An answer for ``customer_id`` (new by default). Answers added for one id are
        given in the order added, the last one repeating."""
        customer_id = customer_id or uuid.uuid4()
        self.fake.add(
            "GET",
            GET_CUSTOMER,
            200,
            customer_body(customer_id, status=status, name=name),
            customer_id=customer_id,
        )
        return customer_id

    def unknown(self) -> uuid.UUID:
        customer_id = uuid.uuid4()
        problem = {
            "type": "urn:garage:problem:customer-not-found",
            "title": "Not Found",
            "status": 404,
            "detail": f"customer {customer_id} does not exist",
        }
        self.fake.add("GET", GET_CUSTOMER, 404, problem, customer_id=customer_id)
        return customer_id

    def failing(self, status: int = 500) -> uuid.UUID:
        customer_id = uuid.uuid4()
        problem = {"type": "about:blank", "title": "Internal Server Error", "status": status}
        self.fake.add("GET", GET_CUSTOMER, status, problem, customer_id=customer_id)
        return customer_id

    def down(self, customer_id: uuid.UUID | None = None) -> uuid.UUID:
        customer_id = customer_id or uuid.uuid4()
        self.fake.fail(
            "GET", GET_CUSTOMER, requests.ConnectionError("connection refused"), customer_id=customer_id
        )
        return customer_id

    def slow(self) -> uuid.UUID:
        customer_id = uuid.uuid4()
        self.fake.fail("GET", GET_CUSTOMER, requests.ReadTimeout("read timed out"), customer_id=customer_id)
        return customer_id

    def calls_for(self, customer_id: Any) -> int:
        return sum(1 for call in self.mock.calls if call.request.url.endswith(f"/customers/{customer_id}"))


@pytest.fixture
def customers() -> Iterator[FakeCustomerManagement]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeCustomerManagement(mock)


@pytest.fixture
def register(client, advisor, customers):
    """POST a vehicle (with sensible defaults, for a fresh active customer) and return its JSON."""
    counter = iter(range(1, 1_000_000))

    def make(**fields: Any) -> dict:
        n = next(counter)
        body = {"plate": f"TS-{n:03d}-X", "make": "Volkswagen", "model": "Golf"}
        body.update(fields)
        body.setdefault("owner_id", str(customers.customer()))
        response = client.post("/api/v1/vehicles", json=body, headers=advisor)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make
