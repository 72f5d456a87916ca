"""Who may do what: every operation with every role, and without a token."""

from __future__ import annotations

import uuid

import pytest

from service_kit.auth import ROLES

ALL = set(ROLES)
J = f"/api/v1/maintenance-jobs/{uuid.uuid4()}"
OPERATIONS = [
    ("GET", "/api/v1/maintenance-jobs", ALL),
    ("POST", "/api/v1/maintenance-jobs", {"admin", "service"}),
    ("GET", J, ALL),
    ("PATCH", J, {"admin", "advisor", "technician"}),
    ("POST", f"{J}/reschedule", {"service"}),
    ("POST", f"{J}/start", {"admin", "technician"}),
    ("POST", f"{J}/hold", {"admin", "advisor", "technician"}),
    ("POST", f"{J}/resume", {"admin", "advisor", "technician"}),
    ("POST", f"{J}/complete", {"admin", "technician"}),
    ("POST", f"{J}/cancel", {"admin", "advisor", "service"}),
    ("POST", f"{J}/lines", {"admin", "advisor", "technician"}),
    ("GET", f"{J}/lines/{uuid.uuid4()}", ALL),
    ("PATCH", f"{J}/lines/{uuid.uuid4()}", {"admin", "advisor", "technician"}),
    ("DELETE", f"{J}/lines/{uuid.uuid4()}", {"admin", "advisor", "technician"}),
    ("GET", "/api/v1/maintenance-jobs/recommendations", ALL),
    ("GET", f"{J}/estimates", ALL),
    ("POST", f"{J}/estimates", {"admin", "advisor"}),
    ("GET", f"{J}/estimates/{uuid.uuid4()}", ALL),
    ("POST", f"{J}/estimates/{uuid.uuid4()}/decision", {"admin", "advisor"}),
    ("GET", f"{J}/approvals", ALL),
    ("POST", f"{J}/clock-in", {"admin", "technician"}),
    ("POST", f"{J}/clock-out", {"admin", "technician"}),
    ("GET", f"{J}/time-entries", ALL),
    ("GET", "/api/v1/maintenance-jobs/outbox-messages", {"admin"}),
    ("GET", f"/api/v1/maintenance-jobs/outbox-messages/{uuid.uuid4()}", {"admin"}),
    ("POST", f"/api/v1/maintenance-jobs/outbox-messages/{uuid.uuid4()}/retry", {"admin"}),
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
    assert client.get("/api/v1/maintenance-jobs", headers=expired).status_code == 401
    forged = {"Authorization": "Bearer not.a.token"}
    assert client.get("/api/v1/maintenance-jobs", headers=forged).status_code == 401
