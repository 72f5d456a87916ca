"""``create_app``: the vehicle-management Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service_kit.app import create_service_app
from vehicle_management.api import blp
from vehicle_management.clients import customer_management
from vehicle_management.config import SERVICE, load_config
from vehicle_management.models import db


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Vehicles of the garage's customers: plates, VINs, ownership and its history, "
        "odometer readings. Owners are checked with customer-management.",
        config=load_config(config),
        db=db,
        blueprints=[blp],
    )
    customer_management.init_app(app)
    return app
