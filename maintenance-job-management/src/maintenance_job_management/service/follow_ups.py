"""The work a customer declined, followed up (issue 19, docs/feedback.md).

Declined lines stay on the job as recommendations. ``DECLINED_WORK_FOLLOW_UP_DAYS``
(14) after the visit ended — the vehicle handed over, else the job completed, as the
garage's calendar has it — the customer is invited to book it: workshop-scheduling is
asked, through the outbox, for a ``declined_work`` booking invitation naming the lines
and their prices. It adds the booking link; notification-management applies consent
(a marketing message unless the garage says otherwise) and quiet hours.

Once per job, ever: the job is claimed in ``declined_work_follow_ups`` (its primary
key) in the transaction that writes the outbox row, so a second run — also one at the
same moment, which waits on the first's claim and then finds it — sends nothing. Not
when the vehicle has a later job (booked, under way or done, not cancelled): the
customer is back already, and that visit's own recommendations are what count."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from maintenance_job_management import domain
from maintenance_job_management.clients import workshop_scheduling
from maintenance_job_management.models import DeclinedWorkFollowUp, Job, JobLine, utcnow
from maintenance_job_management.service import jobs
from service_kit.outbox import enqueue

# workshop-scheduling takes at most 4,000 characters of data (as JSON, non-ASCII
# escaped) and 30 values: the lines are cut to fit well within, the rest counted.
MAX_LINES = 10
MAX_DESCRIPTION = 200
DATA_BUDGET = 3000


@dataclass(frozen=True)
class FollowUpRun:
    first_day: date  # visits that ended on these local days were due
    last_day: date
    due: int  # jobs found due, not yet followed up
    sent: int  # follow-ups this run queued


def days_due(as_of: date, *, days: int, late_days: int) -> tuple[date, date]:
    """The local days whose visits are due on ``as_of``: exactly ``days`` ago, and up to
    ``late_days`` before that for the runs that did not happen."""
    last = as_of - timedelta(days=days)
    return last - timedelta(days=late_days), last


def candidates(session: Session, *, first_day: date, last_day: date, time_zone: ZoneInfo) -> list[Job]:
    """Completed jobs with declined lines whose visit ended on those days, not followed
    up yet, whose vehicle has no later job that is not cancelled; oldest first."""
    ended = func.coalesce(Job.collected_at, Job.completed_at)
    later = aliased(Job)
    stmt = (
        select(Job)
        .where(
            Job.status == domain.COMPLETED,
            ended >= datetime.combine(first_day, time.min, time_zone),
            ended < datetime.combine(last_day + timedelta(days=1), time.min, time_zone),
            exists().where(JobLine.job_id == Job.id, JobLine.approval == domain.DECLINED),
            ~exists().where(DeclinedWorkFollowUp.job_id == Job.id),
            ~exists().where(
                later.vehicle_id == Job.vehicle_id,
                later.id != Job.id,
                later.planned_start > Job.planned_start,
                later.status != domain.CANCELLED,
            ),
        )
        .order_by(Job.id)
    )
    return list(session.scalars(stmt))


def _one_line(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= MAX_DESCRIPTION else words[: MAX_DESCRIPTION - 1].rstrip() + "…"


def message_data(job: Job, time_zone: ZoneInfo) -> dict[str, Any]:
    """What notification-management's ``declined_work`` template shows: each declined
    line's description and gross price (minor units, with ``currency``), the day of the
    visit and the vehicle; the ids ride along. Lines beyond what fits are counted in
    ``more_lines``."""
    declined = [line for line in job.lines if line.approval == domain.DECLINED]
    ended = job.collected_at or job.completed_at
    if ended is None:
        raise RuntimeError(f"job {job.id} is neither completed nor collected: no visit to follow up")
    lines = [
        {
            "description": _one_line(line.description),
            "kind": line.kind,
            "gross": line.net_amount + line.vat_amount,
        }
        for line in declined[:MAX_LINES]
    ]
    data: dict[str, Any] = {
        "job_id": str(job.id),
        "customer_id": str(job.customer_id),
        "visit_date": ended.astimezone(time_zone).date().isoformat(),
        "currency": job.currency,
        **{name: value for name, value in jobs.vehicle_fields(job).items() if value},
        "lines": lines,
    }
    while len(lines) > 1 and len(json.dumps(data)) > DATA_BUDGET:
        lines.pop()
    if len(lines) < len(declined):
        data["more_lines"] = len(declined) - len(lines)
    return data


def send(*, session: Session, as_of: date, days: int, late_days: int, time_zone: ZoneInfo) -> FollowUpRun:
    """Queue one ``declined_work`` invitation per job due on ``as_of`` (flushes, the
    caller commits)."""
    first_day, last_day = days_due(as_of, days=days, late_days=late_days)
    found = candidates(session, first_day=first_day, last_day=last_day, time_zone=time_zone)
    sent = 0
    for job in found:
        data = message_data(job, time_zone)
        claimed = session.execute(
            insert(DeclinedWorkFollowUp)
            .values(job_id=job.id, vehicle_id=job.vehicle_id, lines=len(data["lines"]), created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(DeclinedWorkFollowUp.job_id)
        ).scalar_one_or_none()
        if claimed is None:  # another run followed it up meanwhile
            continue
        message_id = enqueue(
            session, workshop_scheduling.declined_work(job_id=job.id, vehicle_id=job.vehicle_id, data=data)
        )
        session.execute(
            update(DeclinedWorkFollowUp)
            .where(DeclinedWorkFollowUp.job_id == job.id)
            .values(outbox_message_id=message_id)
        )
        sent += 1
    session.flush()
    return FollowUpRun(first_day, last_day, len(found), sent)
