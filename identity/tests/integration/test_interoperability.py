"""Another OAuth implementation than the server's (Authlib) completes the staff console's
flow against identity over HTTP: requests-oauthlib on oauthlib finds the endpoints in the
discovery document, sends the person to the authorization endpoint with a PKCE challenge,
exchanges the code with the verifier and its client secret, refreshes, and calls
userinfo; customer-management, trusting identity by its JWKS URL and issuer, accepts the
access token. PyJWT checks the ID token against the published keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from identity.models import SCHEMA, db
from identity.service import accounts
from requests_oauthlib import OAuth2Session

from service_kit.testing import truncate_schema

CONSOLE = "staff-console"
CONSOLE_SECRET = "console-secret-for-tests"  # pragma: allowlist secret  (identity/tests/conftest.py)
REDIRECT_URI = "http://127.0.0.1:8008/auth/callback"
PASSWORD = "a passphrase for the interoperability test"  # pragma: allowlist secret


@pytest.fixture
def advisor(identity_server: tuple[str, Any]) -> Iterator[str]:
    """An advisor's account made by identity's service code; its email. Gone after the
    test, with what the flow left (other tests start from an empty schema)."""
    _, app = identity_server
    email = f"interop-{secrets.token_hex(4)}@garage.nl"
    with app.app_context():
        accounts.create_account(
            session=db.session(),
            hasher=accounts.password_hasher(app.config),
            data={"email": email, "name": "Iris Interop", "roles": ["advisor"], "password": PASSWORD},
            actor="test",
            address=None,
        )
        db.session.commit()
    yield email
    with app.app_context():
        db.session.remove()
        truncate_schema(db.engine, SCHEMA)


def sign_in_at(url: str, email: str) -> str:
    """The person's browser: the sign-in page at URL, the form sent back with its CSRF
    token and cookie; the redirect's Location (to the console, with the code)."""
    agent = requests.Session()
    page = agent.get(url, timeout=5)
    assert page.status_code == 200, page.text
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    form = {
        "email": email,
        "password": PASSWORD,
        "csrf_token": page.text[start : page.text.index('"', start)],
    }
    answer = agent.post(url, data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def test_requests_oauthlib_completes_the_code_flow_and_customer_management_accepts_the_token(
    identity_server, advisor, customer_management_trusting, monkeypatch
):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback, in a test only
    issuer, _ = identity_server
    discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == issuer

    console = OAuth2Session(
        CONSOLE,
        redirect_uri=REDIRECT_URI,
        scope=["openid", "profile", "email", "offline_access"],
        pkce="S256",
    )
    nonce = secrets.token_urlsafe(12)
    url, _state = console.authorization_url(discovery["authorization_endpoint"], nonce=nonce)
    assert "code_challenge=" in url and "code_challenge_method=S256" in url

    callback = sign_in_at(url, advisor)
    token = console.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, client_secret=CONSOLE_SECRET
    )  # checks the state; sends the code verifier and the secret (HTTP Basic)
    assert token["token_type"].lower() == "bearer"
    assert {"access_token", "refresh_token", "id_token", "expires_in"} <= set(token)

    id_token = jwt.decode(
        token["id_token"],
        jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token["id_token"]).key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=CONSOLE,
        issuer=issuer,
    )
    assert id_token["nonce"] == nonce

    userinfo = console.get(discovery["userinfo_endpoint"], timeout=5)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["email"] == advisor and userinfo.json()["sub"] == id_token["sub"]

    customers = customer_management_trusting(issuer).test_client()
    answer = customers.get("/api/v1/customers", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert answer.status_code == 200, answer.get_json()

    renewed = console.refresh_token(
        discovery["token_endpoint"], refresh_token=token["refresh_token"], auth=(CONSOLE, CONSOLE_SECRET)
    )
    assert renewed["refresh_token"] != token["refresh_token"]  # rotated
    answer = customers.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {renewed['access_token']}"}
    )
    assert answer.status_code == 200, answer.get_json()
