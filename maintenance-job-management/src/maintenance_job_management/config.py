"""maintenance-job-management settings: the kit's and the outbox's, the two services
the outbox delivers to, and its own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from service_kit.config import ConfigError, kit_settings
from service_kit.http_client import downstream_settings
from service_kit.outbox import outbox_settings

SERVICE = "maintenance-job-management"
SCHEMA = "jobs"
# Where the outbox delivers (`<NAME>_URL`, required in production).
DOWNSTREAMS = {
    "invoicing": "http://127.0.0.1:8005",
    "notification-management": "http://127.0.0.1:8006",
}


def _own_settings(env: Mapping[str, str]) -> dict[str, Any]:
    margin = env.get("APPROVAL_MARGIN_PERCENT", "10")
    if not margin.isdigit() or int(margin) > 100:
        raise ConfigError(f"APPROVAL_MARGIN_PERCENT must be a whole percentage 0-100, got {margin!r}")
    vat = env.get("DEFAULT_VAT_RATE", "21")
    try:
        default_vat = Decimal(vat)
    except InvalidOperation as exc:
        raise ConfigError(f"DEFAULT_VAT_RATE must be a percentage such as 21, got {vat!r}") from exc
    if not Decimal(0) <= default_vat <= Decimal(100):
        raise ConfigError(f"DEFAULT_VAT_RATE must be between 0 and 100, got {vat!r}")
    return {
        # A job whose approved work grows by more than this goes on hold for a new approval.
        "APPROVAL_MARGIN_PERCENT": int(margin),
        "DEFAULT_VAT_RATE": default_vat,
        "CURRENCY": env.get("CURRENCY", "EUR"),
    }


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    config = kit_settings(service=SERVICE, schema=SCHEMA)
    config.update(outbox_settings(env))
    for name, default_url in DOWNSTREAMS.items():
        config.update(downstream_settings(name, default_url=default_url, env=env))
    config.update(_own_settings(env))
    config.update(MIGRATIONS_LOCATION="maintenance_job_management:migrations")
    config.update(overrides or {})
    return config
