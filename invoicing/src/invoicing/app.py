"""``create_app``: the invoicing Flask app (nothing connects at import)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from invoicing import clients
from invoicing.api import blp, credit_notes_blp, payments_blp, portal_blp
from invoicing.cli import register_commands
from invoicing.config import SERVICE, load_config
from invoicing.models import db
from service_kit.app import create_service_app
from service_kit.outbox import outbox_blueprint


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Invoices of completed maintenance jobs: gap-free numbers per year, VAT per rate, "
        "discounts, payments, credit notes in their own series, receivables and PDFs. Each invoice "
        "copies the job, the customer and the vehicle as they were at issue, and is sent to the "
        "customer through notification-management (outbox).",
        config=load_config(config),
        db=db,
        blueprints=[
            blp,
            credit_notes_blp,
            payments_blp,
            portal_blp,
            outbox_blueprint(url_prefix="/api/v1/invoices/outbox-messages"),
        ],
    )
    clients.init_app(app)
    register_commands(app)
    return app
