"""Every service with a committed contract, as Flask apps on one migrated test database,
and the contracts' operations, for tests that walk the whole API surface."""

from __future__ import annotations

import importlib
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from service_kit.migrations import upgrade

CONTRACTS = sorted((Path(__file__).resolve().parents[2] / "contracts").glob("*.yaml"))
METHODS = ("get", "post", "put", "patch", "delete")


def load(contract: Path) -> dict[str, Any]:
    return yaml.safe_load(contract.read_text())


def operations() -> list[tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]]:
    """(service, method, path, operation, path-level parameters) for every /api/ operation."""
    found = []
    for contract in CONTRACTS:
        for path, item in load(contract)["paths"].items():
            if not path.startswith("/api/"):
                continue
            shared_parameters = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    found.append((contract.stem, method, path, item[method], shared_parameters))
    return found


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


@pytest.fixture(scope="session")
def apps(fresh_database_url):
    """Every service with a committed contract, migrated into one test database."""
    built = {}
    for contract in CONTRACTS:
        package = importlib.import_module(contract.stem.replace("-", "_"))
        app = package.create_app({"TESTING": True, "DATABASE_URL": fresh_database_url})
        upgrade(app)
        built[contract.stem] = app
    return built


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for ``api_operation`` runs once per operation of every contract;
    one asking for ``api_body_operation``, once per operation that takes a JSON body."""
    for name, wanted in (
        ("api_operation", lambda operation: True),
        ("api_body_operation", lambda operation: "requestBody" in operation),
    ):
        if name in metafunc.fixturenames:
            found = [op for op in operations() if wanted(op[3])]
            metafunc.parametrize(name, found, ids=[f"{s}:{m.upper()} {p}" for s, m, p, _, _ in found])


@pytest.fixture(scope="session")
def api_operations() -> list[tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]]:
    return operations()


@pytest.fixture(scope="session")
def contracts() -> dict[str, dict[str, Any]]:
    return {contract.stem: load(contract) for contract in CONTRACTS}


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def request_fields(
    schema: dict[str, Any], schemas: dict[str, Any], prefix: str = ""
) -> list[tuple[str, dict]]:
    """Every (dotted name, schema) a request body can carry, nested ones included."""
    schema = _resolve(schema, schemas)
    found = []
    for combined in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combined, []):
            found += request_fields(part, schemas, prefix)
    if schema.get("type") == "array" and "items" in schema:
        found += request_fields(schema["items"], schemas, f"{prefix}[]")
    for name, field in (schema.get("properties") or {}).items():
        resolved = _resolve(field, schemas)
        found.append((f"{prefix}.{name}" if prefix else name, resolved))
        # A nested object is often {"allOf": [{"$ref": ...}], "description": ...}.
        nested = {"properties", "allOf", "oneOf", "anyOf"} & resolved.keys()
        if nested or resolved.get("type") == "array":
            found += request_fields(resolved, schemas, f"{prefix}.{name}" if prefix else name)
    return found


def body_operations(contracts):
    for service, spec in contracts.items():
        for path, item in spec["paths"].items():
            for method in ("post", "put", "patch"):
                body = item.get(method, {}).get("requestBody")
                if body and "application/json" in body["content"]:
                    schemas = spec["components"]["schemas"]
                    yield (
                        service,
                        method,
                        path,
                        request_fields(body["content"]["application/json"]["schema"], schemas),
                    )


@pytest.fixture(scope="session")
def body_fields(contracts):
    """(service, method, path, [(dotted field name, schema)]) of every JSON body."""
    return list(body_operations(contracts))


@pytest.fixture(scope="session")
def fill_path():
    return concrete_path


def headers_of_a_caller(app: Any, operation: dict[str, Any], subject: str) -> dict[str, str]:
    """What a caller the operation admits sends: a token with its first role, and for a
    customer-portal operation (``x-link-purpose``) a live link of that purpose, issued by
    the service itself for a made-up thing, so the walk reaches the operation's input
    checks (the view would refuse the made-up thing only after them)."""
    from service_kit.auth import mint_token
    from service_kit.db import current_db
    from service_kit.links import LINK_HEADER, issue_link

    token = mint_token(app.config, roles=[operation["x-roles"][0]], subject=subject)
    headers = {"Authorization": f"Bearer {token}"}
    purpose = operation.get("x-link-purpose")
    if purpose:
        with app.test_request_context():
            session = current_db().session
            link = issue_link(
                session,
                purpose=purpose,
                resource_id=uuid.uuid4(),
                customer_id=uuid.uuid4(),
                valid_for=timedelta(hours=1),
            )
            session.commit()
        headers[LINK_HEADER] = link
    return headers


@pytest.fixture(scope="session")
def caller_headers() -> Any:
    return headers_of_a_caller
