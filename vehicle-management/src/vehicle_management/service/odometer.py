"""Odometer use cases: record a reading, list a vehicle's readings. Each takes its
dependencies as keyword arguments, flushes but never commits (the HTTP layer makes one
request one transaction), and knows no HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service_kit.auth import Actor
from service_kit.pagination import Page, keyset_page
from vehicle_management import domain
from vehicle_management.models import OdometerReading, utcnow
from vehicle_management.service import vehicles


def record_odometer_reading(
    *, session: Session, vehicle_id: uuid.UUID, data: dict[str, Any], recorded_by: Actor
) -> OdometerReading:
    now = utcnow()
    # Locked: two readings recorded at once are checked one after the other.
    vehicle = vehicles.get_vehicle(session=session, vehicle_id=vehicle_id, for_update=True)
    if vehicle.status != "active":
        raise domain.VehicleDeregistered(vehicle_id)
    reading = OdometerReading(
        vehicle_id=vehicle.id,
        value=data["value"],
        unit=data["unit"],
        read_at=data.get("read_at") or now,
        source=data["source"],
        corrected=data["corrected"],
        note=data.get("note"),
        **recorded_by.fields("recorded_by"),
        recorded_at=now,
    )
    existing = session.scalars(select(OdometerReading).where(OdometerReading.vehicle_id == vehicle.id))
    domain.check_odometer_reading(reading.as_domain(), [r.as_domain() for r in existing], now=now)
    session.add(reading)
    if vehicle.odometer_read_at is None or reading.read_at >= vehicle.odometer_read_at:
        vehicle.odometer_value = reading.value
        vehicle.odometer_unit = reading.unit
        vehicle.odometer_read_at = reading.read_at
    session.flush()
    return reading


def list_odometer_readings(
    *, session: Session, vehicle_id: uuid.UUID, limit: int, cursor: str | None
) -> Page:
    vehicles.get_vehicle(session=session, vehicle_id=vehicle_id)
    stmt = select(OdometerReading).where(OdometerReading.vehicle_id == vehicle_id)
    return keyset_page(
        session,
        stmt,
        key_columns=[OdometerReading.read_at, OdometerReading.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )
