"""invoicing settings: the kit's and the outbox's, the services it calls, the garage's
own details printed on every invoice, and its terms."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service_kit.config import ConfigError, env_int, kit_settings
from service_kit.http_client import downstream_settings
from service_kit.outbox import outbox_settings

SERVICE = "invoicing"
SCHEMA = "invoicing"
# Read inline while issuing (jobs, customers, vehicles) and written to through the
# outbox (notifications). `<NAME>_URL` is required in production.
DOWNSTREAMS = {
    "maintenance-job-management": "http://127.0.0.1:8004",
    "customer-management": "http://127.0.0.1:8001",
    "vehicle-management": "http://127.0.0.1:8002",
    "notification-management": "http://127.0.0.1:8006",
}
# Printed on every invoice; an invoice without them is not a valid invoice.
REQUIRED_IN_PRODUCTION = (
    "GARAGE_NAME",
    "GARAGE_ADDRESS",
    "GARAGE_VAT_NUMBER",
    "GARAGE_IBAN",
    "INVOICING_URL",
)


def invoicing_settings(env: Mapping[str, str]) -> dict[str, Any]:
    production = env.get("GARAGE_ENV", "development") == "production"

    def text(name: str, default: str) -> str:
        return env.get(name) or ("" if production else default)

    settings: dict[str, Any] = {
        "GARAGE_NAME": text("GARAGE_NAME", "The Garage"),
        # Lines separated by "|" or new lines: street, postal code and city, country.
        "GARAGE_ADDRESS": text("GARAGE_ADDRESS", "Werkplaatsweg 1|3511 AB Utrecht|Netherlands"),
        "GARAGE_VAT_NUMBER": text("GARAGE_VAT_NUMBER", "NL000000000B01"),
        "GARAGE_REGISTRATION": env.get("GARAGE_REGISTRATION", ""),  # e.g. chamber of commerce number
        "GARAGE_IBAN": text("GARAGE_IBAN", "NL00BANK0000000000"),
        "GARAGE_BIC": env.get("GARAGE_BIC", ""),
        "GARAGE_EMAIL": env.get("GARAGE_EMAIL", ""),
        "GARAGE_PHONE": env.get("GARAGE_PHONE", ""),
        "GARAGE_TIMEZONE": env.get("GARAGE_TIMEZONE", "Europe/Amsterdam"),
        # This service's own address as other services reach it: the PDF link that
        # notification-management fetches starts with it.
        "INVOICING_URL": text("INVOICING_URL", "http://127.0.0.1:8005").rstrip("/"),
        # For a customer whose terms customer-management does not give (an older version).
        "PAYMENT_TERMS_DAYS": env_int(env, "PAYMENT_TERMS_DAYS", 14, low=0, high=365),
        "PAYMENT_REMINDER_INTERVAL_DAYS": env_int(env, "PAYMENT_REMINDER_INTERVAL_DAYS", 7, low=1, high=365),
        "PAYMENT_REMINDER_MAX": env_int(env, "PAYMENT_REMINDER_MAX", 3, low=0, high=100),
        # A TrueType font for the PDFs (e.g. DejaVuSans.ttf) prints every script; without
        # one the built-in Helvetica prints Western European text and transliterates the rest.
        "PDF_FONT_PATH": env.get("PDF_FONT_PATH", ""),
    }
    problems = []
    if production:
        problems += [
            f"missing production setting: {name}" for name in REQUIRED_IN_PRODUCTION if not settings[name]
        ]
    try:
        ZoneInfo(settings["GARAGE_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"GARAGE_TIMEZONE is not a known time zone: {settings['GARAGE_TIMEZONE']!r}")
    if settings["PDF_FONT_PATH"] and not os.path.isfile(settings["PDF_FONT_PATH"]):
        problems.append(f"PDF_FONT_PATH does not name a file: {settings['PDF_FONT_PATH']!r}")
    if problems:
        raise ConfigError("; ".join(problems))
    return settings


def load_config(
    overrides: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if env is None else env
    config = kit_settings(service=SERVICE, schema=SCHEMA, env=env)
    config.update(outbox_settings(env))
    for name, default_url in DOWNSTREAMS.items():
        config.update(downstream_settings(name, default_url=default_url, env=env))
    config.update(invoicing_settings(env))
    config.update(MIGRATIONS_LOCATION="invoicing:migrations")
    config.update(overrides or {})
    return config
