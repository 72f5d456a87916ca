"""vehicle-management settings: the kit's, how to reach customer-management, and its own."""

from __future__ import annotations

import os
from typing import Any

from service_kit.config import kit_settings
from service_kit.http_client import downstream_settings

SERVICE = "vehicle-management"
SCHEMA = "vehicles"


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = kit_settings(service=SERVICE, schema=SCHEMA)
    config.update(downstream_settings("customer-management", default_url="http://127.0.0.1:8001"))
    config.update(
        MIGRATIONS_LOCATION="vehicle_management:migrations",
        # A plate entered without a country is registered in the garage's own country.
        DEFAULT_REGISTRATION_COUNTRY=os.environ.get("DEFAULT_REGISTRATION_COUNTRY", "NL").upper(),
    )
    config.update(overrides or {})
    return config
