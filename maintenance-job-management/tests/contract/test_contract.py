"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process): the kit's standard contract tests. And
what the outbox sends matches the calls agreed in ARCHITECTURE.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from maintenance_job_management import domain
from maintenance_job_management.clients import invoicing, notification_management, workshop_scheduling
from maintenance_job_management.models import db

from service_kit.contract_testing import find_contract, operation, validate_request
from service_kit.contracts import load_contract
from service_kit.provider_testing import ServiceContractTests
from service_kit.testing import empty_tables


class TestContract(ServiceContractTests):
    """A schema-valid body can still break a rule the schema cannot express (a job that
    exists, a cursor this API gave out, planned_start before planned_end): 422, 404 and
    409 are the documented answers."""

    package = "maintenance_job_management"
    contract = find_contract("maintenance-job-management")
    database = db
    operations_at_least = 25
    max_examples = 10

    def headers(self, operation, auth_headers):
        # Only scheduling (a service) moves a job's planned time.
        return auth_headers("service" if operation.path.endswith("/reschedule") else "admin")

    def empty(self):
        empty_tables(db)


def test_what_invoicing_and_scheduling_rely_on_is_in_the_contract():
    spec = load_contract(TestContract.contract)
    schemas = spec["components"]["schemas"]
    job = schemas["Job"]["properties"]
    for name in ("status", "customer_id", "vehicle_id", "lines", "odometer_in", "completed_at", "id"):
        assert name in job, name
    line = schemas["Line"]["properties"]
    for name in ("kind", "description", "quantity", "unit_price", "vat_rate", "approved"):
        assert name in line, name
    create = schemas["JobCreate"]["properties"]
    assert set(create) == {
        "appointment_id",
        "vehicle_id",
        "customer_id",
        "planned_start",
        "planned_end",
        "description",
        # Optional: the vehicle as booked, for the customer's messages and portal page.
        "vehicle_plate",
        "vehicle_make",
        "vehicle_model",
    }
    assert set(schemas["JobCreate"]["required"]) == {
        "appointment_id",
        "vehicle_id",
        "customer_id",
        "planned_start",
        "planned_end",
        "description",
    }
    for verb in ("reschedule", "cancel", "start", "hold", "resume", "complete"):
        assert f"/api/v1/maintenance-jobs/{{job_id}}/{verb}" in spec["paths"]


def test_outbox_requests_match_the_agreed_calls():
    job_id, customer_id = uuid.uuid4(), uuid.uuid4()
    invoice = invoicing.invoice_job(job_id)
    assert (invoice.target, invoice.method, invoice.path) == ("invoicing", "POST", "/api/v1/invoices")
    assert invoice.body == {"job_id": str(job_id)}
    assert invoice.idempotency_key == f"invoice-{job_id}"
    ready = notification_management.notify(
        customer_id=customer_id, type_="vehicle_ready", data={"job_id": str(job_id)}, idempotency_key="k"
    )
    assert (ready.target, ready.method, ready.path) == (
        "notification-management",
        "POST",
        "/api/v1/notifications",
    )
    assert ready.body == {
        "customer_id": str(customer_id),
        "type": "vehicle_ready",
        "data": {"job_id": str(job_id)},
    }
    with pytest.raises(ValueError):
        notification_management.notify(
            customer_id=customer_id, type_="invoice_issued", data={}, idempotency_key="k"
        )


def test_each_job_status_sent_is_what_workshop_scheduling_accepts():
    """PUT /api/v1/appointments/{appointment_id}/job, open to services only, with a body its
    committed contract accepts for every status a job can have."""
    contract = find_contract("workshop-scheduling")
    path = "/api/v1/appointments/{appointment_id}/job"
    put = operation(contract, "PUT", path)
    assert put["x-roles"] == ["service"]
    assert {"200", "404", "422"} <= set(put["responses"])
    accepted = load_contract(contract)["components"]["schemas"]["JobStatus"]["properties"]
    assert set(accepted["job_status"]["enum"]) == set(domain.STATUSES)
    appointment_id, job_id = uuid.uuid4(), uuid.uuid4()
    for status in domain.STATUSES:
        request = workshop_scheduling.job_status(
            appointment_id=appointment_id,
            job_id=job_id,
            status=status,
            version=3,
            changed_at=datetime.now(UTC),
            reason="customer called" if status == "cancelled" else None,
        )
        assert (request.target, request.method) == ("workshop-scheduling", "PUT")
        assert request.path == f"/api/v1/appointments/{appointment_id}/job"
        assert request.idempotency_key == f"job-status-{job_id}-v3"
        validate_request(contract, "PUT", path, request.body)


def test_the_appointment_statuses_kept_are_the_ones_workshop_scheduling_has():
    appointment = load_contract(find_contract("workshop-scheduling"))["components"]["schemas"]["Appointment"]
    assert set(workshop_scheduling.APPOINTMENT_STATUSES) == set(appointment["properties"]["status"]["enum"])


def test_the_portal_operations_are_in_the_contract_as_agreed():
    """docs/customer-portal.md: four operations, each for the role portal with a link of
    its purpose; no other operation admits the portal's role."""
    spec = load_contract(TestContract.contract)
    agreed = {
        ("get", "/api/v1/portal/estimate"): "estimate",
        ("post", "/api/v1/portal/estimate/decision"): "estimate",
        ("get", "/api/v1/portal/visit"): "visit",
        ("post", "/api/v1/portal/visit/feedback"): "visit",
    }
    for (method, path), purpose in agreed.items():
        documented = spec["paths"][path][method]
        assert documented["x-roles"] == ["portal"] and documented["x-link-purpose"] == purpose
        assert "410" in documented["responses"]
        assert not [p for p in documented.get("parameters", []) if p["in"] == "path"], "no id from the path"
    others = [
        (method, path)
        for path, operations in spec["paths"].items()
        for method, documented in operations.items()
        if method != "parameters" and (method, path) not in agreed
    ]
    assert others and all("portal" not in spec["paths"][p][m].get("x-roles", ()) for m, p in others)
    decision = spec["components"]["schemas"]["PortalDecision"]
    assert set(decision["properties"]) == {"decisions", "signature"}
    assert set(spec["components"]["schemas"]["PortalFeedback"]["properties"]) == {"rating", "comment"}
    for path in (
        "/api/v1/feedback",
        "/api/v1/feedback/summary",
        "/api/v1/maintenance-jobs/{job_id}/hand-over",
    ):
        assert path in spec["paths"]
