"""``create_app``: the workshop-scheduling Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import create_engine

from service_kit.app import create_service_app
from service_kit.db import engine_options, normalise_url, tune_pool
from service_kit.outbox import outbox_blueprint
from workshop_scheduling.api import (
    SIDE_ENGINE,
    appointments_blp,
    availability_blp,
    invitations_blp,
    job_status_blp,
    portal_appointment_blp,
    portal_booking_blp,
    workshop_blp,
)
from workshop_scheduling.cli import register_commands
from workshop_scheduling.clients import maintenance_jobs, vehicle_management
from workshop_scheduling.config import SERVICE, load_config
from workshop_scheduling.models import db


def _side_engine(config: dict[str, Any]) -> Any:
    """A second, small pool for the job-check rows committed apart from the request's
    transaction: a request waiting for one never waits behind requests that hold the
    main pool's connections."""
    options = engine_options(config)
    options.update(pool_size=2, max_overflow=config["DB_POOL_SIZE"] + config["DB_MAX_OVERFLOW"])
    engine = create_engine(normalise_url(config["DATABASE_URL"]), **options)
    tune_pool(engine)  # the kit's idle ping: engine_options has no pre-ping of its own
    return engine


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="The workshop's calendar: opening hours in the workshop's time zone, bays, "
        "technicians, availability, appointments and reminders. Booking checks the vehicle with "
        "vehicle-management and creates the maintenance job inline; customer messages go through "
        "the outbox to notification-management, and each change of an appointment's status to its job.",
        config=load_config(config),
        db=db,
        blueprints=[
            workshop_blp,
            availability_blp,
            appointments_blp,
            job_status_blp,
            portal_appointment_blp,
            portal_booking_blp,
            invitations_blp,
            outbox_blueprint(url_prefix="/api/v1/workshop/outbox-messages"),
        ],
    )
    vehicle_management.init_app(app)
    maintenance_jobs.init_app(app)
    app.extensions[SIDE_ENGINE] = _side_engine(app.config)
    register_commands(app)
    return app
