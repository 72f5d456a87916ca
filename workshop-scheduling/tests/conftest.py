from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from workshop_scheduling import create_app
from workshop_scheduling.clients.maintenance_jobs import EXTENSION as JOBS_EXTENSION
from workshop_scheduling.clients.vehicle_management import EXTENSION as VEHICLES_EXTENSION
from workshop_scheduling.models import SCHEMA, db

from service_kit.fakes import closed_url
from service_kit.migrations import upgrade
from service_kit.testing import empty_tables, served

from .fakes import FakeJobs, FakeVehicles
from .helpers import OPEN_DAILY, local, today

APPOINTMENTS = "/api/v1/appointments"
# Fast failure handling, so the tests of it stay fast.
FAST = {
    f"{prefix}_{key}": value
    for prefix in ("VEHICLE_MANAGEMENT", "MAINTENANCE_JOB_MANAGEMENT")
    for key, value in (
        ("RETRIES", 1),
        ("BACKOFF_SECONDS", 0.001),
        ("BREAKER_FAILURES", 50),
        ("BREAKER_COOLDOWN_SECONDS", 0.2),
        ("READ_TIMEOUT_SECONDS", 0.3),
    )
}


@pytest.fixture(scope="session")
def fake_vehicles() -> Iterator[FakeVehicles]:
    server = FakeVehicles()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_jobs() -> Iterator[FakeJobs]:
    server = FakeJobs()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app(fresh_database_url: str, fake_vehicles: FakeVehicles, fake_jobs: FakeJobs) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "VEHICLE_MANAGEMENT_URL": fake_vehicles.url,
            "MAINTENANCE_JOB_MANAGEMENT_URL": fake_jobs.url,
            "NOTIFICATION_MANAGEMENT_URL": closed_url(),
            # Enough connections for the concurrency tests' simultaneous requests.
            "DB_POOL_SIZE": 30,
            "DB_MAX_OVERFLOW": 10,
            **FAST,
        }
    )
    upgrade(app)
    return app


@pytest.fixture(autouse=True)
def _fresh_downstreams(app: Flask, fake_vehicles: FakeVehicles, fake_jobs: FakeJobs) -> Iterator[None]:
    """Each test starts with empty, healthy downstreams and closed breakers; it ends
    with no answer of a fake outside its provider's contract."""
    fake_vehicles.reset()
    fake_jobs.reset()
    for name in (VEHICLES_EXTENSION, JOBS_EXTENSION):
        app.extensions[name].http.breaker.reset()
    yield
    assert fake_vehicles.violations == [], fake_vehicles.violations
    assert fake_jobs.violations == [], fake_jobs.violations


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        empty_tables(db)


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    with app.app_context():
        yield db.session
        db.session.rollback()
        empty_tables(db)


@pytest.fixture
def down(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``down("vehicles")`` / ``down("jobs")``: point the client at an address nobody answers."""

    def make(which: str) -> None:
        http = app.extensions[VEHICLES_EXTENSION if which == "vehicles" else JOBS_EXTENSION].http
        monkeypatch.setattr(http, "settings", dataclasses.replace(http.settings, base_url=closed_url()))

    return make


@pytest.fixture
def count_rows(app: Flask) -> Callable[[str], int]:
    def count(table: str, where: str = "true") -> int:
        with app.app_context(), db.engine.connect() as connection:
            return connection.execute(
                text(f"SELECT count(*) FROM {SCHEMA}.{table} WHERE {where}")
            ).scalar_one()

    return count


class Workshop:
    """Short hands for driving the API as the front desk does."""

    def __init__(
        self,
        client: FlaskClient,
        auth_headers: Callable[..., dict[str, str]],
        vehicles: FakeVehicles,
        jobs: FakeJobs,
    ) -> None:
        self.client = client
        self.vehicles = vehicles
        self.jobs = jobs
        self.advisor = auth_headers("advisor", subject="advisor-bea")
        self.admin = auth_headers("admin", subject="admin-cas")
        self.technician = auth_headers("technician", subject="tech-anna")
        self.accountant = auth_headers("accountant")
        self.service = auth_headers("service", subject="front-end")
        self.day = today() + timedelta(days=2)

    def settings(self, **changes: Any) -> dict[str, Any]:
        body = {
            "time_zone": "Europe/Amsterdam",
            "slot_minutes": 15,
            "booking_horizon_days": 400,
            "opening_hours": OPEN_DAILY,
            "closed_dates": [],
            **changes,
        }
        response = self.client.put("/api/v1/workshop/settings", json=body, headers=self.admin)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def bay(self, name: str = "Lift 1", kind: str = "lift", **more: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/workshop/bays", json={"name": name, "kind": kind, **more}, headers=self.advisor
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def technician_(self, name: str = "Anna", skills: tuple[str, ...] = ("diagnostics",)) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/workshop/technicians", json={"name": name, "skills": list(skills)}, headers=self.advisor
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def body(
        self,
        vehicle_id: Any = None,
        start: str = "10:00",
        end: str = "11:00",
        day: date | None = None,
        **more: Any,
    ) -> dict[str, Any]:
        day = day or self.day
        return {
            "vehicle_id": str(vehicle_id or self.vehicles.add()),
            "start": local(day, start).isoformat(),
            "end": local(day, end).isoformat(),
            "work_description": "annual service",
            **more,
        }

    def book(self, headers: dict[str, str] | None = None, **fields: Any) -> Any:
        return self.client.post(APPOINTMENTS, json=self.body(**fields), headers=headers or self.advisor)

    def booked(self, **fields: Any) -> dict[str, Any]:
        response = self.book(**fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def act(
        self,
        appointment_id: str,
        verb: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.client.post(
            f"{APPOINTMENTS}/{appointment_id}/{verb}", json=body or {}, headers=headers or self.advisor
        )

    def get(self, appointment_id: str) -> dict[str, Any]:
        response = self.client.get(f"{APPOINTMENTS}/{appointment_id}", headers=self.advisor)
        assert response.status_code == 200
        return response.get_json()


@pytest.fixture
def workshop(
    client: FlaskClient,
    auth_headers: Callable[..., dict[str, str]],
    fake_vehicles: FakeVehicles,
    fake_jobs: FakeJobs,
) -> Workshop:
    shop = Workshop(client, auth_headers, fake_vehicles, fake_jobs)
    shop.settings()
    return shop


@pytest.fixture
def base_url(app: Flask, workshop: Workshop, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app served over HTTP on loopback (werkzeug, a thread per request), for tests
    of many simultaneous requests through real transactions."""
    # Many requests at once in one process: give the fakes time to answer (the fast
    # failure settings of the other tests would turn a busy moment into a 503).
    for name in (VEHICLES_EXTENSION, JOBS_EXTENSION):
        http = app.extensions[name].http
        monkeypatch.setattr(http, "settings", dataclasses.replace(http.settings, read_timeout=10))
    with served(app) as url:
        yield url
