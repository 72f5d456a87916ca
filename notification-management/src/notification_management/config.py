"""notification-management settings: the kit's, the downstreams', delivery's own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time
from typing import Any

from py_vapid import Vapid

from service_kit.config import ConfigError, env_bool, env_float, env_int, env_list, kit_settings
from service_kit.http_client import downstream_settings
from service_kit.outbox import outbox_settings

SERVICE = "notification-management"
SCHEMA = "notifications"
SMTP_SECURITY = ("none", "starttls", "tls")
SMS_PROVIDERS = ("logging", "http")
# The push services of Chrome/Edge/Android, Firefox, Safari and Windows.
PUSH_SERVICES = (
    "https://fcm.googleapis.com/*",
    "https://updates.push.services.mozilla.com/*",
    "https://*.push.apple.com/*",
    "https://*.notify.windows.com/*",
)


def delivery_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """SMTP, the SMS provider, the dispatcher's pace and the message texts' context."""
    production = env.get("GARAGE_ENV", "development") == "production"
    settings: dict[str, Any] = {
        "SMTP_HOST": env.get("SMTP_HOST") or ("" if production else "127.0.0.1"),
        "SMTP_PORT": env_int(env, "SMTP_PORT", 1025),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "none"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_CA_FILE": env.get("SMTP_CA_FILE", ""),
        "SMTP_TIMEOUT_SECONDS": env_float(env, "SMTP_TIMEOUT_SECONDS", 10.0),
        "MAIL_FROM": env.get("MAIL_FROM") or ("" if production else "Garage <garage@localhost>"),
        "SMS_PROVIDER": env.get("SMS_PROVIDER") or ("http" if production else "logging"),
        "SMS_PROVIDER_URL": env.get("SMS_PROVIDER_URL", ""),
        "SMS_PROVIDER_TOKEN": env.get("SMS_PROVIDER_TOKEN", ""),
        "SMS_SENDER": env.get("SMS_SENDER", "Garage"),
        "SMS_PROVIDER_TIMEOUT_SECONDS": env_float(env, "SMS_PROVIDER_TIMEOUT_SECONDS", 10.0),
        # Quick retries of one try (same Idempotency-Key); the dispatcher's backoff does the rest.
        "SMS_PROVIDER_RETRIES": env_int(env, "SMS_PROVIDER_RETRIES", 2),
        "DISPATCH_MAX_ATTEMPTS": env_int(env, "DISPATCH_MAX_ATTEMPTS", 15),
        "DISPATCH_BACKOFF_BASE_SECONDS": env_float(env, "DISPATCH_BACKOFF_BASE_SECONDS", 30.0),
        "DISPATCH_BACKOFF_MAX_SECONDS": env_float(env, "DISPATCH_BACKOFF_MAX_SECONDS", 3600.0),
        "DISPATCH_POLL_SECONDS": env_float(env, "DISPATCH_POLL_SECONDS", 1.0),
        "ATTACHMENT_SOURCES": env_list(env, "ATTACHMENT_SOURCES", ["invoicing"]),
        "ATTACHMENT_MAX_BYTES": env_int(env, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        "DEFAULT_LANGUAGE": env.get("DEFAULT_LANGUAGE", "en"),
        "GARAGE_NAME": env.get("GARAGE_NAME", "The Garage"),
        "GARAGE_TIMEZONE": env.get("GARAGE_TIMEZONE", "Europe/Amsterdam"),
        # Which messages count as service messages (docs/notifications.md): a request for
        # feedback on the visit just made is, unless the garage says otherwise; the
        # follow-ups (booking invitations, service and inspection due, declined work)
        # are marketing unless it says otherwise.
        "FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES": env_bool(
            env, "FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES", True
        ),
        "FOLLOW_UPS_ARE_SERVICE_MESSAGES": env_bool(env, "FOLLOW_UPS_ARE_SERVICE_MESSAGES", False),
        # No marketing SMS in these hours (GARAGE_TIMEZONE): held until they end.
        "QUIET_HOURS_START": env.get("QUIET_HOURS_START", "21:00"),
        "QUIET_HOURS_END": env.get("QUIET_HOURS_END", "08:00"),
        # Replies (issue 19): Twilio's inbound-SMS webhook, POST /webhooks/twilio/sms,
        # checked with the account's auth token; empty: no inbound SMS (404).
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN", ""),
        # The webhook's URL as configured at Twilio (what Twilio signs); empty: the URL
        # the request reached us at (right without a proxy in front).
        "SMS_INBOUND_URL": env.get("SMS_INBOUND_URL", ""),
        # Web Push (issue 19): the VAPID key pair's private half (base64url, 32 octets,
        # as `vapid --gen` or web-push's generate-vapid-keys give it); empty: no push.
        "PUSH_VAPID_PRIVATE_KEY": env.get("PUSH_VAPID_PRIVATE_KEY", ""),
        "PUSH_VAPID_SUBJECT": env.get("PUSH_VAPID_SUBJECT", ""),
        "PUSH_TTL_SECONDS": env_int(env, "PUSH_TTL_SECONDS", 86400),
        "PUSH_TIMEOUT_SECONDS": env_float(env, "PUSH_TIMEOUT_SECONDS", 10.0),
        # Where subscriptions may point (we POST there): the browsers' push services.
        "PUSH_ENDPOINT_PATTERNS": env_list(env, "PUSH_ENDPOINT_PATTERNS", list(PUSH_SERVICES)),
    }
    problems = []
    for name in ("QUIET_HOURS_START", "QUIET_HOURS_END"):
        try:
            time.fromisoformat(settings[name])
        except ValueError:
            problems.append(f"{name} must be a time of day such as 21:00")
    if settings["PUSH_VAPID_PRIVATE_KEY"]:
        try:
            Vapid.from_string(private_key=settings["PUSH_VAPID_PRIVATE_KEY"])
        except Exception:  # py_vapid raises whatever the key's decoding does
            problems.append("PUSH_VAPID_PRIVATE_KEY must be a VAPID private key (base64url)")
        if not settings["PUSH_VAPID_SUBJECT"].startswith(("mailto:", "https://")):
            problems.append("PUSH_VAPID_SUBJECT must be a mailto: or https: contact for the push services")
    if settings["SMTP_SECURITY"] not in SMTP_SECURITY:
        problems.append(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    if settings["SMS_PROVIDER"] not in SMS_PROVIDERS:
        problems.append(f"SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}")
    if settings["SMS_PROVIDER"] == "http" and not settings["SMS_PROVIDER_URL"]:
        problems.append("SMS_PROVIDER=http needs SMS_PROVIDER_URL")
    if production:
        problems += [
            f"missing production setting: {name}" for name in ("SMTP_HOST", "MAIL_FROM") if not settings[name]
        ]
        if settings["SMS_PROVIDER"] == "logging":
            # The logging provider would report messages as sent that nobody receives.
            problems.append("SMS_PROVIDER=logging is for development only")
        if settings["SMS_PROVIDER"] == "http" and not settings["SMS_PROVIDER_TOKEN"]:
            problems.append("missing production setting: SMS_PROVIDER_TOKEN")
    if problems:
        raise ConfigError("; ".join(problems))
    return settings


def load_config(
    overrides: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if env is None else env
    config = kit_settings(service=SERVICE, schema=SCHEMA, env=env)
    config.update(MIGRATIONS_LOCATION="notification_management:migrations")
    config.update(downstream_settings("customer-management", default_url="http://127.0.0.1:8001", env=env))
    config.update(delivery_settings(env))
    config.update(outbox_settings(env))
    for source in config["ATTACHMENT_SOURCES"]:
        config.update(downstream_settings(source, default_url=_DEFAULT_URLS.get(source, ""), env=env))
    config.update(overrides or {})
    return config


_DEFAULT_URLS = {"invoicing": "http://127.0.0.1:8005"}


def attachment_bases(config: Mapping[str, Any]) -> dict[str, str]:
    """Source name -> base URL of every service attachments may be fetched from."""
    return {
        source: config[f"{source.upper().replace('-', '_')}_URL"].rstrip("/")
        for source in config["ATTACHMENT_SOURCES"]
    }
