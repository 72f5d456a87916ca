"""Token verification with keys from a JWKS URL (production) or a public key."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from service_kit.auth import TokenVerifier, mint_token
from service_kit.config import kit_settings
from service_kit.problems import Unauthorized


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(rsa_key):
    jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update(kid="key-1", use="sig", alg="RS256")
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def settings(**env):
    return kit_settings(service="x", schema="x", env=env)


def rs256_token(config, key, **extra):
    return mint_token(config, roles=["advisor"], private_key=key, algorithm="RS256", **extra)


def test_jwks_verifies_rs256_tokens(jwks_url, rsa_key):
    config = settings(JWT_JWKS_URL=jwks_url)
    token = mint_token(
        config, roles=["accountant"], private_key=rsa_key, algorithm="RS256", extra_claims=None
    )
    token = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        rsa_key,
        algorithm="RS256",
        headers={"kid": "key-1"},
    )
    principal = TokenVerifier(config).verify(token)
    assert principal.roles == {"accountant"}


def test_jwks_mode_refuses_a_token_signed_with_the_shared_secret(jwks_url):
    # The algorithm-confusion attack: an HS256 token must not pass an RS256 verifier.
    config = settings(JWT_JWKS_URL=jwks_url)
    forged = mint_token({**config, "JWT_SECRET": "whatever-secret-value-long-enough"}, roles=["admin"])
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(forged)


def test_configured_public_key(rsa_key):
    pem = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    config = settings(JWT_PUBLIC_KEY=pem)
    assert TokenVerifier(config).verify(rs256_token(config, rsa_key)).roles == {"advisor"}
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(rs256_token(config, other_key))


def test_leeway_tolerates_small_clock_skew_only():
    config = settings()
    now = int(time.time())
    base = {
        "sub": "s",
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "iat": now - 600,
        "roles": ["advisor"],
    }
    skewed = jwt.encode({**base, "exp": now - 5}, config["JWT_SECRET"], "HS256")
    assert TokenVerifier(config).verify(skewed)
    expired = jwt.encode({**base, "exp": now - 120}, config["JWT_SECRET"], "HS256")
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(expired)


def short_lived_claims(config):
    now = int(time.time())
    return {
        "sub": "x",
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + 60,
    }


def test_unknown_kid_is_refused(jwks_url, rsa_key):
    config = settings(JWT_JWKS_URL=jwks_url)
    claims = jwt.decode(rs256_token(config, rsa_key), options={"verify_signature": False})
    token = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "key-that-was-never-published"})
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(token)


def test_hs256_token_signed_with_the_public_key_is_refused(rsa_key):
    # Algorithm confusion: the public key used as an HMAC secret must not verify.
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config = settings(JWT_PUBLIC_KEY=pem.decode())
    now = int(time.time())
    claims = {
        "sub": "x",
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + 60,
    }
    header = {"alg": "HS256", "typ": "JWT"}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(f"{signing_input}.{b64(signature)}")


def test_algorithm_comes_from_the_server_not_the_token(rsa_key):
    pem = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verifier = TokenVerifier(settings(JWT_PUBLIC_KEY=pem))
    assert "HS256" not in verifier.algorithms and "none" not in verifier.algorithms


def test_alg_none_is_refused():
    config = settings()
    now = int(time.time())
    claims = {
        "sub": "x",
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + 60,
    }
    with pytest.raises(Unauthorized):
        TokenVerifier(config).verify(jwt.encode(claims, key=None, algorithm="none"))


def test_a_token_is_verified_once_and_remembered_until_it_expires(monkeypatch):
    config = settings(JWT_LEEWAY_SECONDS="0")
    verifier = TokenVerifier(config)
    checked = []
    verify_signature = verifier._verify_signature
    monkeypatch.setattr(
        verifier, "_verify_signature", lambda token: checked.append(token) or verify_signature(token)
    )
    token = mint_token(config, roles=["advisor"], ttl_seconds=1)
    assert [verifier.verify(token).roles for _ in range(3)] == [{"advisor"}] * 3
    assert len(checked) == 1, "the signature is checked on the first use only"
    time.sleep(1.1)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)


# ------------------------------------------------------------------ the person's name


def test_the_principal_carries_the_name_claim_and_falls_back_to_the_subject():
    config = settings()
    verifier = TokenVerifier(config)
    named = verifier.verify(mint_token(config, roles=["advisor"], subject="acc-1", name="Sanne Visser"))
    assert (named.subject, named.name) == ("acc-1", "Sanne Visser")
    assert named.actor.fields("booked_by") == {"booked_by": "acc-1", "booked_by_name": "Sanne Visser"}
    unnamed = verifier.verify(mint_token(config, roles=["advisor"], subject="acc-2"))
    assert unnamed.name == "acc-2"
    for odd in ("", "   ", 42, ["Anna"], {"first": "Anna"}):
        token = mint_token(config, roles=["advisor"], subject="acc-3", extra_claims={"name": odd})
        assert verifier.verify(token).name == "acc-3", odd


def test_a_name_is_kept_to_one_storable_line_of_bounded_length():
    config = settings()
    verifier = TokenVerifier(config)
    token = mint_token(config, roles=["advisor"], subject="acc-1", name=" Anna\x00 \n de\tVries\ud800 ")
    assert verifier.verify(token).name == "Anna de Vries"
    long = verifier.verify(mint_token(config, roles=["advisor"], subject="acc-1", name="é" * 500))
    assert long.name == "é" * 200


def test_a_service_tokens_name_is_its_service_name():
    config = settings()
    token = mint_token(config, roles=["service"], subject="invoicing", name="Someone Else")
    assert TokenVerifier(config).verify(token).name == "invoicing"


def test_the_name_claim_is_configurable():
    config = settings(JWT_NAME_CLAIM="profile.display_name")
    token = mint_token(
        config,
        roles=["advisor"],
        subject="acc-1",
        name="ignored",
        extra_claims={"profile": {"display_name": "Bas"}},
    )
    assert TokenVerifier(config).verify(token).name == "Bas"


def test_the_development_token_command_takes_a_name():
    from flask import Flask

    from service_kit.cli import register_commands

    app = Flask("x")
    app.config.update(settings())
    register_commands(app)
    result = app.test_cli_runner().invoke(
        args=["token", "technician", "--subject", "t-1", "--name", "Jan Bakker"]
    )
    assert result.exit_code == 0, result.output
    principal = TokenVerifier(app.config).verify(result.output.strip())
    assert (principal.subject, principal.name, principal.roles) == ("t-1", "Jan Bakker", {"technician"})
