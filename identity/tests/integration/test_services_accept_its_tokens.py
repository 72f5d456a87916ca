"""A service verifies identity's tokens through the JWKS, as configured in production:
identity runs as a real HTTP server here, customer-management is given its JWKS URL and
issuer, and a client-credentials token opens customer-management's API; a token of a
key identity no longer publishes does not."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from identity.models import db
from identity.service import keys
from werkzeug.serving import make_server

from identity import create_app
from service_kit.migrations import upgrade


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def identity_server(fresh_database_url: str) -> Iterator[tuple[str, object]]:
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "RATE_LIMIT_ENABLED": False,
            "IDENTITY_ISSUER": issuer,
            "OAUTH_CLIENTS": [
                {
                    "client_id": "vehicle-management",
                    "client_secret": "vm-secret",  # pragma: allowlist secret
                    "kind": "service",
                    "redirect_uris": [],
                }
            ],
        }
    )
    upgrade(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield issuer, app
    server.shutdown()


def customer_management(database_url: str, issuer: str):
    from customer_management import create_app as create_customer_management

    app = create_customer_management(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATE_LIMIT_ENABLED": False,
            "JWT_ISSUER": issuer,
            "JWT_JWKS_URL": f"{issuer}/.well-known/jwks.json",
            "JWT_ALGORITHMS": ["ES256"],
        }
    )
    upgrade(app)
    return app


def service_token(issuer: str) -> str:
    answer = requests.post(
        f"{issuer}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("vehicle-management", "vm-secret"),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_customer_management_accepts_a_client_credentials_token(identity_server, fresh_database_url):
    pytest.importorskip("customer_management")
    issuer, _ = identity_server
    app = customer_management(fresh_database_url, issuer)
    token = service_token(issuer)
    answer = app.test_client().get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_json()


def test_a_token_of_a_rotated_out_key_is_refused(identity_server, fresh_database_url):
    pytest.importorskip("customer_management")
    issuer, identity_app = identity_server
    old_token = service_token(issuer)
    with identity_app.app_context():
        keys.rotate(db.session(), publish_ahead=timedelta(0), token_lifetime=timedelta(0))
        db.session.commit()
    app = customer_management(fresh_database_url, issuer)
    client = app.test_client()
    refused = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {old_token}"})
    assert refused.status_code == 401
    accepted = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {service_token(issuer)}"})
    assert accepted.status_code == 200, accepted.get_json()
