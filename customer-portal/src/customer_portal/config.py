"""customer-portal settings: the kit's, where the three services it calls answer, how it
gets its own service identity (identity's client ``customer-portal``, role ``portal``,
client credentials), the garage's name and phone number for the pages, the limit on
link use per client address, and the Web Push key the appointment page subscribes with."""

from __future__ import annotations

import base64
import importlib
import os
import re
from collections.abc import Mapping
from typing import Any

from service_kit.config import ConfigError, development_client_secret, env_bool, env_int, kit_settings
from service_kit.http_client import downstream_settings

SERVICE = "customer-portal"
SCHEMA = "customer_portal"
DEFAULT_URL = "http://127.0.0.1:8009"
DEFAULT_IDENTITY_URL = "http://127.0.0.1:8007"
CLIENT_ID = "customer-portal"
# The services the portal calls (their /api/v1/portal/... operations), with the port each
# answers on in development.
SERVICES = {
    "workshop-scheduling": 8003,
    "maintenance-job-management": 8004,
    "invoicing": 8005,
}


def load_config(
    overrides: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if env is None else env
    production = env.get("GARAGE_ENV", "development") == "production"
    config = kit_settings(service=SERVICE, schema=SCHEMA, env=env)
    for name, port in SERVICES.items():
        config.update(downstream_settings(name, default_url=f"http://127.0.0.1:{port}", env=env))
    # The portal's own identity, always from identity by client credentials (never a token
    # minted with a development key: that would name a service, not the role ``portal``).
    identity = (
        env.get("IDENTITY_INTERNAL_URL")
        or env.get("IDENTITY_URL")
        or ("" if production else DEFAULT_IDENTITY_URL)
    ).rstrip("/")
    client_id = env.get("SERVICE_CLIENT_ID") or env.get("PORTAL_CLIENT_ID") or CLIENT_ID
    client_secret = (
        env.get("SERVICE_CLIENT_SECRET")
        or env.get("CUSTOMER_PORTAL_CLIENT_SECRET")
        or ("" if production else development_client_secret(config["JWT_SECRET"], client_id))
    )
    public_url = env.get("PORTAL_URL") or ("" if production else DEFAULT_URL)
    config.update(
        MIGRATIONS_LOCATION="customer_portal:migrations",
        SERVICE_TOKEN_URL=env.get("SERVICE_TOKEN_URL") or (identity + "/oauth/token" if identity else ""),
        SERVICE_CLIENT_ID=client_id,
        SERVICE_CLIENT_SECRET=client_secret,
        PORTAL_URL=public_url.rstrip("/"),
        GARAGE_NAME=env.get("GARAGE_NAME", "The garage"),
        GARAGE_PHONE=env.get("GARAGE_PHONE", ""),
        SECRET_KEY=env.get("PORTAL_SECRET_KEY") or ("" if production else "customer-portal-development-key"),
        # The browser keeps only a signed cookie with the CSRF secret and the chosen
        # language; nothing else. Secure cookies need HTTPS (`make run` serves HTTP).
        SESSION_COOKIE_SECURE=env_bool(env, "SESSION_COOKIE_SECURE", production),
        SESSION_COOKIE_SAMESITE="Lax",
        # __Host- cookies are only accepted over HTTPS, for path / and without a domain.
        SESSION_COOKIE_NAME="__Host-portal"
        if env_bool(env, "SESSION_COOKIE_SECURE", production)
        else "portal",
        WTF_CSRF_TIME_LIMIT=env_int(env, "PORTAL_FORM_SECONDS", 4 * 3600, low=60),
        # How many requests one client address may make to link pages, all pages together.
        LINK_RATE_LIMIT=env.get("LINK_RATE_LIMIT", "30 per minute"),
        # Proxies in front of the portal that set X-Forwarded-For/-Proto (the ingress): the
        # customer's address is the one they saw. None in development, one in production.
        PROXY_HOPS=env_int(env, "PROXY_HOPS", 1 if production else 0, low=0, high=5),
        # The path the ingress serves the portal under (/portal): service_kit.web serves it
        # there and at / (the probes); empty on its own port in development.
        URL_PREFIX=env.get("URL_PREFIX", ""),
        WORKSHOP_TIME_ZONE=env.get("WORKSHOP_TIME_ZONE", "Europe/Amsterdam"),
        # Web Push: notification-management's VAPID public key (its `vapid-public-key`
        # command prints it), the browser's applicationServerKey. Empty: no push button.
        PUSH_VAPID_PUBLIC_KEY=vapid_public_key(env.get("PUSH_VAPID_PUBLIC_KEY", "")),
    )
    if production:
        missing = [
            name
            for name, value in (
                ("PORTAL_URL", config["PORTAL_URL"]),
                ("PORTAL_SECRET_KEY", config["SECRET_KEY"]),
                ("SERVICE_TOKEN_URL (or IDENTITY_INTERNAL_URL)", config["SERVICE_TOKEN_URL"]),
                ("SERVICE_CLIENT_SECRET", client_secret),
                ("GARAGE_PHONE", config["GARAGE_PHONE"]),
            )
            if not value
        ]
        if missing:
            raise ConfigError("missing production settings: " + ", ".join(missing))
    config.update(payment_settings(env, production))
    config.update(overrides or {})
    return config


def vapid_public_key(value: str) -> str:
    """The key as the browser takes it: base64url of an uncompressed P-256 point (65
    octets, the first 4), without padding; anything else is a mistake in the settings."""
    key = value.strip().rstrip("=")
    if not key:
        return ""
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 65 or raw[0] != 4 or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        raise ConfigError("PUSH_VAPID_PUBLIC_KEY must be a VAPID public key (base64url, 65 octets)")
    return key


def payment_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """The payment provider's settings, read by customer_portal.payments (its
    ``settings(env, production)``) when that module is there."""
    try:
        payments = importlib.import_module("customer_portal.payments")
    except ModuleNotFoundError as exc:
        if exc.name != "customer_portal.payments":
            raise
        return {}
    settings = getattr(payments, "settings", None)
    return dict(settings(env, production)) if settings else {}
