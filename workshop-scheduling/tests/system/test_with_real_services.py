"""workshop-scheduling with the real customer-management, vehicle-management and
maintenance-job-management: each app served over HTTP on loopback (werkzeug, in
threads), one test database, each service in its own schema. Skipped when those
packages are not installed (this service's own tests need only the kit)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import workshop_scheduling

from service_kit.auth import mint_token
from service_kit.migrations import upgrade
from service_kit.testing import served, truncate_schema

from ..helpers import OPEN_DAILY, local, today

customer_management = pytest.importorskip("customer_management")
vehicle_management = pytest.importorskip("vehicle_management")
maintenance_job_management = pytest.importorskip("maintenance_job_management")


@dataclass
class Garage:
    customers: str
    vehicles: str
    jobs: str
    scheduling: Any  # a test client of workshop-scheduling
    headers: dict[str, str]
    technician: dict[str, str]

    def vehicle(self) -> dict[str, Any]:
        customer = requests.post(
            f"{self.customers}/api/v1/customers",
            json={"kind": "person", "name": "Ann de Vries", "email": f"{uuid.uuid4().hex}@example.com"},
            headers=self.headers,
            timeout=5,
        )
        assert customer.status_code == 201, customer.text
        plate = f"RS-{uuid.uuid4().hex[:3].upper()}-1"
        vehicle = requests.post(
            f"{self.vehicles}/api/v1/vehicles",
            json={"owner_id": customer.json()["id"], "plate": plate, "make": "Volvo", "model": "V60"},
            headers=self.headers,
            timeout=5,
        )
        assert vehicle.status_code == 201, vehicle.text
        return vehicle.json()

    def job(self, job_id: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.jobs}/api/v1/maintenance-jobs/{job_id}", headers=self.headers, timeout=5
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def garage(fresh_database_url: str, app) -> Iterator[Garage]:
    base = {"TESTING": True, "DATABASE_URL": fresh_database_url}
    customers_app = customer_management.create_app(dict(base))
    upgrade(customers_app)
    jobs_app = maintenance_job_management.create_app(dict(base))
    upgrade(jobs_app)
    with served(customers_app) as customers_url, served(jobs_app) as jobs_url:
        vehicles_app = vehicle_management.create_app({**base, "CUSTOMER_MANAGEMENT_URL": customers_url})
        upgrade(vehicles_app)
        with served(vehicles_app) as vehicles_url:
            scheduling = workshop_scheduling.create_app(
                {
                    **base,
                    "VEHICLE_MANAGEMENT_URL": vehicles_url,
                    "MAINTENANCE_JOB_MANAGEMENT_URL": jobs_url,
                    "MAINTENANCE_JOB_MANAGEMENT_READ_TIMEOUT_SECONDS": 2,
                }
            )
            headers = {"Authorization": f"Bearer {mint_token(scheduling.config, roles=['advisor', 'admin'])}"}
            technician_token = mint_token(scheduling.config, roles=["technician"], subject="tech-anna")
            technician = {"Authorization": f"Bearer {technician_token}"}
            client = scheduling.test_client()
            settings = {
                "time_zone": "Europe/Amsterdam",
                "booking_horizon_days": 400,
                "opening_hours": OPEN_DAILY,
            }
            assert client.put("/api/v1/workshop/settings", json=settings, headers=headers).status_code == 200
            assert (
                client.post(
                    "/api/v1/workshop/bays", json={"name": "Real lift", "kind": "lift"}, headers=headers
                ).status_code
                == 201
            )
            yield Garage(customers_url, vehicles_url, jobs_url, client, headers, technician)
    # Leave the shared test database as the other services' tests expect to find it.
    for service_app, schema in (
        (customers_app, "customers"),
        (vehicles_app, "vehicles"),
        (jobs_app, "jobs"),
        (scheduling, "scheduling"),
    ):
        with service_app.app_context():
            truncate_schema(service_app.extensions["sqlalchemy"].engine, schema)


def test_booking_creates_the_real_job_and_follows_it(garage: Garage) -> None:
    vehicle = garage.vehicle()
    day = today() + timedelta(days=3)
    body = {
        "vehicle_id": vehicle["id"],
        "start": local(day, "10:00").isoformat(),
        "end": local(day, "11:30").isoformat(),
        "work_description": "annual service",
        "service_codes": ["APK"],
    }
    booked = garage.scheduling.post("/api/v1/appointments", json=body, headers=garage.headers)
    assert booked.status_code == 201, booked.get_json()
    appointment = booked.get_json()
    assert appointment["customer_id"] == vehicle["owner_id"]
    job = garage.job(appointment["job_id"])
    assert job["appointment_id"] == appointment["id"]
    assert job["status"] == "scheduled"
    assert job["description"] == "annual service [APK]"

    moved = garage.scheduling.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json={"start": local(day, "14:00").isoformat()},
        headers=garage.headers,
    )
    assert moved.status_code == 200, moved.get_json()
    job = garage.job(appointment["job_id"])
    # The same instant: the job answers it in UTC, the appointment on the workshop clock.
    assert datetime.fromisoformat(job["planned_start"]) == datetime.fromisoformat(moved.get_json()["start"])

    started = requests.post(
        f"{garage.jobs}/api/v1/maintenance-jobs/{job['id']}/start",
        json={},
        headers=garage.technician,
        timeout=5,
    )
    assert started.status_code == 200, started.text
    refused = garage.scheduling.post(
        f"/api/v1/appointments/{appointment['id']}/cancel", json={"reason": "x"}, headers=garage.headers
    )
    assert refused.status_code == 409
    assert refused.get_json()["job_status"] == "in_progress"

    planning = garage.scheduling.get(
        f"/api/v1/workshop/planning/days/{day.isoformat()}", headers=garage.headers
    )
    [shown] = planning.get_json()["days"][0]["appointments"]
    assert shown["job_status"] == "in_progress"
    assert shown["vehicle"]["plate"] == vehicle["plate"]


def test_cancel_cancels_the_real_job(garage: Garage) -> None:
    vehicle = garage.vehicle()
    day = today() + timedelta(days=4)
    body = {
        "vehicle_id": vehicle["id"],
        "start": local(day, "09:00").isoformat(),
        "end": local(day, "10:00").isoformat(),
        "work_description": "brakes",
    }
    appointment = garage.scheduling.post("/api/v1/appointments", json=body, headers=garage.headers).get_json()
    cancelled = garage.scheduling.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json={"reason": "customer called"},
        headers=garage.headers,
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    job = garage.job(appointment["job_id"])
    assert job["status"] == "cancelled"
    assert job["cancel_reason"] == "customer called"


def test_an_unknown_vehicle_is_422_and_makes_no_job(garage: Garage) -> None:
    day = today() + timedelta(days=5)
    body = {
        "vehicle_id": str(uuid.uuid4()),
        "start": local(day, "09:00").isoformat(),
        "end": local(day, "10:00").isoformat(),
        "work_description": "brakes",
    }
    response = garage.scheduling.post("/api/v1/appointments", json=body, headers=garage.headers)
    assert response.status_code == 422
    assert "vehicle_id" in response.get_json()["errors"]
