"""Checking canned answers against a provider's committed contract, and the fakes on
loopback that serve them."""

from __future__ import annotations

import pytest
import requests
import responses

from service_kit.contract_testing import (
    ContractFake,
    ContractViolation,
    find_contract,
    operation,
    response_schema,
    validate_request,
    validate_response,
)
from service_kit.fakes import (
    LoopbackServer,
    Receiver,
    ResourceServer,
    closed_url,
    free_port,
    json_answer,
)

CONTRACT = find_contract("customer-management")
GET_CUSTOMER = "/api/v1/customers/{customer_id}"


def customer(**changes):
    body = {
        "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "kind": "person",
        "name": "Ann de Vries",
        "vat_number": None,
        "contact_person": None,
        "email": "ann@example.com",
        "phone": None,
        "address": {"street": None, "postal_code": None, "city": None, "country": None},
        "preferred_channel": "email",
        "preferred_language": "en",
        "notes": None,
        "payment_terms_days": 0,
        "consents": {
            "email": {"service": True, "marketing": False},
            "sms": {"service": True, "marketing": False},
        },
        "marketing_consent": False,
        "status": "active",
        "created_at": "2026-01-02T03:04:05+00:00",
        "updated_at": "2026-01-02T03:04:05+00:00",
        "erased_at": None,
        "version": 1,
    }
    body.update(changes)
    return body


def test_finds_the_committed_contract():
    assert CONTRACT.name == "customer-management.yaml"
    with pytest.raises(FileNotFoundError):
        find_contract("no-such-service")


def test_a_body_the_contract_allows_passes():
    validate_response(CONTRACT, "GET", GET_CUSTOMER, 200, customer())
    validate_response(CONTRACT, "get", GET_CUSTOMER, 200, customer(status="erased", email=None))


def test_every_break_of_the_contract_is_named():
    body = customer(status="deleted", name=None)
    del body["version"]
    with pytest.raises(ContractViolation) as caught:
        validate_response(CONTRACT, "GET", GET_CUSTOMER, 200, body)
    message = str(caught.value)
    assert "status: 'deleted' is not one of" in message
    assert "name: None is not of type 'string'" in message
    assert "'version' is a required property" in message


def test_nullable_fields_take_null_but_not_another_type():
    validate_response(CONTRACT, "GET", GET_CUSTOMER, 200, customer(phone=None))
    with pytest.raises(ContractViolation, match="phone"):
        validate_response(CONTRACT, "GET", GET_CUSTOMER, 200, customer(phone=31612345678))


def test_an_undocumented_status_is_checked_against_the_default_answer():
    schema = response_schema(CONTRACT, "GET", GET_CUSTOMER, 404)
    assert schema["$ref"] == "#/components/schemas/Problem"
    validate_response(
        CONTRACT, "GET", GET_CUSTOMER, 404, {"type": "about:blank", "title": "Not Found", "status": 404}
    )
    with pytest.raises(ContractViolation, match="'title' is a required property"):
        validate_response(CONTRACT, "GET", GET_CUSTOMER, 404, {"status": 404})


def test_an_operation_the_provider_does_not_have_is_a_violation():
    with pytest.raises(ContractViolation, match="no GET /api/v1/clients"):
        validate_response(CONTRACT, "GET", "/api/v1/clients/{id}", 200, {})


def test_contract_fake_serves_only_what_the_contract_allows():
    with responses.RequestsMock() as mock:
        fake = ContractFake(mock, CONTRACT, "http://customers.test/")
        body = customer()
        fake.add("GET", GET_CUSTOMER, 200, body, customer_id=body["id"])
        with pytest.raises(ContractViolation):
            fake.add("GET", GET_CUSTOMER, 200, {"id": body["id"]}, customer_id=body["id"])
        fake.fail("GET", GET_CUSTOMER, requests.ConnectionError("refused"), customer_id="down")
        answer = requests.get(f"http://customers.test/api/v1/customers/{body['id']}", timeout=1)
        assert answer.json() == body
        with pytest.raises(requests.ConnectionError):
            requests.get("http://customers.test/api/v1/customers/down", timeout=1)


def test_an_operation_is_read_from_the_contract():
    assert "service" in operation(CONTRACT, "get", GET_CUSTOMER)["x-roles"]
    with pytest.raises(ContractViolation, match="no DELETE /api/v1/customers"):
        operation(CONTRACT, "DELETE", "/api/v1/customers")


def test_a_request_body_is_checked_against_what_the_operation_accepts():
    consent = "/api/v1/customers/{customer_id}/consents"
    body = {"channel": "email", "purpose": "marketing", "granted": True, "source": "web", "wording": "Yes"}
    validate_request(CONTRACT, "POST", consent, body)
    del body["granted"]
    with pytest.raises(ContractViolation, match="'granted' is a required property"):
        validate_request(CONTRACT, "POST", consent, body)


# ------------------------------------------------------------------------------ fakes


class Customers(ResourceServer):
    def __init__(self):
        super().__init__(CONTRACT, GET_CUSTOMER)


@pytest.fixture
def customers():
    server = Customers()
    yield server
    server.stop()


def test_a_loopback_server_records_what_it_received_and_answers():
    server = LoopbackServer(lambda request: json_answer(201, {"got": request.json}))
    try:
        answer = requests.post(f"{server.url}/things?size=2", json={"a": 1}, headers={"X-Request-ID": "r1"})
        assert (answer.status_code, answer.json()) == (201, {"got": {"a": 1}})
        [received] = server.received("/things")
        assert (received.method, received.path, received.query) == ("POST", "/things", {"size": "2"})
        assert received.headers["x-request-id"] == received.headers["X-Request-Id"] == "r1"
        assert server.received("/other") == []
    finally:
        server.stop()


def test_a_loopback_server_stops_and_starts_again_on_its_port():
    server = LoopbackServer(lambda request: json_answer(200, {}))
    url = server.url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=1)
    server.start()
    try:
        assert server.url == url
        assert requests.get(url, timeout=1).status_code == 200
    finally:
        server.stop()


def test_a_loopback_server_can_be_slow_or_broken():
    server = LoopbackServer(lambda request: json_answer(200, {}))
    try:
        server.delay = 0.3
        with pytest.raises(requests.ReadTimeout):
            requests.get(server.url, timeout=0.1)
        server.reset()
        server.before_answer = lambda request: 1 / 0
        broken = requests.get(server.url, timeout=1)
        assert broken.status_code == 500 and "ZeroDivisionError" in broken.text
        server.reset()
        assert requests.get(server.url, timeout=1).status_code == 200
        assert len(server.requests) == 1
    finally:
        server.stop()


def test_a_resource_server_answers_what_was_put_and_404_otherwise(customers):
    body = customers.put(customer())
    assert requests.get(f"{customers.url}/api/v1/customers/{body['id']}", timeout=1).json() == body
    missing = requests.get(f"{customers.url}/api/v1/customers/nobody", timeout=1)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    with pytest.raises(ContractViolation):
        customers.put({"id": "x"})
    assert customers.violations == []


def test_an_answer_outside_the_contract_is_a_500_and_a_violation(customers):
    body = customers.put(customer())
    customers.resources[body["id"]]["status"] = "deleted"
    answer = requests.get(f"{customers.url}/api/v1/customers/{body['id']}", timeout=1)
    assert answer.status_code == 500
    [violation] = customers.violations
    assert "status: 'deleted' is not one of" in violation
    customers.reset()
    assert (customers.violations, customers.resources) == ([], {})


def test_a_failing_contract_server_answers_its_problem(customers):
    customers.failing = 503
    answer = requests.get(f"{customers.url}/api/v1/customers/anyone", timeout=1)
    assert (answer.status_code, answer.json()["status"]) == (503, 503)
    customers.reset()
    assert requests.get(f"{customers.url}/api/v1/customers/anyone", timeout=1).status_code == 404


def test_a_receiver_answers_the_queued_statuses_then_its_default():
    receiver = Receiver(default=201)
    try:
        receiver.statuses.extend([503, 200])
        receiver.default = 202
        statuses = [requests.post(receiver.url, json={}, timeout=1).status_code for _ in range(3)]
        assert statuses == [503, 200, 202]
        receiver.reset()
        assert receiver.default == 201 and receiver.requests == []
    finally:
        receiver.stop()


def test_a_closed_url_refuses_connections():
    with pytest.raises(requests.ConnectionError):
        requests.get(closed_url(), timeout=1)
    assert 0 < free_port() < 65536
