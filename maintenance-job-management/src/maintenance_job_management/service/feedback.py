"""After the visit: the vehicle handed over to the customer, the message asking how the
visit went (``feedback_request``, with a link to rate it on the customer portal), the
customer's rating kept with the job and its technician, and what staff read of it — a
list, and the count and average per technician or per month (docs/feedback.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.clients import notification_management
from maintenance_job_management.models import Feedback, Job, utcnow
from maintenance_job_management.service import jobs
from service_kit.auth import Actor
from service_kit.links import issue_link, link_url
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page

BY_TECHNICIAN, BY_MONTH = "technician", "month"
Query = TypeVar("Query", bound="Select[*tuple[Any, ...]]")
GROUPINGS = (BY_TECHNICIAN, BY_MONTH)


def technician_name(job: Job) -> str | None:
    """The assigned technician's name as the job knows it: from their latest clock-in,
    else from a line they added; None when they left no name behind."""
    technician = job.assigned_technician
    if not technician:
        return None
    for entry in reversed(job.time_entries):
        if entry.technician == technician:
            return entry.technician_name
    for line in job.lines:
        if line.created_by == technician:
            return line.created_by_name
    return None


def hand_over(*, session: Session, job_id: uuid.UUID, actor: Actor, time_zone: ZoneInfo) -> Job:
    """The customer collected the vehicle of a completed job: record when and who at
    the desk, and — in this transaction — ask notification-management to send the
    customer a link to rate the visit. Again changes nothing and sends nothing more."""
    job = jobs.lock_job(session, job_id)
    if job.status != domain.COMPLETED:
        raise domain.JobNotCompleted(job.status)
    if job.collected_at is not None:
        return job
    now = utcnow()
    job.collected_at = now
    job.collected_by, job.collected_by_name = actor.subject, actor.name
    session.flush()
    token = issue_link(
        session,
        purpose="visit",
        resource_id=job.id,
        customer_id=job.customer_id,
        valid_for=timedelta(days=domain.VISIT_LINK_DAYS),
    )
    # A service message: sent whatever the customer's marketing consent (docs/feedback.md).
    enqueue(
        session,
        notification_management.notify(
            customer_id=job.customer_id,
            type_="feedback_request",
            data={
                "job_id": str(job.id),
                "link_url": link_url("visit", token),
                "visit_date": now.astimezone(time_zone).date().isoformat(),
                **jobs.vehicle_fields(job),
            },
            idempotency_key=f"feedback-request-{job.id}",
        ),
    )
    return job


def give(
    *, session: Session, job_id: uuid.UUID, rating: int, comment: str | None, client_address: str
) -> Feedback:
    """The customer's rating of a visit, once, with the job's technician."""
    job = jobs.lock_job(session, job_id)
    if session.scalar(select(Feedback.id).where(Feedback.job_id == job.id)) is not None:
        raise domain.FeedbackAlreadyGiven(job.id)
    feedback = Feedback(
        job_id=job.id,
        customer_id=job.customer_id,
        vehicle_id=job.vehicle_id,
        technician=job.assigned_technician,
        technician_name=technician_name(job),
        rating=rating,
        comment=(comment or "").strip() or None,
        given_at=utcnow(),
        client_address=domain.printable(client_address),
    )
    session.add(feedback)
    session.flush()
    return feedback


def of_job(session: Session, job_id: uuid.UUID) -> Feedback | None:
    return session.scalars(select(Feedback).where(Feedback.job_id == job_id)).one_or_none()


# ------------------------------------------------------------------------------ staff


@dataclass(frozen=True)
class Period:
    """Local dates of the garage, both included; either end may be open."""

    first: date | None = None
    last: date | None = None

    def where(self, stmt: Query, time_zone: ZoneInfo) -> Query:
        if self.first is not None:
            stmt = stmt.where(Feedback.given_at >= datetime.combine(self.first, time.min, time_zone))
        if self.last is not None:
            end = datetime.combine(self.last + timedelta(days=1), time.min, time_zone)
            stmt = stmt.where(Feedback.given_at < end)
        return stmt


def list_feedback(
    *,
    session: Session,
    period: Period,
    technician: str | None,
    time_zone: ZoneInfo,
    limit: int,
    cursor: str | None,
) -> Page:
    """Newest first."""
    stmt = period.where(select(Feedback), time_zone)
    if technician is not None:
        stmt = stmt.where(Feedback.technician == technician)
    return keyset_page(
        session,
        stmt,
        key_columns=[Feedback.given_at, Feedback.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def summarise(*, session: Session, period: Period, by: str, time_zone: ZoneInfo) -> dict[str, Any]:
    """How many ratings and their average in the period, and the same per technician
    (a job without one is the group of technician null) or per local month."""
    totals = select(func.count(Feedback.id), func.coalesce(func.sum(Feedback.rating), 0))
    count, ratings = session.execute(period.where(totals, time_zone)).one()
    key: Any
    if by == BY_TECHNICIAN:
        key, label = Feedback.technician, func.max(Feedback.technician_name)
    else:
        key = func.to_char(func.timezone(time_zone.key, Feedback.given_at), "YYYY-MM")
        label = key
    stmt = select(key, label, func.count(Feedback.id), func.sum(Feedback.rating))
    rows = session.execute(period.where(stmt, time_zone).group_by(key).order_by(key.asc().nulls_last()))
    groups = []
    for value, name, group_count, group_ratings in rows:
        if by == BY_TECHNICIAN:
            group = {"technician_id": value, "technician_name": name or value, "month": None}
        else:
            group = {"technician_id": None, "technician_name": None, "month": value}
        average = domain.average_rating(group_ratings, group_count)
        groups.append({**group, "count": group_count, "average_rating": average})
    return {
        "date_from": period.first,
        "date_to": period.last,
        "by": by,
        "time_zone": time_zone.key,
        "count": count,
        "average_rating": domain.average_rating(ratings, count),
        "groups": groups,
    }
