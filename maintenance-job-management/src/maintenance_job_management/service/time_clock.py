"""The time clock: a technician clocks in on an in-progress job (one running clock
each) and out again; a job's time sheet sets clocked time beside the labour billed.

A technician is their account id (their token's subject): the API lets a technician
clock only themselves, an admin anyone. An entry keeps the technician's name as it was
at clock-in: their own token's when they clock in, else the name of their latest entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.models import TimeEntry, utcnow
from maintenance_job_management.service import jobs
from service_kit.auth import Actor


def clock_in(*, session: Session, job_id: uuid.UUID, technician: Actor | str, actor: Actor) -> TimeEntry:
    """``technician``: the caller's own Actor, or another technician's account id."""
    if isinstance(technician, str):
        technician = Actor(technician, known_name(session, technician))
    job = jobs.lock_job(session, job_id)
    if job.status != domain.IN_PROGRESS:
        raise domain.NotInProgress("clock in", job.status)
    running = session.scalars(
        select(TimeEntry).where(
            TimeEntry.technician == technician.subject, TimeEntry.clocked_out_at.is_(None)
        )
    ).first()
    if running is not None:
        raise domain.AlreadyClockedIn(technician.subject, running.job_id)
    entry = TimeEntry(
        job_id=job.id,
        **technician.fields("technician"),
        clocked_in_at=utcnow(),
        **actor.fields("recorded_by"),
    )
    job.time_entries.append(entry)
    jobs.touch(job)
    # The partial unique index settles two simultaneous clock-ins: the loser gets a 409.
    session.flush()
    return entry


def known_name(session: Session, technician: str) -> str:
    """The technician's name as their latest entry has it; their account id if none."""
    name = session.scalar(
        select(TimeEntry.technician_name)
        .where(TimeEntry.technician == technician)
        .order_by(TimeEntry.clocked_in_at.desc())
        .limit(1)
    )
    return name or technician


def clock_out(*, session: Session, job_id: uuid.UUID, technician: str) -> TimeEntry:
    job = jobs.lock_job(session, job_id)
    entry = next(
        (e for e in job.time_entries if e.technician == technician and e.clocked_out_at is None), None
    )
    if entry is None:
        raise domain.NotClockedIn(technician, job.id)
    entry.clocked_out_at = utcnow()
    jobs.touch(job)
    session.flush()
    return entry


@dataclass(frozen=True)
class TimeSheet:
    entries: list[TimeEntry]
    clocked_seconds: int
    clocked_hours: Decimal
    billed_labour_hours: Decimal
    clocked_in: list[str]
    per_technician: list[dict[str, Any]]


def time_sheet(*, session: Session, job_id: uuid.UUID) -> TimeSheet:
    """Clocked time beside the labour hours that will be billed."""
    job = jobs.get_job(session=session, job_id=job_id)
    per: dict[str, int] = {}
    names: dict[str, tuple[datetime, str]] = {}
    for entry in job.time_entries:
        per[entry.technician] = per.get(entry.technician, 0) + entry.seconds
        if entry.technician not in names or names[entry.technician][0] <= entry.clocked_in_at:
            names[entry.technician] = (entry.clocked_in_at, entry.technician_name)
    summary = job.time
    return TimeSheet(
        entries=list(job.time_entries),
        per_technician=[
            {
                "technician": technician,
                "technician_name": names[technician][1],
                "clocked_seconds": seconds,
                "clocked_hours": domain.from_hundredths(domain.to_hours_hundredths(seconds)),
            }
            for technician, seconds in sorted(per.items())
        ],
        **summary,
    )
