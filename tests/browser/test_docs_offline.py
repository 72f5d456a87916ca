"""Every service's /docs works with no internet: Swagger UI comes from the service
itself, and it lists every operation of the service's committed contract. axe finds
no serious or critical accessibility violation on it."""

from __future__ import annotations

import importlib

import pytest

from service_kit.contract_testing import find_contract
from service_kit.contracts import load_contract

SERVICES = [
    "customer-management",
    "vehicle-management",
    "workshop-scheduling",
    "maintenance-job-management",
    "invoicing",
    "notification-management",
    "identity",
]
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.mark.parametrize("service", SERVICES)
def test_docs_list_every_operation_without_a_network(
    service, serve, offline_page, fresh_database_url, accessibility_violations
):
    package = importlib.import_module(service.replace("-", "_"))
    app = package.create_app({"TESTING": True, "DATABASE_URL": fresh_database_url})
    contract = load_contract(find_contract(service))
    operations = sum(len(METHODS & set(item)) for item in contract["paths"].values())

    offline_page.goto(f"{serve(app)}/docs")
    offline_page.wait_for_selector(".opblock", timeout=20_000)

    assert offline_page.refused == []
    assert offline_page.locator(".opblock").count() == operations
    assert offline_page.locator(".info .title").inner_text().startswith(contract["info"]["title"])
    assert accessibility_violations(offline_page) == []
