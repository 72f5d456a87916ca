from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from maintenance_job_management import create_app
from maintenance_job_management.models import db

from service_kit.auth import mint_token
from service_kit.migrations import upgrade
from service_kit.testing import empty_tables

from .fakes import Downstreams

TECHNICIAN = "tech-anna"


@pytest.fixture(scope="session")
def app(fresh_database_url: str) -> Flask:
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url})
    upgrade(app)
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    with app.app_context():
        empty_tables(db)


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    """A real database session for service-level tests, emptied afterwards."""
    with app.app_context():
        yield db.session
        db.session.rollback()
        empty_tables(db)


@pytest.fixture
def portal(app: Flask) -> dict[str, str]:
    """The customer portal's own service identity (client credentials, role portal)."""
    token = mint_token(app.config, roles=["portal"], subject="customer-portal")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def receiver() -> Iterator[Downstreams]:
    server = Downstreams()
    yield server
    server.stop()


def soon(days: int = 1, hours: int = 0) -> datetime:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days, hours=hours)
    return start


class Jobs:
    """Short hands for driving the API the way its callers do."""

    def __init__(self, client: FlaskClient, auth_headers: Callable[..., dict[str, str]]) -> None:
        self.client = client
        self.advisor = auth_headers("advisor", subject="advisor-bea")
        self.technician = auth_headers("technician", subject=TECHNICIAN)
        self.service = auth_headers("service", subject="workshop-scheduling")
        self.admin = auth_headers("admin", subject="admin-cas")
        self.accountant = auth_headers("accountant", subject="accountant-dirk")
        self.technician_id = TECHNICIAN
        self.soon = soon

    def body(self, **fields: Any) -> dict[str, Any]:
        start = fields.pop("planned_start", None) or soon()
        body = {
            "appointment_id": str(uuid.uuid4()),
            "vehicle_id": str(uuid.uuid4()),
            "customer_id": str(uuid.uuid4()),
            "planned_start": start if isinstance(start, str) else start.isoformat(),
            "planned_end": (soon() if isinstance(start, str) else start + timedelta(hours=2)).isoformat(),
            "description": "annual service",
        }
        body.update(fields)
        return body

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/maintenance-jobs", json=self.body(**fields), headers=self.service
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def get(self, job_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/maintenance-jobs/{job_id}", headers=self.advisor)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def act(self, job_id: str, verb: str, body: dict[str, Any] | None = None, headers: Any = None) -> Any:
        if headers is None:
            headers = {
                "start": self.technician,
                "complete": self.technician,
                "hold": self.technician,
                "resume": self.technician,
                "cancel": self.advisor,
                "reschedule": self.service,
            }[verb]
        if body is None:
            body = {"hold": {"reason": "waiting for parts"}, "cancel": {"reason": "customer called"}}.get(
                verb, {}
            )
        if verb == "resume":
            return self.client.post(f"/api/v1/maintenance-jobs/{job_id}/resume", headers=headers)
        return self.client.post(f"/api/v1/maintenance-jobs/{job_id}/{verb}", json=body, headers=headers)

    def must(self, job_id: str, verb: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.act(job_id, verb, body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def add_line(self, job_id: str, headers: Any = None, **fields: Any) -> Any:
        return self.client.post(
            f"/api/v1/maintenance-jobs/{job_id}/lines", json=fields, headers=headers or self.technician
        )

    def labour(
        self, job_id: str, *, hours: str = "1.50", rate: int = 6000, booked: bool = True, **more: Any
    ) -> dict:
        response = self.add_line(
            job_id,
            kind="labour",
            description=more.pop("description", "labour"),
            hours=hours,
            hourly_rate=rate,
            covered_by_booking=booked,
            **more,
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def part(
        self, job_id: str, *, quantity: str = "1", price: int = 1000, booked: bool = True, **more: Any
    ) -> dict:
        response = self.add_line(
            job_id,
            kind="part",
            description=more.pop("description", "oil filter"),
            part_number=more.pop("part_number", "OF-123"),
            quantity=quantity,
            unit_price=price,
            covered_by_booking=booked,
            **more,
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def patch_line(self, job_id: str, line_id: str, headers: Any = None, **changes: Any) -> Any:
        return self.client.patch(
            f"/api/v1/maintenance-jobs/{job_id}/lines/{line_id}",
            json=changes,
            headers=headers or self.technician,
        )

    def estimate(self, job_id: str, **body: Any) -> Any:
        body.setdefault("channel", "counter")
        return self.client.post(
            f"/api/v1/maintenance-jobs/{job_id}/estimates", json=body, headers=self.advisor
        )

    def decide(self, job_id: str, estimate: dict[str, Any], approve: Any = True, **more: Any) -> Any:
        """``approve``: True/False for every line, or {line_id: bool}."""
        lines = [entry["line_id"] for entry in estimate["snapshot"]["lines"]]
        decisions = approve if isinstance(approve, dict) else dict.fromkeys(lines, approve)
        body = {
            "decided_by": more.pop("decided_by", "Jan de Vries"),
            "channel": more.pop("channel", "phone"),
            "lines": [{"line_id": line_id, "approved": decisions[line_id]} for line_id in lines],
            **more,
        }
        return self.client.post(
            f"/api/v1/maintenance-jobs/{job_id}/estimates/{estimate['id']}/decision",
            json=body,
            headers=self.advisor,
        )

    def in_status(self, status: str) -> dict[str, Any]:
        """A fresh job brought to ``status`` through the API."""
        job = self.create()
        if status == "cancelled":
            return self.must(job["id"], "cancel")
        if status == "scheduled":
            return job
        self.must(job["id"], "start")
        if status == "on_hold":
            return self.must(job["id"], "hold")
        if status == "completed":
            return self.must(job["id"], "complete")
        return self.get(job["id"])


@pytest.fixture
def jobs(client: FlaskClient, auth_headers: Callable[..., dict[str, str]]) -> Jobs:
    return Jobs(client, auth_headers)
