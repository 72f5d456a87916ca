"""Tables of the ``scheduling`` schema (created by migrations, never by create_all).

The booking rules that must hold under concurrency are exclusion constraints (GiST,
``btree_gist`` for the ``=`` on ids): no two appointments holding one bay, one vehicle
or one technician (reserved, booked, checked in) overlap. Ranges are half-open, so
back-to-back is allowed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from service_kit.clock import utcnow
from service_kit.db import make_database, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7
from service_kit.links import define_links_table
from service_kit.outbox import define_outbox_table
from workshop_scheduling.domain.appointments import BOOKED, Booking
from workshop_scheduling.domain.workshop import Workshop, workshop_from_settings

SCHEMA = "scheduling"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


# portal_links: the customer-portal links this service issued (appointments, bookings).
db = make_database(Model, tables=(define_idempotency_table, define_outbox_table, define_links_table))

HOLDING_SQL = "status IN ('reserved', 'booked', 'checked_in')"
VEHICLE_KNOWN_SQL = (
    "status = 'reserved' OR (customer_id IS NOT NULL AND vehicle_plate IS NOT NULL "
    "AND vehicle_make IS NOT NULL AND vehicle_model IS NOT NULL)"
)
PERIOD_SQL = "tstzrange(start_at, end_at, '[)')"
# An appointment and the reservation of its own move (a reschedule waiting for the job
# service) hold both times without excluding each other.
OWN_SQL = "coalesce(move_of, id)"
BAY_OVERLAP = "ex_appointments_bay_overlap"
VEHICLE_OVERLAP = "ex_appointments_vehicle_overlap"
TECHNICIAN_OVERLAP = "ex_appointments_technician_overlap"


class WorkshopSettings(Model):
    """The one row of settings (id 1)."""

    __tablename__ = "workshop_settings"
    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    time_zone: Mapped[str] = mapped_column(String(64))
    slot_minutes: Mapped[int] = mapped_column(Integer)
    booking_horizon_days: Mapped[int] = mapped_column(Integer)
    # {"monday": [{"opens": "08:00", "closes": "12:00"}, ...], ...} wall-clock times
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # [{"date": "2026-12-25", "reason": "Christmas"}, ...] sorted by date
    closed_dates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    def as_domain(self) -> Workshop:
        return workshop_from_settings(
            {
                "time_zone": self.time_zone,
                "slot_minutes": self.slot_minutes,
                "booking_horizon_days": self.booking_horizon_days,
                "opening_hours": self.opening_hours,
                "closed_dates": self.closed_dates,
            }
        )


class Bay(Model):
    __tablename__ = "bays"
    __table_args__ = (Index("uq_bays_name", func.lower(text("name")), unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Technician(Model):
    __tablename__ = "technicians"
    __table_args__ = (
        Index("uq_technicians_name", func.lower(text("name")), unique=True),
        Index("uq_technicians_account_subject", "account_subject", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    # Their identity account (its id, their token's subject), set by an admin: the id
    # their clock and jobs have in maintenance-job-management. One technician an account.
    account_subject: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Appointment(Model):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="period"),
        CheckConstraint(
            "status IN ('reserved', 'booked', 'checked_in', 'cancelled', 'no_show', 'completed')",
            name="status",
        ),
        CheckConstraint(VEHICLE_KNOWN_SQL, name="vehicle_known"),
        CheckConstraint("move_of IS NULL OR status = 'reserved'", name="move_reserved"),
        ExcludeConstraint(
            (text("bay_id"), "="),
            (text(PERIOD_SQL), "&&"),
            (text(OWN_SQL), "<>"),
            using="gist",
            where=text(HOLDING_SQL),
            name=BAY_OVERLAP,
        ),
        ExcludeConstraint(
            (text("vehicle_id"), "="),
            (text(PERIOD_SQL), "&&"),
            (text(OWN_SQL), "<>"),
            using="gist",
            where=text(HOLDING_SQL),
            name=VEHICLE_OVERLAP,
        ),
        ExcludeConstraint(
            (text("technician_id"), "="),
            (text(PERIOD_SQL), "&&"),
            (text(OWN_SQL), "<>"),
            using="gist",
            where=text(HOLDING_SQL),
            name=TECHNICIAN_OVERLAP,
        ),
        # Availability and planning read a window of time: a range scan on the start
        # (appointments last at most a day, so the window is widened by one day).
        Index("ix_appointments_start_at", "start_at"),
        Index("ix_appointments_vehicle_id_start_at", "vehicle_id", "start_at"),
        Index("ix_appointments_customer_id_start_at", "customer_id", "start_at"),
        Index("ix_appointments_move_of", "move_of", postgresql_where=text("move_of IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The vehicle's owner when it was booked, as vehicle-management said. This and the
    # vehicle's copy are null only while reserved (vehicle-management is asked after the
    # slot is taken), and reservations are never loaded (VEHICLE_KNOWN_SQL).
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=True)
    # A copy of what the planning board shows, taken at booking (a tolerant reader's own copy).
    vehicle_plate: Mapped[str] = mapped_column(String(20), nullable=True)
    vehicle_make: Mapped[str] = mapped_column(String(60), nullable=True)
    vehicle_model: Mapped[str] = mapped_column(String(60), nullable=True)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    bay_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.bays.id"))
    technician_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.technicians.id"))
    work_description: Mapped[str] = mapped_column(Text)
    service_codes: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    status: Mapped[str] = mapped_column(String(16), default=BOOKED)
    # Set only on a reservation holding the new time of this appointment's reschedule
    # while maintenance-job-management is asked (docs/orphan-jobs.md); never answered.
    move_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{SCHEMA}.appointments.id", ondelete="CASCADE")
    )
    # Null only while the booking is reserved, between the reservation and the job's answer.
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The job's status as maintenance-job-management last reported it (docs/visits.md),
    # and the job's version it reported it at: an older or repeated report changes nothing.
    job_status: Mapped[str | None] = mapped_column(String(16))
    job_version: Mapped[int | None] = mapped_column(Integer)
    booked_by: Mapped[str] = mapped_column(String(200))
    booked_by_name: Mapped[str] = mapped_column(String(200))
    # Who last moved or cancelled it (staff, or the customer through the portal), as the
    # request that did it recorded it; null until someone has.
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_by_name: Mapped[str | None] = mapped_column(String(200))
    # The customer confirmed it through the portal (the first time they did).
    customer_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The customer's address as the portal saw it, at their last action there (confirm,
    # move, cancel, booking): recorded with what they decided, never answered.
    customer_client_address: Mapped[str | None] = mapped_column(String(100))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    no_show_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    bay: Mapped[Bay] = relationship(lazy="joined", innerjoin=True)
    technician: Mapped[Technician | None] = relationship(lazy="joined")

    @property
    def vehicle(self) -> dict[str, Any]:
        return {
            "id": self.vehicle_id,
            "plate": self.vehicle_plate,
            "make": self.vehicle_make,
            "model": self.vehicle_model,
        }

    def as_booking(self) -> Booking:
        return Booking(self.id, self.start_at, self.end_at, self.bay_id, self.vehicle_id, self.technician_id)


class JobCheck(Model):
    """ "The job of this appointment may not match it": committed *before* a call that
    changes the job (a booking's with its reservation), deleted by the transaction that
    records the change. A row that outlives its request (the booking failed after the
    job was made, the process died) is put right by ``check-jobs`` after ``due_at``: a
    reservation left behind is released, the job made to match."""

    __tablename__ = "job_checks"
    __table_args__ = (
        Index("ix_job_checks_due_at", "due_at"),
        CheckConstraint("intent IN ('reschedule', 'cancel', 'no_show')", name="intent"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # The booking request's Idempotency-Key: a retry of a failed booking reuses the
    # appointment id, so maintenance-job-management answers with the job it already made.
    request_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The change of the appointment waiting for the job's answer (null for a booking):
    # when the job is found cancelled, a cancel or no-show is completed here.
    intent: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reminder(Model):
    """One reminder per appointment and start time: inserted with ON CONFLICT DO
    NOTHING in the transaction that enqueues it, so reminding twice is impossible."""

    __tablename__ = "reminders"

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.appointments.id"), primary_key=True
    )
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
