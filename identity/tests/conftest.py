from __future__ import annotations

import base64
import hashlib
import secrets
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from identity.models import SCHEMA, db

from identity import create_app
from service_kit.migrations import upgrade
from service_kit.testing import served, truncate_schema

from .fakes import FakeNotificationManagement

CONSOLE = "staff-console"
CONSOLE_SECRET = "console-secret-for-tests"  # pragma: allowlist secret
REDIRECT_URI = "http://127.0.0.1:8008/auth/callback"
PASSWORD = "correct horse battery staple"  # pragma: allowlist secret
# Cheap hashes for the tests; the cost chosen for production is measured in docs/identity.md.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8 * 1024}


def settings(database_url: str, **more: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "RATE_LIMIT_ENABLED": False,
        "OAUTH_CLIENTS": [
            {
                "client_id": CONSOLE,
                "client_secret": CONSOLE_SECRET,
                "kind": "console",
                "name": "Garage staff console",
                "redirect_uris": [REDIRECT_URI],
            },
            {
                "client_id": "vehicle-management",
                "client_secret": "vm-secret",  # pragma: allowlist secret
                "kind": "service",
                "redirect_uris": [],
            },
            {
                "client_id": "customer-portal",
                "client_secret": "portal-secret",  # pragma: allowlist secret
                "kind": "portal",
                "redirect_uris": [],
            },
        ],
        **FAST_ARGON2,
        **more,
    }


@pytest.fixture(scope="module")
def identity_server(fresh_database_url: str) -> Iterator[tuple[str, Flask]]:
    """identity as a real HTTP server on a free loopback port, its issuer that URL, with
    ``settings()``'s clients: ``(issuer, app)``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    issuer = f"http://127.0.0.1:{port}"
    app = create_app(settings(fresh_database_url, IDENTITY_ISSUER=issuer))
    upgrade(app)
    with served(app, port):
        yield issuer, app


@pytest.fixture
def customer_management_trusting(fresh_database_url: str) -> Callable[[str], Flask]:
    """``customer_management_trusting(issuer)``: customer-management configured as in
    production to trust identity, by its JWKS URL and issuer."""
    pytest.importorskip("customer_management")
    from customer_management import create_app as create_customer_management

    def make(issuer: str) -> Flask:
        app = create_customer_management(
            {
                "TESTING": True,
                "DATABASE_URL": fresh_database_url,
                "RATE_LIMIT_ENABLED": False,
                "JWT_ISSUER": issuer,
                "JWT_JWKS_URL": f"{issuer}/.well-known/jwks.json",
                "JWT_ALGORITHMS": ["ES256"],
            }
        )
        upgrade(app)
        return app

    return make


@pytest.fixture(scope="session")
def notifications() -> Iterator[FakeNotificationManagement]:
    fake = FakeNotificationManagement()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def app(fresh_database_url: str, notifications: FakeNotificationManagement) -> Flask:
    app = create_app(
        settings(
            fresh_database_url,
            NOTIFICATION_MANAGEMENT_URL=notifications.url,
            NOTIFICATION_MANAGEMENT_RETRIES=0,
            NOTIFICATION_MANAGEMENT_BREAKER_FAILURES=1000,
            # Tests run the relay themselves (one test sends right after the answer).
            PASSWORD_RESET_SEND_AT_ONCE=False,
            PASSWORD_RESET_ANSWER_SECONDS=0.0,
        )
    )
    upgrade(app)
    return app


@pytest.fixture
def client(app: Flask, notifications: FakeNotificationManagement) -> Iterator[FlaskClient]:
    notifications.reset()
    yield app.test_client()
    assert notifications.violations == [], "identity asked notification-management outside its contract"
    with app.app_context():
        db.session.remove()
        truncate_schema(db.engine, SCHEMA)


@pytest.fixture
def admin(auth_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth_headers("admin")


@pytest.fixture
def make_account(client: FlaskClient, admin: dict[str, str]) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 1_000_000))

    def make(**fields: Any) -> dict[str, Any]:
        n = next(counter)
        body = {
            "name": f"Person {n}",
            "email": f"person{n}@garage.nl",
            "roles": ["advisor"],
            "password": PASSWORD,
        }
        body.update(fields)
        response = client.post("/api/v1/accounts", json=body, headers=admin)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(challenge: str, **changes: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": CONSOLE,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email offline_access",
        "state": "state-1",
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query.update(changes)
    return query


def csrf_token(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


class Browser:
    """The console's side of the code flow, through the test client."""

    PASSWORD = PASSWORD
    CONSOLE = CONSOLE
    CONSOLE_SECRET = CONSOLE_SECRET
    REDIRECT_URI = REDIRECT_URI

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def sign_in(
        self,
        email: str,
        password: str = PASSWORD,
        *,
        otp: str = "",
        challenge: str | None = None,
        **query: str,
    ) -> Any:
        verifier, made = pkce_pair()
        params = authorize_query(challenge or made, **query)
        page = self.client.get("/oauth/authorize", query_string=params)
        assert page.status_code == 200, page.get_data(as_text=True)
        response = self.client.post(
            "/oauth/authorize",
            query_string=params,
            data={
                "email": email,
                "password": password,
                "otp": otp,
                "csrf_token": csrf_token(page.get_data(as_text=True)),
            },
        )
        response.verifier = verifier  # type: ignore[attr-defined]
        return response

    def code_from(self, response: Any) -> str:
        assert response.status_code == 302, response.get_data(as_text=True)
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
        return parse_qs(location.query)["code"][0]

    def exchange(self, code: str, verifier: str, **changes: str) -> Any:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        form.update(changes)
        return self.client.post("/oauth/token", data=form, auth=(CONSOLE, CONSOLE_SECRET))

    def tokens(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.sign_in(email, password)
        answer = self.exchange(self.code_from(response), response.verifier)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def refresh(self, refresh_token: str) -> Any:
        return self.client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(CONSOLE, CONSOLE_SECRET),
        )


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)
