"""A service verifies identity's tokens through the JWKS, as configured in production:
identity runs as a real HTTP server here, customer-management is given its JWKS URL and
issuer, and a client-credentials token opens customer-management's API; a token of a
key identity no longer publishes does not."""

from __future__ import annotations

from datetime import timedelta

import requests
from identity.models import db
from identity.service import keys


def service_token(issuer: str) -> str:
    answer = requests.post(
        f"{issuer}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("vehicle-management", "vm-secret"),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_customer_management_accepts_a_client_credentials_token(
    identity_server, customer_management_trusting
):
    issuer, _ = identity_server
    app = customer_management_trusting(issuer)
    token = service_token(issuer)
    answer = app.test_client().get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_json()


def test_a_token_of_a_rotated_out_key_is_refused(identity_server, customer_management_trusting):
    issuer, identity_app = identity_server
    old_token = service_token(issuer)
    with identity_app.app_context():
        keys.rotate(db.session(), publish_ahead=timedelta(0), token_lifetime=timedelta(0))
        db.session.commit()
    client = customer_management_trusting(issuer).test_client()
    refused = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {old_token}"})
    assert refused.status_code == 401
    accepted = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {service_token(issuer)}"})
    assert accepted.status_code == 200, accepted.get_json()
