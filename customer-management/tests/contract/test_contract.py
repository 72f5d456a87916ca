"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process)."""

from pathlib import Path

import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from customer_management.models import db
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from service_kit.contracts import generate_spec, load_contract
from service_kit.testing import truncate_schema

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "customer-management.yaml"


def test_generated_openapi_equals_the_committed_contract():
    assert generate_spec("customer_management") == load_contract(CONTRACT), (
        "contracts/customer-management.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_declares_its_roles():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


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
                "include_name": lambda name, type_, _: type_ != "schema" or name == "customers",
                "version_table_schema": "customers",
            },
        )
        assert compare_metadata(context, db.metadata) == []


# A schema-valid body can still break a rule the schema cannot express (a real phone
# number, an unused email, a cursor this API gave out): 422 is the documented answer.
BUSINESS_RULE_CHECKS = [positive_data_acceptance]


def test_api_never_fails_and_keeps_its_contract(app, auth_headers):
    """Every operation, fed generated input by schemathesis: no 5xx, answers as documented."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = auth_headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            case.call_and_validate(headers=headers, excluded_checks=BUSINESS_RULE_CHECKS)

        exercise()
        with app.app_context():
            truncate_schema(db.engine, "customers")
