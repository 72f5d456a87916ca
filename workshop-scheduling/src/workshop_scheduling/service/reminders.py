"""Reminders: one message per appointment the day before, through the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service_kit.clock import utcnow
from service_kit.outbox import enqueue
from workshop_scheduling.clients import notification_management
from workshop_scheduling.domain.appointments import BOOKED
from workshop_scheduling.domain.reminders import reminder_window
from workshop_scheduling.models import Appointment, Reminder
from workshop_scheduling.service.appointments import appointment_link_url, message_data
from workshop_scheduling.service.workshop import workshop


def send_reminders(
    *, session: Session, now: datetime | None = None, day: date | None = None
) -> tuple[date, int]:
    """Put one reminder per booked appointment of ``day`` (tomorrow in the workshop's
    zone) in the outbox. The reminder rows are inserted ``ON CONFLICT DO NOTHING`` in
    the same transaction as the outbox rows: a second run, even a concurrent one (it
    waits on the first one's rows), inserts nothing and sends nothing. Each reminder
    carries a new link to the appointment's page in the customer portal."""
    now = now or utcnow()
    rules = workshop(session)
    day, low, high = reminder_window(rules, now, day)
    due = (
        select(Appointment.id, Appointment.start_at, literal(now))
        .where(Appointment.status == BOOKED, Appointment.start_at >= low, Appointment.start_at < high)
        .order_by(Appointment.start_at, Appointment.id)
    )
    table = cast(Table, Reminder.__table__)  # a declarative class's table is a Table
    reminded = session.scalars(
        insert(table)
        .from_select(["appointment_id", "start_at", "sent_at"], due)
        .on_conflict_do_nothing()
        .returning(table.c.appointment_id)
    ).all()
    ordered = (
        select(Appointment).where(Appointment.id.in_(reminded)).order_by(Appointment.start_at, Appointment.id)
    )
    appointments: Iterable[Appointment] = session.scalars(ordered) if reminded else []
    for appointment in appointments:
        stamp = appointment.start_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        enqueue(
            session,
            notification_management.notify(
                customer_id=appointment.customer_id,
                type_="appointment_reminder",
                data=message_data(appointment, rules.tz)
                | {"link_url": appointment_link_url(session, appointment)},
                idempotency_key=f"appointment-reminder-{appointment.id}-{stamp}",
            ),
        )
    session.flush()
    return day, len(reminded)
