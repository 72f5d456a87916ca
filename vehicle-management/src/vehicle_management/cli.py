"""Commands beyond the kit's: the outbox relay and its staff tools, and the due dates.

flask --app vehicle_management relay-outbox [--once]
flask --app vehicle_management outbox list|retry|purge
flask --app vehicle_management refresh-due-dates      (work every vehicle's due dates out again)
flask --app vehicle_management send-due-reminders     (daily, a CronJob: refresh, then invite)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import click
from flask import Flask, current_app

from service_kit.outbox import register_outbox_commands


@dataclass(frozen=True)
class ReminderRun:
    vehicles: int
    without_jobs: int
    sent: int


def refresh_due_dates(as_of: date | None = None) -> tuple[int, int]:
    """(vehicles worked out, of which without their jobs); in an app context."""
    from vehicle_management.api import garage_today
    from vehicle_management.clients.maintenance_job_management import maintenance_job_management
    from vehicle_management.models import db
    from vehicle_management.service import due

    session = db.session()
    stats = due.refresh(
        session=session,
        jobs=maintenance_job_management(),
        as_of=as_of or garage_today(),
        commit=session.commit,
    )
    return stats.vehicles, stats.without_jobs


def send_due_reminders(as_of: date | None = None) -> ReminderRun:
    """Refresh every vehicle's due dates, then put one booking invitation per vehicle,
    kind and due date in the outbox; in an app context."""
    from vehicle_management.api import garage_today
    from vehicle_management.models import db
    from vehicle_management.service import due

    as_of = as_of or garage_today()
    vehicles, without_jobs = refresh_due_dates(as_of)
    sent = due.send_reminders(
        session=db.session(),
        as_of=as_of,
        look_ahead_days=current_app.config["DUE_REMINDER_LOOK_AHEAD_DAYS"],
        overdue_days=current_app.config["DUE_REMINDER_OVERDUE_DAYS"],
    )
    db.session.commit()
    return ReminderRun(vehicles, without_jobs, sent)


def register_commands(app: Flask) -> None:
    register_outbox_commands(app)

    @app.cli.command("refresh-due-dates")
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="default today (the garage's)")
    def refresh_command(as_of: object) -> None:
        """Work every active vehicle's service and inspection due dates out again."""
        vehicles, without_jobs = refresh_due_dates(as_of.date() if as_of else None)  # type: ignore[attr-defined]
        click.echo(f"{vehicles} vehicles worked out, {without_jobs} without their jobs")

    @app.cli.command("send-due-reminders")
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="default today (the garage's)")
    def send_command(as_of: object) -> None:
        """Invite the owners of vehicles whose service or inspection falls due within
        DUE_REMINDER_LOOK_AHEAD_DAYS to book (once per vehicle, kind and due date)."""
        run = send_due_reminders(as_of.date() if as_of else None)  # type: ignore[attr-defined]
        click.echo(
            f"{run.vehicles} vehicles worked out ({run.without_jobs} without their jobs); "
            f"{run.sent} booking invitations queued"
        )
