"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process)."""

import json
import re
import uuid
from pathlib import Path

import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from vehicle_management.models import SCHEMA, db

from service_kit.contract_testing import validate_response
from service_kit.contracts import generate_spec, load_contract
from service_kit.testing import truncate_schema

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "vehicle-management.yaml"


def test_generated_openapi_equals_the_committed_contract():
    assert generate_spec("vehicle_management") == load_contract(CONTRACT), (
        "contracts/vehicle-management.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_declares_its_roles():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


def test_what_scheduling_relies_on_is_in_the_contract():
    """ARCHITECTURE.md: scheduling reads id, owner_id, plate, make and model."""
    vehicle = load_contract(CONTRACT)["components"]["schemas"]["Vehicle"]
    assert {"id", "owner_id", "plate", "make", "model"} <= set(vehicle["required"])


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


# A schema-valid body can still break a rule the schema cannot express (a real plate,
# a VIN's check digit, a cursor this API gave out): 422 is the documented answer.
BUSINESS_RULE_CHECKS = [positive_data_acceptance]


def test_api_never_fails_and_keeps_its_contract(app, auth_headers, customers):
    """Every operation, fed generated input by schemathesis: no 5xx, answers as documented.
    customer-management (faked, its answer checked against its contract) knows every id."""
    validate_response(customers.contract, "GET", customers.path, 200, customers.body(uuid.uuid4()))

    def any_customer(request):
        customer_id = request.url.rsplit("/", 1)[-1]
        return 200, {"Content-Type": "application/json"}, json.dumps(customers.body(customer_id))

    customers.mock.add_callback(
        "GET", re.compile(r"http://customer-management\.test/api/v1/customers/[^/]+$"), any_customer
    )
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = auth_headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            case.call_and_validate(headers=headers, excluded_checks=BUSINESS_RULE_CHECKS)

        exercise()
        with app.app_context():
            truncate_schema(db.engine, SCHEMA)
