"""``create_app``: the maintenance-job-management Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from maintenance_job_management.api import (
    appointment_status_blp,
    blp,
    catalogue_blp,
    feedback_blp,
    portal_blp,
    rates_blp,
)
from maintenance_job_management.cli import register_commands
from maintenance_job_management.config import SERVICE, load_config
from maintenance_job_management.models import db
from service_kit.app import create_service_app
from service_kit.outbox import outbox_blueprint


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Maintenance jobs: what is done to a vehicle, by whom, for how much, and with "
        "the customer's approval. Completion asks invoicing for an invoice and tells the customer, "
        "through the outbox; each change of a job's status is told to workshop-scheduling the same way. "
        "The customer portal reaches one estimate or visit through a customer's link.",
        config=load_config(config),
        db=db,
        blueprints=[
            blp,
            appointment_status_blp,
            rates_blp,
            catalogue_blp,
            feedback_blp,
            portal_blp,
            outbox_blueprint(url_prefix="/api/v1/maintenance-jobs/outbox-messages"),
        ],
    )
    register_commands(app)
    return app
