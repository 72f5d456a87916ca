"""Bring your own provider, proven: customer-management, configured only through the
operator's settings (OIDC_ISSUER, JWT_AUDIENCE, JWT_ROLES_CLAIM, in production mode so no
development key is in play), accepts the access tokens of an independent OpenID provider
started here, panva's oidc-provider from npm, and refuses the ones it must refuse."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from customer_management import create_app
from customer_management.models import SCHEMA, db

from service_kit.migrations import upgrade
from service_kit.testing import served, truncate_schema

HERE = Path(__file__).parent
SCRIPT = HERE / "provider.mjs"
MODULES = HERE.parent / "browser" / "node_modules"
GARAGE_API = "https://garage.test/api"
OTHER_API = "https://billing.other.test/api"
ROLES_CLAIM = "realm_access.roles"
CLIENTS = {
    "front-desk": {"secret": uuid.uuid4().hex, "roles": ["advisor", "offline_access"]},
    "kiosk": {"secret": uuid.uuid4().hex, "roles": ["uma_authorization"]},
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is missing: .ci/run installs npm (and node with it)")
        pytest.skip("node is not installed: the independent OpenID provider runs on it (apt-get install npm)")
    if not (MODULES / "oidc-provider").is_dir():
        pytest.fail(f"{MODULES}/oidc-provider is missing: make test runs npm ci --prefix tests/browser")
    return node


class OpenIDProvider:
    """oidc-provider in a Node process on a loopback port (``port=0``: any free one)."""

    def __init__(self, port: int = 0) -> None:
        # Node's warnings and errors, for the message when it does not start.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the process runs
        self._process = subprocess.Popen(
            [_node(), str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={
                **os.environ,
                "OIDC_PORT": str(port),
                "OIDC_CLIENTS": json.dumps(CLIENTS),
                "OIDC_RESOURCES": json.dumps([GARAGE_API, OTHER_API]),
            },
        )
        ready: list[bytes] = []
        reader = threading.Thread(target=lambda: ready.append(self._process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=15)
        if not ready or not ready[0]:
            self.stop()
            self._log.seek(0)
            raise RuntimeError(f"oidc-provider did not start: {self._log.read().decode(errors='replace')}")
        self.issuer: str = json.loads(ready[0])["issuer"]
        self.port = int(self.issuer.rsplit(":", 1)[1])

    def token(self, client: str, resource: str = GARAGE_API) -> str:
        """An access token through the client_credentials grant, for ``resource``."""
        response = requests.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": resource},
            auth=(client, CLIENTS[client]["secret"]),
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()  # the script stops when its input closes
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process.stdout.close()
        self._log.close()


@contextlib.contextmanager
def customer_management(issuer: str, database_url: str) -> Iterator[str]:
    """customer-management over HTTP, set up as an operator would for their provider."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("JWT_SECRET", "JWT_ISSUER", "JWT_JWKS_URL", "JWT_PUBLIC_KEY", "JWT_ALGORITHMS"):
            env.delenv(name, raising=False)
        env.setenv("GARAGE_ENV", "production")
        env.setenv("DATABASE_URL", database_url)
        env.setenv("RATE_LIMIT_STORAGE_URL", "memory://")
        env.setenv("OIDC_ISSUER", issuer)
        env.setenv("JWT_AUDIENCE", GARAGE_API)
        env.setenv("JWT_ROLES_CLAIM", ROLES_CLAIM)
        app = create_app({"TESTING": True})
    upgrade(app)
    try:
        with served(app) as url:
            yield url
    finally:
        with app.app_context():
            truncate_schema(db.engine, SCHEMA)
            db.engine.dispose()


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    started = OpenIDProvider()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def service(provider: OpenIDProvider, fresh_database_url: str) -> Iterator[str]:
    with customer_management(provider.issuer, fresh_database_url) as url:
        yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def list_customers(service: str, token: str) -> requests.Response:
    return requests.get(f"{service}/api/v1/customers", headers=bearer(token), timeout=5)


def register_customer(service: str, token: str, name: str) -> requests.Response:
    body = {"kind": "person", "name": name, "email": f"{name.split()[0].lower()}@example.com"}
    return requests.post(f"{service}/api/v1/customers", json=body, headers=bearer(token), timeout=5)


def refused(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return dict(response.json())


def test_the_providers_token_carries_its_roles_where_keycloak_puts_them(provider):
    claims = jwt.decode(provider.token("front-desk"), options={"verify_signature": False})
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == GARAGE_API
    assert claims["realm_access"] == {"roles": ["advisor", "offline_access"]}
    assert "roles" not in claims  # nothing where our own identity service puts them
    assert jwt.get_unverified_header(provider.token("front-desk"))["typ"] == "at+jwt"


def test_an_advisor_token_from_the_provider_creates_and_reads_a_customer(provider, service):
    token = provider.token("front-desk")
    advisor = bearer(token)
    created = register_customer(service, token, "Ilse de Vries")
    assert created.status_code == 201, created.text
    customer = created.json()
    read = requests.get(f"{service}/api/v1/customers/{customer['id']}", headers=advisor, timeout=5)
    assert read.status_code == 200, read.text
    assert read.json()["name"] == "Ilse de Vries"
    # The provider's subject (the client, for client credentials) is who recorded it.
    consent = requests.post(
        f"{service}/api/v1/customers/{customer['id']}/consents",
        json={
            "channel": "email",
            "purpose": "service",
            "granted": True,
            "source": "counter",
            "wording": "Reminders by email?",
        },
        headers=advisor,
        timeout=5,
    )
    assert consent.status_code == 201, consent.text
    assert consent.json()["recorded_by"] == "front-desk"


def test_a_token_without_the_role_is_forbidden(provider, service):
    kiosk = provider.token("kiosk")
    assert "advisor" in refused(register_customer(service, kiosk, "Nobody Home"), 403)["detail"]
    refused(list_customers(service, kiosk), 403)


def test_a_token_for_another_audience_is_refused(provider, service):
    response = list_customers(service, provider.token("front-desk", resource=OTHER_API))
    assert refused(response, 401)["detail"] == "the token is meant for another audience"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kid", ["the provider's", "unknown"])
def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(provider, service, kid):
    genuine = provider.token("front-desk")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    header = jwt.get_unverified_header(genuine)
    if kid == "unknown":
        header["kid"] = "not-in-the-jwks"
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, forger, algorithm="RS256", headers=header)
    response = list_customers(service, forged)
    problem = refused(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="garage", error="invalid_token"'
    if kid == "the provider's":
        assert problem["detail"] == "the token's signature does not verify"
    # The genuine token, same claims, still passes: only the key made the difference.
    assert list_customers(service, genuine).status_code == 200


def test_a_provider_down_at_the_first_token_is_a_503_naming_it_until_it_is_back(fresh_database_url):
    provider = OpenIDProvider()
    try:
        token = provider.token("front-desk")
    finally:
        provider.stop()  # before the service has seen any token, so before discovery
    with customer_management(provider.issuer, fresh_database_url) as service:
        problem = refused(list_customers(service, token), 503)
        assert problem["dependency"] == "identity provider"
        assert problem["detail"] == f"cannot read {provider.issuer}/.well-known/openid-configuration"
        # Back on the same address (with a new signing key): discovery is tried again,
        # no restart of the service; the old key's token is refused, the new one passes.
        again = OpenIDProvider(port=provider.port)
        try:
            assert list_customers(service, again.token("front-desk")).status_code == 200
            refused(list_customers(service, token), 401)
        finally:
            again.stop()
