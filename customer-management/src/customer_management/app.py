"""``create_app``: the customer-management Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from customer_management.api import blp
from customer_management.config import SERVICE, load_config
from customer_management.models import db
from service_kit.app import create_service_app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    return create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Customers of the garage: contact data, communication preferences, "
        "consent ledger and GDPR erasure.",
        config=load_config(config),
        db=db,
        blueprints=[blp],
    )
