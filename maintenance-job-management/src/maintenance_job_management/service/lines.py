"""The labour and parts lines of a job: added (pending the customer's decision unless
the booking covers them), changed or marked done, removed while undecided; and the
declined work of a vehicle or customer, to offer at the next visit."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from maintenance_job_management import domain
from maintenance_job_management.models import Approval, Job, JobLine, utcnow
from maintenance_job_management.service import approvals, jobs, prices
from service_kit.auth import Actor
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page


def _line(job: Job, line_id: uuid.UUID) -> JobLine:
    for line in job.lines:
        if line.id == line_id:
            return line
    raise domain.LineNotFound(job.id, line_id)


def add_line(
    *,
    session: Session,
    job_id: uuid.UUID,
    data: dict[str, Any],
    actor: Actor,
    default_vat_rate: Decimal,
    canned_job_id: uuid.UUID | None = None,
) -> JobLine:
    """A line is pending until the customer decides on it, unless the booked request
    already covers it (``covered_by_booking``): then the booking is its approval. A
    labour line without a rate takes the garage's rate for its ``work_kind``."""
    job = jobs.lock_job(session, job_id)
    domain.ensure_not_final(job.status)
    kind = data["kind"]
    if kind == domain.LABOUR and data.get("hourly_rate") is None:
        data = {
            **data,
            "hourly_rate": prices.hourly_rate_for(session=session, work_kind=data.get("work_kind")),
        }
    domain.ensure_complete_line(kind, data)
    values = domain.line_values(kind, {**data, "vat_rate": data.get("vat_rate", default_vat_rate)})
    line = JobLine(
        job=job,
        kind=kind,
        canned_job_id=canned_job_id,
        **actor.fields("created_by"),
        covered_by_booking=data.get("covered_by_booking", False),
        approval=domain.PENDING,
        done=False,
        **values,
    )
    session.add(line)
    if line.covered_by_booking:
        line.approval = domain.APPROVED
        line.approved_net = line.net_amount
        session.flush()
        session.add(
            Approval(
                job_id=job.id,
                line_id=line.id,
                decision=domain.APPROVED,
                decided_by=actor.name,
                channel=domain.BOOKING_CHANNEL,
                decided_at=utcnow(),
                shown=domain.shown_line(line),
                note="covered by the booked request",
                **actor.fields("recorded_by"),
            )
        )
    jobs.touch(job)
    session.flush()
    return line


def update_line(
    *,
    session: Session,
    job_id: uuid.UUID,
    line_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
    margin_percent: int,
) -> JobLine:
    job = jobs.lock_job(session, job_id)
    ensure_version(job.version, expected_versions)
    domain.ensure_not_final(job.status)
    line = _line(job, line_id)
    if line.approval == domain.DECLINED:
        raise domain.DeclinedLineKept(line.id)
    if "done" in changes:
        done = changes.pop("done")
        if done != line.done:
            domain.ensure_can_mark_done(line, job.status)
            line.done, line.done_at = done, (utcnow() if done else None)
    for field, value in domain.line_values(line.kind, changes).items():
        setattr(line, field, value)
    jobs.touch(job)
    session.flush()
    approvals.apply_approval_rule(session, job, margin_percent=margin_percent)
    session.flush()
    return line


def remove_line(
    *, session: Session, job_id: uuid.UUID, line_id: uuid.UUID, expected_versions: set[int] | None
) -> Job:
    """Only a line still awaiting the customer's decision can go; a decided one is part
    of the audit trail (an approved one can be corrected, a declined one is kept)."""
    job = jobs.lock_job(session, job_id)
    ensure_version(job.version, expected_versions)
    domain.ensure_not_final(job.status)
    line = _line(job, line_id)
    if line.approval == domain.DECLINED:
        raise domain.DeclinedLineKept(line.id)
    if line.approval == domain.APPROVED:
        raise domain.LineHasApproval(line.id)
    job.lines.remove(line)
    jobs.touch(job)
    session.flush()
    return job


def get_line(*, session: Session, job_id: uuid.UUID, line_id: uuid.UUID) -> JobLine:
    return _line(jobs.get_job(session=session, job_id=job_id), line_id)


def list_recommendations(
    *,
    session: Session,
    vehicle_id: uuid.UUID | None,
    customer_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Declined work, newest first: what to offer at the next visit."""
    stmt = (
        select(JobLine)
        .join(Job)
        .where(JobLine.approval == domain.DECLINED)
        .options(joinedload(JobLine.job).options(lazyload(Job.lines), lazyload(Job.time_entries)))
    )
    if vehicle_id:
        stmt = stmt.where(Job.vehicle_id == vehicle_id)
    if customer_id:
        stmt = stmt.where(Job.customer_id == customer_id)
    return keyset_page(session, stmt, key_columns=[JobLine.id], limit=limit, cursor=cursor, descending=True)
