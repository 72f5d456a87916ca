"""staff-console settings: the kit's, where people sign in (identity, or the garage's own
provider), where the six services answer, and the session's lifetime."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service_kit.config import ConfigError, development_client_secret, env_bool, env_int, kit_settings
from service_kit.http_client import downstream_settings

SERVICE = "staff-console"
SCHEMA = "staff_console"
DEFAULT_URL = "http://127.0.0.1:8008"
DEFAULT_IDENTITY_URL = "http://127.0.0.1:8007"
# The six services the console calls, with the port each answers on in development.
SERVICES = {
    "customer-management": 8001,
    "vehicle-management": 8002,
    "workshop-scheduling": 8003,
    "maintenance-job-management": 8004,
    "invoicing": 8005,
    "notification-management": 8006,
}
# The browser scripts come from the npm registry (staff-console/package.json); in a
# checkout they are in node_modules beside the package, in an image where ASSETS_DIR says.
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "node_modules"


def load_config(
    overrides: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if env is None else env
    production = env.get("GARAGE_ENV", "development") == "production"
    config = kit_settings(service=SERVICE, schema=SCHEMA, env=env)
    for name, port in SERVICES.items():
        config.update(downstream_settings(name, default_url=f"http://127.0.0.1:{port}", env=env))
    public_url = env.get("CONSOLE_URL") or ("" if production else DEFAULT_URL)
    # Where browsers are sent to sign in (the issuer) and where the console's server reaches
    # the provider (it may be an in-cluster address); with OIDC_ISSUER the garage's own provider.
    issuer = (
        env.get("OIDC_ISSUER") or env.get("IDENTITY_ISSUER") or ("" if production else DEFAULT_IDENTITY_URL)
    )
    client_id = env.get("CONSOLE_CLIENT_ID", "staff-console")
    client_secret = env.get("STAFF_CONSOLE_CLIENT_SECRET") or (
        "" if production else development_client_secret(config["JWT_SECRET"], client_id)
    )
    config.update(
        MIGRATIONS_LOCATION="staff_console:migrations",
        CONSOLE_URL=public_url.rstrip("/"),
        OIDC_PROVIDER_ISSUER=issuer.rstrip("/"),
        OIDC_PROVIDER_INTERNAL_URL=(env.get("IDENTITY_INTERNAL_URL") or issuer).rstrip("/"),
        OIDC_CLIENT_ID=client_id,
        OIDC_CLIENT_SECRET=client_secret,
        OIDC_SCOPE=env.get("CONSOLE_SCOPE", "openid profile email offline_access"),
        SECRET_KEY=env.get("CONSOLE_SECRET_KEY") or ("" if production else "staff-console-development-key"),
        # A session ends after this long without a request, and at the latest after the
        # absolute lifetime (a working day and a bit), whatever the refresh token allows.
        SESSION_IDLE_SECONDS=env_int(env, "SESSION_IDLE_SECONDS", 2 * 3600, low=60),
        SESSION_MAX_SECONDS=env_int(env, "SESSION_MAX_SECONDS", 12 * 3600, low=300),
        # Secure cookies need HTTPS; `make run` serves plain HTTP on loopback.
        SESSION_COOKIE_SECURE=env_bool(env, "SESSION_COOKIE_SECURE", production),
        WORKSHOP_TIME_ZONE=env.get("WORKSHOP_TIME_ZONE", "Europe/Amsterdam"),
        ASSETS_DIR=env.get("ASSETS_DIR", str(DEFAULT_ASSETS_DIR)),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it is bound to
    )
    # The console verifies the person's access token as the services do (JWKS of the
    # issuer); in development the issuer is identity on loopback.
    if not (config["JWT_JWKS_URL"] or config["OIDC_ISSUER"]) and issuer:
        config["JWT_JWKS_URL"] = config["OIDC_PROVIDER_INTERNAL_URL"] + "/.well-known/jwks.json"
        config["JWT_ISSUER"] = issuer.rstrip("/")
        config["JWT_ALGORITHMS"] = config["JWT_ALGORITHMS"] or ["ES256", "RS256"]
    # identity's admin API (the staff accounts set-up page), reached where the server reaches
    # the provider, only when identity is the provider: with OIDC_ISSUER (the garage's own
    # provider) accounts are managed there and the console has no identity client.
    if not config["OIDC_ISSUER"] and config["OIDC_PROVIDER_INTERNAL_URL"]:
        config.update(
            downstream_settings(
                "identity",
                default_url=config["OIDC_PROVIDER_INTERNAL_URL"],
                env={**env, "IDENTITY_URL": config["OIDC_PROVIDER_INTERNAL_URL"]},
            )
        )
    if production:
        missing = [
            name
            for name, value in (
                ("CONSOLE_URL", public_url),
                ("IDENTITY_ISSUER (or OIDC_ISSUER)", issuer),
                ("STAFF_CONSOLE_CLIENT_SECRET", client_secret),
                ("CONSOLE_SECRET_KEY", config["SECRET_KEY"]),
            )
            if not value
        ]
        if missing:
            raise ConfigError("missing production settings: " + ", ".join(missing))
    config.update(overrides or {})
    return config
