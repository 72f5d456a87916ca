"""The code, the committed contract and the migrations agree; the API holds its contract
under generated input (schemathesis, in-process): the kit's standard contract tests. And
what the job service calls is there, and no document is ever edited."""

import pytest
from invoicing.models import db

from service_kit.contract_testing import find_contract, validate_response
from service_kit.contracts import load_contract
from service_kit.provider_testing import ServiceContractTests
from service_kit.testing import empty_tables

CONTRACT = find_contract("invoicing")


@pytest.mark.usefixtures("clean")
class TestContract(ServiceContractTests):
    """A schema-valid body can still break a rule the schema cannot express (a job that
    exists and is completed, a balance that allows the payment): 422/409 are documented.
    The portal's operations are called as the portal calls them: its token and a live
    pay link to a real invoice (made afresh for each, as the tables are emptied)."""

    package = "invoicing"
    contract = CONTRACT
    database = db
    operations_at_least = 18

    @pytest.fixture(autouse=True)
    def _pay_links(self, garage, portal):
        self.garage, self.portal = garage, portal

    def headers(self, operation, auth_headers):
        if operation.path.startswith("/api/v1/portal/"):
            return self.portal.headers(self.portal.link(self.garage.invoice()["id"]))
        return auth_headers("admin")

    def empty(self):
        empty_tables(db)


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


def test_the_portal_operations_are_in_the_contract_as_agreed():
    """docs/customer-portal.md: role portal only, the invoice link, no id in the path."""
    spec = load_contract(CONTRACT)
    portal = {path: operations for path, operations in spec["paths"].items() if "/portal/" in path}
    assert {(method, path) for path, operations in portal.items() for method in operations} == {
        ("get", "/api/v1/portal/invoice"),
        ("get", "/api/v1/portal/invoice/pdf"),
        ("post", "/api/v1/portal/invoice/payments"),
    }
    for operations in portal.values():
        for operation in operations.values():
            assert (operation["x-roles"], operation["x-link-purpose"]) == (["portal"], "invoice")
            assert any(p["name"] == "Portal-Link" and p["required"] for p in operation["parameters"])
    for path, operations in spec["paths"].items():
        if "/portal/" not in path:
            for method, operation in operations.items():
                if method != "parameters":
                    assert "portal" not in operation.get("x-roles", ()), path
    body = spec["components"]["schemas"]["PortalPaymentCreate"]
    assert set(body["required"]) == {"amount", "provider", "provider_payment_id", "paid_at", "method"}
    assert body["properties"]["provider"]["enum"] == ["mollie"]
    payments = spec["paths"]["/api/v1/portal/invoice/payments"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in payments["parameters"])
    assert {"200", "201", "409", "410", "422"} <= set(payments["responses"])


def test_no_operation_edits_or_deletes_a_document():
    spec = load_contract(CONTRACT)
    for path, operations in spec["paths"].items():
        if "outbox-messages" in path:
            continue
        assert not {"put", "patch", "delete"} & set(operations), path


def test_invoices_and_credit_notes_answer_as_the_contract_says(garage, labour, part):
    """Found by the system tests' contract fuzzing: VAT rates and discount percents are
    answered as strings ("21.00"), which the contract documented as numbers."""
    job = garage.job([labour(150, 6000), part(200, 1250, vat="9.00")])
    created = garage.create(job["id"], headers=garage.admin, discount={"percent": "5"})
    assert created.status_code == 201, created.get_json()
    invoice = created.get_json()
    assert invoice["discount"]["percent"] == "5.00"
    assert invoice["lines"][0]["vat_rate"] == "21.00"
    validate_response(CONTRACT, "POST", "/api/v1/invoices", 201, invoice)
    validate_response(CONTRACT, "GET", "/api/v1/invoices/{invoice_id}", 200, garage.get(invoice["id"]))
    credited = garage.credit(invoice["id"])
    assert credited.status_code == 201, credited.get_json()
    validate_response(CONTRACT, "POST", "/api/v1/credit-notes", 201, credited.get_json())
