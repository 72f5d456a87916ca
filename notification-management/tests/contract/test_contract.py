"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process): the kit's standard contract tests. And
the customer-management client reads what customer-management's committed contract
says it answers."""

import uuid

import pytest
import requests
import responses
from notification_management.clients.customer_management import CustomerManagement
from notification_management.models import db

from service_kit.contract_testing import ContractFake, find_contract
from service_kit.contracts import load_contract
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient
from service_kit.provider_testing import ServiceContractTests

from ..fakes import customer_body

GET_CUSTOMER = "/api/v1/customers/{customer_id}"


@pytest.mark.usefixtures("clean")
class TestContract(ServiceContractTests):
    package = "notification_management"
    contract = find_contract("notification-management")
    database = db
    operations_at_least = 8
    max_examples = 30

    def empty(self):
        """Nothing between operations: generated previews and edits need the seeded
        templates; ``clean`` empties the rest after the test."""


def test_accepting_is_documented_as_202():
    operation = load_contract(TestContract.contract)["paths"]["/api/v1/notifications"]["post"]
    assert "202" in operation["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])


# -- our client against customer-management's contract ------------------------------------


CUSTOMER_CONTRACT = find_contract("customer-management")
BASE = "http://customer-management.test"


# A business customer reached by SMS, every optional field filled in.
BUSINESS = {
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
    "version": 3,
}


def business(**changes):
    return customer_body(**{**BUSINESS, **changes})


@pytest.fixture
def fake_customers():
    with responses.RequestsMock() as mock:
        client = ServiceClient("customer-management", ClientSettings(base_url=BASE, retries=0))
        yield ContractFake(mock, CUSTOMER_CONTRACT, BASE), CustomerManagement(client)


def test_client_reads_what_the_contract_promises(fake_customers):
    fake, client = fake_customers
    body = business()
    fake.add("GET", GET_CUSTOMER, 200, body, customer_id=body["id"])
    contact = client.get_contact(uuid.UUID(body["id"]))
    assert (contact.name, contact.email, contact.phone) == ("Acme Logistics BV", None, "+31301234567")
    assert (contact.preferred_channel, contact.preferred_language, contact.status) == ("sms", "nl", "active")
    assert contact.consents["sms"]["service"] is False
    assert (contact.kind, contact.contact_person) == ("business", "Bob Jansen")


def test_client_reads_an_erased_customer(fake_customers):
    fake, client = fake_customers
    body = business(
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
