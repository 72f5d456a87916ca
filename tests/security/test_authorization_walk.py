"""Walk every operation of every committed contract: refused without a token (401),
refused with a role it does not list (403), let through with one it lists."""

from __future__ import annotations

from typing import Any

import pytest

from service_kit.auth import ROLES, mint_token
from service_kit.links import PORTAL_ROLE


def call(app, method: str, path: str, roles: list[str] | None):
    headers = {}
    if roles is not None:
        headers["Authorization"] = f"Bearer {mint_token(app.config, roles=roles, subject='walker')}"
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("post", "put", "patch"):
        kwargs["json"] = {}
    return getattr(app.test_client(), method)(path, **kwargs)


SERVICES = {
    "customer-management",
    "vehicle-management",
    "workshop-scheduling",
    "maintenance-job-management",
    "invoicing",
    "notification-management",
    "identity",
}


def test_every_service_has_a_contract_and_every_operation_states_its_roles(contracts, api_operations):
    assert set(contracts) == SERVICES
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
        response = call(app, method, url, [role])
        if role == PORTAL_ROLE and response.status_code == 403:
            # A customer-portal operation lets the portal in and wants its link (none here).
            assert response.get_json()["type"].endswith(":link-not-valid"), response.get_json()
            continue
        status = response.status_code
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


def test_only_admins_manage_accounts_and_read_the_audit_record(api_operations):
    identity = [(m, p, op["x-roles"]) for s, m, p, op, _ in api_operations if s == "identity"]
    # The walk above exercises each of these: accounts, their changes and the audit record.
    assert {p for _, p, _ in identity} >= {"/api/v1/accounts", "/api/v1/audit-events"}
    assert [(m, p) for m, p, roles in identity if roles != ["admin"]] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/oauth/token"), ("post", "/oauth/revoke"), ("get", "/oauth/userinfo")],
)
def test_identity_protocol_endpoints_refuse_the_unauthenticated(apps, method, path):
    """Not in the contract (the discovery document describes them): the token and
    revocation endpoints want a registered client's credentials, userinfo one of
    identity's own access tokens; a development-key token with every role is not one."""
    app = apps["identity"]
    form = {"grant_type": "client_credentials", "token": "x"} if method == "post" else None
    anonymous = getattr(app.test_client(), method)(path, data=form)
    assert anonymous.status_code == 401, anonymous.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {mint_token(app.config, roles=list(ROLES), subject='walker')}"}
    foreign = getattr(app.test_client(), method)(path, data=form, headers=headers)
    assert foreign.status_code == 401, foreign.get_data(as_text=True)
