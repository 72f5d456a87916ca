"""customer-management settings: the kit's, plus its own."""

from __future__ import annotations

import os
from typing import Any

from service_kit.config import env_int, kit_settings

SERVICE = "customer-management"
SCHEMA = "customers"


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = kit_settings(service=SERVICE, schema=SCHEMA)
    config.update(
        MIGRATIONS_LOCATION="customer_management:migrations",
        # Local phone numbers ("06 1234 5678") are read as numbers of this country.
        DEFAULT_PHONE_REGION=os.environ.get("DEFAULT_PHONE_REGION", "NL"),
        # A business registered without payment terms buys on account for this many days.
        BUSINESS_PAYMENT_TERMS_DAYS=env_int(os.environ, "BUSINESS_PAYMENT_TERMS_DAYS", 30, low=0, high=365),
    )
    config.update(overrides or {})
    return config
