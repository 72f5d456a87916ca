"""identity's settings: which issuer its own tokens carry, and which tokens the kit's
check behind its admin API accepts, in development and in production."""

import pytest
from cryptography.fernet import Fernet
from identity.config import DEFAULT_URL, DEVELOPMENT_KEY_ENCRYPTION_KEY, SERVICE_CLIENTS, load_config

from service_kit.config import ConfigError

ISSUER = "https://garage.example/identity"
KEK = Fernet.generate_key().decode()


def production_env(**more: str) -> dict[str, str]:
    secrets = {f"{name.upper().replace('-', '_')}_CLIENT_SECRET": f"s-{name}" for name in SERVICE_CLIENTS}
    return {
        "GARAGE_ENV": "production",
        "DATABASE_URL": "postgresql://identity@db/garage",
        "RATE_LIMIT_STORAGE_URL": "redis://redis:6379/0",
        "IDENTITY_ISSUER": ISSUER,
        "IDENTITY_SECRET_KEY": "k" * 32,  # pragma: allowlist secret
        "STAFF_CONSOLE_CLIENT_SECRET": "console",  # pragma: allowlist secret
        "CUSTOMER_PORTAL_CLIENT_SECRET": "portal",  # pragma: allowlist secret
        "IDENTITY_KEY_ENCRYPTION_KEY": KEK,
        "NOTIFICATION_MANAGEMENT_URL": "http://notification-management:8006",
        **secrets,
        **more,
    }


def test_in_development_it_issues_as_itself_and_accepts_the_development_token():
    config = load_config(env={})
    assert config["IDENTITY_ISSUER"] == DEFAULT_URL
    # The kit's check is the six services' development one: `make token` opens the admin API.
    assert config["JWT_ISSUER"] == "garage-dev"
    assert config["JWT_SECRET"] and not config["JWT_JWKS_URL"]


def test_in_production_the_kit_checks_its_issuer_and_jwks():
    config = load_config(env=production_env(JWT_ISSUER="someone-else"))
    assert config["IDENTITY_ISSUER"] == config["JWT_ISSUER"] == ISSUER
    assert config["JWT_JWKS_URL"] == ISSUER + "/.well-known/jwks.json"
    assert not config["JWT_SECRET"]


def test_in_production_every_client_secret_is_required():
    env = production_env()
    del env["INVOICING_CLIENT_SECRET"]
    with pytest.raises(ConfigError, match="INVOICING_CLIENT_SECRET"):
        load_config(env=env)


def test_in_production_the_portal_needs_its_client_secret():
    env = production_env()
    del env["CUSTOMER_PORTAL_CLIENT_SECRET"]
    with pytest.raises(ConfigError, match="CUSTOMER_PORTAL_CLIENT_SECRET"):
        load_config(env=env)


def test_the_console_has_a_name_for_people():
    consoles = [c for c in load_config(env={})["OAUTH_CLIENTS"] if c["kind"] == "console"]
    assert [c["name"] for c in consoles] == ["Garage staff console"]
    named = load_config(env={"CONSOLE_CLIENT_NAME": "Werkplaats"})["OAUTH_CLIENTS"]
    assert [c["name"] for c in named if c["kind"] == "console"] == ["Werkplaats"]


def test_the_key_encryption_key_is_required_in_production_and_may_be_several():
    env = production_env()
    del env["IDENTITY_KEY_ENCRYPTION_KEY"]
    with pytest.raises(ConfigError, match="IDENTITY_KEY_ENCRYPTION_KEY"):
        load_config(env=env)
    with pytest.raises(ConfigError, match="development key"):
        load_config(env=production_env(IDENTITY_KEY_ENCRYPTION_KEY=DEVELOPMENT_KEY_ENCRYPTION_KEY))
    with pytest.raises(ConfigError, match="Fernet"):
        load_config(env=production_env(IDENTITY_KEY_ENCRYPTION_KEY="not-a-key"))
    older = Fernet.generate_key().decode()
    config = load_config(env=production_env(IDENTITY_KEY_ENCRYPTION_KEY=f"{KEK}, {older}"))
    assert config["IDENTITY_KEY_ENCRYPTION_KEY"] == [KEK, older]
    assert load_config(env={})["IDENTITY_KEY_ENCRYPTION_KEY"] == [DEVELOPMENT_KEY_ENCRYPTION_KEY]


def test_in_production_it_calls_notification_management_with_no_token_endpoint_of_its_own():
    # identity signs its own service token (outbox.py): no SERVICE_TOKEN_URL, no JWT_SECRET.
    config = load_config(env=production_env())
    assert config["NOTIFICATION_MANAGEMENT_URL"] == "http://notification-management:8006"
    assert not config["SERVICE_TOKEN_URL"] and not config["JWT_SECRET"]
    env = production_env()
    del env["NOTIFICATION_MANAGEMENT_URL"]
    with pytest.raises(ConfigError, match="NOTIFICATION_MANAGEMENT_URL"):
        load_config(env=env)
