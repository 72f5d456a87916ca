"""Vehicle use cases: register, read, search and change a vehicle. Each takes its
dependencies as keyword arguments, flushes but never commits (the HTTP layer makes one
request one transaction), and knows no HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service_kit.auth import Actor
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page
from vehicle_management import domain
from vehicle_management.clients.customer_management import CustomerDirectory
from vehicle_management.models import Ownership, Vehicle, utcnow

EDITABLE_FIELDS = (
    "plate",
    "country",
    "vin",
    "make",
    "model",
    "year",
    "fuel_type",
    "colour",
    "first_admission_on",
    "inspection_expires_on",
)


def check_owner(customers: CustomerDirectory, owner_id: uuid.UUID, *, field: str) -> None:
    """The owner a vehicle is registered for, or transferred to, exists and is not erased
    (asked of customer-management)."""
    customer = customers.get_customer(owner_id)
    domain.ensure_may_own(owner_id, customer.status if customer else None, field=field)


def _ensure_plate_free(
    session: Session, fields: dict[str, Any], *, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(Vehicle.id).where(
        Vehicle.plate_normalised == fields["plate_normalised"],
        Vehicle.country == fields["country"],
        Vehicle.status == "active",
    )
    if except_id is not None:
        stmt = stmt.where(Vehicle.id != except_id)
    existing = session.scalar(stmt.limit(1))
    if existing is not None:
        raise domain.PlateAlreadyRegistered(fields["plate"], fields["country"], existing)


def _ensure_vin_free(session: Session, vin: str | None, *, except_id: uuid.UUID | None = None) -> None:
    if not vin:
        return
    stmt = select(Vehicle.id).where(Vehicle.vin == vin)
    if except_id is not None:
        stmt = stmt.where(Vehicle.id != except_id)
    existing = session.scalar(stmt.limit(1))
    if existing is not None:
        raise domain.VinAlreadyRegistered(vin, existing)


def register_vehicle(
    *,
    session: Session,
    customers: CustomerDirectory,
    data: dict[str, Any],
    default_country: str,
    recorded_by: Actor,
) -> Vehicle:
    """Register a vehicle for an existing, not erased customer. customer-management
    is asked before anything is written: if it cannot answer, nothing is stored."""
    now = utcnow()
    fields = domain.validate_vehicle(data, default_country=default_country, current_year=now.year)
    _ensure_plate_free(session, fields)
    _ensure_vin_free(session, fields["vin"])
    check_owner(customers, data["owner_id"], field="owner_id")
    vehicle = Vehicle(
        owner_id=data["owner_id"],
        plate_normalised=fields["plate_normalised"],
        **{field: fields.get(field) for field in EDITABLE_FIELDS},
    )
    session.add(vehicle)
    session.flush()
    session.add(
        Ownership(
            vehicle_id=vehicle.id,
            owner_id=vehicle.owner_id,
            owned_from=now,
            **recorded_by.fields("recorded_by"),
        )
    )
    session.flush()
    return vehicle


def get_vehicle(*, session: Session, vehicle_id: uuid.UUID, for_update: bool = False) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id, with_for_update=for_update)
    if vehicle is None:
        raise domain.VehicleNotFound(vehicle_id)
    return vehicle


@dataclass(frozen=True)
class VehicleFilters:
    owner_id: uuid.UUID | None = None
    plate: str | None = None
    country: str | None = None
    vin: str | None = None
    status: str = "active"


def list_vehicles(*, session: Session, filters: VehicleFilters, limit: int, cursor: str | None) -> Page:
    stmt = select(Vehicle).where(Vehicle.status == filters.status)
    if filters.owner_id:
        stmt = stmt.where(Vehicle.owner_id == filters.owner_id)
    if filters.country:
        stmt = stmt.where(Vehicle.country == filters.country.upper())
    try:
        if filters.plate:
            stmt = stmt.where(Vehicle.plate_normalised == domain.normalise_plate(filters.plate))
        if filters.vin:
            stmt = stmt.where(Vehicle.vin == domain.normalise_vin(filters.vin))
    except ValueError:
        return Page(items=[], next_cursor=None)  # no vehicle can have it
    return keyset_page(session, stmt, key_columns=[Vehicle.id], limit=limit, cursor=cursor)


def update_vehicle(
    *,
    session: Session,
    vehicle_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
    default_country: str,
) -> Vehicle:
    vehicle = get_vehicle(session=session, vehicle_id=vehicle_id)
    ensure_version(vehicle.version, expected_versions)
    merged = {field: getattr(vehicle, field) for field in EDITABLE_FIELDS}
    if changes.get("vin") and "year" not in changes and changes["vin"] != vehicle.vin:
        merged["year"] = None  # a new VIN brings its own model year unless one is given
    merged.update({k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
    fields = domain.validate_vehicle(merged, default_country=default_country, current_year=utcnow().year)
    status = changes.get("status", vehicle.status)
    plate_changed = (fields["plate_normalised"], fields["country"]) != (
        vehicle.plate_normalised,
        vehicle.country,
    )
    if status == "active" and (plate_changed or vehicle.status != "active"):
        _ensure_plate_free(session, fields, except_id=vehicle.id)
    if fields["vin"] != vehicle.vin:
        _ensure_vin_free(session, fields["vin"], except_id=vehicle.id)
    for field in (*EDITABLE_FIELDS, "plate_normalised"):
        if getattr(vehicle, field) != fields.get(field):
            setattr(vehicle, field, fields.get(field))
    if status != vehicle.status:
        vehicle.status = status
        vehicle.deregistered_at = utcnow() if status == "deregistered" else None
    session.flush()
    return vehicle
