"""identity settings: the kit's, the issuer and token lifetimes, the registered clients,
sign-in throttling and the second factor."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet

from service_kit.config import (
    DEV_JWT_SECRET,
    ConfigError,
    development_client_secret,
    env_bool,
    env_float,
    env_int,
    env_list,
    kit_settings,
)
from service_kit.http_client import downstream_settings
from service_kit.outbox import outbox_settings

SERVICE = "identity"
SCHEMA = "identity"
DEFAULT_URL = "http://127.0.0.1:8007"
# The six services get a client each (client credentials); their secrets are
# <NAME>_CLIENT_SECRET, derived from the development secret when not set (development only).
SERVICE_CLIENTS = (
    "customer-management",
    "vehicle-management",
    "workshop-scheduling",
    "maintenance-job-management",
    "invoicing",
    "notification-management",
)
# The customer portal's own identity: client credentials, but the role ``portal``, which
# opens only what a customer's link allows (service_kit.links), never a staff operation.
PORTAL_CLIENT = "customer-portal"


# Development only: the key the signing keys' private parts are encrypted with when
# IDENTITY_KEY_ENCRYPTION_KEY is not set (derived from the kit's development secret;
# refused in production like that secret is).
DEVELOPMENT_KEY_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(f"identity-key-encryption:{DEV_JWT_SECRET}".encode()).digest()
).decode()


def key_encryption_keys(env: Mapping[str, str], production: bool) -> list[str]:
    """IDENTITY_KEY_ENCRYPTION_KEY: one Fernet key, or several separated by commas (the
    first encrypts, every one decrypts, so the key can be changed: docs/identity.md)."""
    raw = env.get("IDENTITY_KEY_ENCRYPTION_KEY", "")
    if not raw:
        if production:
            raise ConfigError(
                "missing production setting: IDENTITY_KEY_ENCRYPTION_KEY (encrypts the signing keys "
                "at rest; make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            )
        return [DEVELOPMENT_KEY_ENCRYPTION_KEY]
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise ConfigError(
                "IDENTITY_KEY_ENCRYPTION_KEY must be Fernet keys (32 bytes, URL-safe base64), "
                "separated by commas"
            ) from exc
    if production and DEVELOPMENT_KEY_ENCRYPTION_KEY in keys:
        raise ConfigError("IDENTITY_KEY_ENCRYPTION_KEY is the development key; set a real key in production")
    return keys


def endpoint(issuer: str, path: str) -> str:
    """An endpoint's URL under the issuer (which may end in a slash: it is compared as is)."""
    return issuer.rstrip("/") + path


def _secret_variable(client_id: str) -> str:
    return client_id.upper().replace("-", "_") + "_CLIENT_SECRET"


def client_settings(env: Mapping[str, str], dev_secret: str, production: bool) -> list[dict[str, Any]]:
    """The registered clients: one per service (client credentials, role ``service``), the
    customer portal (client credentials, role ``portal``) and the staff console
    (authorization code with PKCE and refresh tokens; a confidential client)."""
    clients: list[dict[str, Any]] = []
    missing: list[str] = []

    def secret(client_id: str) -> str:
        value = env.get(_secret_variable(client_id), "")
        if not value and production:
            missing.append(_secret_variable(client_id))
        return value or development_client_secret(dev_secret, client_id)

    for name in env_list(env, "IDENTITY_SERVICE_CLIENTS", SERVICE_CLIENTS):
        clients.append(
            {
                "client_id": name,
                "client_secret": secret(name),
                "kind": "service",
                "redirect_uris": [],
                "name": name,
            }
        )
    portal = env.get("PORTAL_CLIENT_ID", PORTAL_CLIENT)
    if portal:
        clients.append(
            {
                "client_id": portal,
                "client_secret": secret(portal),
                "kind": "portal",
                "redirect_uris": [],
                "name": portal,
            }
        )
    console = env.get("CONSOLE_CLIENT_ID", "staff-console")
    if console:
        clients.append(
            {
                "client_id": console,
                "client_secret": secret(console),
                "kind": "console",
                # What the sign-in page calls it ("You are signing in to ..."), not its id.
                "name": env.get("CONSOLE_CLIENT_NAME") or "Garage staff console",
                "redirect_uris": env_list(
                    env,
                    "CONSOLE_REDIRECT_URIS",
                    [] if production else ["http://127.0.0.1:8008/auth/callback"],
                ),
            }
        )
    if missing:
        raise ConfigError("missing production settings: " + ", ".join(missing))
    return clients


def load_config(
    overrides: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if env is None else env
    production = env.get("GARAGE_ENV", "development") == "production"
    # In production the issuer the services already trust (JWT_ISSUER) is identity's URL.
    issuer = env.get("IDENTITY_ISSUER") or (env.get("JWT_ISSUER", "") if production else DEFAULT_URL)
    if not issuer:
        raise ConfigError(
            "missing production setting: IDENTITY_ISSUER (the URL people and services reach identity at)"
        )
    # identity verifies its own tokens from its database (app.OwnKeysTokenVerifier, against
    # IDENTITY_ISSUER); any other token goes to the kit's check. In production that is
    # identity's issuer and JWKS too; in development it is the development key and issuer,
    # so `make token ROLE=admin` opens identity's admin API as it opens the six services'.
    own = dict(env)
    if production:
        own["JWT_ISSUER"] = issuer
        own.setdefault("JWT_JWKS_URL", endpoint(issuer, "/.well-known/jwks.json"))
    config = kit_settings(service=SERVICE, schema=SCHEMA, env=own)
    config.update(
        MIGRATIONS_LOCATION="identity:migrations",
        IDENTITY_ISSUER=issuer,
        # The page and the redirect carry a signed CSRF token; production needs a real key.
        SECRET_KEY=env.get("IDENTITY_SECRET_KEY") or ("" if production else "identity-development-key"),
        ACCESS_TOKEN_TTL_SECONDS=env_int(env, "ACCESS_TOKEN_TTL_SECONDS", 300, low=30, high=3600),
        ID_TOKEN_TTL_SECONDS=env_int(env, "ID_TOKEN_TTL_SECONDS", 300, low=30, high=3600),
        REFRESH_TOKEN_TTL_SECONDS=env_int(env, "REFRESH_TOKEN_TTL_SECONDS", 12 * 3600, low=60),
        AUTHORIZATION_CODE_TTL_SECONDS=env_int(env, "AUTHORIZATION_CODE_TTL_SECONDS", 60, low=10, high=600),
        # A new signing key is listed this long before it signs: longer than the
        # services' JWKS cache (the kit keeps a JWKS 300 s).
        KEY_PUBLISH_AHEAD_SECONDS=env_int(env, "KEY_PUBLISH_AHEAD_SECONDS", 600, low=0),
        # Sign-in throttling: an account locks after this many failures in a row, for
        # this long; an address is refused after this many failures within the window.
        SIGN_IN_ACCOUNT_FAILURES=env_int(env, "SIGN_IN_ACCOUNT_FAILURES", 5, low=1),
        SIGN_IN_LOCK_SECONDS=env_int(env, "SIGN_IN_LOCK_SECONDS", 15 * 60, low=1),
        SIGN_IN_ADDRESS_FAILURES=env_int(env, "SIGN_IN_ADDRESS_FAILURES", 20, low=1),
        SIGN_IN_ADDRESS_WINDOW_SECONDS=env_int(env, "SIGN_IN_ADDRESS_WINDOW_SECONDS", 15 * 60, low=1),
        # The garage turns this on: admins and accountants then need a second factor (TOTP).
        TOTP_REQUIRED=env_bool(env, "TOTP_REQUIRED", False),
        TOTP_ISSUER_NAME=env.get("TOTP_ISSUER_NAME", "Garage"),
        # Argon2id, OWASP's minimum (19 MiB, 2 passes, 1 lane): about 30 ms a hash on the
        # development machine (docs/identity.md); 64 MiB cost 240 ms and 64 MiB per sign-in in flight.
        ARGON2_TIME_COST=env_int(env, "ARGON2_TIME_COST", 2, low=1),
        ARGON2_MEMORY_KIB=env_int(env, "ARGON2_MEMORY_KIB", 19 * 1024, low=8 * 1024),
        ARGON2_PARALLELISM=env_int(env, "ARGON2_PARALLELISM", 1, low=1),
        IDENTITY_KEY_ENCRYPTION_KEY=key_encryption_keys(env, production),
        # Password reset by an emailed link (docs/identity.md): how long a link works, and
        # how many links an account is sent / an address may ask for within the window.
        PASSWORD_RESET_TTL_SECONDS=env_int(
            env, "PASSWORD_RESET_TTL_SECONDS", 30 * 60, low=60, high=24 * 3600
        ),
        PASSWORD_RESET_ACCOUNT_REQUESTS=env_int(env, "PASSWORD_RESET_ACCOUNT_REQUESTS", 3, low=1),
        PASSWORD_RESET_ADDRESS_REQUESTS=env_int(env, "PASSWORD_RESET_ADDRESS_REQUESTS", 10, low=1),
        PASSWORD_RESET_WINDOW_SECONDS=env_int(env, "PASSWORD_RESET_WINDOW_SECONDS", 3600, low=60),
        # Every answer to a reset request takes at least this long (timing tells nothing).
        PASSWORD_RESET_ANSWER_SECONDS=env_float(
            env, "PASSWORD_RESET_ANSWER_SECONDS", 0.25, low=0.0, high=5.0
        ),
        # The email goes out right after the answer (and again by the relay until it is taken).
        PASSWORD_RESET_SEND_AT_ONCE=env_bool(env, "PASSWORD_RESET_SEND_AT_ONCE", True),
        OAUTH_CLIENTS=client_settings(env, config["JWT_SECRET"] or "", production),
    )
    # The reset email goes to notification-management through identity's outbox. identity
    # needs no SERVICE_TOKEN_URL: it signs its own service token (outbox.py), so the kit's
    # "how will you get a token" check is told there is a way.
    downstream_env = {**own, "JWT_SECRET": own.get("JWT_SECRET") or "identity signs its own"}
    config.update(
        downstream_settings(
            "notification-management", default_url="http://127.0.0.1:8006", env=downstream_env
        )
    )
    config.update(outbox_settings(env))
    if production and not config["SECRET_KEY"]:
        raise ConfigError("missing production setting: IDENTITY_SECRET_KEY")
    config.update(overrides or {})
    return config
