"""Due-date use cases: when one vehicle is due (asked live), the stored due dates of
every vehicle (refreshed by a command) and the list of vehicles due in a period read
from them, and the reminders: one booking invitation per vehicle, kind and due date,
through the outbox. Each takes its dependencies as keyword arguments, flushes but never
commits (the caller decides the transaction), and knows no HTTP."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service_kit.http_client import DependencyFailed
from service_kit.outbox import enqueue
from service_kit.pagination import Page, encode_cursor
from service_kit.problems import Unprocessable
from vehicle_management import due_dates
from vehicle_management.clients import workshop_scheduling
from vehicle_management.clients.maintenance_job_management import JobHistory
from vehicle_management.domain import Reading
from vehicle_management.models import (
    DueDate,
    DueReminder,
    OdometerReading,
    ServiceIntervalRule,
    Vehicle,
    utcnow,
)
from vehicle_management.service import vehicles

INSPECTION_RULES = due_dates.load_inspection_rules()


@dataclass(frozen=True)
class Catalogue:
    """What working out a due date needs besides the vehicle, read once per run."""

    intervals: list[due_dates.ServiceInterval]
    canned_job_codes: dict[uuid.UUID, str]


def catalogue(*, session: Session, jobs: JobHistory) -> Catalogue:
    rules = session.scalars(
        select(ServiceIntervalRule).where(ServiceIntervalRule.active).order_by(ServiceIntervalRule.code)
    )
    return Catalogue([r.as_domain() for r in rules], jobs.canned_job_codes())


def _readings(session: Session, vehicle_id: uuid.UUID) -> list[Reading]:
    rows = session.scalars(select(OdometerReading).where(OdometerReading.vehicle_id == vehicle_id))
    return [r.as_domain() for r in rows]


def work_out(
    *,
    session: Session,
    vehicle: Vehicle,
    visits: list[due_dates.ServiceVisit],
    known: Catalogue,
    as_of: date,
) -> dict[str, Any]:
    """Service and inspection due for ``vehicle`` as of ``as_of``, with the reasons;
    ``visits``: its completed jobs (maintenance-job-management's)."""
    readings = _readings(session, vehicle.id)
    # A completed job's intake reading is a reading too (taken by the workshop).
    readings += [
        Reading(round(v.km), "km", datetime.combine(v.completed_on, datetime.min.time(), UTC))
        for v in visits
        if v.km is not None
    ]
    latest = max(due_dates.current_meter(readings), key=lambda r: r.read_at, default=None)
    usage = due_dates.measure_use(readings, first_admission_on=vehicle.first_admission_on)
    anchor = due_dates.anchor_without_service(
        first_admission_on=vehicle.first_admission_on,
        model_year=vehicle.year,
        registered_on=vehicle.created_at.date(),
    )
    dues = [
        due_dates.service_due(interval, visits, anchor=anchor, latest=latest, usage=usage)
        for interval in known.intervals
    ]
    upcoming = due_dates.next_service(dues)
    if upcoming is not None:
        service = upcoming.as_dict()
    else:
        service = {
            "kind": due_dates.SERVICE,
            "interval": None,
            "name": None,
            "due_on": None,
            "due_by": None,
            "due_by_date": None,
            "due_km": None,
            "due_by_distance_on": None,
            "last_service": None,
            "reasons": ["no service interval gives a due date"]
            if dues
            else ["the garage has no service intervals"],
        }
    service["reminder_date"] = _service_reminder_date(upcoming)
    inspection = due_dates.inspection_due(
        INSPECTION_RULES.get(vehicle.country),
        country=vehicle.country,
        fuel_type=vehicle.fuel_type,
        first_admission_on=vehicle.first_admission_on,
        model_year=vehicle.year,
        expires_on=vehicle.inspection_expires_on,
        as_of=as_of,
    ).as_dict()
    return {
        "vehicle_id": vehicle.id,
        "as_of": as_of,
        "service": service,
        "intervals": [d.as_dict() for d in dues],
        "inspection": inspection,
        "use": usage.as_dict(),
    }


def _service_reminder_date(due: due_dates.ServiceDue | None) -> date | None:
    """The date a service reminder is sent once for: the due date by calendar, which
    stays put while the estimate by distance moves with every reading; for an interval
    by distance only, the day its count started."""
    if due is None or due.due_on is None:
        return None
    if due.due_by_date is not None:
        return due.due_by_date
    return due.last_service.completed_on if due.last_service else due.due_on


def vehicle_due(*, session: Session, jobs: JobHistory, vehicle_id: uuid.UUID, as_of: date) -> dict[str, Any]:
    vehicle = vehicles.get_vehicle(session=session, vehicle_id=vehicle_id)
    known = catalogue(session=session, jobs=jobs)
    visits = jobs.service_visits(vehicle.id, known.canned_job_codes)
    return work_out(session=session, vehicle=vehicle, visits=visits, known=known, as_of=as_of)


# ---------------------------------------------------------------------------- stored


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def store(
    *, session: Session, vehicle: Vehicle, worked_out: dict[str, Any], with_service: bool = True
) -> None:
    """Upsert the vehicle's due-date rows (a concurrent run writes the same); the
    service's only when it was worked out from the vehicle's jobs."""
    service, inspection = worked_out["service"], worked_out["inspection"]
    rows = [
        {
            "kind": due_dates.SERVICE,
            "due_on": service["due_on"],
            "reminder_date": service["reminder_date"],
            "due_km": service["due_km"],
            "detail": _jsonable({**service, "use": worked_out["use"]}),
        },
        {
            "kind": due_dates.INSPECTION,
            "due_on": inspection["due_on"],
            # An inspection date worked out from the model year alone is not sent.
            "reminder_date": None if inspection["estimated"] else inspection["due_on"],
            "due_km": None,
            "detail": _jsonable(inspection),
        },
    ]
    now = utcnow()
    for row in rows if with_service else rows[1:]:
        stmt = insert(DueDate).values(vehicle_id=vehicle.id, computed_at=now, **row)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[DueDate.vehicle_id, DueDate.kind],
                set_={key: stmt.excluded[key] for key in (*row, "computed_at")},
            )
        )


def active_vehicles(session: Session, *, batch: int = 200) -> Iterator[list[Vehicle]]:
    """Every active vehicle, in batches by id (a keyset walk, not one long result)."""
    after: uuid.UUID | None = None
    while True:
        stmt = select(Vehicle).where(Vehicle.status == "active").order_by(Vehicle.id).limit(batch)
        if after is not None:
            stmt = stmt.where(Vehicle.id > after)
        found = list(session.scalars(stmt))
        if not found:
            return
        after = found[-1].id
        yield found


# ------------------------------------------------------------------------------ list


def _cursor_values(cursor: str) -> tuple[date, uuid.UUID, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due_on, vehicle_id, kind = raw
        if kind not in due_dates.KINDS:
            raise ValueError(kind)
        return date.fromisoformat(due_on), uuid.UUID(vehicle_id), kind
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Unprocessable.on_field("cursor", "not a cursor this list gave out") from exc


def list_due(
    *,
    session: Session,
    from_on: date,
    to_on: date,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Active vehicles with a service or inspection due from ``from_on`` to ``to_on``
    (both included), the earliest first, as last worked out."""
    if to_on < from_on:
        raise Unprocessable.on_field("to", "must not be before from")
    stmt = (
        select(DueDate, Vehicle)
        .join(Vehicle, Vehicle.id == DueDate.vehicle_id)
        .where(Vehicle.status == "active", DueDate.due_on >= from_on, DueDate.due_on <= to_on)
    )
    if kind:
        stmt = stmt.where(DueDate.kind == kind)
    if cursor:
        after = _cursor_values(cursor)
        stmt = stmt.where(tuple_(DueDate.due_on, DueDate.vehicle_id, DueDate.kind) > tuple_(*after))
    stmt = stmt.order_by(DueDate.due_on, DueDate.vehicle_id, DueDate.kind).limit(limit + 1)
    rows = [(row[0], row[1]) for row in session.execute(stmt)]
    items = [_list_item(due, vehicle) for due, vehicle in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(
            [last.due_on.isoformat() if last.due_on else None, str(last.vehicle_id), last.kind]
        )
    return Page(items=items, next_cursor=next_cursor)


def _list_item(due: DueDate, vehicle: Vehicle) -> dict[str, Any]:
    detail = due.detail or {}
    return {
        "vehicle_id": vehicle.id,
        "owner_id": vehicle.owner_id,
        "plate": vehicle.plate,
        "plate_display": vehicle.plate_display,
        "make": vehicle.make,
        "model": vehicle.model,
        "kind": due.kind,
        "due_on": due.due_on,
        "due_by": detail.get("due_by"),
        "due_km": due.due_km,
        "name": detail.get("name") or detail.get("rule"),
        "estimated": bool(detail.get("estimated", False)),
        "computed_at": due.computed_at,
    }


# ------------------------------------------------------------------------- reminders


def send_reminders(*, session: Session, as_of: date, look_ahead_days: int, overdue_days: int) -> int:
    """Ask workshop-scheduling (through the outbox) to invite the owner of every
    active vehicle whose service or inspection falls due within the look-ahead (or fell
    due at most ``overdue_days`` ago), once per vehicle, kind and due date: the
    ``due_reminders`` row and the outbox row are written together, and a second run,
    even at the same moment, finds the row there and sends nothing."""
    stmt = (
        select(DueDate, Vehicle)
        .join(Vehicle, Vehicle.id == DueDate.vehicle_id)
        .where(
            Vehicle.status == "active",
            DueDate.reminder_date.is_not(None),
            DueDate.due_on >= as_of - timedelta(days=overdue_days),
            DueDate.due_on <= as_of + timedelta(days=look_ahead_days),
        )
        .order_by(DueDate.vehicle_id, DueDate.kind)
    )
    sent = 0
    for due, vehicle in session.execute(stmt):
        if due.reminder_date is None:  # left out by the query: nothing to remind of
            continue
        claimed = session.execute(
            insert(DueReminder)
            .values(vehicle_id=vehicle.id, kind=due.kind, due_on=due.reminder_date, created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(DueReminder.vehicle_id)
        ).scalar_one_or_none()
        if claimed is None:
            continue
        message_id = enqueue(
            session,
            workshop_scheduling.booking_invitation(
                kind=due.kind,
                vehicle_id=vehicle.id,
                due_on=due.reminder_date,
                data=_message_data(due, vehicle),
            ),
        )
        session.execute(
            update(DueReminder)
            .where(
                and_(
                    DueReminder.vehicle_id == vehicle.id,
                    DueReminder.kind == due.kind,
                    DueReminder.due_on == due.reminder_date,
                )
            )
            .values(outbox_message_id=message_id)
        )
        sent += 1
    session.flush()
    return sent


def _message_data(due: DueDate, vehicle: Vehicle) -> dict[str, Any]:
    """What the message shows (notification-management's ``service_due`` and
    ``inspection_due`` templates): the plate, the car, the date and for a service the
    distance, whichever comes first."""
    detail = due.detail or {}
    data: dict[str, Any] = {
        "vehicle_id": str(vehicle.id),
        "plate": vehicle.plate_display,
        "make": vehicle.make,
        "model": vehicle.model,
        "due_date": (detail.get("due_by_date") if due.kind == due_dates.SERVICE else None)
        or (due.due_on.isoformat() if due.due_on else None),
    }
    if due.kind == due_dates.SERVICE:
        data["service"] = detail.get("name")
        if due.due_km is not None:
            data["due_km"] = due.due_km
        if detail.get("due_by") == "distance" and due.due_on:
            data["expected_on"] = due.due_on.isoformat()
    return data


@dataclass
class RefreshStats:
    vehicles: int = 0
    without_jobs: int = 0


def refresh(*, session: Session, jobs: JobHistory, as_of: date, commit: Callable[[], None]) -> RefreshStats:
    """Work every active vehicle's due dates out again and store them, committing each
    batch. A vehicle whose jobs maintenance-job-management cannot give keeps its stored
    service due (its inspection, worked out here alone, is stored anyway)."""
    known = catalogue(session=session, jobs=jobs)
    stats = RefreshStats()
    for batch in active_vehicles(session):
        for vehicle in batch:
            try:
                visits, with_service = jobs.service_visits(vehicle.id, known.canned_job_codes), True
            except DependencyFailed:
                visits, with_service = [], False
                stats.without_jobs += 1
            worked_out = work_out(session=session, vehicle=vehicle, visits=visits, known=known, as_of=as_of)
            store(session=session, vehicle=vehicle, worked_out=worked_out, with_service=with_service)
            stats.vehicles += 1
        commit()
    return stats
