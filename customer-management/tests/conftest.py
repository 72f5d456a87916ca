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
