"""vehicle-management's client for customer-management, against customer-management's
committed contract: what it calls exists and allows the `service` role, what it reads
is there, and it reads no more than it needs."""

import uuid

import pytest
from vehicle_management.clients.customer_management import Customer, CustomerManagement

from service_kit.contracts import load_contract
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient

BASE_URL = "http://customer-management.test"


@pytest.fixture
def directory() -> CustomerManagement:
    settings = ClientSettings(base_url=BASE_URL, retries=0, breaker_failures=100)
    return CustomerManagement(ServiceClient("customer-management", settings, token=lambda: "service-token"))


def test_the_call_it_makes_is_in_the_contract_and_open_to_services(customers):
    operation = load_contract(customers.contract)["paths"][customers.path]["get"]
    assert "service" in operation["x-roles"]
    customer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = load_contract(customers.contract)["components"]["schemas"][customer.rsplit("/", 1)[-1]]
    assert {"id", "status", "name"} <= set(schema["required"])
    assert {"active", "erased"} <= set(schema["properties"]["status"]["enum"])


def test_reads_id_status_and_name(directory, customers):
    active = customers.customer(name="Ann de Vries")
    erased = customers.customer(status="erased")
    assert directory.get_customer(active) == Customer(id=active, status="active", name="Ann de Vries")
    assert directory.get_customer(erased) == Customer(id=erased, status="erased", name="Erased customer")
    [first, _] = customers.mock.calls
    assert first.request.headers["Authorization"] == "Bearer service-token"


def test_an_unknown_customer_is_none(directory, customers):
    assert directory.get_customer(customers.unknown()) is None


def test_a_tolerant_reader_ignores_what_it_does_not_need(directory, customers):
    """A later version of customer-management may add or drop other fields."""
    customer_id = uuid.uuid4()
    body = {"id": str(customer_id), "status": "active", "name": "Ann", "loyalty_tier": "gold"}
    customers.mock.add("GET", customers.fake.url(customers.path, customer_id=customer_id), json=body)
    assert directory.get_customer(customer_id) == Customer(id=customer_id, status="active", name="Ann")


def test_an_answer_it_cannot_read_is_a_dependency_failure(directory, customers):
    customer_id = uuid.uuid4()
    customers.mock.add("GET", customers.fake.url(customers.path, customer_id=customer_id), json={"id": "x"})
    with pytest.raises(DependencyFailed, match="cannot read") as caught:
        directory.get_customer(customer_id)
    assert caught.value.dependency == "customer-management"


@pytest.mark.parametrize("failure", ["down", "slow", "failing"])
def test_failures_are_one_exception_naming_customer_management(directory, customers, failure):
    with pytest.raises(DependencyFailed) as caught:
        directory.get_customer(getattr(customers, failure)())
    assert caught.value.to_dict()["status"] == 503
    assert caught.value.to_dict()["dependency"] == "customer-management"
