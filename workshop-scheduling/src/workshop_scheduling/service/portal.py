"""What the customer portal may do here, each for the one thing its link names
(docs/customer-portal.md): see, confirm, move or cancel one appointment (an
``appointment`` link, sent with the confirmation, reschedule and reminder messages);
subscribe the customer's browser to Web Push from the appointment page; see the work
one can book and book a visit for one vehicle (a ``booking`` link, sent
with ``booking_invitation`` and issue 19's follow-ups). And the staff's invitation that
sends a booking link.

The portal's changes go through the front desk's code: a move is
``reschedule_appointment``, a cancel ``cancel_appointment``, a booking
``book_appointment`` - the same rules, the same job calls, no lock across a call - with
the customer's own limits on top: a move or cancel only while the appointment is
booked and before its cut-off (``PORTAL_CHANGE_CUTOFF_HOURS`` before the start, checked
on the locked row), a booking only for the link's vehicle while it is still the link's
customer's. The portal acts as ``customer-portal`` ("Customer (portal)"), recorded as
``booked_by`` or ``changed_by``, with the customer's address as the portal saw it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from service_kit.auth import Actor
from service_kit.clock import utcnow
from service_kit.http_client import DependencyFailed
from service_kit.ids import uuid7
from service_kit.links import Link, LinkNotValid, LinkRevoked, issue_link, link_url
from service_kit.outbox import enqueue
from service_kit.problems import Unprocessable
from workshop_scheduling.clients import notification_management
from workshop_scheduling.clients.maintenance_jobs import JobDirectory
from workshop_scheduling.clients.vehicle_management import Vehicle, VehicleDirectory
from workshop_scheduling.domain.appointments import (
    BOOKED,
    CHECKED_IN,
    RESERVED,
    InvalidResource,
    changeable_until,
    ensure_changeable_by_customer,
)
from workshop_scheduling.domain.workshop import Workshop
from workshop_scheduling.models import Appointment
from workshop_scheduling.service import appointments, planning
from workshop_scheduling.service.appointments import BookingDependencies, ChangedBy
from workshop_scheduling.service.workshop import workshop

PORTAL_NAME = "Customer (portal)"
# "Other work" (what the customer describes) is booked for this long unless they choose.
OTHER_WORK_MINUTES = 60


def portal_actor(subject: str) -> Actor:
    """The portal's service identity (``customer-portal``), named as the customer's channel."""
    return Actor(subject, PORTAL_NAME)


def _resource(link: Link) -> uuid.UUID:
    try:
        return uuid.UUID(link.resource_id)
    except ValueError:
        raise LinkNotValid("this link is not valid") from None


# ----------------------------------------------------------------------- appointment


def _linked_appointment(session: Session, link: Link, *, for_update: bool = False) -> Appointment:
    """The appointment the link names, as long as it is the customer's it was sent to."""
    appointment_id = _resource(link)
    if for_update:
        found: Appointment | None = appointments.lock_appointment(session, appointment_id)
    else:
        found = session.get(Appointment, appointment_id)
    if found is None or found.status == RESERVED or str(found.customer_id) != link.customer_id:
        raise LinkNotValid("this link is not valid")
    return found


def _view(appointment: Appointment, rules: Workshop, cutoff: timedelta, now: datetime) -> dict[str, Any]:
    tz = rules.tz
    until = changeable_until(appointment.start_at, cutoff)
    return {
        "start": appointment.start_at.astimezone(tz),
        "end": appointment.end_at.astimezone(tz),
        "duration_minutes": int((appointment.end_at - appointment.start_at).total_seconds() // 60),
        "time_zone": rules.time_zone,
        "status": appointment.status,
        "vehicle": {
            "plate": appointment.vehicle_plate,
            "make": appointment.vehicle_make,
            "model": appointment.vehicle_model,
        },
        "work": appointment.work_description,
        "customer_confirmed_at": (
            appointment.customer_confirmed_at.astimezone(tz) if appointment.customer_confirmed_at else None
        ),
        "changeable_until": until.astimezone(tz),
        "changeable": appointment.status == BOOKED and now < until,
    }


def show_appointment(
    *, session: Session, link: Link, cutoff: timedelta, now: datetime | None = None
) -> dict[str, Any]:
    return _view(_linked_appointment(session, link), workshop(session), cutoff, now or utcnow())


def confirm_appointment(
    *,
    session: Session,
    link: Link,
    cutoff: timedelta,
    client_address: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The customer says they will come: the first time is recorded, again changes
    nothing. Only a booked (or checked-in) appointment can be confirmed."""
    now = now or utcnow()
    appointment = _linked_appointment(session, link, for_update=True)
    rules = workshop(session)
    if appointment.status not in (BOOKED, CHECKED_IN):  # cancelled, missed or done: refused
        ensure_changeable_by_customer(
            appointment.status, appointment.start_at, now=now, cutoff=cutoff, tz=rules.tz
        )
    if appointment.customer_confirmed_at is None:
        appointment.customer_confirmed_at = now
        if client_address:
            appointment.customer_client_address = client_address
        session.flush()
    return _view(appointment, rules, cutoff, now)


def _customer_guard(rules: Workshop, cutoff: timedelta, now: datetime) -> Callable[[Appointment], None]:
    def guard(appointment: Appointment) -> None:
        ensure_changeable_by_customer(
            appointment.status, appointment.start_at, now=now, cutoff=cutoff, tz=rules.tz
        )

    return guard


def appointment_availability(
    *, session: Session, link: Link, day: date, cutoff: timedelta, now: datetime | None = None
) -> dict[str, Any]:
    """Free starts on ``day`` for this appointment's length, in a bay of its kind and
    with its technician, its own time counted free: where it can be moved to."""
    now = now or utcnow()
    appointment = _linked_appointment(session, link)
    rules = workshop(session)
    ensure_changeable_by_customer(
        appointment.status, appointment.start_at, now=now, cutoff=cutoff, tz=rules.tz
    )
    minutes = int((appointment.end_at - appointment.start_at).total_seconds() // 60)
    found = planning.find_availability(
        session=session,
        first_day=day,
        last_day=day,
        duration_minutes=minutes,
        bay_kind=appointment.bay.kind,
        technician_id=appointment.technician_id,
        ignore=appointment.id,
        now=now,
    )
    return _starts(found, day)


def _starts(found: dict[str, Any], day: date) -> dict[str, Any]:
    """Availability as the customer sees it: times only, no bays."""
    return {
        "date": day,
        "time_zone": found["time_zone"],
        "duration_minutes": found["duration_minutes"],
        "starts": [{"start": slot["start"], "end": slot["end"]} for slot in found["slots"]],
    }


def move_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    link: Link,
    start: datetime,
    actor: Actor,
    cutoff: timedelta,
    client_address: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The front desk's reschedule of the link's appointment to ``start`` (same length,
    bay kind and technician), refused past the cut-off."""
    now = now or utcnow()
    appointment = _linked_appointment(session, link)
    rules = workshop(session)
    moved = appointments.reschedule_appointment(
        session=session,
        dependencies=dependencies,
        appointment_id=appointment.id,
        data={"start": start},
        expected_versions=None,
        by=ChangedBy(actor, _customer_guard(rules, cutoff, now), client_address or None),
        now=now,
    )
    return _view(moved, rules, cutoff, now)


def cancel_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    link: Link,
    reason: str | None,
    actor: Actor,
    cutoff: timedelta,
    client_address: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The front desk's cancel of the link's appointment (and its job), refused past
    the cut-off; cancelling again changes nothing."""
    now = now or utcnow()
    appointment = _linked_appointment(session, link)
    rules = workshop(session)
    cancelled = appointments.cancel_appointment(
        session=session,
        dependencies=dependencies,
        appointment_id=appointment.id,
        reason=reason,
        job_reason="cancelled by the customer through the customer portal",
        by=ChangedBy(actor, _customer_guard(rules, cutoff, now), client_address or None),
        now=now,
    )
    return _view(cancelled, rules, cutoff, now)


def subscribe_to_push(*, session: Session, link: Link, subscription: dict[str, Any]) -> dict[str, Any]:
    """The customer's browser subscribes to Web Push from the appointment page: the
    subscription goes to notification-management through the outbox (in this
    transaction), for the customer the link was sent to and nobody else. Sending it again
    is one request; notification-management renews a known endpoint."""
    appointment = _linked_appointment(session, link)
    endpoint: str = subscription["endpoint"]
    enqueue(
        session,
        notification_management.subscribe_push(
            customer_id=appointment.customer_id,
            endpoint=endpoint,
            p256dh=subscription["keys"]["p256dh"],
            auth=subscription["keys"]["auth"],
        ),
    )
    session.flush()
    parts = urlsplit(endpoint)
    return {"push_service": f"{parts.scheme}://{parts.netloc}"}


# --------------------------------------------------------------------------- booking


def _linked_vehicle(vehicles: VehicleDirectory, link: Link) -> Vehicle:
    """The link's vehicle, while it is still the customer's it was sent to."""
    vehicle = vehicles.get_vehicle(_resource(link))
    if vehicle is None or str(vehicle.owner_id) != link.customer_id:
        raise LinkRevoked("the vehicle is no longer registered to the customer this link was sent to")
    return vehicle


def _on_the_grid(minutes: int, rules: Workshop) -> int:
    """Work of ``minutes`` booked in whole slots (at least one)."""
    slot = rules.slot_minutes
    return max(slot, -(-minutes // slot) * slot)


def show_booking(
    *, session: Session, link: Link, vehicles: VehicleDirectory, jobs: JobDirectory
) -> dict[str, Any]:
    """The vehicle and the work one can book: the garage's canned jobs with the time to
    book for each, or other work. Without maintenance-job-management's catalogue the
    page still answers, with other work only (``work_complete`` false)."""
    vehicle = _linked_vehicle(vehicles, link)
    rules = workshop(session)
    try:
        catalogue = jobs.list_canned_work()
        complete = True
    except DependencyFailed:
        catalogue, complete = [], False
    return {
        "vehicle": {"plate": vehicle.plate, "make": vehicle.make, "model": vehicle.model},
        "bookable": vehicle.status == "active",
        "work": [
            {
                "code": work.code,
                "name": work.name,
                "duration_minutes": _on_the_grid(work.labour_minutes, rules),
            }
            for work in catalogue
        ],
        "work_complete": complete,
        "other_work_duration_minutes": _on_the_grid(OTHER_WORK_MINUTES, rules),
        "slot_minutes": rules.slot_minutes,
        "booking_horizon_days": rules.horizon_days,
        "time_zone": rules.time_zone,
        "link_expires_at": link.expires_at.astimezone(rules.tz),
    }


def _check_duration(rules: Workshop, minutes: int) -> None:
    if minutes % rules.slot_minutes:
        raise Unprocessable(
            "the length cannot be booked",
            errors={"duration_minutes": [f"must be a multiple of the {rules.slot_minutes}-minute slot"]},
        )


def booking_availability(
    *, session: Session, day: date, duration_minutes: int, now: datetime | None = None
) -> dict[str, Any]:
    """Free starts on ``day`` for work of ``duration_minutes``, in any bay."""
    _check_duration(workshop(session), duration_minutes)
    found = planning.find_availability(
        session=session, first_day=day, last_day=day, duration_minutes=duration_minutes, now=now
    )
    return _starts(found, day)


def book(
    *,
    session: Session,
    dependencies: BookingDependencies,
    link: Link,
    data: dict[str, Any],
    actor: Actor,
    cutoff: timedelta,
    request_key: str | None,
    client_address: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The front desk's booking, for the link's vehicle only and only while it is the
    link's customer's: the slot reserved, the vehicle looked up, the job made, the
    appointment confirmed with a message carrying its own link."""
    now = now or utcnow()
    rules = workshop(session)
    _check_duration(rules, data["duration_minutes"])
    start: datetime = data["start"]
    booked = appointments.book_appointment(
        session=session,
        dependencies=dependencies,
        data={
            "vehicle_id": _resource(link),
            "start": start,
            "end": start + timedelta(minutes=data["duration_minutes"]),
            "work_description": data["description"],
            "service_codes": [],
        },
        booked_by=actor,
        request_key=request_key,
        owner_id=uuid.UUID(link.customer_id),
        client_address=client_address or None,
        now=now,
    )
    return _view(booked, rules, cutoff, now)


# ------------------------------------------------------------------------ invitations


def invite_to_book(
    *,
    session: Session,
    vehicles: VehicleDirectory,
    vehicle_id: uuid.UUID,
    type_: str,
    data: dict[str, Any],
    valid_for: timedelta,
    caller: str,
    request_key: str | None,
) -> dict[str, Any]:
    """Send the vehicle's owner ``type_`` (an invitation to book) with a booking link
    for the vehicle, valid for ``valid_for``: link and message in this transaction.
    ``data`` goes to the template; the vehicle (``vehicle``, ``make``, ``model``,
    ``plate``, ``vehicle_id``) and the link (``link_url``, ``link_expires_at``) are
    added to it, over anything of those names the caller sent. With an
    Idempotency-Key the message's own key is derived from it, so notification-management
    too sends one message however often the invitation is asked for."""
    if type_ not in notification_management.INVITATION_TYPES:
        raise ValueError(f"not an invitation: {type_}")
    vehicle = vehicles.get_vehicle(vehicle_id)
    if vehicle is None:
        raise InvalidResource("vehicle_id", "vehicle-management does not know this vehicle")
    if vehicle.status != "active":
        raise InvalidResource("vehicle_id", f"the vehicle is {vehicle.status}")
    rules = workshop(session)
    expires_at = utcnow() + valid_for
    token = issue_link(
        session,
        purpose="booking",
        resource_id=vehicle.id,
        customer_id=vehicle.owner_id,
        expires_at=expires_at,
    )
    if request_key:
        tag = hashlib.sha256(f"{caller}\n{request_key}".encode()).hexdigest()[:32]
    else:
        tag = str(uuid7())
    message = {
        **data,
        "vehicle_id": str(vehicle.id),
        "vehicle": f"{vehicle.make} {vehicle.model}",
        "make": vehicle.make,
        "model": vehicle.model,
        "plate": vehicle.plate,
        "link_url": link_url("booking", token),
        "link_expires_at": expires_at.astimezone(rules.tz).isoformat(),
    }
    enqueue(
        session,
        notification_management.notify(
            customer_id=vehicle.owner_id,
            type_=type_,
            data=message,
            idempotency_key=f"{type_.replace('_', '-')}-{vehicle.id}-{tag}",
        ),
    )
    session.flush()
    return {
        "vehicle_id": vehicle.id,
        "customer_id": vehicle.owner_id,
        "type": type_,
        "expires_at": expires_at.astimezone(rules.tz),
    }
