"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process); the customer-management client reads
what customer-management's committed contract says it answers."""

import uuid
from pathlib import Path

import pytest
import requests
import responses
import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from notification_management.clients.customer_management import CustomerManagement
from notification_management.models import SCHEMA, db
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from service_kit.contract_testing import ContractFake, find_contract
from service_kit.contracts import generate_spec, load_contract
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "notification-management.yaml"
GET_CUSTOMER = "/api/v1/customers/{customer_id}"


def test_generated_openapi_equals_the_committed_contract():
    assert generate_spec("notification_management") == load_contract(CONTRACT), (
        "contracts/notification-management.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_declares_its_roles():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


def test_accepting_is_documented_as_202():
    operation = load_contract(CONTRACT)["paths"]["/api/v1/notifications"]["post"]
    assert "202" in operation["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])


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


BUSINESS_RULE_CHECKS = [positive_data_acceptance]


def test_api_never_fails_and_keeps_its_contract(app, auth_headers, clean):
    """Every operation, fed generated input by schemathesis: no 5xx, answers as documented."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = auth_headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            case.call_and_validate(headers=headers, excluded_checks=BUSINESS_RULE_CHECKS)

        exercise()


# -- our client against customer-management's contract ------------------------------------


CUSTOMER_CONTRACT = find_contract("customer-management")
BASE = "http://customer-management.test"


def customer_body(**changes):
    body = {
        "id": str(uuid.uuid4()),
        "kind": "business",
        "name": "Acme Logistics BV",
        "vat_number": "NL123456789B01",
        "contact_person": "Bob Jansen",
        "email": None,
        "phone": "+31301234567",
        "address": {"street": "Oudegracht 1", "postal_code": "3511 AA", "city": "Utrecht", "country": "NL"},
        "preferred_channel": "sms",
        "preferred_language": "nl",
        "notes": "prefers mornings",
        "consents": {
            "email": {"service": True, "marketing": False},
            "sms": {"service": False, "marketing": False},
        },
        "marketing_consent": False,
        "status": "active",
        "created_at": "2026-01-02T03:04:05+00:00",
        "updated_at": "2026-01-02T03:04:05+00:00",
        "erased_at": None,
        "version": 3,
    }
    body.update(changes)
    return body


@pytest.fixture
def fake_customers():
    with responses.RequestsMock() as mock:
        client = ServiceClient("customer-management", ClientSettings(base_url=BASE, retries=0))
        yield ContractFake(mock, CUSTOMER_CONTRACT, BASE), CustomerManagement(client)


def test_client_reads_what_the_contract_promises(fake_customers):
    fake, client = fake_customers
    body = customer_body()
    fake.add("GET", GET_CUSTOMER, 200, body, customer_id=body["id"])
    contact = client.get_contact(uuid.UUID(body["id"]))
    assert (contact.name, contact.email, contact.phone) == ("Acme Logistics BV", None, "+31301234567")
    assert (contact.preferred_channel, contact.preferred_language, contact.status) == ("sms", "nl", "active")
    assert contact.consents["sms"]["service"] is False


def test_client_reads_an_erased_customer(fake_customers):
    fake, client = fake_customers
    body = customer_body(
        name="Erased customer",
        phone=None,
        vat_number=None,
        contact_person=None,
        notes=None,
        preferred_channel="none",
        status="erased",
        erased_at="2026-02-01T00:00:00+00:00",
    )
    fake.add("GET", GET_CUSTOMER, 200, body, customer_id=body["id"])
    assert client.get_contact(uuid.UUID(body["id"])).status == "erased"


def test_an_unknown_customer_is_none(fake_customers):
    fake, client = fake_customers
    customer_id = uuid.uuid4()
    problem = {"type": "urn:garage:problem:customer-not-found", "title": "Not Found", "status": 404}
    fake.add("GET", GET_CUSTOMER, 404, problem, customer_id=customer_id)
    assert client.get_contact(customer_id) is None


def test_customer_management_failing_is_a_dependency_failure(fake_customers):
    fake, client = fake_customers
    customer_id = uuid.uuid4()
    fake.fail("GET", GET_CUSTOMER, requests.ConnectionError("refused"), customer_id=customer_id)
    with pytest.raises(DependencyFailed):
        client.get_contact(customer_id)


def test_an_answer_we_cannot_read_is_a_dependency_failure(fake_customers):
    fake, client = fake_customers
    customer_id = uuid.uuid4()
    fake.mock.add("GET", fake.url(GET_CUSTOMER, customer_id=customer_id), json=["not", "a", "customer"])
    with pytest.raises(DependencyFailed, match="cannot read"):
        client.get_contact(customer_id)
