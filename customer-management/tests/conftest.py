from __future__ import annotations

from collections.abc import Iterator

import pytest
from customer_management import create_app
from customer_management.models import SCHEMA, db
from flask import Flask
from flask.testing import FlaskClient

from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema


@pytest.fixture(scope="session")
def app(fresh_database_url: str) -> Flask:
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url})
    upgrade(app)
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        truncate_schema(db.engine, SCHEMA)


@pytest.fixture
def session(app: Flask) -> Iterator[object]:
    """A real database session for service-level tests, emptied afterwards."""
    with app.app_context():
        yield db.session
        db.session.rollback()
        truncate_schema(db.engine, SCHEMA)


@pytest.fixture
def advisor(auth_headers):
    return auth_headers("advisor")


@pytest.fixture
def register(client, advisor):
    """POST a customer (with sensible defaults) and return the created JSON."""
    counter = iter(range(1, 1_000_000))

    def make(**fields):
        n = next(counter)
        body = {"kind": "person", "name": f"Customer {n}", "email": f"customer{n}@example.com"}
        body.update(fields)
        response = client.post("/api/v1/customers", json=body, headers=advisor)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make
