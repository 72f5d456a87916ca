"""invoicing settings: the kit's and the outbox's, the services it calls, the garage's
own details printed on every invoice, and its terms."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from service_kit.config import ConfigError, env_int, kit_settings
from service_kit.documents.settings import document_problems, document_settings
from service_kit.http_client import downstream_settings
from service_kit.links import service_link_settings
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
# Printed on every invoice; an invoice without them is not a valid invoice (a Dutch
# one names the seller's chamber of commerce number too).
DOCUMENTS_REQUIRED_IN_PRODUCTION = (
    "GARAGE_NAME",
    "GARAGE_ADDRESS",
    "GARAGE_VAT_NUMBER",
    "GARAGE_CHAMBER_OF_COMMERCE",
    "GARAGE_IBAN",
)
REQUIRED_IN_PRODUCTION = ("INVOICING_URL",)


def invoicing_settings(env: Mapping[str, str]) -> dict[str, Any]:
    production = env.get("GARAGE_ENV", "development") == "production"

    def text(name: str, default: str) -> str:
        return env.get(name) or ("" if production else default)

    # The letterhead of the PDFs (GARAGE_NAME, GARAGE_ADDRESS, GARAGE_CHAMBER_OF_COMMERCE
    # ...), their default language (GARAGE_LANGUAGE), GARAGE_TIMEZONE (also the garage's
    # days for issue dates and the cash-up) and PDF_FONT_PATH: the kit's, as every
    # service that prints documents reads them.
    settings: dict[str, Any] = document_settings(env)
    settings |= {
        # This service's own address as other services reach it: the PDF link that
        # notification-management fetches starts with it.
        "INVOICING_URL": text("INVOICING_URL", "http://127.0.0.1:8005").rstrip("/"),
        # For a customer whose terms customer-management does not give (an older version).
        "PAYMENT_TERMS_DAYS": env_int(env, "PAYMENT_TERMS_DAYS", 14, low=0, high=365),
        "PAYMENT_REMINDER_INTERVAL_DAYS": env_int(env, "PAYMENT_REMINDER_INTERVAL_DAYS", 7, low=1, high=365),
        "PAYMENT_REMINDER_MAX": env_int(env, "PAYMENT_REMINDER_MAX", 3, low=0, high=100),
    }
    problems = document_problems(
        settings, production=production, required_in_production=DOCUMENTS_REQUIRED_IN_PRODUCTION
    )
    if production:
        problems += [
            f"missing production setting: {name}" for name in REQUIRED_IN_PRODUCTION if not settings[name]
        ]
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
    # PORTAL_URL (the customer portal's public address, for the pay links in messages)
    # and PORTAL_LINK_KEY (this service's own key for them; required in production).
    config.update(service_link_settings(config, env))
    config.update(MIGRATIONS_LOCATION="invoicing:migrations")
    config.update(overrides or {})
    return config
