"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process); what the outbox sends matches the
calls agreed in ARCHITECTURE.md."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from maintenance_job_management.clients import invoicing, notification_management
from maintenance_job_management.models import SCHEMA, db
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from service_kit.contracts import generate_spec, load_contract

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "maintenance-job-management.yaml"


def test_generated_openapi_equals_the_committed_contract():
    assert generate_spec("maintenance_job_management") == load_contract(CONTRACT), (
        "contracts/maintenance-job-management.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_declares_its_roles():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


def test_what_invoicing_and_scheduling_rely_on_is_in_the_contract():
    spec = load_contract(CONTRACT)
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
    }
    for verb in ("reschedule", "cancel", "start", "hold", "resume", "complete"):
        assert f"/api/v1/maintenance-jobs/{{job_id}}/{verb}" in spec["paths"]


def test_migrations_create_exactly_what_the_models_describe(app):
    with app.app_context():
        url = db.engine.url
    # With the service's schema first on the search path Alembic would take it for the
    # default schema and report every table as missing: compare on a plain connection.
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _: type_ != "schema" or name == SCHEMA,
                "version_table_schema": SCHEMA,
            },
        )
        assert compare_metadata(context, db.metadata) == []


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


# A schema-valid body can still break a rule the schema cannot express (a job that
# exists, a cursor this API gave out, planned_start before planned_end): 422, 404 and
# 409 are the documented answers.
BUSINESS_RULE_CHECKS = [positive_data_acceptance]


def _exercise(operation, headers):
    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def exercise(case):
        case.call_and_validate(headers=headers, excluded_checks=BUSINESS_RULE_CHECKS)

    exercise()


def test_api_never_fails_and_keeps_its_contract(app, auth_headers, empty):
    """Every operation, fed generated input by schemathesis: no 5xx, answers as documented."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        _exercise(operation, auth_headers("service" if operation.path.endswith("/reschedule") else "admin"))
        with app.app_context():
            empty()
