"""Walk every operation of every committed contract: refused without a token (401),
refused with a role it does not list (403), let through with one it lists."""

from __future__ import annotations

from typing import Any

import pytest

from service_kit.auth import ROLES, mint_token


def call(app, method: str, path: str, roles: list[str] | None):
    headers = {}
    if roles is not None:
        headers["Authorization"] = f"Bearer {mint_token(app.config, roles=roles, subject='walker')}"
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("post", "put", "patch"):
        kwargs["json"] = {}
    return getattr(app.test_client(), method)(path, **kwargs)


def test_every_service_has_a_contract_and_every_operation_states_its_roles(contracts, api_operations):
    assert len(contracts) == 6, sorted(contracts)
    missing = [f"{m.upper()} {p} ({s})" for s, m, p, op, _ in api_operations if not op.get("x-roles")]
    assert missing == []


def test_operation_refuses_the_wrong_caller_and_lets_the_right_one_in(apps, api_operation, fill_path):
    service, method, path, operation, shared = api_operation
    app = apps[service]
    url = fill_path(path, [*shared, *operation.get("parameters", [])])
    allowed = operation["x-roles"]
    assert call(app, method, url, None).status_code == 401
    refused = [role for role in ROLES if role not in allowed]
    for role in refused:
        assert call(app, method, url, [role]).status_code == 403, role
    for role in allowed:
        status = call(app, method, url, [role]).status_code
        assert status not in (401, 403) and status < 500, (role, status)


def roles_of(api_operations, service: str, method: str, path: str) -> list[str]:
    for s, m, p, operation, _ in api_operations:
        if (s, m, p) == (service, method, path):
            return operation["x-roles"]
    raise AssertionError(f"{service} has no {method.upper()} {path} in its committed contract")


@pytest.mark.parametrize(
    ("service", "method", "path", "never"),
    [
        ("customer-management", "delete", "/api/v1/customers/{customer_id}", {"technician", "accountant"}),
        ("maintenance-job-management", "post", "/api/v1/maintenance-jobs/{job_id}/start", {"accountant"}),
        ("invoicing", "post", "/api/v1/credit-notes", {"technician", "advisor"}),
    ],
)
def test_the_garage_rules_on_who_may_do_what(api_operations, service, method, path, never):
    assert not set(roles_of(api_operations, service, method, path)) & never


@pytest.mark.parametrize(
    ("service", "path"),
    [("maintenance-job-management", "/api/v1/maintenance-jobs"), ("invoicing", "/api/v1/invoices")],
)
def test_only_services_and_admins_create_jobs_and_invoices(api_operations, service, path):
    assert set(roles_of(api_operations, service, "post", path)) <= {"service", "admin"}
