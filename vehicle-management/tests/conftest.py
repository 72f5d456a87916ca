from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from vehicle_management import create_app
from vehicle_management.clients.customer_management import EXTENSION
from vehicle_management.models import SCHEMA, db

from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema

from .fakes import (
    CUSTOMER_MANAGEMENT_URL,
    MAINTENANCE_JOB_MANAGEMENT_URL,
    WORKSHOP_SCHEDULING_URL,
    FakeCustomerManagement,
    FakeMaintenanceJobs,
)

# Fast failure handling, so the tests of it stay fast.
CLIENT_SETTINGS = {
    "CUSTOMER_MANAGEMENT_URL": CUSTOMER_MANAGEMENT_URL,
    "CUSTOMER_MANAGEMENT_RETRIES": 1,
    "CUSTOMER_MANAGEMENT_BACKOFF_SECONDS": 0.001,
    "CUSTOMER_MANAGEMENT_BREAKER_FAILURES": 3,
    "CUSTOMER_MANAGEMENT_BREAKER_COOLDOWN_SECONDS": 0.2,
    "CUSTOMER_MANAGEMENT_READ_TIMEOUT_SECONDS": 0.3,
    "MAINTENANCE_JOB_MANAGEMENT_URL": MAINTENANCE_JOB_MANAGEMENT_URL,
    "MAINTENANCE_JOB_MANAGEMENT_RETRIES": 0,
    "MAINTENANCE_JOB_MANAGEMENT_BACKOFF_SECONDS": 0.001,
    "MAINTENANCE_JOB_MANAGEMENT_BREAKER_FAILURES": 1000,
    "MAINTENANCE_JOB_MANAGEMENT_READ_TIMEOUT_SECONDS": 2,
    "WORKSHOP_SCHEDULING_URL": WORKSHOP_SCHEDULING_URL,
    "WORKSHOP_SCHEDULING_RETRIES": 0,
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


@pytest.fixture
def customers() -> Iterator[FakeCustomerManagement]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeCustomerManagement(mock)


@pytest.fixture
def jobs(customers) -> FakeMaintenanceJobs:
    """maintenance-job-management on the same mock as customer-management."""
    return FakeMaintenanceJobs(customers.mock)


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
