"""Who may do what: 401 without a valid token, 403 with the wrong role, for every endpoint."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

ROLES = ("admin", "advisor", "technician", "accountant", "service")
ALL = set(ROLES)
MANAGERS = {"admin", "advisor"}
FLOOR = {"admin", "advisor", "technician"}
SOME_ID = str(uuid.uuid4())

ENDPOINTS = [
    ("GET", "/api/v1/workshop/settings", ALL),
    ("PUT", "/api/v1/workshop/settings", MANAGERS),
    ("GET", "/api/v1/workshop/bays", ALL),
    ("POST", "/api/v1/workshop/bays", MANAGERS),
    ("GET", f"/api/v1/workshop/bays/{SOME_ID}", ALL),
    ("PATCH", f"/api/v1/workshop/bays/{SOME_ID}", MANAGERS),
    ("GET", "/api/v1/workshop/technicians", ALL),
    ("POST", "/api/v1/workshop/technicians", MANAGERS),
    ("GET", f"/api/v1/workshop/technicians/{SOME_ID}", ALL),
    ("PATCH", f"/api/v1/workshop/technicians/{SOME_ID}", MANAGERS),
    ("GET", "/api/v1/workshop/planning/days/2030-01-07", ALL),
    ("GET", "/api/v1/workshop/planning/weeks/2030-W02", ALL),
    (
        "GET",
        "/api/v1/availability?from=2030-01-07&to=2030-01-07&duration=60",
        {"admin", "advisor", "technician", "service"},
    ),
    ("GET", "/api/v1/appointments", ALL),
    ("POST", "/api/v1/appointments", MANAGERS),
    ("GET", f"/api/v1/appointments/{SOME_ID}", ALL),
    ("POST", f"/api/v1/appointments/{SOME_ID}/reschedule", MANAGERS),
    ("POST", f"/api/v1/appointments/{SOME_ID}/cancel", MANAGERS),
    ("POST", f"/api/v1/appointments/{SOME_ID}/no-show", MANAGERS),
    ("POST", f"/api/v1/appointments/{SOME_ID}/check-in", FLOOR),
    ("POST", f"/api/v1/appointments/{SOME_ID}/complete", FLOOR),
    ("GET", "/api/v1/workshop/outbox-messages", {"admin"}),
]


def call(client, method, path, headers=None):
    return client.open(path, method=method, json={}, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
def test_roles(client, auth_headers, method, path, allowed):
    assert call(client, method, path).status_code == 401
    for role in ROLES:
        status = call(client, method, path, auth_headers(role)).status_code
        if role in allowed:
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)


def test_health_and_docs_need_no_token(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_expired_and_forged_tokens_are_401(client, app):
    now = int(time.time())
    claims = {
        "sub": "x",
        "iss": app.config["JWT_ISSUER"],
        "aud": app.config["JWT_AUDIENCE"],
        "iat": now - 7200,
        "exp": now - 3600,
        "roles": ["admin"],
    }
    expired = jwt.encode(claims, app.config["JWT_SECRET"], algorithm="HS256")
    response = client.get("/api/v1/appointments", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    forged = jwt.encode({**claims, "exp": now + 3600}, "not-the-key" * 4, algorithm="HS256")
    assert (
        client.get("/api/v1/appointments", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )
