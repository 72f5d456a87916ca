"""customer-management faked at the HTTP boundary (``responses``): every canned answer
is validated against contracts/customer-management.yaml when it is added."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import requests
import responses

from service_kit.contract_testing import ContractFake, find_contract, validate_response

CUSTOMER_MANAGEMENT_URL = "http://customer-management.test"
GET_CUSTOMER = "/api/v1/customers/{customer_id}"


def customer_body(customer_id: uuid.UUID, *, status: str = "active", name: str = "Ann de Vries") -> dict:
    """A customer as customer-management answers it (checked against its contract)."""
    erased = status == "erased"
    consent = {"service": not erased, "marketing": False}
    return {
        "id": str(customer_id),
        "kind": "person",
        "name": "Erased customer" if erased else name,
        "vat_number": None,
        "contact_person": None,
        "email": None if erased else "ann@example.com",
        "phone": None if erased else "+31612345678",
        "address": {"street": None, "postal_code": None, "city": None, "country": None if erased else "NL"},
        "preferred_channel": "none" if erased else "email",
        "preferred_language": "nl",
        "notes": None,
        "payment_terms_days": 0,
        "consents": {"email": dict(consent), "sms": dict(consent)},
        "marketing_consent": False,
        "status": status,
        "created_at": "2026-03-01T09:30:00+00:00",
        "updated_at": "2026-03-02T10:00:00+00:00",
        "erased_at": "2026-03-02T10:00:00+00:00" if erased else None,
        "version": 2 if erased else 1,
    }


class FakeCustomerManagement:
    """customer-management, answering as each test sets it up."""

    contract = find_contract("customer-management")
    path = GET_CUSTOMER
    body = staticmethod(customer_body)

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.fake = ContractFake(mock, self.contract, CUSTOMER_MANAGEMENT_URL)

    def customer(
        self, customer_id: uuid.UUID | None = None, *, status: str = "active", name: str = "Ann de Vries"
    ) -> uuid.UUID:
        """An answer for ``customer_id`` (new by default). Answers added for one id are
        given in the order added, the last one repeating."""
        customer_id = customer_id or uuid.uuid4()
        self.fake.add(
            "GET",
            GET_CUSTOMER,
            200,
            customer_body(customer_id, status=status, name=name),
            customer_id=customer_id,
        )
        return customer_id

    def everyone(self) -> None:
        """An active customer for every id asked about."""
        validate_response(self.contract, "GET", GET_CUSTOMER, 200, customer_body(uuid.uuid4()))

        def any_customer(request: Any) -> tuple[int, dict[str, str], str]:
            customer_id = request.url.rsplit("/", 1)[-1]
            return 200, {"Content-Type": "application/json"}, json.dumps(customer_body(customer_id))

        self.mock.add_callback(
            "GET", re.compile(re.escape(CUSTOMER_MANAGEMENT_URL) + r"/api/v1/customers/[^/]+$"), any_customer
        )

    def unknown(self) -> uuid.UUID:
        customer_id = uuid.uuid4()
        problem = {
            "type": "urn:garage:problem:customer-not-found",
            "title": "Not Found",
            "status": 404,
            "detail": f"customer {customer_id} does not exist",
        }
        self.fake.add("GET", GET_CUSTOMER, 404, problem, customer_id=customer_id)
        return customer_id

    def failing(self, status: int = 500) -> uuid.UUID:
        customer_id = uuid.uuid4()
        problem = {"type": "about:blank", "title": "Internal Server Error", "status": status}
        self.fake.add("GET", GET_CUSTOMER, status, problem, customer_id=customer_id)
        return customer_id

    def down(self, customer_id: uuid.UUID | None = None) -> uuid.UUID:
        customer_id = customer_id or uuid.uuid4()
        self.fake.fail(
            "GET", GET_CUSTOMER, requests.ConnectionError("connection refused"), customer_id=customer_id
        )
        return customer_id

    def slow(self) -> uuid.UUID:
        customer_id = uuid.uuid4()
        self.fake.fail("GET", GET_CUSTOMER, requests.ReadTimeout("read timed out"), customer_id=customer_id)
        return customer_id

    def calls_for(self, customer_id: Any) -> int:
        return sum(1 for call in self.mock.calls if call.request.url.endswith(f"/customers/{customer_id}"))
