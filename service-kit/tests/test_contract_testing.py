"""Checking canned answers against a provider's committed contract."""

from __future__ import annotations

import pytest
import requests
import responses

from service_kit.contract_testing import (
    ContractFake,
    ContractViolation,
    find_contract,
    response_schema,
    validate_response,
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
