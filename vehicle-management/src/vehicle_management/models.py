"""Tables of the ``vehicles`` schema (created by migrations, never by create_all)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.clock import utcnow
from service_kit.db import make_database, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7
from service_kit.outbox import define_outbox_table
from vehicle_management import domain, due_dates

SCHEMA = "vehicles"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


db = make_database(Model, tables=(define_idempotency_table, define_outbox_table))


class Vehicle(Model):
    __tablename__ = "vehicles"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'deregistered')", name="status"),
        CheckConstraint("vin IS NULL OR vin ~ '^[A-HJ-NPR-Z0-9]{17}$'", name="vin_format"),
        CheckConstraint("odometer_unit IS NULL OR odometer_unit IN ('km', 'mi')", name="odometer_unit"),
        # One active vehicle per plate and country; a plate of a deregistered vehicle
        # can be issued again. Leading with the plate also serves look-ups by plate alone.
        Index(
            "uq_vehicles_active_plate",
            "plate_normalised",
            "country",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        # A VIN names one physical vehicle for its whole life.
        Index("uq_vehicles_vin", "vin", unique=True, postgresql_where=text("vin IS NOT NULL")),
        Index("ix_vehicles_owner_id", "owner_id"),
        # A plate whatever the vehicle's status (the unique index holds active ones only).
        Index("ix_vehicles_plate_normalised", "plate_normalised", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    plate: Mapped[str] = mapped_column(String(20))
    plate_normalised: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    vin: Mapped[str | None] = mapped_column(String(17))
    make: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(60))
    year: Mapped[int | None] = mapped_column(Integer)
    fuel_type: Mapped[str | None] = mapped_column(String(16))
    colour: Mapped[str | None] = mapped_column(String(40))
    # From the registration certificate (NL: datum eerste toelating): the periodic
    # inspection counts from it. The inspection's expiry on record, when known, wins.
    first_admission_on: Mapped[date | None] = mapped_column(Date)
    inspection_expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The latest reading, kept beside the vehicle so every read of it shows the mileage.
    odometer_value: Mapped[int | None] = mapped_column(Integer)
    odometer_unit: Mapped[str | None] = mapped_column(String(2))
    odometer_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deregistered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # UPDATE ... WHERE version = <read version>: a concurrent writer cannot be overwritten.
    __mapper_args__ = {"version_id_col": version}

    @property
    def odometer(self) -> dict[str, Any] | None:
        if self.odometer_value is None:
            return None
        return {"value": self.odometer_value, "unit": self.odometer_unit, "read_at": self.odometer_read_at}

    @property
    def plate_display(self) -> str:
        return domain.display_plate(self.plate_normalised, self.country)

    @property
    def warnings(self) -> list[str]:
        return domain.vehicle_warnings(self.vin, self.year)


class Ownership(Model):
    """Who owned a vehicle when; the row without ``owned_until`` is the current owner."""

    __tablename__ = "ownerships"
    __table_args__ = (
        CheckConstraint("owned_until IS NULL OR owned_until >= owned_from", name="period"),
        Index(
            "uq_ownerships_current", "vehicle_id", unique=True, postgresql_where=text("owned_until IS NULL")
        ),
        Index("ix_ownerships_vehicle_owned_from", "vehicle_id", "owned_from"),
        Index("ix_ownerships_owner_id", "owner_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.vehicles.id"))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    owned_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    owned_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def current(self) -> bool:
        return self.owned_until is None


class OdometerReading(Model):
    """One reading as it was taken; never updated or deleted."""

    __tablename__ = "odometer_readings"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value"),
        CheckConstraint("unit IN ('km', 'mi')", name="unit"),
        CheckConstraint("source IN ('workshop', 'customer', 'inspection', 'import', 'other')", name="source"),
        Index("ix_odometer_readings_vehicle_read_at", "vehicle_id", "read_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.vehicles.id"))
    value: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(2))
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def as_domain(self) -> domain.Reading:
        return domain.Reading(self.value, self.unit, self.read_at, self.corrected)


class ServiceIntervalRule(Model):
    """A kind of service the garage reminds of, and how often it is due (admin-editable)."""

    __tablename__ = "service_intervals"
    __table_args__ = (
        CheckConstraint("months IS NOT NULL OR km IS NOT NULL", name="months_or_km"),
        CheckConstraint("months IS NULL OR months BETWEEN 1 AND 240", name="months"),
        CheckConstraint("km IS NULL OR km BETWEEN 100 AND 1000000", name="km"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    months: Mapped[int | None] = mapped_column(Integer)
    km: Mapped[int | None] = mapped_column(Integer)
    canned_job_codes: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_by_name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    def as_domain(self) -> due_dates.ServiceInterval:
        return due_dates.ServiceInterval(
            self.code, self.name, self.months, self.km, tuple(self.canned_job_codes or (self.code,))
        )


class DueDate(Model):
    """A vehicle's next service or inspection as last worked out (``refresh-due-dates``
    and ``send-due-reminders``): what the list of vehicles due in a period reads."""

    __tablename__ = "due_dates"
    __table_args__ = (
        CheckConstraint("kind IN ('service', 'inspection')", name="kind"),
        Index("ix_due_dates_kind_due_on", "kind", "due_on", "vehicle_id"),
        Index("ix_due_dates_due_on", "due_on", "vehicle_id"),
    )

    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.vehicles.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    # The date the reminder is sent once for: the service's due date by calendar (it
    # stays put while the estimate by distance moves), the inspection's due date.
    reminder_date: Mapped[date | None] = mapped_column(Date)
    due_km: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DueReminder(Model):
    """A reminder asked of workshop-scheduling: one per vehicle, kind and due date, ever."""

    __tablename__ = "due_reminders"

    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.vehicles.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    outbox_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
