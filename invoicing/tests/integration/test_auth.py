"""Who may do what: every operation with every role, and without a token. Technicians
see no money; accountants and admins book payments and credit notes; advisors read
and send; `service` creates invoices (from the job service's outbox) and reads the
documents (notification-management fetches the PDF)."""

from __future__ import annotations

import uuid

import pytest

from service_kit.auth import ROLES

INVOICE = f"/api/v1/invoices/{uuid.uuid4()}"
CREDIT_NOTE = f"/api/v1/credit-notes/{uuid.uuid4()}"
OFFICE = {"admin", "advisor", "accountant"}
BOOKKEEPERS = {"admin", "accountant"}
OPERATIONS = [
    ("GET", "/api/v1/invoices", OFFICE),
    ("POST", "/api/v1/invoices", {"admin", "service"}),
    ("GET", "/api/v1/invoices/receivables", OFFICE),
    ("GET", INVOICE, OFFICE | {"service"}),
    ("GET", f"{INVOICE}/pdf", OFFICE | {"service"}),
    ("POST", f"{INVOICE}/send", OFFICE),
    ("GET", f"{INVOICE}/payments", OFFICE),
    ("POST", f"{INVOICE}/payments", BOOKKEEPERS),
    ("GET", "/api/v1/credit-notes", OFFICE),
    ("POST", "/api/v1/credit-notes", BOOKKEEPERS),
    ("GET", CREDIT_NOTE, OFFICE | {"service"}),
    ("GET", f"{CREDIT_NOTE}/pdf", OFFICE | {"service"}),
    ("GET", "/api/v1/invoices/outbox-messages", {"admin"}),
    ("GET", f"/api/v1/invoices/outbox-messages/{uuid.uuid4()}", {"admin"}),
    ("POST", f"/api/v1/invoices/outbox-messages/{uuid.uuid4()}/retry", {"admin"}),
]


@pytest.mark.parametrize(
    ("method", "path", "allowed"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_each_role_is_allowed_or_forbidden(client, auth_headers, method, path, allowed):
    for role in ROLES:
        response = client.open(path, method=method, json={}, headers=auth_headers(role))
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.get_json())
        else:
            assert response.status_code == 403, role
            assert response.mimetype == "application/problem+json"
    anonymous = client.open(path, method=method, json={})
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_table_covers_every_documented_operation(app):
    spec = app.test_client().get("/openapi.json").get_json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    assert len(documented) == len(OPERATIONS)
    for method, path, allowed in OPERATIONS:
        template = next(
            p
            for m, p in documented
            if m == method and len(p.split("/")) == len(path.split("/")) and _matches(p, path)
        )
        assert set(spec["paths"][template][method.lower()]["x-roles"]) == allowed


def _matches(template: str, path: str) -> bool:
    return all(
        t == p or (t.startswith("{") and _is_uuid(p))
        for t, p in zip(template.split("/"), path.split("/"), strict=True)
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def test_an_expired_or_foreign_token_is_401(client, auth_headers):
    expired = auth_headers("admin", ttl_seconds=-3600)
    assert client.get("/api/v1/invoices", headers=expired).status_code == 401
    forged = {"Authorization": "Bearer not.a.token"}
    assert client.get("/api/v1/invoices", headers=forged).status_code == 401


def test_health_and_docs_need_no_token(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200
