"""Each service calls others with its own short-lived token; the receiver knows which
service called; keys rotate through the identity provider's JWKS."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from service_kit.auth import SERVICE_KID_PREFIX, TokenVerifier, mint_token, service_signing_key
from service_kit.config import kit_settings
from service_kit.http_client import DependencyFailed, ServiceToken
from service_kit.problems import Unauthorized


def settings(service="vehicle-management", **env):
    return kit_settings(service=service, schema="x", env=env)


def test_development_service_token_names_its_service_and_expires_soon():
    token = ServiceToken(settings())()
    caller = TokenVerifier(settings("customer-management")).verify(token)
    assert caller.calling_service == "vehicle-management"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] <= 300
    assert jwt.get_unverified_header(token)["kid"] == f"{SERVICE_KID_PREFIX}vehicle-management"


def test_a_service_cannot_claim_to_be_another():
    config = settings()
    forged = mint_token(
        config,
        roles=["service"],
        subject="invoicing",
        private_key=service_signing_key(config["JWT_SECRET"], "vehicle-management"),
        headers={"kid": f"{SERVICE_KID_PREFIX}vehicle-management"},
    )
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(forged)
    renamed = mint_token(
        config,
        roles=["service"],
        subject="invoicing",
        private_key=service_signing_key(config["JWT_SECRET"], "vehicle-management"),
        headers={"kid": f"{SERVICE_KID_PREFIX}invoicing"},
    )
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(renamed)


class IdentityProvider:
    """A real HTTP identity provider on loopback: a token endpoint (client credentials)
    and a JWKS whose keys the test can rotate."""

    def __init__(self):
        self.keys = {"key-1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.signing_kid = "key-1"
        self.issuer = "idp"
        self.token_requests = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    self._answer(200, {"issuer": provider.issuer, "jwks_uri": f"{provider.url}/jwks"})
                    return
                jwks = []
                for kid, key in provider.keys.items():
                    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
                    jwk.update(kid=kid, use="sig", alg="RS256")
                    jwks.append(jwk)
                self._answer(200, {"keys": jwks})

            def do_POST(self):
                form = self.rfile.read(int(self.headers["Content-Length"])).decode()
                provider.token_requests.append((self.headers.get("Authorization"), form))
                if "grant_type=client_credentials" not in form or not self.headers.get("Authorization"):
                    self._answer(400, {"error": "invalid_request"})
                    return
                self._answer(200, {"access_token": provider.issue("vehicle-management"), "expires_in": 300})

            def _answer(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def issue(self, service, kid=None, **claims_instead):
        now = int(time.time())
        claims = {
            "sub": service,
            "iss": self.issuer,
            "aud": "garage",
            "iat": now,
            "exp": now + 300,
            "roles": ["service"],
            **claims_instead,
        }
        kid = kid or self.signing_kid
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def idp():
    provider = IdentityProvider()
    yield provider
    provider.server.shutdown()


def production_like(idp, service, cooldown="30"):
    return settings(
        service,
        JWT_JWKS_URL=f"{idp.url}/jwks",
        JWT_ISSUER="idp",
        JWT_SECRET="",
        JWT_JWKS_REFRESH_COOLDOWN_SECONDS=cooldown,
    )


def test_client_credentials_token_is_fetched_once_and_names_the_service(idp):
    config = {
        **production_like(idp, "vehicle-management"),
        "SERVICE_TOKEN_URL": f"{idp.url}/token",
        "SERVICE_CLIENT_ID": "vehicle-management",
        "SERVICE_CLIENT_SECRET": "s3cret",  # pragma: allowlist secret
    }
    source = ServiceToken(config)
    token = source()
    assert source() == token
    assert len(idp.token_requests) == 1
    authorization, form = idp.token_requests[0]
    assert authorization.startswith("Basic ") and "grant_type=client_credentials" in form
    receiver = TokenVerifier(production_like(idp, "customer-management"))
    assert receiver.verify(token).calling_service == "vehicle-management"


def test_token_endpoint_down_is_a_dependency_failure(idp):
    config = {**production_like(idp, "vehicle-management"), "SERVICE_TOKEN_URL": "http://127.0.0.1:9/token"}
    with pytest.raises(DependencyFailed):
        ServiceToken(config)()


def test_rotated_key_is_accepted_once_published_and_the_old_one_until_it_expires(idp):
    receiver = TokenVerifier(production_like(idp, "customer-management", cooldown="1"))
    old_token = idp.issue("invoicing")
    assert receiver.verify(old_token).calling_service == "invoicing"

    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unpublished = jwt.encode(
        jwt.decode(old_token, options={"verify_signature": False}),
        new_key,
        algorithm="RS256",
        headers={"kid": "key-2"},
    )
    with pytest.raises(Unauthorized):
        receiver.verify(unpublished)

    idp.keys["key-2"] = new_key  # the provider publishes the new key and signs with it
    idp.signing_kid = "key-2"
    time.sleep(1.1)  # an unknown kid refetches the JWKS at most once per cool-down
    assert receiver.verify(idp.issue("invoicing")).calling_service == "invoicing"
    assert receiver.verify(old_token).calling_service == "invoicing"  # still listed, not expired


def test_a_remembered_token_is_refused_once_the_jwks_no_longer_lists_its_key(idp):
    receiver = TokenVerifier(production_like(idp, "customer-management", cooldown="0"))
    old_token = idp.issue("invoicing")
    assert receiver.verify(old_token).calling_service == "invoicing"  # verified, remembered
    idp.keys = {"key-2": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    idp.signing_kid = "key-2"
    # A token with the new kid makes the receiver fetch the key set again: key-1 is gone.
    assert receiver.verify(idp.issue("invoicing")).calling_service == "invoicing"
    with pytest.raises(Unauthorized):
        receiver.verify(old_token)


def test_bring_your_own_provider_found_through_its_discovery_document(idp):
    # A Keycloak-like provider: its issuer is its address, roles sit in realm_access.
    idp.issuer = idp.url
    config = settings(
        "customer-management", OIDC_ISSUER=idp.url, JWT_SECRET="", JWT_ROLES_CLAIM="realm_access.roles"
    )
    assert config["JWT_ISSUER"] == idp.url
    receiver = TokenVerifier(config)
    token = idp.issue("anna", roles=None, realm_access={"roles": ["advisor", "offline_access"]})
    principal = receiver.verify(token)
    assert (principal.subject, principal.roles) == ("anna", {"advisor", "offline_access"})
    elsewhere = idp.issue("anna", iss="https://another.example", realm_access={"roles": ["admin"]})
    with pytest.raises(Unauthorized, match="another issuer"):
        receiver.verify(elsewhere)


def test_a_provider_that_cannot_be_discovered_is_a_dependency_failure():
    from service_kit.problems import DependencyUnavailable

    receiver = TokenVerifier(settings("customer-management", OIDC_ISSUER="http://127.0.0.1:9", JWT_SECRET=""))
    token = jwt.encode(
        {"sub": "x"}, "k" * 32, algorithm="HS256"
    )  # never checked: no key set to check it with
    with pytest.raises(DependencyUnavailable) as failed:
        receiver.verify(token)
    assert failed.value.dependency == "identity provider"
