"""Walk every operation of every committed contract: refused without a token (401),
refused with a role it does not list (403), let through with one it lists."""

from __future__ import annotations

import importlib
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from service_kit.auth import ROLES, mint_token
from service_kit.migrations import upgrade

CONTRACTS = sorted((Path(__file__).resolve().parents[2] / "contracts").glob("*.yaml"))
METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> list[tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]]:
    found = []
    for contract in CONTRACTS:
        spec = yaml.safe_load(contract.read_text())
        for path, item in spec["paths"].items():
            if not path.startswith("/api/"):
                continue
            shared_parameters = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    found.append((contract.stem, method, path, item[method], shared_parameters))
    return found


OPERATIONS = operations()


def concrete_path(path: str, parameters: list[dict[str, Any]]) -> str:
    """A path with every {parameter} filled by a value of its declared type."""
    for parameter in parameters:
        if parameter.get("in") != "path":
            continue
        schema = parameter.get("schema", {})
        if "enum" in schema:
            value = schema["enum"][0]
        elif schema.get("format") == "uuid":
            value = uuid.uuid4()
        elif schema.get("format") == "date":
            value = date.today().isoformat()
        elif schema.get("type") == "integer":
            value = 1
        else:
            value = "en"
        path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


@pytest.fixture(scope="module")
def apps(fresh_database_url):
    """Every service with a committed contract, migrated into one test database."""
    built = {}
    for contract in CONTRACTS:
        package = importlib.import_module(contract.stem.replace("-", "_"))
        app = package.create_app({"TESTING": True, "DATABASE_URL": fresh_database_url})
        upgrade(app)
        built[contract.stem] = app
    return built


def call(app, method: str, path: str, roles: list[str] | None):
    headers = {}
    if roles is not None:
        headers["Authorization"] = f"Bearer {mint_token(app.config, roles=roles, subject='walker')}"
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("post", "put", "patch"):
        kwargs["json"] = {}
    return getattr(app.test_client(), method)(path, **kwargs)


def test_every_service_has_a_contract_and_every_operation_states_its_roles():
    assert len(CONTRACTS) >= 4
    missing = [f"{m.upper()} {p} ({s})" for s, m, p, op, _ in OPERATIONS if not op.get("x-roles")]
    assert missing == []


@pytest.mark.parametrize(
    ("service", "method", "path", "operation", "shared"),
    OPERATIONS,
    ids=[f"{s}:{m.upper()} {p}" for s, m, p, _, _ in OPERATIONS],
)
def test_operation_refuses_the_wrong_caller_and_lets_the_right_one_in(
    apps, service, method, path, operation, shared
):
    app = apps[service]
    url = concrete_path(path, [*shared, *operation.get("parameters", [])])
    allowed = operation["x-roles"]
    assert call(app, method, url, None).status_code == 401
    refused = [role for role in ROLES if role not in allowed]
    for role in refused:
        assert call(app, method, url, [role]).status_code == 403, role
    for role in allowed:
        status = call(app, method, url, [role]).status_code
        assert status not in (401, 403) and status < 500, (role, status)


def roles_of(service: str, method: str, path: str) -> list[str] | None:
    for s, m, p, operation, _ in OPERATIONS:
        if (s, m, p) == (service, method, path):
            return operation["x-roles"]
    return None


@pytest.mark.parametrize(
    ("service", "method", "path", "never"),
    [
        ("customer-management", "delete", "/api/v1/customers/{customer_id}", {"technician", "accountant"}),
        ("maintenance-job-management", "post", "/api/v1/maintenance-jobs/{job_id}/start", {"accountant"}),
        ("invoicing", "post", "/api/v1/credit-notes", {"technician", "advisor"}),
    ],
)
def test_the_garage_rules_on_who_may_do_what(service, method, path, never):
    roles = roles_of(service, method, path)
    if roles is None:
        pytest.skip(f"{service} has no {method.upper()} {path} in its committed contract yet")
    assert not set(roles) & never


@pytest.mark.parametrize(
    ("service", "path"),
    [("maintenance-job-management", "/api/v1/maintenance-jobs"), ("invoicing", "/api/v1/invoices")],
)
def test_only_services_and_admins_create_jobs_and_invoices(service, path):
    roles = roles_of(service, "post", path)
    if roles is None:
        pytest.skip(f"{service} has no POST {path} in its committed contract yet")
    assert set(roles) <= {"service", "admin"}
