"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process)."""

from pathlib import Path

import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from invoicing.models import SCHEMA, db
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from service_kit.contracts import generate_spec, load_contract

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "invoicing.yaml"


def test_generated_openapi_equals_the_committed_contract():
    assert generate_spec("invoicing") == load_contract(CONTRACT), (
        "contracts/invoicing.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_declares_its_roles():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


def test_the_call_the_job_service_makes_is_in_the_contract():
    """maintenance-job-management's outbox: POST /api/v1/invoices {job_id}, role service,
    Idempotency-Key; the answer carries id and number."""
    operation = load_contract(CONTRACT)["paths"]["/api/v1/invoices"]["post"]
    assert "service" in operation["x-roles"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    schemas = load_contract(CONTRACT)["components"]["schemas"]
    assert schemas["InvoiceCreate"]["required"] == ["job_id"]
    assert {"id", "number"} <= set(schemas["Invoice"]["required"])
    pdf = load_contract(CONTRACT)["paths"]["/api/v1/invoices/{invoice_id}/pdf"]["get"]
    assert "service" in pdf["x-roles"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]


def test_no_operation_edits_or_deletes_a_document():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        if "outbox-messages" in path:
            continue
        assert not {"put", "patch", "delete"} & set(operations), path


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


# A schema-valid body can still break a rule the schema cannot express (a job that
# exists and is completed, a balance that allows the payment): 422/409 are documented.
BUSINESS_RULE_CHECKS = [positive_data_acceptance]


def test_api_never_fails_and_keeps_its_contract(app, clean, auth_headers):
    """Every operation, fed generated input by schemathesis: no 5xx, answers as documented."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = auth_headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            case.call_and_validate(headers=headers, excluded_checks=BUSINESS_RULE_CHECKS)

        exercise()


def test_invoices_and_credit_notes_answer_as_the_contract_says(garage, labour, part):
    """Found by the system tests' contract fuzzing: VAT rates and discount percents are
    answered as strings ("21.00"), which the contract documented as numbers."""
    from service_kit.contract_testing import validate_response

    job = garage.job([labour(150, 6000), part(200, 1250, vat="9.00")])
    created = garage.create(job["id"], headers=garage.admin, discount={"percent": 5})
    assert created.status_code == 201, created.get_json()
    invoice = created.get_json()
    assert invoice["discount"]["percent"] == "5.00"
    assert invoice["lines"][0]["vat_rate"] == "21.00"
    validate_response(CONTRACT, "POST", "/api/v1/invoices", 201, invoice)
    validate_response(CONTRACT, "GET", "/api/v1/invoices/{invoice_id}", 200, garage.get(invoice["id"]))
    credited = garage.credit(invoice["id"])
    assert credited.status_code == 201, credited.get_json()
    validate_response(CONTRACT, "POST", "/api/v1/credit-notes", 201, credited.get_json())
