"""Commands beyond the kit's.

flask --app workshop_scheduling send-reminders [--date YYYY-MM-DD]   (a daily CronJob)
flask --app workshop_scheduling check-jobs [--once]                  (puts unfinished job changes right)
flask --app workshop_scheduling relay-outbox [--once]                (delivers customer messages)
flask --app workshop_scheduling outbox list|retry|purge
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime

import click
from flask import Flask, current_app

from service_kit.db import current_db
from service_kit.outbox import register_outbox_commands
from workshop_scheduling.clients.maintenance_jobs import maintenance_jobs
from workshop_scheduling.service import job_checks, reminders


def register_commands(app: Flask) -> None:
    register_outbox_commands(app)

    @app.cli.command("send-reminders")
    @click.option(
        "--date",
        "day",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="the appointments' day; default tomorrow in the workshop's time zone",
    )
    def send_reminders(day: datetime | None) -> None:
        """Send each customer with an appointment tomorrow one reminder (through the outbox);
        running it again, or twice at once, sends nothing more."""
        session = current_db().session()
        reminded_day, count = reminders.send_reminders(
            session=session,
            day=day.date() if day is not None else None,
        )
        session.commit()
        click.echo(f"{count} reminders for {reminded_day.isoformat()} put in the outbox")

    @app.cli.command("check-jobs")
    @click.option("--once", is_flag=True, help="check what is due now, then exit")
    def check_jobs(once: bool) -> None:
        """Make maintenance jobs match their appointments where a booking, reschedule or
        cancel did not finish (release the reservation of a booking that never finished,
        cancel the job of a booking that rolled back)."""
        session = current_db().session()
        if once:
            stats = job_checks.check_jobs(session=session, jobs=maintenance_jobs())
            click.echo(
                f"settled {stats.settled}, to retry {stats.retried}, reservations released {stats.released}"
            )
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            try:
                job_checks.check_jobs(session=session, jobs=maintenance_jobs())
            except Exception:
                session.rollback()
                current_app.logger.warning("job check failed; trying again", exc_info=True)
            stop.wait(current_app.config["JOB_CHECK_POLL_SECONDS"])
