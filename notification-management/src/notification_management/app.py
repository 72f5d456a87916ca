"""``create_app``: the notification-management Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from notification_management.api import blp, conversations_blp, push_blp, templates_blp, webhooks
from notification_management.cli import register_commands
from notification_management.config import SERVICE, load_config
from notification_management.models import db
from service_kit.app import create_service_app
from service_kit.outbox import outbox_blueprint, register_outbox_commands


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Messages to the garage's customers: requests accepted and stored, delivered "
        "by a dispatcher by email (SMTP) or SMS in the customer's language, retried with backoff, "
        "with templates editable per type and language and a delivery log; text messages customers "
        "send back (STOP, START, or a conversation staff answer).",
        config=load_config(config),
        db=db,
        blueprints=[
            blp,
            templates_blp,
            conversations_blp,
            push_blp,
            outbox_blueprint(url_prefix="/api/v1/notifications/outbox-messages"),
        ],
    )
    app.register_blueprint(webhooks)
    register_commands(app)
    register_outbox_commands(app)
    return app
