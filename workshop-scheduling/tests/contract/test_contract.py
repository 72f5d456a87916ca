"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process); what scheduling asks of other services
is in their committed contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from scheduling_testkit import JOBS_CONTRACT, NOTIFICATIONS_CONTRACT, VEHICLES_CONTRACT, validate_request
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from workshop_scheduling.clients import notification_management
from workshop_scheduling.models import SCHEMA, db

from service_kit.contracts import generate_spec, load_contract

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "workshop-scheduling.yaml"


def test_generated_openapi_equals_the_committed_contract():
    assert generate_spec("workshop_scheduling") == load_contract(CONTRACT), (
        "contracts/workshop-scheduling.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_declares_its_roles():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


def test_the_prefixes_are_the_ones_the_ingress_routes_here():
    prefixes = ("/api/v1/workshop", "/api/v1/availability", "/api/v1/appointments")
    for path in load_contract(CONTRACT)["paths"]:
        assert path.startswith(prefixes) or not path.startswith("/api/"), path


def test_migrations_create_exactly_what_the_models_describe(app):
    with app.app_context():
        url = db.engine.url
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


# ------------------------------------------------------------------------ downstreams


def operation(contract, method, path):
    return load_contract(contract)["paths"][path][method.lower()]


def test_the_vehicle_look_up_is_open_to_services_and_answers_what_is_read():
    get = operation(VEHICLES_CONTRACT, "GET", "/api/v1/vehicles/{vehicle_id}")
    assert "service" in get["x-roles"]
    assert "404" in get["responses"]
    vehicle = load_contract(VEHICLES_CONTRACT)["components"]["schemas"]["Vehicle"]
    assert {"id", "owner_id", "plate", "make", "model", "status"} <= set(vehicle["required"])


def test_the_job_calls_exist_open_to_services():
    calls = [
        ("POST", "/api/v1/maintenance-jobs"),
        ("GET", "/api/v1/maintenance-jobs"),
        ("GET", "/api/v1/maintenance-jobs/{job_id}"),
        ("POST", "/api/v1/maintenance-jobs/{job_id}/reschedule"),
        ("POST", "/api/v1/maintenance-jobs/{job_id}/cancel"),
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
    assert {"id", "status"} <= set(job["required"])


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


# ------------------------------------------------------------------------ schemathesis

# A schema-valid body can still break a rule the schema cannot express (a vehicle that
# exists, a time on the grid, a cursor this API gave out): 404, 409 and 422 are the
# documented answers.
BUSINESS_RULE_CHECKS = [positive_data_acceptance]


def test_api_never_fails_and_keeps_its_contract(app, auth_headers, client):
    """Every operation, fed generated input: no 5xx, answers as documented. The
    downstreams are the contract-checked fakes (unknown vehicles are 404 there)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    headers = auth_headers("admin")
    for op in operations:
        _exercise(op, headers, BUSINESS_RULE_CHECKS)


def _exercise(op, headers, excluded):
    @given(case=op.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def exercise(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    exercise()
