"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process): the kit's standard contract tests. And
what scheduling asks of other services is in their committed contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from workshop_scheduling.clients import maintenance_jobs, notification_management
from workshop_scheduling.domain.appointments import JOB_LIFECYCLE, STATUSES
from workshop_scheduling.models import db

from service_kit.contract_testing import find_contract, operation, validate_request
from service_kit.contracts import load_contract
from service_kit.provider_testing import ServiceContractTests
from service_kit.testing import empty_tables

from ..fakes import JOBS_CONTRACT, NOTIFICATIONS_CONTRACT, VEHICLES_CONTRACT
from ..helpers import OPEN_DAILY, local, today


class TestContract(ServiceContractTests):
    """A schema-valid body can still break a rule the schema cannot express (a vehicle
    that exists, a time on the grid, a cursor this API gave out): 404, 409 and 422 are
    the documented answers. The downstreams are the contract-checked fakes (unknown
    vehicles are 404 there)."""

    package = "workshop_scheduling"
    contract = find_contract("workshop-scheduling")
    database = db
    operations_at_least = 29

    def empty(self):
        empty_tables(db)

    @pytest.fixture(autouse=True)
    def _garage(self, app, fake_vehicles):
        self.app, self.fake_vehicles = app, fake_vehicles

    def headers(self, operation, auth_headers):
        """The portal's operations are called as the portal with a live link: to a real
        appointment, or for a real vehicle, so generated input reaches the operation."""
        if not operation.path.startswith("/api/v1/portal/"):
            return super().headers(operation, auth_headers)
        portal = auth_headers("portal", subject="customer-portal")
        return {**portal, "Portal-Link": self._link(operation.path.split("/")[4], auth_headers)}

    def _link(self, purpose, auth_headers):
        client = self.app.test_client()
        admin = auth_headers("admin")
        settings = {"time_zone": "Europe/Amsterdam", "opening_hours": OPEN_DAILY, "booking_horizon_days": 400}
        assert client.put("/api/v1/workshop/settings", json=settings, headers=admin).status_code == 200
        assert (
            client.post(
                "/api/v1/workshop/bays", json={"name": "Lift", "kind": "lift"}, headers=admin
            ).status_code
            == 201
        )
        vehicle_id = self.fake_vehicles.add(owner_id=uuid.uuid4())
        if purpose == "appointment":
            day = today() + timedelta(days=3)
            body = {
                "vehicle_id": str(vehicle_id),
                "start": local(day, "10:00").isoformat(),
                "end": local(day, "11:00").isoformat(),
                "work_description": "annual service",
            }
            response = client.post("/api/v1/appointments", json=body, headers=admin)
            assert response.status_code == 201, response.get_json()
            kind = "appointment_confirmed"
        else:
            response = client.post(
                "/api/v1/booking-invitations", json={"vehicle_id": str(vehicle_id)}, headers=admin
            )
            assert response.status_code == 202, response.get_json()
            kind = "booking_invitation"
        with self.app.app_context(), db.engine.connect() as connection:
            body = connection.execute(
                text("SELECT body FROM scheduling.outbox_messages WHERE body->>'type' = :type"),
                {"type": kind},
            ).scalar_one()
        return body["data"]["link_url"].rsplit("/", 1)[1]


def test_the_prefixes_are_the_ones_the_ingress_routes_here():
    prefixes = (
        "/api/v1/workshop",
        "/api/v1/availability",
        "/api/v1/appointments",
        "/api/v1/booking-invitations",
        "/api/v1/portal/appointment",
        "/api/v1/portal/booking",
    )
    for path in load_contract(TestContract.contract)["paths"]:
        assert path.startswith(prefixes) or not path.startswith("/api/"), path


# ------------------------------------------------------------------------ downstreams


def test_the_vehicle_look_up_is_open_to_services_and_answers_what_is_read():
    get = operation(VEHICLES_CONTRACT, "GET", "/api/v1/vehicles/{vehicle_id}")
    assert "service" in get["x-roles"]
    assert "404" in get["responses"]
    vehicle = load_contract(VEHICLES_CONTRACT)["components"]["schemas"]["Vehicle"]
    assert {"id", "owner_id", "plate", "make", "model", "status"} <= set(vehicle["required"])


def test_the_plate_search_is_open_to_services_and_takes_any_spelling():
    search = operation(VEHICLES_CONTRACT, "GET", "/api/v1/vehicles")
    assert "service" in search["x-roles"]
    parameters = {p["name"]: p for p in search["parameters"]}
    assert {"plate", "limit"} <= set(parameters)
    assert parameters["limit"]["schema"]["maximum"] >= 200
    page = search["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert load_contract(VEHICLES_CONTRACT)["components"]["schemas"][page]["properties"]["items"]


def test_the_canned_jobs_are_open_to_services_with_their_labour_hours():
    listing = operation(JOBS_CONTRACT, "GET", "/api/v1/canned-jobs")
    assert "service" in listing["x-roles"]
    assert {"active", "limit"} <= {p["name"] for p in listing["parameters"]}
    schemas = load_contract(JOBS_CONTRACT)["components"]["schemas"]
    assert {"code", "name", "lines"} <= set(schemas["CannedJob"]["required"])
    assert {"kind", "hours", "quantity"} <= set(schemas["CannedJobLine"]["required"])


def test_the_job_calls_exist_open_to_services():
    calls = [
        ("POST", "/api/v1/maintenance-jobs"),
        ("GET", "/api/v1/maintenance-jobs"),
        ("GET", "/api/v1/maintenance-jobs/{job_id}"),
        ("POST", "/api/v1/maintenance-jobs/{job_id}/reschedule"),
        ("POST", "/api/v1/maintenance-jobs/{job_id}/cancel"),
        ("PUT", "/api/v1/maintenance-jobs/{job_id}/appointment"),
    ]
    for method, path in calls:
        op = operation(JOBS_CONTRACT, method, path)
        assert "service" in op["x-roles"], (method, path)
    create = operation(JOBS_CONTRACT, "POST", "/api/v1/maintenance-jobs")
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert {"200", "201"} <= set(create["responses"])
    assert "409" in operation(JOBS_CONTRACT, "POST", "/api/v1/maintenance-jobs/{job_id}/cancel")["responses"]
    listing = operation(JOBS_CONTRACT, "GET", "/api/v1/maintenance-jobs")
    assert "appointment_id" in {p["name"] for p in listing["parameters"]}
    job = load_contract(JOBS_CONTRACT)["components"]["schemas"]["Job"]
    assert {"id", "status", "version"} <= set(job["required"])
    assert set(job["properties"]["status"]["enum"]) == set(JOB_LIFECYCLE)


def test_each_appointment_status_sent_is_what_the_job_service_accepts():
    path = "/api/v1/maintenance-jobs/{job_id}/appointment"
    assert operation(JOBS_CONTRACT, "PUT", path)["x-roles"] == ["service"]
    job_id, appointment_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    for status in STATUSES:
        request = maintenance_jobs.appointment_status(
            job_id=job_id,
            appointment_id=appointment_id,
            status=status,
            version=2,
            changed_at=now,
            checked_in_at=now if status != "booked" else None,
        )
        assert (request.target, request.method, request.path) == (
            "maintenance-job-management",
            "PUT",
            f"/api/v1/maintenance-jobs/{job_id}/appointment",
        )
        assert request.idempotency_key == f"appointment-status-{appointment_id}-v2"
        validate_request(JOBS_CONTRACT, "PUT", path, request.body)


def test_every_message_scheduling_sends_is_a_notification_it_accepts():
    post = operation(NOTIFICATIONS_CONTRACT, "POST", "/api/v1/notifications")
    assert "service" in post["x-roles"]
    accepted = load_contract(NOTIFICATIONS_CONTRACT)["components"]["schemas"]["NotificationCreate"]
    assert set(notification_management.TYPES) <= set(accepted["properties"]["type"]["enum"])
    for type_ in notification_management.TYPES:
        request = notification_management.notify(
            customer_id=uuid.uuid4(),
            type_=type_,
            data={"appointment_id": str(uuid.uuid4()), "start": datetime.now(UTC).isoformat()},
            idempotency_key="k",
        )
        assert (request.target, request.method, request.path) == (
            "notification-management",
            "POST",
            "/api/v1/notifications",
        )
        validate_request(NOTIFICATIONS_CONTRACT, "POST", "/api/v1/notifications", request.body)
