"""Commands beyond the kit's: the outbox relay and its staff tools, and payment reminders.

flask --app invoicing relay-outbox [--once]
flask --app invoicing outbox list|retry|purge
flask --app invoicing send-payment-reminders      (daily, e.g. a CronJob)
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from service_kit.outbox import register_outbox_commands


def register_commands(app: Flask) -> None:
    register_outbox_commands(app)

    @app.cli.command("send-payment-reminders")
    def send_payment_reminders() -> None:
        """Remind customers of overdue invoices (at most PAYMENT_REMINDER_MAX times,
        PAYMENT_REMINDER_INTERVAL_DAYS apart)."""
        from invoicing.models import db
        from invoicing.service import reminders
        from invoicing.service.settings import Settings

        count = reminders.send_payment_reminders(
            session=db.session(), settings=Settings.from_config(current_app.config)
        )
        db.session.commit()
        click.echo(f"{count} payment reminders queued")
