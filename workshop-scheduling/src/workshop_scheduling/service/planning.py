"""Availability and the day and week planning views."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from service_kit.clock import utcnow
from service_kit.http_client import DependencyFailed
from service_kit.problems import Unprocessable
from workshop_scheduling.clients.maintenance_jobs import JobDirectory
from workshop_scheduling.domain.appointments import CANCELLED, HOLDING, RESERVED
from workshop_scheduling.domain.planning import availability
from workshop_scheduling.domain.workshop import day_bounds, format_clock, local_date
from workshop_scheduling.models import Appointment
from workshop_scheduling.service.placement import LONGEST_APPOINTMENT
from workshop_scheduling.service.workshop import active_bays, get_settings, workshop

MAX_AVAILABILITY_DAYS = 31


# ------------------------------------------------------------------------ availability


def find_availability(
    *,
    session: Session,
    first_day: date,
    last_day: date,
    duration_minutes: int,
    bay_kind: str | None = None,
    technician_id: uuid.UUID | None = None,
    ignore: uuid.UUID | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Free start times with the free bays at each: two queries for the whole range
    (bays, then the active appointments in it), the rest in Python over the grid.
    ``ignore``: an appointment being moved, whose own time is free to it."""
    now = now or utcnow()
    rules = workshop(session)
    errors: dict[str, list[str]] = {}
    if last_day < first_day:
        errors["to"] = ["must not be before from"]
    elif (last_day - first_day).days >= MAX_AVAILABILITY_DAYS:
        errors["to"] = [f"the range is at most {MAX_AVAILABILITY_DAYS} days"]
    if duration_minutes % rules.slot_minutes:
        errors["duration"] = [f"must be a multiple of the {rules.slot_minutes}-minute slot"]
    if errors:
        raise Unprocessable("the availability question cannot be answered", errors=errors)
    bays = active_bays(session, bay_kind)
    tz = rules.tz
    low, high = day_bounds(first_day, tz)[0], day_bounds(last_day, tz)[1]
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {bay.id: [] for bay in bays}
    technician_busy: list[tuple[datetime, datetime]] | None = [] if technician_id else None
    # Ids as text: parsing thousands of UUIDs would cost more than the query.
    by_text = {str(bay.id): bay.id for bay in bays}
    wanted = str(technician_id) if technician_id else None
    held = select(
        Appointment.bay_id.cast(String),
        Appointment.technician_id.cast(String),
        Appointment.start_at,
        Appointment.end_at,
    ).where(
        Appointment.status.in_(HOLDING),  # a reserved bay is taken
        Appointment.start_at > low - LONGEST_APPOINTMENT,
        Appointment.start_at < high,
        Appointment.end_at > low,
    )
    if ignore is not None:
        held = held.where(func.coalesce(Appointment.move_of, Appointment.id) != ignore)
    rows = session.execute(held)
    for bay_text, technician_text, start, end in rows:
        bay_id = by_text.get(bay_text)
        if bay_id is not None:
            busy[bay_id].append((start, end))
        if technician_busy is not None and technician_text == wanted:
            technician_busy.append((start, end))
    slots = availability(
        rules,
        first_day=first_day,
        last_day=last_day,
        duration=timedelta(minutes=duration_minutes),
        now=now,
        bays=[bay.id for bay in bays],
        busy=busy,
        technician_busy=technician_busy,
    )
    return {
        "time_zone": rules.time_zone,
        "from": first_day,
        "to": last_day,
        "duration_minutes": duration_minutes,
        "bays": bays,
        "slots": [
            {"start": s.start.astimezone(tz), "end": s.end.astimezone(tz), "bay_ids": list(s.bay_ids)}
            for s in slots
        ],
    }


# ----------------------------------------------------------------------------- planning


def _job_statuses(
    jobs: JobDirectory, job_ids: list[uuid.UUID], *, parallel: int, request_id: str | None
) -> tuple[dict[uuid.UUID, str], bool]:
    """Each job's status, or "unknown" when maintenance-job-management cannot say: a
    planning board that shows the appointments without job statuses beats none at all.
    After the first failure no further look-ups start."""
    statuses: dict[uuid.UUID, str] = {}
    failed = False

    def look_up(job_id: uuid.UUID) -> None:
        nonlocal failed
        if failed:
            statuses[job_id] = "unknown"
            return
        try:
            job = jobs.get_job(job_id, request_id=request_id)
            statuses[job_id] = job.status if job else "missing"
        except DependencyFailed:
            failed = True
            statuses[job_id] = "unknown"

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(job_ids)))) as pool:
        list(pool.map(look_up, job_ids))
    return statuses, not failed


def planning(
    *,
    session: Session,
    jobs: JobDirectory,
    first_day: date,
    last_day: date,
    include_cancelled: bool = False,
    parallel: int = 8,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The appointments of some days, day by day in start order, with vehicle, bay,
    technician and the job's status."""
    rules = workshop(session)
    tz = rules.tz
    low, high = day_bounds(first_day, tz)[0], day_bounds(last_day, tz)[1]
    stmt = select(Appointment).where(
        Appointment.start_at >= low, Appointment.start_at < high, Appointment.status != RESERVED
    )
    if not include_cancelled:
        stmt = stmt.where(Appointment.status != CANCELLED)
    appointments = list(session.scalars(stmt.order_by(Appointment.start_at, Appointment.id)))
    job_ids = list(dict.fromkeys(a.job_id for a in appointments if a.job_id))
    statuses, complete_answer = _job_statuses(jobs, job_ids, parallel=parallel, request_id=request_id)
    closed = {
        date.fromisoformat(c["date"]): c.get("reason") for c in get_settings(session=session).closed_dates
    }
    days: list[dict[str, Any]] = []
    day = first_day
    while day <= last_day:
        days.append(
            {
                "date": day,
                "closed": day in closed or not rules.intervals(day),
                "closed_reason": closed.get(day),
                "opening_hours": [
                    {"opens": format_clock(i.opens), "closes": format_clock(i.closes)}
                    for i in rules.intervals(day)
                ],
                "appointments": [],
            }
        )
        day += timedelta(days=1)
    for appointment in appointments:
        index = (local_date(appointment.start_at, tz) - first_day).days
        days[index]["appointments"].append(
            {
                "appointment": appointment,
                "start": appointment.start_at.astimezone(tz),
                "end": appointment.end_at.astimezone(tz),
                "job_status": statuses.get(appointment.job_id) if appointment.job_id else None,
            }
        )
    return {
        "time_zone": rules.time_zone,
        "from": first_day,
        "to": last_day,
        "job_statuses_complete": complete_answer,
        "days": days,
    }
