"""Commands beyond the kit's: the outbox relay and its staff tools, and the follow-ups.

flask --app maintenance_job_management relay-outbox [--once]
flask --app maintenance_job_management outbox list|retry|purge
flask --app maintenance_job_management send-declined-work-follow-ups [--as-of YYYY-MM-DD]
    (daily, a CronJob: the work customers declined DECLINED_WORK_FOLLOW_UP_DAYS ago)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app

from service_kit.outbox import register_outbox_commands

if TYPE_CHECKING:
    from maintenance_job_management.service.follow_ups import FollowUpRun


def send_declined_work_follow_ups(as_of: date | None = None) -> FollowUpRun:
    """Queue the follow-ups due on ``as_of`` (default the garage's today) and commit;
    in an app context."""
    from maintenance_job_management.models import db
    from maintenance_job_management.service import follow_ups

    config = current_app.config
    time_zone = ZoneInfo(config["GARAGE_TIMEZONE"])
    session = db.session()
    run = follow_ups.send(
        session=session,
        as_of=as_of or datetime.now(time_zone).date(),
        days=config["DECLINED_WORK_FOLLOW_UP_DAYS"],
        late_days=config["DECLINED_WORK_FOLLOW_UP_LATE_DAYS"],
        time_zone=time_zone,
    )
    session.commit()
    return run


def register_commands(app: Flask) -> None:
    register_outbox_commands(app)

    @app.cli.command("send-declined-work-follow-ups")
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="default today (the garage's)")
    def declined_work_command(as_of: datetime | None) -> None:
        """Invite the customers who declined work on a visit that ended
        DECLINED_WORK_FOLLOW_UP_DAYS ago to book it (once per job; not when the vehicle
        has a later job)."""
        run = send_declined_work_follow_ups(as_of.date() if as_of else None)
        click.echo(
            f"visits of {run.first_day} to {run.last_day}: "
            f"{run.due} with declined work due, {run.sent} follow-ups queued"
        )
