"""``create_app``: the vehicle-management Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service_kit.app import create_service_app
from service_kit.outbox import outbox_blueprint
from vehicle_management.api import blp
from vehicle_management.cli import register_commands
from vehicle_management.clients import customer_management, maintenance_job_management
from vehicle_management.config import SERVICE, load_config
from vehicle_management.models import db


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Vehicles of the garage's customers: plates, VINs, ownership and its history, "
        "odometer readings, and when each is due for a service and its periodic inspection. Owners are "
        "checked with customer-management; the last services are asked of maintenance-job-management; "
        "the owners of vehicles falling due are invited to book through workshop-scheduling (outbox).",
        config=load_config(config),
        db=db,
        blueprints=[blp, outbox_blueprint(url_prefix="/api/v1/vehicles/outbox-messages")],
    )
    customer_management.init_app(app)
    maintenance_job_management.init_app(app)
    register_commands(app)
    return app
