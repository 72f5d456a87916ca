"""Ownership use cases: hand a vehicle to another customer, and who owned it when.
Each takes its dependencies as keyword arguments, flushes but never commits (the HTTP
layer makes one request one transaction), and knows no HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service_kit.auth import Actor
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page
from vehicle_management import domain
from vehicle_management.clients.customer_management import CustomerDirectory
from vehicle_management.models import Ownership, Vehicle, utcnow
from vehicle_management.service import vehicles


def _current_ownership(session: Session, vehicle_id: uuid.UUID) -> Ownership:
    return session.scalars(
        select(Ownership).where(Ownership.vehicle_id == vehicle_id, Ownership.owned_until.is_(None))
    ).one()


def transfer_vehicle(
    *,
    session: Session,
    customers: CustomerDirectory,
    vehicle_id: uuid.UUID,
    new_owner_id: uuid.UUID,
    transferred_at: datetime | None,
    expected_versions: set[int] | None,
    recorded_by: Actor,
) -> Vehicle:
    """Hand a vehicle to another customer; the previous ownership is closed, not lost."""
    now = utcnow()
    vehicle = vehicles.get_vehicle(session=session, vehicle_id=vehicle_id, for_update=True)
    ensure_version(vehicle.version, expected_versions)
    if vehicle.status != "active":
        raise domain.VehicleDeregistered(vehicle_id)
    current = _current_ownership(session, vehicle.id)
    transferred_at = transferred_at or now
    domain.check_transfer(
        current_owner_id=vehicle.owner_id,
        owned_since=current.owned_from,
        new_owner_id=new_owner_id,
        transferred_at=transferred_at,
        now=now,
    )
    vehicles.check_owner(customers, new_owner_id, field="new_owner_id")
    current.owned_until = transferred_at
    session.flush()  # close the old ownership before the new current one exists
    session.add(
        Ownership(
            vehicle_id=vehicle.id,
            owner_id=new_owner_id,
            owned_from=transferred_at,
            **recorded_by.fields("recorded_by"),
        )
    )
    vehicle.owner_id = new_owner_id
    session.flush()
    return vehicle


def ownership_history(*, session: Session, vehicle_id: uuid.UUID, limit: int, cursor: str | None) -> Page:
    vehicles.get_vehicle(session=session, vehicle_id=vehicle_id)
    stmt = select(Ownership).where(Ownership.vehicle_id == vehicle_id)
    return keyset_page(
        session,
        stmt,
        key_columns=[Ownership.owned_from, Ownership.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )
