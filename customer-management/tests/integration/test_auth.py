"""Who may do what: 401 without a valid token, 403 with the wrong role."""

import time

import jwt
import pytest

from service_kit.auth import mint_token

PAYLOAD = {"kind": "person", "name": "Ann", "email": "ann@example.com"}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def token(app, **changes):
    now = int(time.time())
    claims = {
        "sub": "someone",
        "iss": app.config["JWT_ISSUER"],
        "aud": app.config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + 300,
        "roles": ["advisor"],
    }
    claims.update(changes)
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None}, app.config["JWT_SECRET"], algorithm="HS256"
    )


def assert_401(response):
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_is_401(client):
    assert_401(client.get("/api/v1/customers"))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "token"])
def test_malformed_authorization_is_401(client, header):
    assert_401(client.get("/api/v1/customers", headers={"Authorization": header}))


def test_bad_signature_is_401(client, app):
    forged = jwt.encode(
        jwt.decode(token(app), options={"verify_signature": False}), "another-key" * 4, "HS256"
    )
    assert_401(client.get("/api/v1/customers", headers=bearer(forged)))


def test_expired_token_is_401(client, app):
    response = client.get("/api/v1/customers", headers=bearer(token(app, exp=int(time.time()) - 3600)))
    assert_401(response)
    assert "expired" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "claim",
    [{"aud": "another-system"}, {"iss": "somebody-else"}, {"exp": None}, {"sub": None}, {"iat": None}],
)
def test_wrong_audience_issuer_or_missing_claims_is_401(client, app, claim):
    assert_401(client.get("/api/v1/customers", headers=bearer(token(app, **claim))))


def test_unsigned_token_is_401(client, app):
    claims = jwt.decode(token(app), options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert_401(client.get("/api/v1/customers", headers=bearer(unsigned)))


@pytest.mark.parametrize("role", ["admin", "advisor", "technician", "accountant", "service"])
def test_every_staff_role_and_services_can_read(client, app, role):
    assert (
        client.get("/api/v1/customers", headers=bearer(mint_token(app.config, roles=[role]))).status_code
        == 200
    )


@pytest.mark.parametrize("role", ["technician", "accountant", "service"])
def test_only_advisors_and_admins_write(client, app, register, role):
    headers = bearer(mint_token(app.config, roles=[role]))
    response = client.post("/api/v1/customers", json=PAYLOAD, headers=headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    customer = register()
    assert (
        client.patch(f"/api/v1/customers/{customer['id']}", json={"notes": "x"}, headers=headers).status_code
        == 403
    )
    assert client.delete(f"/api/v1/customers/{customer['id']}", headers=headers).status_code == 403


def test_token_without_roles_is_403(client, app):
    assert client.get("/api/v1/customers", headers=bearer(token(app, roles=[]))).status_code == 403


def test_admin_writes(client, app):
    headers = bearer(mint_token(app.config, roles=["admin"]))
    assert client.post("/api/v1/customers", json=PAYLOAD, headers=headers).status_code == 201


def test_auth_is_checked_before_the_body(client):
    assert (
        client.post("/api/v1/customers", data="{broken", content_type="application/json").status_code == 401
    )
