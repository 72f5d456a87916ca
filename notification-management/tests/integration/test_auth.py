"""Who may do what: 401 without a valid token, 403 with the wrong role.

services and admins ask for notifications; advisors and admins read history, retry
and edit templates; accountants and services read history too; technicians do not
deal with customer messages."""

import uuid

import pytest

from service_kit.auth import mint_token

REQUEST = {"customer_id": str(uuid.uuid4()), "type": "vehicle_ready", "data": {}}
TEXTS = {"subject": "s", "body": "b", "sms_body": "t"}
SOME_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

ENDPOINTS = [
    ("get", "/api/v1/notifications", None),
    ("post", "/api/v1/notifications", REQUEST),
    ("get", f"/api/v1/notifications/{SOME_ID}", None),
    ("post", f"/api/v1/notifications/{SOME_ID}/retry", None),
    ("get", "/api/v1/notification-templates", None),
    ("get", "/api/v1/notification-templates/vehicle_ready/en", None),
    ("put", "/api/v1/notification-templates/vehicle_ready/en", TEXTS),
    ("post", "/api/v1/notification-templates/vehicle_ready/en/preview", {}),
]


def bearer(app, *roles):
    return {"Authorization": f"Bearer {mint_token(app.config, roles=roles)}"}


def call(client, method, path, body, headers):
    return getattr(client, method)(path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_a_token(client, method, path, body):
    response = call(client, method, path, body, {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_technicians_may_do_nothing_here(client, app, method, path, body):
    assert call(client, method, path, body, bearer(app, "technician")).status_code == 403


ALLOWED = {
    "admin": {0, 1, 2, 3, 4, 5, 6, 7},
    "advisor": {0, 2, 3, 4, 5, 6, 7},
    "accountant": {0, 2},
    "service": {0, 1, 2},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_roles(client, app, role):
    for index, (method, path, body) in enumerate(ENDPOINTS):
        status = call(client, method, path, body, bearer(app, role)).status_code
        if index in ALLOWED[role]:
            assert status != 403 and status != 401, (role, method, path, status)
        else:
            assert status == 403, (role, method, path, status)


def test_auth_is_checked_before_the_body(client):
    response = client.post("/api/v1/notifications", data="{broken", content_type="application/json")
    assert response.status_code == 401


def test_health_and_docs_need_no_token(client):
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert client.get(path).status_code == 200, path
